//! Browser tests of calls between browsers: headless Chromium and headless Firefox ESR (Debian's
//! `firefox-esr` through its own geckodriver), on the real server and the real release bundle.
//! Chromium calls Firefox, Firefox calls Chromium and Firefox calls Firefox, each with video
//! both ways (new frames on both sides) and the hang-up seen on the other side; the negotiated
//! codecs read from `getStats` and, with the candidate pair the app shows, written to the test log; a decline each way across the two;
//! a call with no network path (every remote candidate dropped) told as a failed connection on
//! both sides, not as a hang-up; a Firefox without camera or microphone receiving Chromium's
//! video; the other side dropping (its window closed) each way. Then the in-call controls across the
//! two: mute heard as silence, camera off covered by the placeholder, chat both ways, Chromium's
//! screen shared with Firefox, and
//! "Share screen" in headless Firefox (no screen to capture) saying screen sharing is not
//! available, the Speaker select saying Firefox lists no speakers; screenshots of the app in Firefox beside Chromium's in `target/e2e-screenshots/`.
//!
//! The two tests take turns (a lock), so no more than three browsers run at once on 2 cores.
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::firefox::DefaultRouteViaLoopback;
use common::two_browsers::{start, Setup};
use common::*;
use serde_json::json;
use std::time::Instant;
use tokio::sync::Mutex;

/// One test at a time: each opens up to three browsers.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// The codecs the current call's peer connection sends and receives, from `getStats`, as one
/// line ("sends audio/opus video/VP8; receives audio/opus video/VP8"). A string, never a stats
/// object.
const NEGOTIATED_CODECS: &str = r#"
    const done = arguments[arguments.length - 1];
    const connection = (window.__duetConnections || []).filter(c => c.connectionState === 'connected').pop();
    if (!connection) { done('no connected peer connection'); return; }
    connection.getStats().then(report => {
        const codecs = new Map();
        report.forEach(entry => { if (entry.type === 'codec') codecs.set(entry.id, entry.mimeType); });
        const used = (type) => {
            const names = [];
            report.forEach(entry => {
                if (entry.type === type && entry.codecId && codecs.has(entry.codecId)) names.push(codecs.get(entry.codecId));
            });
            return [...new Set(names)].sort().join(' ');
        };
        done(`sends ${used('outbound-rtp')}; receives ${used('inbound-rtp')}`);
    }, error => done(`getStats failed: ${error}`));
"#;

/// Drops every remote ICE candidate (`on`) or adds them again: with both sides dropping them no
/// connectivity check is ever sent, so the call fails for lack of a network path.
fn drop_remote_candidates(on: bool) -> String {
    format!(
        "const proto = RTCPeerConnection.prototype; \
         if (!window.__duetAddIceCandidate) window.__duetAddIceCandidate = proto.addIceCandidate; \
         proto.addIceCandidate = {on} ? function () {{ return Promise.resolve(); }} : window.__duetAddIceCandidate;"
    )
}

/// `caller` calls `callee` with every remote candidate dropped on both sides: the call fails,
/// and each side says the connection failed (issue 14: Chromium said "NAME hung up" when
/// Firefox gave up first).
async fn no_network_path(caller: &Person, callee: &Person) {
    for person in [caller, callee] {
        person.run_script(&drop_remote_candidates(true), vec![]).await;
    }
    caller.type_into_labelled_input("Name to call", callee.name).await;
    caller.click_button("Call").await;
    callee.wait_for_phase("ringing").await;
    callee.click_button("Accept").await;
    for (person, other) in [(caller, callee), (callee, caller)] {
        person.wait_for_notice(&format!("The connection to {} failed", other.name)).await;
        person.wait_for_phase("idle").await;
        let summary = person.page_summary().await;
        assert!(!summary.contains("hung up"), "{}: the failure is not a hang-up: {summary}", person.name);
        eprintln!("{} ({}) was told: {summary}", person.name, person.browser.name());
    }
    for person in [caller, callee] {
        person.run_script(&drop_remote_candidates(false), vec![]).await;
    }
}

/// A Firefox without camera or microphone takes a call from `caller` (Chromium): it sees the
/// caller's video, the caller's connection is up, and its hang-up is seen by the caller.
async fn receive_only_firefox(setup: &Setup, caller: &Person) {
    let _route = DefaultRouteViaLoopback::add();
    let rita = Person::firefox_with("rita", &setup.log_directory, MediaSetup::NoDevices).await;
    rita.client.goto(&setup.app_url).await.unwrap_or_else(|error| panic!("rita: could not open the app: {error}"));
    rita.sign_in("rita").await;
    rita.wait_for(
        "the note that there is no camera or microphone",
        "const note = document.querySelector('.media-problem'); return !!note && note.textContent.includes('You can still call');",
    )
    .await;
    rita.wait_for_phase("idle").await;
    caller.type_into_labelled_input("Name to call", "rita").await;
    caller.click_button("Call").await;
    rita.wait_for_phase("ringing").await;
    rita.click_button("Accept").await;
    rita.wait_until_remote_video_plays().await;
    rita.wait_for_new_remote_frames().await;
    caller
        .wait_for(
            "the connection with rita",
            "return document.querySelector('.app').dataset.peerState === 'connected';",
        )
        .await;
    rita.save_screenshot("cross-browser-receive-only-firefox-rita.png").await;
    rita.click_button("Hang up").await;
    caller.wait_for_notice("rita hung up").await;
    caller.wait_for_phase("idle").await;
    rita.close().await;
}

/// The candidate types of the pair the app found selected ("host/host"), once it shows them.
const SELECTED_PAIR: &str = "const v = document.querySelector('video[aria-label=\"Remote video\"]'); \
    const local = v && v.dataset.selectedCandidateType, remote = v && v.dataset.selectedRemoteCandidateType; \
    return local && remote ? `${local}/${remote}` : '';";

async fn negotiated_codecs(person: &Person) -> String {
    let value = person
        .client
        .execute_async(NEGOTIATED_CODECS, vec![])
        .await
        .unwrap_or_else(|error| panic!("{}: reading the codecs failed: {error}", person.name));
    value.as_str().unwrap_or_default().to_owned()
}

/// `caller` calls `callee`, who accepts; video plays and new frames arrive on both sides; the
/// codecs each side negotiated go to the test log (and must include a video and an audio codec
/// each way); `hanging_up` hangs up and the other side is told so.
async fn call_with_video_both_ways(caller: &Person, callee: &Person, hanging_up: &Person) {
    let started = Instant::now();
    let by_clicking_the_name = caller.browser == Browser::Firefox;
    call_and_accept(caller, callee, by_clicking_the_name).await;
    for person in [caller, callee] {
        person.wait_for_new_remote_frames().await;
        let codecs = negotiated_codecs(person).await;
        // The app reads the selected pair from its own getStats (Firefox: no transport entry).
        let pair = person.wait_for("the selected candidate pair on the remote video", SELECTED_PAIR).await;
        eprintln!(
            "{} ({}) calling {} ({}): {} {codecs}; candidate pair {}",
            caller.name,
            caller.browser.name(),
            callee.name,
            callee.browser.name(),
            person.name,
            pair.as_str().unwrap_or_default()
        );
        let video_and_audio_each_way = codecs.split(';').all(|half| half.contains("video/") && half.contains("audio/"));
        assert!(video_and_audio_each_way, "{}: a video and an audio codec each way, got {codecs:?}", person.name);
    }
    let other = if hanging_up.name == caller.name { callee } else { caller };
    hanging_up.click_button("Hang up").await;
    other.wait_for_phase("idle").await;
    other.wait_for_notice(&format!("{} hung up", hanging_up.name)).await;
    eprintln!("  call and hang-up took {:.1} s", started.elapsed().as_secs_f64());
}

/// `caller` calls `callee`, who declines; the caller is told.
async fn declined(caller: &Person, callee: &Person) {
    caller.type_into_labelled_input("Name to call", callee.name).await;
    caller.click_button("Call").await;
    callee.wait_for_phase("ringing").await;
    callee.click_button("Decline").await;
    caller.wait_for_notice(&format!("{} declined your call", callee.name)).await;
    caller.wait_for_phase("idle").await;
    callee.wait_for_phase("idle").await;
}

/// `caller` calls `callee`, who accepts; once connected, `callee` closes its window and the
/// caller is told the other side is gone: by the closing page on the call's data channel
/// ("NAME hung up") if it still runs its `pagehide`, else by the server once its resume grace
/// period (5 s here) is over ("NAME lost their connection", issue 10).
async fn callee_drops(caller: &Person, callee: Person) {
    caller.type_into_labelled_input("Name to call", callee.name).await;
    caller.click_button("Call").await;
    callee.wait_for_phase("ringing").await;
    callee.click_button("Accept").await;
    caller.wait_until_remote_video_plays().await;
    let name = callee.name;
    callee.close().await;
    let gone = format!(
        "return [...document.querySelectorAll('[role=status],[role=alert]')].some(e => \
         e.textContent.includes({}) || e.textContent.includes({}));",
        serde_json::json!(format!("{name} hung up")),
        serde_json::json!(format!("{name} lost their connection"))
    );
    caller.wait_for("the caller told the other side is gone", &gone).await;
    caller.wait_for_phase("idle").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_and_firefox_call_each_other_both_ways_and_firefox_calls_firefox() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let started = Instant::now();
    let setup = start().await;
    let alice = setup.person(Browser::Chromium, "alice").await;
    let bob = setup.person(Browser::Firefox, "bob").await;
    let frida = setup.person(Browser::Firefox, "frida").await;

    call_with_video_both_ways(&alice, &bob, &alice).await;
    call_with_video_both_ways(&bob, &alice, &alice).await;
    call_with_video_both_ways(&bob, &frida, &bob).await;

    declined(&alice, &frida).await;
    declined(&frida, &alice).await;
    no_network_path(&alice, &bob).await;

    // The other side drops: Firefox's window closes in a call with Chromium, then Chromium's in
    // a call with Firefox.
    callee_drops(&alice, frida).await;
    receive_only_firefox(&setup, &alice).await;
    callee_drops(&bob, alice).await;

    bob.close().await;
    drop(setup);
    eprintln!("cross-browser calls took {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mute_camera_off_chat_and_screen_share_work_between_chromium_and_firefox() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let started = Instant::now();
    let setup = start().await;
    let alice = setup.person(Browser::Chromium, "alice").await;
    let bob = setup.person(Browser::Firefox, "bob").await;

    // Firefox calls Chromium.
    bob.type_into_labelled_input("Name to call", "alice").await;
    bob.click_button("Call").await;
    alice.wait_for_phase("ringing").await;
    alice.click_button("Accept").await;
    alice.wait_until_remote_video_plays().await;
    bob.wait_until_remote_video_plays().await;
    alice.save_screenshot("cross-browser-in-call-chromium-alice.png").await;
    bob.save_screenshot("cross-browser-in-call-firefox-bob.png").await;

    // Mute in Firefox is silence in Chromium; unmuted, Firefox's tone is heard.
    alice.start_measuring_remote_audio().await;
    alice.wait_for_remote_audio(true).await;
    bob.click_enabled_button("Mute").await;
    alice.wait_for_remote_indicator("bob is muted", true).await;
    alice.wait_for_remote_audio(false).await;
    bob.click_enabled_button("Unmute").await;
    alice.wait_for_remote_indicator("bob is muted", false).await;
    alice.wait_for_remote_audio(true).await;
    // Mute in Chromium is shown in Firefox.
    alice.click_enabled_button("Mute").await;
    bob.wait_for_remote_indicator("alice is muted", true).await;

    // Camera off each way: the placeholder covers the last frame; on again, new frames.
    bob.click_enabled_button("Turn camera off").await;
    alice.wait_for_remote_indicator("bob turned the camera off", true).await;
    alice.wait_for_remote_video_covered(true).await;
    alice.click_enabled_button("Turn camera off").await;
    bob.wait_for_remote_indicator("alice turned the camera off", true).await;
    bob.wait_for_remote_video_covered(true).await;
    bob.save_screenshot("cross-browser-camera-off-firefox-bob.png").await;
    for (person, other) in [(&bob, &alice), (&alice, &bob)] {
        person.click_enabled_button("Turn camera on").await;
        other.wait_for_remote_video_covered(false).await;
        other.wait_for_new_remote_frames().await;
    }

    // Chat both ways over the data channel.
    for person in [&alice, &bob] {
        person
            .wait_for(
                "the data channel to open",
                "return document.querySelector('.app').dataset.peerChannel === 'open';",
            )
            .await;
    }
    for (from, to) in [(&alice, &bob), (&bob, &alice)] {
        let text = format!("hello from {} in {}", from.name, from.browser.name());
        from.click_button("Chat").await;
        from.type_into_labelled_input("Message", &format!("{text}\u{E007}")).await;
        to.click_enabled_button("Chat, 1 unread").await;
        let seen = format!(
            "const log = document.querySelector('[role=log][aria-label=\"Chat messages\"]'); \
             return !!log && log.textContent.includes({});",
            json!(text)
        );
        to.wait_for(&format!("{text:?} in {}'s chat", to.name), &seen).await;
        from.click_button("Chat").await;
        to.click_button("Chat").await;
    }

    // Chromium shares its (fake) screen with Firefox, then stops.
    alice.click_enabled_button("Share screen").await;
    bob.wait_for_remote_indicator("alice is sharing their screen", true).await;
    bob.wait_for_new_remote_frames().await;
    // As rendered (innerText), not only in the DOM: the space after the name once collapsed away
    // ("aliceis sharing their screen") in both browsers.
    bob.wait_for(
        "\"alice is sharing their screen\" as rendered",
        "return [...document.querySelectorAll('.remote-indicator')].some(li => li.innerText.trim() === 'alice is sharing their screen');",
    )
    .await;
    bob.save_screenshot("cross-browser-screen-share-firefox-bob.png").await;
    alice.click_enabled_button("Stop sharing").await;
    bob.wait_for_remote_indicator("alice is sharing their screen", false).await;

    // Headless Firefox has no screen to share: the app says so instead of failing.
    bob.click_enabled_button("Share screen").await;
    bob.wait_for_notice("Screen sharing is not available").await;
    bob.wait_for("the call to go on", "return document.querySelector('.app').dataset.callPhase === 'in-call';").await;

    // Firefox lists no audio outputs: the Speaker select says why it offers only "Default".
    bob.click_button("Settings").await;
    let no_speakers = "return document.body.textContent.includes('This browser lists no speakers to choose from');";
    bob.wait_for("the Speaker select saying Firefox lists no speakers", no_speakers).await;

    bob.click_button("Hang up").await;
    alice.wait_for_phase("idle").await;
    alice.wait_for_notice("bob hung up").await;
    alice.close().await;
    bob.close().await;
    drop(setup);
    eprintln!("cross-browser in-call controls took {:.1} s", started.elapsed().as_secs_f64());
}
