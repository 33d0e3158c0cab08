//! Browser glue for the call statistics: [`StatsSampler`] reads the call's `getStats()` once a
//! second and dispatches each report as [`Action::StatsSampled`]. Only the entries the app uses
//! cross into Rust, each as the text, number and true/false fields of its `RTCStats` dictionary
//! ([`report_entries`], no JSON text in between; no stats object is kept); `stats.rs` does the rest. Dropping the sampler (with the call's
//! `PeerSession`) stops the interval; a report still in flight then belongs to an ended call
//! attempt and is dropped by the reducer.

use crate::call_state::{Action, CallAttempt};
use crate::signaling::Dispatch;
use crate::spawn::spawn;
use crate::stats::{sample_from_entries, StatsEntry, StatsField};
use gloo_timers::callback::Interval;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::RtcPeerConnection;

const SAMPLE_EVERY_MILLIS: u32 = 1000;

/// The `RTCStats` types the app reads (rates, quality, codec, candidate pair).
const USED_TYPES: [&str; 7] =
    ["inbound-rtp", "outbound-rtp", "codec", "transport", "candidate-pair", "local-candidate", "remote-candidate"];

/// The text, number and true/false fields of a stats dictionary.
fn stats_entry(stats: &JsValue) -> StatsEntry {
    let mut entry = StatsEntry::default();
    let Some(object) = stats.dyn_ref::<Object>() else { return entry };
    for pair in Object::entries(object).iter() {
        let pair: Array = pair.unchecked_into();
        let (Some(name), value) = (pair.get(0).as_string(), pair.get(1)) else { continue };
        let field = if let Some(text) = value.as_string() {
            StatsField::Text(text)
        } else if let Some(number) = value.as_f64() {
            StatsField::Number(number)
        } else if let Some(flag) = value.as_bool() {
            StatsField::Flag(flag)
        } else {
            continue;
        };
        entry.push(name, field);
    }
    entry
}

/// The entries of `connection.getStats()` of the types the app reads; `None` when the browser
/// refused (the connection is closed).
pub async fn report_entries(connection: &RtcPeerConnection) -> Option<Vec<StatsEntry>> {
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
            entries.push(stats_entry(&stats));
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
            spawn(async move {
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
