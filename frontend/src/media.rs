//! Browser glue for the camera and microphone: asks getUserMedia for the best it can get
//! (camera and microphone, else microphone only, else camera only, else nothing) and says what
//! is missing as a typed [`MediaProblem`] (put in words by `errors.rs`). Never fails: no media
//! still allows receive-only calls. Chosen devices are preferred (`ideal`) at start and required
//! (`exact`) when switching. Also the camera alone ("Turn camera on"), a microphone alone (a
//! switch, with the audio processing), and the screen (getDisplayMedia, "Share screen").

use crate::call_state::{AudioProcessing, MediaRequest};
use crate::errors::{MediaAccessError, MediaProblem, MissingMedia};
use js_sys::{Object, Reflect};
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

/// `{deviceId: {ideal|exact: id}}` (plus the audio processing for a microphone), or `true` for
/// any device of the kind.
fn device_constraints(device_id: Option<&str>, exact: bool, processing: Option<AudioProcessing>) -> JsValue {
    if device_id.is_none() && processing.is_none() {
        return JsValue::TRUE;
    }
    let constraints = Object::new();
    if let Some(id) = device_id {
        let wanted = Object::new();
        let _ =
            Reflect::set(&wanted, &JsValue::from_str(if exact { "exact" } else { "ideal" }), &JsValue::from_str(id));
        let _ = Reflect::set(&constraints, &JsValue::from_str("deviceId"), &wanted);
    }
    if let Some(processing) = processing {
        set_audio_processing(&constraints, processing);
    }
    constraints.into()
}

/// Sets the three audio processing constraints on `constraints`.
fn set_audio_processing(constraints: &Object, processing: AudioProcessing) {
    for (name, on) in [
        ("noiseSuppression", processing.noise_suppression),
        ("echoCancellation", processing.echo_cancellation),
        ("autoGainControl", processing.auto_gain_control),
    ] {
        let _ = Reflect::set(constraints, &JsValue::from_str(name), &JsValue::from_bool(on));
    }
}

async fn get_user_media(audio: &JsValue, video: &JsValue) -> Result<MediaStream, MediaAccessError> {
    let devices = web_sys::window().ok_or(MediaAccessError::NoWindow)?.navigator().media_devices().map_err(refused)?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(audio);
    constraints.set_video(video);
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

/// Asks for camera and microphone (the chosen devices preferred), falling back step by step.
pub async fn acquire_camera_and_microphone(request: &MediaRequest) -> LocalMediaOutcome {
    let audio = device_constraints(request.microphone.as_deref(), false, Some(request.processing));
    let video = device_constraints(request.camera.as_deref(), false, None);
    let cause = match get_user_media(&audio, &video).await {
        Ok(stream) => {
            return LocalMediaOutcome { stream: Some(stream), has_audio: true, has_video: true, problem: None };
        }
        Err(error) => error,
    };
    let fallbacks = [(true, false, MissingMedia::Camera), (false, true, MissingMedia::Microphone)];
    for (has_audio, has_video, missing) in fallbacks {
        let (audio, video) = (
            if has_audio { audio.clone() } else { JsValue::FALSE },
            if has_video { video.clone() } else { JsValue::FALSE },
        );
        if let Ok(stream) = get_user_media(&audio, &video).await {
            let problem = Some(MediaProblem { missing, cause });
            return LocalMediaOutcome { stream: Some(stream), has_audio, has_video, problem };
        }
    }
    let problem = Some(MediaProblem { missing: MissingMedia::CameraAndMicrophone, cause });
    LocalMediaOutcome { stream: None, has_audio: false, has_video: false, problem }
}

/// The first track of `stream`, the others stopped.
fn only_track(stream: &MediaStream) -> Result<MediaStreamTrack, MediaAccessError> {
    let mut tracks = tracks_of(stream).into_iter();
    let track = tracks.next().ok_or_else(|| MediaAccessError::Refused { name: "NotFoundError".to_owned() })?;
    tracks.for_each(|extra| extra.stop());
    Ok(track)
}

/// A camera track alone: "Turn camera on" (the chosen camera preferred) or a switch (`exact`).
pub async fn acquire_camera(device_id: Option<&str>, exact: bool) -> Result<MediaStreamTrack, MediaAccessError> {
    only_track(&get_user_media(&JsValue::FALSE, &device_constraints(device_id, exact, None)).await?)
}

/// Exactly this microphone (`None`: the default) with `processing`.
pub async fn acquire_microphone(
    device_id: Option<&str>,
    processing: AudioProcessing,
) -> Result<MediaStreamTrack, MediaAccessError> {
    let audio = device_constraints(device_id, true, Some(processing));
    only_track(&get_user_media(&audio, &JsValue::FALSE).await?)
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

/// "Share screen": getDisplayMedia (video only); the browser asks the person what to share.
pub async fn acquire_screen() -> Result<MediaStreamTrack, MediaAccessError> {
    let devices = web_sys::window().ok_or(MediaAccessError::NoWindow)?.navigator().media_devices().map_err(refused)?;
    // Phone browsers have no getDisplayMedia at all: say so rather than throw a TypeError.
    let has_display_media =
        Reflect::get(&devices, &JsValue::from_str("getDisplayMedia")).is_ok_and(|method| method.is_function());
    if !has_display_media {
        return Err(MediaAccessError::Refused { name: "NotSupportedError".to_owned() });
    }
    let constraints = web_sys::DisplayMediaStreamConstraints::new();
    constraints.set_video(&JsValue::TRUE);
    constraints.set_audio(&JsValue::FALSE);
    let request = devices.get_display_media_with_constraints(&constraints).map_err(refused)?;
    let stream: MediaStream = JsFuture::from(request).await.map_err(refused)?.dyn_into().map_err(refused)?;
    only_track(&stream)
}
