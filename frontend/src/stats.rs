//! Call statistics as pure logic, unit-tested natively: a [`StatsSample`] is what one
//! `getStats()` report holds that the app uses (cumulative counters per stats object id, and
//! current values), read from the report's entries by [`sample_from_entries`] (`report.rs`);
//! [`readings`] turns two consecutive samples into per-second [`Readings`] (bitrates, packet
//! loss, frame rate from the counters' growth); `quality.rs` grades them and puts trouble with
//! the other side's video in words; `chart.rs` draws the last 60 seconds as SVG points.
//!
//! Counters are compared per stats object: a counter that went down (reset, e.g. a new SSRC
//! under the same id) or an object that appeared or disappeared between two samples adds
//! nothing to that second's rate, instead of a huge or negative number; a field the browser does
//! not give is `None`, never 0.

pub mod chart;
mod entry;
mod quality;
mod report;

// Used by the components and the glue (wasm only) and the tests.
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(unused_imports))]
pub use chart::chart_points;
#[cfg(test)]
pub use entry::entries_from_json;
pub use entry::StatsEntry;
#[cfg_attr(not(target_arch = "wasm32"), allow(unused_imports))]
pub use entry::StatsField;
pub use quality::{quality, video_trouble, Quality, VideoTrouble};
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(unused_imports))]
pub use report::sample_from_entries;

use crate::ice_diagnostics::SelectedCandidatePair;
use crate::sorted_pairs::SortedPairs;

/// How many seconds of readings the charts keep.
pub const HISTORY_SECONDS: usize = 60;

/// Counters of one kind, by stats object id.
pub type Counters = SortedPairs<String, u64>;

/// One `getStats()` report, as much of it as the app uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatsSample {
    /// When it was taken (the browser's clock, milliseconds).
    pub at_millis: u64,
    /// `inbound-rtp` `bytesReceived` (audio and video).
    pub bytes_received: Counters,
    /// `outbound-rtp` `bytesSent` (audio and video).
    pub bytes_sent: Counters,
    /// `inbound-rtp` `packetsReceived`.
    pub packets_received: Counters,
    /// `inbound-rtp` `packetsLost` (negative values, from duplicates, count as 0).
    pub packets_lost: Counters,
    /// Video `inbound-rtp` `framesDecoded`.
    pub frames_decoded: Counters,
    /// The largest `inbound-rtp` `jitter`, in microseconds.
    pub jitter_micros: Option<u64>,
    /// The selected candidate pair's `currentRoundTripTime`, in microseconds.
    pub round_trip_micros: Option<u64>,
    /// The selected candidate pair's `availableOutgoingBitrate`, bits per second.
    pub available_outgoing_bps: Option<u64>,
    /// The received video's `frameWidth` x `frameHeight`.
    pub resolution: Option<(u32, u32)>,
    /// The received video's codec (`mimeType` without `video/`), e.g. `VP8`.
    pub codec: Option<String>,
    /// The selected candidate pair's types.
    pub candidate_pair: Option<SelectedCandidatePair>,
}

/// One second of the call, as the panel and the quality indicator show it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Readings {
    pub inbound_kbps: Option<u32>,
    pub outbound_kbps: Option<u32>,
    /// Received packets lost in this interval, in tenths of a percent.
    pub loss_permille: Option<u32>,
    pub round_trip_millis: Option<u32>,
    pub jitter_millis: Option<u32>,
    /// Video frames decoded a second.
    pub frames_per_second: Option<u32>,
    pub available_outgoing_kbps: Option<u32>,
    pub resolution: Option<(u32, u32)>,
    pub codec: Option<String>,
    pub candidate_pair: Option<SelectedCandidatePair>,
}

/// The summed growth of the counters present in both samples, ignoring any that went down.
/// `None` when no counter is in both (nothing to compare yet, or every object is new).
fn growth(previous: &Counters, current: &Counters) -> Option<u64> {
    let mut compared = false;
    let mut total: u64 = 0;
    for (id, now) in current.iter() {
        let Some(before) = previous.get(id) else { continue };
        if now >= before {
            compared = true;
            total = total.saturating_add(now - before);
        }
    }
    compared.then_some(total)
}

fn saturating_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The readings for the interval from `previous` to `current` (rates need both; the current
/// values only `current`).
pub fn readings(previous: Option<&StatsSample>, current: &StatsSample) -> Readings {
    let elapsed_millis = previous.map_or(0, |previous| current.at_millis.saturating_sub(previous.at_millis));
    let per_second = |counters: fn(&StatsSample) -> &Counters, scale: u64| -> Option<u32> {
        let previous = previous.filter(|_| elapsed_millis > 0)?;
        let grown = growth(counters(previous), counters(current))?;
        Some(saturating_u32(grown.saturating_mul(scale) / elapsed_millis))
    };
    let loss_permille = previous.and_then(|previous| {
        let lost = growth(&previous.packets_lost, &current.packets_lost)?;
        let received = growth(&previous.packets_received, &current.packets_received)?;
        let expected = lost.saturating_add(received);
        (expected > 0).then(|| saturating_u32(lost.saturating_mul(1000) / expected))
    });
    Readings {
        // bytes * 8 / milliseconds = kilobits a second.
        inbound_kbps: per_second(|sample| &sample.bytes_received, 8),
        outbound_kbps: per_second(|sample| &sample.bytes_sent, 8),
        loss_permille,
        round_trip_millis: current.round_trip_micros.map(|micros| saturating_u32(micros / 1000)),
        jitter_millis: current.jitter_micros.map(|micros| saturating_u32(micros / 1000)),
        frames_per_second: per_second(|sample| &sample.frames_decoded, 1000),
        available_outgoing_kbps: current.available_outgoing_bps.map(|bps| saturating_u32(bps / 1000)),
        resolution: current.resolution,
        codec: current.codec.clone(),
        candidate_pair: current.candidate_pair.clone(),
    }
}

#[cfg(test)]
mod tests;
