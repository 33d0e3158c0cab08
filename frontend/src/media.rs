//! Browser glue for the camera and microphone: asks getUserMedia for the best it can get
//! (camera and microphone, else microphone only, else camera only, else nothing) and says what
//! is missing as a typed [`MediaProblem`] (put in words by `errors.rs`). Never fails: no media
//! still allows receive-only calls. Also the camera alone ("Turn camera on") and the screen
//! (getDisplayMedia, "Share screen").

use crate::errors::{MediaAccessError, MediaProblem, MissingMedia};
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStream, MediaStreamConstraints, MediaStreamTrack};

/// What getUserMedia gave us.
#[derive(Debug)]
pub struct LocalMediaOutcome {
    pub stream: Option<MediaStream>,
    pub has_audio: bool,
    pub has_video: bool,
    /// Set when something is missing: what and why.
    pub problem: Option<MediaProblem>,
}

async fn get_user_media(want_audio: bool, want_video: bool) -> Result<MediaStream, MediaAccessError> {
    let devices = web_sys::window().ok_or(MediaAccessError::NoWindow)?.navigator().media_devices().map_err(refused)?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio_bool(want_audio);
    constraints.set_video_bool(want_video);
    let request = devices.get_user_media_with_constraints(&constraints).map_err(refused)?;
    let stream = JsFuture::from(request).await.map_err(refused)?;
    stream.dyn_into::<MediaStream>().map_err(refused)
}

/// A getUserMedia failure by its DOMException name (`NotAllowedError`, ...).
fn refused(error: JsValue) -> MediaAccessError {
    let name = Reflect::get(&error, &JsValue::from_str("name"))
        .ok()
        .and_then(|name| name.as_string())
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "UnknownError".to_owned());
    MediaAccessError::Refused { name }
}

/// Asks for camera and microphone, falling back step by step.
pub async fn acquire_camera_and_microphone() -> LocalMediaOutcome {
    let cause = match get_user_media(true, true).await {
        Ok(stream) => {
            return LocalMediaOutcome { stream: Some(stream), has_audio: true, has_video: true, problem: None };
        }
        Err(error) => error,
    };
    let fallbacks = [(true, false, MissingMedia::Camera), (false, true, MissingMedia::Microphone)];
    for (has_audio, has_video, missing) in fallbacks {
        if let Ok(stream) = get_user_media(has_audio, has_video).await {
            let problem = Some(MediaProblem { missing, cause });
            return LocalMediaOutcome { stream: Some(stream), has_audio, has_video, problem };
        }
    }
    let problem = Some(MediaProblem { missing: MissingMedia::CameraAndMicrophone, cause });
    LocalMediaOutcome { stream: None, has_audio: false, has_video: false, problem }
}

/// The stream's tracks.
pub fn tracks_of(stream: &MediaStream) -> Vec<MediaStreamTrack> {
    stream.get_tracks().iter().filter_map(|track| track.dyn_into::<MediaStreamTrack>().ok()).collect()
}

/// Stops every track of `stream` (turns the camera light off).
pub fn stop_every_track(stream: &MediaStream) {
    for track in tracks_of(stream) {
        track.stop();
    }
}

/// "Turn camera on": a camera track alone (video only).
pub async fn acquire_camera() -> Result<MediaStreamTrack, MediaAccessError> {
    let stream = get_user_media(false, true).await?;
    let mut tracks = tracks_of(&stream).into_iter();
    let track = tracks.next().ok_or_else(|| MediaAccessError::Refused { name: "NotFoundError".to_owned() })?;
    tracks.for_each(|extra| extra.stop());
    Ok(track)
}

/// "Share screen": getDisplayMedia (video only); the browser asks the person what to share.
pub async fn acquire_screen() -> Result<MediaStreamTrack, MediaAccessError> {
    let devices = web_sys::window().ok_or(MediaAccessError::NoWindow)?.navigator().media_devices().map_err(refused)?;
    let constraints = web_sys::DisplayMediaStreamConstraints::new();
    constraints.set_video(&JsValue::TRUE);
    constraints.set_audio(&JsValue::FALSE);
    let request = devices.get_display_media_with_constraints(&constraints).map_err(refused)?;
    let stream: MediaStream = JsFuture::from(request).await.map_err(refused)?.dyn_into().map_err(refused)?;
    let mut tracks = tracks_of(&stream).into_iter().filter(|track| track.kind() == "video");
    let track = tracks.next().ok_or_else(|| MediaAccessError::Refused { name: "NotFoundError".to_owned() })?;
    tracks.for_each(|extra| extra.stop());
    Ok(track)
}
