//! Tests of perfect negotiation's data in the reducer: the roles (caller impolite, callee
//! polite, for the whole call), renegotiation from either side inside a call (never refused as
//! busy), the answer to our own renegotiation offer, and the count of offers that collided.

use super::fixtures::*;

#[test]
fn the_caller_is_impolite_and_the_callee_polite_for_the_whole_call() {
    let (caller, _) = alice_in_call_with_bob();
    assert_eq!(caller.call.negotiation_role(), Some(NegotiationRole::Impolite));
    let (mut callee, _) = alice_ringing_from_bob();
    assert_eq!(callee.call.negotiation_role(), Some(NegotiationRole::Polite));
    let effects = callee.apply(Action::AcceptClicked);
    assert!(
        matches!(effects.as_slice(), [Effect::AnswerIncomingCall { role: NegotiationRole::Polite, .. }]),
        "{effects:?}"
    );
    assert_eq!(callee.call.negotiation_role(), Some(NegotiationRole::Polite));
    assert_eq!(AppModel::new().call.negotiation_role(), None);
    assert!(NegotiationRole::of(false).is_polite() && !NegotiationRole::of(true).is_polite());
    assert_eq!((NegotiationRole::Polite.word(), NegotiationRole::Impolite.word()), ("polite", "impolite"));
}

#[test]
fn the_roles_survive_a_lost_signaling_connection_and_a_resume() {
    let (mut state, _) = alice_in_call_with_bob();
    state.apply(received(resuming_hello()));
    state.apply(Action::SignalingClosed { close_code: 1006 });
    state.apply(Action::ReconnectDue);
    state.apply(received(resuming_hello()));
    state.apply(received(login_success("alice", "token-2")));
    state.apply(received(ServerMessage::CallResumed { name: name("bob") }));
    assert_eq!(state.call.word(), "in-call");
    assert_eq!(state.call.negotiation_role(), Some(NegotiationRole::Impolite));
}

#[test]
fn a_renegotiation_offer_is_answered_on_both_sides_and_never_refused_as_busy() {
    for (mut state, call_attempt) in [alice_in_call_with_bob(), alice_connecting_to_bob()] {
        let effects = state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
        assert_eq!(effects, vec![Effect::AnswerRenegotiationOffer { call_attempt, offer: sdp("offer") }]);
        assert!(sent(&effects).is_empty(), "no busy leave: {effects:?}");
    }
}

#[test]
fn our_renegotiation_offer_is_sent_with_the_calls_commitment_and_its_answer_applied() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    let effects = state.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(9) });
    assert_eq!(sent(&effects), vec![ClientMessage::Offer { name: name("bob"), offer: committed(&sdp("offer"), 1) }]);
    let effects = state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    assert_eq!(effects, vec![Effect::ApplyRenegotiationAnswer { call_attempt, answer: sdp("answer") }]);
    assert_eq!(state.call.word(), "in-call");
}

#[test]
fn an_answer_from_someone_else_is_not_applied() {
    let (mut state, _) = alice_in_call_with_bob();
    let effects = state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("carol")) }));
    assert!(effects.is_empty(), "{effects:?}");
}

#[test]
fn offers_that_collided_are_counted_for_the_statistics_panel() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    assert!(state.apply(Action::OfferCollided { call_attempt, rolled_back: false }).is_empty());
    state.apply(Action::OfferCollided { call_attempt, rolled_back: true });
    assert_eq!(state.recovery.offer_collisions, 2);
    assert_eq!(state.call.word(), "in-call");
    // A collision reported by an earlier call's peer connection is not counted.
    state.apply(Action::HangUpClicked);
    state.apply(Action::OfferCollided { call_attempt, rolled_back: true });
    assert_eq!(state.recovery.offer_collisions, 0);
}

#[test]
fn restart_connection_restarts_ice_in_a_connected_call_only() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    assert_eq!(state.apply(Action::RestartConnectionClicked), vec![Effect::RestartIce { call_attempt }]);
    let (mut connecting, _) = alice_connecting_to_bob();
    assert!(connecting.apply(Action::RestartConnectionClicked).is_empty());
    let mut idle = signed_in_as_alice();
    assert!(idle.apply(Action::RestartConnectionClicked).is_empty());
}

#[test]
fn glare_at_call_setup_still_rings_the_peers_call() {
    // Inside a call every offer is a renegotiation; before the answer it is still glare.
    let (mut state, _) = alice_calling_bob();
    state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    assert_eq!(state.call.word(), "ringing");
}
