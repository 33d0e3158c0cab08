//! Tests of the Settings panel and devices: choices switch at once (by replaceTrack in a call,
//! never an offer), survive mute, fall back to the default when unplugged, are remembered; the
//! audio switches apply live; the level meter runs only while the panel is open.

use super::fixtures::*;

fn device(kind: DeviceKind, id: &str) -> MediaDevice {
    MediaDevice { kind, id: id.to_owned(), label: format!("{id} label") }
}

fn three_cameras_and_two_microphones() -> Vec<MediaDevice> {
    vec![
        device(DeviceKind::Camera, "cam-0"),
        device(DeviceKind::Camera, "cam-1"),
        device(DeviceKind::Camera, "cam-2"),
        device(DeviceKind::Microphone, "mic-0"),
        device(DeviceKind::Microphone, "mic-1"),
        device(DeviceKind::Speaker, "out-0"),
    ]
}

fn chosen(kind: DeviceKind, id: &str) -> Action {
    Action::DeviceChosen { kind, id: id.to_owned() }
}

#[test]
fn choosing_a_camera_in_a_call_switches_it_without_any_message_to_the_server() {
    let (mut state, _) = alice_in_call_with_bob();
    let effects = state.apply(chosen(DeviceKind::Camera, "cam-1"));
    assert_eq!(
        effects,
        vec![
            Effect::SaveDeviceChoices {
                choices: DeviceChoices { camera: Some("cam-1".to_owned()), ..DeviceChoices::default() }
            },
            Effect::SwitchCamera { device_id: Some("cam-1".to_owned()) },
        ]
    );
    let effects = state.apply(Action::DeviceSwitched { kind: DeviceKind::Camera, problem: None });
    assert_eq!(effects, vec![Effect::ShowVideoSource { source: VideoSource::Camera }]);
    assert!(sent(&effects).is_empty(), "no renegotiation");
}

#[test]
fn a_camera_chosen_while_it_is_off_is_used_when_it_is_turned_on() {
    let mut state = signed_in_as_alice();
    state.apply(Action::CameraClicked);
    let effects = state.apply(chosen(DeviceKind::Camera, "cam-2"));
    assert!(!effects.iter().any(|effect| matches!(effect, Effect::SwitchCamera { .. })), "{effects:?}");
    assert_eq!(state.apply(Action::CameraClicked), vec![Effect::StartCamera { device_id: Some("cam-2".to_owned()) }]);
}

#[test]
fn mute_then_switch_microphone_stays_muted() {
    let (mut state, _) = alice_in_call_with_bob();
    state.apply(Action::MuteClicked);
    let effects = state.apply(chosen(DeviceKind::Microphone, "mic-1"));
    assert!(
        effects.contains(&Effect::SwitchMicrophone {
            device_id: Some("mic-1".to_owned()),
            processing: AudioProcessing::default()
        }),
        "{effects:?}"
    );
    let effects = state.apply(Action::DeviceSwitched { kind: DeviceKind::Microphone, problem: None });
    assert_eq!(effects, vec![Effect::SetMicrophoneEnabled { enabled: false }, Effect::SendMicrophone]);
    assert!(state.media.microphone_muted);
}

#[test]
fn choosing_the_same_device_again_does_nothing_and_empty_means_default() {
    let mut state = signed_in_as_alice();
    state.apply(chosen(DeviceKind::Speaker, "out-0"));
    assert_eq!(state.apply(chosen(DeviceKind::Speaker, "out-0")), vec![]);
    let effects = state.apply(chosen(DeviceKind::Speaker, ""));
    assert_eq!(effects, vec![Effect::SaveDeviceChoices { choices: DeviceChoices::default() }]);
}

#[test]
fn a_failed_switch_says_why() {
    let (mut state, _) = alice_in_call_with_bob();
    state.apply(chosen(DeviceKind::Camera, "cam-1"));
    let problem = MediaAccessError::Refused { name: "NotReadableError".to_owned() };
    assert_eq!(state.apply(Action::DeviceSwitched { kind: DeviceKind::Camera, problem: Some(problem) }), vec![]);
    assert!(notice_text(&state).starts_with("The camera could not be switched:"), "{}", notice_text(&state));
}

#[test]
fn an_unplugged_chosen_device_falls_back_to_the_default_with_a_notice() {
    let mut state = signed_in_as_alice();
    state.apply(Action::DevicesListed {
        devices: three_cameras_and_two_microphones(),
        speaker_selection_supported: true,
    });
    state.apply(chosen(DeviceKind::Camera, "cam-2"));
    state.apply(chosen(DeviceKind::Microphone, "mic-1"));
    let mut fewer = three_cameras_and_two_microphones();
    fewer.retain(|device| device.id != "cam-2");
    let effects = state.apply(Action::DevicesListed { devices: fewer, speaker_selection_supported: true });
    assert_eq!(
        effects,
        vec![
            Effect::SwitchCamera { device_id: None },
            Effect::SaveDeviceChoices {
                choices: DeviceChoices { microphone: Some("mic-1".to_owned()), ..DeviceChoices::default() }
            },
        ]
    );
    assert_eq!(notice_text(&state), "Your chosen camera is no longer available; using the default instead.");
}

#[test]
fn devices_listed_without_permission_do_not_count_as_unplugged() {
    let mut state = signed_in_as_alice();
    state.apply(Action::DeviceChoicesRestored {
        choices: DeviceChoices { camera: Some("cam-1".to_owned()), ..DeviceChoices::default() },
    });
    let unlabelled = vec![MediaDevice { kind: DeviceKind::Camera, id: String::new(), label: String::new() }];
    assert_eq!(state.apply(Action::DevicesListed { devices: unlabelled, speaker_selection_supported: false }), vec![]);
    assert_eq!(state.settings.choices.camera.as_deref(), Some("cam-1"));
}

#[test]
fn restored_choices_are_asked_for_at_sign_in() {
    let mut state = AppModel::new();
    let choices = DeviceChoices::from_storage(Some(r#"{"camera":"cam-1","microphone":"mic-1"}"#));
    state.apply(Action::DeviceChoicesRestored { choices });
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    let effects = state.apply(received(login_success("alice", "token-1")));
    assert!(
        effects.contains(&Effect::AcquireLocalMedia(MediaRequest {
            camera: Some("cam-1".to_owned()),
            microphone: Some("mic-1".to_owned()),
            processing: AudioProcessing::default(),
        })),
        "{effects:?}"
    );
}

#[test]
fn stored_choices_round_trip_and_garbage_is_the_defaults() {
    let choices = DeviceChoices { speaker: Some("out-0".to_owned()), ..DeviceChoices::default() };
    assert_eq!(choices.to_storage(), r#"{"speaker":"out-0"}"#);
    assert_eq!(DeviceChoices::from_storage(Some(&choices.to_storage())), choices);
    assert_eq!(DeviceChoices::from_storage(Some("{not json")), DeviceChoices::default());
    assert_eq!(DeviceChoices::from_storage(None), DeviceChoices::default());
}

#[test]
fn audio_switches_apply_live_by_taking_the_chosen_microphone_again() {
    let mut state = signed_in_as_alice();
    state.apply(chosen(DeviceKind::Microphone, "mic-1"));
    let effects = state.apply(Action::AudioProcessingChanged { switch: AudioSwitch::NoiseSuppression, on: false });
    let processing = AudioProcessing { noise_suppression: false, ..AudioProcessing::default() };
    assert_eq!(effects, vec![Effect::SwitchMicrophone { device_id: Some("mic-1".to_owned()), processing }]);
    // The next microphone taken keeps the choice.
    let effects = state.apply(chosen(DeviceKind::Microphone, ""));
    assert!(effects.contains(&Effect::SwitchMicrophone { device_id: None, processing }), "{effects:?}");
}

#[test]
fn the_level_meter_runs_only_while_settings_is_open() {
    let mut state = signed_in_as_alice();
    state.apply(Action::MicrophoneLevelMeasured { level: 50 });
    assert_eq!(state.settings.microphone_level, 0, "closed: readings are ignored");
    assert_eq!(state.apply(Action::SettingsClicked), vec![Effect::ListDevices, Effect::StartLevelMeter]);
    state.apply(Action::MicrophoneLevelMeasured { level: 250 });
    assert_eq!(state.settings.microphone_level, 100);
    assert_eq!(state.apply(Action::SettingsClicked), vec![Effect::StopLevelMeter]);
    assert_eq!(state.settings.microphone_level, 0);
}

#[test]
fn a_device_plugged_in_or_out_lists_the_devices_again() {
    let mut state = signed_in_as_alice();
    assert_eq!(state.apply(Action::DevicesChanged), vec![Effect::ListDevices]);
}

#[test]
fn stored_choices_are_written_and_read_as_serde_json_wrote_and_read_them() {
    let all = DeviceChoices {
        camera: Some("cam \"1\"".to_owned()),
        microphone: Some("mic-é".to_owned()),
        speaker: Some("out\\0".to_owned()),
    };
    let expected = serde_json::json!({ "camera": "cam \"1\"", "microphone": "mic-é", "speaker": "out\\0" });
    assert_eq!(all.to_storage(), serde_json::to_string(&expected).expect("serializes"));
    assert_eq!(DeviceChoices::from_storage(Some(&all.to_storage())), all);
    assert_eq!(DeviceChoices::default().to_storage(), "{}");
    let skipped = r#" { "camera" : null , "speaker" : "s" , "volume" : 3 } "#;
    assert_eq!(
        DeviceChoices::from_storage(Some(skipped)),
        DeviceChoices { speaker: Some("s".to_owned()), ..DeviceChoices::default() }
    );
    for unreadable in [r#"{"camera":7}"#, r#"{"camera":"a","camera":"b"}"#, r#"["a"]"#, r#"{"camera":"a"} x"#] {
        assert_eq!(DeviceChoices::from_storage(Some(unreadable)), DeviceChoices::default(), "{unreadable}");
    }
}
