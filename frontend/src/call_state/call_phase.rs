//! The call we are in: [`CallPhase`], the [`CallAttempt`] that tells calls apart, and the
//! [`PeerConnectionState`] the browser reports for the call's peer connection.

use crate::text_case::lowercase;
use protocol::{IceCandidate, SessionDescription, UserName};

/// Identifies one call attempt, so late browser events of an earlier call are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallAttempt(u64);

impl CallAttempt {
    /// The first call attempt of a page.
    pub const FIRST: CallAttempt = CallAttempt(1);

    /// The attempt after this one.
    pub fn next(self) -> CallAttempt {
        CallAttempt(self.0 + 1)
    }
}

/// `RTCPeerConnection.connectionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerConnectionState {
    New,
    Connecting,
    Connected,
    Disconnected,
    Failed,
    Closed,
}

impl PeerConnectionState {
    /// Every state, in the order a connection usually goes through them.
    pub const ALL: [PeerConnectionState; 6] = [
        PeerConnectionState::New,
        PeerConnectionState::Connecting,
        PeerConnectionState::Connected,
        PeerConnectionState::Disconnected,
        PeerConnectionState::Failed,
        PeerConnectionState::Closed,
    ];

    /// The state for the browser's `connectionState` string; `None` for a value this app does
    /// not know.
    pub fn from_browser(value: &str) -> Option<PeerConnectionState> {
        PeerConnectionState::ALL.into_iter().find(|state| state.as_str() == value)
    }

    /// The browser's word for the state, also rendered as `data-peer-state`.
    pub fn as_str(self) -> &'static str {
        match self {
            PeerConnectionState::New => "new",
            PeerConnectionState::Connecting => "connecting",
            PeerConnectionState::Connected => "connected",
            PeerConnectionState::Disconnected => "disconnected",
            PeerConnectionState::Failed => "failed",
            PeerConnectionState::Closed => "closed",
        }
    }
}

/// Perfect negotiation's role of this side of a call (the W3C pattern): when both sides offer
/// at once, the *polite* side rolls its own offer back and answers the other's; the *impolite*
/// side ignores the other's offer and waits for the answer to its own. The caller is impolite
/// and the callee polite: both know who called, so they agree without a message, and the roles
/// stay the same for the whole call (a reconnect or a resume changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiationRole {
    Polite,
    Impolite,
}

impl NegotiationRole {
    /// The role of the side that called (`true`) or was called.
    pub fn of(we_called: bool) -> NegotiationRole {
        if we_called {
            NegotiationRole::Impolite
        } else {
            NegotiationRole::Polite
        }
    }

    pub fn is_polite(self) -> bool {
        self == NegotiationRole::Polite
    }

    /// `polite` or `impolite`, rendered as `data-negotiation-role`.
    pub fn word(self) -> &'static str {
        match self {
            NegotiationRole::Polite => "polite",
            NegotiationRole::Impolite => "impolite",
        }
    }
}

/// The call we are in, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallPhase {
    /// No call: the call screen with the people online.
    Idle,
    /// We called `peer`; our offer is being created (`offer_sent == false`) or waits for an answer.
    /// Our own candidates wait in `local_candidates_waiting` until the offer is sent; the peer's
    /// candidates wait in `remote_candidates_waiting` until its answer is applied.
    Calling {
        call_attempt: CallAttempt,
        peer: UserName,
        offer_sent: bool,
        local_candidates_waiting: Vec<IceCandidate>,
        remote_candidates_waiting: Vec<IceCandidate>,
    },
    /// `peer` calls us. Nothing is sent until Accept: the offer and the candidates that trickle
    /// in meanwhile are kept here (the glue prepares the peer connection with the offer,
    /// [`Effect::PrepareIncomingCall`](super::Effect::PrepareIncomingCall), without sending).
    Ringing {
        call_attempt: CallAttempt,
        peer: UserName,
        offer: SessionDescription,
        remote_candidates_waiting: Vec<IceCandidate>,
    },
    /// Offer and answer are exchanged (or being exchanged); media is not flowing yet.
    Connecting { call_attempt: CallAttempt, peer: UserName, we_called: bool },
    /// The peer connection reports `connected`.
    InCall { call_attempt: CallAttempt, peer: UserName, we_called: bool },
}

/// Whether two names are one person as far as the app can tell: the server compares names by a
/// key that folds case and look-alike characters (`protocol`'s `NameKey`, too large a table for
/// the app), and names everyone by the form they registered; the app only needs to recognise
/// that `Bob` as typed and `bob` as registered are one person, so it ignores case.
pub fn same_person(first: &UserName, second: &UserName) -> bool {
    first.as_str() == second.as_str() || lowercase(first.as_str()) == lowercase(second.as_str())
}

impl CallPhase {
    /// The other person of the current call, if any.
    pub fn peer_name(&self) -> Option<&UserName> {
        match self {
            CallPhase::Idle => None,
            CallPhase::Calling { peer, .. }
            | CallPhase::Ringing { peer, .. }
            | CallPhase::Connecting { peer, .. }
            | CallPhase::InCall { peer, .. } => Some(peer),
        }
    }

    /// The current call attempt, if any.
    pub fn call_attempt(&self) -> Option<CallAttempt> {
        match self {
            CallPhase::Idle => None,
            CallPhase::Calling { call_attempt, .. }
            | CallPhase::Ringing { call_attempt, .. }
            | CallPhase::Connecting { call_attempt, .. }
            | CallPhase::InCall { call_attempt, .. } => Some(*call_attempt),
        }
    }

    /// This side's perfect-negotiation role in the current call (`None` when idle).
    pub fn negotiation_role(&self) -> Option<NegotiationRole> {
        match self {
            CallPhase::Idle => None,
            CallPhase::Calling { .. } => Some(NegotiationRole::Impolite),
            CallPhase::Ringing { .. } => Some(NegotiationRole::Polite),
            CallPhase::Connecting { we_called, .. } | CallPhase::InCall { we_called, .. } => {
                Some(NegotiationRole::of(*we_called))
            }
        }
    }

    /// True when this phase owns an `RTCPeerConnection` in use (everything but idle and ringing;
    /// a ringing call's prepared one sends nothing and reports nothing until Accept).
    pub fn has_peer_connection(&self) -> bool {
        matches!(self, CallPhase::Calling { .. } | CallPhase::Connecting { .. } | CallPhase::InCall { .. })
    }

    /// The page title for this phase, so a background tab shows what is going on.
    pub fn page_title(&self) -> String {
        match self {
            CallPhase::Idle => "Duet".to_owned(),
            CallPhase::Calling { peer, .. } => format!("Calling {peer}… · Duet"),
            CallPhase::Ringing { peer, .. } => format!("{peer} is calling you · Duet"),
            CallPhase::Connecting { peer, .. } | CallPhase::InCall { peer, .. } => {
                format!("In a call with {peer} · Duet")
            }
        }
    }

    /// A short stable word for the phase, rendered as `data-call-phase` for tests and styling.
    pub fn word(&self) -> &'static str {
        match self {
            CallPhase::Idle => "idle",
            CallPhase::Calling { .. } => "calling",
            CallPhase::Ringing { .. } => "ringing",
            CallPhase::Connecting { .. } => "connecting",
            CallPhase::InCall { .. } => "in-call",
        }
    }
}
