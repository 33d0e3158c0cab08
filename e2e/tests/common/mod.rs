//! The browser test harness shared by the e2e test files: the loopback-only check, a
//! chromedriver process of the test's own, the in-process signaling server (plain or TLS),
//! one Chromium session per person with string-only DOM probes, and a full call.

// Each test file uses part of this module.
#![allow(dead_code)]

use backend::{AppState, Config};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Longest wait for anything a person would wait for (a screen change, a call to connect).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// How often a condition in the page is polled.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("e2e/ lives in the repository").to_path_buf()
}

pub fn target_directory() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repository_root().join("target"), PathBuf::from)
}

/// `<repo>/dist`, failing with the command to run when the web app is not built.
pub fn built_app_directory() -> PathBuf {
    let dist = repository_root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "{} has no built web app: run ./scripts/build-frontend (after ./scripts/setup) first",
        dist.display()
    );
    dist
}

/// Fails when this network namespace has a route through any interface but `lo` (i.e. unless
/// the test runs in a loopback-only namespace). `/proc/net/route` is per namespace.
pub fn require_loopback_only_network() {
    let Ok(routes) = std::fs::read_to_string("/proc/net/route") else { return };
    let mut interfaces: Vec<String> = routes
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .filter(|interface| *interface != "lo")
        .map(str::to_owned)
        .collect();
    interfaces.dedup();
    assert!(
        interfaces.is_empty(),
        "the browser tests must run where only the loopback interface exists, so WebRTC media stays on \
         127.0.0.1; found routes through {interfaces:?}. Run ./scripts/test, or: \
         unshare -n sh -c 'ip link set lo up && exec cargo test -p e2e --offline'"
    );
}

/// chromedriver on a free 127.0.0.1 port, killed (with the browsers it started) when dropped,
/// also when the test panics.
pub struct ChromeDriverProcess {
    child: Child,
    pub port: u16,
}

impl ChromeDriverProcess {
    pub fn start(log_path: &Path) -> ChromeDriverProcess {
        let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free port on 127.0.0.1")
            .port();
        let mut command = Command::new("chromedriver");
        command
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so Drop can end chromedriver and the browsers it started.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().unwrap_or_else(|error| {
            panic!("could not start chromedriver ({error}); run ./scripts/setup to install chromium-driver")
        });
        ChromeDriverProcess { child, port }
    }

    pub async fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).await.is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited early with {status}");
            }
            assert!(Instant::now() < deadline, "chromedriver did not listen on port {} within 15 s", self.port);
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

impl Drop for ChromeDriverProcess {
    fn drop(&mut self) {
        let process_group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &process_group]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The signaling server serving `dist/`, stopped when dropped.
pub struct ServerHandle {
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl ServerHandle {
    /// Starts `config` in-process on 127.0.0.1 (`config.port`, 0 for a free one): plain HTTP and
    /// WebSocket, or https:// and wss:// with `tls` (`backend::run_tls`).
    pub async fn start(mut config: Config, tls: Option<&backend::tls::TlsSetup>) -> ServerHandle {
        let port = config.port;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap_or_else(|error| panic!("bind 127.0.0.1:{port}: {error}"));
        let address = listener.local_addr().expect("local address");
        config.bind = Ipv4Addr::LOCALHOST.into();
        config.port = address.port();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let state = AppState::new(config);
        let task = match tls {
            Some(tls) => tokio::spawn(backend::run_tls(listener, tls.config.clone(), state, shutdown)),
            None => tokio::spawn(backend::run(listener, state, shutdown)),
        };
        ServerHandle { address, stop: Some(stop), task: Some(task) }
    }

    /// Stops the server the way a deploy does (WebSockets closed with 1012) and waits for it.
    pub async fn stop_and_wait(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let finished = tokio::time::timeout(Duration::from_secs(10), task).await;
            assert!(finished.is_ok(), "the server did not stop within 10 s");
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// One browser window for one person.
pub struct Person {
    pub name: &'static str,
    pub client: Client,
    pub profile_directory: PathBuf,
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
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".to_owned(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".to_owned(), chrome_options);
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .unwrap_or_else(|error| panic!("could not start a browser session for {name}: {error}"));
    Person { name, client, profile_directory }
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

    pub async fn page_summary(&self) -> String {
        match self.client.execute(PAGE_SUMMARY_SCRIPT, vec![]).await {
            Ok(value) => value.as_str().unwrap_or_default().to_owned(),
            Err(error) => format!("(page unreadable: {error})"),
        }
    }

    /// Polls `condition` (JS returning a truthy value when done) until it holds; returns the value.
    pub async fn wait_for(&self, what: &str, condition: &str) -> Value {
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
            if started.elapsed() > STEP_TIMEOUT {
                panic!(
                    "{}: timed out after {STEP_TIMEOUT:?} waiting for {what}; the page shows {}",
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
    callee
        .wait_for(
            "the page title to name the caller",
            &format!("return document.title === {};", json!(format!("{} is calling you · Duet", caller.name))),
        )
        .await;
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
    let accepted_at = callee
        .wait_for("the Accept click to be recorded", "return window.__duetAcceptClickedAt;")
        .await
        .as_f64()
        .expect("a timestamp");
    caller.wait_until_remote_video_plays().await;
    callee.wait_until_remote_video_plays().await;
    CallSetUpTiming {
        caller_millis: caller.first_remote_frame_at().await - accepted_at,
        callee_millis: callee.first_remote_frame_at().await - accepted_at,
    }
}
