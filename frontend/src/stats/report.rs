//! A `getStats()` report's entries (each one `RTCStats` dictionary's fields, which is all that
//! crosses from the browser) read into a [`StatsSample`]. Fields the browser leaves out stay
//! `None` or absent; entries of other types are ignored.

use super::{Counters, StatsEntry, StatsSample};
use crate::ice_diagnostics::{selected_candidate_pair, selected_pair_entry};

fn text<'a>(entry: &'a StatsEntry, field: &str) -> Option<&'a str> {
    entry.text(field)
}

fn number(entry: &StatsEntry, field: &str) -> Option<f64> {
    entry.number(field).filter(|value| value.is_finite())
}

/// A non-negative number as an integer (negative counts as 0; fractions are dropped).
fn whole(value: f64) -> u64 {
    // Saturating float-to-int conversion: negatives become 0, huge values u64::MAX.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = value as u64;
    whole
}

fn count_into(counters: &mut Counters, entry: &StatsEntry, field: &str) {
    if let (Some(id), Some(value)) = (text(entry, "id"), number(entry, field)) {
        counters.insert(id.to_owned(), whole(value));
    }
}

/// The sample in `entries`, taken at `at_millis`.
pub fn sample_from_entries(entries: &[StatsEntry], at_millis: u64) -> StatsSample {
    let mut sample = StatsSample { at_millis, ..StatsSample::default() };
    for entry in entries {
        match text(entry, "type") {
            Some("inbound-rtp") => {
                count_into(&mut sample.bytes_received, entry, "bytesReceived");
                count_into(&mut sample.packets_received, entry, "packetsReceived");
                count_into(&mut sample.packets_lost, entry, "packetsLost");
                if let Some(jitter) = number(entry, "jitter") {
                    let micros = whole(jitter * 1_000_000.0);
                    sample.jitter_micros = Some(sample.jitter_micros.map_or(micros, |other| other.max(micros)));
                }
                if text(entry, "kind") == Some("video") {
                    count_into(&mut sample.frames_decoded, entry, "framesDecoded");
                    if let (Some(width), Some(height)) = (number(entry, "frameWidth"), number(entry, "frameHeight")) {
                        let size = |value: f64| u32::try_from(whole(value)).unwrap_or(u32::MAX);
                        sample.resolution = Some((size(width), size(height)));
                    }
                    let codec = text(entry, "codecId").and_then(|codec_id| {
                        entries
                            .iter()
                            .find(|other| text(other, "type") == Some("codec") && text(other, "id") == Some(codec_id))
                    });
                    if let Some(mime_type) = codec.and_then(|codec| text(codec, "mimeType")) {
                        sample.codec = Some(mime_type.strip_prefix("video/").unwrap_or(mime_type).to_owned());
                    }
                }
            }
            Some("outbound-rtp") => count_into(&mut sample.bytes_sent, entry, "bytesSent"),
            _ => {}
        }
    }
    if let Some(pair) = selected_pair_entry(entries) {
        sample.round_trip_micros = number(pair, "currentRoundTripTime").map(|seconds| whole(seconds * 1_000_000.0));
        sample.available_outgoing_bps = number(pair, "availableOutgoingBitrate").map(whole);
    }
    sample.candidate_pair = selected_candidate_pair(entries);
    sample
}
