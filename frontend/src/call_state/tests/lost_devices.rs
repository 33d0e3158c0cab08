//! Tests of a camera or microphone that stops by itself: replaced by the default device, said in
//! words, the peer told "camera off" meanwhile, a vanished chosen device forgotten.

use super::fixtures::*;

#[test]
fn a_camera_that_stops_by_itself_in_a_call_is_replaced_by_the_default_camera() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(Action::DataChannelOpened { call_attempt });
    let effects = state.apply(Action::LocalDeviceStopped { kind: DeviceKind::Camera });
    let start = effects.iter().position(|effect| *effect == Effect::StartCamera { device_id: None });
    let away = effects.iter().position(|effect| *effect == Effect::ShowVideoSource { source: VideoSource::Nothing });
    assert!(matches!((away, start), (Some(away), Some(start)) if away < start), "{effects:?}");
    assert!(effects.contains(&Effect::StopCamera), "the dead track is released: {effects:?}");
    assert!(
        effects.contains(&Effect::SendPeerMessage(crate::peer_message::PeerMessage::MediaState {
            muted: false,
            camera_off: true,
            sharing_screen: false
        })),
        "the peer sees camera off rather than a frozen picture: {effects:?}"
    );
    assert!(notice_text(&state).contains("Your camera stopped"), "{}", notice_text(&state));
    assert_eq!(state.media.camera, CameraState::Starting);
    let effects = state.apply(Action::CameraSettled { problem: None });
    assert!(effects.contains(&Effect::ShowVideoSource { source: VideoSource::Camera }), "{effects:?}");
    assert_eq!(state.media.camera, CameraState::On);
}

#[test]
fn no_other_camera_leaves_the_camera_off_and_says_why() {
    let mut state = signed_in_as_alice();
    state.apply(Action::LocalDeviceStopped { kind: DeviceKind::Camera });
    state
        .apply(Action::CameraSettled { problem: Some(MediaAccessError::Refused { name: "NotFoundError".to_owned() }) });
    assert_eq!(state.media.camera, CameraState::Off);
    assert!(notice_text(&state).contains("could not be turned on"), "{}", notice_text(&state));
}

#[test]
fn a_camera_turned_off_by_the_person_is_not_restarted() {
    let mut state = signed_in_as_alice();
    state.apply(Action::CameraClicked);
    assert_eq!(state.apply(Action::LocalDeviceStopped { kind: DeviceKind::Camera }), vec![]);
    assert_eq!(state.media.camera, CameraState::Off);
}

#[test]
fn a_microphone_that_stops_by_itself_is_replaced_and_a_vanished_choice_forgotten() {
    let mut state = signed_in_as_alice();
    state.apply(Action::DeviceChoicesRestored {
        choices: DeviceChoices { microphone: Some("usb-headset".into()), ..DeviceChoices::default() },
    });
    let effects = state.apply(Action::LocalDeviceStopped { kind: DeviceKind::Microphone });
    assert!(
        effects.contains(&Effect::SwitchMicrophone { device_id: None, processing: state.settings.audio_processing }),
        "{effects:?}"
    );
    assert!(effects.contains(&Effect::SaveDeviceChoices { choices: DeviceChoices::default() }), "{effects:?}");
    assert!(notice_text(&state).contains("Your microphone stopped"), "{}", notice_text(&state));
    let effects = state.apply(Action::DeviceSwitched { kind: DeviceKind::Microphone, problem: None });
    assert!(effects.contains(&Effect::SendMicrophone), "{effects:?}");
}

#[test]
fn without_a_microphone_nothing_is_switched() {
    let mut state = signed_in_as_alice_media_pending();
    assert_eq!(state.apply(Action::LocalDeviceStopped { kind: DeviceKind::Microphone }), vec![]);
}
