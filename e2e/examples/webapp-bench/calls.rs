//! Accept to first remote frame: two fresh browsers per call (so every call is a first call, and
//! no idle pair of the other page draws CPU meanwhile), both signed in with their camera preview
//! playing; the caller calls by typing the name, and the time from the callee's Accept click to
//! each side's first remote frame is read in the pages (`accept_with_frame_watchers`, the method
//! of e2e/tests/browser_call.rs). The app is driven through `call_and_accept`, the minimal page
//! through the same accessible names. A pre-load script also notes when each WebRTC step of the
//! call happened in each page (same script for both pages), to show where the time goes.

use crate::common::devtools::run_before_page_scripts;
use crate::common::*;
use crate::{profile, trace, Page, Pages};
use serde_json::{json, Value};

/// Installed before any page script in both pages: `window.__webbenchSteps` gets the wall-clock
/// time (`performance.timeOrigin + performance.now()`, like the frame watchers) of the first
/// occurrence of each step: the RTCPeerConnection created (a subclass of the global constructor,
/// which both pages call), each offer/answer method called and resolved (the prototype's methods
/// wrapped), ICE and the connection reaching `connected`, the remote track, and the `answer`
/// frame sent or received on the page's WebSocket; and every occurrence (`NAME#N`, the Nth) of
/// what may land on the call's path: an `AudioContext` created, its `close()` called and
/// resolved, a video's `srcObject` set (`src_object_set:LABEL`, the video's label), `getStats()`
/// called, a DOM change (a render). Each step is also a user-timing mark `webbench:STEP`
/// (`--trace` reads the trace's clock from them). Strings and numbers only.
const RECORD_STEPS: &str = r#"
    (() => {
        const steps = (window.__webbenchSteps = {});
        const mark = (name) => {
            if (name in steps) return;
            steps[name] = performance.timeOrigin + performance.now();
            performance.mark('webbench:' + name);
        };
        const counts = {};
        const markEach = (name) => mark(name + '#' + (counts[name] = (counts[name] || 0) + 1));
        if (window.AudioContext) {
            const OriginalAudio = window.AudioContext;
            const close = OriginalAudio.prototype.close;
            OriginalAudio.prototype.close = function (...args) {
                markEach('audio_context_close_called');
                const result = close.apply(this, args);
                Promise.resolve(result).then(() => markEach('audio_context_closed'), () => {});
                return result;
            };
            window.AudioContext = class extends OriginalAudio {
                constructor(...args) {
                    super(...args);
                    markEach('audio_context_created');
                }
            };
        }
        const srcObject = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'srcObject');
        Object.defineProperty(HTMLMediaElement.prototype, 'srcObject', {
            ...srcObject,
            set(value) {
                if (value) markEach('src_object_set:' + (this.getAttribute('aria-label') || 'video'));
                srcObject.set.call(this, value);
            },
        });
        new MutationObserver(() => markEach('dom_changed')).observe(document, {
            subtree: true, childList: true, attributes: true, characterData: true,
        });
        const Original = window.RTCPeerConnection;
        const getStats = Original.prototype.getStats;
        Original.prototype.getStats = function (...args) {
            markEach('get_stats_called');
            return getStats.apply(this, args);
        };
        for (const method of ['createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription']) {
            const original = Original.prototype[method];
            Original.prototype[method] = function (...args) {
                mark(method + '_called');
                const result = original.apply(this, args);
                Promise.resolve(result).then(() => mark(method + '_done'), () => {});
                return result;
            };
        }
        window.RTCPeerConnection = class extends Original {
            constructor(...args) {
                super(...args);
                mark('peer_connection_created');
                this.addEventListener('iceconnectionstatechange', () => {
                    if (['connected', 'completed'].includes(this.iceConnectionState)) mark('ice_connected');
                });
                this.addEventListener('connectionstatechange', () => {
                    if (this.connectionState === 'connected') mark('connected');
                });
                this.addEventListener('track', () => mark('remote_track'));
            }
        };
        const isAnswer = (data) => typeof data === 'string' && data.startsWith('{"type":"answer"');
        const send = WebSocket.prototype.send;
        WebSocket.prototype.send = function (data) {
            if (isAnswer(data)) mark('answer_sent');
            return send.call(this, data);
        };
        window.WebSocket = new Proxy(WebSocket, {
            construct(target, args, newTarget) {
                const socket = Reflect.construct(target, args, newTarget);
                socket.addEventListener('message', (event) => {
                    if (isAnswer(event.data)) mark('answer_received');
                });
                return socket;
            },
        });
    })();
"#;

/// The steps one page recorded, in milliseconds after the Accept click.
const READ_STEPS: &str = "return JSON.stringify(window.__webbenchSteps || {});";

/// One measured call: the two first-frame times and each side's steps after Accept.
#[derive(Debug)]
pub struct Call {
    pub timing: CallSetUpTiming,
    pub caller_steps: Value,
    pub callee_steps: Value,
    /// With `--profile`: each side's CPU profile summary (`profile.rs`).
    pub profiles: Value,
}

/// `person`'s recorded steps as wall-clock times.
async fn recorded_steps(person: &Person) -> Value {
    let text = person.run_script(READ_STEPS, vec![]).await;
    serde_json::from_str(text.as_str().unwrap_or("{}")).unwrap_or_default()
}

/// `steps` as milliseconds after `accepted_at` (negative: before Accept); the repeated ones
/// (`NAME#N`) only from 200 ms before Accept to 1 s after it.
fn steps_after(steps: &Value, accepted_at: f64) -> Value {
    let steps = steps.as_object().cloned().unwrap_or_default();
    steps
        .into_iter()
        .filter_map(|(step, at)| Some((step, at.as_f64()? - accepted_at)))
        .filter(|(step, after)| !step.contains('#') || (-200.0..1000.0).contains(after))
        .map(|(step, after)| (step, json!(after)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Every call of each page, in order, by the page's label.
#[derive(Debug, Default)]
pub struct Timings {
    by_page: std::collections::BTreeMap<&'static str, Vec<Call>>,
}

impl Timings {
    pub fn push(&mut self, page: Page, call: Call) {
        self.by_page.entry(page.label()).or_default().push(call);
    }

    /// `app` and `minimal` always; `baseline` when `--baseline` gave an earlier build.
    pub fn to_json(&self) -> Value {
        let list = |calls: &[Call]| {
            calls
                .iter()
                .map(|call| {
                    json!({
                        "caller_ms": call.timing.caller_millis,
                        "callee_ms": call.timing.callee_millis,
                        "caller_steps_ms": call.caller_steps,
                        "callee_steps_ms": call.callee_steps,
                        "profiles": call.profiles,
                    })
                })
                .collect::<Vec<_>>()
        };
        let mut pages = serde_json::Map::new();
        for page in [Page::App, Page::Minimal, Page::Baseline] {
            match self.by_page.get(page.label()) {
                Some(calls) => pages.insert(page.label().to_owned(), list(calls).into()),
                None if page != Page::Baseline => pages.insert(page.label().to_owned(), json!([])),
                None => None,
            };
        }
        pages.into()
    }
}

/// The local camera preview plays: getUserMedia is done before the call, as for a person.
const PREVIEW_PLAYS: &str =
    "const v = document.querySelector('video[aria-label=\"Your camera\"]'); return !!v && v.videoWidth > 0;";

async fn open_signed_in(pages: &Pages, page: Page, name: &'static str) -> Person {
    let media = MediaSetup::FakeCameraAndMicrophone;
    let capabilities = if pages.trace { trace::capabilities() } else { serde_json::Map::new() };
    let person = open_browser_with_capabilities(pages.chromedriver_port, name, media, &[], capabilities).await;
    run_before_page_scripts(&person, RECORD_STEPS).await;
    let url = page.url(pages);
    person.client.goto(url).await.unwrap_or_else(|error| panic!("{name}: could not open {url}: {error}"));
    person.sign_in(name).await;
    match page {
        Page::App | Page::Baseline => person.wait_for_signed_in().await,
        Page::Minimal => {
            let signed_in = format!(
                "return document.getElementById('signed-in-as').textContent === {};",
                json!(format!("Signed in as {name}"))
            );
            person.wait_for("the sign-in to be answered", &signed_in).await;
        }
    }
    person.wait_for("the camera preview to play", PREVIEW_PLAYS).await;
    person
}

/// One call on `page` between two fresh browsers, closed afterwards.
pub async fn measure(pages: &Pages, page: Page, round: usize) -> Call {
    let leak = |role: &str| -> &'static str { Box::leak(format!("{}-{role}-{round}", page.label()).into_boxed_str()) };
    let caller = open_signed_in(pages, page, leak("caller")).await;
    let callee = open_signed_in(pages, page, leak("callee")).await;
    let mut profiles = Value::Null;
    let timing = match page {
        _ if pages.profile || pages.trace => {
            let (timing, summaries) = instrumented_call(pages, page, &caller, &callee).await;
            profiles = summaries;
            timing
        }
        Page::App | Page::Baseline => {
            let timing = call_and_accept(&caller, &callee, false).await;
            hang_up(page, &caller, &callee).await;
            timing
        }
        Page::Minimal => {
            caller.type_into_labelled_input("Name to call", callee.name).await;
            caller.click_button("Call").await;
            wait_for_the_incoming_call(page, &caller, &callee).await;
            let timing = accept_and_time(&caller, &callee).await;
            hang_up(page, &caller, &callee).await;
            timing
        }
    };
    // The Accept click's time, as `accept_with_frame_watchers` recorded it in the callee's page.
    let accepted_at = callee.run_script("return window.__duetAcceptClickedAt;", vec![]).await.as_f64().unwrap_or(0.0);
    let (caller_steps, callee_steps) = (recorded_steps(&caller).await, recorded_steps(&callee).await);
    if pages.trace {
        let last_frame = timing.caller_millis.max(timing.callee_millis) + 20.0;
        let caller_events = trace::read_events(&caller).await;
        let callee_events = trace::read_events(&callee).await;
        profiles = json!({
            "profile": profiles,
            "caller_trace": trace::summarize(&caller_events, &caller_steps, accepted_at, -20.0, last_frame),
            "callee_trace": trace::summarize(&callee_events, &callee_steps, accepted_at, -20.0, last_frame),
        });
    }
    let call = Call {
        timing,
        caller_steps: steps_after(&caller_steps, accepted_at),
        callee_steps: steps_after(&callee_steps, accepted_at),
        profiles,
    };
    caller.close().await;
    callee.close().await;
    call
}

/// The callee's page shows the incoming call: the app's `ringing` phase, or the minimal page's
/// incoming-call panel naming the caller.
async fn wait_for_the_incoming_call(page: Page, caller: &Person, callee: &Person) {
    match page {
        Page::App | Page::Baseline => callee.wait_for_phase("ringing").await,
        Page::Minimal => {
            let panel_shown = format!(
                "const panel = document.querySelector('[aria-label=\"Incoming call\"]'); \
                 return !!panel && !panel.hidden && panel.textContent.includes({});",
                json!(caller.name)
            );
            callee.wait_for("the incoming call naming the caller", &panel_shown).await;
        }
    }
}

/// Accept, then both first remote frames, in milliseconds after the Accept click.
async fn accept_and_time(caller: &Person, callee: &Person) -> CallSetUpTiming {
    let accepted_at = accept_with_frame_watchers(caller, callee).await;
    CallSetUpTiming {
        caller_millis: caller.first_remote_frame_at().await - accepted_at,
        callee_millis: callee.first_remote_frame_at().await - accepted_at,
    }
}

/// The caller hangs up; waits until the callee's page has ended the call too.
async fn hang_up(page: Page, caller: &Person, callee: &Person) {
    caller.click_button("Hang up").await;
    match page {
        Page::App | Page::Baseline => callee.wait_for_phase("idle").await,
        Page::Minimal => {
            let ended = "return document.getElementById('status').textContent.includes('ended');";
            callee.wait_for("the call to end", ended).await;
        }
    }
}

/// `--profile` or `--trace`: the same call on either page, with both pages CPU-profiled or
/// traced from just before Accept until both first frames were read (the trace is read after
/// the hang-up, by `measure`).
async fn instrumented_call(pages: &Pages, page: Page, caller: &Person, callee: &Person) -> (CallSetUpTiming, Value) {
    caller.type_into_labelled_input("Name to call", callee.name).await;
    caller.click_button("Call").await;
    wait_for_the_incoming_call(page, caller, callee).await;
    if pages.trace {
        // What was traced so far is dropped: only Accept onwards is summed up.
        trace::read_events(caller).await;
        trace::read_events(callee).await;
    }
    if pages.profile {
        profile::start(caller).await;
        profile::start(callee).await;
    }
    let timing = accept_and_time(caller, callee).await;
    let profiles = if pages.profile {
        json!({
            "caller": profile::stop_and_summarize(caller).await,
            "callee": profile::stop_and_summarize(callee).await,
        })
    } else {
        Value::Null
    };
    hang_up(page, caller, callee).await;
    (timing, profiles)
}
