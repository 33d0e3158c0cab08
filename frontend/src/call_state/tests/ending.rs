//! Tests of ending a call: hanging up, the peer leaving, failures of the peer connection.

use super::fixtures::*;

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
fn failed_peer_connection_of_a_call_that_never_connected_hangs_up_and_alerts() {
    let (mut state, call_attempt) = alice_connecting_to_bob();
    let effects = state.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Failed });
    assert_eq!(
        effects,
        vec![
            Effect::Send(ClientMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Failed) }),
            Effect::ReleasePeerConnection
        ]
    );
    assert_eq!(state.notice.as_ref().map(|notice| notice.kind), Some(NoticeKind::Alert));
}

/// Issue 14: Firefox gave up first (ICE failed) and left; Chromium then told its user "bob hung
/// up". The side that fails sends `failed` (relayed as is) and the other side says so.
#[test]
fn ice_failure_on_one_side_was_shown_as_hung_up_on_the_other() {
    let (mut failing_side, call_attempt) = alice_connecting_to_bob();
    let effects =
        failing_side.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Failed });
    assert!(notice_text(&failing_side).contains("no network path"), "{}", notice_text(&failing_side));
    let sent = sent(&effects);
    let [ClientMessage::Leave { reason, .. }] = sent.as_slice() else { panic!("one leave, got {effects:?}") };
    let reason = *reason;
    assert_eq!(reason, Some(LeaveReason::Failed));

    // The server relays `failed` as is; the other side reads it.
    let (mut other_side, _) = alice_in_call_with_bob();
    other_side.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason }));
    assert_eq!(other_side.call, CallPhase::Idle);
    let told = notice_text(&other_side);
    assert!(!told.contains("hung up"), "{told}");
    assert!(told.contains("The connection to bob failed") && told.contains("no network path"), "{told}");
}

#[test]
fn a_failed_webrtc_step_is_sent_as_failed_too() {
    let (mut state, call_attempt) = alice_calling_bob();
    let effects =
        state.apply(Action::PeerConnectionFailed { call_attempt, error: browser_failure("createOffer failed") });
    assert_eq!(
        sent(&effects),
        vec![ClientMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Failed) }]
    );
}

#[test]
fn webrtc_operation_failure_hangs_up_and_alerts_with_the_detail() {
    let (mut state, call_attempt) = alice_calling_bob();
    let effects =
        state.apply(Action::PeerConnectionFailed { call_attempt, error: browser_failure("createOffer failed") });
    assert!(effects.contains(&Effect::ReleasePeerConnection));
    assert!(notice_text(&state).contains("createOffer failed"));
}

#[test]
fn a_second_and_third_call_get_fresh_ids_and_work_the_same() {
    let (mut state, first) = alice_in_call_with_bob();
    state.apply(Action::HangUpClicked);
    for expected_attempt in [first.next(), first.next().next()] {
        let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
        assert!(
            matches!(effects.as_slice(), [Effect::StartOutgoingCall { call_attempt, .. }] if *call_attempt == expected_attempt)
        );
        state.apply(Action::LocalOfferCreated { call_attempt: expected_attempt, offer: sdp("offer"), nonce: nonce(1) });
        state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
        state.apply(Action::PeerConnectionStateChanged {
            call_attempt: expected_attempt,
            state: PeerConnectionState::Connected,
        });
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
    let effect = Effect::ApplyRemoteAnswer {
        call_attempt: CallAttempt::FIRST,
        answer: sdp("answer"),
        remote_candidates: vec![candidate(1)],
    };
    let debug = format!("{effect:?}");
    assert!(!debug.contains("v=0"), "{debug}");
    assert!(!debug.contains("127.0.0.1"), "{debug}");
}
