//! `--trace`: a Chrome trace of both pages of every call (chromedriver's performance log with
//! trace categories), read from just before Accept to both first frames and summed up as each
//! page's thread tasks on a timeline in milliseconds after Accept: the renderer's main thread and
//! the WebRTC and audio threads, each task with the biggest things it ran (a function call, an
//! event, a style or layout pass, a garbage collection). The pre-load script's steps are also
//! user-timing marks (`webbench:STEP`), which put the trace's clock on the steps' clock. A
//! diagnosis aid like `--profile`: tracing costs both pages a little, so these are not the
//! timings of the table. `WEBBENCH_TRACE_DUMP=DIR` also writes each read's raw events to DIR.

use crate::common::*;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{json, Value};
use std::collections::HashMap;

const CATEGORIES: &str = "toplevel,devtools.timeline,blink.user_timing,v8.execute,webrtc,webaudio,media";

/// The capabilities that make chromedriver record the trace into the `performance` log.
pub fn capabilities() -> serde_json::Map<String, Value> {
    let capabilities = json!({
        "goog:loggingPrefs": { "performance": "ALL" },
        "goog:chromeOptions": {
            "perfLoggingPrefs": { "enableNetwork": false, "enablePage": false, "traceCategories": CATEGORIES },
        },
    });
    capabilities.as_object().cloned().unwrap_or_default()
}

/// chromedriver's log endpoint (`POST /session/ID/se/log`).
#[derive(Debug)]
struct ReadLog;

impl WebDriverCompatibleCommand for ReadLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "type": "performance" }).to_string()))
    }
}

/// Every trace event recorded from the last read to this one. chromedriver ends the trace at
/// each read and starts a new one, but the ended trace's events reach the log only after the
/// read answered: so a first read ends the trace, and a second one returns it.
pub async fn read_events(person: &Person) -> Vec<Value> {
    read_log(person).await;
    read_log(person).await
}

async fn read_log(person: &Person) -> Vec<Value> {
    let entries = person.client.issue_cmd(ReadLog).await.unwrap_or(Value::Null);
    let mut events = Vec::new();
    for entry in entries.as_array().into_iter().flatten() {
        let Some(message) = entry["message"].as_str() else { continue };
        let Ok(message) = serde_json::from_str::<Value>(message) else { continue };
        if message["message"]["method"] == "Tracing.dataCollected" {
            events.push(message["message"]["params"].clone());
        }
    }
    if let Ok(directory) = std::env::var("WEBBENCH_TRACE_DUMP") {
        let file = format!("{directory}/{}-{}.json", person.name, events.len());
        let _ = std::fs::write(file, serde_json::to_string(&events).unwrap_or_default());
    }
    events
}

/// The threads whose tasks are listed (by name prefix).
const THREADS: [&str; 6] = ["CrRendererMain", "WebRTC", "AudioOutputDevice", "WebAudio", "Media", "Compositor"];

/// What a task ran, in a few words: the event's name and its detail (an event type, a function).
fn describe(event: &Value) -> String {
    let data = &event["args"]["data"];
    let detail = data["type"]
        .as_str()
        .or(data["functionName"].as_str().filter(|name| !name.is_empty()))
        .or(data["url"].as_str().map(|url| url.rsplit('/').next().unwrap_or(url)));
    match detail {
        Some(detail) => format!("{}({detail})", event["name"].as_str().unwrap_or("?")),
        None => event["name"].as_str().unwrap_or("?").to_owned(),
    }
}

/// The page's tasks from `from_ms` to `to_ms` after Accept (`accepted_at` on the steps' clock,
/// `steps` the page's recorded wall-clock steps): `{thread: [[start, duration, [what, ms]...]]}`.
pub fn summarize(events: &[Value], steps: &Value, accepted_at: f64, from_ms: f64, to_ms: f64) -> Value {
    // The trace clock of one of the page's marks against its wall-clock time.
    let mark = events.iter().find_map(|event| {
        let step = event["name"].as_str()?.strip_prefix("webbench:")?;
        Some((event["ts"].as_f64()? / 1000.0 - steps[step].as_f64()?, event["pid"].as_u64()?))
    });
    let Some((offset, pid)) = mark else { return json!({ "error": "no webbench mark in the trace" }) };
    let mut thread_names: HashMap<u64, String> = HashMap::new();
    for event in events.iter().filter(|event| event["ph"] == "M" && event["name"] == "thread_name") {
        if event["pid"].as_u64() == Some(pid) {
            let name = event["args"]["name"].as_str().unwrap_or_default().to_owned();
            thread_names.insert(event["tid"].as_u64().unwrap_or(0), name);
        }
    }
    let at = |event: &Value| event["ts"].as_f64().unwrap_or(0.0) / 1000.0 - offset - accepted_at;
    let duration = |event: &Value| event["dur"].as_f64().unwrap_or(0.0) / 1000.0;
    let complete: Vec<&Value> =
        events.iter().filter(|event| event["ph"] == "X" && event["pid"].as_u64() == Some(pid)).collect();
    let mut by_thread: serde_json::Map<String, Value> = serde_json::Map::new();
    for task in complete.iter().filter(|event| event["cat"].as_str().is_some_and(|cat| cat.contains("toplevel"))) {
        let tid = task["tid"].as_u64().unwrap_or(0);
        let thread = thread_names.get(&tid).cloned().unwrap_or_else(|| format!("thread {tid}"));
        let (start, length) = (at(task), duration(task));
        if !THREADS.iter().any(|prefix| thread.starts_with(prefix)) || length < 0.2 {
            continue;
        }
        if start + length < from_ms || start > to_ms {
            continue;
        }
        // The biggest events inside the task on the same thread (not the task itself).
        let mut inside: Vec<(String, f64)> = complete
            .iter()
            .filter(|event| event["tid"].as_u64() == Some(tid) && !std::ptr::eq(**event, *task))
            .filter(|event| at(event) >= start && at(event) + duration(event) <= start + length + 0.001)
            .filter(|event| !event["cat"].as_str().is_some_and(|cat| cat.contains("toplevel")))
            .map(|event| (describe(event), duration(event)))
            .collect();
        inside.sort_by(|a, b| b.1.total_cmp(&a.1));
        inside.truncate(4);
        let round = |millis: f64| (millis * 10.0).round() / 10.0;
        let inside: Vec<Value> = inside.into_iter().map(|(what, millis)| json!([what, round(millis)])).collect();
        let entry = by_thread.entry(thread).or_insert_with(|| json!([]));
        if let Some(tasks) = entry.as_array_mut() {
            tasks.push(json!([round(start), round(length), inside]));
        }
    }
    for tasks in by_thread.values_mut() {
        if let Some(tasks) = tasks.as_array_mut() {
            tasks.sort_by(|a, b| a[0].as_f64().unwrap_or(0.0).total_cmp(&b[0].as_f64().unwrap_or(0.0)));
        }
    }
    by_thread.into()
}
