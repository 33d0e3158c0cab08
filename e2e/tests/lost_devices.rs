//! Browser test of a camera and a microphone that stop by themselves mid-call (unplugged, taken
//! by another app: the track's `ended`, raised here on the app's own tracks): the app says so in
//! words, takes the default device again, and sends it, so the other side sees new frames and
//! the audio sender carries a new live track, with no click.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::two_browsers::WATCH_CONNECTIONS;
use common::*;

/// A script returning the id of the live track of `kind` ("audio" or "video") the current call
/// sends, or "".
fn sent_track_id_script(kind: &str) -> String {
    format!(
        "const connection = window.__duetConnections[window.__duetConnections.length - 1]; \
         const sender = connection && connection.getSenders().find(s => s.track && s.track.kind === '{kind}'); \
         return sender && sender.track.readyState === 'live' ? sender.track.id : '';"
    )
}

/// Raises `ended` on the track the current call sends of `kind`, as an unplugged device does.
const END_SENT_TRACK: &str = r#"
    const connection = window.__duetConnections[window.__duetConnections.length - 1];
    const sender = connection.getSenders().find(s => s.track && s.track.kind === arguments[0]);
    sender.track.dispatchEvent(new Event('ended'));
"#;

async fn sent_track_id(person: &Person, kind: &str) -> String {
    let found = person.wait_for(&format!("a live {kind} track being sent"), &sent_track_id_script(kind)).await;
    found.as_str().unwrap_or_default().to_owned()
}

/// Waits until the call sends a live track of `kind` other than `before`.
async fn wait_for_a_new_sent_track(person: &Person, kind: &str, before: &str) {
    let condition =
        format!("const id = (() => {{ {} }})(); return id !== '' && id !== {before:?};", sent_track_id_script(kind));
    person.wait_for(&format!("a new {kind} track being sent"), &condition).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_and_a_microphone_that_stop_by_themselves_are_replaced_without_a_click() {
    let people = two_people_signed_in(&[], &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);
    alice.run_script(WATCH_CONNECTIONS, vec![]).await;
    people.alice_calls_bob().await;
    bob.wait_for_new_remote_frames().await;

    let camera_before = sent_track_id(alice, "video").await;
    alice.run_script(END_SENT_TRACK, vec!["video".into()]).await;
    alice.wait_for_notice("Your camera stopped").await;
    wait_for_a_new_sent_track(alice, "video", &camera_before).await;
    bob.wait_for_new_remote_frames().await;
    bob.wait_for_remote_video_covered(false).await;

    let microphone_before = sent_track_id(alice, "audio").await;
    alice.run_script(END_SENT_TRACK, vec!["audio".into()]).await;
    alice.wait_for_notice("Your microphone stopped").await;
    wait_for_a_new_sent_track(alice, "audio", &microphone_before).await;
    alice.wait_for_phase("in-call").await;

    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    people.close().await;
}
