//! Tests of a call that outlives its signaling connection: kept through a lost WebSocket,
//! signed back in with the token and `inCallWith`, resumed on `call_resumed`, or ended
//! ("Connection lost") on `resume_refused`, `leave` `disconnected` or the grace period; the
//! token and ICE servers refreshed by `credentials`; a hang-up while the server is away.

use super::fixtures::*;

/// Alice in a call with bob on a server that resumes calls, and the socket just closed.
fn alice_in_call_server_away() -> (AppModel, CallAttempt) {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    state.apply(received(resuming_hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(login_success("alice", "token-1")));
    state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    let Some(Effect::StartOutgoingCall { call_attempt, .. }) = effects.first().cloned() else { panic!("{effects:?}") };
    state.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(1) });
    state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    state.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Connected });
    let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
    assert_eq!(effects, vec![Effect::ScheduleReconnect { delay_millis: 500 }], "the call is kept");
    (state, call_attempt)
}

/// ... and signed back in, waiting for bob.
fn alice_signed_back_in_awaiting_bob() -> (AppModel, CallAttempt) {
    let (mut state, call_attempt) = alice_in_call_server_away();
    state.apply(Action::ReconnectDue);
    state.apply(received(resuming_hello()));
    let effects = state.apply(received(login_success("alice", "token-2")));
    assert!(effects.contains(&Effect::ScheduleResumeDeadline { delay_millis: 20_000 }), "{effects:?}");
    assert_eq!(state.call_resume, Some(CallResume::AwaitingPeer));
    (state, call_attempt)
}

#[test]
fn every_login_asks_the_server_to_keep_calls() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    let effects = state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    let sent = sent(&effects);
    let [ClientMessage::Login { keep_call_on_disconnect, in_call_with, .. }] = sent.as_slice() else {
        panic!("{effects:?}")
    };
    assert!(*keep_call_on_disconnect);
    assert_eq!(*in_call_with, None);
}

#[test]
fn a_lost_connection_keeps_the_call_and_says_reconnecting_to_the_server() {
    let (state, call_attempt) = alice_in_call_server_away();
    assert_eq!(state.call.word(), "in-call");
    assert_eq!(state.call.call_attempt(), Some(call_attempt));
    assert_eq!(state.call_resume, Some(CallResume::ServerAway));
    assert_eq!(state.server_reconnecting_notice(), Some(RECONNECTING_TO_THE_SERVER));
    assert!(!state.shows_media_reconnecting(), "the media is fine: nothing over the video");
}

#[test]
fn reconnect_delays_during_a_call_stay_at_most_five_seconds() {
    let (mut state, _) = alice_in_call_server_away();
    let mut delays = vec![500];
    for _ in 0..6 {
        state.apply(Action::ReconnectDue);
        let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
        let [Effect::ScheduleReconnect { delay_millis }] = effects.as_slice() else { panic!("{effects:?}") };
        delays.push(*delay_millis);
    }
    assert_eq!(delays, vec![500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
    assert_eq!(state.call.word(), "in-call");
}

#[test]
fn signing_back_in_names_the_peer_and_call_resumed_restores_everything() {
    let (mut state, _) = alice_in_call_server_away();
    state.apply(Action::ReconnectDue);
    let effects = state.apply(received(resuming_hello()));
    assert_eq!(
        sent(&effects),
        vec![app_login(name("alice"), Some(ResumeToken::from_wire("token-1")), Some(name("bob")))]
    );
    let (mut state, call_attempt) = alice_signed_back_in_awaiting_bob();
    assert_eq!(state.server_reconnecting_notice(), Some(RECONNECTING_TO_THE_SERVER));
    state.apply(received(ServerMessage::CallResumed { name: name("bob") }));
    assert_eq!(state.call_resume, None);
    assert_eq!(state.server_reconnecting_notice(), None);
    assert_eq!(notice_text(&state), "Connection to the server restored.");
    assert!(state.apply(Action::ResumeDeadlinePassed).is_empty(), "the deadline is moot");
    // Hang-up and ICE restart work as before.
    assert_eq!(state.apply(Action::RestartConnectionClicked), vec![Effect::RestartIce { call_attempt }]);
    let effects = state.apply(Action::HangUpClicked);
    assert_eq!(sent(&effects)[0], ClientMessage::Leave { name: Some(name("bob")), reason: None });
}

#[test]
fn no_call_resumed_within_the_grace_period_ends_the_call_with_connection_lost() {
    let (mut state, _) = alice_signed_back_in_awaiting_bob();
    let effects = state.apply(Action::ResumeDeadlinePassed);
    assert!(effects.contains(&Effect::ReleasePeerConnection), "{effects:?}");
    assert_eq!(state.call, CallPhase::Idle);
    assert!(notice_text(&state).starts_with("Connection lost"), "{}", notice_text(&state));
}

#[test]
fn leave_disconnected_while_resuming_ends_the_call_with_connection_lost() {
    let (mut state, _) = alice_signed_back_in_awaiting_bob();
    let effects = state
        .apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Disconnected) }));
    assert!(effects.contains(&Effect::ReleasePeerConnection), "{effects:?}");
    assert!(notice_text(&state).starts_with("Connection lost"), "{}", notice_text(&state));
    assert_eq!(state.call_resume, None);
}

#[test]
fn resume_refused_ends_the_call_and_signs_in_again_without_the_token() {
    let (mut state, _) = alice_in_call_server_away();
    state.apply(Action::ReconnectDue);
    state.apply(received(resuming_hello()));
    let effects = state.apply(received(ServerMessage::Login {
        success: false,
        name: None,
        resume: None,
        ice_servers: None,
        reason: Some(LoginFailure::ResumeRefused),
        message: Some("expired".to_owned()),
    }));
    assert!(effects.contains(&Effect::ReleasePeerConnection), "{effects:?}");
    assert_eq!(sent(&effects), vec![app_login(name("alice"), None, None)]);
    assert!(notice_text(&state).starts_with("Connection lost"), "{}", notice_text(&state));
    state.apply(received(login_success("alice", "token-3")));
    assert_eq!(state.signed_in_name(), Some(&name("alice")));
}

#[test]
fn a_server_that_does_not_resume_calls_ends_the_call_on_sign_back_in() {
    let (mut state, _) = alice_in_call_server_away();
    state.apply(Action::ReconnectDue);
    let effects = state.apply(received(hello()));
    assert!(effects.contains(&Effect::ReleasePeerConnection), "{effects:?}");
    assert_eq!(sent(&effects), vec![app_login(name("alice"), Some(ResumeToken::from_wire("token-1")), None)]);
    assert!(notice_text(&state).starts_with("Connection lost"), "{}", notice_text(&state));
}

#[test]
fn replaced_by_another_login_still_ends_the_call() {
    let (mut state, _) = alice_in_call_with_bob();
    let effects = state.apply(Action::SignalingClosed { close_code: protocol::close_codes::REPLACED_BY_NEW_LOGIN });
    assert!(effects.contains(&Effect::ReleasePeerConnection), "{effects:?}");
    assert_eq!(state.call, CallPhase::Idle);
}

#[test]
fn an_ice_restart_while_the_server_is_away_is_made_once_the_call_is_resumed() {
    let (mut state, call_attempt) = alice_in_call_server_away();
    let effects = state.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Failed });
    assert!(!effects.contains(&Effect::RestartIce { call_attempt }), "no server to carry it: {effects:?}");
    assert!(state.shows_media_reconnecting());
    assert!(state.recovery.offer_unsent);
    state.apply(Action::ReconnectDue);
    state.apply(received(resuming_hello()));
    state.apply(received(login_success("alice", "token-2")));
    let effects = state.apply(received(ServerMessage::CallResumed { name: name("bob") }));
    assert_eq!(effects, vec![Effect::RestartIce { call_attempt }]);
    // An offer the glue made while the server was away is not sent into the void.
    let (mut away, call_attempt) = alice_in_call_server_away();
    let effects = away.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(1) });
    assert!(sent(&effects).is_empty(), "{effects:?}");
    assert!(away.recovery.offer_unsent);
}

#[test]
fn credentials_keep_the_token_and_give_the_running_call_the_new_ice_servers() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    let turn = vec![IceServer {
        urls: vec!["turn:turn.example:3478".to_owned()],
        username: Some("1700000000:alice".to_owned()),
        credential: Some("secret".to_owned()),
    }];
    let effects = state.apply(received(ServerMessage::Credentials {
        resume: ResumeToken::from_wire("token-9"),
        ice_servers: Some(turn.clone()),
    }));
    assert_eq!(effects, vec![Effect::UpdateIceServers { call_attempt, ice_servers: turn.clone() }]);
    assert_eq!(state.ice_servers, turn, "kept for the next call");
    assert_eq!(
        state.sign_in,
        SignIn::SignedIn { name: name("alice"), resume: Some(ResumeToken::from_wire("token-9")) }
    );
    // Without a call, or without ICE servers: only kept.
    let mut idle = signed_in_as_alice();
    let effects = idle.apply(received(ServerMessage::Credentials {
        resume: ResumeToken::from_wire("token-10"),
        ice_servers: Some(turn.clone()),
    }));
    assert!(effects.is_empty(), "{effects:?}");
    let effects =
        idle.apply(received(ServerMessage::Credentials { resume: ResumeToken::from_wire("t"), ice_servers: None }));
    assert!(effects.is_empty());
    assert_eq!(idle.ice_servers, turn);
}

#[test]
fn the_latest_token_is_the_one_the_resume_login_sends() {
    let (mut state, _) = alice_in_call_server_away();
    state.apply(Action::ReconnectDue);
    state.apply(received(resuming_hello()));
    state.apply(received(login_success("alice", "token-2")));
    state.apply(received(ServerMessage::Credentials { resume: ResumeToken::from_wire("token-7"), ice_servers: None }));
    state.apply(Action::SignalingClosed { close_code: 1006 });
    state.apply(Action::ReconnectDue);
    let effects = state.apply(received(resuming_hello()));
    let sent = sent(&effects);
    let [ClientMessage::Login { resume, .. }] = sent.as_slice() else { panic!("{effects:?}") };
    assert_eq!(*resume, Some(ResumeToken::from_wire("token-7")));
}

#[test]
fn hanging_up_while_the_server_is_away_tells_the_peer_directly_and_the_server_later() {
    let (mut state, call_attempt) = alice_in_call_server_away();
    state.apply(Action::DataChannelOpened { call_attempt });
    let effects = state.apply(Action::HangUpClicked);
    assert_eq!(
        effects,
        vec![Effect::SendPeerMessage(crate::peer_message::PeerMessage::HangUp {}), Effect::ReleasePeerConnection]
    );
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(state.call_resume, None);
    state.apply(Action::ReconnectDue);
    let effects = state.apply(received(resuming_hello()));
    assert_eq!(
        sent(&effects),
        vec![app_login(name("alice"), Some(ResumeToken::from_wire("token-1")), None)],
        "no inCallWith: the call is over"
    );
    let effects = state.apply(received(login_success("alice", "token-2")));
    assert!(
        sent(&effects).contains(&ClientMessage::Leave { name: Some(name("bob")), reason: None }),
        "the owed leave: {effects:?}"
    );
}

#[test]
fn the_peers_hang_up_on_the_data_channel_ends_the_call_at_once() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    let effects = state.apply(Action::PeerMessageReceived {
        call_attempt,
        text: r#"{"v":1,"type":"hang_up"}"#.to_owned(),
        at_millis: 0,
    });
    assert_eq!(state.call, CallPhase::Idle);
    assert!(effects.contains(&Effect::ReleasePeerConnection), "{effects:?}");
    assert!(
        sent(&effects).contains(&ClientMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Hangup) }),
        "the server's pairing is ended too: {effects:?}"
    );
    assert_eq!(notice_text(&state), "bob hung up. The call ended.");
}

#[test]
fn closing_the_page_tells_the_peer_on_the_data_channel_and_the_server() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(Action::DataChannelOpened { call_attempt });
    let effects = state.apply(Action::PageClosing);
    assert_eq!(
        effects,
        vec![
            Effect::SendPeerMessage(crate::peer_message::PeerMessage::HangUp {}),
            Effect::Send(ClientMessage::Leave { name: Some(name("bob")), reason: None }),
            Effect::ReleasePeerConnection,
        ]
    );
    let mut idle = signed_in_as_alice();
    assert!(idle.apply(Action::PageClosing).is_empty());
}

#[test]
fn a_server_without_resume_calls_ends_the_call_when_the_connection_drops_as_before() {
    // Its `hello` did not offer to hold calls: it tells the peer `disconnected` at once.
    let (mut state, _) = alice_in_call_with_bob();
    let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
    assert_eq!(effects[0], Effect::ReleasePeerConnection);
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(state.call_resume, None);
}
