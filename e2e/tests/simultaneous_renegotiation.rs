//! Browser test of renegotiation from both sides at once inside a call (issue 10): alice (the
//! caller, impolite in perfect negotiation) and bob (the callee, polite) click **Restart
//! connection** (an ICE restart, in the Call statistics panel) at the same wall-clock instant,
//! three times. The call keeps playing both ways, is never refused as busy, and both sides'
//! ICE credentials change each time (a real renegotiation happened). While the call is
//! connected the polite side's restart is made by the impolite side at its request (the data
//! channel's `restart_ice`), so the two offers usually do not cross; offers that really cross
//! are `glare_during_a_call.rs`.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::two_browsers::{LOCAL_UFRAG, WATCH_CONNECTIONS};
use common::*;
use serde_json::json;

const ROUNDS: u32 = 3;

const CLICK_RESTART_AT: &str = r#"
    const target = arguments[0];
    setTimeout(() => {
        const button = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Restart connection');
        if (button) button.click();
    }, Math.max(0, target - Date.now()));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_renegotiating_at_once_keeps_the_call_playing() {
    let people = two_people_signed_in(&[], &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);
    for person in [alice, bob] {
        person.run_script(WATCH_CONNECTIONS, vec![]).await;
    }
    people.alice_calls_bob().await;
    for person in [alice, bob] {
        person.wait_until_remote_video_plays().await;
        person.click_enabled_button("Statistics").await;
        person
            .find_within_step_timeout(
                "the Restart connection button in the Call statistics panel",
                fantoccini::Locator::XPath(
                    "//section[@aria-label='Call statistics']//button[normalize-space(.)='Restart connection']",
                ),
            )
            .await;
    }
    let role = "return document.querySelector('.app').dataset.negotiationRole;";
    assert_eq!(alice.run_script(role, vec![]).await, json!("impolite"));
    assert_eq!(bob.run_script(role, vec![]).await, json!("polite"));

    for round in 1..=ROUNDS {
        let restarts_before = (alice.app_counter("iceRestarts").await, bob.app_counter("iceRestarts").await);
        let current_ufrag = format!("{LOCAL_UFRAG} return ufrag;");
        let ufrags_before =
            (alice.run_script(&current_ufrag, vec![]).await, bob.run_script(&current_ufrag, vec![]).await);
        // Both clicks at the same instant of the shared clock, a moment from now.
        let now = alice.run_script("return Date.now();", vec![]).await.as_f64().expect("a time");
        let target = now + 1_500.0;
        alice.run_script(CLICK_RESTART_AT, vec![json!(target)]).await;
        bob.run_script(CLICK_RESTART_AT, vec![json!(target)]).await;
        for (person, before) in [(alice, restarts_before.0), (bob, restarts_before.1)] {
            let counted = format!("return Number(document.querySelector('.app').dataset.iceRestarts) > {before};");
            person.wait_for("the restart to be counted", &counted).await;
        }
        for (person, before) in [(alice, &ufrags_before.0), (bob, &ufrags_before.1)] {
            let changed = format!("{LOCAL_UFRAG} return ufrag !== {before};");
            person.wait_for("new ICE credentials (a real renegotiation)", &changed).await;
        }
        // The call goes on with media both ways.
        for person in [alice, bob] {
            person.wait_for_phase("in-call").await;
            person
                .wait_for(
                    "the peer connection connected",
                    "return document.querySelector('.app').dataset.peerState === 'connected';",
                )
                .await;
            person.wait_for_new_remote_frames().await;
            let summary = person.page_summary().await;
            assert!(!summary.contains("busy"), "{}: never refused as busy: {summary}", person.name);
        }
        let collisions = (alice.app_counter("offerCollisions").await, bob.app_counter("offerCollisions").await);
        eprintln!("round {round}: media both ways; offers that collided (alice, bob): {collisions:?}");
    }

    alice.click_button("Hang up").await;
    bob.wait_for_notice("alice hung up").await;
    people.close().await;
}
