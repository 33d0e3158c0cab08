//! Browser end-to-end test: the real signaling server (in-process, 127.0.0.1:0) serves the real
//! release bundle from `<repo>/dist` to independent headless Chromiums (one chromedriver, one
//! WebDriver session and profile per person), which sign in, call each other and exchange real
//! WebRTC media from the fake camera. Covers: sign-in and a refused duplicate name; accept and
//! hang up with remote video playing on both sides; a second and third call in the same tabs;
//! a person without camera or microphone making a receive-only call (phone-sized window); a
//! person refusing camera access; busy; cancel; decline; no answer (ring timeout); calling an
//! offline name; the signaling address from `?signaling=`; an idle signed-out connection closed
//! by the server; a server restart with reconnect and sign-back-in. Saves screenshots under `target/e2e-screenshots/` and writes the
//! Accept-to-first-remote-frame measurements into BENCHMARKS.md.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test` does that),
//! so that no WebRTC packet can leave 127.0.0.1.

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
const STEP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the test server lets a call ring before it ends it with reason `timeout`.
const RING_TIMEOUT: Duration = Duration::from_secs(6);
/// How long the test server lets a connection stay without signing in.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(4);
/// How often a condition in the page is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("e2e/ lives in the repository").to_path_buf()
}

fn target_directory() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repository_root().join("target"), PathBuf::from)
}

/// Fails when this network namespace has a route through any interface but `lo` (i.e. unless
/// the test runs in a loopback-only namespace). `/proc/net/route` is per namespace.
fn require_loopback_only_network() {
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
struct ChromeDriverProcess {
    child: Child,
    port: u16,
}

impl ChromeDriverProcess {
    fn start(log_path: &Path) -> ChromeDriverProcess {
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
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("could not start chromedriver ({error}); run ./scripts/setup to install chromium-driver"));
        ChromeDriverProcess { child, port }
    }

    async fn wait_until_listening(&mut self) {
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
struct ServerHandle {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl ServerHandle {
    /// Stops the server the way a deploy does (WebSockets closed with 1012) and waits for it.
    async fn stop_and_wait(mut self) {
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

async fn start_server(dist: PathBuf, port: u16) -> ServerHandle {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .unwrap_or_else(|error| panic!("bind 127.0.0.1:{port}: {error}"));
    let address = listener.local_addr().expect("local address");
    let config = Config {
        static_dir: Some(dist),
        bind: Ipv4Addr::LOCALHOST.into(),
        port: address.port(),
        // Short enough to test "no answer" quickly, long enough for every other step to answer.
        ring_timeout: RING_TIMEOUT,
        // The server closes connections that do not sign in by then; the app must cope.
        login_timeout: LOGIN_TIMEOUT,
        ..Config::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(backend::run(listener, AppState::new(config), async move {
        let _ = stopped.await;
    }));
    ServerHandle { address, stop: Some(stop), task: Some(task) }
}

/// One browser window for one person.
struct Person {
    name: &'static str,
    client: Client,
    profile_directory: PathBuf,
}

/// What the browser's getUserMedia can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaSetup {
    /// Chromium's fake camera and microphone, permission granted.
    FakeCameraAndMicrophone,
    /// No devices at all (getUserMedia fails with NotFoundError).
    NoDevices,
    /// Devices exist but the person refuses the permission prompt (NotAllowedError).
    PermissionDenied,
}

async fn open_browser(driver_port: u16, name: &'static str, media: MediaSetup) -> Person {
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
const PAGE_SUMMARY_SCRIPT: &str = r#"
    const app = document.querySelector('.app');
    const notices = [...document.querySelectorAll('[role=status],[role=alert]')].map(e => e.textContent.trim()).filter(t => t);
    return JSON.stringify({
        phase: app && app.dataset.callPhase, peer: app && app.dataset.peerState,
        signaling: app && app.dataset.signaling, notices,
        buttons: [...document.querySelectorAll('button')].map(b => b.textContent.trim()),
    });
"#;

impl Person {
    async fn run_script(&self, script: &str, arguments: Vec<Value>) -> Value {
        self.client
            .execute(script, arguments)
            .await
            .unwrap_or_else(|error| panic!("{}: script failed: {error}\n{script}", self.name))
    }

    async fn page_summary(&self) -> String {
        match self.client.execute(PAGE_SUMMARY_SCRIPT, vec![]).await {
            Ok(value) => value.as_str().unwrap_or_default().to_owned(),
            Err(error) => format!("(page unreadable: {error})"),
        }
    }

    /// Polls `condition` (JS returning a truthy value when done) until it holds; returns the value.
    async fn wait_for(&self, what: &str, condition: &str) -> Value {
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
                panic!("{}: timed out after {STEP_TIMEOUT:?} waiting for {what}; the page shows {}", self.name, self.page_summary().await);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    async fn wait_for_phase(&self, phase: &str) {
        let condition = format!("const app = document.querySelector('.app'); return !!app && app.dataset.callPhase === '{phase}';");
        self.wait_for(&format!("call phase `{phase}`"), &condition).await;
    }

    /// Waits until some `role=status` or `role=alert` element contains `text`.
    async fn wait_for_notice(&self, text: &str) {
        let condition = format!(
            "return [...document.querySelectorAll('[role=status],[role=alert]')].some(e => e.textContent.includes({}));",
            json!(text)
        );
        self.wait_for(&format!("a status or alert saying {text:?}"), &condition).await;
    }

    /// The input whose `<label>` says `label` (so the label is tested too).
    async fn type_into_labelled_input(&self, label: &str, text: &str) {
        let xpath = format!("//input[@id=//label[normalize-space(.)='{label}']/@for]");
        let input = self.find_within_step_timeout(&format!("an input labelled {label:?}"), Locator::XPath(&xpath)).await;
        input.clear().await.unwrap_or_else(|error| panic!("{}: clearing {label:?} failed: {error}", self.name));
        input.send_keys(text).await.unwrap_or_else(|error| panic!("{}: typing into {label:?} failed: {error}", self.name));
    }

    async fn click_button(&self, text: &str) {
        let xpath = format!("//button[normalize-space(.)='{text}']");
        let button = self.find_within_step_timeout(&format!("a {text:?} button"), Locator::XPath(&xpath)).await;
        button.click().await.unwrap_or_else(|error| panic!("{}: clicking {text:?} failed: {error}", self.name));
    }

    async fn find_within_step_timeout(&self, what: &str, locator: Locator<'_>) -> fantoccini::elements::Element {
        let started = Instant::now();
        loop {
            if let Ok(element) = self.client.find(locator).await {
                return element;
            }
            if started.elapsed() > STEP_TIMEOUT {
                panic!("{}: no {what} within {STEP_TIMEOUT:?}; the page shows {}", self.name, self.page_summary().await);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    async fn sign_in(&self, name: &str) {
        self.type_into_labelled_input("Your name", name).await;
        self.click_button("Sign in").await;
    }

    /// Records (in the page) the wall-clock time of the next remote video frame.
    async fn watch_for_first_remote_frame(&self) {
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

    async fn first_remote_frame_at(&self) -> f64 {
        self.wait_for("the first remote video frame", "return window.__duetFirstRemoteFrameAt;")
            .await
            .as_f64()
            .expect("a timestamp")
    }

    /// Waits until the peer connection is `connected`, the remote video has a size and its
    /// playback time advances.
    async fn wait_until_remote_video_plays(&self) {
        self.wait_for("the peer connection to be connected", "return document.querySelector('.app').dataset.peerState === 'connected';")
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

    async fn save_screenshot(&self, file_name: &str) {
        let directory = target_directory().join("e2e-screenshots");
        std::fs::create_dir_all(&directory).expect("create the screenshot directory");
        let png = self.client.screenshot().await.unwrap_or_else(|error| panic!("{}: screenshot failed: {error}", self.name));
        std::fs::write(directory.join(file_name), png).expect("write the screenshot");
    }

    async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile_directory);
    }
}

/// One measured call: milliseconds from the Accept click to each side's first remote frame.
#[derive(Debug, Clone, Copy)]
struct CallSetUpTiming {
    caller_millis: f64,
    callee_millis: f64,
}

/// `caller` calls `callee` (by clicking their name in the list, or by typing it), `callee`
/// accepts; returns how long each side waited for the first remote frame after Accept.
async fn call_and_accept(caller: &Person, callee: &Person, by_clicking_the_name: bool) -> CallSetUpTiming {
    caller.wait_for_phase("idle").await;
    callee.wait_for_phase("idle").await;
    if by_clicking_the_name {
        let selector = format!("button[data-user=\"{}\"]", callee.name);
        let person_button = caller
            .find_within_step_timeout(&format!("{} in the list of people online", callee.name), Locator::Css(&selector))
            .await;
        person_button.click().await.unwrap_or_else(|error| panic!("{}: clicking {} failed: {error}", caller.name, callee.name));
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

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 0 {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

const BENCHMARK_HEADING: &str = "## Browser call set-up: Accept to first remote frame";

/// Replaces (or appends) this test's section of BENCHMARKS.md, leaving every other section and
/// the `<!-- sigbench:begin -->` / `<!-- sigbench:end -->` block untouched.
fn write_benchmark_section(timings: &[CallSetUpTiming]) {
    let path = repository_root().join("BENCHMARKS.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    let mut caller: Vec<f64> = timings.iter().map(|timing| timing.caller_millis).collect();
    let mut callee: Vec<f64> = timings.iter().map(|timing| timing.callee_millis).collect();
    let mut section = String::new();
    section.push_str(BENCHMARK_HEADING);
    section.push_str("\n\n");
    section.push_str(
        "Measured by `cargo test -p e2e` (e2e/tests/browser_call.rs) on every run: two headless Chromium \
         processes on one machine (2 cores), loopback only, fake camera 640x480, no STUN/TURN. Time from the \
         `click` event of **Accept** in the callee's page to the first remote video frame on each side \
         (`requestVideoFrameCallback`, or `videoWidth > 0` polled every 5 ms; timestamps are \
         `performance.timeOrigin + performance.now()` in each page, so both browsers share one clock). \
         The callee creates its RTCPeerConnection only on Accept, so this includes creating it, applying \
         the offer and queued candidates, answering, ICE, DTLS and the first decoded frame. \
         A measurement, not an assertion; the machine is shared with compiles, so it varies.\n\n",
    );
    section.push_str("| call | caller (ms) | callee (ms) |\n| --- | --- | --- |\n");
    for (index, timing) in timings.iter().enumerate() {
        section.push_str(&format!("| {} | {:.0} | {:.0} |\n", index + 1, timing.caller_millis, timing.callee_millis));
    }
    section.push_str(&format!("| median | {:.0} | {:.0} |\n\n", median(&mut caller), median(&mut callee)));

    let updated = replace_benchmark_section(&existing, &section);
    std::fs::write(&path, updated.trim_end().to_owned() + "\n").expect("write BENCHMARKS.md");
}

/// `existing` with this test's section replaced by `section` (or appended when absent).
fn replace_benchmark_section(existing: &str, section: &str) -> String {
    match existing.find(BENCHMARK_HEADING) {
        Some(start) => {
            let after_heading = start + BENCHMARK_HEADING.len();
            let rest = &existing[after_heading..];
            let end = [rest.find("\n## "), rest.find("\n<!-- sigbench:begin")]
                .into_iter()
                .flatten()
                .min()
                .map_or(existing.len(), |offset| after_heading + offset + 1);
            format!("{}{}{}", &existing[..start], section, &existing[end..])
        }
        None => {
            let separator = if existing.ends_with("\n\n") { "" } else if existing.ends_with('\n') { "\n" } else { "\n\n" };
            format!("{existing}{separator}{section}")
        }
    }
}

#[test]
fn benchmark_section_is_replaced_without_touching_other_sections_or_sigbench_markers() {
    let existing = format!(
        "# Benchmarks\n\n{BENCHMARK_HEADING}\n\nold numbers\n\n<!-- sigbench:begin -->\n## Signaling\n\nkept\n<!-- sigbench:end -->\n\n## Later\n\nalso kept\n"
    );
    let updated = replace_benchmark_section(&existing, &format!("{BENCHMARK_HEADING}\n\nnew numbers\n\n"));
    assert!(!updated.contains("old numbers"), "{updated}");
    assert!(updated.contains("new numbers"), "{updated}");
    assert!(updated.contains("<!-- sigbench:begin -->\n## Signaling\n\nkept\n<!-- sigbench:end -->"), "{updated}");
    assert!(updated.contains("## Later\n\nalso kept"), "{updated}");
    assert_eq!(updated.matches(BENCHMARK_HEADING).count(), 1, "{updated}");
}

#[test]
fn benchmark_section_is_appended_when_absent() {
    let updated = replace_benchmark_section("# Benchmarks\n\n<!-- sigbench:begin -->\n<!-- sigbench:end -->\n", &format!("{BENCHMARK_HEADING}\n\nx\n"));
    assert!(updated.starts_with("# Benchmarks\n\n<!-- sigbench:begin -->\n<!-- sigbench:end -->\n\n## Browser"), "{updated}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_sign_in_call_hang_up_and_see_every_unhappy_ending_in_words() {
    require_loopback_only_network();
    let dist = repository_root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "{} has no built web app: run ./scripts/build-frontend (after ./scripts/setup) first",
        dist.display()
    );
    let suite_started = Instant::now();
    let server = start_server(dist.clone(), 0).await;
    let app_url = format!("http://{}/", server.address);

    let log_directory = target_directory().join("e2e-logs");
    std::fs::create_dir_all(&log_directory).expect("create the log directory");
    let mut driver = ChromeDriverProcess::start(&log_directory.join("chromedriver.log"));
    driver.wait_until_listening().await;

    let alice = open_browser(driver.port, "alice", MediaSetup::FakeCameraAndMicrophone).await;
    let bob = open_browser(driver.port, "bob", MediaSetup::FakeCameraAndMicrophone).await;
    for person in [&alice, &bob] {
        person.client.goto(&app_url).await.unwrap_or_else(|error| panic!("{}: could not open {app_url}: {error}", person.name));
        person
            .wait_for("the sign-in screen", "return !!document.querySelector('label[for=\"sign-in-name\"]');")
            .await;
    }

    // Both sign in; bob first tries a name that is taken and is told why on screen.
    alice.sign_in("alice").await;
    alice.wait_for("the call screen", "return document.body.textContent.includes('Signed in as alice');").await;
    bob.sign_in("alice").await;
    let refusal = bob
        .wait_for("the reason the name was refused", "return document.getElementById('sign-in-error').textContent.trim();")
        .await;
    let refusal = refusal.as_str().unwrap_or_default().to_owned();
    assert!(refusal.contains("alice"), "bob should be told, in words, why \"alice\" was refused; he saw {refusal:?}");
    bob.save_screenshot("sign-in-refused-bob.png").await;
    bob.sign_in("bob").await;
    bob.wait_for("the call screen", "return document.body.textContent.includes('Signed in as bob');").await;

    // The local preview: muted, playing the (fake) camera.
    for person in [&alice, &bob] {
        person
            .wait_for(
                "the muted local camera preview to play",
                "const v = document.querySelector('video[aria-label=\"Your camera\"]'); return !!v && v.muted && v.videoWidth > 0;",
            )
            .await;
    }

    let mut timings = Vec::new();

    // Call 1: alice clicks bob's name in the list; bob accepts; alice hangs up.
    timings.push(call_and_accept(&alice, &bob, true).await);
    alice.save_screenshot("call-1-alice-in-call.png").await;
    bob.save_screenshot("call-1-bob-in-call.png").await;
    alice.click_button("Hang up").await;
    alice.wait_for_phase("idle").await;
    bob.wait_for_phase("idle").await;
    bob.wait_for_notice("alice hung up").await;
    for person in [&alice, &bob] {
        person
            .wait_for(
                "the remote video to be released",
                "const v = document.querySelector('video[aria-label=\"Remote video\"]'); return !!v && v.srcObject === null && document.querySelector('.app').dataset.peerState === 'none';",
            )
            .await;
    }

    // Call 2 in the same tabs: bob types alice's name; alice accepts; bob hangs up.
    timings.push(call_and_accept(&bob, &alice, false).await);
    bob.save_screenshot("call-2-bob-in-call.png").await;
    bob.click_button("Hang up").await;
    alice.wait_for_notice("bob hung up").await;
    alice.wait_for_phase("idle").await;

    // carol has no camera or microphone at all: she is told so, and can still make a
    // receive-only call (recvonly transceivers) in which she sees and hears alice.
    let carol = open_browser(driver.port, "carol", MediaSetup::NoDevices).await;
    // The signaling address is runtime configuration: a `?signaling=` address that nothing
    // listens on is used (and retried), a relative one resolves against the page.
    let unreachable_signaling = format!("{app_url}?signaling=ws://127.0.0.1:9/ws");
    carol.client.goto(&unreachable_signaling).await.unwrap_or_else(|error| panic!("carol: could not open the app: {error}"));
    carol.wait_for_notice("Not connected to the server. Retrying in").await;
    let relative_signaling = format!("{app_url}?signaling=/ws");
    carol.client.goto(&relative_signaling).await.unwrap_or_else(|error| panic!("carol: could not open the app: {error}"));
    carol.wait_for("the connection to the server", "return document.querySelector('.app').dataset.signaling === 'connected';").await;
    // Nobody signs in for a while: the server closes the idle connection, the app lets it rest
    // (no retry loop, no alarm) and reopens it when carol signs in.
    carol.wait_for("the idle connection to rest", "return document.querySelector('.app').dataset.signaling === 'dormant';").await;
    let alarming_banner = carol.run_script("return !!document.querySelector('.connection-lost');", vec![]).await;
    assert_eq!(alarming_banner, json!(false), "a signed-out page whose idle connection was closed should not alarm");
    // A phone-sized window: the layout must stay usable.
    carol.client.set_window_size(390, 844).await.unwrap_or_else(|error| panic!("carol: resizing failed: {error}"));
    carol.sign_in("carol").await;
    carol
        .wait_for(
            "the note that there is no camera or microphone",
            "const note = document.querySelector('.media-problem'); return !!note && note.textContent.includes('You can still call');",
        )
        .await;
    carol.save_screenshot("no-camera-carol.png").await;
    carol.type_into_labelled_input("Name to call", "alice").await;
    carol.click_button("Call").await;
    alice.wait_for_phase("ringing").await;
    alice.click_button("Accept").await;
    carol.wait_until_remote_video_plays().await;
    alice.wait_for("the connection with carol", "return document.querySelector('.app').dataset.peerState === 'connected';").await;
    carol.save_screenshot("receive-only-call-carol.png").await;
    carol.click_button("Hang up").await;
    alice.wait_for_notice("carol hung up").await;
    alice.wait_for_phase("idle").await;

    // Call 3 in the same tabs; meanwhile carol calls alice and is told she is busy.
    timings.push(call_and_accept(&alice, &bob, false).await);
    carol.type_into_labelled_input("Name to call", "alice").await;
    carol.click_button("Call").await;
    carol.wait_for_notice("alice is busy in another call").await;
    carol.wait_for_phase("idle").await;
    alice.wait_for_phase("in-call").await;
    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    carol.close().await;

    // Nobody answers: after the ring timeout both sides are told.
    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    alice.wait_for_notice("bob did not answer").await;
    bob.wait_for_notice("You missed a call from alice").await;
    alice.wait_for_phase("idle").await;
    bob.wait_for_phase("idle").await;

    // alice cancels while it rings: bob is told.
    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    alice.click_button("Cancel").await;
    alice.wait_for_phase("idle").await;
    bob.wait_for_notice("alice cancelled the call").await;
    bob.wait_for_phase("idle").await;

    // bob declines: alice is told.
    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    bob.save_screenshot("incoming-call-bob.png").await;
    bob.click_button("Decline").await;
    alice.wait_for_notice("bob declined your call").await;
    alice.wait_for_phase("idle").await;
    bob.wait_for_phase("idle").await;

    // dave refuses camera and microphone access: told so plainly, still on the call screen.
    let dave = open_browser(driver.port, "dave", MediaSetup::PermissionDenied).await;
    dave.client.goto(&app_url).await.unwrap_or_else(|error| panic!("dave: could not open {app_url}: {error}"));
    dave.sign_in("dave").await;
    dave.wait_for(
        "the note that camera and microphone access was blocked",
        "const note = document.querySelector('.media-problem'); return !!note && note.textContent.includes('access was blocked') && note.textContent.includes('You can still call');",
    )
    .await;
    dave.find_within_step_timeout("the call form", Locator::XPath("//button[normalize-space(.)='Call']")).await;
    dave.close().await;

    // Calling a name nobody has: an error on screen.
    alice.type_into_labelled_input("Name to call", "nobody-by-this-name").await;
    alice.click_button("Call").await;
    alice.wait_for_notice("nobody-by-this-name is not online").await;
    alice.wait_for_phase("idle").await;
    alice.save_screenshot("offline-name-alice.png").await;

    // The server restarts (deploy): both pages see the connection drop (close code 1012),
    // reconnect with backoff and sign back in under the same names.
    let port = server.address.port();
    server.stop_and_wait().await;
    let server = start_server(repository_root().join("dist"), port).await;
    for person in [&alice, &bob] {
        person.wait_for_notice("Connection to the server restored").await;
        person
            .wait_for(
                "being signed in again under the same name",
                &format!(
                    "return document.querySelector('.app').dataset.signaling === 'connected' && document.body.textContent.includes({});",
                    json!(format!("Signed in as {}", person.name))
                ),
            )
            .await;
    }
    alice
        .find_within_step_timeout("bob in the list of people online after the restart", Locator::Css("button[data-user=\"bob\"]"))
        .await;

    for (index, timing) in timings.iter().enumerate() {
        println!(
            "call {}: Accept to first remote frame: caller {:.0} ms, callee {:.0} ms",
            index + 1,
            timing.caller_millis,
            timing.callee_millis
        );
    }
    write_benchmark_section(&timings);

    alice.close().await;
    bob.close().await;
    drop(driver);
    drop(server);
    let elapsed = suite_started.elapsed();
    println!("browser suite took {:.1} s", elapsed.as_secs_f64());
    assert!(elapsed < Duration::from_secs(150), "the browser suite must stay well under 3 minutes; it took {elapsed:?}");
}
