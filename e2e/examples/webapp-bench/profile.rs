//! `--profile`: a CPU profile (DevTools `Profiler`, sampled every 200 µs) of both pages from just
//! before Accept to both first remote frames, summed by where the time went (the page's wasm, its
//! JavaScript, the browser's own work, idle), to show what bounds the app's call set-up. A
//! diagnosis aid: profiling slows both pages, so its runs are not the timings of the table.

use crate::common::devtools::devtools_command;
use crate::common::*;
use serde_json::{json, Value};
use std::collections::HashMap;

pub async fn start(person: &Person) {
    devtools_command(person, "Profiler.enable", json!({})).await;
    devtools_command(person, "Profiler.setSamplingInterval", json!({ "interval": 200 })).await;
    devtools_command(person, "Profiler.start", json!({})).await;
}

/// Where a profile node's time counts: a few kinds, and the function's own name.
fn kind_of(call_frame: &Value) -> (String, String) {
    let function = call_frame["functionName"].as_str().unwrap_or_default();
    let url = call_frame["url"].as_str().unwrap_or_default();
    let file = url.rsplit('/').next().unwrap_or_default();
    let kind = if function.starts_with('(') {
        function.to_owned()
    } else if url.contains("wasm") || function.starts_with("$") || function.starts_with("wasm-function") {
        "wasm".to_owned()
    } else if url.is_empty() {
        "browser built-ins (no script URL)".to_owned()
    } else {
        format!("JavaScript: {file}")
    };
    let name = format!(
        "{} ({})",
        if function.is_empty() { "(anonymous)" } else { function },
        if file.is_empty() { "-" } else { file }
    );
    (kind, name)
}

/// Stops the profiler; milliseconds of self time by kind and the 12 busiest functions.
pub async fn stop_and_summarize(person: &Person) -> Value {
    let result = devtools_command(person, "Profiler.stop", json!({})).await;
    let profile = &result["profile"];
    let nodes = profile["nodes"].as_array().cloned().unwrap_or_default();
    let samples = nodes.iter().map(|node| node["hitCount"].as_u64().unwrap_or(0)).sum::<u64>().max(1);
    let duration_ms =
        (profile["endTime"].as_f64().unwrap_or(0.0) - profile["startTime"].as_f64().unwrap_or(0.0)) / 1000.0;
    let per_sample = duration_ms / samples as f64;
    let mut by_kind: HashMap<String, f64> = HashMap::new();
    let mut by_function: HashMap<String, f64> = HashMap::new();
    for node in &nodes {
        let millis = node["hitCount"].as_u64().unwrap_or(0) as f64 * per_sample;
        let (kind, name) = kind_of(&node["callFrame"]);
        *by_kind.entry(kind).or_default() += millis;
        *by_function.entry(name).or_default() += millis;
    }
    let sorted = |map: HashMap<String, f64>, count: usize| {
        let mut entries: Vec<(String, f64)> = map.into_iter().collect();
        entries.sort_by(|a, b| b.1.total_cmp(&a.1));
        entries.truncate(count);
        entries.into_iter().map(|(name, millis)| json!([name, (millis * 10.0).round() / 10.0])).collect::<Vec<_>>()
    };
    json!({
        "duration_ms": duration_ms,
        "self_ms_by_kind": sorted(by_kind, 20),
        "busiest_functions_self_ms": sorted(by_function, 12),
    })
}
