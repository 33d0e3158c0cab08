//! The verification code through two reducers talking to each other: the offer and the answer
//! carry commitments, the reveals go over the data channel, both screens get the same code, a
//! new call gets another; a server that swaps a commitment, a peer without one, and an
//! unreadable reveal each end as a warning instead of a code.

use super::fixtures::*;
use crate::peer_message::{decode, PeerMessage};
use crate::verification::{with_commitment, Commitment};

fn signed_in_as(who: &str) -> AppModel {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: who.to_owned() });
    state.apply(received(login_success(who, "token")));
    state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    state
}

fn description(kind: &str, fingerprint: &str) -> SessionDescription {
    let sdp = format!("v=0\r\na=fingerprint:sha-256 {fingerprint}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
    SessionDescription::from_json(serde_json::json!({ "type": kind, "sdp": sdp }).to_string()).expect("json")
}

fn peer_messages(effects: &[Effect]) -> Vec<PeerMessage> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::SendPeerMessage(message) => Some(message.clone()),
            _ => None,
        })
        .collect()
}

fn reveal_of(effects: &[Effect]) -> String {
    let reveals: Vec<String> = peer_messages(effects)
        .into_iter()
        .filter_map(|message| match message {
            PeerMessage::Reveal { nonce } => Some(nonce),
            _ => None,
        })
        .collect();
    assert_eq!(reveals.len(), 1, "one reveal when the channel opens: {effects:?}");
    // What goes on the wire is what the peer decodes.
    let frame = PeerMessage::Reveal { nonce: reveals[0].clone() }.encode();
    assert_eq!(decode(&frame), Ok(PeerMessage::Reveal { nonce: reveals[0].clone() }));
    reveals[0].clone()
}

/// Alice calls bob up to the open data channel; `relay` may rewrite what the server forwards.
/// Returns both models and their reveals.
fn call(
    seeds: (u8, u8),
    relay: impl Fn(SessionDescription) -> SessionDescription,
) -> (AppModel, AppModel, String, String) {
    let (mut alice, mut bob) = (signed_in_as("alice"), signed_in_as("bob"));
    let effects = alice.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    let Some(Effect::StartOutgoingCall { call_attempt: alice_attempt, .. }) = effects.first().cloned() else {
        panic!("{effects:?}")
    };
    let effects = alice.apply(Action::LocalOfferCreated {
        call_attempt: alice_attempt,
        offer: description("offer", "AA:AA"),
        nonce: nonce(seeds.0),
    });
    let [ClientMessage::Offer { offer, .. }] = &sent(&effects)[..] else { panic!("{effects:?}") };
    bob.apply(received(ServerMessage::Offer { offer: relay(offer.clone()), name: name("alice") }));
    bob.apply(Action::AcceptClicked);
    let bob_attempt = bob.call.call_attempt().expect("connecting");
    let effects = bob.apply(Action::LocalAnswerCreated {
        call_attempt: bob_attempt,
        answer: description("answer", "BB:BB"),
        nonce: nonce(seeds.1),
    });
    let [ClientMessage::Answer { answer, .. }] = &sent(&effects)[..] else { panic!("{effects:?}") };
    alice.apply(received(ServerMessage::Answer { answer: relay(answer.clone()), name: Some(name("bob")) }));
    let alice_reveal = alice.apply(Action::DataChannelOpened { call_attempt: alice_attempt });
    let bob_reveal = bob.apply(Action::DataChannelOpened { call_attempt: bob_attempt });
    assert_eq!(alice.verification.outcome, None, "no code before the peer's reveal");
    (alice, bob, reveal_of(&alice_reveal), reveal_of(&bob_reveal))
}

fn reveal(state: &mut AppModel, nonce: &str) {
    let call_attempt = state.call.call_attempt().expect("in a call");
    let text = PeerMessage::Reveal { nonce: nonce.to_owned() }.encode();
    state.apply(Action::PeerMessageReceived { call_attempt, text, at_millis: 0 });
}

fn code(state: &AppModel) -> String {
    match state.verification.outcome {
        Some(VerificationOutcome::Code(code)) => code.to_string(),
        other => panic!("no code: {other:?}"),
    }
}

#[test]
fn both_screens_show_the_same_code_and_the_next_call_another() {
    let (mut alice, mut bob, alice_nonce, bob_nonce) = call((1, 2), |relayed| relayed);
    reveal(&mut alice, &bob_nonce);
    reveal(&mut bob, &alice_nonce);
    assert_eq!(code(&alice), code(&bob));
    assert_eq!(code(&alice).split(' ').count(), 4);

    let first = code(&alice);
    alice.apply(Action::HangUpClicked);
    assert_eq!(alice.verification.outcome, None, "the code goes with the call");

    let (mut alice, mut bob, alice_nonce, bob_nonce) = call((3, 4), |relayed| relayed);
    reveal(&mut alice, &bob_nonce);
    reveal(&mut bob, &alice_nonce);
    assert_eq!(code(&alice), code(&bob));
    assert_ne!(code(&alice), first, "fresh nonces, another code");
}

#[test]
fn a_commitment_swapped_in_between_is_caught_on_the_side_it_was_swapped_toward() {
    // The server replaces every commitment it relays with one of its own.
    let swap = |relayed: SessionDescription| with_commitment(&relayed, &Commitment::to(&nonce(99)));
    let (mut alice, mut bob, alice_nonce, bob_nonce) = call((1, 2), swap);
    reveal(&mut alice, &bob_nonce);
    reveal(&mut bob, &alice_nonce);
    for state in [&alice, &bob] {
        assert_eq!(state.verification.outcome, Some(VerificationOutcome::Failed(VerificationFailure::RevealMismatch)));
        let warning = VerificationFailure::RevealMismatch.to_string();
        assert!(warning.contains("Someone in between"), "{warning}");
    }
    // A later, "right" reveal does not turn the warning into a code.
    reveal(&mut alice, &nonce(99).to_hex());
    assert_eq!(alice.verification.outcome, Some(VerificationOutcome::Failed(VerificationFailure::RevealMismatch)));
}

#[test]
fn a_peer_without_a_commitment_gets_a_warning_and_never_our_nonce() {
    let strip = |relayed: SessionDescription| {
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(relayed.as_json()).expect("object");
        fields.remove(crate::verification::COMMITMENT_FIELD);
        SessionDescription::from_json(serde_json::Value::Object(fields).to_string()).expect("json")
    };
    let mut alice = signed_in_as("alice");
    let effects = alice.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    let Some(Effect::StartOutgoingCall { call_attempt, .. }) = effects.first().cloned() else { panic!() };
    alice.apply(Action::LocalOfferCreated { call_attempt, offer: description("offer", "AA:AA"), nonce: nonce(1) });
    let answer = strip(committed(&description("answer", "BB:BB"), 2));
    alice.apply(received(ServerMessage::Answer { answer, name: Some(name("bob")) }));
    let effects = alice.apply(Action::DataChannelOpened { call_attempt });
    assert!(
        !peer_messages(&effects).iter().any(|message| matches!(message, PeerMessage::Reveal { .. })),
        "nothing revealed to a peer that did not commit: {effects:?}"
    );
    assert_eq!(alice.verification.outcome, Some(VerificationOutcome::Failed(VerificationFailure::NoCommitment)));
    reveal(&mut alice, &nonce(2).to_hex());
    assert_eq!(alice.verification.outcome, Some(VerificationOutcome::Failed(VerificationFailure::NoCommitment)));
}

#[test]
fn an_unreadable_reveal_is_a_warning() {
    let (mut alice, _bob, _, _) = call((1, 2), |relayed| relayed);
    reveal(&mut alice, "not a nonce");
    assert_eq!(alice.verification.outcome, Some(VerificationOutcome::Failed(VerificationFailure::UnreadableReveal)));
}

#[test]
fn an_sdp_without_a_fingerprint_cannot_be_verified() {
    let no_fingerprint = |relayed: SessionDescription| {
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(relayed.as_json()).expect("object");
        fields.insert("sdp".to_owned(), serde_json::Value::String("v=0\r\n".to_owned()));
        SessionDescription::from_json(serde_json::Value::Object(fields).to_string()).expect("json")
    };
    let (mut alice, _bob, _, bob_nonce) = call((1, 2), no_fingerprint);
    reveal(&mut alice, &bob_nonce);
    assert_eq!(alice.verification.outcome, Some(VerificationOutcome::Failed(VerificationFailure::NoFingerprint)));
}

#[test]
fn a_peer_that_commits_but_never_reveals_is_a_warning_ten_seconds_after_the_channel_opened() {
    // `call` opens both data channels with the clock at 0.
    let (mut alice, mut bob, alice_nonce, bob_nonce) = call((1, 2), |relayed| relayed);
    let call_attempt = alice.call.call_attempt().expect("in a call");
    assert_eq!(alice.verification_deadline(), Some((call_attempt, 10_000)), "the glue's timer is wanted");

    // A timer that fires early (or the clock read a little before) changes nothing.
    alice.set_clock_millis(9_999);
    alice.apply(Action::VerificationDeadlinePassed { call_attempt });
    assert_eq!(alice.verification.outcome, None);

    alice.set_clock_millis(10_050);
    alice.apply(Action::VerificationDeadlinePassed { call_attempt });
    assert_eq!(alice.verification.outcome, Some(VerificationOutcome::Failed(VerificationFailure::NoReveal)));
    let warning = VerificationFailure::NoReveal.to_string();
    assert!(warning.contains("did not reveal its secret within 10 seconds"), "{warning}");
    assert_eq!(alice.verification_deadline(), None, "no timer once it is decided");

    // The commitment was fixed before DTLS: a late but matching reveal still gives the code.
    reveal(&mut alice, &bob_nonce);
    reveal(&mut bob, &alice_nonce);
    assert_eq!(code(&alice), code(&bob));
    assert_eq!(bob.verification_deadline(), None);
}

#[test]
fn the_reveal_deadline_of_an_ended_call_is_ignored() {
    let (mut alice, _bob, _, _) = call((1, 2), |relayed| relayed);
    let call_attempt = alice.call.call_attempt().expect("in a call");
    alice.apply(Action::HangUpClicked);
    assert_eq!(alice.verification_deadline(), None);
    alice.set_clock_millis(60_000);
    alice.apply(Action::VerificationDeadlinePassed { call_attempt });
    assert_eq!(alice.verification.outcome, None);
}
