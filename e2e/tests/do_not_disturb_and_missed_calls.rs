//! Browser test of do not disturb and missed calls in real Chromium: with **Do not disturb**
//! pressed (`aria-pressed="true"`), alice's call never rings at bob's: alice reads that bob is
//! busy, bob's page lists "Missed call from alice, HH:MM" and counts it in the title; with it off
//! again, a call alice cancels while it rings is listed too; **Call back** calls alice and takes
//! the entry off the list (and the count).
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;

const DO_NOT_DISTURB_PRESSED: &str =
    "const button = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Do not disturb'); \
     return button ? button.getAttribute('aria-pressed') : 'missing';";

const MISSED: &str =
    "return [...document.querySelectorAll('.missed-call .missed-text')].map(e => e.textContent).join('\\n');";

/// Waits until bob's page lists `count` missed calls, each from alice with a time, and the title
/// counts them.
async fn wait_for_missed_calls(bob: &Person, count: usize) {
    let condition = format!(
        "const lines = (() => {{ {MISSED} }})().split('\\n').filter(l => l); \
         return lines.length === {count} && lines.every(l => /^Missed call from alice, \\d\\d:\\d\\d$/.test(l)) \
             && document.title.startsWith('({count}) ');"
    );
    bob.wait_for(&format!("{count} missed calls from alice, counted in the title"), &condition).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn do_not_disturb_refuses_calls_and_missed_calls_can_be_called_back() {
    let people = two_people_signed_in(&[], &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);

    assert_eq!(bob.run_script(DO_NOT_DISTURB_PRESSED, vec![]).await.as_str(), Some("false"));
    bob.click_button("Do not disturb").await;
    assert_eq!(bob.run_script(DO_NOT_DISTURB_PRESSED, vec![]).await.as_str(), Some("true"));
    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    alice.wait_for_notice("bob does not want to be disturbed").await;
    alice.wait_for_phase("idle").await;
    wait_for_missed_calls(bob, 1).await;
    let phase = bob.run_script("return document.querySelector('.app').dataset.callPhase;", vec![]).await;
    assert_eq!(phase.as_str(), Some("idle"), "it never rang at bob's");

    bob.click_button("Do not disturb").await;
    assert_eq!(bob.run_script(DO_NOT_DISTURB_PRESSED, vec![]).await.as_str(), Some("false"));
    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    alice.click_button("Cancel").await;
    bob.wait_for_phase("idle").await;
    wait_for_missed_calls(bob, 2).await;
    bob.save_screenshot("missed-calls-bob.png").await;

    bob.click_button("Call back").await;
    alice.wait_for_phase("ringing").await;
    alice.wait_for_notice("bob is calling you.").await;
    bob.wait_for("one missed call left in the title", "return document.title.startsWith('(1) ');").await;
    bob.click_button("Cancel").await;
    alice.wait_for_phase("idle").await;
    bob.wait_for_phase("idle").await;
    // The list is shown while idle: the one from the Do not disturb call is left.
    wait_for_missed_calls(bob, 1).await;
    people.close().await;
}
