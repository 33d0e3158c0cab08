//! [`CallStats`]: the current call's statistics, one reading a second from `getStats()` (the last
//! 60 kept for the charts), whether the **Call statistics** panel is open, and its handlers: the
//! sampling starts when the call connects, each sample becomes a reading, **Statistics** opens
//! and closes the panel. What the view shows (the quality, trouble with the other side's video in
//! words) is decided here too. The arithmetic is in `crate::stats`.

use super::{AppModel, CallPhase, Effect};
use crate::stats::{quality, readings, video_trouble, Quality, Readings, StatsSample, VideoTrouble, HISTORY_SECONDS};

/// The current call's statistics (reset with every peer connection).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallStats {
    /// The **Call statistics** panel is open.
    pub open: bool,
    previous: Option<StatsSample>,
    /// The last readings, oldest first, at most [`HISTORY_SECONDS`].
    pub history: Vec<Readings>,
}

impl CallStats {
    /// The latest reading.
    pub fn latest(&self) -> Option<&Readings> {
        self.history.last()
    }

    /// The connection's quality now, once it is known.
    pub fn quality(&self) -> Option<Quality> {
        self.latest().and_then(quality)
    }

    /// One number of every kept reading, oldest first (for a chart).
    pub fn series(&self, value: impl Fn(&Readings) -> Option<u32>) -> Vec<Option<u32>> {
        self.history.iter().map(value).collect()
    }
}

impl AppModel {
    /// The call just connected: its statistics are read every second from now on.
    pub(super) fn start_sampling_stats(&self, effects: &mut Vec<Effect>) {
        if let Some(call_attempt) = self.call.call_attempt() {
            effects.push(Effect::SampleStatsEverySecond { call_attempt });
        }
    }

    pub(super) fn stats_sampled(&mut self, sample: StatsSample) {
        if !self.call.has_peer_connection() {
            return;
        }
        let stats = &mut self.stats;
        let reading = readings(stats.previous.as_ref(), &sample);
        stats.previous = Some(sample);
        stats.history.push(reading);
        if stats.history.len() > HISTORY_SECONDS {
            stats.history.remove(0);
        }
    }

    pub(super) fn statistics_clicked(&mut self) {
        if self.call.has_peer_connection() {
            self.stats.open = !self.stats.open;
        }
    }

    /// Trouble with the other side's video worth saying, while it sends video (a camera turned
    /// off or not yet told about is not trouble) and the call is connected. Nothing while the
    /// video already says "Reconnecting…": no frames then is the outage, said once.
    pub fn remote_video_trouble(&self) -> Option<VideoTrouble> {
        let sends_video = self.remote_media.is_some_and(|remote| !remote.video_hidden());
        if !sends_video || !matches!(self.call, CallPhase::InCall { .. }) || self.shows_media_reconnecting() {
            return None;
        }
        video_trouble(&self.stats.history)
    }
}
