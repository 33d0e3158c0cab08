//! Do not disturb and missed calls: a call is refused as busy and listed while do not disturb is
//! on (remembered, and kept across a reconnect); calls that rang out or were cancelled are listed
//! with their time; declined or answered calls are not; **Call back** calls and takes the entry
//! off; the page title counts what is listed; the ringtone, ringback and ringing notification
//! follow the call's phase.

use super::fixtures::*;

fn offer_from(caller: &str, at_millis: u64) -> Action {
    Action::ServerMessageReceived {
        message: ServerMessage::Offer { offer: sdp("offer"), name: name(caller) },
        at_millis,
    }
}

fn leave_from(caller: &str, reason: Option<LeaveReason>, at_millis: u64) -> Action {
    Action::ServerMessageReceived { message: ServerMessage::Leave { name: Some(name(caller)), reason }, at_millis }
}

#[test]
fn do_not_disturb_refuses_a_call_without_ringing_says_why_and_lists_it_as_missed() {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::DoNotDisturbClicked);
    assert_eq!(effects, vec![Effect::SaveDoNotDisturb { on: true }]);
    assert!(state.do_not_disturb);

    let effects = state.apply(offer_from("bob", 1_000));
    assert_eq!(
        sent(&effects),
        vec![ClientMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::DoNotDisturb) }]
    );
    assert_eq!(state.call, CallPhase::Idle, "it never rings");
    assert_eq!(state.missed_calls, vec![MissedCall { from: name("bob"), at_millis: 1_000 }]);
    assert!(state.page_title().starts_with("(1) "), "{}", state.page_title());

    let effects = state.apply(Action::DoNotDisturbClicked);
    assert_eq!(effects, vec![Effect::SaveDoNotDisturb { on: false }]);
    state.apply(offer_from("bob", 2_000));
    assert_eq!(state.call.word(), "ringing", "off again: calls ring");
}

#[test]
fn do_not_disturb_is_restored_and_kept_across_a_reconnect() {
    let mut state = AppModel::new();
    state.apply(Action::DoNotDisturbRestored { on: true });
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(login_success("alice", "token-1")));
    state.apply(Action::SignalingClosed { close_code: 1006 });
    state.apply(Action::ReconnectDue);
    state.apply(received(hello()));
    state.apply(received(login_success("alice", "token-2")));
    assert!(state.do_not_disturb);
    let effects = state.apply(offer_from("bob", 5));
    assert_eq!(
        sent(&effects),
        vec![ClientMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::DoNotDisturb) }]
    );
}

#[test]
fn a_caller_refused_by_do_not_disturb_is_told_so_not_that_the_callee_is_busy() {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    let Some(Effect::StartOutgoingCall { call_attempt, .. }) = effects.first().cloned() else {
        panic!("calling starts a peer connection: {effects:?}")
    };
    state.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(1) });
    state.apply(leave_from("bob", Some(LeaveReason::DoNotDisturb), 2_000));
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(notice_text(&state), "bob does not want to be disturbed.");
}

#[test]
fn calls_that_rang_out_or_were_cancelled_are_missed_others_are_not() {
    let mut state = signed_in_as_alice();
    state.apply(offer_from("bob", 1_000));
    state.apply(leave_from("bob", Some(LeaveReason::Timeout), 46_000));
    state.apply(offer_from("carol", 50_000));
    state.apply(leave_from("carol", Some(LeaveReason::Hangup), 52_000));
    state.apply(offer_from("dave", 60_000));
    state.apply(Action::DeclineClicked);
    state.apply(offer_from("erin", 70_000));
    state.apply(leave_from("erin", Some(LeaveReason::Disconnected), 71_000));
    assert_eq!(
        state.missed_calls,
        vec![
            MissedCall { from: name("bob"), at_millis: 46_000 },
            MissedCall { from: name("carol"), at_millis: 52_000 },
        ]
    );
    assert_eq!(state.page_title(), format!("(2) {}", state.call.page_title()));
}

#[test]
fn call_back_calls_and_takes_the_entry_off_the_list() {
    let mut state = signed_in_as_alice();
    state.apply(offer_from("bob", 1_000));
    state.apply(leave_from("bob", None, 2_000));
    state.apply(offer_from("carol", 3_000));
    state.apply(leave_from("carol", None, 4_000));
    let effects = state.apply(Action::CallBackClicked { index: 0 });
    assert!(matches!(effects.first(), Some(Effect::StartOutgoingCall { .. })), "{effects:?}");
    assert_eq!(state.call.peer_name(), Some(&name("bob")));
    assert_eq!(state.missed_calls, vec![MissedCall { from: name("carol"), at_millis: 4_000 }]);
    // Not while in a call; nor for an entry that is not there.
    assert!(state.apply(Action::CallBackClicked { index: 0 }).is_empty());
    state.apply(Action::CancelCallClicked);
    assert!(state.apply(Action::CallBackClicked { index: 5 }).is_empty());
    state.apply(Action::ClearMissedCallsClicked);
    assert!(state.missed_calls.is_empty());
    assert!(!state.page_title().starts_with('('));
}

#[test]
fn the_ringtone_rings_here_the_ringback_while_we_call_and_a_notification_names_the_caller() {
    let mut state = signed_in_as_alice();
    assert_eq!((state.tone(), state.ringing_notification()), (None, None));
    state.apply(offer_from("bob", 1));
    assert_eq!(state.tone(), Some(Tone::Ringtone));
    assert_eq!(state.ringing_notification().as_deref(), Some("bob is calling you"));
    state.apply(Action::AcceptClicked);
    assert_eq!((state.tone(), state.ringing_notification()), (None, None), "answered: silence");
    state.apply(Action::HangUpClicked);
    state.apply(Action::CallRequested { typed_name: "carol".to_owned() });
    assert_eq!(state.tone(), Some(Tone::Ringback));
    assert_eq!(state.ringing_notification(), None);
    state.apply(Action::CancelCallClicked);
    assert_eq!(state.tone(), None);
    // Do not disturb: nothing rings at all.
    state.apply(Action::DoNotDisturbClicked);
    state.apply(offer_from("bob", 2));
    assert_eq!((state.tone(), state.ringing_notification()), (None, None));
}
