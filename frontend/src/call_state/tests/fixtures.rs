//! What every reducer test shares: the imports, payloads and server messages, and models
//! already in a given situation (signed in, calling, ringing, in a call).

pub(super) use crate::call_state::*;
pub(super) use crate::errors::{
    BrowserException, MediaAccessError, MediaProblem, MissingMedia, PeerError, PeerOperation,
};
pub(super) use crate::ice_diagnostics::SelectedCandidatePair;
pub(super) use protocol::{
    ClientMessage, ErrorCode, Hello, IceCandidate, IceServer, LeaveReason, Limits, LoginFailure, ParseError,
    ResumeToken, ServerMessage, SessionDescription, UserName, FEATURE_PRESENCE, FEATURE_PRESENCE_QUERY,
    FEATURE_RESUME_CALLS,
};

pub(super) fn sdp(kind: &str) -> SessionDescription {
    SessionDescription::from_json(format!(r#"{{"type":"{kind}","sdp":"v=0\r\n"}}"#)).expect("valid json")
}

pub(super) fn candidate(number: u32) -> IceCandidate {
    IceCandidate::from_json(format!(
        r#"{{"candidate":"candidate:{number} 1 udp 1 127.0.0.1 {number} typ host","sdpMid":"0","sdpMLineIndex":0}}"#
    ))
    .expect("valid json")
}

pub(super) fn name(text: &str) -> UserName {
    UserName::from_wire(text)
}

pub(super) fn hello() -> ServerMessage {
    ServerMessage::Hello(Hello {
        server: "duet".to_owned(),
        version: "0.1.0".to_owned(),
        protocol: 1,
        limits: Limits {
            max_frame_bytes: 65536,
            max_name_chars: 64,
            ring_timeout_secs: 45,
            idle_timeout_secs: 40,
            call_resume_grace_secs: None,
        },
        ice_servers: vec![IceServer {
            urls: vec!["stun:stun.example:3478".to_owned()],
            username: None,
            credential: None,
        }],
        features: Vec::new(),
    })
}

/// A `hello` of a server that holds calls through a lost connection, with a 20 s grace period.
pub(super) fn resuming_hello() -> ServerMessage {
    let ServerMessage::Hello(mut hello) = hello() else { unreachable!("hello() is a hello") };
    hello.features = vec![FEATURE_RESUME_CALLS.to_owned()];
    hello.limits.call_resume_grace_secs = Some(20);
    ServerMessage::Hello(hello)
}

pub(super) fn login_success(as_name: &str, token: &str) -> ServerMessage {
    ServerMessage::Login {
        success: true,
        name: Some(name(as_name)),
        resume: Some(ResumeToken::from_wire(token)),
        ice_servers: None,
        reason: None,
        message: None,
    }
}

pub(super) fn received(message: ServerMessage) -> Action {
    Action::ServerMessageReceived { message, at_millis: 0 }
}

/// A state signed in as `alice`, connected, idle, with media settled.
pub(super) fn signed_in_as_alice() -> AppModel {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(login_success("alice", "token-1")));
    state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    state
}

/// Alice called bob and her offer went out.
pub(super) fn alice_calling_bob() -> (AppModel, CallAttempt) {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    let Some(Effect::StartOutgoingCall { call_attempt, .. }) = effects.first().cloned() else {
        panic!("calling starts a peer connection: {effects:?}")
    };
    state.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(1) });
    (state, call_attempt)
}

/// Bob's offer rings at alice.
pub(super) fn alice_ringing_from_bob() -> (AppModel, CallAttempt) {
    let mut state = signed_in_as_alice();
    let effects = state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    let call_attempt = state.call.call_attempt().expect("ringing has a call attempt");
    let prepare = Effect::PrepareIncomingCall {
        call_attempt,
        ice_servers: state.ice_servers.clone(),
        offer: sdp("offer"),
        role: NegotiationRole::Polite,
    };
    assert_eq!(effects, vec![prepare], "nothing is sent before Accept, the answer is only prepared");
    (state, call_attempt)
}

/// Bob answered alice's call; the peer connection has not connected yet.
pub(super) fn alice_connecting_to_bob() -> (AppModel, CallAttempt) {
    let (mut state, call_attempt) = alice_calling_bob();
    state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    assert_eq!(state.call.word(), "connecting");
    (state, call_attempt)
}

pub(super) fn alice_in_call_with_bob() -> (AppModel, CallAttempt) {
    let (mut state, call_attempt) = alice_connecting_to_bob();
    state.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Connected });
    assert_eq!(state.call.word(), "in-call");
    (state, call_attempt)
}

/// Bob called alice and she accepted: alice is the callee (polite), connected, channel open.
pub(super) fn alice_in_call_as_callee() -> (AppModel, CallAttempt) {
    let (mut state, call_attempt) = alice_ringing_from_bob();
    state.apply(Action::AcceptClicked);
    state.apply(Action::LocalAnswerCreated { call_attempt, answer: sdp("answer"), nonce: nonce(2) });
    state.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Connected });
    state.apply(Action::DataChannelOpened { call_attempt });
    assert_eq!(state.call.word(), "in-call");
    (state, call_attempt)
}

pub(super) fn sent(effects: &[Effect]) -> Vec<ClientMessage> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Send(message) => Some(message.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn notice_text(state: &AppModel) -> String {
    state.notice.as_ref().map(|notice| notice.text.clone()).unwrap_or_default()
}

/// Signed in as alice while the browser still asks for camera and microphone.
pub(super) fn signed_in_as_alice_media_pending() -> AppModel {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(login_success("alice", "token-1")));
    assert_eq!(state.local_media, LocalMedia::Requesting);
    state
}

pub(super) fn server_error(code: Option<ErrorCode>, message: &str) -> Action {
    received(ServerMessage::Error { message: message.to_owned(), code })
}

/// The camera was refused, the microphone works.
pub(super) fn camera_denied() -> MediaProblem {
    MediaProblem {
        missing: MissingMedia::Camera,
        cause: MediaAccessError::Refused { name: "NotAllowedError".to_owned() },
    }
}

/// Camera and microphone were blocked.
pub(super) fn blocked() -> MediaProblem {
    MediaProblem {
        missing: MissingMedia::CameraAndMicrophone,
        cause: MediaAccessError::Refused { name: "NotAllowedError".to_owned() },
    }
}

/// createOffer failed in the browser with `message`.
pub(super) fn browser_failure(message: &str) -> PeerError {
    PeerError::Browser {
        operation: PeerOperation::CreateOffer,
        exception: BrowserException {
            name: Some("OperationError".to_owned()),
            message: Some(message.to_owned()),
            text: None,
        },
    }
}

/// A fixed verification nonce (the glue draws a random one).
pub(super) fn nonce(seed: u8) -> crate::verification::Nonce {
    crate::verification::Nonce([seed; 32])
}

/// `description` as the reducer sends it: with the commitment to `nonce(seed)`.
pub(super) fn committed(description: &SessionDescription, seed: u8) -> SessionDescription {
    crate::verification::with_commitment(description, &crate::verification::Commitment::to(&nonce(seed)))
}
