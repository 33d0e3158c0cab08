//! Browser test of ICE restart (issue 10): in a connected call, every UDP packet in the test's
//! own network namespace is dropped (`iptables -I INPUT -p udp -j DROP`) for 40 s, longer than
//! Chromium's ICE failure time; both sides show "Reconnecting…" over the remote video and keep
//! restarting ICE; once UDP flows again the remote video plays again on both sides with no
//! click, and it is the same call (never another ring or Accept).
//!
//! Needs `iptables` (`scripts/setup` installs it) and root in a network namespace with only the
//! loopback interface (`scripts/test`): the rule changes that namespace only.

mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long UDP is dropped: longer than Chromium's ICE failure time (about 30 s).
const OUTAGE: Duration = Duration::from_secs(40);
/// How long the video may take to come back once UDP flows (the restart backoff waits up to 10 s).
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(60);

const DROP_UDP: [&str; 6] = ["-I", "INPUT", "-p", "udp", "-j", "DROP"];

/// The packet filter rule dropping UDP, removed (by rule) when dropped, also on panic.
struct UdpDropped;

impl UdpDropped {
    fn start() -> UdpDropped {
        let status = Command::new("iptables").arg("-w").args(DROP_UDP).status().unwrap_or_else(|error| {
            panic!("could not run iptables ({error}); run ./scripts/setup to install the iptables package")
        });
        assert!(status.success(), "iptables refused to add the rule dropping UDP ({status}); this test needs root");
        UdpDropped
    }
}

impl Drop for UdpDropped {
    fn drop(&mut self) {
        let mut rule = DROP_UDP;
        rule[0] = "-D";
        let _ = Command::new("iptables").arg("-w").args(rule).status();
    }
}

/// Records every call phase the page goes through from now on (a new call would ring or connect anew).
const RECORD_PHASES: &str = r#"
    window.__duetPhases = [document.querySelector('.app').dataset.callPhase];
    setInterval(() => {
        const phase = document.querySelector('.app').dataset.callPhase;
        if (window.__duetPhases[window.__duetPhases.length - 1] !== phase) window.__duetPhases.push(phase);
    }, 50);
"#;

const RECONNECTING_ON_THE_VIDEO: &str =
    "const overlay = document.querySelector('.remote-frame [role=status].media-reconnecting'); \
     return !!overlay && overlay.textContent.includes('Reconnecting…');";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_video_comes_back_by_itself_after_a_40_second_network_outage() {
    let people = two_people_signed_in(&[], &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);
    people.alice_calls_bob().await;
    for person in [alice, bob] {
        person.wait_until_remote_video_plays().await;
        person.run_script(RECORD_PHASES, vec![]).await;
    }

    let outage = UdpDropped::start();
    let started = Instant::now();
    for person in [alice, bob] {
        person.wait_for_within("\"Reconnecting…\" over the remote video", RECONNECTING_ON_THE_VIDEO, OUTAGE).await;
    }
    eprintln!("both show Reconnecting… {:.1} s into the outage", started.elapsed().as_secs_f64());
    while started.elapsed() < OUTAGE {
        for person in [alice, bob] {
            let phase = person.run_script("return document.querySelector('.app').dataset.callPhase;", vec![]).await;
            assert_eq!(phase, serde_json::json!("in-call"), "{}: the call goes on during the outage", person.name);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    for person in [alice, bob] {
        person.save_screenshot(&format!("network-outage-{}.png", person.name)).await;
        person.wait_for("\"Reconnecting…\" still shown at the end of the outage", RECONNECTING_ON_THE_VIDEO).await;
    }
    drop(outage);
    let restored = Instant::now();

    for person in [alice, bob] {
        person
            .wait_for_within(
                "the peer connection connected again",
                "return document.querySelector('.app').dataset.peerState === 'connected' \
                     && !document.querySelector('.media-reconnecting');",
                RECOVERY_TIMEOUT,
            )
            .await;
    }
    eprintln!("connected again {:.1} s after UDP flowed", restored.elapsed().as_secs_f64());
    for person in [alice, bob] {
        person.wait_for_new_remote_frames().await;
        let phases = person.run_script("return JSON.stringify(window.__duetPhases);", vec![]).await;
        assert_eq!(phases, serde_json::json!("[\"in-call\"]"), "{}: the same call throughout", person.name);
        let restarts = person.run_script("return document.querySelector('.app').dataset.iceRestarts;", vec![]).await;
        eprintln!("{}: {restarts} ICE restarts", person.name);
    }
    let restarted =
        alice.run_script("return Number(document.querySelector('.app').dataset.iceRestarts);", vec![]).await;
    let restarted_too =
        bob.run_script("return Number(document.querySelector('.app').dataset.iceRestarts);", vec![]).await;
    assert!(
        restarted.as_u64().unwrap_or(0) + restarted_too.as_u64().unwrap_or(0) > 0,
        "the video came back through an ICE restart"
    );
    alice.click_button("Hang up").await;
    bob.wait_for_notice("alice hung up").await;
    people.close().await;
}
