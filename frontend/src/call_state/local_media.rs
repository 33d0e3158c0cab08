//! What we could get from the camera and microphone: [`LocalMedia`].

use crate::errors::MediaProblem;

/// Said when Call or Accept is clicked while the browser still asks for camera and microphone:
/// a peer connection created now would carry none of our tracks for the whole call.
pub const WAITING_FOR_LOCAL_MEDIA: &str =
    "Waiting for your camera and microphone — allow or block them in the browser's prompt, then try again.";

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
