//! Accept to first remote frame: two fresh browsers per call (so every call is a first call, and
//! no idle pair of the other page draws CPU meanwhile), both signed in with their camera preview
//! playing; the caller calls by typing the name, and the time from the callee's Accept click to
//! each side's first remote frame is read in the pages (`accept_with_frame_watchers`, the method
//! of e2e/tests/browser_call.rs). The app is driven through `call_and_accept`, the minimal page
//! through the same accessible names.

use crate::common::*;
use crate::{Page, Pages};
use serde_json::{json, Value};

/// Every call of each page, in order.
#[derive(Debug, Default)]
pub struct Timings {
    app: Vec<CallSetUpTiming>,
    minimal: Vec<CallSetUpTiming>,
}

impl Timings {
    pub fn push(&mut self, page: Page, timing: CallSetUpTiming) {
        match page {
            Page::App => self.app.push(timing),
            Page::Minimal => self.minimal.push(timing),
        }
    }

    pub fn to_json(&self) -> Value {
        let list = |timings: &[CallSetUpTiming]| {
            timings
                .iter()
                .map(|timing| json!({ "caller_ms": timing.caller_millis, "callee_ms": timing.callee_millis }))
                .collect::<Vec<_>>()
        };
        json!({ "app": list(&self.app), "minimal": list(&self.minimal) })
    }
}

/// The local camera preview plays: getUserMedia is done before the call, as for a person.
const PREVIEW_PLAYS: &str =
    "const v = document.querySelector('video[aria-label=\"Your camera\"]'); return !!v && v.videoWidth > 0;";

async fn open_signed_in(pages: &Pages, page: Page, name: &'static str) -> Person {
    let person = open_browser(pages.chromedriver_port, name, MediaSetup::FakeCameraAndMicrophone).await;
    let url = page.url(pages);
    person.client.goto(url).await.unwrap_or_else(|error| panic!("{name}: could not open {url}: {error}"));
    person.sign_in(name).await;
    match page {
        Page::App => person.wait_for_signed_in().await,
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
pub async fn measure(pages: &Pages, page: Page, round: usize) -> CallSetUpTiming {
    let leak = |role: &str| -> &'static str { Box::leak(format!("{}-{role}-{round}", page.label()).into_boxed_str()) };
    let caller = open_signed_in(pages, page, leak("caller")).await;
    let callee = open_signed_in(pages, page, leak("callee")).await;
    let timing = match page {
        Page::App => {
            let timing = call_and_accept(&caller, &callee, false).await;
            caller.click_button("Hang up").await;
            callee.wait_for_phase("idle").await;
            timing
        }
        Page::Minimal => minimal_call(&caller, &callee).await,
    };
    caller.close().await;
    callee.close().await;
    timing
}

/// The minimal page's call: "Name to call", "Call", the incoming call naming the caller,
/// "Accept", both first frames, "Hang up".
async fn minimal_call(caller: &Person, callee: &Person) -> CallSetUpTiming {
    caller.type_into_labelled_input("Name to call", callee.name).await;
    caller.click_button("Call").await;
    callee
        .wait_for(
            "the incoming call naming the caller",
            &format!(
                "const panel = document.querySelector('[aria-label=\"Incoming call\"]'); \
                 return !!panel && !panel.hidden && panel.textContent.includes({});",
                json!(caller.name)
            ),
        )
        .await;
    let accepted_at = accept_with_frame_watchers(caller, callee).await;
    let timing = CallSetUpTiming {
        caller_millis: caller.first_remote_frame_at().await - accepted_at,
        callee_millis: callee.first_remote_frame_at().await - accepted_at,
    };
    caller.click_button("Hang up").await;
    callee.wait_for("the call to end", "return document.getElementById('status').textContent.includes('ended');").await;
    timing
}
