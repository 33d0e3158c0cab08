//! Browser test of real glare inside a call (issue 10): alice (the caller, impolite in perfect
//! negotiation) and bob (the callee, polite) both call `restartIce()` on their page's own
//! `RTCPeerConnection` at the same wall-clock instant, bypassing the app's coordination (the
//! data channel's `restart_ice`), so their offers really cross: the impolite side ignores the
//! polite side's offer, the polite side drops its own (never applied, so never rolled back: a
//! rollback freezes the remote video in Chromium, see `frontend/src/peer/negotiation.rs`) and
//! answers. Several rounds, until at least one collision was counted (so glare happened); after
//! each round the remote video shows new frames on both sides, both sides still send live audio
//! and video tracks, and the call is connected. Last, bob alone restarts: his offer, unapplied
//! until its answer, gives him new ICE credentials and the video goes on both ways.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::two_browsers::{LOCAL_UFRAG, WATCH_CONNECTIONS};
use common::*;
use serde_json::json;

/// Rounds at least, and at most (offers cross only when both land within the relay's delay).
const ROUNDS: u32 = 4;
const MAX_ROUNDS: u32 = 12;

/// Calls `restartIce()` on this page's call connection at the shared-clock instant `arguments[0]`.
const RESTART_ICE_AT: &str = r#"
    const target = arguments[0];
    const pc = window.__duetConnections[window.__duetConnections.length - 1];
    setTimeout(() => pc.restartIce(), Math.max(0, target - Date.now()));
"#;

const SETTLED: &str = "const pc = window.__duetConnections[window.__duetConnections.length - 1]; \
     return pc.signalingState === 'stable' && pc.connectionState === 'connected';";

/// Both our senders carry a live track (audio and video).
const SENDERS_LIVE: &str = "const pc = window.__duetConnections[window.__duetConnections.length - 1]; \
     const live = kind => pc.getSenders().some(s => s.track && s.track.kind === kind && s.track.readyState === 'live'); \
     return live('audio') && live('video');";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_that_really_cross_keep_video_flowing_both_ways() {
    let people = two_people_signed_in(&[], &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);
    for person in [alice, bob] {
        person.run_script(WATCH_CONNECTIONS, vec![]).await;
    }
    people.alice_calls_bob().await;
    for person in [alice, bob] {
        person.wait_until_remote_video_plays().await;
    }
    let role = "return document.querySelector('.app').dataset.negotiationRole;";
    assert_eq!(alice.run_script(role, vec![]).await, json!("impolite"));
    assert_eq!(bob.run_script(role, vec![]).await, json!("polite"));

    let mut collisions = (0, 0);
    let mut round = 0;
    while round < ROUNDS || (collisions == (0, 0) && round < MAX_ROUNDS) {
        round += 1;
        let now = alice.run_script("return Date.now();", vec![]).await.as_f64().expect("a time");
        let target = now + 1_500.0;
        for person in [alice, bob] {
            person.run_script(RESTART_ICE_AT, vec![json!(target)]).await;
        }
        for person in [alice, bob] {
            person.wait_for("the restart instant to pass", &format!("return Date.now() > {target} + 500;")).await;
        }
        for person in [alice, bob] {
            person.wait_for("the renegotiation settled and connected", SETTLED).await;
            person.wait_for_phase("in-call").await;
            person.wait_for_new_remote_frames().await;
            person.wait_for("live audio and video senders", SENDERS_LIVE).await;
        }
        collisions = (alice.app_counter("offerCollisions").await, bob.app_counter("offerCollisions").await);
        eprintln!("round {round}: media both ways; offers that collided so far (alice, bob): {collisions:?}");
    }
    assert!(collisions.0 + collisions.1 >= 1, "the offers never crossed in {round} rounds");

    // The polite side's own offer, alone: kept unapplied until its answer, then both applied.
    let ufrag_before = bob.run_script(&format!("{LOCAL_UFRAG} return ufrag;"), vec![]).await;
    assert!(ufrag_before.as_str().is_some_and(|line| !line.is_empty()), "bob has a local ICE username fragment");
    let now = bob.run_script("return Date.now();", vec![]).await.as_f64().expect("a time");
    bob.run_script(RESTART_ICE_AT, vec![json!(now)]).await;
    let changed = format!("{LOCAL_UFRAG} return ufrag !== {ufrag_before} && pc.signalingState === 'stable';");
    bob.wait_for("new local ICE credentials from bob's own offer", &changed).await;
    for person in [alice, bob] {
        person.wait_for("the renegotiation settled and connected", SETTLED).await;
        person.wait_for_new_remote_frames().await;
    }
    for person in [alice, bob] {
        person
            .wait_for(
                "the peer connection connected",
                "return document.querySelector('.app').dataset.peerState === 'connected';",
            )
            .await;
    }

    alice.click_button("Hang up").await;
    bob.wait_for_notice("alice hung up").await;
    people.close().await;
}
