//! Browser test of the Settings panel in real Chromium with three fake cameras: the Camera,
//! Microphone and Speaker selects list the devices by label; switching the camera in a call
//! keeps the other side's video playing with no new offer relayed by the server (its
//! `/metrics` offer counter); switching the microphone keeps the other side hearing us; the
//! speaker choice reaches the remote video's `sinkId`; the level meter moves; the mute holds
//! across a microphone switch; noise suppression is turned off on the live track; an unplugged
//! chosen camera falls back to the default with a notice; the choices are remembered in
//! localStorage.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::metrics::{metric_value, metrics_seen_by};
use common::*;
use fantoccini::Locator;
use serde_json::json;

/// Records the tracks getUserMedia gives from now on in `window.__duetCaptured`.
const RECORD_CAPTURED_TRACKS: &str = "window.__duetCaptured = []; \
    const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices); \
    navigator.mediaDevices.getUserMedia = async (c) => { const s = await getUserMedia(c); window.__duetCaptured.push(...s.getTracks()); return s; };";

const OFFERS_RELAYED: &str = "duet_messages_relayed_total{type=\"offer\"}";

async fn offers_relayed(person: &Person) -> f64 {
    metric_value(&metrics_seen_by(person).await, OFFERS_RELAYED).unwrap_or(0.0)
}

/// The select labelled `label`.
async fn select_labelled(person: &Person, label: &str) -> fantoccini::elements::Element {
    let xpath = format!("//select[@id=//label[normalize-space(.)='{label}']/@for]");
    person.find_within_step_timeout(&format!("a select labelled {label:?}"), Locator::XPath(&xpath)).await
}

/// The option texts and values of the select labelled `label`, as "TEXT=VALUE" lines.
async fn options_of(person: &Person, label: &str) -> Vec<String> {
    let script = format!(
        "const label = [...document.querySelectorAll('label')].find(l => l.textContent.trim() === {}); \
         const select = label && document.getElementById(label.htmlFor); \
         return select ? [...select.options].map(o => o.textContent + '=' + o.value).join('\\n') : '';",
        json!(label)
    );
    let text = person.wait_for(&format!("the options of {label:?}"), &script).await;
    text.as_str().unwrap_or_default().lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_switch_in_a_call_without_a_new_offer() {
    let three_cameras = ["--use-fake-device-for-media-stream=device-count=3".to_owned()];
    let people = two_people_signed_in(&three_cameras, &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);
    people.alice_calls_bob().await;
    bob.wait_for_new_remote_frames().await;
    bob.start_measuring_remote_audio().await;
    bob.wait_for_remote_audio(true).await;
    assert_eq!(offers_relayed(alice).await, 1.0, "one offer for the call");

    alice.click_button("Settings").await;
    let cameras = options_of(alice, "Camera").await;
    assert_eq!(cameras.len(), 4, "Default and three cameras: {cameras:?}");
    assert!(cameras[1..].iter().all(|option| !option.starts_with("Camera ")), "listed by their labels: {cameras:?}");
    assert!(options_of(alice, "Microphone").await.len() > 1);
    let speakers = options_of(alice, "Speaker").await;
    assert!(speakers.len() > 1, "{speakers:?}");

    // The third camera: alice's preview shows it, bob keeps getting frames.
    let (camera_label, _) = cameras[3].split_once('=').expect("TEXT=VALUE");
    let select = select_labelled(alice, "Camera").await;
    select.select_by_index(3).await.expect("choose the third camera");
    alice
        .wait_for(
            "the preview on the chosen camera",
            &format!(
                "const v = document.querySelector('video[aria-label=\"Your camera\"]'); \
                 return !!v && !!v.srcObject && v.srcObject.getVideoTracks()[0].label === {};",
                json!(camera_label)
            ),
        )
        .await;
    bob.wait_for_new_remote_frames().await;
    bob.wait_for_remote_video_size("640x480").await;

    // Another microphone while muted: still silent at bob's (the mute holds), heard once unmuted;
    // the meter moves. The new track is recorded to check the processing switches on it.
    alice.run_script(RECORD_CAPTURED_TRACKS, vec![]).await;
    alice.click_enabled_button("Mute").await;
    bob.wait_for_remote_audio(false).await;
    let select = select_labelled(alice, "Microphone").await;
    select.select_by_index(2).await.expect("choose another microphone");
    alice.wait_for("the new microphone track", "return window.__duetCaptured.some(t => t.kind === 'audio');").await;
    bob.wait_for_remote_audio(false).await;
    alice.click_enabled_button("Unmute").await;
    bob.wait_for_remote_audio(true).await;
    alice.wait_for("the level meter to move", "return document.getElementById('microphone-level').value > 0;").await;

    // Noise suppression off, applied to the live track.
    alice.click_labelled_checkbox("Noise suppression").await;
    alice
        .wait_for(
            "noise suppression off on the microphone track",
            "const track = window.__duetCaptured.filter(t => t.kind === 'audio').pop(); \
             return track.getSettings().noiseSuppression === false;",
        )
        .await;

    // A speaker: the remote video plays on it.
    let (_, speaker_id) = speakers[1].split_once('=').expect("TEXT=VALUE");
    let select = select_labelled(alice, "Speaker").await;
    select.select_by_index(1).await.expect("choose a speaker");
    alice
        .wait_for(
            "the remote video on the chosen speaker",
            &format!(
                "return document.querySelector('video[aria-label=\"Remote video\"]').sinkId === {};",
                json!(speaker_id)
            ),
        )
        .await;
    alice.save_screenshot("settings-alice.png").await;

    assert_eq!(offers_relayed(alice).await, 1.0, "switching devices sent no new offer");

    // The chosen camera is unplugged: the default camera takes over, with a notice.
    let (_, gone_id) = cameras[3].split_once('=').expect("TEXT=VALUE");
    alice
        .run_script(
            "const gone = arguments[0]; \
             const enumerate = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices); \
             navigator.mediaDevices.enumerateDevices = async () => (await enumerate()).filter(d => d.deviceId !== gone); \
             navigator.mediaDevices.dispatchEvent(new Event('devicechange'));",
            vec![json!(gone_id)],
        )
        .await;
    alice.wait_for_notice("Your chosen camera is no longer available; using the default instead.").await;
    let (default_label, _) = cameras[1].split_once('=').expect("TEXT=VALUE");
    alice
        .wait_for(
            "the preview back on the default camera",
            &format!(
                "const v = document.querySelector('video[aria-label=\"Your camera\"]'); \
                 return !!v && !!v.srcObject && v.srcObject.getVideoTracks()[0].label === {};",
                json!(default_label)
            ),
        )
        .await;
    assert_eq!(options_of(alice, "Camera").await.len(), 3, "the list updated");
    bob.wait_for_new_remote_frames().await;
    let stored = alice.run_script("return localStorage.getItem('duet-device-choices') || '';", vec![]).await;
    let stored = stored.as_str().unwrap_or_default().to_owned();
    assert!(stored.contains(speaker_id) && !stored.contains(gone_id), "the choices are remembered: {stored}");

    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    people.close().await;
}
