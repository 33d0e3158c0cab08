//! Native unit tests of the call-state reducer: every transition, the unhappy ones included.

use super::*;
use protocol::{Hello, Limits, LoginFailure};

fn sdp(kind: &str) -> SessionDescription {
    SessionDescription::from_json(format!(r#"{{"type":"{kind}","sdp":"v=0\r\n"}}"#)).expect("valid json")
}

fn candidate(number: u32) -> IceCandidate {
    IceCandidate::from_json(format!(
        r#"{{"candidate":"candidate:{number} 1 udp 1 127.0.0.1 {number} typ host","sdpMid":"0","sdpMLineIndex":0}}"#
    ))
    .expect("valid json")
}

fn name(text: &str) -> UserName {
    UserName::from_wire(text)
}

fn hello() -> ServerMessage {
    ServerMessage::Hello(Hello {
        server: "duet".to_owned(),
        version: "0.1.0".to_owned(),
        protocol: 1,
        limits: Limits { max_frame_bytes: 65536, max_name_chars: 64, ring_timeout_secs: 45, idle_timeout_secs: 40 },
        ice_servers: vec![IceServer {
            urls: vec!["stun:stun.example:3478".to_owned()],
            username: None,
            credential: None,
        }],
    })
}

fn login_success(as_name: &str, token: &str) -> ServerMessage {
    ServerMessage::Login {
        success: true,
        name: Some(name(as_name)),
        resume: Some(ResumeToken::from_wire(token)),
        ice_servers: None,
        reason: None,
        message: None,
    }
}

fn received(message: ServerMessage) -> Action {
    Action::ServerMessageReceived(message)
}

/// A state signed in as `alice`, connected, idle, with media settled.
fn signed_in_as_alice() -> CallState {
    let mut state = CallState::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(login_success("alice", "token-1")));
    state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    state
}

/// Alice called bob and her offer went out.
fn alice_calling_bob() -> (CallState, CallId) {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    let Some(Effect::StartOutgoingCall { call_id, .. }) = effects.first().cloned() else {
        panic!("calling starts a peer connection: {effects:?}")
    };
    state.apply(Action::LocalOfferCreated { call_id, offer: sdp("offer") });
    (state, call_id)
}

/// Bob's offer rings at alice.
fn alice_ringing_from_bob() -> (CallState, CallId) {
    let mut state = signed_in_as_alice();
    let effects = state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    assert!(effects.is_empty(), "nothing is created before Accept: {effects:?}");
    let call_id = state.call.call_id().expect("ringing has a call id");
    (state, call_id)
}

fn alice_in_call_with_bob() -> (CallState, CallId) {
    let (mut state, call_id) = alice_calling_bob();
    state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    state.apply(Action::PeerConnectionStateChanged { call_id, state: "connected".to_owned() });
    assert_eq!(state.call.word(), "in-call");
    (state, call_id)
}

fn sent(effects: &[Effect]) -> Vec<ClientMessage> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Send(message) => Some(message.clone()),
            _ => None,
        })
        .collect()
}

fn notice_text(state: &CallState) -> String {
    state.notice.as_ref().map(|notice| notice.text.clone()).unwrap_or_default()
}

// ---------------------------------------------------------------- connection and sign-in

#[test]
fn app_start_opens_the_signaling_connection() {
    let mut state = CallState::new();
    assert_eq!(state.apply(Action::AppStarted), vec![Effect::OpenSignalingConnection]);
    assert_eq!(state.connection, SignalingConnection::Connecting);
}

#[test]
fn hello_marks_the_connection_up_and_stores_ice_servers() {
    let mut state = CallState::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    assert_eq!(state.connection, SignalingConnection::Connected);
    assert_eq!(state.ice_servers[0].urls, vec!["stun:stun.example:3478".to_owned()]);
}

#[test]
fn sign_in_sends_login_with_the_trimmed_name() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    let effects = state.apply(Action::SignInRequested { typed_name: "  alice ".to_owned() });
    assert_eq!(sent(&effects), vec![ClientMessage::Login { name: name("alice"), resume: None }]);
    assert_eq!(state.session, Session::SignedOut { pending_name: Some("alice".to_owned()), error: None });
}

#[test]
fn sign_in_before_the_connection_is_up_is_sent_once_it_is() {
    let mut state = CallState::new();
    state.apply(Action::AppStarted);
    assert!(sent(&state.apply(Action::SignInRequested { typed_name: "alice".to_owned() })).is_empty());
    let effects = state.apply(received(hello()));
    assert_eq!(sent(&effects), vec![ClientMessage::Login { name: name("alice"), resume: None }]);
}

#[test]
fn empty_name_is_refused_locally_with_a_reason_in_words() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    let effects = state.apply(Action::SignInRequested { typed_name: "   ".to_owned() });
    assert!(effects.is_empty());
    let Session::SignedOut { error: Some(error), .. } = &state.session else { panic!("{:?}", state.session) };
    assert!(error.contains("empty"), "{error}");
}

#[test]
fn successful_login_signs_in_asks_for_users_and_media() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    let effects = state.apply(received(login_success("alice", "token-1")));
    assert_eq!(effects, vec![Effect::Send(ClientMessage::Users), Effect::AcquireLocalMedia]);
    assert_eq!(state.signed_in_name(), Some("alice"));
    assert_eq!(state.local_media, LocalMedia::Requesting);
}

#[test]
fn taken_name_shows_the_servers_message_and_allows_another_try() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(ServerMessage::Login {
        success: false,
        name: None,
        resume: None,
        ice_servers: None,
        reason: Some(LoginFailure::Taken),
        message: Some("Someone online is already called alice.".to_owned()),
    }));
    assert_eq!(
        state.session,
        Session::SignedOut { pending_name: None, error: Some("Someone online is already called alice.".to_owned()) }
    );
    let effects = state.apply(Action::SignInRequested { typed_name: "alice2".to_owned() });
    assert_eq!(sent(&effects), vec![ClientMessage::Login { name: name("alice2"), resume: None }]);
}

#[test]
fn refused_login_without_a_message_still_says_why() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(ServerMessage::Login {
        success: false,
        name: None,
        resume: None,
        ice_servers: None,
        reason: None,
        message: None,
    }));
    let Session::SignedOut { error: Some(error), .. } = &state.session else { panic!("{:?}", state.session) };
    assert!(error.contains("alice"), "{error}");
}

#[test]
fn login_success_without_a_pending_name_trusts_the_servers_name() {
    // The server holds the name (the reply to a login whose wait was cut short): showing the
    // sign-in screen would leave the name taken and every new sign-in refused.
    let mut state = CallState::new();
    state.apply(received(hello()));
    let effects = state.apply(received(login_success("mallory", "t")));
    assert_eq!(state.signed_in_name(), Some("mallory"));
    assert!(sent(&effects).contains(&ClientMessage::Users), "{effects:?}");
    assert!(effects.contains(&Effect::AcquireLocalMedia), "{effects:?}");
}

#[test]
fn login_success_without_any_name_or_pending_login_is_ignored() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    let reply = ServerMessage::Login {
        success: true,
        name: None,
        resume: None,
        ice_servers: None,
        reason: None,
        message: None,
    };
    assert!(state.apply(received(reply)).is_empty());
    assert_eq!(state.signed_in_name(), None);
}

#[test]
fn login_success_while_signed_in_does_not_change_the_name() {
    let mut state = signed_in_as_alice();
    state.apply(received(login_success("mallory", "t")));
    assert_eq!(state.signed_in_name(), Some("alice"));
}

#[test]
fn second_sign_in_while_a_login_is_pending_is_ignored() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    let effects = state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    assert_eq!(sent(&effects).len(), 1);
    let effects = state.apply(Action::SignInRequested { typed_name: "alicia".to_owned() });
    assert!(effects.is_empty(), "no second login on the wire: {effects:?}");
    assert_eq!(state.session, Session::SignedOut { pending_name: Some("alice".to_owned()), error: None });
    state.apply(received(login_success("alice", "t")));
    assert_eq!(state.signed_in_name(), Some("alice"));
}

#[test]
fn sign_in_before_the_connection_is_up_can_still_change_the_name() {
    let mut state = CallState::new();
    state.apply(Action::AppStarted);
    assert!(sent(&state.apply(Action::SignInRequested { typed_name: "alcie".to_owned() })).is_empty());
    assert!(sent(&state.apply(Action::SignInRequested { typed_name: "alice".to_owned() })).is_empty());
    let effects = state.apply(received(hello()));
    assert_eq!(sent(&effects), vec![ClientMessage::Login { name: name("alice"), resume: None }]);
}

#[test]
fn server_error_while_signed_out_shows_on_the_sign_in_screen_and_allows_another_try() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(ServerMessage::Error {
        message: "You are already logged in".to_owned(),
        code: Some(ErrorCode::AlreadyLoggedIn),
    }));
    let Session::SignedOut { pending_name: None, error: Some(error) } = &state.session else {
        panic!("the sign-in screen shows the error: {:?}", state.session)
    };
    assert!(error.contains("You are already logged in"), "{error}");
    let effects = state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    assert_eq!(sent(&effects), vec![ClientMessage::Login { name: name("alice"), resume: None }]);
}

#[test]
fn rate_limit_error_while_signed_out_is_shown_on_the_sign_in_screen() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    state.apply(received(ServerMessage::Error {
        message: "Too many messages".to_owned(),
        code: Some(ErrorCode::RateLimited),
    }));
    let Session::SignedOut { error: Some(error), .. } = &state.session else { panic!("{:?}", state.session) };
    assert!(error.contains("Too many messages"), "{error}");
}

#[test]
fn local_media_is_requested_only_once_per_page() {
    let mut state = signed_in_as_alice();
    state.apply(Action::SignalingClosed { close_code: 1006 });
    state.apply(Action::ReconnectDue);
    state.apply(received(hello()));
    let effects = state.apply(received(login_success("alice", "token-2")));
    assert!(!effects.contains(&Effect::AcquireLocalMedia), "{effects:?}");
}

#[test]
fn media_problem_is_kept_for_the_view() {
    let mut state = signed_in_as_alice();
    state.apply(Action::LocalMediaSettled {
        has_audio: false,
        has_video: false,
        problem: Some("Camera denied".to_owned()),
    });
    assert_eq!(
        state.local_media,
        LocalMedia::Ready { has_audio: false, has_video: false, problem: Some("Camera denied".to_owned()) }
    );
}

#[test]
fn users_reply_replaces_the_online_list() {
    let mut state = signed_in_as_alice();
    state.apply(received(ServerMessage::Users { users: vec![name("bob"), name("carol")] }));
    assert_eq!(state.online_users, vec!["bob".to_owned(), "carol".to_owned()]);
}

#[test]
fn online_list_refreshes_only_while_idle_and_connected() {
    let mut state = signed_in_as_alice();
    assert_eq!(state.apply(Action::OnlineUsersRefreshDue), vec![Effect::Send(ClientMessage::Users)]);
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    assert!(state.apply(Action::OnlineUsersRefreshDue).is_empty());
    let mut signed_out = CallState::new();
    signed_out.apply(received(hello()));
    assert!(signed_out.apply(Action::OnlineUsersRefreshDue).is_empty());
}

// ---------------------------------------------------------------- reconnecting

#[test]
fn lost_connection_schedules_reconnects_with_growing_backoff() {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
    assert_eq!(effects, vec![Effect::ScheduleReconnect { delay_millis: 500 }]);
    assert_eq!(state.connection, SignalingConnection::Reconnecting { attempt: 1, retry_in_millis: 500 });
    assert_eq!(state.apply(Action::ReconnectDue), vec![Effect::OpenSignalingConnection]);
    assert_eq!(
        state.apply(Action::SignalingClosed { close_code: 1006 }),
        vec![Effect::ScheduleReconnect { delay_millis: 1000 }]
    );
    state.apply(Action::ReconnectDue);
    assert_eq!(
        state.apply(Action::SignalingClosed { close_code: 1006 }),
        vec![Effect::ScheduleReconnect { delay_millis: 2000 }]
    );
}

#[test]
fn reconnect_backoff_is_capped_at_ten_seconds() {
    assert_eq!(reconnect_delay_millis(1), 500);
    assert_eq!(reconnect_delay_millis(5), 8000);
    assert_eq!(reconnect_delay_millis(6), 10_000);
    assert_eq!(reconnect_delay_millis(u32::MAX), 10_000);
}

#[test]
fn server_restart_close_code_1012_reconnects() {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::SignalingClosed { close_code: 1012 });
    assert!(matches!(effects.as_slice(), [Effect::ScheduleReconnect { .. }]), "{effects:?}");
}

#[test]
fn reconnect_signs_back_in_under_the_same_name_with_the_resume_token() {
    let mut state = signed_in_as_alice();
    state.apply(Action::SignalingClosed { close_code: 1006 });
    assert_eq!(
        state.session,
        Session::SigningBackIn { name: "alice".to_owned(), resume: Some(ResumeToken::from_wire("token-1")) }
    );
    assert!(state.shows_call_screen(), "the call screen stays while signing back in");
    state.apply(Action::ReconnectDue);
    let effects = state.apply(received(hello()));
    assert_eq!(
        sent(&effects),
        vec![ClientMessage::Login { name: name("alice"), resume: Some(ResumeToken::from_wire("token-1")) }]
    );
    state.apply(received(login_success("alice", "token-2")));
    assert_eq!(
        state.session,
        Session::SignedIn { name: "alice".to_owned(), resume: Some(ResumeToken::from_wire("token-2")) }
    );
    assert_eq!(state.reconnect_attempts, 0);
    assert_eq!(notice_text(&state), "Connection to the server restored.");
}

#[test]
fn failed_sign_back_in_returns_to_the_sign_in_screen_with_the_reason() {
    let mut state = signed_in_as_alice();
    state.apply(Action::SignalingClosed { close_code: 1006 });
    state.apply(received(hello()));
    state.apply(received(ServerMessage::Login {
        success: false,
        name: None,
        resume: None,
        ice_servers: None,
        reason: Some(LoginFailure::Taken),
        message: Some("taken".to_owned()),
    }));
    assert_eq!(state.session, Session::SignedOut { pending_name: None, error: Some("taken".to_owned()) });
    assert!(!state.shows_call_screen());
}

#[test]
fn lost_connection_during_a_call_ends_the_call_and_releases_the_peer_connection() {
    let (mut state, _) = alice_in_call_with_bob();
    let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
    assert_eq!(effects[0], Effect::ReleasePeerConnection);
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(state.peer_connection_state, None);
    assert!(notice_text(&state).contains("connection to the server was lost"), "{}", notice_text(&state));
}

#[test]
fn lost_connection_while_ringing_forgets_the_call_without_a_peer_connection() {
    let (mut state, _) = alice_ringing_from_bob();
    let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
    assert!(!effects.contains(&Effect::ReleasePeerConnection));
    assert_eq!(state.call, CallPhase::Idle);
}

#[test]
fn replaced_by_another_login_stops_reconnecting_and_explains() {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::SignalingClosed { close_code: protocol::close_codes::REPLACED_BY_NEW_LOGIN });
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(state.connection, SignalingConnection::ReplacedByAnotherLogin);
    assert!(
        matches!(&state.session, Session::SignedOut { error: Some(error), .. } if error.contains("somewhere else"))
    );
    assert!(state.apply(Action::ReconnectDue).is_empty());
    let effects = state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    assert_eq!(effects, vec![Effect::OpenSignalingConnection], "signing in again reconnects first");
}

#[test]
fn server_closing_an_idle_signed_out_connection_goes_dormant_without_retrying() {
    let mut state = CallState::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    // The server closes connections that do not sign in within its login deadline (1008).
    assert!(state.apply(Action::SignalingClosed { close_code: 1008 }).is_empty());
    assert_eq!(state.connection, SignalingConnection::Dormant);
    assert!(state.apply(Action::ReconnectDue).is_empty());
}

#[test]
fn sign_in_while_dormant_reopens_the_connection_and_logs_in_after_hello() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    state.apply(Action::SignalingClosed { close_code: 1008 });
    let effects = state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    assert_eq!(effects, vec![Effect::OpenSignalingConnection]);
    assert_eq!(state.connection, SignalingConnection::Connecting);
    let effects = state.apply(received(hello()));
    assert_eq!(sent(&effects), vec![ClientMessage::Login { name: name("alice"), resume: None }]);
}

#[test]
fn unreachable_server_before_sign_in_is_retried_and_shown() {
    let mut state = CallState::new();
    state.apply(Action::AppStarted);
    let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
    assert_eq!(effects, vec![Effect::ScheduleReconnect { delay_millis: 500 }]);
    assert!(matches!(state.connection, SignalingConnection::Reconnecting { attempt: 1, .. }));
}

#[test]
fn connection_lost_while_a_sign_in_is_pending_is_retried_and_the_login_resent() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
    assert_eq!(effects, vec![Effect::ScheduleReconnect { delay_millis: 500 }]);
    state.apply(Action::ReconnectDue);
    let effects = state.apply(received(hello()));
    assert_eq!(sent(&effects), vec![ClientMessage::Login { name: name("alice"), resume: None }]);
}

#[test]
fn stale_reconnect_timer_is_ignored_once_connected() {
    let mut state = signed_in_as_alice();
    assert!(state.apply(Action::ReconnectDue).is_empty());
}

// ---------------------------------------------------------------- placing a call

#[test]
fn calling_starts_an_outgoing_call_with_the_servers_ice_servers() {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::CallRequested { typed_name: " bob ".to_owned() });
    assert_eq!(effects, vec![Effect::StartOutgoingCall { call_id: 1, ice_servers: state.ice_servers.clone() }]);
    assert_eq!(state.call.word(), "calling");
    assert_eq!(state.call.peer_name(), Some("bob"));
    assert_eq!(state.peer_connection_state.as_deref(), Some("new"));
}

#[test]
fn offer_is_sent_once_created_followed_by_candidates_gathered_before_it() {
    let mut state = signed_in_as_alice();
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    assert!(state.apply(Action::LocalIceCandidateGathered { call_id: 1, candidate: candidate(1) }).is_empty());
    let effects = state.apply(Action::LocalOfferCreated { call_id: 1, offer: sdp("offer") });
    assert_eq!(
        sent(&effects),
        vec![
            ClientMessage::Offer { name: name("bob"), offer: sdp("offer") },
            ClientMessage::Candidate { name: name("bob"), candidate: candidate(1) },
        ]
    );
    let effects = state.apply(Action::LocalIceCandidateGathered { call_id: 1, candidate: candidate(2) });
    assert_eq!(sent(&effects), vec![ClientMessage::Candidate { name: name("bob"), candidate: candidate(2) }]);
}

#[test]
fn calling_with_an_empty_name_explains_instead_of_calling() {
    let mut state = signed_in_as_alice();
    assert!(state.apply(Action::CallRequested { typed_name: "  ".to_owned() }).is_empty());
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(state.notice.as_ref().map(|notice| notice.kind), Some(NoticeKind::Alert));
}

#[test]
fn calling_yourself_is_refused_locally() {
    let mut state = signed_in_as_alice();
    assert!(state.apply(Action::CallRequested { typed_name: "alice".to_owned() }).is_empty());
    assert!(notice_text(&state).contains("your own name"));
}

#[test]
fn calling_while_disconnected_is_refused_with_a_reason() {
    let mut state = signed_in_as_alice();
    state.apply(Action::SignalingClosed { close_code: 1006 });
    assert!(state.apply(Action::CallRequested { typed_name: "bob".to_owned() }).is_empty());
    let mut signed_out = CallState::new();
    assert!(signed_out.apply(Action::CallRequested { typed_name: "bob".to_owned() }).is_empty());
}

#[test]
fn calling_during_a_call_is_refused() {
    let (mut state, _) = alice_in_call_with_bob();
    assert!(state.apply(Action::CallRequested { typed_name: "carol".to_owned() }).is_empty());
    assert_eq!(state.call.peer_name(), Some("bob"));
    assert!(notice_text(&state).contains("Hang up"));
}

#[test]
fn candidates_from_the_callee_before_its_answer_are_queued_then_applied_after_the_answer() {
    let (mut state, call_id) = alice_calling_bob();
    assert!(state
        .apply(received(ServerMessage::Candidate { candidate: candidate(7), name: Some(name("bob")) }))
        .is_empty());
    assert!(state
        .apply(received(ServerMessage::Candidate { candidate: candidate(8), name: Some(name("bob")) }))
        .is_empty());
    let effects = state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    assert_eq!(
        effects,
        vec![Effect::ApplyRemoteAnswer {
            call_id,
            answer: sdp("answer"),
            remote_candidates: vec![candidate(7), candidate(8)]
        }]
    );
    assert_eq!(state.call, CallPhase::Connecting { call_id, peer: "bob".to_owned(), we_called: true });
    let effects = state.apply(received(ServerMessage::Candidate { candidate: candidate(9), name: Some(name("bob")) }));
    assert_eq!(effects, vec![Effect::AddRemoteIceCandidate { call_id, candidate: candidate(9) }]);
}

#[test]
fn answer_from_someone_else_is_ignored() {
    let (mut state, _) = alice_calling_bob();
    assert!(state
        .apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("mallory")) }))
        .is_empty());
    assert_eq!(state.call.word(), "calling");
}

#[test]
fn classic_answer_without_a_name_is_accepted() {
    let (mut state, _) = alice_calling_bob();
    let effects = state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: None }));
    assert!(matches!(effects.as_slice(), [Effect::ApplyRemoteAnswer { .. }]));
}

#[test]
fn candidate_from_someone_else_is_ignored() {
    let (mut state, _) = alice_in_call_with_bob();
    assert!(state
        .apply(received(ServerMessage::Candidate { candidate: candidate(1), name: Some(name("mallory")) }))
        .is_empty());
}

#[test]
fn connected_peer_connection_moves_the_call_to_in_call() {
    let (mut state, call_id) = alice_calling_bob();
    state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    state.apply(Action::PeerConnectionStateChanged { call_id, state: "connecting".to_owned() });
    assert_eq!(state.call.word(), "connecting");
    assert_eq!(state.peer_connection_state.as_deref(), Some("connecting"));
    state.apply(Action::PeerConnectionStateChanged { call_id, state: "connected".to_owned() });
    assert_eq!(state.call, CallPhase::InCall { call_id, peer: "bob".to_owned(), we_called: true });
}

#[test]
fn cancel_while_calling_sends_leave_and_releases_the_peer_connection() {
    let (mut state, _) = alice_calling_bob();
    let effects = state.apply(Action::CancelCallClicked);
    assert_eq!(
        effects,
        vec![
            Effect::Send(ClientMessage::Leave { name: Some(name("bob")), reason: None }),
            Effect::ReleasePeerConnection
        ]
    );
    assert_eq!(state.call, CallPhase::Idle);
    assert!(notice_text(&state).contains("cancelled"));
}

#[test]
fn offer_created_after_cancel_is_not_sent() {
    let mut state = signed_in_as_alice();
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    state.apply(Action::CancelCallClicked);
    assert!(state.apply(Action::LocalOfferCreated { call_id: 1, offer: sdp("offer") }).is_empty());
}

#[test]
fn events_of_an_earlier_call_do_not_touch_the_next_call() {
    let mut state = signed_in_as_alice();
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    state.apply(Action::CancelCallClicked);
    state.apply(Action::CallRequested { typed_name: "carol".to_owned() });
    assert_eq!(state.call.call_id(), Some(2));
    assert!(state.apply(Action::LocalOfferCreated { call_id: 1, offer: sdp("offer") }).is_empty());
    assert!(state.apply(Action::LocalIceCandidateGathered { call_id: 1, candidate: candidate(1) }).is_empty());
    assert!(state.apply(Action::PeerConnectionStateChanged { call_id: 1, state: "failed".to_owned() }).is_empty());
    assert!(state.apply(Action::PeerConnectionFailed { call_id: 1, detail: "old".to_owned() }).is_empty());
    assert_eq!(state.call.peer_name(), Some("carol"));
}

#[test]
fn callee_declining_tells_the_caller_in_words() {
    let (mut state, _) = alice_calling_bob();
    let effects =
        state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Declined) }));
    assert_eq!(effects, vec![Effect::ReleasePeerConnection, Effect::Send(ClientMessage::Users)]);
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(state.notice, Some(Notice::alert("bob declined your call.")));
}

#[test]
fn busy_callee_tells_the_caller_in_words() {
    let (mut state, _) = alice_calling_bob();
    state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Busy) }));
    assert!(notice_text(&state).contains("bob is busy"), "{}", notice_text(&state));
}

#[test]
fn unanswered_call_times_out_with_a_message() {
    let (mut state, _) = alice_calling_bob();
    state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Timeout) }));
    assert_eq!(notice_text(&state), "bob did not answer.");
}

#[test]
fn offline_callee_ends_the_call_with_not_online() {
    let (mut state, _) = alice_calling_bob();
    let effects = state.apply(received(ServerMessage::error(ErrorCode::UserNotFound, "User not found: bob")));
    assert_eq!(effects, vec![Effect::ReleasePeerConnection, Effect::Send(ClientMessage::Users)]);
    assert_eq!(state.notice, Some(Notice::alert("bob is not online right now.")));
}

#[test]
fn server_refusing_a_self_call_ends_the_attempt() {
    let (mut state, _) = alice_calling_bob();
    let effects = state.apply(received(ServerMessage::error(ErrorCode::CannotCallSelf, "no")));
    assert_eq!(effects, vec![Effect::ReleasePeerConnection]);
    assert_eq!(state.call, CallPhase::Idle);
}

#[test]
fn already_in_call_error_ends_the_attempt_with_the_servers_words() {
    let (mut state, _) = alice_calling_bob();
    state.apply(received(ServerMessage::error(ErrorCode::AlreadyInCall, "Hang up first.")));
    assert_eq!(state.call, CallPhase::Idle);
    assert!(notice_text(&state).contains("Hang up first."));
}

#[test]
fn late_not_in_call_error_is_harmless() {
    let mut state = signed_in_as_alice();
    assert!(state.apply(received(ServerMessage::error(ErrorCode::NotInCall, "not in call"))).is_empty());
    assert_eq!(state.notice, None);
}

#[test]
fn other_server_errors_are_shown_as_alerts() {
    let mut state = signed_in_as_alice();
    state.apply(received(ServerMessage::error(ErrorCode::Other, "Something new")));
    assert_eq!(state.notice.as_ref().map(|notice| notice.kind), Some(NoticeKind::Alert));
    state.apply(received(ServerMessage::error(ErrorCode::RateLimited, "too fast")));
    assert!(notice_text(&state).contains("too fast"));
}

#[test]
fn unreadable_server_frame_changes_nothing() {
    let mut state = signed_in_as_alice();
    let before = state.clone();
    assert!(state.apply(Action::ServerMessageUnreadable { detail: "Command not found: dance".to_owned() }).is_empty());
    assert_eq!(state, before);
}

// ---------------------------------------------------------------- receiving a call

#[test]
fn incoming_offer_rings_without_creating_anything() {
    let (state, call_id) = alice_ringing_from_bob();
    assert_eq!(
        state.call,
        CallPhase::Ringing { call_id, peer: "bob".to_owned(), offer: sdp("offer"), remote_candidates_waiting: vec![] }
    );
}

#[test]
fn incoming_call_is_announced_and_named_in_the_page_title() {
    let (state, _) = alice_ringing_from_bob();
    assert_eq!(state.notice, Some(Notice::status("bob is calling you.")));
    assert_eq!(state.call.page_title(), "bob is calling you · Duet");
    assert_eq!(CallPhase::Idle.page_title(), "Duet");
}

#[test]
fn accept_answers_with_the_queued_offer_and_every_early_candidate_in_order() {
    let (mut state, call_id) = alice_ringing_from_bob();
    state.apply(received(ServerMessage::Candidate { candidate: candidate(1), name: Some(name("bob")) }));
    state.apply(received(ServerMessage::Candidate { candidate: candidate(2), name: Some(name("bob")) }));
    let effects = state.apply(Action::AcceptClicked);
    assert_eq!(
        effects,
        vec![Effect::AnswerIncomingCall {
            call_id,
            ice_servers: state.ice_servers.clone(),
            offer: sdp("offer"),
            remote_candidates: vec![candidate(1), candidate(2)],
        }]
    );
    assert_eq!(state.call, CallPhase::Connecting { call_id, peer: "bob".to_owned(), we_called: false });
    let effects = state.apply(Action::LocalAnswerCreated { call_id, answer: sdp("answer") });
    assert_eq!(sent(&effects), vec![ClientMessage::Answer { name: name("bob"), answer: sdp("answer") }]);
    let effects = state.apply(Action::LocalIceCandidateGathered { call_id, candidate: candidate(3) });
    assert_eq!(sent(&effects), vec![ClientMessage::Candidate { name: name("bob"), candidate: candidate(3) }]);
}

#[test]
fn decline_sends_leave_with_reason_declined_and_creates_nothing() {
    let (mut state, _) = alice_ringing_from_bob();
    let effects = state.apply(Action::DeclineClicked);
    assert_eq!(
        effects,
        vec![Effect::Send(ClientMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Declined) })]
    );
    assert_eq!(state.call, CallPhase::Idle);
    assert!(notice_text(&state).contains("declined"));
}

#[test]
fn caller_cancelling_while_it_rings_is_reported() {
    let (mut state, _) = alice_ringing_from_bob();
    let effects =
        state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Hangup) }));
    assert!(!effects.contains(&Effect::ReleasePeerConnection), "no peer connection existed: {effects:?}");
    assert_eq!(notice_text(&state), "bob cancelled the call.");
}

#[test]
fn ringing_that_times_out_is_reported_as_missed() {
    let (mut state, _) = alice_ringing_from_bob();
    state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Timeout) }));
    assert_eq!(notice_text(&state), "You missed a call from bob.");
}

#[test]
fn accept_and_decline_do_nothing_when_nothing_rings() {
    let mut state = signed_in_as_alice();
    assert!(state.apply(Action::AcceptClicked).is_empty());
    assert!(state.apply(Action::DeclineClicked).is_empty());
    assert!(state.apply(Action::CancelCallClicked).is_empty());
    assert!(state.apply(Action::HangUpClicked).is_empty());
    assert_eq!(state.call, CallPhase::Idle);
}

#[test]
fn offer_before_sign_in_is_ignored() {
    let mut state = CallState::new();
    state.apply(received(hello()));
    assert!(state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") })).is_empty());
    assert_eq!(state.call, CallPhase::Idle);
}

#[test]
fn second_caller_while_busy_gets_busy_and_the_first_call_continues() {
    let (mut state, _) = alice_in_call_with_bob();
    let effects = state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("carol") }));
    assert_eq!(
        sent(&effects),
        vec![ClientMessage::Leave { name: Some(name("carol")), reason: Some(LeaveReason::Busy) }]
    );
    assert_eq!(state.call.peer_name(), Some("bob"));
}

#[test]
fn renegotiation_offer_from_the_peer_is_answered_inside_the_call() {
    let (mut state, call_id) = alice_in_call_with_bob();
    let effects = state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    assert_eq!(effects, vec![Effect::AnswerRenegotiationOffer { call_id, offer: sdp("offer") }]);
    let effects = state.apply(Action::LocalAnswerCreated { call_id, answer: sdp("answer") });
    assert_eq!(sent(&effects), vec![ClientMessage::Answer { name: name("bob"), answer: sdp("answer") }]);
    assert_eq!(state.call.word(), "in-call");
}

// ---------------------------------------------------------------- ending a call

#[test]
fn hang_up_sends_leave_releases_and_returns_to_idle() {
    let (mut state, _) = alice_in_call_with_bob();
    let effects = state.apply(Action::HangUpClicked);
    assert_eq!(
        effects,
        vec![
            Effect::Send(ClientMessage::Leave { name: Some(name("bob")), reason: None }),
            Effect::ReleasePeerConnection,
            Effect::Send(ClientMessage::Users),
        ]
    );
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(state.peer_connection_state, None);
    assert_eq!(state.notice.as_ref().map(|notice| notice.kind), Some(NoticeKind::Status));
}

#[test]
fn hang_up_while_still_connecting_also_ends_the_call() {
    let (mut state, _) = alice_calling_bob();
    state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: None }));
    let effects = state.apply(Action::HangUpClicked);
    assert!(effects.contains(&Effect::ReleasePeerConnection));
    assert_eq!(state.call, CallPhase::Idle);
}

#[test]
fn peer_hanging_up_ends_the_call_with_a_message() {
    let (mut state, _) = alice_in_call_with_bob();
    let effects =
        state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Hangup) }));
    assert_eq!(effects[0], Effect::ReleasePeerConnection);
    assert_eq!(notice_text(&state), "bob hung up. The call ended.");
}

#[test]
fn classic_leave_without_name_or_reason_ends_the_call() {
    let (mut state, _) = alice_in_call_with_bob();
    state.apply(received(ServerMessage::Leave { name: None, reason: None }));
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(notice_text(&state), "bob hung up. The call ended.");
}

#[test]
fn peer_dropping_ends_the_call_with_disconnected_message() {
    let (mut state, _) = alice_in_call_with_bob();
    state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Disconnected) }));
    assert_eq!(notice_text(&state), "bob lost their connection. The call ended.");
}

#[test]
fn unknown_leave_reason_still_ends_the_call() {
    let (mut state, _) = alice_in_call_with_bob();
    state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Other) }));
    assert_eq!(state.call, CallPhase::Idle);
}

#[test]
fn leave_from_someone_else_does_not_end_our_call() {
    let (mut state, _) = alice_in_call_with_bob();
    assert!(state.apply(received(ServerMessage::Leave { name: Some(name("carol")), reason: None })).is_empty());
    assert_eq!(state.call.word(), "in-call");
}

#[test]
fn leave_while_idle_is_ignored() {
    let mut state = signed_in_as_alice();
    assert!(state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: None })).is_empty());
    assert_eq!(state.notice, None);
}

#[test]
fn failed_peer_connection_hangs_up_and_alerts() {
    let (mut state, call_id) = alice_in_call_with_bob();
    let effects = state.apply(Action::PeerConnectionStateChanged { call_id, state: "failed".to_owned() });
    assert_eq!(
        effects,
        vec![
            Effect::Send(ClientMessage::Leave { name: Some(name("bob")), reason: None }),
            Effect::ReleasePeerConnection
        ]
    );
    assert_eq!(state.notice.as_ref().map(|notice| notice.kind), Some(NoticeKind::Alert));
}

#[test]
fn webrtc_operation_failure_hangs_up_and_alerts_with_the_detail() {
    let (mut state, call_id) = alice_calling_bob();
    let effects = state.apply(Action::PeerConnectionFailed { call_id, detail: "createOffer failed".to_owned() });
    assert!(effects.contains(&Effect::ReleasePeerConnection));
    assert!(notice_text(&state).contains("createOffer failed"));
}

#[test]
fn a_second_and_third_call_get_fresh_ids_and_work_the_same() {
    let (mut state, first) = alice_in_call_with_bob();
    state.apply(Action::HangUpClicked);
    for expected_call_id in [first + 1, first + 2] {
        let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
        assert!(
            matches!(effects.as_slice(), [Effect::StartOutgoingCall { call_id, .. }] if *call_id == expected_call_id)
        );
        state.apply(Action::LocalOfferCreated { call_id: expected_call_id, offer: sdp("offer") });
        state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
        state.apply(Action::PeerConnectionStateChanged { call_id: expected_call_id, state: "connected".to_owned() });
        assert_eq!(state.call.word(), "in-call");
        assert_eq!(state.apply(Action::HangUpClicked)[1], Effect::ReleasePeerConnection);
    }
}

#[test]
fn dismissing_a_notice_clears_it() {
    let (mut state, _) = alice_calling_bob();
    state.apply(Action::CancelCallClicked);
    assert!(state.notice.is_some());
    state.apply(Action::DismissNoticeClicked);
    assert_eq!(state.notice, None);
}

#[test]
fn sdp_bodies_never_appear_in_debug_output_of_effects() {
    let effect = Effect::ApplyRemoteAnswer { call_id: 1, answer: sdp("answer"), remote_candidates: vec![candidate(1)] };
    let debug = format!("{effect:?}");
    assert!(!debug.contains("v=0"), "{debug}");
    assert!(!debug.contains("127.0.0.1"), "{debug}");
}

#[test]
fn login_with_turn_credentials_replaces_the_hello_ice_servers() {
    let mut state = CallState::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    let turn = IceServer {
        urls: vec!["turn:127.0.0.1:3478".to_owned()],
        username: Some("1700000000:alice".to_owned()),
        credential: Some("c2VjcmV0".to_owned()),
    };
    state.apply(received(ServerMessage::Login {
        success: true,
        name: Some(name("alice")),
        resume: None,
        ice_servers: Some(vec![turn.clone()]),
        reason: None,
        message: None,
    }));
    assert_eq!(state.ice_servers, vec![turn]);
}

// ---------------------------------------------------------------- glare

#[test]
fn glare_offer_from_the_peer_we_are_calling_rings_instead_of_answering_busy() {
    // Alice called bob and bob called alice at once; the server took bob's offer.
    let (mut state, our_call_id) = alice_calling_bob();
    state.apply(received(ServerMessage::Candidate { candidate: candidate(1), name: Some(name("bob")) }));
    let effects = state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    assert_eq!(effects, vec![Effect::ReleasePeerConnection], "no busy leave: {effects:?}");
    let CallPhase::Ringing { call_id, peer, offer, remote_candidates_waiting } = state.call.clone() else {
        panic!("rings like a normal incoming call: {:?}", state.call)
    };
    assert_ne!(call_id, our_call_id);
    assert_eq!(peer, "bob");
    assert_eq!(offer, sdp("offer"));
    assert_eq!(remote_candidates_waiting, vec![candidate(1)]);
    assert_eq!(state.peer_connection_state, None);
    assert_eq!(notice_text(&state), "bob is calling you.");
}

#[test]
fn glare_refusal_of_our_own_offer_does_not_disturb_the_ringing_call() {
    let (mut state, _) = alice_calling_bob();
    state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    let before = state.clone();
    let effects = state.apply(received(ServerMessage::Error {
        message: "You are already in a call; hang up first".to_owned(),
        code: Some(ErrorCode::AlreadyInCall),
    }));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(state.call, before.call);
    assert_eq!(state.notice, before.notice, "no 'Could not call' notice");
    // Accept still works and answers bob's offer.
    let effects = state.apply(Action::AcceptClicked);
    assert!(matches!(effects.as_slice(), [Effect::AnswerIncomingCall { .. }]), "{effects:?}");
    assert_eq!(state.call.word(), "connecting");
}

#[test]
fn glare_before_our_offer_went_out_drops_the_late_offer_and_expects_no_refusal() {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    let Some(Effect::StartOutgoingCall { call_id, .. }) = effects.first().cloned() else { panic!("{effects:?}") };
    state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    assert_eq!(state.call.word(), "ringing");
    let effects = state.apply(Action::LocalOfferCreated { call_id, offer: sdp("offer") });
    assert!(sent(&effects).is_empty(), "our offer of the dropped call is not sent: {effects:?}");
    assert_eq!(state.call.word(), "ringing");
}

#[test]
fn glare_on_the_winning_side_the_call_proceeds_normally() {
    // Alice's offer won: the server refuses bob's offer on bob's side, alice sees nothing odd,
    // maybe candidates of bob's abandoned attempt, then bob's answer after he accepts.
    let (mut state, call_id) = alice_calling_bob();
    let effects = state.apply(received(ServerMessage::Candidate { candidate: candidate(7), name: Some(name("bob")) }));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(state.call.word(), "calling");
    assert_eq!(state.notice, None);
    let effects = state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    assert!(
        matches!(effects.as_slice(), [Effect::ApplyRemoteAnswer { call_id: id, .. }] if *id == call_id),
        "{effects:?}"
    );
    assert_eq!(state.call.word(), "connecting");
}

#[test]
fn already_in_call_outside_glare_still_ends_the_call_attempt() {
    let (mut state, _) = alice_calling_bob();
    let effects = state.apply(received(ServerMessage::Error {
        message: "You are already in a call".to_owned(),
        code: Some(ErrorCode::AlreadyInCall),
    }));
    assert!(effects.contains(&Effect::ReleasePeerConnection), "{effects:?}");
    assert_eq!(state.call, CallPhase::Idle);
    assert!(notice_text(&state).contains("You are already in a call"), "{}", notice_text(&state));
}

// ---------------------------------------------------------------- media not ready yet

/// Signed in as alice while the browser still asks for camera and microphone.
fn signed_in_as_alice_media_pending() -> CallState {
    let mut state = CallState::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(login_success("alice", "token-1")));
    assert_eq!(state.local_media, LocalMedia::Requesting);
    state
}

#[test]
fn calling_while_the_media_prompt_is_open_waits_instead_of_calling_without_tracks() {
    let mut state = signed_in_as_alice_media_pending();
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    assert!(effects.is_empty(), "no peer connection without our tracks: {effects:?}");
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(notice_text(&state), WAITING_FOR_LOCAL_MEDIA);
    // Once the prompt is answered, calling works.
    state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    assert!(matches!(effects.as_slice(), [Effect::StartOutgoingCall { .. }]), "{effects:?}");
    assert_eq!(state.call.word(), "calling");
}

#[test]
fn accepting_while_the_media_prompt_is_open_keeps_ringing_and_can_accept_later() {
    let mut state = signed_in_as_alice_media_pending();
    state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    let ringing = state.call.clone();
    assert_eq!(ringing.word(), "ringing");
    let effects = state.apply(Action::AcceptClicked);
    assert!(effects.is_empty(), "no peer connection without our tracks: {effects:?}");
    assert_eq!(state.call, ringing, "still ringing");
    assert_eq!(state.notice, Some(Notice::alert(WAITING_FOR_LOCAL_MEDIA)));
    // Media denied is fine too: it is settled, and Accept now answers (receive-only).
    state.apply(Action::LocalMediaSettled { has_audio: false, has_video: false, problem: Some("blocked".to_owned()) });
    let effects = state.apply(Action::AcceptClicked);
    assert!(matches!(effects.as_slice(), [Effect::AnswerIncomingCall { .. }]), "{effects:?}");
    assert_eq!(state.call.word(), "connecting");
}

// ---------------------------------------------------------------- refused offers

fn server_error(code: Option<ErrorCode>, message: &str) -> Action {
    received(ServerMessage::Error { message: message.to_owned(), code })
}

#[test]
fn any_refusal_of_our_unanswered_offer_ends_the_call_with_the_servers_message() {
    for code in [Some(ErrorCode::RateLimited), Some(ErrorCode::InvalidMessage), Some(ErrorCode::AlreadyInCall), None] {
        let (mut state, _) = alice_calling_bob();
        let effects = state.apply(server_error(code, "Refused for a reason"));
        assert!(effects.contains(&Effect::ReleasePeerConnection), "{code:?}: {effects:?}");
        assert_eq!(state.call, CallPhase::Idle, "{code:?}");
        assert_eq!(state.peer_connection_state, None);
        assert_eq!(state.notice, Some(Notice::alert("Could not call bob: Refused for a reason")), "{code:?}");
    }
}

#[test]
fn refusal_without_a_message_still_ends_the_call_and_says_so() {
    let (mut state, _) = alice_calling_bob();
    state.apply(server_error(Some(ErrorCode::RateLimited), ""));
    assert_eq!(state.call, CallPhase::Idle);
    assert!(notice_text(&state).starts_with("Could not call bob:"), "{}", notice_text(&state));
}

#[test]
fn late_not_in_call_error_does_not_end_a_call_attempt() {
    let (mut state, _) = alice_calling_bob();
    let effects = state.apply(server_error(Some(ErrorCode::NotInCall), "You are not in a call with carol"));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(state.call.word(), "calling");
}

#[test]
fn refusal_during_a_connected_call_does_not_end_it() {
    let (mut state, _) = alice_in_call_with_bob();
    let effects = state.apply(server_error(Some(ErrorCode::RateLimited), "Too many messages"));
    assert!(!effects.contains(&Effect::ReleasePeerConnection), "{effects:?}");
    assert_eq!(state.call.word(), "in-call");
}

#[test]
fn calling_a_name_the_server_would_refuse_explains_instead_of_sending() {
    let mut state = signed_in_as_alice();
    for typed in ["bob\tby", &"b".repeat(65)] {
        let effects = state.apply(Action::CallRequested { typed_name: typed.to_owned() });
        assert!(effects.is_empty(), "{effects:?}");
        assert_eq!(state.call, CallPhase::Idle);
        assert!(notice_text(&state).starts_with("Cannot call that name: A name"), "{}", notice_text(&state));
    }
    let effects = state.apply(Action::CallRequested { typed_name: format!(" {} ", "b".repeat(64)) });
    assert!(matches!(effects.as_slice(), [Effect::StartOutgoingCall { .. }]), "{effects:?}");
    assert_eq!(state.call.peer_name(), Some("b".repeat(64).as_str()));
}

#[test]
fn glare_refusal_arriving_after_the_ringing_call_was_declined_shows_nothing() {
    let (mut state, _) = alice_calling_bob();
    state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    state.apply(Action::DeclineClicked);
    let notice = state.notice.clone();
    let effects = state.apply(server_error(Some(ErrorCode::AlreadyInCall), "You are already in a call"));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(state.notice, notice);
    // The mark is used up: the refusal of a later, real offer ends that call.
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    let Some(Effect::StartOutgoingCall { call_id, .. }) = effects.first().cloned() else { panic!("{effects:?}") };
    state.apply(Action::LocalOfferCreated { call_id, offer: sdp("offer") });
    state.apply(server_error(Some(ErrorCode::AlreadyInCall), "You are already in a call"));
    assert_eq!(state.call, CallPhase::Idle);
}
