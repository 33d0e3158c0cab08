//! Browser glue that owns our own media tracks across calls: the microphone, the camera (stopped
//! and dropped when turned off, so its light goes out), the screen capture, each with an `ended`
//! listener (a track that ends by itself — unplugged, revoked — is reported; our own `stop()`
//! fires no `ended`), and the preview stream of the video being shown. The reducer says which video to
//! show (`Effect::ShowVideoSource`); this keeps the tracks and builds the preview. Every track is
//! stopped when it is replaced or dropped.

use crate::call_state::{Action, DeviceKind, VideoSource};
use crate::media::{stop_every_track, tracks_of};
use crate::signaling::Dispatch;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, MediaStream, MediaStreamTrack};

/// A track of ours and the listener that reports its end; stopped (without an `ended`) when dropped.
struct WatchedTrack {
    track: MediaStreamTrack,
    on_ended: Closure<dyn FnMut(Event)>,
}

impl WatchedTrack {
    fn new(track: MediaStreamTrack, ended: fn() -> Action, dispatch: Dispatch) -> WatchedTrack {
        let on_ended = Closure::<dyn FnMut(Event)>::new(move |_event: Event| dispatch(ended()));
        track.set_onended(Some(on_ended.as_ref().unchecked_ref()));
        WatchedTrack { track, on_ended }
    }
}

impl Drop for WatchedTrack {
    fn drop(&mut self) {
        self.track.set_onended(None);
        self.track.stop();
        let _ = &self.on_ended;
    }
}

/// Our microphone, camera and screen tracks, and the preview.
#[derive(Default)]
pub struct LocalTracks {
    microphone: Option<WatchedTrack>,
    camera: Option<WatchedTrack>,
    screen: Option<WatchedTrack>,
    /// What the preview shows (a stream of one video track), `None` for no video.
    preview: Option<MediaStream>,
}

impl std::fmt::Debug for LocalTracks {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LocalTracks")
            .field("microphone", &self.microphone.is_some())
            .field("camera", &self.camera.is_some())
            .field("screen", &self.screen.is_some())
            .finish()
    }
}

impl LocalTracks {
    /// Takes the tracks of the first getUserMedia.
    pub fn take_initial(&mut self, stream: Option<MediaStream>, dispatch: &Dispatch) {
        for track in stream.as_ref().map(tracks_of).unwrap_or_default() {
            match track.kind().as_str() {
                "audio" if self.microphone.is_none() => self.set_microphone(track, dispatch.clone()),
                "video" if self.camera.is_none() => self.set_camera(track, dispatch.clone()),
                _ => track.stop(),
            }
        }
    }

    pub fn microphone(&self) -> Option<&MediaStreamTrack> {
        self.microphone.as_ref().map(|watched| &watched.track)
    }

    /// A new microphone track (after a switch); the older one is stopped. Its own end is
    /// reported as [`Action::LocalDeviceStopped`].
    pub fn set_microphone(&mut self, track: MediaStreamTrack, dispatch: Dispatch) {
        let ended = || Action::LocalDeviceStopped { kind: DeviceKind::Microphone };
        self.microphone = Some(WatchedTrack::new(track, ended, dispatch));
    }

    pub fn stop_microphone(&mut self) {
        self.microphone = None;
    }

    pub fn set_microphone_enabled(&self, enabled: bool) {
        if let Some(microphone) = self.microphone() {
            microphone.set_enabled(enabled);
        }
    }

    /// A new camera track (after "Turn camera on"); an older one is stopped. Its own end is
    /// reported as [`Action::LocalDeviceStopped`].
    pub fn set_camera(&mut self, track: MediaStreamTrack, dispatch: Dispatch) {
        let ended = || Action::LocalDeviceStopped { kind: DeviceKind::Camera };
        self.camera = Some(WatchedTrack::new(track, ended, dispatch));
    }

    pub fn stop_camera(&mut self) {
        self.camera = None;
    }

    /// A new screen capture; its `ended` is reported as [`Action::ScreenShareEnded`].
    pub fn set_screen(&mut self, track: MediaStreamTrack, dispatch: Dispatch) {
        self.screen = Some(WatchedTrack::new(track, || Action::ScreenShareEnded, dispatch));
    }

    pub fn stop_screen(&mut self) {
        self.screen = None;
    }

    /// The track `source` means, if we hold one.
    pub fn video_track(&self, source: VideoSource) -> Option<&MediaStreamTrack> {
        match source {
            VideoSource::Camera => self.camera.as_ref().map(|camera| &camera.track),
            VideoSource::Screen => self.screen.as_ref().map(|screen| &screen.track),
            VideoSource::Nothing => None,
        }
    }

    /// Shows `source` in the preview: a new stream, so the `<video>` re-attaches.
    pub fn show(&mut self, source: VideoSource) {
        self.preview = self.video_track(source).and_then(|track| {
            let stream = MediaStream::new().ok()?;
            stream.add_track(track);
            Some(stream)
        });
    }

    pub fn preview(&self) -> Option<MediaStream> {
        self.preview.clone()
    }
}

impl Drop for LocalTracks {
    fn drop(&mut self) {
        // Each watched track is stopped by its own drop.
        self.microphone = None;
        self.camera = None;
        self.screen = None;
        if let Some(preview) = self.preview.take() {
            stop_every_track(&preview);
        }
    }
}
