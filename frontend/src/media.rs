//! Browser glue for the camera and microphone: asks getUserMedia for the best it can get
//! (camera and microphone, else microphone only, else camera only, else nothing) and explains
//! in plain words what is missing. Never fails: no media still allows receive-only calls.

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
    /// Set when something is missing: what and why, and what still works.
    pub problem: Option<String>,
}

async fn get_user_media(want_audio: bool, want_video: bool) -> Result<MediaStream, JsValue> {
    let devices = web_sys::window().ok_or_else(|| JsValue::from_str("NoWindow"))?.navigator().media_devices()?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio_bool(want_audio);
    constraints.set_video_bool(want_video);
    let stream = JsFuture::from(devices.get_user_media_with_constraints(&constraints)?).await?;
    stream.dyn_into::<MediaStream>()
}

/// The DOMException name (`NotAllowedError`, ...) of a getUserMedia failure.
fn error_name(error: &JsValue) -> String {
    Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|name| name.as_string())
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "UnknownError".to_owned())
}

fn explain(error_name: &str) -> &'static str {
    match error_name {
        "NotAllowedError" | "SecurityError" | "PermissionDeniedError" => {
            "Camera and microphone access was blocked in this browser"
        }
        "NotFoundError" | "OverconstrainedError" | "DevicesNotFoundError" => "No camera or microphone was found",
        "NotReadableError" | "AbortError" | "TrackStartError" => "The camera or microphone is in use by another app",
        "NoWindow" | "TypeError" => {
            "This browser does not offer camera access here (the page must be served over HTTPS or from localhost)"
        }
        _ => "The camera and microphone could not be started",
    }
}

/// Asks for camera and microphone, falling back step by step.
pub async fn acquire_camera_and_microphone() -> LocalMediaOutcome {
    let first_error = match get_user_media(true, true).await {
        Ok(stream) => {
            return LocalMediaOutcome { stream: Some(stream), has_audio: true, has_video: true, problem: None };
        }
        Err(error) => error_name(&error),
    };
    let reason = explain(&first_error);
    if let Ok(stream) = get_user_media(true, false).await {
        return LocalMediaOutcome {
            stream: Some(stream),
            has_audio: true,
            has_video: false,
            problem: Some(format!("No camera: {reason} ({first_error}). Calls will be audio-only from your side.")),
        };
    }
    if let Ok(stream) = get_user_media(false, true).await {
        return LocalMediaOutcome {
            stream: Some(stream),
            has_audio: false,
            has_video: true,
            problem: Some(format!(
                "No microphone: {reason} ({first_error}). The other person will see you but not hear you."
            )),
        };
    }
    LocalMediaOutcome {
        stream: None,
        has_audio: false,
        has_video: false,
        problem: Some(format!(
            "{reason} ({first_error}). You can still call and be called: you will see and hear the other person, they will not see or hear you."
        )),
    }
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
