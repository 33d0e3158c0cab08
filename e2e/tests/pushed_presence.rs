//! Browser test of pushed presence in real Chromium: alice is signed in; bob signs in in a new
//! tab and appears in alice's online list ("Call bob") within a second, and is gone from it
//! within a second of closing his tab. Measured inside the two pages with `Date.now()` (both
//! browsers run on this machine, so the clocks agree), not over WebDriver: a MutationObserver in
//! alice's page stamps the moment the button appears and disappears; bob's page stamps the
//! **Sign in** click (before the server even has the name, so the delay measured is at least
//! the real one), and the time is read in his page just before his tab is closed. Three rounds:
//! a list polled every 4 s would show a join within a second only one time in four, so all six
//! delays under a second would happen with polling about once in 4,000 runs.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;
use serde_json::Value;

/// The issue's requirement for pushed presence (a function of the app, not a benchmark).
const WITHIN_MILLIS: f64 = 1000.0;

const ROUNDS: usize = 3;

/// In alice's page: stamps when bob's button appears in the online list and when it goes.
const WATCH_FOR_BOB: &str = r#"
    if (window.__presenceObserver) window.__presenceObserver.disconnect();
    window.__bobAppearedAt = null;
    window.__bobLeftAt = null;
    const present = () => !!document.querySelector('section.people button[aria-label="Call bob"]');
    const check = () => {
        const now = Date.now();
        if (present()) {
            if (window.__bobAppearedAt === null) window.__bobAppearedAt = now;
        } else if (window.__bobAppearedAt !== null && window.__bobLeftAt === null) {
            window.__bobLeftAt = now;
        }
    };
    window.__presenceObserver = new MutationObserver(check);
    window.__presenceObserver.observe(document.body, { childList: true, subtree: true, characterData: true, attributes: true });
    check();
    return present();
"#;

/// In bob's page: stamps the click on **Sign in** (capture phase, before the app sees it).
const STAMP_SIGN_IN_CLICK: &str = r#"
    window.__signInClickedAt = null;
    document.addEventListener('click', (event) => {
        const button = event.target.closest('button');
        if (button && button.textContent.trim() === 'Sign in' && window.__signInClickedAt === null) {
            window.__signInClickedAt = Date.now();
        }
    }, { capture: true });
"#;

fn millis(value: &Value, what: &str) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("{what}: not a time: {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signing_in_appears_in_the_others_list_within_a_second_and_leaves_it_as_fast() {
    require_loopback_only_network();
    let config = backend::Config { static_dir: Some(built_app_directory()), port: 0, ..backend::Config::default() };
    let server = ServerHandle::start(config, None).await;
    let app_url = format!("http://{}/", server.address);
    let log_directory = target_directory().join("e2e-logs");
    std::fs::create_dir_all(&log_directory).expect("create the log directory");
    let mut driver = ChromeDriverProcess::start(&log_directory.join("chromedriver-pushed-presence.log"));
    driver.wait_until_listening().await;
    let alice = open_browser(driver.port, "alice", MediaSetup::FakeCameraAndMicrophone).await;
    alice.client.goto(&app_url).await.expect("alice opens the app");
    alice.sign_in("alice").await;
    alice.wait_for_signed_in().await;
    let bob = open_browser(driver.port, "bob", MediaSetup::FakeCameraAndMicrophone).await;
    let first_tab = bob.client.window().await.expect("bob's first tab");

    for round in 1..=ROUNDS {
        let present = alice.run_script(WATCH_FOR_BOB, vec![]).await;
        assert_eq!(present, Value::Bool(false), "round {round}: bob is not listed before he signs in");

        // Bob opens the app in a new tab, connected, and signs in.
        let tab = bob.client.new_window(true).await.expect("a new tab").handle;
        bob.client.switch_to_window(tab).await.expect("to the new tab");
        bob.client.goto(&app_url).await.expect("bob opens the app");
        bob.wait_for(
            "the connection to the server",
            "return document.querySelector('.app').dataset.signaling === 'connected';",
        )
        .await;
        bob.run_script(STAMP_SIGN_IN_CLICK, vec![]).await;
        bob.sign_in("bob").await;
        bob.wait_for_signed_in().await;
        let clicked_at = millis(&bob.run_script("return window.__signInClickedAt;", vec![]).await, "the click");
        let appeared_at =
            millis(&alice.wait_for("bob in the online list", "return window.__bobAppearedAt;").await, "join");
        let join_delay = appeared_at - clicked_at;

        // Bob closes his tab; the time is read in his page just before.
        let closing_at = millis(&bob.run_script("return Date.now();", vec![]).await, "closing");
        bob.client.close_window().await.expect("bob closes his tab");
        bob.client.switch_to_window(first_tab.clone()).await.expect("back to the first tab");
        let left_at =
            millis(&alice.wait_for("bob gone from the online list", "return window.__bobLeftAt;").await, "leave");
        let leave_delay = left_at - closing_at;

        println!("round {round}: bob listed {join_delay} ms after his Sign in click, gone {leave_delay} ms after his tab closed");
        assert!(
            (0.0..WITHIN_MILLIS).contains(&join_delay),
            "round {round}: bob appeared in alice's list {join_delay} ms after signing in (must be under {WITHIN_MILLIS} ms)"
        );
        assert!(
            (0.0..WITHIN_MILLIS).contains(&leave_delay),
            "round {round}: bob left alice's list {leave_delay} ms after closing his tab (must be under {WITHIN_MILLIS} ms)"
        );
    }
    bob.close().await;
    alice.close().await;
    drop(driver);
    drop(server);
}
