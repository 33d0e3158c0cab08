//! Chrome DevTools Protocol commands through chromedriver, and the pre-load script that records
//! every WebSocket URL a page opens; a phone-sized viewport.

use super::Person;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{json, Value};

/// A Chrome DevTools Protocol command sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct DevToolsCommand {
    method: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevToolsCommand {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "cmd": self.method, "params": self.params }).to_string()))
    }
}

/// Installed before any page script runs: records the URL of every WebSocket the page opens in
/// `window.__duetWebSocketUrls` (strings only).
const RECORD_WEBSOCKET_URLS: &str = r#"
    (() => {
        const Original = window.WebSocket;
        window.__duetWebSocketUrls = [];
        window.WebSocket = new Proxy(Original, {
            construct(target, args, newTarget) {
                window.__duetWebSocketUrls.push(String(args[0]));
                return Reflect.construct(target, args, newTarget);
            },
        });
    })();
"#;

pub async fn record_websocket_urls(person: &Person) {
    person
        .client
        .issue_cmd(DevToolsCommand {
            method: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({ "source": RECORD_WEBSOCKET_URLS }),
        })
        .await
        .unwrap_or_else(|error| panic!("{}: installing the WebSocket recorder failed: {error}", person.name));
}

/// Makes the page see a `width` x `height` viewport (a phone's screen), whatever the window's
/// own chrome takes: `Emulation.setDeviceMetricsOverride`, mobile, device scale factor 1.
pub async fn emulate_viewport(person: &Person, width: u32, height: u32) {
    person
        .client
        .issue_cmd(DevToolsCommand {
            method: "Emulation.setDeviceMetricsOverride",
            params: json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": true }),
        })
        .await
        .unwrap_or_else(|error| panic!("{}: emulating a {width}x{height} screen failed: {error}", person.name));
}

/// Runs `source` in `person`'s pages before any page script, from the next page load on.
pub async fn run_before_page_scripts(person: &Person, source: &str) {
    person
        .client
        .issue_cmd(DevToolsCommand {
            method: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({ "source": source }),
        })
        .await
        .unwrap_or_else(|error| panic!("{}: installing a pre-load script failed: {error}", person.name));
}

/// Any DevTools command in `person`'s page; its result (`Profiler.stop` gives the CPU profile).
pub async fn devtools_command(person: &Person, method: &'static str, params: Value) -> Value {
    person
        .client
        .issue_cmd(DevToolsCommand { method, params })
        .await
        .unwrap_or_else(|error| panic!("{}: DevTools {method} failed: {error}", person.name))
}
