//! Tests of receiving a call: ringing, accepting, declining, busy and renegotiation.

use super::fixtures::*;

#[test]
fn incoming_offer_rings_and_only_prepares_the_answer() {
    let (state, call_attempt) = alice_ringing_from_bob();
    assert_eq!(
        state.call,
        CallPhase::Ringing { call_attempt, peer: name("bob"), offer: sdp("offer"), remote_candidates_waiting: vec![] }
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
    let (mut state, call_attempt) = alice_ringing_from_bob();
    state.apply(received(ServerMessage::Candidate { candidate: candidate(1), name: Some(name("bob")) }));
    state.apply(received(ServerMessage::Candidate { candidate: candidate(2), name: Some(name("bob")) }));
    let effects = state.apply(Action::AcceptClicked);
    assert_eq!(
        effects,
        vec![Effect::AnswerIncomingCall {
            call_attempt,
            ice_servers: state.ice_servers.clone(),
            video: VideoSource::Camera,
            offer: sdp("offer"),
            remote_candidates: vec![candidate(1), candidate(2)],
            role: NegotiationRole::Polite,
        }]
    );
    assert_eq!(state.call, CallPhase::Connecting { call_attempt, peer: name("bob"), we_called: false });
    let effects = state.apply(Action::LocalAnswerCreated { call_attempt, answer: sdp("answer"), nonce: nonce(2) });
    assert_eq!(sent(&effects), vec![ClientMessage::Answer { name: name("bob"), answer: committed(&sdp("answer"), 2) }]);
    let effects = state.apply(Action::LocalIceCandidateGathered { call_attempt, candidate: candidate(3) });
    assert_eq!(sent(&effects), vec![ClientMessage::Candidate { name: name("bob"), candidate: candidate(3) }]);
}

#[test]
fn decline_sends_leave_with_reason_declined_and_releases_the_prepared_peer_connection() {
    let (mut state, _) = alice_ringing_from_bob();
    let effects = state.apply(Action::DeclineClicked);
    assert_eq!(
        effects,
        vec![
            Effect::Send(ClientMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Declined) }),
            Effect::ReleasePeerConnection,
        ]
    );
    assert_eq!(state.call, CallPhase::Idle);
    assert!(notice_text(&state).contains("declined"));
}

#[test]
fn caller_cancelling_while_it_rings_is_reported() {
    let (mut state, _) = alice_ringing_from_bob();
    let effects =
        state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Hangup) }));
    assert!(effects.contains(&Effect::ReleasePeerConnection), "the prepared one is released: {effects:?}");
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
    let mut state = AppModel::new();
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
    assert_eq!(state.call.peer_name(), Some(&name("bob")));
}

#[test]
fn renegotiation_offer_from_the_peer_is_answered_inside_the_call() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    let effects = state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    assert_eq!(effects, vec![Effect::AnswerRenegotiationOffer { call_attempt, offer: sdp("offer") }]);
    let effects = state.apply(Action::LocalAnswerCreated { call_attempt, answer: sdp("answer"), nonce: nonce(2) });
    // The call keeps the commitment of its first offer (nonce 1): one nonce per call.
    assert_eq!(sent(&effects), vec![ClientMessage::Answer { name: name("bob"), answer: committed(&sdp("answer"), 1) }]);
    assert_eq!(state.call.word(), "in-call");
}
