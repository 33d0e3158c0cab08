//! Tests of the person's own media controls: Mute, Turn camera off/on, Share screen/Stop sharing,
//! before and during a call, and the combinations that break real apps.

use super::fixtures::*;
use crate::peer_message::PeerMessage;

fn media_state(muted: bool, camera_off: bool, sharing_screen: bool) -> Effect {
    Effect::SendPeerMessage(PeerMessage::MediaState { muted, camera_off, sharing_screen })
}

#[test]
fn mute_disables_the_microphone_and_unmute_enables_it_again() {
    let mut state = signed_in_as_alice();
    assert_eq!(state.apply(Action::MuteClicked), vec![Effect::SetMicrophoneEnabled { enabled: false }]);
    assert!(state.media.microphone_muted);
    assert_eq!(state.apply(Action::MuteClicked), vec![Effect::SetMicrophoneEnabled { enabled: true }]);
    assert!(!state.media.microphone_muted);
}

#[test]
fn mute_in_a_call_tells_the_peer_once_the_channel_is_open() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    assert_eq!(state.apply(Action::DataChannelOpened { call_attempt }), vec![media_state(false, false, false)]);
    assert_eq!(
        state.apply(Action::MuteClicked),
        vec![Effect::SetMicrophoneEnabled { enabled: false }, media_state(true, false, false)]
    );
}

#[test]
fn a_state_set_before_the_call_is_sent_when_the_channel_opens() {
    let mut state = signed_in_as_alice();
    state.apply(Action::MuteClicked);
    state.apply(Action::CameraClicked);
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    let Some(Effect::StartOutgoingCall { call_attempt, video, .. }) = effects.first().cloned() else {
        panic!("{effects:?}")
    };
    assert_eq!(video, VideoSource::Nothing, "a call started with the camera off sends no video yet");
    // Toggles while it still rings at bob's are kept, not sent: there is no channel yet.
    assert_eq!(state.apply(Action::MuteClicked), vec![Effect::SetMicrophoneEnabled { enabled: true }]);
    state.apply(Action::MuteClicked);
    assert_eq!(state.apply(Action::DataChannelOpened { call_attempt }), vec![media_state(true, true, false)]);
}

#[test]
fn camera_off_switches_the_video_away_then_releases_the_camera() {
    let mut state = signed_in_as_alice();
    assert_eq!(
        state.apply(Action::CameraClicked),
        vec![Effect::ShowVideoSource { source: VideoSource::Nothing }, Effect::StopCamera]
    );
    assert_eq!(state.media.camera, CameraState::Off);
}

#[test]
fn camera_on_takes_the_camera_again_and_sends_it_once_it_started() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(Action::DataChannelOpened { call_attempt });
    state.apply(Action::CameraClicked);
    assert_eq!(state.apply(Action::CameraClicked), vec![Effect::StartCamera { device_id: None }]);
    assert_eq!(state.media.camera, CameraState::Starting);
    assert_eq!(
        state.apply(Action::CameraSettled { problem: None }),
        vec![Effect::ShowVideoSource { source: VideoSource::Camera }, media_state(false, false, false)]
    );
    assert_eq!(state.media.camera, CameraState::On);
}

#[test]
fn camera_turned_off_again_while_starting_releases_the_track_that_arrives() {
    let mut state = signed_in_as_alice();
    state.apply(Action::CameraClicked);
    state.apply(Action::CameraClicked);
    state.apply(Action::CameraClicked);
    assert_eq!(state.media.camera, CameraState::Off);
    assert_eq!(state.apply(Action::CameraSettled { problem: None }), vec![Effect::StopCamera]);
    assert_eq!(state.media.camera, CameraState::Off);
}

#[test]
fn a_camera_that_cannot_start_stays_off_and_says_why() {
    let mut state = signed_in_as_alice();
    state.apply(Action::CameraClicked);
    state.apply(Action::CameraClicked);
    let problem = MediaAccessError::Refused { name: "NotReadableError".to_owned() };
    assert_eq!(state.apply(Action::CameraSettled { problem: Some(problem) }), vec![]);
    assert_eq!(state.media.camera, CameraState::Off);
    assert!(notice_text(&state).starts_with("The camera could not be turned on:"), "{}", notice_text(&state));
}

#[test]
fn the_camera_button_does_nothing_while_the_first_prompt_is_open() {
    let mut state = signed_in_as_alice_media_pending();
    assert_eq!(state.apply(Action::CameraClicked), vec![]);
    assert_eq!(state.media.camera, CameraState::Starting);
}

#[test]
fn share_screen_sends_the_screen_and_stop_sharing_returns_to_the_camera() {
    let mut state = signed_in_as_alice();
    assert_eq!(state.apply(Action::ShareScreenClicked), vec![Effect::StartScreenShare]);
    assert_eq!(
        state.apply(Action::ScreenShareSettled { problem: None }),
        vec![Effect::ShowVideoSource { source: VideoSource::Screen }]
    );
    assert_eq!(
        state.apply(Action::ShareScreenClicked),
        vec![Effect::ShowVideoSource { source: VideoSource::Camera }, Effect::StopScreenShare]
    );
    assert_eq!(state.media.screen, ScreenShare::Off);
}

#[test]
fn camera_off_then_share_then_stop_sharing_is_back_to_off() {
    let mut state = signed_in_as_alice();
    state.apply(Action::CameraClicked);
    state.apply(Action::ShareScreenClicked);
    state.apply(Action::ScreenShareSettled { problem: None });
    // The browser's own "Stop sharing" bar ends the track.
    assert_eq!(
        state.apply(Action::ScreenShareEnded),
        vec![Effect::ShowVideoSource { source: VideoSource::Nothing }, Effect::StopScreenShare]
    );
    assert_eq!(state.media.camera, CameraState::Off);
    assert_eq!(state.apply(Action::ScreenShareEnded), vec![], "ended twice changes nothing");
}

#[test]
fn sharing_while_the_camera_prompt_is_open_keeps_the_screen_when_the_camera_arrives() {
    let mut state = signed_in_as_alice_media_pending();
    assert_eq!(state.apply(Action::ShareScreenClicked), vec![Effect::StartScreenShare]);
    state.apply(Action::ScreenShareSettled { problem: None });
    let effects = state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    assert_eq!(effects, vec![Effect::ShowVideoSource { source: VideoSource::Screen }, Effect::ListDevices]);
    assert_eq!(state.media.camera, CameraState::On);
    state.apply(Action::ShareScreenClicked);
    assert_eq!(state.media.video_source(), VideoSource::Camera);
}

#[test]
fn a_cancelled_screen_picker_is_a_status_not_an_error() {
    let mut state = signed_in_as_alice();
    state.apply(Action::ShareScreenClicked);
    let problem = MediaAccessError::Refused { name: "NotAllowedError".to_owned() };
    assert_eq!(state.apply(Action::ScreenShareSettled { problem: Some(problem) }), vec![]);
    assert_eq!(state.media.screen, ScreenShare::Off);
    assert_eq!(state.notice, Some(Notice::status("Screen sharing was cancelled.")));
}

/// Headless Firefox has no screen: getDisplayMedia fails with NotFoundError, which used to read
/// "No camera or microphone was found".
#[test]
fn no_screen_to_share_says_screen_sharing_is_not_available_not_no_camera() {
    for name in ["NotFoundError", "NotSupportedError"] {
        let mut state = signed_in_as_alice();
        state.apply(Action::ShareScreenClicked);
        let problem = MediaAccessError::Refused { name: name.to_owned() };
        assert_eq!(state.apply(Action::ScreenShareSettled { problem: Some(problem) }), vec![]);
        assert_eq!(state.media.screen, ScreenShare::Off);
        let told = notice_text(&state);
        assert!(told.starts_with("Screen sharing is not available") && told.contains(name), "{told}");
        assert!(!told.contains("camera"), "{told}");
    }
}

#[test]
fn mute_chosen_while_the_prompt_is_open_applies_to_the_microphone_that_arrives() {
    let mut state = signed_in_as_alice_media_pending();
    state.apply(Action::MuteClicked);
    let effects = state.apply(Action::LocalMediaSettled { has_audio: true, has_video: false, problem: None });
    assert_eq!(
        effects,
        vec![
            Effect::SetMicrophoneEnabled { enabled: false },
            Effect::ShowVideoSource { source: VideoSource::Nothing },
            Effect::ListDevices
        ]
    );
    assert_eq!(state.media.camera, CameraState::Off);
}

#[test]
fn mute_survives_a_screen_share() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(Action::DataChannelOpened { call_attempt });
    state.apply(Action::MuteClicked);
    state.apply(Action::ShareScreenClicked);
    let effects = state.apply(Action::ScreenShareSettled { problem: None });
    assert_eq!(effects, vec![Effect::ShowVideoSource { source: VideoSource::Screen }, media_state(true, false, true)]);
    let effects = state.apply(Action::ShareScreenClicked);
    assert!(effects.contains(&media_state(true, false, false)), "{effects:?}");
    assert!(state.media.microphone_muted);
}

#[test]
fn toggles_while_it_rings_apply_to_the_answer() {
    let (mut state, call_attempt) = alice_ringing_from_bob();
    state.apply(Action::CameraClicked);
    state.apply(Action::MuteClicked);
    let effects = state.apply(Action::AcceptClicked);
    assert!(
        matches!(effects.as_slice(), [Effect::AnswerIncomingCall { video: VideoSource::Nothing, .. }]),
        "the answer starts without video: {effects:?}"
    );
    assert_eq!(state.apply(Action::DataChannelOpened { call_attempt }), vec![media_state(true, true, false)]);
}

#[test]
fn full_screen_and_picture_in_picture_work_in_a_call_where_the_browser_allows_them() {
    let (mut state, _) = alice_in_call_with_bob();
    assert_eq!(state.apply(Action::FullScreenClicked), vec![], "not allowed until detected");
    let features = ViewerFeatures { full_screen: true, picture_in_picture: false };
    state.apply(Action::ViewerFeaturesDetected { features });
    assert_eq!(state.apply(Action::FullScreenClicked), vec![Effect::ToggleFullScreen]);
    assert_eq!(state.apply(Action::PictureInPictureClicked), vec![], "picture in picture not allowed here");
    state.apply(Action::HangUpClicked);
    assert_eq!(state.apply(Action::FullScreenClicked), vec![], "no remote video outside a call");
}

#[test]
fn picture_in_picture_toggles_where_allowed() {
    let (mut state, _) = alice_in_call_with_bob();
    state.apply(Action::ViewerFeaturesDetected {
        features: ViewerFeatures { full_screen: false, picture_in_picture: true },
    });
    assert_eq!(state.apply(Action::PictureInPictureClicked), vec![Effect::TogglePictureInPicture]);
}

#[test]
fn hanging_up_while_sharing_the_screen_stops_the_capture() {
    let (mut state, _) = alice_in_call_with_bob();
    state.apply(Action::ShareScreenClicked);
    state.apply(Action::ScreenShareSettled { problem: None });
    let effects = state.apply(Action::HangUpClicked);
    assert!(effects.contains(&Effect::StopScreenShare), "the capture stops with the call: {effects:?}");
    assert!(effects.contains(&Effect::ShowVideoSource { source: VideoSource::Camera }), "{effects:?}");
    assert_eq!(state.media.screen, ScreenShare::Off);
}

#[test]
fn the_peer_hanging_up_while_we_share_the_screen_stops_the_capture() {
    let (mut state, _) = alice_in_call_with_bob();
    state.apply(Action::ShareScreenClicked);
    state.apply(Action::ScreenShareSettled { problem: None });
    let effects = state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: None }));
    assert!(effects.contains(&Effect::StopScreenShare), "{effects:?}");
    assert_eq!(state.media.screen, ScreenShare::Off);
}

#[test]
fn a_screen_picker_still_open_when_the_call_ends_releases_what_it_picks() {
    let (mut state, _) = alice_in_call_with_bob();
    state.apply(Action::ShareScreenClicked);
    state.apply(Action::HangUpClicked);
    assert_eq!(state.media.screen, ScreenShare::Off);
    assert_eq!(state.apply(Action::ScreenShareSettled { problem: None }), vec![Effect::StopScreenShare]);
}
