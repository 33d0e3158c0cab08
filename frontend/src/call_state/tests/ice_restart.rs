//! Tests of ICE restart: a connected call whose network path is lost is restarted with backoff
//! (after 3 s of `disconnected`, or at once on `failed`) while "Reconnecting…" shows on the
//! remote video, comes back by itself, and ends ("Connection lost") only after two minutes.

use super::fixtures::*;

fn peer_state(call_attempt: CallAttempt, state: PeerConnectionState) -> Action {
    Action::PeerConnectionStateChanged { call_attempt, state }
}

#[test]
fn the_restart_backoff_is_1_2_4_8_then_every_10_seconds() {
    let delays: Vec<u32> = (1..=7).map(ice_restart_delay_millis).collect();
    assert_eq!(delays, vec![1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
    assert_eq!(ice_restart_delay_millis(u32::MAX), 10_000);
}

#[test]
fn failed_in_a_connected_call_restarts_ice_at_once_and_shows_reconnecting() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    let effects = state.apply(peer_state(call_attempt, PeerConnectionState::Failed));
    assert_eq!(
        effects,
        vec![Effect::RestartIce { call_attempt }, Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: 1_000 }]
    );
    assert_eq!(state.call.word(), "in-call", "the call is not ended");
    assert!(state.shows_media_reconnecting());
    assert_eq!(state.recovery.restarting, Some(IceRestarts { restarts: 1, elapsed_millis: 0 }));
}

#[test]
fn disconnected_for_three_seconds_restarts_ice_but_a_quick_recovery_does_not() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(peer_state(call_attempt, PeerConnectionState::Disconnected));
    assert!(state.shows_media_reconnecting(), "the overlay shows while disconnected");
    state.apply(peer_state(call_attempt, PeerConnectionState::Connected));
    assert!(!state.shows_media_reconnecting());
    assert!(state.apply(Action::RecoveryCheckDue { call_attempt }).is_empty(), "recovered within the grace");

    state.apply(peer_state(call_attempt, PeerConnectionState::Disconnected));
    let effects = state.apply(Action::RecoveryCheckDue { call_attempt });
    assert_eq!(
        effects,
        vec![Effect::RestartIce { call_attempt }, Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: 1_000 }]
    );
}

#[test]
fn restarts_go_on_with_backoff_and_end_the_call_with_connection_lost_after_two_minutes() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(peer_state(call_attempt, PeerConnectionState::Failed));
    let mut waited = 1_000;
    let mut restarts = 1;
    let mut schedule = vec![1_000];
    loop {
        let effects = state.apply(Action::RecoveryCheckDue { call_attempt });
        if state.call == CallPhase::Idle {
            assert!(waited >= ICE_RESTART_GIVE_UP_MILLIS, "ended after {waited} ms");
            assert!(effects.contains(&Effect::ReleasePeerConnection), "{effects:?}");
            assert_eq!(
                sent(&effects)[0],
                ClientMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Failed) }
            );
            break;
        }
        assert!(effects.contains(&Effect::RestartIce { call_attempt }), "{effects:?}");
        let Some(Effect::ScheduleRecoveryCheck { delay_millis, .. }) = effects.last().cloned() else {
            panic!("{effects:?}")
        };
        restarts += 1;
        waited += delay_millis;
        schedule.push(delay_millis);
        assert!(state.shows_media_reconnecting());
        assert!(restarts < 100, "never gave up");
    }
    assert_eq!(schedule[..6], [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    assert!(notice_text(&state).contains("Connection lost"), "{}", notice_text(&state));
    assert!(!state.shows_media_reconnecting());
}

#[test]
fn connected_again_removes_the_overlay_and_resets_the_backoff() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(peer_state(call_attempt, PeerConnectionState::Failed));
    state.apply(Action::RecoveryCheckDue { call_attempt });
    state.apply(peer_state(call_attempt, PeerConnectionState::Connecting));
    state.apply(peer_state(call_attempt, PeerConnectionState::Connected));
    assert_eq!(state.recovery.restarting, None);
    assert!(!state.shows_media_reconnecting());
    assert!(state.apply(Action::RecoveryCheckDue { call_attempt }).is_empty(), "a late timer does nothing");
    // The next loss starts from the first delay again.
    let effects = state.apply(peer_state(call_attempt, PeerConnectionState::Failed));
    assert!(effects.contains(&Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: 1_000 }), "{effects:?}");
}

#[test]
fn a_restart_still_checking_is_left_to_finish_but_the_timer_goes_on() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(peer_state(call_attempt, PeerConnectionState::Failed));
    state.apply(peer_state(call_attempt, PeerConnectionState::Connecting));
    let effects = state.apply(Action::RecoveryCheckDue { call_attempt });
    assert_eq!(effects, vec![Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: 2_000 }]);
    assert!(state.shows_media_reconnecting());
}

#[test]
fn failed_before_the_call_ever_connected_still_ends_it_as_failed() {
    let (mut state, call_attempt) = alice_connecting_to_bob();
    let effects = state.apply(peer_state(call_attempt, PeerConnectionState::Failed));
    assert_eq!(
        sent(&effects),
        vec![ClientMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Failed) }]
    );
    assert_eq!(state.call, CallPhase::Idle);
}

#[test]
fn a_timer_of_an_earlier_call_is_ignored() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(peer_state(call_attempt, PeerConnectionState::Failed));
    state.apply(Action::HangUpClicked);
    assert!(state.apply(Action::RecoveryCheckDue { call_attempt }).is_empty());
}

#[test]
fn an_offer_refused_as_peer_unavailable_is_made_again_by_the_backoff() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(Action::RestartConnectionClicked);
    state.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(1) });
    let effects = state.apply(server_error(Some(ErrorCode::PeerUnavailable), "bob is away"));
    assert_eq!(effects, vec![Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: 2_000 }]);
    assert_eq!(state.notice, None, "nothing to tell the person");
    assert_eq!(state.call.word(), "in-call");
    // More refusals (its candidates) do not push the retry further away.
    assert!(state.apply(server_error(Some(ErrorCode::PeerUnavailable), "bob is away")).is_empty());
    assert_eq!(state.apply(Action::RecoveryCheckDue { call_attempt }), vec![Effect::RestartIce { call_attempt }]);
    assert!(!state.recovery.offer_unsent);
}

#[test]
fn peer_unavailable_while_restarting_is_retried_by_the_restart_timer() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(peer_state(call_attempt, PeerConnectionState::Failed));
    state.apply(peer_state(call_attempt, PeerConnectionState::Connecting));
    assert!(state.apply(server_error(Some(ErrorCode::PeerUnavailable), "away")).is_empty());
    let effects = state.apply(Action::RecoveryCheckDue { call_attempt });
    assert!(effects.contains(&Effect::RestartIce { call_attempt }), "lost offer made again: {effects:?}");
}

#[test]
fn the_polite_side_asks_the_impolite_side_to_restart_while_the_call_is_connected() {
    let (mut callee, _) = alice_in_call_as_callee();
    let effects = callee.apply(Action::RestartConnectionClicked);
    assert_eq!(effects, vec![Effect::SendPeerMessage(crate::peer_message::PeerMessage::RestartIce {})]);
    assert_eq!(callee.recovery.total_restarts, 1);
    // The impolite side (the caller) makes the offer.
    let (mut caller, call_attempt) = alice_in_call_with_bob();
    let effects = caller.apply(Action::PeerMessageReceived {
        call_attempt,
        text: r#"{"v":1,"type":"restart_ice"}"#.to_owned(),
        at_millis: 0,
    });
    assert_eq!(effects, vec![Effect::RestartIce { call_attempt }]);
    // A polite side is never asked: it would only echo the request.
    let (mut callee, call_attempt) = alice_in_call_as_callee();
    let text = r#"{"v":1,"type":"restart_ice"}"#.to_owned();
    assert!(callee.apply(Action::PeerMessageReceived { call_attempt, text, at_millis: 0 }).is_empty());
}

#[test]
fn the_polite_side_restarts_by_itself_two_seconds_after_the_impolite_side_would() {
    let (mut callee, call_attempt) = alice_in_call_as_callee();
    let effects = callee.apply(peer_state(call_attempt, PeerConnectionState::Failed));
    assert_eq!(effects, vec![Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: 2_000 }]);
    assert!(callee.shows_media_reconnecting());
    let effects = callee.apply(Action::RecoveryCheckDue { call_attempt });
    assert_eq!(
        effects,
        vec![Effect::RestartIce { call_attempt }, Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: 1_000 }],
        "the media is lost: its own offer, not a request on the channel"
    );
    let (mut callee, call_attempt) = alice_in_call_as_callee();
    let effects = callee.apply(peer_state(call_attempt, PeerConnectionState::Disconnected));
    assert_eq!(effects, vec![Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: 5_000 }]);
}

#[test]
fn a_restart_the_other_side_made_is_left_to_finish_when_the_grace_ends() {
    let (mut callee, call_attempt) = alice_in_call_as_callee();
    callee.apply(peer_state(call_attempt, PeerConnectionState::Disconnected));
    // The caller's restart offer arrived and is being checked.
    callee.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    callee.apply(peer_state(call_attempt, PeerConnectionState::Connecting));
    assert!(callee.shows_media_reconnecting(), "checking again is still reconnecting");
    let effects = callee.apply(Action::RecoveryCheckDue { call_attempt });
    assert_eq!(effects, vec![Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: 1_000 }]);
    assert!(callee.recovery.restarting.is_some(), "the two-minute limit runs");
}

#[test]
fn the_polite_side_leaves_restarts_to_an_impolite_side_that_is_restarting() {
    let (mut callee, call_attempt) = alice_in_call_as_callee();
    callee.apply(peer_state(call_attempt, PeerConnectionState::Failed));
    // The caller's restart offer came (and its checks failed again) before our turn.
    callee.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    let effects = callee.apply(Action::RecoveryCheckDue { call_attempt });
    assert_eq!(effects, vec![Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: 1_000 }], "no crossing offer");
    // No offer from the caller since: the callee restarts by itself.
    let effects = callee.apply(Action::RecoveryCheckDue { call_attempt });
    assert!(effects.contains(&Effect::RestartIce { call_attempt }), "{effects:?}");
    // The impolite side restarts whatever the polite side sent.
    let (mut caller, call_attempt) = alice_in_call_with_bob();
    caller.apply(peer_state(call_attempt, PeerConnectionState::Failed));
    caller.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    let effects = caller.apply(Action::RecoveryCheckDue { call_attempt });
    assert!(effects.contains(&Effect::RestartIce { call_attempt }), "{effects:?}");
}
