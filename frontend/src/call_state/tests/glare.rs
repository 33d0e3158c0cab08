//! Tests of glare: both people call each other at once and the server picks one offer.

use super::fixtures::*;

#[test]
fn glare_offer_from_the_peer_we_are_calling_rings_instead_of_answering_busy() {
    // Alice called bob and bob called alice at once; the server took bob's offer.
    let (mut state, our_attempt) = alice_calling_bob();
    state.apply(received(ServerMessage::Candidate { candidate: candidate(1), name: Some(name("bob")) }));
    let effects = state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    let CallPhase::Ringing { call_attempt, peer, offer, remote_candidates_waiting } = state.call.clone() else {
        panic!("rings like a normal incoming call: {:?}", state.call)
    };
    // Our connection goes first, then the answer to the peer's offer is prepared, as for any call.
    let prepare = Effect::PrepareIncomingCall {
        call_attempt,
        ice_servers: state.ice_servers.clone(),
        offer: sdp("offer"),
        role: NegotiationRole::Polite,
    };
    assert_eq!(effects, vec![Effect::ReleasePeerConnection, prepare], "no busy leave: {effects:?}");
    assert_ne!(call_attempt, our_attempt);
    assert_eq!(peer, name("bob"));
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
    let Some(Effect::StartOutgoingCall { call_attempt, .. }) = effects.first().cloned() else { panic!("{effects:?}") };
    state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    assert_eq!(state.call.word(), "ringing");
    let effects = state.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(1) });
    assert!(sent(&effects).is_empty(), "our offer of the dropped call is not sent: {effects:?}");
    assert_eq!(state.call.word(), "ringing");
}

#[test]
fn glare_on_the_winning_side_the_call_proceeds_normally() {
    // Alice's offer won: the server refuses bob's offer on bob's side, alice sees nothing odd,
    // maybe candidates of bob's abandoned attempt, then bob's answer after he accepts.
    let (mut state, call_attempt) = alice_calling_bob();
    let effects = state.apply(received(ServerMessage::Candidate { candidate: candidate(7), name: Some(name("bob")) }));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(state.call.word(), "calling");
    assert_eq!(state.notice, None);
    let effects = state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    assert!(
        matches!(effects.as_slice(), [Effect::ApplyRemoteAnswer { call_attempt: id, .. }] if *id == call_attempt),
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
    let Some(Effect::StartOutgoingCall { call_attempt, .. }) = effects.first().cloned() else { panic!("{effects:?}") };
    state.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(1) });
    state.apply(server_error(Some(ErrorCode::AlreadyInCall), "You are already in a call"));
    assert_eq!(state.call, CallPhase::Idle);
}
