//! Browser test of the call statistics in real Chromium: on loopback the quality indicator on
//! the remote video reads "Connection quality: good" on both sides; **Statistics** opens the
//! **Call statistics** region, which shows a non-zero received and sent bitrate, each with a
//! chart that has points (inline SVG drawn by the app), the frame rate, resolution and codec of
//! the received video and the selected candidate pair's types; the panel goes with the call.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;

const QUALITY_GOOD: &str = "return !!document.querySelector('[role=img][aria-label=\"Connection quality: good\"]');";

/// `NAME` row of the panel as "VALUE|POINTS" (POINTS: how many points its chart has, or -1).
fn row(name: &str) -> String {
    format!(
        "const row = document.querySelector('[role=region][aria-label=\"Call statistics\"] [data-stat=\"{name}\"]'); \
         if (!row) return ''; \
         const line = row.querySelector('svg polyline'); \
         const points = line ? line.getAttribute('points').trim().split(/\\s+/).filter(p => p).length : -1; \
         return row.querySelector('dd').textContent.trim() + '|' + points;"
    )
}

/// Waits until `name`'s value starts with a number above zero and its chart has two points.
async fn wait_for_live_row(person: &Person, name: &str) -> String {
    let condition = format!(
        "const text = (() => {{ {} }})(); const [value, points] = text.split('|'); \
         return parseFloat(value) > 0 && Number(points) >= 2 ? text : '';",
        row(name)
    );
    let shown = person.wait_for(&format!("a live {name} row with a chart"), &condition).await;
    shown.as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statistics_panel_is_live_and_the_quality_good_on_loopback() {
    let people = two_people_signed_in(&[], &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);
    people.alice_calls_bob().await;
    for person in [alice, bob] {
        person.wait_for("Connection quality: good", QUALITY_GOOD).await;
    }

    alice.click_button("Statistics").await;
    let received = wait_for_live_row(alice, "Received").await;
    assert!(received.contains(" kbps|"), "{received}");
    let sent = wait_for_live_row(alice, "Sent").await;
    assert!(sent.contains(" kbps|"), "{sent}");
    let frame_rate = wait_for_live_row(alice, "Frame rate").await;
    assert!(frame_rate.contains(" fps|"), "{frame_rate}");
    let shown = |name: &'static str| async move {
        let value = alice.run_script(&row(name), vec![]).await;
        value.as_str().unwrap_or_default().split('|').next().unwrap_or_default().to_owned()
    };
    let resolution = shown("Resolution").await;
    assert!(resolution.contains('×') && !resolution.starts_with('0'), "{resolution}");
    let codec = shown("Codec").await;
    assert!(!codec.is_empty() && codec != "—", "{codec}");
    assert_eq!(shown("Candidates").await, "host ↔ host", "loopback pairs host candidates");
    alice.save_screenshot("call-statistics-alice.png").await;

    alice.click_button("Hang up").await;
    alice.wait_for_phase("idle").await;
    let gone = "return !document.querySelector('[aria-label=\"Call statistics\"]') && !document.querySelector('.quality-indicator');";
    alice.wait_for("the panel and the indicator to go with the call", gone).await;
    people.close().await;
}
