//! Browser test of a browser that cannot choose the audio output (`setSinkId` removed by a
//! pre-load script, as in browsers without it): Settings still lists cameras and microphones,
//! and the Speaker select is disabled with the reason in words.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;

const WITHOUT_SET_SINK_ID: &str = "delete HTMLMediaElement.prototype.setSinkId;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_speaker_select_says_why_it_is_disabled_without_set_sink_id() {
    let people = two_people_signed_in_with_bob_preload(&[], &[], Some(WITHOUT_SET_SINK_ID)).await;
    let bob = &people.bob;
    bob.wait_for("bob's preview", "return document.body.textContent.includes('Turn camera off');").await;
    bob.click_button("Settings").await;
    let state = bob
        .wait_for(
            "the Settings panel with its selects",
            "const select = (label) => document.getElementById([...document.querySelectorAll('label')] \
                 .find(l => l.textContent.trim() === label).htmlFor); \
             const camera = select('Camera'), speaker = select('Speaker'); \
             if (camera.options.length < 2) return ''; \
             return `camera ${camera.disabled ? 'disabled' : 'enabled'}, speaker ${speaker.disabled ? 'disabled' : 'enabled'}`;",
        )
        .await;
    assert_eq!(state.as_str(), Some("camera enabled, speaker disabled"));
    bob.wait_for(
        "the reason in words",
        "return document.querySelector('#settings-panel').textContent \
             .includes(\"This browser cannot choose the speaker; sound plays on the system's default output.\");",
    )
    .await;
    people.close().await;
}
