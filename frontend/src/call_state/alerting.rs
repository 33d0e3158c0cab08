//! What rings: the tone to play ([`Tone`]: the ringtone while a call rings here, the ringback
//! while we call), and the system notification's words while a call rings (the glue shows it
//! only in a hidden tab, and only with the person's permission, asked once at the first
//! sign-in). Decided from the model; the glue (`ring_alerts.rs`) follows it after every action.

use super::{AppModel, CallPhase};

/// A tone the app generates with WebAudio (no audio files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// A call rings here.
    Ringtone,
    /// We call someone and wait for them.
    Ringback,
}

impl AppModel {
    /// The tone to play now, if any.
    pub fn tone(&self) -> Option<Tone> {
        match self.call {
            CallPhase::Ringing { .. } => Some(Tone::Ringtone),
            CallPhase::Calling { .. } => Some(Tone::Ringback),
            CallPhase::Idle | CallPhase::Connecting { .. } | CallPhase::InCall { .. } => None,
        }
    }

    /// The system notification for a call ringing here: its title.
    pub fn ringing_notification(&self) -> Option<String> {
        match &self.call {
            CallPhase::Ringing { peer, .. } => Some(format!("{peer} is calling you")),
            _ => None,
        }
    }
}
