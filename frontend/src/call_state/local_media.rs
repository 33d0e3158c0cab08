//! What we could get from the camera and microphone: [`LocalMedia`], and a Call or Accept
//! clicked before they were ready: [`PendingStart`].

use super::CallAttempt;
use crate::errors::MediaProblem;

/// Said when Call or Accept is clicked while the browser still asks for camera and microphone:
/// a peer connection created now would carry none of our tracks, so the click is carried out
/// as soon as the prompt is answered.
pub const WAITING_FOR_LOCAL_MEDIA: &str =
    "Starting your camera and microphone — the call starts as soon as they are ready.";

/// A click carried out once the first getUserMedia settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingStart {
    /// Accept the call of this attempt (dropped if that call stopped ringing meanwhile).
    Accept { call_attempt: CallAttempt },
    /// Call this name (as typed; checked again then).
    Call { typed_name: String },
}

/// What we could get from the camera and microphone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalMedia {
    /// Not asked yet (we ask right after sign-in).
    NotRequested,
    /// The browser is asking the user.
    Requesting,
    /// Got what is listed; `problem` says what is missing and why.
    Ready { has_audio: bool, has_video: bool, problem: Option<MediaProblem> },
}
