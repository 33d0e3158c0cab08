//! The pure heart of the app: `CallState`, the `Action`s that change it and the `Effect`s the
//! browser glue must carry out. No web-sys in here, so every transition is unit-tested natively.
//!
//! Invariants:
//! - Exactly one call phase at a time; every phase that owns an `RTCPeerConnection` ends with an
//!   [`Effect::ReleasePeerConnection`], whoever ends it and however.
//! - Every call gets a fresh [`CallId`]; events from the browser carry the id of the call they
//!   belong to, and events of an older call are ignored.
//! - Remote ICE candidates that arrive before the remote description can be applied (while
//!   calling, or while ringing before Accept) are queued in the state, never dropped.
//! - SDP bodies are never formatted into any text this module produces.

use protocol::{
    close_codes, ClientMessage, ErrorCode, IceCandidate, IceServer, LeaveReason, NameError, ResumeToken, ServerMessage,
    SessionDescription, UserName,
};

/// Identifies one call attempt, so late browser events of an earlier call are ignored.
pub type CallId = u64;

/// First reconnect delay; doubled per failed attempt up to [`RECONNECT_MAX_DELAY_MILLIS`].
pub const RECONNECT_FIRST_DELAY_MILLIS: u32 = 500;
/// Longest wait between two reconnect attempts.
pub const RECONNECT_MAX_DELAY_MILLIS: u32 = 10_000;
/// How often the list of people online is refreshed while idle.
pub const ONLINE_USERS_REFRESH_MILLIS: u32 = 4_000;

/// The state of the WebSocket to the signaling server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalingConnection {
    /// The first connection is being opened.
    Connecting,
    /// The server greeted us: messages can flow.
    Connected,
    /// The connection was lost; a new attempt is scheduled after `retry_in_millis`.
    Reconnecting { attempt: u32, retry_in_millis: u32 },
    /// Another tab or device signed in with our name and resume token: we stay offline.
    ReplacedByAnotherLogin,
    /// The server closed an idle connection while nobody was signed in (it closes connections
    /// that do not sign in within a deadline): reopened when someone clicks "Sign in".
    Dormant,
}

/// Whether we hold a name on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    /// The sign-in screen. `pending_name` is a login sent (or waiting for the connection) but
    /// not answered yet; `error` says in words why the last attempt failed.
    SignedOut { pending_name: Option<String>, error: Option<String> },
    /// Signed in. `resume` reclaims the name after a reconnect.
    SignedIn { name: String, resume: Option<ResumeToken> },
    /// The connection dropped while signed in: we sign back in under `name` with `resume`
    /// as soon as the connection is back.
    SigningBackIn { name: String, resume: Option<ResumeToken> },
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
        call_id: CallId,
        peer: String,
        offer_sent: bool,
        local_candidates_waiting: Vec<IceCandidate>,
        remote_candidates_waiting: Vec<IceCandidate>,
    },
    /// `peer` calls us. Nothing is created until Accept: the offer and the candidates that
    /// trickle in meanwhile are kept here.
    Ringing { call_id: CallId, peer: String, offer: SessionDescription, remote_candidates_waiting: Vec<IceCandidate> },
    /// Offer and answer are exchanged (or being exchanged); media is not flowing yet.
    Connecting { call_id: CallId, peer: String, we_called: bool },
    /// The peer connection reports `connected`.
    InCall { call_id: CallId, peer: String, we_called: bool },
}

impl CallPhase {
    /// The other person of the current call, if any.
    pub fn peer_name(&self) -> Option<&str> {
        match self {
            CallPhase::Idle => None,
            CallPhase::Calling { peer, .. }
            | CallPhase::Ringing { peer, .. }
            | CallPhase::Connecting { peer, .. }
            | CallPhase::InCall { peer, .. } => Some(peer),
        }
    }

    /// The id of the current call, if any.
    pub fn call_id(&self) -> Option<CallId> {
        match self {
            CallPhase::Idle => None,
            CallPhase::Calling { call_id, .. }
            | CallPhase::Ringing { call_id, .. }
            | CallPhase::Connecting { call_id, .. }
            | CallPhase::InCall { call_id, .. } => Some(*call_id),
        }
    }

    /// True when this phase owns an `RTCPeerConnection` (everything but idle and ringing).
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

/// What we could get from the camera and microphone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalMedia {
    /// Not asked yet (we ask right after sign-in).
    NotRequested,
    /// The browser is asking the user.
    Requesting,
    /// Got what is listed; `problem` explains what is missing, in words.
    Ready { has_audio: bool, has_video: bool, problem: Option<String> },
}

/// How loudly a notice is announced: `role="status"` (polite) or `role="alert"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Status,
    Alert,
}

/// A message for the person using the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
}

impl Notice {
    pub fn status(text: impl Into<String>) -> Notice {
        Notice { kind: NoticeKind::Status, text: text.into() }
    }

    pub fn alert(text: impl Into<String>) -> Notice {
        Notice { kind: NoticeKind::Alert, text: text.into() }
    }
}

/// Everything the app shows. Cloned into the view after every action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallState {
    pub connection: SignalingConnection,
    pub session: Session,
    pub call: CallPhase,
    pub online_users: Vec<String>,
    pub local_media: LocalMedia,
    /// The latest message about a call or the connection.
    pub notice: Option<Notice>,
    /// From the server's `hello`; passed to every new `RTCPeerConnection`.
    pub ice_servers: Vec<IceServer>,
    /// `RTCPeerConnection.connectionState` of the current call (`"new"`, `"connected"`, ...),
    /// `None` without a peer connection.
    pub peer_connection_state: Option<String>,
    /// Failed connection attempts since the last successful one.
    pub reconnect_attempts: u32,
    next_call_id: CallId,
    /// Glare: we had sent an offer to this peer when its offer reached us, so the server chose
    /// its offer and will refuse ours with `already_in_call`; that refusal is expected and ignored.
    superseded_offer_to: Option<String>,
}

impl Default for CallState {
    fn default() -> Self {
        CallState::new()
    }
}

/// Something that happened: a click, a server message, a browser event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The page loaded: open the signaling connection.
    AppStarted,
    /// The "Sign in" button, with what was typed in "Your name".
    SignInRequested {
        typed_name: String,
    },
    /// The "Call" button (with "Name to call") or a click on a name in the online list.
    CallRequested {
        typed_name: String,
    },
    CancelCallClicked,
    AcceptClicked,
    DeclineClicked,
    HangUpClicked,
    DismissNoticeClicked,
    /// Periodic tick: refresh the list of people online while idle.
    OnlineUsersRefreshDue,
    /// A reconnect delay elapsed.
    ReconnectDue,
    /// A frame from the server.
    ServerMessageReceived(ServerMessage),
    /// A frame that is not a message we understand (never fatal).
    ServerMessageUnreadable {
        detail: String,
    },
    /// The WebSocket closed (`close_code` 1006 when it failed without a close frame).
    SignalingClosed {
        close_code: u16,
    },
    /// getUserMedia finished, with whatever it could get.
    LocalMediaSettled {
        has_audio: bool,
        has_video: bool,
        problem: Option<String>,
    },
    /// Our offer is created and set as local description.
    LocalOfferCreated {
        call_id: CallId,
        offer: SessionDescription,
    },
    /// Our answer is created and set as local description.
    LocalAnswerCreated {
        call_id: CallId,
        answer: SessionDescription,
    },
    /// `icecandidate` fired with a candidate.
    LocalIceCandidateGathered {
        call_id: CallId,
        candidate: IceCandidate,
    },
    /// `connectionstatechange` fired.
    PeerConnectionStateChanged {
        call_id: CallId,
        state: String,
    },
    /// A WebRTC operation failed (createOffer, setRemoteDescription, ...).
    PeerConnectionFailed {
        call_id: CallId,
        detail: String,
    },
}

/// Work for the browser glue, returned by [`CallState::apply`] in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    OpenSignalingConnection,
    ScheduleReconnect {
        delay_millis: u32,
    },
    Send(ClientMessage),
    /// Ask for camera and microphone (once per page).
    AcquireLocalMedia,
    /// Create a peer connection with our tracks (recvonly where we have none), create the
    /// offer, set it as local description, then report [`Action::LocalOfferCreated`].
    StartOutgoingCall {
        call_id: CallId,
        ice_servers: Vec<IceServer>,
    },
    /// Create a peer connection, apply `offer` and then `remote_candidates` in this order, add
    /// our tracks, create the answer, then report [`Action::LocalAnswerCreated`].
    AnswerIncomingCall {
        call_id: CallId,
        ice_servers: Vec<IceServer>,
        offer: SessionDescription,
        remote_candidates: Vec<IceCandidate>,
    },
    /// Apply the peer's answer, then the candidates that waited for it, in this order.
    ApplyRemoteAnswer {
        call_id: CallId,
        answer: SessionDescription,
        remote_candidates: Vec<IceCandidate>,
    },
    /// The peer renegotiates inside the call: apply its offer and answer it.
    AnswerRenegotiationOffer {
        call_id: CallId,
        offer: SessionDescription,
    },
    AddRemoteIceCandidate {
        call_id: CallId,
        candidate: IceCandidate,
    },
    /// Close the peer connection, stop its remote tracks, drop its closures, clear the
    /// remote video.
    ReleasePeerConnection,
}

/// The delay before reconnect attempt number `attempt` (1-based): 0.5 s, 1 s, 2 s, ... 10 s.
pub fn reconnect_delay_millis(attempt: u32) -> u32 {
    let doublings = attempt.saturating_sub(1).min(16);
    RECONNECT_FIRST_DELAY_MILLIS.saturating_mul(1 << doublings).min(RECONNECT_MAX_DELAY_MILLIS)
}

/// Said when Call or Accept is clicked while the browser still asks for camera and microphone:
/// a peer connection created now would carry none of our tracks for the whole call.
pub const WAITING_FOR_LOCAL_MEDIA: &str =
    "Waiting for your camera and microphone — allow or block them in the browser's prompt, then try again.";

/// Words for a name refused before it is even sent.
fn describe_name_error(error: &NameError) -> String {
    error.to_string()
}

impl CallState {
    pub fn new() -> CallState {
        CallState {
            connection: SignalingConnection::Connecting,
            session: Session::SignedOut { pending_name: None, error: None },
            call: CallPhase::Idle,
            online_users: Vec::new(),
            local_media: LocalMedia::NotRequested,
            notice: None,
            ice_servers: Vec::new(),
            peer_connection_state: None,
            reconnect_attempts: 0,
            next_call_id: 1,
            superseded_offer_to: None,
        }
    }

    /// Our name on the server, when signed in.
    pub fn signed_in_name(&self) -> Option<&str> {
        match &self.session {
            Session::SignedIn { name, .. } => Some(name),
            _ => None,
        }
    }

    /// True while the call screen is shown (signed in, or signing back in after a drop).
    pub fn shows_call_screen(&self) -> bool {
        matches!(self.session, Session::SignedIn { .. } | Session::SigningBackIn { .. })
    }

    fn allocate_call_id(&mut self) -> CallId {
        let call_id = self.next_call_id;
        self.next_call_id += 1;
        call_id
    }

    /// Ends whatever call is in progress locally and says why. Returns the release effect when a
    /// peer connection existed.
    fn end_call(&mut self, notice: Notice, effects: &mut Vec<Effect>) {
        if self.call.has_peer_connection() {
            effects.push(Effect::ReleasePeerConnection);
        }
        self.call = CallPhase::Idle;
        self.peer_connection_state = None;
        self.notice = Some(notice);
    }

    /// Applies one action and returns the effects to carry out, in order.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        let mut effects = Vec::new();
        match action {
            Action::AppStarted => {
                self.connection = SignalingConnection::Connecting;
                effects.push(Effect::OpenSignalingConnection);
            }
            Action::SignInRequested { typed_name } => self.sign_in_requested(&typed_name, &mut effects),
            Action::CallRequested { typed_name } => self.call_requested(&typed_name, &mut effects),
            Action::CancelCallClicked => {
                if let CallPhase::Calling { peer, .. } = &self.call {
                    let peer = peer.clone();
                    effects.push(Effect::Send(ClientMessage::Leave {
                        name: Some(UserName::from_wire(peer.as_str())),
                        reason: None,
                    }));
                    self.end_call(Notice::status(format!("You cancelled the call to {peer}.")), &mut effects);
                }
            }
            Action::AcceptClicked => {
                if let CallPhase::Ringing { call_id, peer, offer, remote_candidates_waiting } = &self.call {
                    if self.local_media == LocalMedia::Requesting {
                        // Keep ringing: Accept works once the prompt is answered.
                        self.notice = Some(Notice::alert(WAITING_FOR_LOCAL_MEDIA));
                        return effects;
                    }
                    effects.push(Effect::AnswerIncomingCall {
                        call_id: *call_id,
                        ice_servers: self.ice_servers.clone(),
                        offer: offer.clone(),
                        remote_candidates: remote_candidates_waiting.clone(),
                    });
                    self.call = CallPhase::Connecting { call_id: *call_id, peer: peer.clone(), we_called: false };
                    self.peer_connection_state = Some("new".to_owned());
                    self.notice = None;
                }
            }
            Action::DeclineClicked => {
                if let CallPhase::Ringing { peer, .. } = &self.call {
                    let peer = peer.clone();
                    effects.push(Effect::Send(ClientMessage::Leave {
                        name: Some(UserName::from_wire(peer.as_str())),
                        reason: Some(LeaveReason::Declined),
                    }));
                    self.end_call(Notice::status(format!("You declined the call from {peer}.")), &mut effects);
                }
            }
            Action::HangUpClicked => {
                if let CallPhase::Connecting { peer, .. } | CallPhase::InCall { peer, .. } = &self.call {
                    let peer = peer.clone();
                    effects.push(Effect::Send(ClientMessage::Leave {
                        name: Some(UserName::from_wire(peer.as_str())),
                        reason: None,
                    }));
                    self.end_call(Notice::status(format!("You hung up. The call with {peer} ended.")), &mut effects);
                    effects.push(Effect::Send(ClientMessage::Users));
                }
            }
            Action::DismissNoticeClicked => self.notice = None,
            Action::OnlineUsersRefreshDue => {
                if self.connection == SignalingConnection::Connected
                    && self.signed_in_name().is_some()
                    && self.call == CallPhase::Idle
                {
                    effects.push(Effect::Send(ClientMessage::Users));
                }
            }
            Action::ReconnectDue => {
                if matches!(self.connection, SignalingConnection::Reconnecting { .. }) {
                    effects.push(Effect::OpenSignalingConnection);
                }
            }
            Action::ServerMessageReceived(message) => self.server_message_received(message, &mut effects),
            Action::ServerMessageUnreadable { detail } => {
                // A newer server may send types we do not know: never fatal, never shown.
                let _ = detail;
            }
            Action::SignalingClosed { close_code } => self.signaling_closed(close_code, &mut effects),
            Action::LocalMediaSettled { has_audio, has_video, problem } => {
                self.local_media = LocalMedia::Ready { has_audio, has_video, problem };
            }
            Action::LocalOfferCreated { call_id, offer } => {
                if let CallPhase::Calling { call_id: current, peer, offer_sent, local_candidates_waiting, .. } =
                    &mut self.call
                {
                    if *current == call_id && !*offer_sent {
                        *offer_sent = true;
                        let peer_name = UserName::from_wire(peer.as_str());
                        effects.push(Effect::Send(ClientMessage::Offer { name: peer_name.clone(), offer }));
                        for candidate in local_candidates_waiting.drain(..) {
                            effects.push(Effect::Send(ClientMessage::Candidate { name: peer_name.clone(), candidate }));
                        }
                    }
                }
            }
            Action::LocalAnswerCreated { call_id, answer } => {
                if let CallPhase::Connecting { call_id: current, peer, .. }
                | CallPhase::InCall { call_id: current, peer, .. } = &self.call
                {
                    if *current == call_id {
                        effects.push(Effect::Send(ClientMessage::Answer {
                            name: UserName::from_wire(peer.as_str()),
                            answer,
                        }));
                    }
                }
            }
            Action::LocalIceCandidateGathered { call_id, candidate } => {
                if self.call.call_id() != Some(call_id) {
                    return effects;
                }
                match &mut self.call {
                    CallPhase::Calling { offer_sent: false, local_candidates_waiting, .. } => {
                        local_candidates_waiting.push(candidate);
                    }
                    CallPhase::Calling { peer, .. }
                    | CallPhase::Connecting { peer, .. }
                    | CallPhase::InCall { peer, .. } => {
                        effects.push(Effect::Send(ClientMessage::Candidate {
                            name: UserName::from_wire(peer.as_str()),
                            candidate,
                        }));
                    }
                    CallPhase::Idle | CallPhase::Ringing { .. } => {}
                }
            }
            Action::PeerConnectionStateChanged { call_id, state } => {
                if self.call.call_id() != Some(call_id) {
                    return effects;
                }
                self.peer_connection_state = Some(state.clone());
                match state.as_str() {
                    "connected" => {
                        if let CallPhase::Connecting { call_id, peer, we_called } = &self.call {
                            self.call =
                                CallPhase::InCall { call_id: *call_id, peer: peer.clone(), we_called: *we_called };
                            self.notice = None;
                        }
                    }
                    "failed" => {
                        if let Some(peer) = self.call.peer_name().map(str::to_owned) {
                            effects.push(Effect::Send(ClientMessage::Leave {
                                name: Some(UserName::from_wire(peer.as_str())),
                                reason: None,
                            }));
                            self.end_call(
                                Notice::alert(format!(
                                    "The connection to {peer} failed (no network path between you). The call ended."
                                )),
                                &mut effects,
                            );
                        }
                    }
                    _ => {}
                }
            }
            Action::PeerConnectionFailed { call_id, detail } => {
                if self.call.call_id() != Some(call_id) {
                    return effects;
                }
                if let Some(peer) = self.call.peer_name().map(str::to_owned) {
                    effects.push(Effect::Send(ClientMessage::Leave {
                        name: Some(UserName::from_wire(peer.as_str())),
                        reason: None,
                    }));
                    self.end_call(
                        Notice::alert(format!("The call with {peer} could not be set up: {detail}")),
                        &mut effects,
                    );
                }
            }
        }
        effects
    }

    fn sign_in_requested(&mut self, typed_name: &str, effects: &mut Vec<Effect>) {
        if !matches!(self.session, Session::SignedOut { .. }) {
            return;
        }
        if self.connection == SignalingConnection::Connected
            && matches!(self.session, Session::SignedOut { pending_name: Some(_), .. })
        {
            // A login is on the wire: a second one would be refused (`already_logged_in`) or
            // leave the server holding a name we do not show. Wait for the reply.
            return;
        }
        if matches!(self.connection, SignalingConnection::ReplacedByAnotherLogin | SignalingConnection::Dormant) {
            // Someone wants to sign in: open the connection; the login goes out after `hello`.
            self.connection = SignalingConnection::Connecting;
            effects.push(Effect::OpenSignalingConnection);
        }
        match UserName::parse_login(typed_name) {
            Err(error) => {
                self.session = Session::SignedOut { pending_name: None, error: Some(describe_name_error(&error)) };
            }
            Ok(name) => {
                let name = name.into_string();
                if self.connection == SignalingConnection::Connected {
                    effects.push(Effect::Send(ClientMessage::Login {
                        name: UserName::from_wire(name.as_str()),
                        resume: None,
                    }));
                }
                self.session = Session::SignedOut { pending_name: Some(name), error: None };
            }
        }
    }

    fn call_requested(&mut self, typed_name: &str, effects: &mut Vec<Effect>) {
        let Some(own_name) = self.signed_in_name().map(str::to_owned) else {
            return;
        };
        if self.call != CallPhase::Idle {
            self.notice = Some(Notice::alert("Hang up the current call before calling someone else."));
            return;
        }
        if self.local_media == LocalMedia::Requesting {
            self.notice = Some(Notice::alert(WAITING_FOR_LOCAL_MEDIA));
            return;
        }
        if self.connection != SignalingConnection::Connected {
            self.notice = Some(Notice::alert("Not connected to the server; wait until the connection is back."));
            return;
        }
        let peer = typed_name.trim().to_owned();
        if peer.is_empty() {
            self.notice = Some(Notice::alert("Type the name of the person to call."));
            return;
        }
        let peer = match UserName::parse_login(&peer) {
            Ok(peer) => peer.into_string(),
            Err(error) => {
                // The server would refuse it anyway; say why instead of sending it.
                self.notice = Some(Notice::alert(format!("Cannot call that name: {}", describe_name_error(&error))));
                return;
            }
        };
        if peer == own_name {
            self.notice = Some(Notice::alert("That is your own name; type someone else's."));
            return;
        }
        self.superseded_offer_to = None;
        let call_id = self.allocate_call_id();
        self.call = CallPhase::Calling {
            call_id,
            peer,
            offer_sent: false,
            local_candidates_waiting: Vec::new(),
            remote_candidates_waiting: Vec::new(),
        };
        self.peer_connection_state = Some("new".to_owned());
        self.notice = None;
        effects.push(Effect::StartOutgoingCall { call_id, ice_servers: self.ice_servers.clone() });
    }

    fn signaling_closed(&mut self, close_code: u16, effects: &mut Vec<Effect>) {
        let was_connected = self.connection == SignalingConnection::Connected;
        if was_connected && matches!(self.session, Session::SignedOut { pending_name: None, .. }) {
            // Nobody is signed in and the server hung up an idle connection: no need to hold
            // one. It is reopened on "Sign in".
            self.connection = SignalingConnection::Dormant;
            self.reconnect_attempts = 0;
            return;
        }
        if let Some(peer) = self.call.peer_name().map(str::to_owned) {
            self.end_call(
                Notice::alert(format!("The connection to the server was lost, so the call with {peer} ended.")),
                effects,
            );
        }
        self.online_users.clear();
        self.session =
            match std::mem::replace(&mut self.session, Session::SignedOut { pending_name: None, error: None }) {
                Session::SignedIn { name, resume } | Session::SigningBackIn { name, resume } => {
                    Session::SigningBackIn { name, resume }
                }
                signed_out @ Session::SignedOut { .. } => signed_out,
            };
        if close_code == close_codes::REPLACED_BY_NEW_LOGIN {
            self.connection = SignalingConnection::ReplacedByAnotherLogin;
            self.session = Session::SignedOut {
                pending_name: None,
                error: Some("You signed in with this name somewhere else, so this tab was signed out.".to_owned()),
            };
            self.notice = None;
            return;
        }
        self.reconnect_attempts = self.reconnect_attempts.saturating_add(1);
        let delay_millis = reconnect_delay_millis(self.reconnect_attempts);
        self.connection =
            SignalingConnection::Reconnecting { attempt: self.reconnect_attempts, retry_in_millis: delay_millis };
        effects.push(Effect::ScheduleReconnect { delay_millis });
    }

    fn server_message_received(&mut self, message: ServerMessage, effects: &mut Vec<Effect>) {
        // Any frame proves the connection works; `hello` is the first one on every connection.
        if self.connection != SignalingConnection::Connected {
            self.connection = SignalingConnection::Connected;
            self.reconnect_attempts = 0;
            match &self.session {
                Session::SigningBackIn { name, resume } => effects.push(Effect::Send(ClientMessage::Login {
                    name: UserName::from_wire(name.as_str()),
                    resume: resume.clone(),
                })),
                Session::SignedOut { pending_name: Some(name), .. } => {
                    effects.push(Effect::Send(ClientMessage::Login {
                        name: UserName::from_wire(name.as_str()),
                        resume: None,
                    }));
                }
                Session::SignedOut { pending_name: None, .. } | Session::SignedIn { .. } => {}
            }
        }
        match message {
            ServerMessage::Hello(hello) => self.ice_servers = hello.ice_servers,
            ServerMessage::Login { success: true, name, resume, ice_servers, .. } => {
                let requested = match (&self.session, &name) {
                    (Session::SignedOut { pending_name: Some(name), .. } | Session::SigningBackIn { name, .. }, _) => {
                        Some(name.clone())
                    }
                    // No login pending, yet the server gave us a name (say, the reply to a login
                    // whose wait was cut short): the server holds it, so we are signed in.
                    (Session::SignedOut { pending_name: None, .. }, Some(name)) => Some(name.as_str().to_owned()),
                    _ => None,
                };
                let Some(requested) = requested else { return };
                // A server with TURN mints credentials per user and sends them with the login.
                if let Some(ice_servers) = ice_servers {
                    self.ice_servers = ice_servers;
                }
                let was_signing_back_in = matches!(self.session, Session::SigningBackIn { .. });
                let name = name.map_or(requested, UserName::into_string);
                self.session = Session::SignedIn { name, resume };
                if was_signing_back_in {
                    self.notice = Some(Notice::status("Connection to the server restored."));
                }
                effects.push(Effect::Send(ClientMessage::Users));
                if self.local_media == LocalMedia::NotRequested {
                    self.local_media = LocalMedia::Requesting;
                    effects.push(Effect::AcquireLocalMedia);
                }
            }
            ServerMessage::Login { success: false, message, name, .. } => {
                let attempted = match &self.session {
                    Session::SignedOut { pending_name: Some(name), .. } | Session::SigningBackIn { name, .. } => {
                        Some(name.clone())
                    }
                    _ => None,
                };
                let Some(attempted) = attempted.or(name.map(UserName::into_string)) else { return };
                let reason = message.unwrap_or_else(|| format!("The name \"{attempted}\" cannot be used."));
                self.session = Session::SignedOut { pending_name: None, error: Some(reason) };
                self.online_users.clear();
            }
            ServerMessage::Users { users } => {
                self.online_users = users.into_iter().map(UserName::into_string).collect();
            }
            ServerMessage::Offer { offer, name } => self.remote_offer_received(offer, name.into_string(), effects),
            ServerMessage::Answer { answer, name } => {
                if let CallPhase::Calling { call_id, peer, offer_sent: true, remote_candidates_waiting, .. } =
                    &mut self.call
                {
                    if name.as_ref().is_some_and(|name| name.as_str() != peer) {
                        return;
                    }
                    let call_id = *call_id;
                    effects.push(Effect::ApplyRemoteAnswer {
                        call_id,
                        answer,
                        remote_candidates: std::mem::take(remote_candidates_waiting),
                    });
                    self.call = CallPhase::Connecting { call_id, peer: peer.clone(), we_called: true };
                }
            }
            ServerMessage::Candidate { candidate, name } => {
                if let (Some(name), Some(peer)) = (&name, self.call.peer_name()) {
                    if name.as_str() != peer {
                        return;
                    }
                }
                match &mut self.call {
                    CallPhase::Calling { remote_candidates_waiting, .. }
                    | CallPhase::Ringing { remote_candidates_waiting, .. } => {
                        remote_candidates_waiting.push(candidate);
                    }
                    CallPhase::Connecting { call_id, .. } | CallPhase::InCall { call_id, .. } => {
                        effects.push(Effect::AddRemoteIceCandidate { call_id: *call_id, candidate });
                    }
                    CallPhase::Idle => {}
                }
            }
            ServerMessage::Leave { name, reason } => self.remote_leave_received(name, reason, effects),
            ServerMessage::Error { message, code } => self.server_error_received(message, code, effects),
        }
    }

    fn remote_offer_received(&mut self, offer: SessionDescription, caller: String, effects: &mut Vec<Effect>) {
        match &self.call {
            CallPhase::Idle => {
                if self.signed_in_name().is_none() {
                    return;
                }
                let call_id = self.allocate_call_id();
                // Announced politely (role="status") for screen readers; the panel has the buttons.
                self.notice = Some(Notice::status(format!("{caller} is calling you.")));
                self.call = CallPhase::Ringing { call_id, peer: caller, offer, remote_candidates_waiting: Vec::new() };
            }
            CallPhase::Connecting { call_id, peer, .. } | CallPhase::InCall { call_id, peer, .. }
                if *peer == caller =>
            {
                effects.push(Effect::AnswerRenegotiationOffer { call_id: *call_id, offer });
            }
            // Glare: we both called each other at once and the server took the peer's offer (it
            // only forwards an offer to an idle user), so it will refuse ours. Drop our attempt
            // and ring exactly as for a normal incoming call.
            CallPhase::Calling { peer, offer_sent, remote_candidates_waiting, .. } if *peer == caller => {
                let offer_sent = *offer_sent;
                let remote_candidates_waiting = remote_candidates_waiting.clone();
                effects.push(Effect::ReleasePeerConnection);
                self.peer_connection_state = None;
                self.superseded_offer_to = offer_sent.then(|| caller.clone());
                let call_id = self.allocate_call_id();
                self.notice = Some(Notice::status(format!("{caller} is calling you.")));
                self.call = CallPhase::Ringing { call_id, peer: caller, offer, remote_candidates_waiting };
            }
            // The server never rings a busy user; if it happens anyway, say we are busy.
            _ => effects.push(Effect::Send(ClientMessage::Leave {
                name: Some(UserName::from_wire(caller)),
                reason: Some(LeaveReason::Busy),
            })),
        }
    }

    fn remote_leave_received(
        &mut self,
        name: Option<UserName>,
        reason: Option<LeaveReason>,
        effects: &mut Vec<Effect>,
    ) {
        let Some(peer) = self.call.peer_name().map(str::to_owned) else { return };
        if name.as_ref().is_some_and(|name| name.as_str() != peer) {
            return;
        }
        let was_ringing = matches!(self.call, CallPhase::Ringing { .. });
        let was_calling = matches!(self.call, CallPhase::Calling { .. });
        let notice = match reason {
            Some(LeaveReason::Declined) => Notice::alert(format!("{peer} declined your call.")),
            Some(LeaveReason::Busy) => Notice::alert(format!("{peer} is busy in another call. Try again later.")),
            Some(LeaveReason::Timeout) if was_ringing => Notice::alert(format!("You missed a call from {peer}.")),
            Some(LeaveReason::Timeout) => Notice::alert(format!("{peer} did not answer.")),
            Some(LeaveReason::Disconnected) => Notice::alert(format!("{peer} lost their connection. The call ended.")),
            Some(LeaveReason::Hangup) | None if was_ringing => Notice::alert(format!("{peer} cancelled the call.")),
            Some(LeaveReason::Hangup) | None if was_calling => {
                Notice::alert(format!("{peer} ended the call before it started."))
            }
            Some(LeaveReason::Hangup) | None => Notice::alert(format!("{peer} hung up. The call ended.")),
            Some(LeaveReason::Other) => Notice::alert(format!("The call with {peer} ended.")),
        };
        self.end_call(notice, effects);
        effects.push(Effect::Send(ClientMessage::Users));
    }

    fn server_error_received(&mut self, message: String, code: Option<ErrorCode>, effects: &mut Vec<Effect>) {
        if let Session::SignedOut { pending_name, error } = &mut self.session {
            // Signed out, the only thing we send is `login`: this refuses it. The sign-in screen
            // shows `error`, not the notice; the pending login is over, so another try is allowed.
            *pending_name = None;
            *error = Some(if message.is_empty() {
                "The server refused the sign-in. Try again.".to_owned()
            } else {
                format!("The server refused the sign-in: {message}")
            });
            return;
        }
        if code == Some(ErrorCode::AlreadyInCall) && self.superseded_offer_to.take().is_some() {
            // The expected refusal of our own offer that lost the glare (we have sent no offer
            // since; `call_requested` clears the mark): whatever the call is now, leave it be.
            return;
        }
        let (calling_peer, offer_sent) = match &self.call {
            CallPhase::Calling { peer, offer_sent, .. } => (Some(peer.clone()), *offer_sent),
            _ => (None, false),
        };
        match (code, calling_peer) {
            (Some(ErrorCode::UserNotFound), Some(peer)) => {
                self.end_call(Notice::alert(format!("{peer} is not online right now.")), effects);
                effects.push(Effect::Send(ClientMessage::Users));
            }
            (Some(ErrorCode::CannotCallSelf), Some(_)) => {
                self.end_call(Notice::alert("You cannot call yourself."), effects);
            }
            // A late candidate or leave after the call ended: harmless.
            (Some(ErrorCode::NotInCall), _) => {}
            // Our offer is out and unanswered: any other refusal (`already_in_call`,
            // `rate_limited`, `invalid_message`, codes we do not know) means no call is coming,
            // and nothing else would ever end "Calling …". (The glare refusal returned above.)
            (_, Some(peer)) if offer_sent => {
                let reason = if message.is_empty() { "the server refused the call.".to_owned() } else { message };
                self.end_call(Notice::alert(format!("Could not call {peer}: {reason}")), effects);
            }
            (Some(ErrorCode::RateLimited), _) => {
                self.notice = Some(Notice::alert(format!("Slow down: {message}")));
            }
            (_, _) => {
                if !message.is_empty() {
                    self.notice = Some(Notice::alert(format!("The server refused a request: {message}")));
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "call_state_tests.rs"]
mod tests;
