//! Handlers of the **Settings** panel and of the devices: open and close (the microphone level
//! meter runs only while open), the lists from `enumerateDevices` and `devicechange` (a chosen
//! device that is gone falls back to the default, with a notice), a choice in **Camera**,
//! **Microphone** or **Speaker** (switched at once; in a call by `replaceTrack`, never a new
//! offer), the switch done, the audio processing switches (the microphone taken again with the
//! new processing), the choices restored from localStorage.

use super::{AppModel, AudioSwitch, CameraState, DeviceChoices, DeviceKind, Effect, LocalMedia, MediaDevice, Notice};
use crate::errors::MediaAccessError;

impl AppModel {
    pub(super) fn settings_clicked(&mut self, effects: &mut Vec<Effect>) {
        self.settings.open = !self.settings.open;
        if self.settings.open {
            effects.push(Effect::ListDevices);
            effects.push(Effect::StartLevelMeter);
        } else {
            effects.push(Effect::StopLevelMeter);
            self.settings.microphone_level = 0;
        }
    }

    pub(super) fn device_choices_restored(&mut self, choices: DeviceChoices) {
        self.settings.choices = choices;
    }

    pub(super) fn devices_listed(
        &mut self,
        devices: Vec<MediaDevice>,
        speaker_selection_supported: bool,
        effects: &mut Vec<Effect>,
    ) {
        self.settings.devices = devices;
        self.settings.speaker_selection_supported = speaker_selection_supported;
        let mut lost = Vec::new();
        for kind in [DeviceKind::Camera, DeviceKind::Microphone, DeviceKind::Speaker] {
            let Some(chosen) = self.settings.choices.get(kind) else { continue };
            // Without permission the browser lists devices without ids: nothing to compare.
            let listed: Vec<&MediaDevice> =
                self.settings.devices_of(kind).filter(|device| !device.id.is_empty()).collect();
            if listed.is_empty() && self.settings.devices_of(kind).next().is_some() {
                continue;
            }
            if listed.iter().any(|device| &device.id == chosen) {
                continue;
            }
            self.settings.choices.set(kind, None);
            lost.push(kind.word());
            self.switch_device(kind, effects);
        }
        if !lost.is_empty() {
            self.notice = Some(Notice::status(format!(
                "Your chosen {} is no longer available; using the default instead.",
                lost.join(" and ")
            )));
            effects.push(Effect::SaveDeviceChoices { choices: self.settings.choices.clone() });
        }
    }

    /// `id` is the `<option>`'s value: a device id, or empty for the default.
    pub(super) fn device_chosen(&mut self, kind: DeviceKind, id: String, effects: &mut Vec<Effect>) {
        let id = (!id.is_empty()).then_some(id);
        if self.settings.choices.get(kind) == id.as_ref() {
            return;
        }
        self.settings.choices.set(kind, id);
        effects.push(Effect::SaveDeviceChoices { choices: self.settings.choices.clone() });
        self.switch_device(kind, effects);
    }

    /// Takes the chosen device of `kind` now when it is in use (the speaker needs nothing: the
    /// view sets the remote video's sink from the choice).
    fn switch_device(&mut self, kind: DeviceKind, effects: &mut Vec<Effect>) {
        let device_id = self.settings.choices.get(kind).cloned();
        match kind {
            DeviceKind::Camera if self.media.camera == CameraState::On => {
                effects.push(Effect::SwitchCamera { device_id });
            }
            DeviceKind::Microphone if matches!(self.local_media, LocalMedia::Ready { .. }) => {
                effects.push(Effect::SwitchMicrophone { device_id, processing: self.settings.audio_processing });
            }
            DeviceKind::Camera | DeviceKind::Microphone | DeviceKind::Speaker => {}
        }
    }

    /// A camera or microphone switch finished: `None` when the glue holds the new track.
    pub(super) fn device_switched(
        &mut self,
        kind: DeviceKind,
        problem: Option<MediaAccessError>,
        effects: &mut Vec<Effect>,
    ) {
        if let Some(cause) = problem {
            self.notice = Some(Notice::alert(format!("The {} could not be switched: {cause}", kind.word())));
            return;
        }
        match kind {
            DeviceKind::Camera => {
                if self.media.camera == CameraState::On {
                    effects.push(Effect::ShowVideoSource { source: self.media.video_source() });
                } else {
                    // Turned off while switching: release what arrived.
                    effects.push(Effect::StopCamera);
                }
            }
            DeviceKind::Microphone => {
                // The new track keeps the mute, then replaces the old one on the sender.
                effects.push(Effect::SetMicrophoneEnabled { enabled: !self.media.microphone_muted });
                effects.push(Effect::SendMicrophone);
                if self.settings.open {
                    effects.push(Effect::StartLevelMeter);
                }
            }
            DeviceKind::Speaker => {}
        }
    }

    /// Applied live by taking the microphone again with the new processing and replacing it on
    /// the sender: Chromium resolves `applyConstraints` for these three but leaves a live
    /// track's processing as it was (checked in the browser test).
    pub(super) fn audio_processing_changed(&mut self, switch: AudioSwitch, on: bool, effects: &mut Vec<Effect>) {
        self.settings.audio_processing.set(switch, on);
        self.switch_device(DeviceKind::Microphone, effects);
    }

    pub(super) fn microphone_level_measured(&mut self, level: u8) {
        if self.settings.open {
            self.settings.microphone_level = level.min(100);
        }
    }
}
