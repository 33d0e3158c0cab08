//! A camera or microphone that stops by itself (unplugged, taken by another app, its
//! permission revoked: the track's `ended`, which our own `stop()` never fires) is replaced by
//! the default device, and the person is told in words. A chosen device that disappeared is
//! forgotten (as when `devicechange` shows it gone, see `from_settings`), so Settings says
//! what is really used.

use super::{AppModel, CameraState, DeviceKind, Effect, LocalMedia, Notice};

impl AppModel {
    pub(super) fn local_device_stopped(&mut self, kind: DeviceKind, effects: &mut Vec<Effect>) {
        match kind {
            DeviceKind::Camera => self.camera_stopped(effects),
            DeviceKind::Microphone => self.microphone_stopped(effects),
            DeviceKind::Speaker => {}
        }
    }

    fn camera_stopped(&mut self, effects: &mut Vec<Effect>) {
        if self.media.camera != CameraState::On {
            return;
        }
        self.forget_chosen_device(DeviceKind::Camera, effects);
        // Away from the dead track first, and the peer sees "camera off" rather than a frozen
        // picture, until the new camera is on (`camera_settled` tells it then).
        self.media.camera = CameraState::Off;
        self.show_video_source(effects);
        effects.push(Effect::StopCamera);
        self.send_media_state(effects);
        self.media.camera = CameraState::Starting;
        effects.push(Effect::StartCamera { device_id: None });
        self.notice = Some(Notice::status("Your camera stopped (was it unplugged?); starting another camera."));
    }

    fn microphone_stopped(&mut self, effects: &mut Vec<Effect>) {
        if !matches!(self.local_media, LocalMedia::Ready { has_audio: true, .. }) {
            return;
        }
        self.forget_chosen_device(DeviceKind::Microphone, effects);
        effects.push(Effect::SwitchMicrophone { device_id: None, processing: self.settings.audio_processing });
        self.notice =
            Some(Notice::status("Your microphone stopped (was it unplugged?); switching to another microphone."));
    }

    fn forget_chosen_device(&mut self, kind: DeviceKind, effects: &mut Vec<Effect>) {
        if self.settings.choices.get(kind).is_some() {
            self.settings.choices.set(kind, None);
            effects.push(Effect::SaveDeviceChoices { choices: self.settings.choices.clone() });
        }
    }
}
