//! Browser end-to-end test: the real signaling server (in-process, 127.0.0.1:0) serves the real
//! release bundle from `<repo>/dist` to independent headless Chromiums (one chromedriver, one
//! WebDriver session and profile per person), which sign in, call each other and exchange real
//! WebRTC media from the fake camera. Covers: sign-in and a refused duplicate name; accept and
//! hang up with remote video playing on both sides; a second and third call in the same tabs;
//! a person without camera or microphone making a receive-only call (phone-sized window); a
//! person refusing camera access; busy; cancel; decline; no answer (ring timeout); calling an
//! offline name; the signaling address from `?signaling=`; an idle signed-out connection closed
//! by the server; a server restart with reconnect and sign-back-in. Saves screenshots under
//! `target/e2e-screenshots/` and the Accept-to-first-remote-frame times under
//! `target/e2e-measurements/` (BENCHMARKS.md has them from `scripts/bench-webapp`).
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test` does that),
//! so that no WebRTC packet can leave 127.0.0.1.

mod common;

use backend::Config;
use common::*;
use fantoccini::Locator;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long the test server lets a call ring before it ends it with reason `timeout`.
const RING_TIMEOUT: Duration = Duration::from_secs(6);
/// How long the test server lets a connection stay without signing in.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(4);

async fn start_server(dist: PathBuf, port: u16) -> ServerHandle {
    let config = Config {
        static_dir: Some(dist),
        port,
        // Short enough to test "no answer" quickly, long enough for every other step to answer.
        ring_timeout: RING_TIMEOUT,
        // The server closes connections that do not sign in by then; the app must cope.
        login_timeout: LOGIN_TIMEOUT,
        ..Config::default()
    };
    ServerHandle::start(config, None).await
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 0 {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

/// Writes the measurements to `target/e2e-measurements/browser-call-setup.md` (never to a tracked
/// file). BENCHMARKS.md gets the same measurement from `scripts/bench-webapp`, next to a minimal
/// page's and on fresh browsers.
fn write_measurements(timings: &[CallSetUpTiming]) {
    let folder = repository_root().join("target").join("e2e-measurements");
    std::fs::create_dir_all(&folder).expect("create target/e2e-measurements");
    let path = folder.join("browser-call-setup.md");
    let mut caller: Vec<f64> = timings.iter().map(|timing| timing.caller_millis).collect();
    let mut callee: Vec<f64> = timings.iter().map(|timing| timing.callee_millis).collect();
    let mut text = String::from(
        "# Browser call set-up: Accept to first remote frame\n\n\
         Written by e2e/tests/browser_call.rs: calls in the same two tabs, from the `click` event of **Accept** \
         in the callee's page to the first remote video frame on each side. A measurement, not an assertion; \
         `scripts/bench-webapp` measures it properly (BENCHMARKS.md).\n\n\
         | call | caller (ms) | callee (ms) |\n| --- | --- | --- |\n",
    );
    for (index, timing) in timings.iter().enumerate() {
        text.push_str(&format!("| {} | {:.0} | {:.0} |\n", index + 1, timing.caller_millis, timing.callee_millis));
    }
    text.push_str(&format!("| median | {:.0} | {:.0} |\n", median(&mut caller), median(&mut callee)));
    std::fs::write(&path, text).unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
    eprintln!("browser call set-up measurements written to {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_sign_in_call_hang_up_and_see_every_unhappy_ending_in_words() {
    require_loopback_only_network();
    let dist = built_app_directory();
    let suite_started = Instant::now();
    let server = start_server(dist.clone(), 0).await;
    let app_url = format!("http://{}/", server.address);

    let log_directory = target_directory().join("e2e-logs");
    std::fs::create_dir_all(&log_directory).expect("create the log directory");
    let mut driver = ChromeDriverProcess::start(&log_directory.join("chromedriver.log"));
    driver.wait_until_listening().await;

    let alice = open_browser(driver.port, "alice", MediaSetup::FakeCameraAndMicrophone).await;
    let bob = open_browser(driver.port, "bob", MediaSetup::FakeCameraAndMicrophone).await;
    for person in [&alice, &bob] {
        person
            .client
            .goto(&app_url)
            .await
            .unwrap_or_else(|error| panic!("{}: could not open {app_url}: {error}", person.name));
        person.wait_for("the sign-in screen", "return !!document.querySelector('label[for=\"sign-in-name\"]');").await;
    }

    // Both sign in; bob first tries a name that is taken and is told why on screen.
    alice.sign_in("alice").await;
    alice.wait_for("the call screen", "return document.body.textContent.includes('Signed in as alice');").await;
    bob.sign_in("alice").await;
    let refusal = bob
        .wait_for(
            "the reason the name was refused",
            "return document.getElementById('sign-in-error').textContent.trim();",
        )
        .await;
    let refusal = refusal.as_str().unwrap_or_default().to_owned();
    assert!(refusal.contains("alice"), "bob should be told, in words, why \"alice\" was refused; he saw {refusal:?}");
    bob.save_screenshot("sign-in-refused-bob.png").await;
    bob.sign_in("bob").await;
    bob.wait_for("the call screen", "return document.body.textContent.includes('Signed in as bob');").await;

    // The local preview: muted, playing the (fake) camera.
    for person in [&alice, &bob] {
        person
            .wait_for(
                "the muted local camera preview to play",
                "const v = document.querySelector('video[aria-label=\"Your camera\"]'); return !!v && v.muted && v.videoWidth > 0;",
            )
            .await;
    }

    let mut timings = Vec::new();

    // Call 1: alice clicks bob's name in the list; bob accepts; alice hangs up.
    timings.push(call_and_accept(&alice, &bob, true).await);
    alice.save_screenshot("call-1-alice-in-call.png").await;
    bob.save_screenshot("call-1-bob-in-call.png").await;
    alice.click_button("Hang up").await;
    alice.wait_for_phase("idle").await;
    bob.wait_for_phase("idle").await;
    bob.wait_for_notice("alice hung up").await;
    for person in [&alice, &bob] {
        person
            .wait_for(
                "the remote video to be released",
                "const v = document.querySelector('video[aria-label=\"Remote video\"]'); return !!v && v.srcObject === null && document.querySelector('.app').dataset.peerState === 'none';",
            )
            .await;
    }

    // Call 2 in the same tabs: bob types alice's name; alice accepts; bob hangs up.
    timings.push(call_and_accept(&bob, &alice, false).await);
    bob.save_screenshot("call-2-bob-in-call.png").await;
    bob.click_button("Hang up").await;
    alice.wait_for_notice("bob hung up").await;
    alice.wait_for_phase("idle").await;

    // carol has no camera or microphone at all: she is told so, and can still make a
    // receive-only call (recvonly transceivers) in which she sees and hears alice.
    let carol = open_browser(driver.port, "carol", MediaSetup::NoDevices).await;
    // The signaling address is runtime configuration: a `?signaling=` address on an origin the
    // deployment does not allow is refused on screen (a link must not route someone's signaling
    // through another server); an allowed one that does not answer is retried; a relative one
    // resolves against the page.
    let foreign_signaling = format!("{app_url}?signaling=ws://127.0.0.1:9/ws");
    carol
        .client
        .goto(&foreign_signaling)
        .await
        .unwrap_or_else(|error| panic!("carol: could not open the app: {error}"));
    carol
        .wait_for_notice(
            "Cannot connect: This link asks the app to connect to the signaling server at ws://127.0.0.1:9",
        )
        .await;
    // An allowed address (same origin) where no WebSocket answers is used, and retried.
    let unreachable_signaling = format!("{app_url}?signaling=/no-websocket-here");
    carol
        .client
        .goto(&unreachable_signaling)
        .await
        .unwrap_or_else(|error| panic!("carol: could not open the app: {error}"));
    carol.wait_for_notice("Not connected to the server. Retrying in").await;
    let relative_signaling = format!("{app_url}?signaling=/ws");
    carol
        .client
        .goto(&relative_signaling)
        .await
        .unwrap_or_else(|error| panic!("carol: could not open the app: {error}"));
    carol
        .wait_for(
            "the connection to the server",
            "return document.querySelector('.app').dataset.signaling === 'connected';",
        )
        .await;
    // Nobody signs in for a while: the server closes the idle connection, the app lets it rest
    // (no retry loop, no alarm) and reopens it when carol signs in.
    carol
        .wait_for(
            "the idle connection to rest",
            "return document.querySelector('.app').dataset.signaling === 'dormant';",
        )
        .await;
    let alarming_banner = carol.run_script("return !!document.querySelector('.connection-lost');", vec![]).await;
    assert_eq!(alarming_banner, json!(false), "a signed-out page whose idle connection was closed should not alarm");
    // A phone-sized window: the layout must stay usable.
    carol.client.set_window_size(390, 844).await.unwrap_or_else(|error| panic!("carol: resizing failed: {error}"));
    carol.sign_in("carol").await;
    carol
        .wait_for(
            "the note that there is no camera or microphone",
            "const note = document.querySelector('.media-problem'); return !!note && note.textContent.includes('You can still call');",
        )
        .await;
    carol.save_screenshot("no-camera-carol.png").await;
    carol.type_into_labelled_input("Name to call", "alice").await;
    carol.click_button("Call").await;
    alice.wait_for_phase("ringing").await;
    alice.click_button("Accept").await;
    carol.wait_until_remote_video_plays().await;
    alice
        .wait_for(
            "the connection with carol",
            "return document.querySelector('.app').dataset.peerState === 'connected';",
        )
        .await;
    carol.save_screenshot("receive-only-call-carol.png").await;
    carol.click_button("Hang up").await;
    alice.wait_for_notice("carol hung up").await;
    alice.wait_for_phase("idle").await;

    // Call 3 in the same tabs; meanwhile carol calls alice and is told she is busy.
    timings.push(call_and_accept(&alice, &bob, false).await);
    carol.type_into_labelled_input("Name to call", "alice").await;
    carol.click_button("Call").await;
    carol.wait_for_notice("alice is busy (in another call or not taking calls)").await;
    carol.wait_for_phase("idle").await;
    alice.wait_for_phase("in-call").await;
    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    carol.close().await;

    // Nobody answers: after the ring timeout both sides are told.
    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    alice.wait_for_notice("bob did not answer").await;
    bob.wait_for_notice("You missed a call from alice").await;
    alice.wait_for_phase("idle").await;
    bob.wait_for_phase("idle").await;

    // alice cancels while it rings: bob is told.
    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    alice.click_button("Cancel").await;
    alice.wait_for_phase("idle").await;
    bob.wait_for_notice("alice cancelled the call").await;
    bob.wait_for_phase("idle").await;

    // bob declines: alice is told.
    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    // Regression: the stage's "alice is calling" lost its space ("aliceis calling"): the name and
    // the words were separate items of a flex container, which drops their edge whitespace.
    let stage_text = bob.run_script("return document.querySelector('.remote-placeholder').innerText;", vec![]).await;
    assert_eq!(stage_text.as_str(), Some("alice is calling"), "bob's stage while alice's call rings");
    bob.save_screenshot("incoming-call-bob.png").await;
    bob.click_button("Decline").await;
    alice.wait_for_notice("bob declined your call").await;
    alice.wait_for_phase("idle").await;
    bob.wait_for_phase("idle").await;

    // dave refuses camera and microphone access: told so plainly, still on the call screen.
    let dave = open_browser(driver.port, "dave", MediaSetup::PermissionDenied).await;
    dave.client.goto(&app_url).await.unwrap_or_else(|error| panic!("dave: could not open {app_url}: {error}"));
    dave.sign_in("dave").await;
    dave.wait_for(
        "the note that camera and microphone access was blocked",
        "const note = document.querySelector('.media-problem'); return !!note && note.textContent.includes('access was blocked') && note.textContent.includes('You can still call');",
    )
    .await;
    dave.find_within_step_timeout("the call form", Locator::XPath("//button[normalize-space(.)='Call']")).await;
    dave.close().await;

    // Calling a name nobody has: an error on screen.
    alice.type_into_labelled_input("Name to call", "nobody-by-this-name").await;
    alice.click_button("Call").await;
    alice.wait_for_notice("nobody-by-this-name is not online").await;
    alice.wait_for_phase("idle").await;
    alice.save_screenshot("offline-name-alice.png").await;

    // The server restarts (deploy): both pages see the connection drop (close code 1012),
    // reconnect with backoff and sign back in under the same names.
    let port = server.address.port();
    server.stop_and_wait().await;
    let server = start_server(repository_root().join("dist"), port).await;
    for person in [&alice, &bob] {
        person.wait_for_notice("Connection to the server restored").await;
        person
            .wait_for(
                "being signed in again under the same name",
                &format!(
                    "return document.querySelector('.app').dataset.signaling === 'connected' && document.body.textContent.includes({});",
                    json!(format!("Signed in as {}", person.name))
                ),
            )
            .await;
    }
    alice
        .find_within_step_timeout(
            "bob in the list of people online after the restart",
            Locator::Css("button[data-user=\"bob\"]"),
        )
        .await;

    for (index, timing) in timings.iter().enumerate() {
        println!(
            "call {}: Accept to first remote frame: caller {:.0} ms, callee {:.0} ms",
            index + 1,
            timing.caller_millis,
            timing.callee_millis
        );
    }
    write_measurements(&timings);

    alice.close().await;
    bob.close().await;
    drop(driver);
    drop(server);
    let elapsed = suite_started.elapsed();
    println!("browser suite took {:.1} s", elapsed.as_secs_f64());
    assert!(
        elapsed < Duration::from_secs(150),
        "the browser suite must stay well under 3 minutes; it took {elapsed:?}"
    );
}
