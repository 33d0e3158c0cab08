//! The **Call statistics** panel (a region of that name, opened by **Statistics**): received and
//! sent bitrate, packet loss, round-trip time, jitter, frame rate, each with a live chart of the
//! last 60 seconds drawn as inline SVG; then the received video's resolution and codec and the
//! selected candidate pair's types; the ICE restarts and collided offers of the call, and
//! **Restart connection** (an ICE restart, for a call that seems stuck). Also the quality indicator shown on the remote video.

use super::on_click;
use crate::call_state::{Action, CallStats, MediaRecovery};
use crate::stats::chart::{CHART_HEIGHT, CHART_WIDTH};
use crate::stats::{chart_points, Quality, Readings};
use yew::prelude::*;

/// One number: its name, how to show it, and the chart of its last 60 seconds.
struct Row {
    name: &'static str,
    value: fn(&Readings) -> Option<u32>,
    shown: fn(u32) -> String,
}

const ROWS: [Row; 6] = [
    Row { name: "Received", value: |readings| readings.inbound_kbps, shown: |kbps| format!("{kbps} kbps") },
    Row { name: "Sent", value: |readings| readings.outbound_kbps, shown: |kbps| format!("{kbps} kbps") },
    Row {
        name: "Packet loss",
        value: |readings| readings.loss_permille,
        shown: |permille| format!("{}.{} %", permille / 10, permille % 10),
    },
    Row { name: "Round trip", value: |readings| readings.round_trip_millis, shown: |millis| format!("{millis} ms") },
    Row { name: "Jitter", value: |readings| readings.jitter_millis, shown: |millis| format!("{millis} ms") },
    Row { name: "Frame rate", value: |readings| readings.frames_per_second, shown: |fps| format!("{fps} fps") },
];

fn chart(name: &str, points: String) -> Html {
    html! {
        <svg class="chart" viewBox={format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}")} preserveAspectRatio="none"
             role="img" aria-label={format!("{name}, last 60 seconds")}>
            <polyline points={points} />
        </svg>
    }
}

/// The Call statistics region of the call's `stats` and `recovery`.
pub(super) fn stats_panel(stats: &CallStats, recovery: MediaRecovery, dispatch: &Callback<Action>) -> Html {
    let restart = on_click(dispatch, || Action::RestartConnectionClicked);
    let latest = stats.latest().cloned().unwrap_or_default();
    let unknown = || "—".to_owned();
    let resolution = latest.resolution.map_or_else(unknown, |(width, height)| format!("{width}×{height}"));
    let codec = latest.codec.clone().unwrap_or_else(unknown);
    let pair = latest
        .candidate_pair
        .as_ref()
        .map_or_else(unknown, |pair| format!("{} ↔ {}", pair.local_type, pair.remote_type));
    html! {
        <section id="stats-panel" class="stats-panel card" role="region" aria-label="Call statistics">
            <h2>{"Call statistics"}</h2>
            <dl class="stats-list">
                { for ROWS.iter().map(|row| html! {
                    <div class="stats-row" data-stat={row.name}>
                        <dt>{row.name}</dt>
                        <dd>
                            <span class="stats-value">{(row.value)(&latest).map_or_else(unknown, row.shown)}</span>
                            {chart(row.name, chart_points(&stats.series(row.value)))}
                        </dd>
                    </div>
                }) }
                <div class="stats-row" data-stat="Resolution"><dt>{"Resolution"}</dt><dd>{resolution}</dd></div>
                <div class="stats-row" data-stat="Codec"><dt>{"Codec"}</dt><dd>{codec}</dd></div>
                <div class="stats-row" data-stat="Candidates"><dt>{"Candidates"}</dt><dd>{pair}</dd></div>
                <div class="stats-row" data-stat="ICE restarts">
                    <dt>{"ICE restarts"}</dt><dd>{recovery.total_restarts}</dd>
                </div>
                <div class="stats-row" data-stat="Offers collided">
                    <dt>{"Offers collided"}</dt><dd>{recovery.offer_collisions}</dd>
                </div>
            </dl>
            <button type="button" onclick={restart}>{"Restart connection"}</button>
        </section>
    }
}

/// "Connection quality: good" (fair, poor) as bars and a word on the remote video.
pub(super) fn quality_indicator(quality: Option<Quality>) -> Html {
    let Some(quality) = quality else { return html! {} };
    // The word's class and name written out: static strings, no formatting.
    let (bars, class, label) = match quality {
        Quality::Good => (3, "quality-indicator quality-good", "Connection quality: good"),
        Quality::Fair => (2, "quality-indicator quality-fair", "Connection quality: fair"),
        Quality::Poor => (1, "quality-indicator quality-poor", "Connection quality: poor"),
    };
    html! {
        <div {class} role="img" aria-label={label}>
            <svg viewBox="0 0 18 14" aria-hidden="true">
                { for (0..3).map(|bar| html! {
                    <rect x={(bar * 6).to_string()} y={(8 - bar * 4).to_string()} width="4" height={(6 + bar * 4).to_string()}
                          class={(bar >= bars).then_some("off")} />
                }) }
            </svg>
            <span aria-hidden="true">{quality.word()}</span>
        </div>
    }
}
