//! Browser test of the verification code and the call statistics between browsers: Chromium
//! calls Firefox (headless Firefox ESR through its own geckodriver), and both screens show the
//! same verification code (the commitment travels inside the offer and the answer, the reveal on
//! the data channel, the fingerprints come from both browsers' SDP); both show a connection
//! quality, and Firefox's **Call statistics** region shows a live received bitrate with a chart,
//! read from Firefox's own `getStats()`.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::two_browsers::start;
use common::*;

const CODE: &str =
    "const code = document.querySelector('[aria-label=\"Verification code\"]'); return code ? code.textContent : '';";

const ANY_QUALITY: &str = "const shown = document.querySelector('[role=img][aria-label^=\"Connection quality: \"]'); \
     return shown ? shown.getAttribute('aria-label') : '';";

/// The **Received** row of the statistics panel once it has a bitrate above zero and a chart of
/// at least two points, as "VALUE|POINTS".
const LIVE_RECEIVED_ROW: &str =
    "const row = document.querySelector('[role=region][aria-label=\"Call statistics\"] [data-stat=\"Received\"]'); \
     if (!row) return ''; \
     const line = row.querySelector('svg polyline'); \
     const points = line ? line.getAttribute('points').trim().split(/\\s+/).filter(p => p).length : 0; \
     const value = row.querySelector('dd').textContent.trim(); \
     return parseFloat(value) > 0 && points >= 2 ? value + '|' + points : '';";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_codes_match_and_statistics_are_live_between_chromium_and_firefox() {
    let setup = start().await;
    let alice = setup.person(Browser::Chromium, "alice").await;
    let bob = setup.person(Browser::Firefox, "bob").await;

    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    bob.click_button("Accept").await;
    alice.wait_until_remote_video_plays().await;
    bob.wait_until_remote_video_plays().await;

    let alice_code = alice.wait_for("the verification code in Chromium", CODE).await;
    let bob_code = bob.wait_for("the verification code in Firefox", CODE).await;
    let alice_code = alice_code.as_str().unwrap_or_default().to_owned();
    assert_eq!(alice_code.split(' ').count(), 4, "four words: {alice_code:?}");
    assert_eq!(bob_code.as_str().unwrap_or_default(), alice_code, "both screens show the same code");
    eprintln!("cross-browser verification code: {alice_code}");

    for person in [&alice, &bob] {
        let quality = person.wait_for("a connection quality on the remote video", ANY_QUALITY).await;
        eprintln!("{} ({}): {}", person.name, person.browser.name(), quality.as_str().unwrap_or_default());
    }
    bob.click_button("Statistics").await;
    let received = bob.wait_for("a live received bitrate with a chart in Firefox", LIVE_RECEIVED_ROW).await;
    assert!(received.as_str().unwrap_or_default().contains(" kbps|"), "{received}");
    bob.save_screenshot("cross-browser-statistics-firefox-bob.png").await;

    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    bob.wait_for_notice("alice hung up").await;
    alice.close().await;
    bob.close().await;
}
