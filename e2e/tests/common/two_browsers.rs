//! Two browsers of either kind on one server: the set-up the cross-browser tests share (the
//! in-process server, a chromedriver, a silent microphone for Chromium, Firefox through its own
//! geckodriver), and each person opened, signed in and idle with its peer connections watched.

use super::*;
use std::path::PathBuf;

/// Defines `pc` (the page's newest connection, seen through [`WATCH_CONNECTIONS`]) and `ufrag`,
/// this side's current ICE username fragment line (`''` if none); follow it with a `return`.
pub const LOCAL_UFRAG: &str = "const pc = window.__duetConnections[window.__duetConnections.length - 1]; \
     const ufrag = pc.localDescription.sdp.split('\\r\\n').find(l => l.startsWith('a=ice-ufrag:')) || '';";

/// Keeps every RTCPeerConnection the app creates from now on in `window.__duetConnections`, for
/// `getStats` (the app's glue calls the global constructor, so replacing it after load works in
/// both browsers; no pre-load hook needed).
pub const WATCH_CONNECTIONS: &str = r#"
    if (!window.__duetConnections) {
        window.__duetConnections = [];
        const Original = window.RTCPeerConnection;
        window.RTCPeerConnection = class extends Original {
            constructor(...args) { super(...args); window.__duetConnections.push(this); }
        };
    }
"#;

/// The shared set-up; dropping it stops the server and chromedriver.
pub struct Setup {
    /// Kept for its lifetime: dropping it stops the server.
    _server: ServerHandle,
    pub app_url: String,
    pub log_directory: PathBuf,
    pub chromedriver: ChromeDriverProcess,
    pub silent_microphone: PathBuf,
}

/// The server on a free port, its own chromedriver, and a silent microphone file.
pub async fn start() -> Setup {
    require_loopback_only_network();
    let config = backend::Config {
        static_dir: Some(built_app_directory()),
        port: 0,
        // A browser that quits mid-call is held for this long before its peer is told
        // `disconnected` (issue 10); short, so the tests of a closed window stay quick.
        call_resume_grace: std::time::Duration::from_secs(5),
        ..backend::Config::default()
    };
    let server = ServerHandle::start(config, None).await;
    let app_url = format!("http://{}/", server.address);
    let log_directory = target_directory().join("e2e-logs");
    std::fs::create_dir_all(&log_directory).expect("create the log directory");
    let mut chromedriver = ChromeDriverProcess::start(&log_directory.join("chromedriver-cross-browser.log"));
    chromedriver.wait_until_listening().await;
    let silent_microphone = std::env::temp_dir().join(format!("duet-e2e-cross-silence-{}.wav", std::process::id()));
    write_silent_wav(&silent_microphone);
    Setup { _server: server, app_url, log_directory, chromedriver, silent_microphone }
}

impl Setup {
    /// Opens `name` in `browser` (Chromium with a silent microphone, so only Firefox's tone is
    /// heard), signed in and idle, its peer connections watched.
    pub async fn person(&self, browser: Browser, name: &'static str) -> Person {
        let person = match browser {
            Browser::Chromium => {
                let silent = format!("--use-file-for-fake-audio-capture={}", self.silent_microphone.display());
                // Chromium headless has a fake screen; this answers its picker.
                let screen = "--auto-select-desktop-capture-source=Entire screen".to_owned();
                let media = MediaSetup::FakeCameraAndMicrophone;
                open_browser_with_arguments(self.chromedriver.port, name, media, &[silent, screen]).await
            }
            Browser::Firefox => Person::firefox(name, &self.log_directory).await,
        };
        person
            .client
            .goto(&self.app_url)
            .await
            .unwrap_or_else(|error| panic!("{name}: could not open the app: {error}"));
        person.sign_in(name).await;
        person.wait_for_signed_in().await;
        person.run_script(WATCH_CONNECTIONS, vec![]).await;
        person
    }
}
