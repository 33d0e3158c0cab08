//! Browser test of the media controls in real Chromium with fake devices: a state set before
//! the call (alice muted, bob's camera off) is right on the other side as soon as the call
//! connects; mute is heard as silence on the other side (WebAudio analyser on the received
//! stream; bob has a silent fake microphone so alice's beep is the only sound); turning the
//! camera off ends the preview's track and shows the placeholder on the other side instead of a
//! frozen frame; a call started with the camera off gets video later without renegotiation;
//! the other person's state in words appears and disappears.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;

const PREVIEW_VIDEO_TRACK: &str = "const v = document.querySelector('video[aria-label=\"Your camera\"]'); \
     return !!v && !!v.srcObject && v.srcObject.getVideoTracks().length === 1;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mute_and_camera_off_are_seen_and_heard_on_the_other_side() {
    let people = two_people_signed_in(&[], &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);

    // Before the call: alice mutes; bob turns his camera off, which ends the preview's track.
    alice.click_enabled_button("Mute").await;
    alice
        .wait_for(
            "the Unmute button",
            "return [...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Unmute');",
        )
        .await;
    bob.wait_for("bob's preview", PREVIEW_VIDEO_TRACK).await;
    bob.run_script(
        "window.__duetPreviewTrack = document.querySelector('video[aria-label=\"Your camera\"]').srcObject.getVideoTracks()[0];",
        vec![],
    )
    .await;
    bob.click_enabled_button("Turn camera off").await;
    bob.wait_for(
        "the preview's camera track to end",
        "const v = document.querySelector('video[aria-label=\"Your camera\"]'); \
         return window.__duetPreviewTrack.readyState === 'ended' && !v.srcObject \
             && document.body.textContent.includes('Camera is off');",
    )
    .await;

    // The states set before the call hold as soon as it connects.
    people.alice_calls_bob().await;
    alice.wait_for_remote_indicator("bob turned the camera off", true).await;
    alice.wait_for_remote_video_covered(true).await;
    bob.wait_for_remote_indicator("alice is muted", true).await;
    bob.wait_for_remote_video_covered(false).await;

    // Muted is silence at bob's; unmuted is heard; muted again is silence again.
    bob.start_measuring_remote_audio().await;
    bob.wait_for_remote_audio(false).await;
    alice.click_enabled_button("Unmute").await;
    bob.wait_for_remote_indicator("alice is muted", false).await;
    bob.wait_for_remote_audio(true).await;
    alice.click_enabled_button("Mute").await;
    bob.wait_for_remote_indicator("alice is muted", true).await;
    bob.wait_for_remote_audio(false).await;

    // Bob's call started without video; turning the camera on sends it, no renegotiation.
    bob.click_enabled_button("Turn camera on").await;
    alice.wait_for_remote_indicator("bob turned the camera off", false).await;
    alice.wait_for_remote_video_covered(false).await;
    alice.wait_for_remote_video_size("640x480").await;
    alice.wait_for_new_remote_frames().await;
    alice.save_screenshot("in-call-alice.png").await;

    // Off again in the call: the placeholder covers the last frame, the track is released.
    bob.wait_for("bob's preview", PREVIEW_VIDEO_TRACK).await;
    bob.run_script(
        "window.__duetPreviewTrack = document.querySelector('video[aria-label=\"Your camera\"]').srcObject.getVideoTracks()[0];",
        vec![],
    )
    .await;
    bob.click_enabled_button("Turn camera off").await;
    alice.wait_for_remote_video_covered(true).await;
    bob.wait_for("the camera track to end", "return window.__duetPreviewTrack.readyState === 'ended';").await;
    bob.save_screenshot("in-call-bob-camera-off.png").await;

    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    bob.wait_for_remote_indicator("alice is muted", false).await;
    people.close().await;
}
