//! The [`Controller`]'s effects on our own media and devices: the first getUserMedia, mute,
//! camera off/on and switches, screen share, the video shown and sent, the microphone switch
//! (also for a new audio processing), the device list, the choices saved, the level meter. Each new track is kept
//! by `LocalTracks` (which stops the one it replaces) before the reducer hears of it.

use super::Controller;
use crate::call_state::{Action, DeviceKind, Effect};
use crate::devices::{list_devices, save_device_choices, save_do_not_disturb, LevelMeter};
use crate::errors::MediaAccessError;
use crate::local_tracks::LocalTracks;
use crate::media::{
    acquire_camera, acquire_camera_and_microphone, acquire_microphone, acquire_screen, stop_every_track,
};
use crate::spawn::spawn;
use std::future::Future;
use web_sys::MediaStreamTrack;

impl Controller {
    /// Awaits `acquire`, hands the track to `keep` (or stops it when the app is gone), and
    /// reports the outcome with `report`.
    fn acquire_track(
        &self,
        acquire: impl Future<Output = Result<MediaStreamTrack, MediaAccessError>> + 'static,
        keep: impl FnOnce(&Controller, &mut LocalTracks, MediaStreamTrack) + 'static,
        report: impl FnOnce(Option<MediaAccessError>) -> Action + 'static,
    ) {
        let weak = self.weak_self.clone();
        spawn(async move {
            let outcome = acquire.await;
            let Some(controller) = weak.upgrade() else {
                outcome.iter().for_each(MediaStreamTrack::stop);
                return;
            };
            let problem = outcome.map(|track| keep(&controller, &mut controller.tracks.borrow_mut(), track)).err();
            controller.dispatch(report(problem));
        });
    }

    pub(super) fn carry_out_media(&self, effect: Effect) {
        match effect {
            Effect::AcquireLocalMedia(request) => {
                let weak = self.weak_self.clone();
                spawn(async move {
                    let outcome = acquire_camera_and_microphone(&request).await;
                    let Some(controller) = weak.upgrade() else {
                        if let Some(stream) = &outcome.stream {
                            stop_every_track(stream);
                        }
                        return;
                    };
                    controller.tracks.borrow_mut().take_initial(outcome.stream, &controller.dispatcher());
                    controller.dispatch(Action::LocalMediaSettled {
                        has_audio: outcome.has_audio,
                        has_video: outcome.has_video,
                        problem: outcome.problem,
                    });
                });
            }
            Effect::SetMicrophoneEnabled { enabled } => self.tracks.borrow().set_microphone_enabled(enabled),
            Effect::StartCamera { device_id } => self.acquire_track(
                async move { acquire_camera(device_id.as_deref(), false).await },
                |controller, tracks, track| tracks.set_camera(track, controller.dispatcher()),
                |problem| Action::CameraSettled { problem },
            ),
            Effect::SwitchCamera { device_id } => self.acquire_track(
                async move { acquire_camera(device_id.as_deref(), true).await },
                |controller, tracks, track| tracks.set_camera(track, controller.dispatcher()),
                |problem| Action::DeviceSwitched { kind: DeviceKind::Camera, problem },
            ),
            Effect::SwitchMicrophone { device_id, processing } => {
                // The old track goes first: Chromium gives a new track of a device that is still
                // open the processing of the open one, whatever the new constraints say. The
                // sender sends silence until the new track replaces it.
                self.level_meter.replace(None);
                self.tracks.borrow_mut().stop_microphone();
                self.acquire_track(
                    async move { acquire_microphone(device_id.as_deref(), processing).await },
                    |controller, tracks, track| tracks.set_microphone(track, controller.dispatcher()),
                    |problem| Action::DeviceSwitched { kind: DeviceKind::Microphone, problem },
                );
            }
            Effect::StopCamera => self.tracks.borrow_mut().stop_camera(),
            Effect::StartScreenShare => self.acquire_track(
                acquire_screen(),
                |controller, tracks, track| tracks.set_screen(track, controller.dispatcher()),
                |problem| Action::ScreenShareSettled { problem },
            ),
            Effect::StopScreenShare => self.tracks.borrow_mut().stop_screen(),
            Effect::ShowVideoSource { source } => {
                let mut tracks = self.tracks.borrow_mut();
                tracks.show(source);
                if let Some(peer) = self.peer.borrow().as_ref() {
                    peer.send_video(tracks.video_track(source));
                }
            }
            Effect::SendMicrophone => {
                if let Some(peer) = self.peer.borrow().as_ref() {
                    peer.send_audio(self.tracks.borrow().microphone());
                }
            }
            Effect::ListDevices => list_devices(self.dispatcher()),
            Effect::SaveDeviceChoices { choices } => save_device_choices(&choices),
            Effect::SaveDoNotDisturb { on } => save_do_not_disturb(on),
            Effect::StartLevelMeter => {
                let meter =
                    self.tracks.borrow().microphone().and_then(|track| LevelMeter::start(track, self.dispatcher()));
                self.level_meter.replace(meter);
            }
            Effect::StopLevelMeter => {
                self.level_meter.replace(None);
            }
            // The other effects are carried out by `Controller::carry_out`.
            _ => {}
        }
    }
}
