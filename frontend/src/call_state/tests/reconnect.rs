//! Tests of losing the signaling connection: backoff, signing back in, replaced and dormant connections.

use super::fixtures::*;

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
        state.sign_in,
        SignIn::SigningBackIn { name: name("alice"), resume: Some(ResumeToken::from_wire("token-1")) }
    );
    assert!(state.shows_call_screen(), "the call screen stays while signing back in");
    state.apply(Action::ReconnectDue);
    let effects = state.apply(received(hello()));
    assert_eq!(
        sent(&effects),
        vec![ClientMessage::Login {
            name: name("alice"),
            resume: Some(ResumeToken::from_wire("token-1")),
            in_call_with: None,
            keep_call_on_disconnect: true,
        }]
    );
    state.apply(received(login_success("alice", "token-2")));
    assert_eq!(
        state.sign_in,
        SignIn::SignedIn { name: name("alice"), resume: Some(ResumeToken::from_wire("token-2")) }
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
    assert_eq!(state.sign_in, SignIn::SignedOut { pending_name: None, error: Some("taken".to_owned()) });
    assert!(!state.shows_call_screen());
}

#[test]
fn lost_connection_during_a_call_that_never_connected_ends_it_and_releases_the_peer_connection() {
    let (mut state, _) = alice_connecting_to_bob();
    let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
    assert_eq!(effects[0], Effect::ReleasePeerConnection);
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(state.peer_connection_state, None);
    assert!(notice_text(&state).contains("connection to the server was lost"), "{}", notice_text(&state));
}

#[test]
fn lost_connection_while_ringing_forgets_the_call_and_releases_its_prepared_peer_connection() {
    let (mut state, _) = alice_ringing_from_bob();
    let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
    assert!(effects.contains(&Effect::ReleasePeerConnection), "{effects:?}");
    assert_eq!(state.call, CallPhase::Idle);
}

#[test]
fn replaced_by_another_login_stops_reconnecting_and_explains() {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::SignalingClosed { close_code: protocol::close_codes::REPLACED_BY_NEW_LOGIN });
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(state.connection, SignalingConnection::ReplacedByAnotherLogin);
    assert!(matches!(&state.sign_in, SignIn::SignedOut { error: Some(error), .. } if error.contains("somewhere else")));
    assert!(state.apply(Action::ReconnectDue).is_empty());
    let effects = state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    assert_eq!(effects, vec![Effect::OpenSignalingConnection], "signing in again reconnects first");
}

#[test]
fn server_closing_an_idle_signed_out_connection_goes_dormant_without_retrying() {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    // The server closes connections that do not sign in within its login deadline (1008).
    assert!(state.apply(Action::SignalingClosed { close_code: 1008 }).is_empty());
    assert_eq!(state.connection, SignalingConnection::Dormant);
    assert!(state.apply(Action::ReconnectDue).is_empty());
}

#[test]
fn sign_in_while_dormant_reopens_the_connection_and_logs_in_after_hello() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    state.apply(Action::SignalingClosed { close_code: 1008 });
    let effects = state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    assert_eq!(effects, vec![Effect::OpenSignalingConnection]);
    assert_eq!(state.connection, SignalingConnection::Connecting);
    let effects = state.apply(received(hello()));
    assert_eq!(sent(&effects), vec![app_login(name("alice"), None, None)]);
}

#[test]
fn unreachable_server_before_sign_in_is_retried_and_shown() {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
    assert_eq!(effects, vec![Effect::ScheduleReconnect { delay_millis: 500 }]);
    assert!(matches!(state.connection, SignalingConnection::Reconnecting { attempt: 1, .. }));
}

#[test]
fn connection_lost_while_a_sign_in_is_pending_is_retried_and_the_login_resent() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    let effects = state.apply(Action::SignalingClosed { close_code: 1006 });
    assert_eq!(effects, vec![Effect::ScheduleReconnect { delay_millis: 500 }]);
    state.apply(Action::ReconnectDue);
    let effects = state.apply(received(hello()));
    assert_eq!(sent(&effects), vec![app_login(name("alice"), None, None)]);
}

#[test]
fn stale_reconnect_timer_is_ignored_once_connected() {
    let mut state = signed_in_as_alice();
    assert!(state.apply(Action::ReconnectDue).is_empty());
}

#[test]
fn reconnecting_words_show_the_delay_in_seconds_with_one_decimal_as_f64_formatting_did() {
    for (attempt, millis) in [(1, 500), (2, 1_000), (5, 8_000), (6, 10_000), (3, 1_550), (4, 12_340)] {
        let expected = format!(
            "Not connected to the server. Retrying in {:.1} s (attempt {attempt})…",
            f64::from(millis) / 1000.0
        );
        assert_eq!(SignalingConnection::reconnecting_words(attempt, millis), expected);
    }
}
