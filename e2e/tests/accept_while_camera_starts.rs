//! Browser test of a new person's first call: bob signs in and a call arrives while his
//! browser is still starting the camera (getUserMedia held back by a pre-load script, as an
//! open permission prompt would); his click on **Accept** is carried out as soon as the camera
//! and microphone are ready: no dropped click, no banner left behind, and alice sees bob's video
//! (his tracks are in the answer).
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;

/// getUserMedia waits until the test calls `window.__duetReleaseMedia()`.
const HOLD_MEDIA_BACK: &str = r#"
    (() => {
        const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
        let release;
        const gate = new Promise((resolve) => { release = resolve; });
        window.__duetReleaseMedia = () => release();
        navigator.mediaDevices.getUserMedia = async (constraints) => { await gate; return getUserMedia(constraints); };
    })();
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_clicked_while_the_camera_starts_is_carried_out_when_it_is_ready() {
    let people = two_people_signed_in_with_bob_preload(&[], &[], Some(HOLD_MEDIA_BACK)).await;
    let (alice, bob) = (&people.alice, &people.bob);
    bob.wait_for("bob's camera still starting", "return document.body.textContent.includes('Starting camera…');").await;

    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    bob.click_button("Accept").await;
    bob.wait_for(
        "the word that the answer waits for the camera",
        "const panel = document.querySelector('[aria-label=\"Incoming call\"]'); \
         return !!panel && panel.textContent.includes('the call starts as soon as they are ready');",
    )
    .await;
    assert_eq!(
        bob.run_script("return document.querySelector('.app').dataset.callPhase;", vec![]).await.as_str(),
        Some("ringing"),
        "no answer without bob's tracks"
    );

    bob.run_script("window.__duetReleaseMedia();", vec![]).await;
    for person in [alice, bob] {
        person.wait_for_phase("in-call").await;
    }
    alice.wait_for_remote_video_size("640x480").await;
    alice.wait_for_new_remote_frames().await;
    bob.wait_for(
        "no waiting banner left",
        "return ![...document.querySelectorAll('[role=status],[role=alert]')].some(e => e.textContent.includes('camera and microphone'));",
    )
    .await;

    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    people.close().await;
}
