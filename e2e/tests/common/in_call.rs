//! Probes of the in-call screen for the browser tests of the media controls, the remote
//! indicators, chat and screen share: the received audio level (WebAudio analyser), new remote
//! video frames, the remote video's size, the other person's state in words. String and number
//! results only, as everywhere in the harness.

use super::{Person, POLL_INTERVAL, STEP_TIMEOUT};
use fantoccini::Locator;
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// Writes a 1 s, 16-bit mono, 48 kHz WAV of zeros: a silent fake microphone for Chromium
/// (`--use-file-for-fake-audio-capture`), so only the other browser's beep is heard.
pub fn write_silent_wav(path: &Path) {
    const RATE: u32 = 48_000;
    let data_bytes = RATE * 2;
    let mut wav = Vec::with_capacity(44 + data_bytes as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_bytes.to_le_bytes());
    wav.resize(44 + data_bytes as usize, 0);
    std::fs::write(path, wav).expect("write the silent WAV");
}

impl Person {
    /// Clicks the button named `text` once it is enabled.
    pub async fn click_enabled_button(&self, text: &str) {
        let xpath = format!("//button[normalize-space(.)='{text}' and not(@disabled)]");
        let button =
            self.find_within_step_timeout(&format!("an enabled {text:?} button"), Locator::XPath(&xpath)).await;
        button.click().await.unwrap_or_else(|error| panic!("{}: clicking {text:?} failed: {error}", self.name));
    }

    /// Clicks the checkbox (or switch) labelled `label`.
    pub async fn click_labelled_checkbox(&self, label: &str) {
        let xpath = format!("//input[@type='checkbox' and @id=//label[normalize-space(.)='{label}']/@for]");
        let input =
            self.find_within_step_timeout(&format!("a switch labelled {label:?}"), Locator::XPath(&xpath)).await;
        input.click().await.unwrap_or_else(|error| panic!("{}: clicking {label:?} failed: {error}", self.name));
    }

    /// Waits until the other person's state in words (on the remote video) does or does not
    /// include `words`.
    pub async fn wait_for_remote_indicator(&self, words: &str, shown: bool) {
        let condition = format!(
            "const list = document.querySelector('.remote-indicators'); \
             return !!list && [...list.querySelectorAll('li')].some(li => li.textContent.includes({})) === {shown};",
            json!(words)
        );
        let what = if shown { format!("{words:?} on the remote video") } else { format!("{words:?} to go away") };
        self.wait_for(&what, &condition).await;
    }

    /// Waits until the remote video is covered by the camera-off placeholder (`covered`) or not.
    pub async fn wait_for_remote_video_covered(&self, covered: bool) {
        let condition = format!(
            "const video = document.querySelector('video[aria-label=\"Remote video\"]'); \
             const placeholder = document.querySelector('.remote-camera-off'); \
             return !!video && (getComputedStyle(video).visibility === 'hidden') === {covered} \
                 && (!!placeholder) === {covered};"
        );
        let what =
            if covered { "the camera-off placeholder over the remote video" } else { "the remote video uncovered" };
        self.wait_for(what, &condition).await;
    }

    /// Starts a WebAudio analyser on the remote video's stream, keeping the peak level of each
    /// 20 ms tick in the page.
    pub async fn start_measuring_remote_audio(&self) {
        self.wait_for(
            "a remote stream with an audio track",
            "const v = document.querySelector('video[aria-label=\"Remote video\"]'); \
             return !!v && !!v.srcObject && v.srcObject.getAudioTracks().length > 0;",
        )
        .await;
        self.run_script(
            r#"
            const stream = document.querySelector('video[aria-label="Remote video"]').srcObject;
            const context = new AudioContext();
            context.resume();
            const analyser = context.createAnalyser();
            analyser.fftSize = 2048;
            context.createMediaStreamSource(stream).connect(analyser);
            const samples = new Float32Array(analyser.fftSize);
            window.__duetAudioPeaks = [];
            window.__duetAudioContext = context;
            setInterval(() => {
                analyser.getFloatTimeDomainData(samples);
                let peak = 0;
                for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
                const now = performance.now();
                window.__duetAudioPeaks.push([now, peak]);
                while (window.__duetAudioPeaks.length && window.__duetAudioPeaks[0][0] < now - 5000) window.__duetAudioPeaks.shift();
            }, 20);
            "#,
            vec![],
        )
        .await;
    }

    /// Waits until the other side is heard (a peak above 0.05 in the last 1.5 s) or is silent
    /// (every peak of the last 1.5 s below 0.001: a muted track sends digital silence).
    pub async fn wait_for_remote_audio(&self, heard: bool) {
        let condition = format!(
            "const peaks = (window.__duetAudioPeaks || []).filter(([at]) => at > performance.now() - 1500); \
             if (peaks.length < 50) return false; \
             const loudest = Math.max(...peaks.map(([, peak]) => peak)); \
             return {heard} ? loudest > 0.05 : loudest < 0.001;"
        );
        let what = if heard { "the other side to be heard" } else { "silence from the other side" };
        self.wait_for(what, &condition).await;
    }

    /// The remote video's size as "WIDTHxHEIGHT" ("0x0" before any frame).
    pub async fn remote_video_size(&self) -> String {
        let value = self
            .run_script(
                "const v = document.querySelector('video[aria-label=\"Remote video\"]'); \
                 return v ? `${v.videoWidth}x${v.videoHeight}` : 'none';",
                vec![],
            )
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Waits until the remote video has the size `size` ("WIDTHxHEIGHT").
    pub async fn wait_for_remote_video_size(&self, size: &str) {
        let condition = format!(
            "const v = document.querySelector('video[aria-label=\"Remote video\"]'); \
             return !!v && `${{v.videoWidth}}x${{v.videoHeight}}` === {};",
            json!(size)
        );
        let started = Instant::now();
        while started.elapsed() < STEP_TIMEOUT {
            if self.client.execute(&condition, vec![]).await.ok().and_then(|value| value.as_bool()) == Some(true) {
                return;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        panic!("{}: the remote video never became {size}; it is {}", self.name, self.remote_video_size().await);
    }

    /// Waits until the remote video shows new frames (five more, by `requestVideoFrameCallback`):
    /// a frozen last frame does not count.
    pub async fn wait_for_new_remote_frames(&self) {
        self.run_script(
            r#"
            window.__duetNewFrames = 0;
            const video = document.querySelector('video[aria-label="Remote video"]');
            const count = () => { window.__duetNewFrames += 1; if (window.__duetNewFrames < 5) video.requestVideoFrameCallback(count); };
            video.requestVideoFrameCallback(count);
            "#,
            vec![],
        )
        .await;
        self.wait_for("new remote video frames", "return window.__duetNewFrames >= 5;").await;
    }
}

/// The server, the driver and two people signed in and idle, for the in-call tests.
pub struct TwoPeople {
    pub server: super::ServerHandle,
    pub driver: super::ChromeDriverProcess,
    pub alice: Person,
    pub bob: Person,
}

/// Starts the server (the default configuration, serving `<repo>/dist`) and chromedriver, opens
/// alice (fake camera and beeping microphone, plus `alice_arguments`) and bob (a silent fake
/// microphone, plus `bob_arguments`), and signs both in.
pub async fn two_people_signed_in(alice_arguments: &[String], bob_arguments: &[String]) -> TwoPeople {
    two_people_signed_in_with_bob_preload(alice_arguments, bob_arguments, None).await
}

/// Like [`two_people_signed_in`], with `bob_preload` run in bob's page before any page script
/// (e.g. to hold getUserMedia back).
pub async fn two_people_signed_in_with_bob_preload(
    alice_arguments: &[String],
    bob_arguments: &[String],
    bob_preload: Option<&str>,
) -> TwoPeople {
    super::require_loopback_only_network();
    let config =
        backend::Config { static_dir: Some(super::built_app_directory()), port: 0, ..backend::Config::default() };
    let server = super::ServerHandle::start(config, None).await;
    let app_url = format!("http://{}/", server.address);
    let log_directory = super::target_directory().join("e2e-logs");
    std::fs::create_dir_all(&log_directory).expect("create the log directory");
    let mut driver = super::ChromeDriverProcess::start(&log_directory.join("chromedriver-in-call.log"));
    driver.wait_until_listening().await;
    let silent = std::env::temp_dir().join(format!("duet-e2e-silence-{}.wav", std::process::id()));
    write_silent_wav(&silent);
    let mut bob_arguments = bob_arguments.to_vec();
    bob_arguments.push(format!("--use-file-for-fake-audio-capture={}", silent.display()));
    let setup = super::MediaSetup::FakeCameraAndMicrophone;
    let alice = super::open_browser_with_arguments(driver.port, "alice", setup, alice_arguments).await;
    let bob = super::open_browser_with_arguments(driver.port, "bob", setup, &bob_arguments).await;
    if let Some(source) = bob_preload {
        super::devtools::run_before_page_scripts(&bob, source).await;
    }
    for person in [&alice, &bob] {
        person
            .client
            .goto(&app_url)
            .await
            .unwrap_or_else(|error| panic!("{}: could not open the app: {error}", person.name));
        person.sign_in(person.name).await;
        person.wait_for_signed_in().await;
    }
    TwoPeople { server, driver, alice, bob }
}

impl TwoPeople {
    /// Alice calls bob by name, bob accepts; returns once both peer connections are connected.
    pub async fn alice_calls_bob(&self) {
        self.alice.type_into_labelled_input("Name to call", "bob").await;
        self.alice.click_button("Call").await;
        self.bob.wait_for_phase("ringing").await;
        self.bob.click_button("Accept").await;
        for person in [&self.alice, &self.bob] {
            person.wait_for_phase("in-call").await;
        }
    }

    pub async fn close(self) {
        self.alice.close().await;
        self.bob.close().await;
        drop(self.driver);
        drop(self.server);
    }
}
