//! [`AppModel`]: everything the app knows and shows, and the helpers every handler shares.

use super::call_stats::CallStats;
use super::reachability::MissedCall;
use super::recent::RecentCalls;
use super::recovery::MediaRecovery;
use super::resume::{CallResume, ResumeSupport};
use super::verification::CallVerification;
use super::{
    CallAttempt, CallPhase, Chat, Effect, LocalMedia, MediaControls, MediaRequest, Notice, OnlineListSource,
    PeerConnectionState, PendingStart, RemoteMediaState, Settings, SignIn, SignalingConnection, ViewerFeatures,
};
use crate::ice_diagnostics::SelectedCandidatePair;
use protocol::{ClientMessage, IceServer, LeaveReason, UserName};

/// Everything the app shows. Cloned into the view after every action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppModel {
    pub connection: SignalingConnection,
    pub sign_in: SignIn,
    pub call: CallPhase,
    pub online_users: Vec<UserName>,
    /// How this server gives out the online list (from its `hello`).
    pub online_list: OnlineListSource,
    pub local_media: LocalMedia,
    /// Microphone muted, camera on or off, screen shared: the person's choices, call or not.
    pub media: MediaControls,
    /// The current call's data channel is open (peer messages can be sent).
    pub data_channel_open: bool,
    /// The other person's media state, once their app told us; `None` outside a call.
    pub remote_media: Option<RemoteMediaState>,
    /// The current call's chat (empty outside a call).
    pub chat: Chat,
    /// The current call's verification code, or why there is none (reset with every peer connection).
    pub verification: CallVerification,
    /// The current call's statistics and whether their panel is open (reset with every peer connection).
    pub stats: CallStats,
    /// The Settings panel: devices, choices, audio processing, level.
    pub settings: Settings,
    /// Full screen and picture in picture, where the browser allows them.
    pub viewer: ViewerFeatures,
    /// **Do not disturb**: incoming calls are refused as busy and listed as missed.
    pub do_not_disturb: bool,
    /// Calls that rang here unanswered, oldest first (counted in the page title).
    pub missed_calls: Vec<MissedCall>,
    /// **Recent**: the people we called or who called us, and their presence.
    pub recent: RecentCalls,
    /// The browser's clock when the action being applied happened (milliseconds since the Unix
    /// epoch), set by the glue before each action ([`AppModel::set_clock_millis`]).
    pub(super) clock_millis: u64,
    /// The latest message about a call or the connection.
    pub notice: Option<Notice>,
    /// From the server's `hello`; passed to every new `RTCPeerConnection`.
    pub ice_servers: Vec<IceServer>,
    /// `RTCPeerConnection.connectionState` of the current call, `None` without a peer connection.
    pub peer_connection_state: Option<PeerConnectionState>,
    /// The candidate pair ICE selected for the current call's peer connection, once read;
    /// `None` without a peer connection.
    pub selected_candidate_pair: Option<SelectedCandidatePair>,
    /// Failed connection attempts since the last successful one.
    pub reconnect_attempts: u32,
    /// The current call's media recovery: ICE restarts, offers to make again, collisions
    /// (reset with every peer connection).
    pub recovery: MediaRecovery,
    /// `Some` while the current call outlives a lost signaling connection and is not resumed yet.
    pub call_resume: Option<CallResume>,
    /// Whether (and how long) the server holds calls through a lost connection, from its `hello`.
    pub(super) resume_support: ResumeSupport,
    /// We hung up while the server was away: the `leave` goes out once signed back in.
    pub(super) leave_owed_to: Option<UserName>,
    /// The attempt the next call gets.
    pub(super) next_call_attempt: CallAttempt,
    /// Glare: we had sent an offer to this peer when its offer reached us, so the server chose
    /// its offer and will refuse ours with `already_in_call`; that refusal is expected and ignored.
    pub(super) superseded_offer_to: Option<UserName>,
    /// Call or Accept clicked while the camera and microphone were starting.
    pub pending_start: Option<PendingStart>,
}

impl Default for AppModel {
    fn default() -> Self {
        AppModel::new()
    }
}

impl AppModel {
    pub fn new() -> AppModel {
        AppModel {
            connection: SignalingConnection::Connecting,
            sign_in: SignIn::SIGNED_OUT,
            call: CallPhase::Idle,
            online_users: Vec::new(),
            online_list: OnlineListSource::Polled,
            local_media: LocalMedia::NotRequested,
            media: MediaControls::INITIAL,
            data_channel_open: false,
            remote_media: None,
            chat: Chat::default(),
            verification: CallVerification::default(),
            stats: CallStats::default(),
            settings: Settings::default(),
            viewer: ViewerFeatures::default(),
            do_not_disturb: false,
            missed_calls: Vec::new(),
            recent: RecentCalls::default(),
            clock_millis: 0,
            notice: None,
            ice_servers: Vec::new(),
            peer_connection_state: None,
            selected_candidate_pair: None,
            reconnect_attempts: 0,
            recovery: MediaRecovery::default(),
            call_resume: None,
            resume_support: ResumeSupport::default(),
            leave_owed_to: None,
            next_call_attempt: CallAttempt::FIRST,
            superseded_offer_to: None,
            pending_start: None,
        }
    }

    /// The glue tells the time before each action (the reducer has no clock of its own).
    pub fn set_clock_millis(&mut self, now_millis: u64) {
        self.clock_millis = now_millis;
    }

    /// Our name on the server, when signed in.
    pub fn signed_in_name(&self) -> Option<&UserName> {
        match &self.sign_in {
            SignIn::SignedIn { name, .. } => Some(name),
            _ => None,
        }
    }

    /// True while the call screen is shown (signed in, or signing back in after a drop).
    pub fn shows_call_screen(&self) -> bool {
        matches!(self.sign_in, SignIn::SignedIn { .. } | SignIn::SigningBackIn { .. })
    }

    /// The first getUserMedia's request: the chosen devices and the audio processing.
    pub(super) fn media_request(&self) -> MediaRequest {
        MediaRequest {
            camera: self.settings.choices.camera.clone(),
            microphone: self.settings.choices.microphone.clone(),
            processing: self.settings.audio_processing,
        }
    }

    pub(super) fn allocate_call_attempt(&mut self) -> CallAttempt {
        let call_attempt = self.next_call_attempt;
        self.next_call_attempt = call_attempt.next();
        call_attempt
    }

    /// Asks the glue to release the current peer connection and forgets what we knew of it.
    pub(super) fn release_peer_connection(&mut self, effects: &mut Vec<Effect>) {
        effects.push(Effect::ReleasePeerConnection);
        self.forget_peer_connection();
    }

    /// Forgets the state of the peer connection (there is none any more, or none yet).
    fn forget_peer_connection(&mut self) {
        self.peer_connection_state = None;
        self.selected_candidate_pair = None;
        self.verification = CallVerification::default();
        self.stats = CallStats::default();
        self.recovery = MediaRecovery::default();
        self.forget_peer_link();
    }

    /// A peer connection is being created for the current call: it starts as `new`.
    pub(super) fn peer_connection_created(&mut self) {
        self.forget_peer_connection();
        self.peer_connection_state = Some(PeerConnectionState::New);
    }

    /// Ends whatever call is in progress locally and says why, releasing the peer connection
    /// when one existed (a ringing call's is the one prepared for its answer).
    pub(super) fn end_call(&mut self, notice: Notice, effects: &mut Vec<Effect>) {
        if self.call.has_peer_connection() || matches!(self.call, CallPhase::Ringing { .. }) {
            effects.push(Effect::ReleasePeerConnection);
        }
        self.forget_peer_connection();
        self.stop_sharing_at_call_end(effects);
        self.call = CallPhase::Idle;
        self.call_resume = None;
        self.notice = Some(notice);
    }

    /// Tells the server (and through it `peer`) that we leave the call, then ends it locally.
    pub(super) fn leave_call(
        &mut self,
        peer: UserName,
        reason: Option<LeaveReason>,
        notice: Notice,
        effects: &mut Vec<Effect>,
    ) {
        effects.push(Effect::Send(ClientMessage::Leave { name: Some(peer), reason }));
        self.end_call(notice, effects);
    }
}
