//! Browser tests of the **Recent** list in real Chromium (a region named "Recent"; every query
//! is scoped to it, so its "Call NAME" buttons are told from the online list's):
//! - with pushed presence: after a call, each side lists the other with what happened, when, and
//!   "Online"; bob closing his window turns him "Offline" in alice's list, back "Online" when he
//!   signs in again, and "Call bob" from Recent rings him (he declines: "not answered" / "Declined";
//!   a call cancelled while it rings: "Missed call");
//! - on a server run with `--presence-list none` (nobody is listed online): the same statuses
//!   from `presence_query`, asked at once for a new entry and every 30 s (so a change shows
//!   within ~40 s);
//! - a reload keeps the list, per signed-in name (carol in the same browser sees none of it),
//!   and **Clear recent calls** empties it for good.
//!
//! The tests take turns (a lock), so no more than three browsers run at once on 2 cores.
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use backend::config::PresenceList;
use common::*;
use fantoccini::Locator;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// Longer than the app's 30 s presence query interval on a server that lists nobody.
const QUERY_POLL_TIMEOUT: Duration = Duration::from_secs(45);

/// The Recent entry of `name` as "NAME|EVENT, HH:MM|STATUS" (empty when not listed), found in
/// the region whose heading (its `aria-labelledby`) reads "Recent".
fn recent_entry_script(name: &str) -> String {
    format!(
        r#"const region = [...document.querySelectorAll('section[aria-labelledby]')].find(s => {{
               const heading = document.getElementById(s.getAttribute('aria-labelledby'));
               return heading && heading.textContent.trim() === 'Recent'; }});
           if (!region) return '';
           const item = [...region.querySelectorAll('li')].find(li => {{
               const button = li.querySelector('button'); return button && button.getAttribute('aria-label') === {label}; }});
           if (!item) return '';
           return [item.querySelector('bdi').textContent, item.querySelector('.recent-event').textContent,
                   item.querySelector('.recent-status').textContent].join('|');"#,
        label = json!(format!("Call {name}"))
    )
}

/// How many people the Recent region lists.
const RECENT_COUNT: &str = "const heading = document.getElementById('recent-heading'); \
     return heading && heading.textContent === 'Recent' ? String(heading.parentElement.querySelectorAll('li').length) : 'no region';";

/// Waits (up to `timeout`) until `person`'s Recent entry of `name` reads `event` (a regular
/// expression for the words before ", HH:MM") and `status`.
async fn wait_for_recent(person: &Person, name: &str, event: &str, status: &str, timeout: Duration) {
    let pattern = format!("^{name}\\|{event}, \\d\\d:\\d\\d\\|{status}$");
    let condition = format!(
        "const entry = (() => {{ {} }})(); return new RegExp({}).test(entry) ? entry : '';",
        recent_entry_script(name),
        json!(pattern)
    );
    let started = Instant::now();
    loop {
        let value = person.client.execute(&condition, vec![]).await.unwrap_or_default();
        if value.as_str().is_some_and(|text| !text.is_empty()) {
            return;
        }
        if started.elapsed() > timeout {
            let entry = person.run_script(&recent_entry_script(name), vec![]).await;
            panic!(
                "{}: no Recent entry matching {pattern} within {timeout:?}; it reads {entry}; the page shows {}",
                person.name,
                person.page_summary().await
            );
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Clicks "Call NAME" in the Recent region.
async fn call_from_recent(person: &Person, name: &str) {
    let xpath = format!("//section[@aria-labelledby='recent-heading']//button[@aria-label='Call {name}']");
    let button = person.find_within_step_timeout(&format!("Call {name} in Recent"), Locator::XPath(&xpath)).await;
    button.click().await.unwrap_or_else(|error| panic!("{}: clicking Call {name} failed: {error}", person.name));
}

/// The server (with `presence_list`), chromedriver, and alice and bob signed in.
async fn two_people_on(presence_list: PresenceList) -> TwoPeople {
    require_loopback_only_network();
    let config = backend::Config {
        static_dir: Some(built_app_directory()),
        port: 0,
        presence_list,
        ..backend::Config::default()
    };
    let server = ServerHandle::start(config, None).await;
    let log_directory = target_directory().join("e2e-logs");
    std::fs::create_dir_all(&log_directory).expect("create the log directory");
    let mut driver = ChromeDriverProcess::start(&log_directory.join("chromedriver-recent.log"));
    driver.wait_until_listening().await;
    let alice = signed_in(driver.port, &server, "alice").await;
    let bob = signed_in(driver.port, &server, "bob").await;
    TwoPeople { server, driver, alice, bob }
}

async fn signed_in(driver_port: u16, server: &ServerHandle, name: &'static str) -> Person {
    let person = open_browser(driver_port, name, MediaSetup::FakeCameraAndMicrophone).await;
    person.client.goto(&format!("http://{}/", server.address)).await.expect("open the app");
    person.sign_in(name).await;
    person.wait_for_signed_in().await;
    person
}

/// Alice calls bob by name and bob declines.
async fn alice_calls_and_bob_declines(alice: &Person, bob: &Person) {
    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    bob.click_button("Decline").await;
    alice.wait_for_notice("bob declined your call").await;
    bob.wait_for_phase("idle").await;
}

/// Bob closes his window, the recent statuses follow, he comes back and alice calls him from
/// Recent (`timeout`: how long a status may take to change).
async fn bob_leaves_comes_back_and_is_called_from_recent(people: TwoPeople, timeout: Duration) {
    let TwoPeople { server, driver, alice, bob } = people;
    bob.close().await;
    wait_for_recent(&alice, "bob", "Outgoing call(, not answered)?", "Offline", timeout).await;
    let bob = signed_in(driver.port, &server, "bob").await;
    wait_for_recent(&alice, "bob", "Outgoing call(, not answered)?", "Online", timeout).await;
    call_from_recent(&alice, "bob").await;
    alice.wait_for_phase("calling").await;
    bob.wait_for_phase("ringing").await;
    bob.wait_for_notice("alice is calling you.").await;
    bob.click_button("Decline").await;
    alice.wait_for_notice("bob declined your call").await;
    wait_for_recent(&alice, "bob", "Outgoing call, not answered", "Online", STEP_TIMEOUT).await;
    // Bob's list is new (a new browser): alice is in it now.
    wait_for_recent(&bob, "alice", "Declined", "Online", timeout).await;
    // Called again and cancelled while it rings: missed, marked for styling.
    call_from_recent(&alice, "bob").await;
    bob.wait_for_phase("ringing").await;
    alice.click_button("Cancel").await;
    bob.wait_for_phase("idle").await;
    wait_for_recent(&bob, "alice", "Missed call", "Online", STEP_TIMEOUT).await;
    let marked =
        bob.run_script("return document.querySelector('li[data-recent-user=\"alice\"]').dataset.event;", vec![]).await;
    assert_eq!(marked, json!("missed"));
    alice.close().await;
    bob.close().await;
    drop(driver);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_lists_each_side_with_its_status_and_calls_back_with_pushed_presence() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let people = two_people_on(PresenceList::Global).await;
    let (alice, bob) = (&people.alice, &people.bob);
    assert_eq!(alice.run_script(RECENT_COUNT, vec![]).await, json!("0"), "nobody called yet");
    people.alice_calls_bob().await;
    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    wait_for_recent(alice, "bob", "Outgoing call", "Online", STEP_TIMEOUT).await;
    wait_for_recent(bob, "alice", "Incoming call", "Online", STEP_TIMEOUT).await;
    alice.save_screenshot("recent-alice.png").await;
    bob_leaves_comes_back_and_is_called_from_recent(people, STEP_TIMEOUT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_statuses_come_from_presence_queries_on_a_server_that_lists_nobody() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let people = two_people_on(PresenceList::None).await;
    let (alice, bob) = (&people.alice, &people.bob);
    alice_calls_and_bob_declines(alice, bob).await;
    // Asked at once for the new entry.
    wait_for_recent(alice, "bob", "Outgoing call, not answered", "Online", STEP_TIMEOUT).await;
    wait_for_recent(bob, "alice", "Declined", "Online", STEP_TIMEOUT).await;
    let listed = alice.run_script("return document.querySelectorAll('section.people button').length;", vec![]).await;
    assert_eq!(listed, json!(0), "the server lists nobody online");
    bob_leaves_comes_back_and_is_called_from_recent(people, QUERY_POLL_TIMEOUT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_the_recent_list_of_the_signed_in_name_until_it_is_cleared() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let people = two_people_on(PresenceList::Global).await;
    let (alice, bob) = (&people.alice, &people.bob);
    alice_calls_and_bob_declines(alice, bob).await;
    wait_for_recent(alice, "bob", "Outgoing call, not answered", "Online", STEP_TIMEOUT).await;

    let reload_and_sign_in = |name: &'static str| async move {
        alice.client.refresh().await.expect("reload");
        alice.sign_in(name).await;
        let condition = format!(
            "const line = document.querySelector('.signed-in-as'); return !!line && line.textContent === 'Signed in as {name}';"
        );
        alice.wait_for(&format!("signed in as {name}"), &condition).await;
    };
    reload_and_sign_in("alice").await;
    wait_for_recent(alice, "bob", "Outgoing call, not answered", "Online", STEP_TIMEOUT).await;

    // Someone else in the same browser has their own (empty) list.
    reload_and_sign_in("carol").await;
    assert_eq!(alice.run_script(RECENT_COUNT, vec![]).await, json!("0"), "carol does not see alice's list");
    reload_and_sign_in("alice").await;
    wait_for_recent(alice, "bob", "Outgoing call, not answered", "Online", STEP_TIMEOUT).await;

    alice.click_button("Clear recent calls").await;
    alice.wait_for("an empty Recent list", &format!("return (() => {{ {RECENT_COUNT} }})() === '0';")).await;
    reload_and_sign_in("alice").await;
    alice.wait_for_phase("idle").await;
    assert_eq!(alice.run_script(RECENT_COUNT, vec![]).await, json!("0"), "cleared for good");
    people.close().await;
}
