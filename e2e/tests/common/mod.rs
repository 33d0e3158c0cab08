//! The browser test harness shared by the e2e test files: the loopback-only check and paths
//! here; the processes a test starts (chromedriver, the in-process signaling server, coturn) in
//! `processes`; one Chromium session per person with string-only DOM probes, and a full call, in
//! `person`; a person in Firefox (its own geckodriver, the WebRTC prefs) and the `Browser` enum
//! in `firefox`; the in-call probes (audio level, new frames, the peer's state in words) and two
//! people signed in, in `in_call`; certificate pinning, DevTools commands and `/metrics` reading
//! for the production set-ups in `certificates`, `devtools` and `metrics`; the real server binary,
//! killed and started again, in `backend_binary`.

// Each test file uses part of this module.
#![allow(dead_code)]

pub mod backend_binary;
pub mod certificates;
pub mod devtools;
pub mod firefox;
pub mod in_call;
pub mod metrics;
pub mod person;
pub mod processes;
pub mod two_browsers;

// Only the in-call test files use these; the others would see an unused import.
pub use firefox::{Browser, GeckoDriverProcess};
#[allow(unused_imports)]
pub use in_call::*;
pub use person::*;
pub use processes::*;

use std::path::{Path, PathBuf};
use std::time::Duration;

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
