//! `webapp-bench`: the web app's timing rows of BENCHMARKS.md (issue 15, "The web app"), measured
//! against a minimal hand-written page (`e2e/bench/minimal-call/`) in the same run. Starts
//! everything itself on 127.0.0.1: two in-process signaling servers (one serving the release
//! bundle from `dist/`, one serving the minimal page; same configuration), and chromedriver with
//! a fresh headless Chromium (fake camera) per page load and per person. Prints one JSON object
//! on stdout; `scripts/bench-webapp` runs it in a loopback-only network namespace, adds the
//! bundle sizes and writes the section. A measurement tool, not a test: nothing is asserted
//! about speed.
//!
//!   cargo run --release -p e2e --example webapp-bench -- --calls 5 --loads 10
//!   cargo run --release -p e2e --example webapp-bench -- --calls 3 --loads 0 --profile   # where the time goes
//!   cargo run --release -p e2e --example webapp-bench -- --calls 3 --loads 0 --trace     # each page's tasks
//!   cargo run --release -p e2e --example webapp-bench -- --calls 10 --loads 0 --baseline DIR  # before/after
//!
//! - Page loads (`--loads` per page, app and minimal alternating): navigation start to the
//!   sign-in form being usable (an input labelled "Your name" and a "Sign in" button, both
//!   enabled; seen by a MutationObserver installed before any page script), on a fresh profile
//!   (cold: nothing cached), then again on a second navigation in the same browser (warm).
//! - Calls (`--calls` per page, alternating): two fresh browsers sign in, wait for their camera
//!   preview, one calls the other, the callee clicks Accept; the time from that click to the
//!   first remote video frame on each side (`requestVideoFrameCallback`, wall clock in each page),
//!   exactly as e2e/tests/browser_call.rs measures it.
//! - `--baseline DIR`: an earlier build of the app (a copy of its `dist/`), served by a third
//!   server and called in the same alternation (app, minimal page, baseline), so a change to the
//!   app is measured before/after in one run; its calls are the JSON's `calls.baseline`.

#[path = "../../tests/common/mod.rs"]
mod common;

mod calls;
mod page_loads;
mod profile;
mod trace;

use common::*;
use serde_json::json;
use std::path::PathBuf;

/// The two pages under test, each served by its own in-process server (same code, same config).
#[derive(Debug)]
pub struct Pages {
    pub app_url: String,
    pub minimal_url: String,
    /// `--baseline DIR`: an earlier build of the app, for before/after comparisons.
    pub baseline_url: Option<String>,
    pub chromedriver_port: u16,
    /// `--profile`: CPU-profile both pages of every call (`profile.rs`); slows them down.
    pub profile: bool,
    /// `--trace`: a Chrome trace of both pages of every call, as a timeline (`trace.rs`).
    pub trace: bool,
}

/// Which page a measurement is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    App,
    Minimal,
    /// The earlier build `--baseline` names (calls only).
    Baseline,
}

impl Page {
    pub fn label(self) -> &'static str {
        match self {
            Page::App => "app",
            Page::Minimal => "minimal",
            Page::Baseline => "baseline",
        }
    }

    pub fn url(self, pages: &Pages) -> &str {
        match self {
            Page::App => &pages.app_url,
            Page::Minimal => &pages.minimal_url,
            Page::Baseline => pages.baseline_url.as_deref().expect("--baseline gives the baseline's directory"),
        }
    }
}

fn count_argument(arguments: &[String], flag: &str, default: usize) -> usize {
    match arguments.iter().position(|argument| argument == flag) {
        Some(index) => arguments
            .get(index + 1)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a whole number")),
        None => default,
    }
}

/// Whether this network namespace routes through nothing but `lo` (`/proc/net/route`).
fn loopback_only_network() -> bool {
    std::fs::read_to_string("/proc/net/route")
        .map(|routes| routes.lines().skip(1).all(|line| line.split_whitespace().next() == Some("lo")))
        .unwrap_or(false)
}

async fn start_server(static_dir: PathBuf) -> ServerHandle {
    let config = backend::Config { static_dir: Some(static_dir), port: 0, ..backend::Config::default() };
    ServerHandle::start(config, None).await
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.iter().any(|argument| argument == "--help" || argument == "-h") {
        println!(
            "webapp-bench [--calls N] [--loads N] [--profile] [--trace] [--baseline DIR]: prints one JSON object (see the file's doc comment)"
        );
        return;
    }
    let call_count = count_argument(&arguments, "--calls", 5);
    let load_count = count_argument(&arguments, "--loads", 10);
    let loopback_only = loopback_only_network();
    if !loopback_only {
        eprintln!(
            "webapp-bench: warning: this network namespace has routes besides lo; WebRTC may leave 127.0.0.1 \
             (scripts/bench-webapp runs it in a loopback-only namespace when run as root)"
        );
    }

    let app_server = start_server(built_app_directory()).await;
    let minimal_server = start_server(repository_root().join("e2e").join("bench").join("minimal-call")).await;
    let baseline_server = match arguments.iter().position(|argument| argument == "--baseline") {
        Some(index) => {
            let directory = arguments.get(index + 1).expect("--baseline needs the directory of an earlier dist/");
            Some(start_server(PathBuf::from(directory)).await)
        }
        None => None,
    };
    let log_directory = target_directory().join("e2e-logs");
    std::fs::create_dir_all(&log_directory).expect("create the log directory");
    let mut chromedriver = ChromeDriverProcess::start(&log_directory.join("chromedriver-webapp-bench.log"));
    chromedriver.wait_until_listening().await;
    let pages = Pages {
        app_url: format!("http://{}/", app_server.address),
        minimal_url: format!("http://{}/", minimal_server.address),
        baseline_url: baseline_server.as_ref().map(|server| format!("http://{}/", server.address)),
        chromedriver_port: chromedriver.port,
        profile: arguments.iter().any(|argument| argument == "--profile"),
        trace: arguments.iter().any(|argument| argument == "--trace"),
    };

    let started = std::time::Instant::now();
    let mut loads = page_loads::Loads::default();
    for round in 0..load_count {
        for page in [Page::App, Page::Minimal] {
            let load = page_loads::measure(&pages, page, round).await;
            eprintln!("load {} {}: {load:?}", round + 1, page.label());
            loads.push(page, load);
        }
    }
    let mut call_timings = calls::Timings::default();
    let mut called_pages = vec![Page::App, Page::Minimal];
    called_pages.extend(pages.baseline_url.is_some().then_some(Page::Baseline));
    for round in 0..call_count {
        for &page in &called_pages {
            let call = calls::measure(&pages, page, round).await;
            eprintln!("call {} {}: {:?}", round + 1, page.label(), call.timing);
            call_timings.push(page, call);
        }
    }
    let report = json!({
        "loopback_only": loopback_only,
        "calls_per_page": call_count,
        "loads_per_page": load_count,
        "seconds": started.elapsed().as_secs_f64(),
        "page_loads": loads.to_json(),
        "calls": call_timings.to_json(),
    });
    println!("{report}");
    drop(chromedriver);
    app_server.stop_and_wait().await;
    minimal_server.stop_and_wait().await;
    if let Some(server) = baseline_server {
        server.stop_and_wait().await;
    }
}
