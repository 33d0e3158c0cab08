//! [`Action`]: what happened (a click, a server message, a browser event); [`Effect`]: the work
//! the browser glue must carry out, as returned by [`AppModel::apply`](super::AppModel::apply).

use super::{
    AudioProcessing, AudioSwitch, CallAttempt, DeviceChoices, DeviceKind, MediaDevice, NegotiationRole,
    PeerConnectionState, VideoSource, ViewerFeatures,
};
use crate::errors::{MediaAccessError, MediaProblem, PeerError};
use crate::ice_diagnostics::SelectedCandidatePair;
use crate::peer_message::PeerMessage;
use crate::stats::StatsSample;
use crate::verification::Nonce;
use protocol::{ClientMessage, IceCandidate, IceServer, ParseError, ServerMessage, SessionDescription};

/// Something that happened: a click, a server message, a browser event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    // ------------------------------------------------ the page and its timers
    /// The page loaded: open the signaling connection.
    AppStarted,
    /// Periodic tick: refresh the list of people online while idle.
    OnlineUsersRefreshDue,
    /// A reconnect delay elapsed.
    ReconnectDue,
    /// `pagehide`: the page is going away (closed, reloaded), and the call's peer connection with it.
    PageClosing,
    /// The media recovery timer of `call_attempt` elapsed (the disconnected grace, the next ICE
    /// restart, or another try at an offer the server could not deliver).
    RecoveryCheckDue {
        call_attempt: CallAttempt,
    },
    /// The grace period for the other side to come back (after our own resume login) elapsed.
    ResumeDeadlinePassed,

    // ------------------------------------------------ the person's clicks
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
    /// **Mute** / **Unmute** (or its keyboard shortcut).
    MuteClicked,
    /// **Turn camera off** / **Turn camera on** (or its keyboard shortcut).
    CameraClicked,
    /// **Share screen** / **Stop sharing**.
    ShareScreenClicked,
    /// **Chat**: opens or closes the chat panel.
    ChatClicked,
    /// **Send** (or Enter) in the chat, with what was typed in **Message** and the browser's
    /// clock (milliseconds since the Unix epoch).
    ChatMessageSubmitted {
        typed: String,
        at_millis: u64,
    },

    // ------------------------------------------------ the signaling connection
    /// A frame from the server, with the browser's clock when it arrived (milliseconds since the
    /// Unix epoch).
    ServerMessageReceived {
        message: ServerMessage,
        at_millis: u64,
    },
    /// **Do not disturb**: on or off.
    DoNotDisturbClicked,
    /// Do not disturb as remembered in localStorage, read at start.
    DoNotDisturbRestored {
        on: bool,
    },
    /// **Call back** on the missed call at `index` of the list.
    CallBackClicked {
        index: usize,
    },
    /// **Clear** under the missed calls.
    ClearMissedCallsClicked,
    /// The signed-in person's **Recent** list as read from localStorage (`None`: nothing stored).
    RecentCallsRestored {
        storage_key: String,
        text: Option<String>,
    },
    /// **Clear recent calls**.
    ClearRecentCallsClicked,
    /// Periodic tick while the Recent names' presence is queried (a server that lists nobody).
    RecentPresenceQueryDue,
    /// A frame that is not a message we understand (never fatal).
    ServerMessageUnreadable {
        error: ParseError,
    },
    /// The WebSocket closed (`close_code` 1006 when it failed without a close frame).
    SignalingClosed {
        close_code: u16,
    },

    // ------------------------------------------------ the browser: media and peer connection
    /// getUserMedia finished, with whatever it could get.
    LocalMediaSettled {
        has_audio: bool,
        has_video: bool,
        problem: Option<MediaProblem>,
    },
    /// **Full screen**: the remote video full screen, or back.
    FullScreenClicked,
    /// **Picture in picture**: the remote video in its own window, or back.
    PictureInPictureClicked,
    /// At start: what the browser allows (full screen, picture in picture).
    ViewerFeaturesDetected {
        features: ViewerFeatures,
    },
    /// **Settings**: opens or closes the panel.
    SettingsClicked,
    /// The device choices remembered in localStorage, read at start.
    DeviceChoicesRestored {
        choices: DeviceChoices,
    },
    /// `devicechange`: a device was plugged in or out.
    DevicesChanged,
    /// `enumerateDevices` answered.
    DevicesListed {
        devices: Vec<MediaDevice>,
        speaker_selection_supported: bool,
    },
    /// A choice in **Camera**, **Microphone** or **Speaker**: a device id, or empty for the default.
    DeviceChosen {
        kind: DeviceKind,
        id: String,
    },
    /// A camera or microphone switch finished: `None` when the glue holds the new track.
    DeviceSwitched {
        kind: DeviceKind,
        problem: Option<MediaAccessError>,
    },
    /// A noise suppression, echo cancellation or automatic gain switch.
    AudioProcessingChanged {
        switch: AudioSwitch,
        on: bool,
    },
    /// The microphone level meter's reading, 0 to 100.
    MicrophoneLevelMeasured {
        level: u8,
    },
    /// "Turn camera on" finished: `None` when the glue holds a new camera track.
    CameraSettled {
        problem: Option<MediaAccessError>,
    },
    /// getDisplayMedia finished: `None` when the glue holds the capture track.
    ScreenShareSettled {
        problem: Option<MediaAccessError>,
    },
    /// The screen capture track ended (the browser's own "Stop sharing").
    ScreenShareEnded,
    /// Our camera or microphone track ended by itself (unplugged, taken by another app, its
    /// permission revoked); never sent for a track the app stopped.
    LocalDeviceStopped {
        kind: DeviceKind,
    },
    /// The call's data channel opened.
    DataChannelOpened {
        call_attempt: CallAttempt,
    },
    /// A frame from the peer on the data channel, as received (decoded by the reducer), with the
    /// browser's clock (milliseconds since the Unix epoch).
    PeerMessageReceived {
        call_attempt: CallAttempt,
        text: String,
        at_millis: u64,
    },
    /// Our offer is created and set as local description; `nonce` is a fresh random secret for
    /// this call's verification code (`crypto.getRandomValues`).
    LocalOfferCreated {
        call_attempt: CallAttempt,
        offer: SessionDescription,
        nonce: Nonce,
    },
    /// Our answer is created and set as local description; `nonce` as for the offer.
    LocalAnswerCreated {
        call_attempt: CallAttempt,
        answer: SessionDescription,
        nonce: Nonce,
    },
    /// `icecandidate` fired with a candidate.
    LocalIceCandidateGathered {
        call_attempt: CallAttempt,
        candidate: IceCandidate,
    },
    /// `connectionstatechange` fired.
    PeerConnectionStateChanged {
        call_attempt: CallAttempt,
        state: PeerConnectionState,
    },
    /// A WebRTC operation failed (createOffer, setRemoteDescription, ...).
    PeerConnectionFailed {
        call_attempt: CallAttempt,
        error: PeerError,
    },
    /// Once `connected`, `getStats()` named the candidate pair ICE selected.
    SelectedCandidatePairRead {
        call_attempt: CallAttempt,
        pair: SelectedCandidatePair,
    },
    /// The call's `getStats()` report of this second.
    StatsSampled {
        call_attempt: CallAttempt,
        sample: StatsSample,
    },
    /// **Statistics**: opens or closes the **Call statistics** panel.
    StatisticsClicked,
    /// The time the peer had to reveal its nonce (after the data channel opened) is over.
    VerificationDeadlinePassed {
        call_attempt: CallAttempt,
    },
    /// **Restart connection** (in the Call statistics panel): an ICE restart now.
    RestartConnectionClicked,
    /// Perfect negotiation saw the peer's offer cross one of ours: the polite side dropped its
    /// own (`rolled_back`; never applied, so no rollback in the browser), the impolite side
    /// ignored the peer's.
    OfferCollided {
        call_attempt: CallAttempt,
        rolled_back: bool,
    },
}

impl Action {
    /// The call attempt of a peer-connection event (`None` for every other action): the
    /// reducer ignores the event unless that attempt is the current call's.
    pub fn call_attempt(&self) -> Option<CallAttempt> {
        match self {
            Action::LocalOfferCreated { call_attempt, .. }
            | Action::LocalAnswerCreated { call_attempt, .. }
            | Action::LocalIceCandidateGathered { call_attempt, .. }
            | Action::PeerConnectionStateChanged { call_attempt, .. }
            | Action::PeerConnectionFailed { call_attempt, .. }
            | Action::SelectedCandidatePairRead { call_attempt, .. }
            | Action::StatsSampled { call_attempt, .. }
            | Action::DataChannelOpened { call_attempt, .. }
            | Action::PeerMessageReceived { call_attempt, .. }
            | Action::VerificationDeadlinePassed { call_attempt }
            | Action::RecoveryCheckDue { call_attempt }
            | Action::OfferCollided { call_attempt, .. } => Some(*call_attempt),
            _ => None,
        }
    }
}

/// What the first getUserMedia asks for: the chosen devices (preferred, not required) and the
/// microphone's processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRequest {
    pub camera: Option<String>,
    pub microphone: Option<String>,
    pub processing: AudioProcessing,
}

/// Work for the browser glue, returned by [`AppModel::apply`](super::AppModel::apply) in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    OpenSignalingConnection,
    ScheduleReconnect {
        delay_millis: u32,
    },
    Send(ClientMessage),
    /// Ask for camera and microphone (once per page), the chosen devices preferred.
    AcquireLocalMedia(MediaRequest),
    /// Create a peer connection with the data channel and one sendrecv transceiver per kind
    /// (our microphone, and `video`'s track or none yet), create the offer, set it as local
    /// description, then report [`Action::LocalOfferCreated`].
    StartOutgoingCall {
        call_attempt: CallAttempt,
        ice_servers: Vec<IceServer>,
        video: VideoSource,
        role: NegotiationRole,
    },
    /// A call rings: create its peer connection, apply `offer`, make the transceivers sendrecv
    /// and create the answer without applying it (no local description: nothing gathered or
    /// sent before Accept, no track attached); failures are reported only on Accept. Released by
    /// [`Effect::ReleasePeerConnection`] if the ringing ends otherwise.
    PrepareIncomingCall {
        call_attempt: CallAttempt,
        ice_servers: Vec<IceServer>,
        offer: SessionDescription,
        role: NegotiationRole,
    },
    /// Create a peer connection with the data channel (or take the one prepared while it rang,
    /// [`Effect::PrepareIncomingCall`], its offer applied and its answer created), apply `offer` and then
    /// `remote_candidates` in this order, make every transceiver sendrecv with our microphone and
    /// `video`'s track (or none yet), create the answer, then report [`Action::LocalAnswerCreated`].
    AnswerIncomingCall {
        call_attempt: CallAttempt,
        ice_servers: Vec<IceServer>,
        video: VideoSource,
        offer: SessionDescription,
        remote_candidates: Vec<IceCandidate>,
        role: NegotiationRole,
    },
    /// Apply the peer's answer, then the candidates that waited for it, in this order.
    ApplyRemoteAnswer {
        call_attempt: CallAttempt,
        answer: SessionDescription,
        remote_candidates: Vec<IceCandidate>,
    },
    /// The peer renegotiates inside the call: apply its offer and answer it (perfect
    /// negotiation: the impolite side ignores an offer that collides with its own, the polite
    /// side rolls its own back), then report [`Action::LocalAnswerCreated`].
    AnswerRenegotiationOffer {
        call_attempt: CallAttempt,
        offer: SessionDescription,
    },
    /// The peer's answer to our renegotiation offer (an ICE restart): apply it.
    ApplyRenegotiationAnswer {
        call_attempt: CallAttempt,
        answer: SessionDescription,
    },
    /// Restart ICE (`restartIce()`, after rolling back an offer of ours that was never
    /// answered): `negotiationneeded` makes the offer, reported as [`Action::LocalOfferCreated`].
    RestartIce {
        call_attempt: CallAttempt,
    },
    /// Give the running call refreshed ICE servers (`setConfiguration`, the rest of its
    /// configuration unchanged), so an ICE restart finds the relay with valid credentials.
    UpdateIceServers {
        call_attempt: CallAttempt,
        ice_servers: Vec<IceServer>,
    },
    /// Report [`Action::RecoveryCheckDue`] after `delay_millis` (replaces the previous one).
    ScheduleRecoveryCheck {
        call_attempt: CallAttempt,
        delay_millis: u32,
    },
    /// Report [`Action::ResumeDeadlinePassed`] after `delay_millis` (replaces the previous one).
    ScheduleResumeDeadline {
        delay_millis: u32,
    },
    AddRemoteIceCandidate {
        call_attempt: CallAttempt,
        candidate: IceCandidate,
    },
    /// `track.enabled` of our microphone (disabled sends silence).
    SetMicrophoneEnabled {
        enabled: bool,
    },
    /// Take the camera again (getUserMedia, video only, the chosen one preferred), then report
    /// [`Action::CameraSettled`].
    StartCamera {
        device_id: Option<String>,
    },
    /// List the devices (`enumerateDevices`), then report [`Action::DevicesListed`].
    ListDevices,
    /// Take exactly this camera (`None`: the default) in place of the current one, then report
    /// [`Action::DeviceSwitched`].
    SwitchCamera {
        device_id: Option<String>,
    },
    /// Take exactly this microphone (`None`: the default) with `processing`, in place of the
    /// current one, then report [`Action::DeviceSwitched`].
    SwitchMicrophone {
        device_id: Option<String>,
        processing: AudioProcessing,
    },
    /// Send our current microphone track on the call's audio sender (`replaceTrack`).
    SendMicrophone,
    /// The remote video's frame full screen, or back (`requestFullscreen` / `exitFullscreen`).
    ToggleFullScreen,
    /// The remote video in picture in picture, or back.
    TogglePictureInPicture,
    /// Ask for permission to show a system notification when a call rings in a hidden tab
    /// (`Notification.requestPermission`, unless the person already answered).
    AskNotificationPermission,
    /// Remember do not disturb in localStorage.
    SaveDoNotDisturb {
        on: bool,
    },
    /// Read the **Recent** list stored under `storage_key`, then report
    /// [`Action::RecentCallsRestored`].
    LoadRecentCalls {
        storage_key: String,
    },
    /// Remember the choices in localStorage.
    SaveDeviceChoices {
        choices: DeviceChoices,
    },
    /// Measure the microphone's level and report it every 100 ms
    /// ([`Action::MicrophoneLevelMeasured`]), restarting on the current track.
    StartLevelMeter,
    StopLevelMeter,
    /// Stop and drop the camera track (the camera light goes out).
    StopCamera,
    /// Ask for a screen (getDisplayMedia), watch its track's `ended`, then report
    /// [`Action::ScreenShareSettled`].
    StartScreenShare,
    /// Stop and drop the screen capture track and its listener.
    StopScreenShare,
    /// Show `source` in the preview and send it on the call's video sender (`replaceTrack`, no
    /// renegotiation; `Nothing` sends no video).
    ShowVideoSource {
        source: VideoSource,
    },
    /// Read the call's `getStats()` every second and report each as [`Action::StatsSampled`],
    /// until the peer connection is released.
    SampleStatsEverySecond {
        call_attempt: CallAttempt,
    },
    /// Send a message to the peer on the call's data channel.
    SendPeerMessage(PeerMessage),
    /// Close the peer connection, stop its remote tracks, drop its closures, clear the
    /// remote video.
    ReleasePeerConnection,
}
