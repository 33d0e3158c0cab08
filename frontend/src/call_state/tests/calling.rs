//! Tests of placing a call: the offer, candidates in order, the answer, cancelling, stale events.

use super::fixtures::*;

#[test]
fn calling_starts_an_outgoing_call_with_the_servers_ice_servers() {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::CallRequested { typed_name: " bob ".to_owned() });
    assert_eq!(
        effects,
        vec![Effect::StartOutgoingCall {
            call_attempt: CallAttempt::FIRST,
            ice_servers: state.ice_servers.clone(),
            video: VideoSource::Camera,
            role: NegotiationRole::Impolite,
        }]
    );
    assert_eq!(state.call.word(), "calling");
    assert_eq!(state.call.peer_name(), Some(&name("bob")));
    assert_eq!(state.peer_connection_state, Some(PeerConnectionState::New));
}

#[test]
fn offer_is_sent_once_created_followed_by_candidates_gathered_before_it() {
    let mut state = signed_in_as_alice();
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    assert!(state
        .apply(Action::LocalIceCandidateGathered { call_attempt: CallAttempt::FIRST, candidate: candidate(1) })
        .is_empty());
    let effects = state.apply(Action::LocalOfferCreated {
        call_attempt: CallAttempt::FIRST,
        offer: sdp("offer"),
        nonce: nonce(1),
    });
    assert_eq!(
        sent(&effects),
        vec![
            ClientMessage::Offer { name: name("bob"), offer: committed(&sdp("offer"), 1) },
            ClientMessage::Candidate { name: name("bob"), candidate: candidate(1) },
        ]
    );
    let effects =
        state.apply(Action::LocalIceCandidateGathered { call_attempt: CallAttempt::FIRST, candidate: candidate(2) });
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
    let mut signed_out = AppModel::new();
    assert!(signed_out.apply(Action::CallRequested { typed_name: "bob".to_owned() }).is_empty());
}

#[test]
fn calling_during_a_call_is_refused() {
    let (mut state, _) = alice_in_call_with_bob();
    assert!(state.apply(Action::CallRequested { typed_name: "carol".to_owned() }).is_empty());
    assert_eq!(state.call.peer_name(), Some(&name("bob")));
    assert!(notice_text(&state).contains("Hang up"));
}

#[test]
fn candidates_from_the_callee_before_its_answer_are_queued_then_applied_after_the_answer() {
    let (mut state, call_attempt) = alice_calling_bob();
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
            call_attempt,
            answer: sdp("answer"),
            remote_candidates: vec![candidate(7), candidate(8)]
        }]
    );
    assert_eq!(state.call, CallPhase::Connecting { call_attempt, peer: name("bob"), we_called: true });
    let effects = state.apply(received(ServerMessage::Candidate { candidate: candidate(9), name: Some(name("bob")) }));
    assert_eq!(effects, vec![Effect::AddRemoteIceCandidate { call_attempt, candidate: candidate(9) }]);
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
    let (mut state, call_attempt) = alice_calling_bob();
    state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    state.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Connecting });
    assert_eq!(state.call.word(), "connecting");
    assert_eq!(state.peer_connection_state, Some(PeerConnectionState::Connecting));
    state.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Connected });
    assert_eq!(state.call, CallPhase::InCall { call_attempt, peer: name("bob"), we_called: true });
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
    assert!(state
        .apply(Action::LocalOfferCreated { call_attempt: CallAttempt::FIRST, offer: sdp("offer"), nonce: nonce(1) })
        .is_empty());
}

#[test]
fn events_of_an_earlier_call_do_not_touch_the_next_call() {
    let mut state = signed_in_as_alice();
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    state.apply(Action::CancelCallClicked);
    state.apply(Action::CallRequested { typed_name: "carol".to_owned() });
    assert_eq!(state.call.call_attempt(), Some(CallAttempt::FIRST.next()));
    assert!(state
        .apply(Action::LocalOfferCreated { call_attempt: CallAttempt::FIRST, offer: sdp("offer"), nonce: nonce(1) })
        .is_empty());
    assert!(state
        .apply(Action::LocalIceCandidateGathered { call_attempt: CallAttempt::FIRST, candidate: candidate(1) })
        .is_empty());
    assert!(state
        .apply(Action::PeerConnectionStateChanged {
            call_attempt: CallAttempt::FIRST,
            state: PeerConnectionState::Failed
        })
        .is_empty());
    assert!(state
        .apply(Action::PeerConnectionFailed { call_attempt: CallAttempt::FIRST, error: PeerError::PayloadNotJson })
        .is_empty());
    assert_eq!(state.call.peer_name(), Some(&name("carol")));
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
    assert_eq!(state.call.peer_name(), Some(&name(&"b".repeat(64))));
}

/// The server finds people whatever the case typed (it compares names by a folded key) and names
/// them as they registered; the app must follow, or a call to "Bob" rings bob and then hangs on
/// "Calling…" because every reply names "bob".
#[test]
fn regression_calling_a_name_typed_in_another_case_connects_with_the_registered_name() {
    let mut state = signed_in_as_alice();
    state.apply(received(ServerMessage::Users { users: vec![name("alice"), name("bob")] }));
    let effects = state.apply(Action::CallRequested { typed_name: "Bob".to_owned() });
    let Some(Effect::StartOutgoingCall { call_attempt, .. }) = effects.first().cloned() else {
        panic!("calling starts a peer connection: {effects:?}")
    };
    assert_eq!(state.call.peer_name(), Some(&name("bob")), "named as in the list of people online");
    let effects = state.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(1) });
    assert!(matches!(&sent(&effects)[..], [ClientMessage::Offer { name, .. }] if *name == UserName::from_wire("bob")));
}

#[test]
fn regression_replies_naming_the_callee_in_its_registered_case_are_not_dropped() {
    let mut state = signed_in_as_alice();
    // Not in the list yet (the list is refreshed every few seconds): we call "BOB" as typed.
    let effects = state.apply(Action::CallRequested { typed_name: "BOB".to_owned() });
    let Some(Effect::StartOutgoingCall { call_attempt, .. }) = effects.first().cloned() else {
        panic!("calling starts a peer connection: {effects:?}")
    };
    state.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(1) });
    let effects = state.apply(received(ServerMessage::Candidate { candidate: candidate(1), name: Some(name("bob")) }));
    assert!(effects.is_empty(), "kept until the answer: {effects:?}");
    let effects = state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    assert!(
        matches!(&effects[..], [Effect::ApplyRemoteAnswer { remote_candidates, .. }] if remote_candidates.len() == 1),
        "the answer and the waiting candidate are applied: {effects:?}"
    );
    assert_eq!(state.call.peer_name(), Some(&name("bob")), "from the answer on, the registered name");
    state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Hangup) }));
    assert_eq!(state.call, CallPhase::Idle);
    assert!(notice_text(&state).contains("bob hung up"), "{}", notice_text(&state));
}

#[test]
fn calling_your_own_name_in_another_case_is_refused_locally() {
    let mut state = signed_in_as_alice();
    let effects = state.apply(Action::CallRequested { typed_name: "ALICE".to_owned() });
    assert!(effects.is_empty(), "{effects:?}");
    assert!(notice_text(&state).contains("your own name"), "{}", notice_text(&state));
}
