//! Browser test of a degraded call in real Chromium: bob's page has a pre-load script that
//! rewrites what `getStats()` returns (alice's video decoded at 3 frames a second, an 800 ms
//! round trip), as a bad network would; bob's remote video then reads "Connection quality:
//! poor" and says in words that alice's video is choppy, and alice's turning her camera off
//! takes the words away (no video is not bad video). The app has no test hook.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;

const DEGRADE_STATS: &str = r#"
    const getStats = RTCPeerConnection.prototype.getStats;
    RTCPeerConnection.prototype.getStats = async function (...args) {
        const report = await getStats.apply(this, args);
        const degraded = new Map();
        for (const [id, stats] of report) {
            const copy = Object.assign({}, stats);
            if (copy.type === 'inbound-rtp' && copy.kind === 'video') {
                copy.framesDecoded = Math.floor(performance.now() * 3 / 1000);
            }
            if (copy.type === 'candidate-pair' && copy.currentRoundTripTime !== undefined) {
                copy.currentRoundTripTime = 0.8;
            }
            degraded.set(id, copy);
        }
        return degraded;
    };
"#;

const TROUBLE: &str =
    "const words = document.querySelector('.video-trouble[role=status]'); return words ? words.textContent : '';";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poor_connection_and_choppy_video_are_said_in_words() {
    let people = two_people_signed_in_with_bob_preload(&[], &[], Some(DEGRADE_STATS)).await;
    let (alice, bob) = (&people.alice, &people.bob);
    people.alice_calls_bob().await;
    bob.wait_for(
        "Connection quality: poor",
        "return !!document.querySelector('[role=img][aria-label=\"Connection quality: poor\"]');",
    )
    .await;
    let words = bob.wait_for("alice's video said to be choppy", TROUBLE).await;
    let words = words.as_str().unwrap_or_default().to_owned();
    let fps: u32 = words
        .strip_prefix("alice's video is choppy (")
        .and_then(|rest| rest.strip_suffix(" frames a second)"))
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("unexpected words: {words:?}"));
    // 3 frames a second, give or take the timing of two samples.
    assert!((1..=5).contains(&fps), "about 3 frames a second: {words}");
    bob.save_screenshot("call-quality-degraded-bob.png").await;

    // Alice's own quality is good: only bob's page sees the bad numbers.
    alice
        .wait_for(
            "alice's quality good",
            "return !!document.querySelector('[aria-label=\"Connection quality: good\"]');",
        )
        .await;
    alice.click_enabled_button("Turn camera off").await;
    bob.wait_for("no words once alice's camera is off", &format!("return (() => {{ {TROUBLE} }})() === '';")).await;
    people.close().await;
}
