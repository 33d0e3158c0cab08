//! Browser glue for the call statistics: [`StatsSampler`] reads the call's `getStats()` once a
//! second and dispatches each report as [`Action::StatsSampled`]. Only the entries the app uses
//! cross into Rust, each as the JSON text of its `RTCStats` dictionary ([`report_entries`]; no
//! stats object is kept); `stats.rs` does the rest. Dropping the sampler (with the call's
//! `PeerSession`) stops the interval; a report still in flight then belongs to an ended call
//! attempt and is dropped by the reducer.

use crate::call_state::{Action, CallAttempt};
use crate::signaling::Dispatch;
use crate::stats::sample_from_entries;
use gloo_timers::callback::Interval;
use js_sys::{Reflect, JSON};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::RtcPeerConnection;

const SAMPLE_EVERY_MILLIS: u32 = 1000;

/// The `RTCStats` types the app reads (rates, quality, codec, candidate pair).
const USED_TYPES: [&str; 7] =
    ["inbound-rtp", "outbound-rtp", "codec", "transport", "candidate-pair", "local-candidate", "remote-candidate"];

/// The entries of `connection.getStats()` of the types the app reads, each parsed from its JSON
/// text; `None` when the browser refused (the connection is closed).
pub async fn report_entries(connection: &RtcPeerConnection) -> Option<Vec<serde_json::Value>> {
    let report = JsFuture::from(connection.get_stats()).await.ok()?;
    let mut entries = Vec::new();
    if let Ok(Some(iterator)) = js_sys::try_iter(&report) {
        for entry in iterator.flatten() {
            // Each entry of the maplike report is `[id, stats]`.
            let stats = Reflect::get(&entry, &JsValue::from_f64(1.0)).unwrap_or(JsValue::UNDEFINED);
            let kind = Reflect::get(&stats, &JsValue::from_str("type")).ok().and_then(|kind| kind.as_string());
            if !kind.is_some_and(|kind| USED_TYPES.contains(&kind.as_str())) {
                continue;
            }
            let json = JSON::stringify(&stats).ok().and_then(|text| text.as_string());
            if let Some(value) = json.and_then(|json| serde_json::from_str::<serde_json::Value>(&json).ok()) {
                entries.push(value);
            }
        }
    }
    Some(entries)
}

/// Reads a call's statistics every second while it lives.
pub struct StatsSampler {
    _interval: Interval,
}

impl StatsSampler {
    pub fn start(connection: &RtcPeerConnection, call_attempt: CallAttempt, dispatch: Dispatch) -> StatsSampler {
        let connection = connection.clone();
        let interval = Interval::new(SAMPLE_EVERY_MILLIS, move || {
            let connection = connection.clone();
            let dispatch = dispatch.clone();
            spawn_local(async move {
                let Some(entries) = report_entries(&connection).await else { return };
                // Milliseconds since the epoch fit an f64 exactly; the cast only drops the fraction.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let at_millis = js_sys::Date::now() as u64;
                dispatch(Action::StatsSampled { call_attempt, sample: sample_from_entries(&entries, at_millis) });
            });
        });
        StatsSampler { _interval: interval }
    }
}
