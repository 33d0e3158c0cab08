//! The connection's quality from one second's [`Readings`] (good / fair / poor), and trouble with
//! the other side's video that lasts ([`video_trouble`]: a low frame rate or heavy loss for
//! [`TROUBLE_SECONDS`] seconds in a row), to put in words.

use super::Readings;
use std::fmt;

/// How long trouble must last before it is said (one bad second is not news).
pub const TROUBLE_SECONDS: usize = 3;

/// Below this many frames a second, moving video looks choppy.
const CHOPPY_FRAMES_PER_SECOND: u32 = 10;

/// At least this much loss (tenths of a percent) breaks the picture up.
const HEAVY_LOSS_PERMILLE: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Quality {
    Good,
    Fair,
    Poor,
}

impl Quality {
    pub fn word(self) -> &'static str {
        match self {
            Quality::Good => "good",
            Quality::Fair => "fair",
            Quality::Poor => "poor",
        }
    }
}

/// The grade of one reading against its `fair` and `poor` limits (higher is worse).
fn grade(value: Option<u32>, fair: u32, poor: u32) -> Quality {
    match value {
        Some(value) if value >= poor => Quality::Poor,
        Some(value) if value >= fair => Quality::Fair,
        _ => Quality::Good,
    }
}

/// The quality of the connection: the worst of round-trip time (250 / 500 ms), loss (2 / 10 %),
/// jitter (40 / 100 ms), and the bandwidth the browser estimates it can send (under 200 / 80
/// kbps). `None` until the round-trip time or the loss is known.
pub fn quality(readings: &Readings) -> Option<Quality> {
    if readings.round_trip_millis.is_none() && readings.loss_permille.is_none() {
        return None;
    }
    let bandwidth = match readings.available_outgoing_kbps {
        Some(kbps) if kbps < 80 => Quality::Poor,
        Some(kbps) if kbps < 200 => Quality::Fair,
        _ => Quality::Good,
    };
    [
        grade(readings.round_trip_millis, 250, 500),
        grade(readings.loss_permille, 20, 100),
        grade(readings.jitter_millis, 40, 100),
        bandwidth,
    ]
    .into_iter()
    .max()
}

/// What is wrong with the video we receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoTrouble {
    /// Frames decoded a second (the lowest of the last seconds).
    LowFrameRate(u32),
    /// Packets lost, in tenths of a percent (the lowest of the last seconds).
    HeavyLoss(u32),
}

impl fmt::Display for VideoTrouble {
    /// The words after the person's name.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VideoTrouble::LowFrameRate(fps) => write!(formatter, "'s video is choppy ({fps} frames a second)"),
            VideoTrouble::HeavyLoss(permille) => {
                write!(formatter, "'s video is breaking up ({}.{}% of packets lost)", permille / 10, permille % 10)
            }
        }
    }
}

/// Trouble that held for each of the last [`TROUBLE_SECONDS`] readings (oldest first), heavy
/// loss before a low frame rate (it is usually the cause). Call only while the other side sends
/// video (camera on or screen shared): a camera turned off is not trouble.
pub fn video_trouble(history: &[Readings]) -> Option<VideoTrouble> {
    if history.len() < TROUBLE_SECONDS {
        return None;
    }
    let recent = &history[history.len() - TROUBLE_SECONDS..];
    let all = |value: fn(&Readings) -> Option<u32>, bad: &dyn Fn(u32) -> bool| -> Option<u32> {
        let values: Option<Vec<u32>> = recent.iter().map(value).collect();
        let values = values?;
        values.iter().all(|value| bad(*value)).then(|| values.iter().copied().min().unwrap_or_default())
    };
    if let Some(loss) = all(|readings| readings.loss_permille, &|loss| loss >= HEAVY_LOSS_PERMILLE) {
        return Some(VideoTrouble::HeavyLoss(loss));
    }
    all(|readings| readings.frames_per_second, &|fps| fps < CHOPPY_FRAMES_PER_SECOND).map(VideoTrouble::LowFrameRate)
}
