//! Tests of the server's refusals and errors, during a call attempt and outside one.

use super::fixtures::*;

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
    assert!(state
        .apply(Action::ServerMessageUnreadable { error: ParseError::UnknownType("dance".to_owned()) })
        .is_empty());
    assert_eq!(state, before);
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
