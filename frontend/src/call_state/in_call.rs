//! Handlers of the person's own media — **Mute**/**Unmute**, **Turn camera off**/**on**,
//! **Share screen**/**Stop sharing** — and of **Full screen** and **Picture in picture** (in a
//! call, where the browser allows them), and of the browser settling what they asked for (the
//! camera started, the screen picked, the share ended by the browser's own bar). They work with
//! or without a call: in a call every change is told to the peer on the data channel.
//!
//! Ordering rule for the glue: the video sender and the preview are switched away from a track
//! ([`Effect::ShowVideoSource`]) before that track is stopped.

use super::{AppModel, CallPhase, CameraState, Effect, LocalMedia, Notice, PendingStart, ScreenShare, VideoSource};
use crate::errors::{MediaAccessError, MediaProblem};

impl AppModel {
    pub(super) fn mute_clicked(&mut self, effects: &mut Vec<Effect>) {
        self.media.microphone_muted = !self.media.microphone_muted;
        effects.push(Effect::SetMicrophoneEnabled { enabled: !self.media.microphone_muted });
        self.send_media_state(effects);
    }

    pub(super) fn camera_clicked(&mut self, effects: &mut Vec<Effect>) {
        if !matches!(self.local_media, LocalMedia::Ready { .. }) {
            // The first getUserMedia is still open; the button is disabled meanwhile.
            return;
        }
        match self.media.camera {
            CameraState::On => {
                self.media.camera = CameraState::Off;
                self.show_video_source(effects);
                effects.push(Effect::StopCamera);
                self.send_media_state(effects);
            }
            // The peer hears of it once the camera is on (`camera_settled`).
            CameraState::Off => {
                self.media.camera = CameraState::Starting;
                effects.push(Effect::StartCamera { device_id: self.settings.choices.camera.clone() });
            }
            // A second click while starting cancels: the track is released when it arrives.
            CameraState::Starting => self.media.camera = CameraState::Off,
        }
    }

    /// "Turn camera on" finished: `problem` is `None` when the glue holds a new camera track.
    pub(super) fn camera_settled(&mut self, problem: Option<MediaAccessError>, effects: &mut Vec<Effect>) {
        match (self.media.camera, problem) {
            (CameraState::Starting, None) => {
                self.media.camera = CameraState::On;
                self.show_video_source(effects);
                self.send_media_state(effects);
            }
            (CameraState::Starting, Some(cause)) => {
                self.media.camera = CameraState::Off;
                self.notice = Some(Notice::alert(format!("The camera could not be turned on: {cause}")));
            }
            // Turned off again while it was starting: release what arrived.
            (CameraState::Off, None) => effects.push(Effect::StopCamera),
            (CameraState::Off | CameraState::On, _) => {}
        }
    }

    pub(super) fn share_screen_clicked(&mut self, effects: &mut Vec<Effect>) {
        match self.media.screen {
            ScreenShare::Off => {
                self.media.screen = ScreenShare::Starting;
                effects.push(Effect::StartScreenShare);
            }
            // The browser's picker is open; it answers the click.
            ScreenShare::Starting => {}
            ScreenShare::On => self.stop_sharing(effects),
        }
    }

    /// getDisplayMedia finished: `problem` is `None` when the glue holds the capture track.
    pub(super) fn screen_share_settled(&mut self, problem: Option<MediaAccessError>, effects: &mut Vec<Effect>) {
        if self.media.screen != ScreenShare::Starting {
            if problem.is_none() {
                effects.push(Effect::StopScreenShare);
            }
            return;
        }
        match problem {
            None => {
                self.media.screen = ScreenShare::On;
                self.show_video_source(effects);
                self.send_media_state(effects);
            }
            Some(MediaAccessError::Refused { name }) if name == "NotAllowedError" || name == "AbortError" => {
                self.media.screen = ScreenShare::Off;
                self.notice = Some(Notice::status("Screen sharing was cancelled."));
            }
            // No screen to capture (headless Firefox: NotFoundError), or no getDisplayMedia at all
            // (phones: NotSupportedError from the glue's feature check): not a camera problem.
            Some(MediaAccessError::Refused { name }) if name == "NotFoundError" || name == "NotSupportedError" => {
                self.media.screen = ScreenShare::Off;
                self.notice = Some(Notice::alert(format!(
                    "Screen sharing is not available in this browser: it offers no screen to share ({name})."
                )));
            }
            Some(cause) => {
                self.media.screen = ScreenShare::Off;
                self.notice = Some(Notice::alert(format!("The screen could not be shared: {cause}")));
            }
        }
    }

    /// The capture track ended (the browser's own "Stop sharing" bar, or the shared window closed).
    pub(super) fn screen_share_ended(&mut self, effects: &mut Vec<Effect>) {
        if self.media.screen == ScreenShare::On {
            self.stop_sharing(effects);
        }
    }

    /// The call ended: a screen being shared (or whose picker is still open) stops with it, so
    /// nothing keeps capturing the screen after the call. A picker that still answers later is
    /// stopped by [`Self::screen_share_settled`] (no longer `Starting`).
    pub(super) fn stop_sharing_at_call_end(&mut self, effects: &mut Vec<Effect>) {
        match self.media.screen {
            ScreenShare::Off => {}
            ScreenShare::Starting => self.media.screen = ScreenShare::Off,
            ScreenShare::On => {
                self.media.screen = ScreenShare::Off;
                self.show_video_source(effects);
                effects.push(Effect::StopScreenShare);
            }
        }
    }

    fn stop_sharing(&mut self, effects: &mut Vec<Effect>) {
        self.media.screen = ScreenShare::Off;
        self.show_video_source(effects);
        effects.push(Effect::StopScreenShare);
        self.send_media_state(effects);
    }

    /// The first getUserMedia settled: the camera is on when we got video; a mute or a share
    /// chosen while the prompt was open is applied to what arrived; a Call or Accept clicked
    /// meanwhile is carried out now.
    pub(super) fn local_media_settled(
        &mut self,
        has_audio: bool,
        has_video: bool,
        problem: Option<MediaProblem>,
        effects: &mut Vec<Effect>,
    ) {
        self.local_media = LocalMedia::Ready { has_audio, has_video, problem };
        self.media.camera = if has_video { CameraState::On } else { CameraState::Off };
        if self.media.microphone_muted {
            effects.push(Effect::SetMicrophoneEnabled { enabled: false });
        }
        self.show_video_source(effects);
        self.send_media_state(effects);
        // Now the labels can be listed.
        effects.push(Effect::ListDevices);
        match self.pending_start.take() {
            Some(PendingStart::Accept { call_attempt }) if self.call.call_attempt() == Some(call_attempt) => {
                self.accept_clicked(effects);
            }
            Some(PendingStart::Call { typed_name }) if self.call == CallPhase::Idle => {
                self.call_requested(&typed_name, effects);
            }
            // The call that rang has ended, or another one started meanwhile.
            Some(_) | None => {}
        }
    }

    /// Full screen works on the remote video, so only while it is there (in a call).
    pub(super) fn full_screen_clicked(&mut self, effects: &mut Vec<Effect>) {
        if self.viewer.full_screen && matches!(self.call, CallPhase::InCall { .. }) {
            effects.push(Effect::ToggleFullScreen);
        }
    }

    pub(super) fn picture_in_picture_clicked(&mut self, effects: &mut Vec<Effect>) {
        if self.viewer.picture_in_picture && matches!(self.call, CallPhase::InCall { .. }) {
            effects.push(Effect::TogglePictureInPicture);
        }
    }

    pub(super) fn show_video_source(&self, effects: &mut Vec<Effect>) {
        effects.push(Effect::ShowVideoSource { source: self.media.video_source() });
    }

    /// Our media state, on the data channel when it is open (else it goes when it opens).
    pub(super) fn send_media_state(&self, effects: &mut Vec<Effect>) {
        if self.data_channel_open {
            effects.push(Effect::SendPeerMessage(self.media.peer_message()));
        }
    }

    /// The video a new peer connection starts with.
    pub(super) fn video_source(&self) -> VideoSource {
        self.media.video_source()
    }
}
