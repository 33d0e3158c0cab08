//! Only tests (and the bench program `examples/webapp-bench/`, which shares their harness) live
//! in this crate: tests/browser_call.rs (sign-in, calls and every unhappy ending),
//! tests/secure_and_relayed_calls.rs (https:// + wss:// with the self-signed mode, and a
//! relay-only call through coturn, with /metrics checked during a call),
//! tests/cross_browser_calls.rs (Chromium and Firefox calling each other both ways and Firefox
//! calling Firefox, decline and drops across the two, the in-call controls across the two),
//! tests/cross_browser_trust.rs (the verification code and the call statistics between Chromium
//! and Firefox), and one file per in-call feature; tests/common/ holds the harness they share:
//! `processes` (chromedriver, the in-process server, coturn), `person` (one Chromium per person,
//! string-only DOM probes, a full call), `firefox` (one Firefox per person through its own
//! geckodriver), `two_browsers` (the cross-browser set-up), `certificates`, `devtools` and
//! `metrics` (for the production set-ups).
//!
//! Firefox is driven by `geckodriver` (crates.io, `cargo install geckodriver --locked`) rather
//! than Firefox's built-in WebDriver BiDi: geckodriver speaks WebDriver classic, so the same
//! `fantoccini` client, the same `Person` and the same string-only probes drive both browsers;
//! BiDi would need a second client (no Rust BiDi client is in the dependency tree; the ready
//! ones are npm's puppeteer/playwright) and a second copy of every probe. geckodriver holds one
//! session at a time, so each Firefox gets its own, killed with it by process group.
//!
//! Safari cannot run here, and WebKitGTK (Debian's `webkit2gtk-driver` 2.50.6, the nearest
//! engine) cannot hold a WebRTC call: under Xvfb its MiniBrowser gives getUserMedia with mock
//! devices, but `RTCPeerConnection` does not exist, even with `--enable-webrtc=true` (Debian
//! builds WebKitGTK without the GStreamer WebRTC backend), so it is not in the tests. The Safari
//! differences the app already handles are listed in README.md ("Browsers the app is tested in").
