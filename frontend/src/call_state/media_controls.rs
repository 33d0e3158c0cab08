//! What the person chose for their own media ([`MediaControls`]: microphone muted, camera on or
//! off, screen shared or not), which video that means we show and send ([`VideoSource`]), and
//! what the other person told us about theirs ([`RemoteMediaState`]).

use crate::peer_message::PeerMessage;

/// Our camera, as the person chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CameraState {
    /// Released: no capture track, the camera light is off.
    Off,
    /// Asked for with getUserMedia (at page start, or after "Turn camera on").
    Starting,
    /// Capturing.
    On,
}

/// Our screen share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenShare {
    Off,
    /// getDisplayMedia is asking the person what to share.
    Starting,
    On,
}

/// Which of our video tracks the preview shows and the call's video sender sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoSource {
    Camera,
    Screen,
    /// No video: the sender sends nothing, the preview shows a placeholder.
    Nothing,
}

/// Microphone, camera and screen as the person set them; independent of any call, so a state
/// set before calling holds in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaControls {
    pub microphone_muted: bool,
    pub camera: CameraState,
    pub screen: ScreenShare,
}

impl MediaControls {
    /// Before getUserMedia settles: the camera is being started.
    pub const INITIAL: MediaControls =
        MediaControls { microphone_muted: false, camera: CameraState::Starting, screen: ScreenShare::Off };

    /// The video to show and send: the screen while shared, else the camera while on.
    pub fn video_source(&self) -> VideoSource {
        match (self.screen, self.camera) {
            (ScreenShare::On, _) => VideoSource::Screen,
            (_, CameraState::On) => VideoSource::Camera,
            _ => VideoSource::Nothing,
        }
    }

    /// What the other side is told.
    pub fn peer_message(&self) -> PeerMessage {
        PeerMessage::MediaState {
            muted: self.microphone_muted,
            camera_off: self.camera != CameraState::On,
            sharing_screen: self.screen == ScreenShare::On,
        }
    }
}

/// The other person's media, as their app last said (see [`PeerMessage::MediaState`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemoteMediaState {
    pub muted: bool,
    pub camera_off: bool,
    pub sharing_screen: bool,
}

impl RemoteMediaState {
    /// True when the remote video would show a frozen frame or nothing: cover it.
    pub fn video_hidden(&self) -> bool {
        self.camera_off && !self.sharing_screen
    }
}

/// What the browser allows for watching the remote video bigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ViewerFeatures {
    pub full_screen: bool,
    pub picture_in_picture: bool,
}
