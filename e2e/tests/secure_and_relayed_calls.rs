//! Browser end-to-end test of the production set-ups, with the harness of `browser_call.rs`
//! (`common/`): one chromedriver and two Chromium sessions (alice, bob; fake camera) hold two
//! real calls in turn.
//!
//! 1. **https:// + wss://, self-signed mode**: the in-process server runs `backend::run_tls` with
//!    `backend::tls::self_signed(["localhost", "127.0.0.1"])`. Chromium trusts exactly that
//!    certificate (`--ignore-certificate-errors-spki-list` with its SPKI hash), not every bad
//!    certificate. Asserts the page is on https:, the only WebSocket the app opened is the
//!    wss:// one (recorded by a script installed before the page loads), the call connects with
//!    remote video playing on both sides, and `/metrics` counted it while it was up
//!    (`duet_calls_active 1`, `duet_users_online 2`, relayed offers and candidates) and after
//!    hang-up (`duet_calls_active 0`).
//! 2. **TURN, relay only**: the test starts Debian's coturn (`turnserver`) on 127.0.0.1 with
//!    `use-auth-secret`; the server hands out TURN REST credentials for it; both pages open with
//!    the diagnostic `?ice-transport-policy=relay`. Asserts the call connects, remote video plays
//!    on both sides and each side's selected candidate pair is relay/relay (the app's
//!    `data-selected-candidate-type` hooks, read from `getStats()`).
//!
//! Screenshots of both calls go to `target/e2e-screenshots/`, the chromedriver and coturn logs to
//! `target/e2e-logs/`. Must run in a loopback-only network namespace (`scripts/test`).

mod common;

use backend::Config;
use common::certificates::{der_element, spki_sha256_base64, subject_public_key_info};
use common::devtools::record_websocket_urls;
use common::metrics::{metric_value, wait_for_metric};
use common::*;
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn spki_hash_matches_openssl() {
    let tls =
        backend::tls::self_signed(vec!["localhost".into(), "127.0.0.1".into()]).expect("a self-signed certificate");
    let pem = tls.certificate_pem.expect("the self-signed mode exposes its certificate");
    let ours = spki_sha256_base64(&pem);
    assert_eq!(ours.len(), 44, "base64 of 32 bytes: {ours}");
    // An independent computation, the recipe Chromium's documentation gives.
    if !Command::new("openssl").arg("version").stdout(Stdio::null()).status().is_ok_and(|status| status.success()) {
        eprintln!("openssl is not installed: SPKI hash not cross-checked (the https browser call still checks it)");
        return;
    }
    let recipe =
        "openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64";
    let mut openssl = Command::new("sh")
        .args(["-c", recipe])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sh");
    if let Some(mut input) = openssl.stdin.take() {
        use std::io::Write;
        input.write_all(pem.as_bytes()).expect("write the PEM to openssl");
    }
    let output = openssl.wait_with_output().expect("openssl finished");
    assert_eq!(ours, String::from_utf8_lossy(&output.stdout).trim(), "our SPKI hash differs from openssl's");
}

#[test]
fn der_reader_refuses_truncated_input() {
    assert_eq!(der_element(&[0x30]), None);
    assert_eq!(der_element(&[0x30, 0x03, 0x01]), None);
    assert_eq!(der_element(&[0x30, 0x82, 0x01]), None);
    assert_eq!(subject_public_key_info(&[0x30, 0x00]), None);
    let (tag, whole, contents, rest) = der_element(&[0x02, 0x01, 0x07, 0xff]).expect("an INTEGER");
    assert_eq!((tag, whole, contents, rest), (0x02, &[0x02, 0x01, 0x07][..], &[0x07][..], &[0xff][..]));
}

#[test]
fn metric_values_are_read_by_exact_series() {
    let text = "# TYPE duet_calls_active gauge\nduet_calls_active 1\nduet_calls_active_total 9\n\
                duet_messages_relayed_total{type=\"offer\"} 2\nduet_messages_relayed_total{type=\"candidate\"} 14\n";
    assert_eq!(metric_value(text, "duet_calls_active"), Some(1.0));
    assert_eq!(metric_value(text, "duet_messages_relayed_total{type=\"candidate\"}"), Some(14.0));
    assert_eq!(metric_value(text, "duet_messages_relayed_total{type=\"answer\"}"), None);
}

// --- The scenarios -----------------------------------------------------------------------------

async fn open_and_sign_in(people: [&Person; 2], url: &str) {
    for person in people {
        person.client.goto(url).await.unwrap_or_else(|error| panic!("{}: could not open {url}: {error}", person.name));
        let what = if url.starts_with("https:") {
            "the sign-in screen over https (if Chromium shows its certificate warning, it does not trust the test certificate's SPKI hash)"
        } else {
            "the sign-in screen"
        };
        person.wait_for(what, "return !!document.querySelector('label[for=\"sign-in-name\"]');").await;
        person.sign_in(person.name).await;
        person
            .wait_for(
                "the call screen",
                &format!(
                    "return document.body.textContent.includes({});",
                    json!(format!("Signed in as {}", person.name))
                ),
            )
            .await;
    }
}

/// The candidate types of the selected pair, as the app shows them on the remote video:
/// `"LOCAL/REMOTE"` (e.g. `"relay/relay"`), once both are there.
async fn selected_candidate_types(person: &Person) -> String {
    let types = person
        .wait_for(
            "the selected candidate pair's types on the remote video (data-selected-candidate-type)",
            r#"const v = document.querySelector('video[aria-label="Remote video"]');
               const local = v && v.getAttribute('data-selected-candidate-type');
               const remote = v && v.getAttribute('data-selected-remote-candidate-type');
               return local && remote ? local + '/' + remote : null;"#,
        )
        .await;
    types.as_str().unwrap_or_default().to_owned()
}

async fn hang_up(caller: &Person, callee: &Person) {
    caller.click_button("Hang up").await;
    caller.wait_for_phase("idle").await;
    callee.wait_for_phase("idle").await;
    callee.wait_for_notice(&format!("{} hung up", caller.name)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_over_https_and_wss_with_the_self_signed_mode_and_through_turn_relay_only() {
    require_loopback_only_network();
    let dist = built_app_directory();
    let suite_started = Instant::now();
    let log_directory = target_directory().join("e2e-logs");
    std::fs::create_dir_all(&log_directory).expect("create the log directory");

    let tls =
        backend::tls::self_signed(vec!["localhost".into(), "127.0.0.1".into()]).expect("a self-signed certificate");
    let spki_hash =
        spki_sha256_base64(tls.certificate_pem.as_deref().expect("the self-signed mode exposes its certificate"));
    let secure_server =
        ServerHandle::start(Config { static_dir: Some(dist.clone()), port: 0, ..Config::default() }, Some(&tls)).await;

    let mut turn = TurnServerProcess::start(&log_directory.join("turnserver.log"));
    turn.wait_until_listening().await;
    let relay_server = ServerHandle::start(
        Config {
            static_dir: Some(dist),
            port: 0,
            turn_urls: vec![turn.url()],
            turn_secret: Some(turn.secret.clone()),
            ..Config::default()
        },
        None,
    )
    .await;

    let mut driver = ChromeDriverProcess::start(&log_directory.join("chromedriver-secure-relayed.log"));
    driver.wait_until_listening().await;
    // Trust exactly the test's certificate (this flag takes effect with --user-data-dir, which
    // every test browser has), rather than --ignore-certificate-errors.
    let trust_test_certificate = [format!("--ignore-certificate-errors-spki-list={spki_hash}")];
    let alice =
        open_browser_with_arguments(driver.port, "alice", MediaSetup::FakeCameraAndMicrophone, &trust_test_certificate)
            .await;
    let bob =
        open_browser_with_arguments(driver.port, "bob", MediaSetup::FakeCameraAndMicrophone, &trust_test_certificate)
            .await;
    println!("set-up (coturn, chromedriver, two browsers): {:.1} s", suite_started.elapsed().as_secs_f64());

    // 1. https:// + wss:// with the self-signed certificate.
    let scenario_started = Instant::now();
    let secure_url = format!("https://127.0.0.1:{}/", secure_server.address.port());
    for person in [&alice, &bob] {
        record_websocket_urls(person).await;
    }
    open_and_sign_in([&alice, &bob], &secure_url).await;
    let expected_websocket = format!("wss://127.0.0.1:{}/ws", secure_server.address.port());
    for person in [&alice, &bob] {
        let protocol = person.run_script("return location.protocol;", vec![]).await;
        assert_eq!(protocol, json!("https:"), "{}: the app should be served over https", person.name);
        let websockets = person.run_script("return (window.__duetWebSocketUrls || []).join(' ');", vec![]).await;
        let websockets = websockets.as_str().unwrap_or_default();
        assert!(
            !websockets.is_empty() && websockets.split(' ').all(|url| url == expected_websocket),
            "{}: the app should open its signaling socket at {expected_websocket} only; it opened {websockets:?}",
            person.name
        );
    }
    let secure_timing = call_and_accept(&alice, &bob, true).await;
    let secure_pair = selected_candidate_types(&alice).await;
    // No TURN here: our end is a host candidate; the peer's is host, or peer-reflexive when its
    // connectivity check arrived before its trickled candidate did. (So the hook tells types apart.)
    assert!(
        secure_pair == "host/host" || secure_pair == "host/prflx",
        "without TURN on loopback the call should run from a host candidate; the selected pair is {secure_pair:?}"
    );
    alice.save_screenshot("https-call-alice-in-call.png").await;
    bob.save_screenshot("https-call-bob-in-call.png").await;

    // /metrics counts the call while it is up (fetched by alice's page over https).
    let metrics = wait_for_metric(&alice, "duet_calls_active", "= 1", |value| value == 1.0).await;
    let metric =
        |series: &str| metric_value(&metrics, series).unwrap_or_else(|| panic!("/metrics has no {series}:\n{metrics}"));
    assert_eq!(metric("duet_users_online"), 2.0, "two people are signed in:\n{metrics}");
    assert!(metric("duet_messages_relayed_total{type=\"offer\"}") >= 1.0, "the offer was relayed:\n{metrics}");
    assert!(metric("duet_messages_relayed_total{type=\"answer\"}") >= 1.0, "the answer was relayed:\n{metrics}");
    assert!(metric("duet_messages_relayed_total{type=\"candidate\"}") > 0.0, "candidates were relayed:\n{metrics}");
    hang_up(&alice, &bob).await;
    for person in [&alice, &bob] {
        person
            .wait_for(
                "the candidate-type hooks to be cleared after the call",
                "const v = document.querySelector('video[aria-label=\"Remote video\"]'); return !!v && !v.hasAttribute('data-selected-candidate-type');",
            )
            .await;
    }
    wait_for_metric(&alice, "duet_calls_active", "= 0 after hang-up", |value| value == 0.0).await;
    println!(
        "https/wss call: {:.1} s (Accept to first remote frame: caller {:.0} ms, callee {:.0} ms)",
        scenario_started.elapsed().as_secs_f64(),
        secure_timing.caller_millis,
        secure_timing.callee_millis
    );

    // 2. Relay only, through coturn: the diagnostic setting leaves the browsers no other path.
    let scenario_started = Instant::now();
    let relay_url = format!("http://127.0.0.1:{}/?ice-transport-policy=relay", relay_server.address.port());
    open_and_sign_in([&alice, &bob], &relay_url).await;
    let relay_timing = call_and_accept(&alice, &bob, false).await;
    for person in [&alice, &bob] {
        let pair = selected_candidate_types(person).await;
        assert_eq!(
            pair,
            "relay/relay",
            "{}: with ?ice-transport-policy=relay the selected candidate pair must be relay on both ends; coturn's log ends with:\n{}",
            person.name,
            turn.log_tail()
        );
    }
    alice.save_screenshot("relay-call-alice-in-call.png").await;
    bob.save_screenshot("relay-call-bob-in-call.png").await;
    hang_up(&alice, &bob).await;
    println!(
        "relay-only call: {:.1} s (Accept to first remote frame: caller {:.0} ms, callee {:.0} ms)",
        scenario_started.elapsed().as_secs_f64(),
        relay_timing.caller_millis,
        relay_timing.callee_millis
    );

    alice.close().await;
    bob.close().await;
    drop(driver);
    drop(relay_server);
    drop(secure_server);
    drop(turn);
    let elapsed = suite_started.elapsed();
    println!("secure and relayed browser calls took {:.1} s", elapsed.as_secs_f64());
    assert!(elapsed < Duration::from_secs(90), "these two calls must stay well under 2 minutes; they took {elapsed:?}");
}
