//! One Chromium session per person (fake devices, its own profile; Firefox in `firefox`), the
//! string-only DOM probes the tests use in either browser (no RTCPeerConnection or stats object
//! is ever returned to WebDriver), and a full call from the first click to remote video playing
//! on both sides.

use super::{target_directory, Browser, GeckoDriverProcess, POLL_INTERVAL, STEP_TIMEOUT};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One browser window for one person.
pub struct Person {
    pub name: &'static str,
    pub client: Client,
    pub profile_directory: PathBuf,
    pub browser: Browser,
    /// Firefox's own geckodriver (one session each), ended after the session on [`Person::close`].
    pub gecko_driver: Option<GeckoDriverProcess>,
}

/// What the browser's getUserMedia can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaSetup {
    /// Chromium's fake camera and microphone, permission granted.
    FakeCameraAndMicrophone,
    /// No devices at all (getUserMedia fails with NotFoundError).
    NoDevices,
    /// Devices exist but the person refuses the permission prompt (NotAllowedError).
    PermissionDenied,
}

pub async fn open_browser(driver_port: u16, name: &'static str, media: MediaSetup) -> Person {
    open_browser_with_arguments(driver_port, name, media, &[]).await
}

/// Like [`open_browser`], with more Chromium command-line arguments.
pub async fn open_browser_with_arguments(
    driver_port: u16,
    name: &'static str,
    media: MediaSetup,
    extra_arguments: &[String],
) -> Person {
    open_browser_with_capabilities(driver_port, name, media, extra_arguments, serde_json::Map::new()).await
}

/// Like [`open_browser_with_arguments`], with more WebDriver capabilities; the entries of an
/// `extra_capabilities["goog:chromeOptions"]` object are added to the Chromium options (the
/// web app bench's `--trace` asks chromedriver for a performance log this way).
pub async fn open_browser_with_capabilities(
    driver_port: u16,
    name: &'static str,
    media: MediaSetup,
    extra_arguments: &[String],
    mut extra_capabilities: serde_json::Map<String, Value>,
) -> Person {
    let profile_directory = std::env::temp_dir().join(format!("duet-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile_directory);
    let mut arguments = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--allow-loopback-in-peer-connection".to_owned(),
        "--autoplay-policy=no-user-gesture-required".to_owned(),
        "--window-size=1280,800".to_owned(),
        format!("--user-data-dir={}", profile_directory.display()),
    ];
    match media {
        MediaSetup::FakeCameraAndMicrophone => {
            arguments.push("--use-fake-device-for-media-stream".to_owned());
            arguments.push("--use-fake-ui-for-media-stream".to_owned());
        }
        MediaSetup::NoDevices => arguments.push("--use-fake-ui-for-media-stream".to_owned()),
        MediaSetup::PermissionDenied => {
            arguments.push("--use-fake-device-for-media-stream".to_owned());
            arguments.push("--deny-permission-prompts".to_owned());
        }
    }
    arguments.extend_from_slice(extra_arguments);
    let mut chrome_options = json!({ "args": arguments });
    if Path::new("/usr/bin/chromium").exists() {
        chrome_options["binary"] = json!("/usr/bin/chromium");
    }
    if let Some(Value::Object(options)) = extra_capabilities.remove("goog:chromeOptions") {
        chrome_options.as_object_mut().expect("an object").extend(options);
    }
    let mut capabilities = extra_capabilities;
    capabilities.insert("browserName".to_owned(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".to_owned(), chrome_options);
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .unwrap_or_else(|error| panic!("could not start a browser session for {name}: {error}"));
    Person { name, client, profile_directory, browser: Browser::Chromium, gecko_driver: None }
}

/// What the page shows right now, for failure messages.
pub const PAGE_SUMMARY_SCRIPT: &str = r#"
    const app = document.querySelector('.app');
    const notices = [...document.querySelectorAll('[role=status],[role=alert]')].map(e => e.textContent.trim()).filter(t => t);
    return JSON.stringify({
        phase: app && app.dataset.callPhase, peer: app && app.dataset.peerState,
        signaling: app && app.dataset.signaling, notices,
        buttons: [...document.querySelectorAll('button')].map(b => b.textContent.trim()),
    });
"#;

impl Person {
    pub async fn run_script(&self, script: &str, arguments: Vec<Value>) -> Value {
        self.client
            .execute(script, arguments)
            .await
            .unwrap_or_else(|error| panic!("{}: script failed: {error}\n{script}", self.name))
    }

    /// A number the app publishes on its root element (`data-ATTRIBUTE`, camelCase), 0 if absent.
    pub async fn app_counter(&self, attribute: &str) -> u64 {
        let script = format!("return Number(document.querySelector('.app').dataset.{attribute});");
        self.run_script(&script, vec![]).await.as_u64().unwrap_or(0)
    }

    pub async fn page_summary(&self) -> String {
        match self.client.execute(PAGE_SUMMARY_SCRIPT, vec![]).await {
            Ok(value) => value.as_str().unwrap_or_default().to_owned(),
            Err(error) => format!("(page unreadable: {error})"),
        }
    }

    /// Polls `condition` (JS returning a truthy value when done) until it holds; returns the value.
    pub async fn wait_for(&self, what: &str, condition: &str) -> Value {
        self.wait_for_within(what, condition, STEP_TIMEOUT).await
    }

    /// [`Person::wait_for`] with its own deadline, for what takes longer than a step by design
    /// (a network outage, a server restart).
    pub async fn wait_for_within(&self, what: &str, condition: &str, timeout: std::time::Duration) -> Value {
        let started = Instant::now();
        loop {
            let value = self.client.execute(condition, vec![]).await.unwrap_or(Value::Null);
            let done = match &value {
                Value::Null => false,
                Value::Bool(done) => *done,
                Value::String(text) => !text.is_empty(),
                _ => true,
            };
            if done {
                return value;
            }
            if started.elapsed() > timeout {
                panic!(
                    "{}: timed out after {timeout:?} waiting for {what}; the page shows {}",
                    self.name,
                    self.page_summary().await
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    pub async fn wait_for_phase(&self, phase: &str) {
        let condition =
            format!("const app = document.querySelector('.app'); return !!app && app.dataset.callPhase === '{phase}';");
        self.wait_for(&format!("call phase `{phase}`"), &condition).await;
    }

    /// Waits until some `role=status` or `role=alert` element contains `text`.
    pub async fn wait_for_notice(&self, text: &str) {
        let condition = format!(
            "return [...document.querySelectorAll('[role=status],[role=alert]')].some(e => e.textContent.includes({}));",
            json!(text)
        );
        self.wait_for(&format!("a status or alert saying {text:?}"), &condition).await;
    }

    /// The input whose `<label>` says `label` (so the label is tested too).
    pub async fn type_into_labelled_input(&self, label: &str, text: &str) {
        let xpath = format!("//input[@id=//label[normalize-space(.)='{label}']/@for]");
        let input =
            self.find_within_step_timeout(&format!("an input labelled {label:?}"), Locator::XPath(&xpath)).await;
        input.clear().await.unwrap_or_else(|error| panic!("{}: clearing {label:?} failed: {error}", self.name));
        input
            .send_keys(text)
            .await
            .unwrap_or_else(|error| panic!("{}: typing into {label:?} failed: {error}", self.name));
    }

    pub async fn click_button(&self, text: &str) {
        let xpath = format!("//button[normalize-space(.)='{text}']");
        let button = self.find_within_step_timeout(&format!("a {text:?} button"), Locator::XPath(&xpath)).await;
        button.click().await.unwrap_or_else(|error| panic!("{}: clicking {text:?} failed: {error}", self.name));
    }

    pub async fn find_within_step_timeout(&self, what: &str, locator: Locator<'_>) -> fantoccini::elements::Element {
        let started = Instant::now();
        loop {
            if let Ok(element) = self.client.find(locator).await {
                return element;
            }
            if started.elapsed() > STEP_TIMEOUT {
                panic!(
                    "{}: no {what} within {STEP_TIMEOUT:?}; the page shows {}",
                    self.name,
                    self.page_summary().await
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until the page says "Signed in as NAME" (the call phase alone reads `idle` before
    /// the sign-in is answered too).
    pub async fn wait_for_signed_in(&self) {
        let condition = format!(
            "const line = document.querySelector('.signed-in-as'); return !!line && line.textContent === {};",
            json!(format!("Signed in as {}", self.name))
        );
        self.wait_for("the sign-in to be answered", &condition).await;
        self.wait_for_phase("idle").await;
    }

    pub async fn sign_in(&self, name: &str) {
        self.type_into_labelled_input("Your name", name).await;
        self.click_button("Sign in").await;
    }

    /// Records (in the page) the wall-clock time of the next remote video frame.
    pub async fn watch_for_first_remote_frame(&self) {
        self.run_script(
            r#"
            window.__duetFirstRemoteFrameAt = null;
            const started = performance.now();
            const check = () => {
                const video = document.querySelector('video[aria-label="Remote video"]');
                if (video && video.videoWidth > 0 && !video.paused) {
                    window.__duetFirstRemoteFrameAt = performance.timeOrigin + performance.now();
                    return;
                }
                if (video && video.requestVideoFrameCallback && video.srcObject) {
                    video.requestVideoFrameCallback(() => {
                        if (window.__duetFirstRemoteFrameAt === null) {
                            window.__duetFirstRemoteFrameAt = performance.timeOrigin + performance.now();
                        }
                    });
                }
                if (performance.now() - started < 30000 && window.__duetFirstRemoteFrameAt === null) setTimeout(check, 5);
            };
            check();
            "#,
            vec![],
        )
        .await;
    }

    pub async fn first_remote_frame_at(&self) -> f64 {
        self.wait_for("the first remote video frame", "return window.__duetFirstRemoteFrameAt;")
            .await
            .as_f64()
            .expect("a timestamp")
    }

    /// Waits until the peer connection is `connected`, the remote video has a size and its
    /// playback time advances.
    pub async fn wait_until_remote_video_plays(&self) {
        self.wait_for(
            "the peer connection to be connected",
            "return document.querySelector('.app').dataset.peerState === 'connected';",
        )
        .await;
        self.wait_for_phase("in-call").await;
        let playing = r#"
            const video = document.querySelector('video[aria-label="Remote video"]');
            if (!video || video.videoWidth === 0) return null;
            return JSON.stringify({ width: video.videoWidth, time: video.currentTime });
        "#;
        let first = self.wait_for("the remote video to have a size", playing).await;
        let first: Value = serde_json::from_str(first.as_str().unwrap_or("{}")).expect("json");
        let start_time = first["time"].as_f64().unwrap_or(0.0);
        let advancing = format!(
            "const video = document.querySelector('video[aria-label=\"Remote video\"]'); return !!video && video.currentTime > {start_time} + 0.2;"
        );
        self.wait_for("the remote video's playback time to advance", &advancing).await;
    }

    pub async fn save_screenshot(&self, file_name: &str) {
        let directory = target_directory().join("e2e-screenshots");
        std::fs::create_dir_all(&directory).expect("create the screenshot directory");
        let png =
            self.client.screenshot().await.unwrap_or_else(|error| panic!("{}: screenshot failed: {error}", self.name));
        std::fs::write(directory.join(file_name), png).expect("write the screenshot");
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile_directory);
        drop(self.gecko_driver);
    }
}

/// One measured call: milliseconds from the Accept click to each side's first remote frame.
#[derive(Debug, Clone, Copy)]
pub struct CallSetUpTiming {
    pub caller_millis: f64,
    pub callee_millis: f64,
}

/// `caller` calls `callee` (by clicking their name in the list, or by typing it), `callee`
/// accepts; returns how long each side waited for the first remote frame after Accept.
pub async fn call_and_accept(caller: &Person, callee: &Person, by_clicking_the_name: bool) -> CallSetUpTiming {
    caller.wait_for_phase("idle").await;
    callee.wait_for_phase("idle").await;
    if by_clicking_the_name {
        let selector = format!("button[data-user=\"{}\"]", callee.name);
        let person_button = caller
            .find_within_step_timeout(&format!("{} in the list of people online", callee.name), Locator::Css(&selector))
            .await;
        person_button
            .click()
            .await
            .unwrap_or_else(|error| panic!("{}: clicking {} failed: {error}", caller.name, callee.name));
    } else {
        caller.type_into_labelled_input("Name to call", callee.name).await;
        caller.click_button("Call").await;
    }
    caller.wait_for_phase("calling").await;
    caller
        .wait_for(
            "the 'Calling NAME…' line",
            &format!("return document.body.textContent.includes({});", json!(format!("Calling {}…", callee.name))),
        )
        .await;
    callee.wait_for_phase("ringing").await;
    callee
        .wait_for(
            "the incoming-call panel naming the caller",
            &format!(
                "const panel = document.querySelector('[aria-label=\"Incoming call\"]'); return !!panel && panel.textContent.includes({});",
                json!(caller.name)
            ),
        )
        .await;
    // Names are shown isolated, so a right-to-left name cannot reorder the words around it.
    callee
        .wait_for(
            "the caller's name isolated in a <bdi> on the incoming-call panel",
            &format!(
                "const name = document.querySelector('[aria-label=\"Incoming call\"] bdi'); return !!name && name.textContent === {};",
                json!(caller.name)
            ),
        )
        .await;
    callee
        .wait_for(
            "the page title to name the caller",
            &format!("return document.title === {};", json!(format!("{} is calling you · Duet", caller.name))),
        )
        .await;
    let accepted_at = accept_with_frame_watchers(caller, callee).await;
    caller.wait_until_remote_video_plays().await;
    callee.wait_until_remote_video_plays().await;
    CallSetUpTiming {
        caller_millis: caller.first_remote_frame_at().await - accepted_at,
        callee_millis: callee.first_remote_frame_at().await - accepted_at,
    }
}

/// Starts watching both pages for their first remote frame, then clicks `callee`'s **Accept**;
/// returns the click's wall-clock time as the callee's page saw it (the `click` event), to be
/// subtracted from [`Person::first_remote_frame_at`]. Needs only the accessible names (the Accept
/// button, the video labelled "Remote video"), so the bench's minimal page is timed the same way.
pub async fn accept_with_frame_watchers(caller: &Person, callee: &Person) -> f64 {
    caller.watch_for_first_remote_frame().await;
    callee.watch_for_first_remote_frame().await;
    // The click's own time, taken in the callee's page when the click event is dispatched.
    callee
        .run_script(
            r#"window.__duetAcceptClickedAt = null;
               document.addEventListener('click', (event) => {
                   if (event.target.closest('button') && event.target.closest('button').textContent.trim() === 'Accept') {
                       window.__duetAcceptClickedAt = performance.timeOrigin + performance.now();
                   }
               }, { capture: true, once: true });"#,
            vec![],
        )
        .await;
    callee.click_button("Accept").await;
    callee
        .wait_for("the Accept click to be recorded", "return window.__duetAcceptClickedAt;")
        .await
        .as_f64()
        .expect("a timestamp")
}
