//! The call statistics in the reducer: sampling starts when the call connects, each sample is a
//! reading (60 kept), the panel opens only in a call and closes with it, a sample of an earlier
//! call is dropped, and trouble with the other side's video is said only while it sends video.

use super::fixtures::*;
use crate::peer_message::PeerMessage;
use crate::stats::{Quality, StatsSample, VideoTrouble};

/// A sample at `second` with `frames` decoded so far and `bytes` received so far.
fn sample(second: u64, frames: u64, bytes: u64) -> StatsSample {
    let counter = |value: u64| [("IV".to_owned(), value)].into_iter().collect();
    StatsSample {
        at_millis: second * 1000,
        bytes_received: counter(bytes),
        packets_received: counter(second * 100),
        packets_lost: counter(0),
        frames_decoded: counter(frames),
        round_trip_micros: Some(2_000),
        ..StatsSample::default()
    }
}

fn peer_says(state: &mut AppModel, call_attempt: CallAttempt, camera_off: bool) {
    let text = PeerMessage::MediaState { muted: false, camera_off, sharing_screen: false }.encode();
    state.apply(Action::PeerMessageReceived { call_attempt, text, at_millis: 0 });
}

#[test]
fn sampling_starts_when_the_call_connects() {
    let (mut state, call_attempt) = alice_calling_bob();
    state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    let effects =
        state.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Connected });
    assert_eq!(effects, vec![Effect::SampleStatsEverySecond { call_attempt }]);
}

#[test]
fn each_sample_is_a_reading_and_sixty_are_kept() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    assert_eq!(state.stats.quality(), None, "nothing measured yet");
    for second in 1..=70 {
        state.apply(Action::StatsSampled { call_attempt, sample: sample(second, second * 25, second * 100_000) });
    }
    assert_eq!(state.stats.history.len(), 60);
    let latest = state.stats.latest().expect("a reading");
    assert_eq!(latest.inbound_kbps, Some(800));
    assert_eq!(latest.frames_per_second, Some(25));
    assert_eq!(state.stats.quality(), Some(Quality::Good));
    assert_eq!(state.stats.series(|readings| readings.inbound_kbps).len(), 60);
}

#[test]
fn the_panel_opens_in_a_call_and_everything_goes_with_the_call() {
    let mut idle = signed_in_as_alice();
    idle.apply(Action::StatisticsClicked);
    assert!(!idle.stats.open, "no call, no statistics");

    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(Action::StatisticsClicked);
    assert!(state.stats.open);
    state.apply(Action::StatsSampled { call_attempt, sample: sample(1, 0, 0) });
    state.apply(Action::HangUpClicked);
    assert_eq!(state.stats, CallStats::default());
    // A sample of the call that ended arrives late: dropped.
    state.apply(Action::StatsSampled { call_attempt, sample: sample(2, 0, 0) });
    assert!(state.stats.history.is_empty());
}

#[test]
fn choppy_video_is_said_only_while_the_other_side_sends_video() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    // Three seconds at 4 frames a second.
    for second in 1..=4 {
        state.apply(Action::StatsSampled { call_attempt, sample: sample(second, second * 4, second * 10_000) });
    }
    assert_eq!(state.remote_video_trouble(), None, "until bob's app says its camera is on");
    peer_says(&mut state, call_attempt, false);
    assert_eq!(state.remote_video_trouble(), Some(VideoTrouble::LowFrameRate(4)));
    peer_says(&mut state, call_attempt, true);
    assert_eq!(state.remote_video_trouble(), None, "a camera turned off is not trouble");
    peer_says(&mut state, call_attempt, false);
    for second in 5..=7 {
        state.apply(Action::StatsSampled {
            call_attempt,
            sample: sample(second, 16 + (second - 4) * 25, second * 10_000),
        });
    }
    assert_eq!(state.remote_video_trouble(), None, "smooth again");
}

#[test]
fn no_choppy_video_line_under_reconnecting_during_an_outage() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    peer_says(&mut state, call_attempt, false);
    for second in 1..=4 {
        state.apply(Action::StatsSampled { call_attempt, sample: sample(second, 100, second * 10_000) });
    }
    assert_eq!(state.remote_video_trouble(), Some(VideoTrouble::LowFrameRate(0)), "frozen video is trouble");
    state.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Failed });
    assert!(state.shows_media_reconnecting());
    assert_eq!(state.remote_video_trouble(), None, "\"Reconnecting…\" already says it");
}
