//! Browser test that a tenth call in the same tabs is as good as the first: ten calls between
//! the same two pages, each with the camera turned off and on again, and
//! after each one every peer connection the page made is closed, every remote track ended,
//! every data channel closed, and no more than one microphone and one camera track are live
//! (each replaced track was stopped). The page's RTCPeerConnection, getUserMedia and
//! createDataChannel are wrapped before the first call to keep count (strings and numbers
//! only go back to WebDriver).
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;
use std::time::Instant;

const CALLS: usize = 10;

/// Wraps the page's constructors so the test can count what the app made.
const RECORD_MEDIA_OBJECTS: &str = r#"
    window.__duetConnections = [];
    window.__duetChannels = [];
    window.__duetCapturedTracks = [];
    const Original = window.RTCPeerConnection;
    window.RTCPeerConnection = function (configuration) {
        const connection = new Original(configuration);
        window.__duetConnections.push(connection);
        const createDataChannel = connection.createDataChannel.bind(connection);
        connection.createDataChannel = (...args) => {
            const channel = createDataChannel(...args);
            window.__duetChannels.push(channel);
            return channel;
        };
        return connection;
    };
    window.RTCPeerConnection.prototype = Original.prototype;
    const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => {
        const stream = await getUserMedia(constraints);
        window.__duetCapturedTracks.push(...stream.getTracks());
        return stream;
    };
"#;

/// "ok", or what is still alive.
const EVERYTHING_RELEASED: &str = r#"
    const open = window.__duetConnections.filter(c => c.connectionState !== 'closed').length;
    const liveRemote = window.__duetConnections.flatMap(c => c.getReceivers()).filter(r => r.track.readyState !== 'ended').length;
    const openChannels = window.__duetChannels.filter(c => c.readyState !== 'closed').length;
    const liveCaptured = window.__duetCapturedTracks.filter(t => t.readyState === 'live').map(t => t.kind).sort().join(',');
    const problems = [];
    if (open) problems.push(`${open} peer connections open`);
    if (liveRemote) problems.push(`${liveRemote} remote tracks live`);
    if (openChannels) problems.push(`${openChannels} data channels open`);
    if (!['audio,video', 'audio', 'video', ''].includes(liveCaptured)) problems.push(`live captured tracks: ${liveCaptured}`);
    return problems.length ? problems.join('; ') : `ok ${window.__duetConnections.length}`;
"#;

/// Polls [`EVERYTHING_RELEASED`] until it says "ok" (release is asynchronous) or the step
/// timeout passes; returns the last verdict.
async fn released_verdict(person: &Person) -> String {
    let started = Instant::now();
    loop {
        let verdict = person.run_script(EVERYTHING_RELEASED, vec![]).await.as_str().unwrap_or_default().to_owned();
        if verdict.starts_with("ok") || started.elapsed() > STEP_TIMEOUT {
            return verdict;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenth_call_in_the_same_tabs_releases_everything_like_the_first() {
    let people = two_people_signed_in(&[], &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);
    for person in [alice, bob] {
        person.run_script(RECORD_MEDIA_OBJECTS, vec![]).await;
    }
    for call in 1..=CALLS {
        people.alice_calls_bob().await;
        alice.wait_for_new_remote_frames().await;
        bob.wait_for_new_remote_frames().await;
        bob.click_enabled_button("Turn camera off").await;
        alice.wait_for_remote_video_covered(true).await;
        bob.click_enabled_button("Turn camera on").await;
        alice.wait_for_remote_video_covered(false).await;
        alice.wait_for_new_remote_frames().await;
        alice.click_button("Hang up").await;
        bob.wait_for_phase("idle").await;
        alice.wait_for_phase("idle").await;
        for person in [alice, bob] {
            let verdict = released_verdict(person).await;
            assert_eq!(verdict, format!("ok {call}"), "{} after call {call}", person.name);
        }
    }
    people.close().await;
}
