//! Tests of the call statistics: samples from report entries, rates from counters (resets,
//! missing fields, objects that disappear), quality, trouble in words, and chart points.

use super::chart::CHART_HEIGHT;
use super::*;
use serde_json::json;

fn counters(pairs: &[(&str, u64)]) -> Counters {
    pairs.iter().map(|(id, value)| ((*id).to_owned(), *value)).collect()
}

fn sample(at_millis: u64, received: &[(&str, u64)], sent: &[(&str, u64)]) -> StatsSample {
    StatsSample { at_millis, bytes_received: counters(received), bytes_sent: counters(sent), ..StatsSample::default() }
}

#[test]
fn bitrates_come_from_the_counters_growth_over_the_elapsed_time() {
    let first = sample(1_000, &[("audio", 10_000), ("video", 90_000)], &[("out", 5_000)]);
    let second = sample(3_000, &[("audio", 14_000), ("video", 190_000)], &[("out", 55_000)]);
    let readings = readings(Some(&first), &second);
    // (4,000 + 100,000) bytes * 8 over 2 s = 416 kbps; 50,000 * 8 / 2 s = 200 kbps.
    assert_eq!(readings.inbound_kbps, Some(416));
    assert_eq!(readings.outbound_kbps, Some(200));
}

#[test]
fn the_first_sample_has_no_rates_yet() {
    let only = sample(1_000, &[("video", 90_000)], &[("out", 5_000)]);
    let readings = readings(None, &only);
    assert_eq!((readings.inbound_kbps, readings.outbound_kbps, readings.loss_permille), (None, None, None));
    let same_time = readings_at_same_time();
    assert_eq!(same_time.inbound_kbps, None, "no time elapsed: no rate");
}

fn readings_at_same_time() -> Readings {
    let first = sample(1_000, &[("video", 1)], &[]);
    readings(Some(&first), &sample(1_000, &[("video", 2)], &[]))
}

#[test]
fn a_counter_that_went_down_adds_nothing_instead_of_a_huge_rate() {
    let first = sample(1_000, &[("audio", 50_000), ("video", 900_000)], &[]);
    // The video counter was reset (a new stream under the same id); audio kept counting.
    let second = sample(2_000, &[("audio", 51_000), ("video", 2_000)], &[]);
    assert_eq!(readings(Some(&first), &second).inbound_kbps, Some(8), "only audio's 1,000 bytes");
    // Every counter reset: no rate at all for that second, then normal again.
    let reset = sample(2_000, &[("video", 2_000)], &[]);
    let only_video = sample(1_000, &[("video", 900_000)], &[]);
    assert_eq!(readings(Some(&only_video), &reset).inbound_kbps, None);
    let after = sample(3_000, &[("video", 127_000)], &[]);
    assert_eq!(readings(Some(&reset), &after).inbound_kbps, Some(1000));
}

#[test]
fn a_stats_object_that_disappears_or_appears_adds_nothing() {
    let first = sample(1_000, &[("audio", 10_000), ("video", 100_000)], &[("out", 1)]);
    let video_gone = sample(2_000, &[("audio", 12_000)], &[]);
    let readings_gone = readings(Some(&first), &video_gone);
    assert_eq!(readings_gone.inbound_kbps, Some(16));
    assert_eq!(readings_gone.outbound_kbps, None, "the only outbound object went away");
    let video_new = sample(3_000, &[("audio", 14_000), ("video-2", 5_000_000)], &[]);
    assert_eq!(
        readings(Some(&video_gone), &video_new).inbound_kbps,
        Some(16),
        "a new object starts at its next sample"
    );
}

#[test]
fn missing_fields_stay_unknown_and_are_never_zero() {
    let entries = vec![
        json!({ "type": "inbound-rtp", "id": "IV", "kind": "video" }),
        json!({ "type": "outbound-rtp", "id": "OV", "bytesSent": "not a number" }),
        json!({ "type": "candidate-pair", "id": "CP", "nominated": true, "state": "succeeded" }),
    ];
    let sample = sample_from_entries(&entries_from_json(&entries), 5);
    assert_eq!(sample, StatsSample { at_millis: 5, ..StatsSample::default() });
    let readings = readings(Some(&sample), &StatsSample { at_millis: 1_005, ..sample.clone() });
    assert_eq!(readings, Readings::default());
    assert_eq!(quality(&readings), None, "nothing known, no grade");
}

#[test]
fn a_report_is_read_into_a_sample() {
    let entries = vec![
        json!({ "type": "inbound-rtp", "id": "IA", "kind": "audio", "bytesReceived": 1000, "packetsReceived": 50, "packetsLost": 1, "jitter": 0.004 }),
        json!({ "type": "inbound-rtp", "id": "IV", "kind": "video", "bytesReceived": 90000, "packetsReceived": 100,
                "packetsLost": -2, "jitter": 0.012, "framesDecoded": 300, "frameWidth": 640, "frameHeight": 480, "codecId": "C1" }),
        json!({ "type": "codec", "id": "C1", "mimeType": "video/VP8" }),
        json!({ "type": "outbound-rtp", "id": "OV", "bytesSent": 70000 }),
        json!({ "type": "transport", "id": "T", "selectedCandidatePairId": "CP" }),
        json!({ "type": "candidate-pair", "id": "CP", "localCandidateId": "L", "remoteCandidateId": "R",
                "currentRoundTripTime": 0.023, "availableOutgoingBitrate": 1_500_000.0 }),
        json!({ "type": "local-candidate", "id": "L", "candidateType": "host" }),
        json!({ "type": "remote-candidate", "id": "R", "candidateType": "srflx" }),
    ];
    let sample = sample_from_entries(&entries_from_json(&entries), 7_000);
    assert_eq!(sample.bytes_received, counters(&[("IA", 1000), ("IV", 90000)]));
    assert_eq!(sample.packets_lost, counters(&[("IA", 1), ("IV", 0)]), "negative loss counts as none");
    assert_eq!(sample.frames_decoded, counters(&[("IV", 300)]));
    assert_eq!(sample.bytes_sent, counters(&[("OV", 70000)]));
    assert_eq!(sample.jitter_micros, Some(12_000));
    assert_eq!(sample.round_trip_micros, Some(23_000));
    assert_eq!(sample.available_outgoing_bps, Some(1_500_000));
    assert_eq!(sample.resolution, Some((640, 480)));
    assert_eq!(sample.codec.as_deref(), Some("VP8"));
    let pair = sample.candidate_pair.as_ref().expect("pair");
    assert_eq!((pair.local_type.as_str(), pair.remote_type.as_str()), ("host", "srflx"));
}

#[test]
fn loss_and_frame_rate_are_per_interval() {
    let mut first = sample(1_000, &[], &[]);
    first.packets_received = counters(&[("IV", 1_000)]);
    first.packets_lost = counters(&[("IV", 10)]);
    first.frames_decoded = counters(&[("IV", 100)]);
    let mut second = sample(2_000, &[], &[]);
    second.packets_received = counters(&[("IV", 1_190)]);
    second.packets_lost = counters(&[("IV", 20)]);
    second.frames_decoded = counters(&[("IV", 125)]);
    let readings = readings(Some(&first), &second);
    assert_eq!(readings.loss_permille, Some(50), "10 lost of 200 expected: 5.0 %");
    assert_eq!(readings.frames_per_second, Some(25));
}

fn graded(
    round_trip_millis: u32,
    loss_permille: u32,
    jitter_millis: u32,
    available_outgoing_kbps: u32,
) -> Option<Quality> {
    quality(&Readings {
        round_trip_millis: Some(round_trip_millis),
        loss_permille: Some(loss_permille),
        jitter_millis: Some(jitter_millis),
        available_outgoing_kbps: Some(available_outgoing_kbps),
        ..Readings::default()
    })
}

#[test]
fn quality_is_the_worst_of_its_readings() {
    assert_eq!(graded(1, 0, 1, 2_000), Some(Quality::Good));
    assert_eq!(graded(300, 0, 1, 2_000), Some(Quality::Fair));
    assert_eq!(graded(1, 30, 1, 2_000), Some(Quality::Fair));
    assert_eq!(graded(1, 0, 50, 2_000), Some(Quality::Fair));
    assert_eq!(graded(1, 0, 1, 150), Some(Quality::Fair));
    assert_eq!(graded(600, 0, 1, 2_000), Some(Quality::Poor));
    assert_eq!(graded(1, 150, 1, 2_000), Some(Quality::Poor));
    assert_eq!(graded(300, 150, 1, 50), Some(Quality::Poor));
    assert_eq!(Quality::Fair.word(), "fair");
}

fn second(frames_per_second: Option<u32>, loss_permille: Option<u32>) -> Readings {
    Readings { frames_per_second, loss_permille, ..Readings::default() }
}

#[test]
fn video_trouble_is_said_only_when_it_lasts() {
    let smooth = second(Some(25), Some(0));
    let choppy = second(Some(4), Some(0));
    let lossy = second(Some(4), Some(80));
    assert_eq!(video_trouble(&[choppy.clone(), choppy.clone()]), None, "two seconds are not enough");
    assert_eq!(video_trouble(&[smooth.clone(), choppy.clone(), choppy.clone()]), None);
    let trouble = video_trouble(&[smooth.clone(), choppy.clone(), choppy.clone(), second(Some(6), Some(0))]);
    assert_eq!(trouble, Some(VideoTrouble::LowFrameRate(4)));
    assert_eq!(format!("bob{}", VideoTrouble::LowFrameRate(4)), "bob's video is choppy (4 frames a second)");
    let trouble = video_trouble(&[lossy.clone(), lossy.clone(), second(Some(20), Some(65))]);
    assert_eq!(trouble, Some(VideoTrouble::HeavyLoss(65)));
    assert_eq!(format!("bob{}", VideoTrouble::HeavyLoss(65)), "bob's video is breaking up (6.5% of packets lost)");
    assert_eq!(video_trouble(&[choppy.clone(), second(None, None), choppy]), None, "an unknown second is no proof");
    assert_eq!(video_trouble(&[smooth.clone(), smooth.clone(), smooth]), None);
}

#[test]
fn chart_points_are_scaled_right_aligned_and_skip_unknown_seconds() {
    assert_eq!(chart_points(&[]), "");
    assert_eq!(chart_points(&[None, None]), "");
    assert_eq!(chart_points(&[Some(0), Some(50), None, Some(100)]), format!("56,{CHART_HEIGHT} 57,10 59,0"));
    let long: Vec<Option<u32>> = (0..90).map(Some).collect();
    let points = chart_points(&long);
    assert_eq!(points.split(' ').count(), HISTORY_SECONDS, "only the last 60 seconds");
    assert!(points.starts_with("0,14 ") && points.ends_with(" 59,0"), "{points}");
}
