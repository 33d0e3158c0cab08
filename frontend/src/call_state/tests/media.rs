//! Tests of the camera and microphone: asked once, problems kept, calls wait for the prompt.

use super::fixtures::*;

#[test]
fn local_media_is_requested_only_once_per_page() {
    let mut state = signed_in_as_alice();
    state.apply(Action::SignalingClosed { close_code: 1006 });
    state.apply(Action::ReconnectDue);
    state.apply(received(hello()));
    let effects = state.apply(received(login_success("alice", "token-2")));
    assert!(!effects.contains(&Effect::AcquireLocalMedia), "{effects:?}");
}

#[test]
fn media_problem_is_kept_for_the_view() {
    let mut state = signed_in_as_alice();
    state.apply(Action::LocalMediaSettled { has_audio: false, has_video: false, problem: Some(camera_denied()) });
    assert_eq!(
        state.local_media,
        LocalMedia::Ready { has_audio: false, has_video: false, problem: Some(camera_denied()) }
    );
}

#[test]
fn calling_while_the_media_prompt_is_open_waits_instead_of_calling_without_tracks() {
    let mut state = signed_in_as_alice_media_pending();
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    assert!(effects.is_empty(), "no peer connection without our tracks: {effects:?}");
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(notice_text(&state), WAITING_FOR_LOCAL_MEDIA);
    // Once the prompt is answered, calling works.
    state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    assert!(matches!(effects.as_slice(), [Effect::StartOutgoingCall { .. }]), "{effects:?}");
    assert_eq!(state.call.word(), "calling");
}

#[test]
fn accepting_while_the_media_prompt_is_open_keeps_ringing_and_can_accept_later() {
    let mut state = signed_in_as_alice_media_pending();
    state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    let ringing = state.call.clone();
    assert_eq!(ringing.word(), "ringing");
    let effects = state.apply(Action::AcceptClicked);
    assert!(effects.is_empty(), "no peer connection without our tracks: {effects:?}");
    assert_eq!(state.call, ringing, "still ringing");
    assert_eq!(state.notice, Some(Notice::alert(WAITING_FOR_LOCAL_MEDIA)));
    // Media denied is fine too: it is settled, and Accept now answers (receive-only).
    state.apply(Action::LocalMediaSettled { has_audio: false, has_video: false, problem: Some(blocked()) });
    let effects = state.apply(Action::AcceptClicked);
    assert!(matches!(effects.as_slice(), [Effect::AnswerIncomingCall { .. }]), "{effects:?}");
    assert_eq!(state.call.word(), "connecting");
}
