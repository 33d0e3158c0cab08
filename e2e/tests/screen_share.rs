//! Browser test of screen sharing in real Chromium (headless, `getDisplayMedia` answered by
//! `--auto-select-desktop-capture-source`): the other side's remote video changes to the
//! capture's size and back to the camera's 640x480 on **Stop sharing**, with "NAME is sharing
//! their screen" shown meanwhile; the preview shows what is shared; with the camera off, the
//! track's own `ended` (the browser's "Stop sharing" bar) returns to the placeholder; hanging up
//! while sharing stops the capture.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;

/// The size of the frames alice's preview shows as "WIDTHxHEIGHT", and whether its track is a
/// screen capture.
const PREVIEW_TRACK: &str = "const v = document.querySelector('video[aria-label=\"Your camera\"]'); \
    const track = v && v.srcObject && v.srcObject.getVideoTracks()[0]; \
    if (!track || v.videoWidth === 0) return ''; \
    return `${v.videoWidth}x${v.videoHeight} ${track.getSettings().displaySurface ? 'screen' : 'camera'}`;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_screen_replaces_the_camera_on_the_other_side_and_back() {
    let alice_arguments = ["--auto-select-desktop-capture-source=Entire screen".to_owned()];
    let people = two_people_signed_in(&alice_arguments, &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);
    people.alice_calls_bob().await;
    bob.wait_for_remote_video_size("640x480").await;

    alice.click_enabled_button("Share screen").await;
    let preview = alice
        .wait_for(
            "the preview to show the screen",
            &format!("const t = (() => {{ {PREVIEW_TRACK} }})(); return t.endsWith(' screen') ? t : '';"),
        )
        .await;
    let capture_size = preview.as_str().unwrap_or_default().trim_end_matches(" screen").to_owned();
    assert_ne!(capture_size, "640x480", "the capture is told apart from the camera by its size");
    bob.wait_for_remote_indicator("alice is sharing their screen", true).await;
    bob.wait_for_remote_video_size(&capture_size).await;
    bob.wait_for_new_remote_frames().await;
    bob.save_screenshot("screen-share-bob.png").await;

    alice.click_enabled_button("Stop sharing").await;
    bob.wait_for_remote_video_size("640x480").await;
    bob.wait_for_remote_indicator("alice is sharing their screen", false).await;
    alice
        .wait_for(
            "the preview back on the camera",
            &format!("return ((() => {{ {PREVIEW_TRACK} }})()).endsWith(' camera');"),
        )
        .await;

    // Camera off, share, then the browser ends the capture: back to the placeholder, not the camera.
    alice.click_enabled_button("Turn camera off").await;
    bob.wait_for_remote_video_covered(true).await;
    alice.click_enabled_button("Share screen").await;
    bob.wait_for_remote_video_covered(false).await;
    bob.wait_for_remote_video_size(&capture_size).await;
    alice
        .run_script(
            "const track = document.querySelector('video[aria-label=\"Your camera\"]').srcObject.getVideoTracks()[0]; \
             window.__duetScreenTrack = track; track.dispatchEvent(new Event('ended'));",
            vec![],
        )
        .await;
    bob.wait_for_remote_video_covered(true).await;
    bob.wait_for_remote_indicator("alice is sharing their screen", false).await;
    alice
        .wait_for(
            "the capture released and Share screen offered again",
            "return window.__duetScreenTrack.readyState === 'ended' && document.body.textContent.includes('Camera is off') \
                 && [...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Share screen');",
        )
        .await;

    // Hanging up while sharing stops the capture: nothing keeps recording the screen after the call.
    alice.click_enabled_button("Share screen").await;
    bob.wait_for_remote_video_size(&capture_size).await;
    let shared_surface = alice
        .run_script(
            "const track = document.querySelector('video[aria-label=\"Your camera\"]').srcObject.getVideoTracks()[0]; \
             window.__duetScreenTrack = track; return track.getSettings().displaySurface || '';",
            vec![],
        )
        .await;
    assert_ne!(shared_surface.as_str(), Some(""), "the preview shows the screen capture before the hang-up");
    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    alice
        .wait_for(
            "the screen capture stopped by the hang-up",
            "return window.__duetScreenTrack.readyState === 'ended';",
        )
        .await;
    people.close().await;
}
