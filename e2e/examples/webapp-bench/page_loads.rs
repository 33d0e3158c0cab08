//! Navigation to a usable sign-in form: a fresh Chromium per measurement, a MutationObserver
//! installed before any page script (DevTools `Page.addScriptToEvaluateOnNewDocument`) that
//! notes `performance.now()` (milliseconds since navigation start) the moment an input labelled
//! "Your name" and a "Sign in" button are both in the document and enabled; first on the fresh
//! profile (cold: nothing cached), then on a second navigation in the same browser (warm: the
//! HTTP cache and Chromium's compiled-code caches may answer).

use crate::common::devtools::run_before_page_scripts;
use crate::common::*;
use crate::{Page, Pages};
use serde_json::{json, Value};

/// Installed before the page's own scripts on every navigation. Also notes when the document's
/// bytes had arrived and when every file had (resource timing), to show where the time goes.
const WATCH_FOR_USABLE_FORM: &str = r#"
    (() => {
        window.__webbenchFormUsableAt = null;
        const named = (element) => element.textContent.replace(/\s+/g, ' ').trim();
        const usable = () => {
            const label = [...document.querySelectorAll('label')].find((l) => named(l) === 'Your name');
            const input = label && document.getElementById(label.htmlFor);
            const button = [...document.querySelectorAll('button')].find((b) => named(b) === 'Sign in');
            return !!input && !input.disabled && !!button && !button.disabled;
        };
        const observer = new MutationObserver(() => {
            if (window.__webbenchFormUsableAt === null && usable()) {
                window.__webbenchFormUsableAt = performance.now();
                observer.disconnect();
            }
        });
        observer.observe(document, { childList: true, subtree: true, attributes: true });
    })();
"#;

/// Read once the form is usable: the times, as a JSON string (never an object with live refs).
const READ_TIMES: &str = r#"
    if (window.__webbenchFormUsableAt === null) return null;
    const navigation = performance.getEntriesByType('navigation')[0];
    const resources = performance.getEntriesByType('resource');
    return JSON.stringify({
        usable_ms: window.__webbenchFormUsableAt,
        document_received_ms: navigation ? navigation.responseEnd : null,
        files_received_ms: Math.max(navigation ? navigation.responseEnd : 0, ...resources.map((r) => r.responseEnd)),
        transferred_bytes: resources.reduce((sum, r) => sum + (r.transferSize || 0), navigation ? navigation.transferSize : 0),
    });
"#;

/// One page's load measurements, both navigations.
#[derive(Debug)]
pub struct Load {
    pub cold: Value,
    pub warm: Value,
}

/// Every load of each page, in order, by the page's label.
#[derive(Debug, Default)]
pub struct Loads {
    by_page: std::collections::BTreeMap<&'static str, Vec<Load>>,
}

impl Loads {
    pub fn push(&mut self, page: Page, load: Load) {
        self.by_page.entry(page.label()).or_default().push(load);
    }

    pub fn to_json(&self) -> Value {
        let list = |loads: &[Load]| {
            json!({
                "cold": loads.iter().map(|load| load.cold.clone()).collect::<Vec<_>>(),
                "warm": loads.iter().map(|load| load.warm.clone()).collect::<Vec<_>>(),
            })
        };
        let mut pages = serde_json::Map::new();
        for page in ["app", "minimal"] {
            pages.insert(page.to_owned(), list(self.by_page.get(page).map_or(&[], Vec::as_slice)));
        }
        pages.into()
    }
}

/// Opens `page` in a fresh browser, twice; the browser is closed afterwards.
pub async fn measure(pages: &Pages, page: Page, round: usize) -> Load {
    let name: &'static str = Box::leak(format!("load-{}-{round}", page.label()).into_boxed_str());
    let person = open_browser(pages.chromedriver_port, name, MediaSetup::FakeCameraAndMicrophone).await;
    run_before_page_scripts(&person, WATCH_FOR_USABLE_FORM).await;
    let mut navigations = Vec::new();
    // The second visit has a query string of its own, so it is an ordinary navigation rather
    // than a reload of the same address (which Chromium treats as one); both pages ignore it.
    for url in [page.url(pages).to_owned(), format!("{}?second-visit", page.url(pages))] {
        person.client.goto(&url).await.unwrap_or_else(|error| panic!("{name}: could not open {url}: {error}"));
        let times = person.wait_for("a usable sign-in form", READ_TIMES).await;
        navigations.push(serde_json::from_str(times.as_str().unwrap_or("null")).unwrap_or(Value::Null));
    }
    person.close().await;
    let warm = navigations.pop().unwrap_or(Value::Null);
    let cold = navigations.pop().unwrap_or(Value::Null);
    Load { cold, warm }
}
