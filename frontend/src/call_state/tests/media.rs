//! Tests of the camera and microphone: asked once, problems kept, Call and Accept clicked during
//! the prompt carried out when it is answered.

use super::fixtures::*;

#[test]
fn local_media_is_requested_only_once_per_page() {
    let mut state = signed_in_as_alice();
    state.apply(Action::SignalingClosed { close_code: 1006 });
    state.apply(Action::ReconnectDue);
    state.apply(received(hello()));
    let effects = state.apply(received(login_success("alice", "token-2")));
    assert!(!effects.iter().any(|effect| matches!(effect, Effect::AcquireLocalMedia(_))), "{effects:?}");
    assert!(!effects.contains(&Effect::AskNotificationPermission), "asked once per page: {effects:?}");
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
fn call_clicked_while_the_media_prompt_is_open_is_carried_out_when_media_is_ready() {
    let mut state = signed_in_as_alice_media_pending();
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    assert!(effects.is_empty(), "no peer connection without our tracks: {effects:?}");
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(state.notice, Some(Notice::status("Calling bob as soon as your camera and microphone are ready…")));
    // The prompt is answered: the call starts at once, and the waiting notice goes.
    let effects = state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    assert!(
        matches!(effects.last(), Some(Effect::StartOutgoingCall { video: VideoSource::Camera, .. })),
        "{effects:?}"
    );
    assert_eq!(state.call.word(), "calling");
    assert_eq!(state.notice, None);
    assert_eq!(state.pending_start, None);
}

#[test]
fn a_bad_name_is_refused_at_once_even_while_the_media_prompt_is_open() {
    let mut state = signed_in_as_alice_media_pending();
    state.apply(Action::CallRequested { typed_name: "alice".to_owned() });
    assert_eq!(notice_text(&state), "That is your own name; type someone else's.");
    assert_eq!(state.pending_start, None);
}

#[test]
fn accept_clicked_while_the_media_prompt_is_open_answers_when_media_is_ready() {
    let mut state = signed_in_as_alice_media_pending();
    state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    let ringing = state.call.clone();
    let effects = state.apply(Action::AcceptClicked);
    assert!(effects.is_empty(), "no peer connection without our tracks: {effects:?}");
    assert_eq!(state.call, ringing, "still ringing");
    assert_eq!(state.notice, Some(Notice::status(WAITING_FOR_LOCAL_MEDIA)));
    // Media denied is fine too: it is settled, and the answer goes now (receive-only).
    let effects =
        state.apply(Action::LocalMediaSettled { has_audio: false, has_video: false, problem: Some(blocked()) });
    assert!(matches!(effects.last(), Some(Effect::AnswerIncomingCall { .. })), "{effects:?}");
    assert_eq!(state.call.word(), "connecting");
    assert_eq!(state.notice, None, "no waiting banner left on screen");
}

#[test]
fn a_pending_accept_is_dropped_when_that_call_stops_ringing() {
    let mut state = signed_in_as_alice_media_pending();
    state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("bob") }));
    state.apply(Action::AcceptClicked);
    state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: None }));
    // Another call rings before the prompt is answered: it is not accepted on its own.
    state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("carol") }));
    let effects = state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    assert!(!effects.iter().any(|effect| matches!(effect, Effect::AnswerIncomingCall { .. })), "{effects:?}");
    assert_eq!(state.call.word(), "ringing");
}

#[test]
fn a_pending_call_is_dropped_when_a_call_rings_meanwhile() {
    let mut state = signed_in_as_alice_media_pending();
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    state.apply(received(ServerMessage::Offer { offer: sdp("offer"), name: name("carol") }));
    let effects = state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    assert!(!effects.iter().any(|effect| matches!(effect, Effect::StartOutgoingCall { .. })), "{effects:?}");
    assert_eq!(state.call.word(), "ringing");
    assert_eq!(state.pending_start, None);
}
