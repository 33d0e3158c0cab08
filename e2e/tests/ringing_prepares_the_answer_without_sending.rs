//! Browser test that the answer a ringing call prepares (the callee's peer connection created and
//! the caller's offer applied while it rings, so that Accept is quicker) sends nothing before
//! Accept: while bob's app rings, its connection has alice's offer applied, its transceivers
//! sendrecv and no local description, so no ICE gathering has started (no candidate of bob's can
//! reach alice) and no track of bob's is on a sender; alice has no answer and her ICE is still
//! `new`. Declining closes the prepared connection; the next call, accepted, plays video both
//! ways on a new one.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::two_browsers::WATCH_CONNECTIONS;
use common::*;

/// Bob's newest connection once it has the offer applied and its transceivers made sendrecv
/// (the steps before `createAnswer`), as a JSON summary; null before.
const PREPARED_CONNECTION: &str = r#"
    const connections = window.__duetConnections;
    const pc = connections[connections.length - 1];
    if (!pc || !pc.remoteDescription) return null;
    const transceivers = pc.getTransceivers();
    if (transceivers.length === 0 || !transceivers.every(t => t.direction === 'sendrecv')) return null;
    return JSON.stringify({
        connections: connections.length,
        remote: pc.remoteDescription.type,
        local: pc.localDescription && pc.localDescription.type,
        signaling: pc.signalingState,
        gathering: pc.iceGatheringState,
        tracks_on_senders: pc.getSenders().filter(s => s.track).length,
    });
"#;

/// Alice's newest connection: her answer, if any, and her ICE state.
const CALLER_CONNECTION: &str = r#"
    const pc = window.__duetConnections[window.__duetConnections.length - 1];
    return JSON.stringify({ remote: pc.remoteDescription && pc.remoteDescription.type, ice: pc.iceConnectionState });
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ringing_call_prepares_its_answer_without_sending_anything_before_accept() {
    let people = two_people_signed_in(&[], &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);
    for person in [alice, bob] {
        person.run_script(WATCH_CONNECTIONS, vec![]).await;
    }

    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    let prepared = bob.wait_for("bob's connection to have the offer applied", PREPARED_CONNECTION).await;
    let prepared: serde_json::Value = serde_json::from_str(prepared.as_str().unwrap_or("{}")).expect("json");
    assert_eq!(
        prepared,
        serde_json::json!({
            "connections": 1, "remote": "offer", "local": null, "signaling": "have-remote-offer",
            "gathering": "new", "tracks_on_senders": 0,
        }),
        "bob's prepared connection must not gather, answer or send before Accept"
    );
    let caller = alice.run_script(CALLER_CONNECTION, vec![]).await;
    assert_eq!(caller.as_str(), Some(r#"{"remote":null,"ice":"new"}"#), "alice heard nothing from bob");

    bob.click_button("Decline").await;
    bob.wait_for(
        "the prepared connection to be closed",
        "return window.__duetConnections[0].signalingState === 'closed';",
    )
    .await;
    alice.wait_for_phase("idle").await;

    people.alice_calls_bob().await;
    for person in [alice, bob] {
        person.wait_until_remote_video_plays().await;
    }
    let connections = bob.run_script("return window.__duetConnections.length;", vec![]).await;
    assert_eq!(connections.as_u64(), Some(2), "one connection per ringing call");
    people.close().await;
}
