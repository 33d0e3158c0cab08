//! Firefox for the browser tests: Debian's `firefox-esr`, headless, driven through its own
//! `geckodriver` (WebDriver classic, so the same `fantoccini` client and the same string-only
//! DOM probes as Chromium), one geckodriver per Firefox (it holds one session at a time), started
//! in its own process group and killed by PID with the Firefox it started. The four prefs are
//! the ones headless WebRTC with fake media on loopback needs (`../shared/toolchain.md`); a
//! Firefox without devices (receive-only) also needs a default route, through lo, added only
//! for that call.

use super::{MediaSetup, Person, POLL_INTERVAL};
use fantoccini::ClientBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which browser a person uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Chromium,
    Firefox,
}

impl Browser {
    pub fn name(self) -> &'static str {
        match self {
            Browser::Chromium => "Chromium",
            Browser::Firefox => "Firefox",
        }
    }
}

/// Firefox preferences for a headless call on loopback only, with fake media or (`fake_media`
/// false) the machine's devices: none here, so getUserMedia fails with NotFoundError.
pub fn firefox_prefs(fake_media: bool) -> serde_json::Value {
    json!({
        // A fake camera (a full-frame colour whose hue changes) and microphone (a tone).
        "media.navigator.streams.fake": fake_media,
        // Otherwise getUserMedia waits forever on a prompt nobody sees.
        "media.navigator.permission.disabled": true,
        // Counts fake capture as capturing: without it Firefox hides its host candidates and, with
        // no default route, gathers none ("ICE failed: Couldn't gather ICE candidates").
        "media.navigator.permission.fake": true,
        // Keeps the 127.0.0.1 candidates, the only ones in the loopback-only namespace.
        "media.peerconnection.ice.loopback": true,
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// geckodriver on a free 127.0.0.1 port, killed (with its Firefox) when dropped, also when the
/// test panics.
pub struct GeckoDriverProcess {
    child: Child,
    pub port: u16,
}

impl GeckoDriverProcess {
    pub fn start(log_path: &Path) -> GeckoDriverProcess {
        let port = free_port();
        let log =
            std::fs::File::create(log_path).unwrap_or_else(|error| panic!("create {}: {error}", log_path.display()));
        let mut command = Command::new("geckodriver");
        command
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            // Its own WebDriver BiDi port too: two geckodrivers would otherwise both ask for 9222.
            .args(["--websocket-port", &free_port().to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log);
        // Its own process group, so Drop can end geckodriver and the Firefox it started.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().unwrap_or_else(|error| {
            panic!(
                "could not start geckodriver ({error}); run ./scripts/setup to install it (cargo install geckodriver)"
            )
        });
        GeckoDriverProcess { child, port }
    }

    pub async fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).await.is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("geckodriver exited early with {status}");
            }
            assert!(Instant::now() < deadline, "geckodriver did not listen on 127.0.0.1:{} within 15 s", self.port);
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

impl Drop for GeckoDriverProcess {
    fn drop(&mut self) {
        let process_group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &process_group]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A default route through lo (`default dev lo src 127.0.0.1`) while it lives, removed on drop
/// when it added it. A Firefox that captures nothing gathers no ICE candidate without a default
/// route; through lo nothing can leave. Only for the scenario that needs it: with it, what used to
/// fail at once (lookups, connections to outside addresses) waits for timeouts instead, which
/// slows every browser down. Only create it after [`super::require_loopback_only_network`].
pub struct DefaultRouteViaLoopback {
    added: bool,
}

const DEFAULT_ROUTE: [&str; 5] = ["default", "dev", "lo", "src", "127.0.0.1"];

impl DefaultRouteViaLoopback {
    pub fn add() -> DefaultRouteViaLoopback {
        let routes = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
        if routes.lines().skip(1).any(|line| line.split_whitespace().nth(1) == Some("00000000")) {
            return DefaultRouteViaLoopback { added: false };
        }
        let added = Command::new("ip").args(["route", "add"]).args(DEFAULT_ROUTE).status();
        assert!(
            added.is_ok_and(|status| status.success()),
            "a receive-only Firefox needs a default route in the loopback-only namespace, and \
             `ip route add default dev lo src 127.0.0.1` failed"
        );
        DefaultRouteViaLoopback { added: true }
    }
}

impl Drop for DefaultRouteViaLoopback {
    fn drop(&mut self) {
        if self.added {
            let _ = Command::new("ip").args(["route", "del"]).args(DEFAULT_ROUTE).status();
        }
    }
}

impl Person {
    /// A person in headless Firefox ESR with its fake camera and microphone, through a
    /// geckodriver of its own (its log in `log_directory/geckodriver-NAME.log`).
    pub async fn firefox(name: &'static str, log_directory: &Path) -> Person {
        Person::firefox_with(name, log_directory, MediaSetup::FakeCameraAndMicrophone).await
    }

    /// Like [`Person::firefox`], with fake devices or none (`MediaSetup::NoDevices`; a denied
    /// permission is not offered for Firefox).
    pub async fn firefox_with(name: &'static str, log_directory: &Path, media: MediaSetup) -> Person {
        assert_ne!(media, MediaSetup::PermissionDenied, "Person::firefox_with offers fake devices or none");
        let mut driver = GeckoDriverProcess::start(&log_directory.join(format!("geckodriver-{name}.log")));
        driver.wait_until_listening().await;
        let mut firefox_options = json!({
            "args": ["-headless"],
            "prefs": firefox_prefs(media == MediaSetup::FakeCameraAndMicrophone),
        });
        if Path::new("/usr/bin/firefox-esr").exists() {
            firefox_options["binary"] = json!("/usr/bin/firefox-esr");
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("firefox"));
        capabilities.insert("moz:firefoxOptions".to_owned(), firefox_options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|error| panic!("could not start a Firefox session for {name}: {error}"));
        // The size Chromium's windows get (`--window-size=1280,800`), for screenshots side by side.
        client
            .set_window_size(1280, 800)
            .await
            .unwrap_or_else(|error| panic!("{name}: could not size the Firefox window: {error}"));
        // geckodriver makes (and removes) the profile itself.
        let profile_directory = std::env::temp_dir().join(format!("duet-e2e-{name}-{}", std::process::id()));
        Person { name, client, profile_directory, browser: Browser::Firefox, gecko_driver: Some(driver) }
    }
}
