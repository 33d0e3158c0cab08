//! Short real runs of every mode against the real server (`backend::run` on 127.0.0.1:0, in this
//! process). Counts and consistency are checked, never timings.

use loadgen::adapters::ServerKind;
use loadgen::calls::CallOptions;
use loadgen::flood::FloodOptions;
use loadgen::idle::IdleOptions;
use loadgen::relay::RelayOptions;
use loadgen::target::Target;
use loadgen::{Common, Mode};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

struct Server {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start_server() -> Server {
    // The relay ping-pongs far above the production per-connection message rate limit.
    start_server_with(backend::Config { rate_limit: 0, ..backend::Config::default() }).await
}

async fn start_server_with(config: backend::Config) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    let state = backend::AppState::new(config);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(backend::run(listener, state, async move {
        let _ = stopped.await;
    }));
    Server { url: format!("ws://{address}/"), stop: Some(stop), task }
}

impl Server {
    fn common(&self) -> Common {
        Common {
            target: Arc::new(Target::parse(&self.url).expect("loopback URL")),
            partner: None,
            server: ServerKind::Duet,
            // The server runs in this process: its CPU and memory are ours.
            server_pid: Some(std::process::id()),
            extra_pids: Arc::new([]),
            io_timeout: Duration::from_secs(10),
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.expect("server task").expect("server ran");
    }
}

async fn run(server: &Server, mode: Mode) -> Value {
    loadgen::run(&server.common(), &mode, Duration::from_secs(120)).await.expect("run completes")
}

fn number(report: &Value, pointer: &str) -> f64 {
    report.pointer(pointer).and_then(Value::as_f64).unwrap_or_else(|| panic!("{pointer} missing in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_counts_every_relayed_candidate() {
    let server = start_server().await;
    let options = RelayOptions {
        pairs: 4,
        warmup: Duration::from_millis(50),
        window: Duration::from_millis(200),
        windows: 2,
        candidate_bytes: 257,
        concurrency: 4,
        rate: None,
    };
    let report = run(&server, Mode::Relay(options)).await;
    assert_eq!(report["mode"], "relay");
    assert_eq!(report["flavor"], "duet", "our server greets with hello: {report}");
    assert_eq!(report["errors"], 0, "{report}");
    let windows = report["windows"].as_array().expect("windows");
    assert_eq!(windows.len(), 2);
    for window in windows {
        let relayed = window["relayed"].as_u64().expect("relayed");
        assert!(relayed > 0, "{window}");
        let rtt = &window["rtt"];
        // Each caller's round trip is two relays; some trips straddle the window edges.
        assert!(rtt["samples"].as_u64().expect("samples") > 0, "{window}");
        assert!(rtt["p50_ms"].as_f64() <= rtt["p90_ms"].as_f64() && rtt["p90_ms"].as_f64() <= rtt["p99_ms"].as_f64());
        assert!(rtt["p99_ms"].as_f64() <= rtt["max_ms"].as_f64());
        assert!(window["server_cpu_us_per_message"].as_f64().is_some(), "{window}");
    }
    assert!(number(&report, "/median/messages_per_sec") > 0.0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_and_churn_hold_then_release_every_connection() {
    let server = start_server().await;
    let options = IdleOptions { count: 60, concurrency: 16, rounds: 1, settle: Duration::from_millis(50) };
    let report = run(&server, Mode::Idle(options)).await;
    assert_eq!(report["mode"], "connections");
    assert_eq!(report["flavor"], "duet");
    assert_eq!((report["connected"].as_u64(), report["failed"].as_u64()), (Some(60), Some(0)), "{report}");
    assert_eq!(report["dropped_while_held"], 0);
    assert!(number(&report, "/connects_per_sec") > 0.0);
    assert!(report["kib_per_connection"].is_number(), "{report}");

    let options = IdleOptions { count: 30, concurrency: 8, rounds: 3, settle: Duration::from_millis(50) };
    let report = run(&server, Mode::Idle(options)).await;
    assert_eq!(report["mode"], "churn");
    let per_round = report["per_round"].as_array().expect("rounds");
    assert_eq!(per_round.len(), 3);
    assert!(per_round.iter().all(|round| round["connected"] == 30 && round["failed"] == 0), "{report}");
    assert_eq!(report["rss_after_each_round_kib"].as_array().map(Vec::len), Some(3));
    // Names are freed when connections close: a later round can log in with fresh names, and
    // the server refuses nothing.
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_complete_the_whole_sequence() {
    let server = start_server().await;
    let options =
        CallOptions { calls: 24, in_flight: 4, runs: 2, candidates: 4, sdp_bytes: 1024, candidate_bytes: 257 };
    let report = run(&server, Mode::Calls(options)).await;
    assert_eq!(report["mode"], "calls");
    assert_eq!(report["flavor"], "duet");
    assert_eq!(report["errors"], 0, "{report}");
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|run| run["completed"] == 24), "{report}");
    assert!(number(&report, "/median/p50_ms") <= number(&report, "/median/p99_ms"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_counts_the_silent_and_half_sent_connections_the_server_still_holds() {
    // A server that holds request heads for a minute: every flooding connection is still open.
    let patient = backend::Config { request_head_timeout: Duration::from_secs(60), ..backend::Config::default() };
    let server = start_server_with(patient).await;
    let options = FloodOptions {
        silent: 20,
        half_heads: 10,
        head_bytes: 2_000,
        hold: Duration::from_millis(200),
        concurrency: 8,
    };
    let report = run(&server, Mode::Flood(options)).await;
    assert_eq!(report["mode"], "flood");
    assert_eq!((report["opened"].as_u64(), report["failed"].as_u64()), (Some(30), Some(0)), "{report}");
    assert_eq!(report["still_open_at_end"], 30, "{report}");
    assert_eq!((report["silent_still_open"].as_u64(), report["half_heads_still_open"].as_u64()), (Some(20), Some(10)));
    assert_eq!(report["closed_by_server"], 0);
    assert!(report["rss_at_end_kib"].is_number() && report["kib_per_connection"].is_number(), "{report}");
    // The server runs in this process, beside other tests: its descriptor counts are only read.
    assert!(report["server_open_files_at_end"].is_number(), "{report}");
    server.stop().await;

    // Our server's head deadline closes them all; heads over its cap are answered with 431.
    // (`defer_accept` 0: the silent ones are accepted at once, not held by the kernel first.)
    let strict = backend::Config {
        request_head_timeout: Duration::from_millis(200),
        defer_accept: Duration::ZERO,
        ..backend::Config::default()
    };
    let server = start_server_with(strict).await;
    let options =
        FloodOptions { silent: 20, half_heads: 10, head_bytes: 2_000, hold: Duration::from_secs(1), concurrency: 8 };
    let report = run(&server, Mode::Flood(options)).await;
    assert_eq!((report["still_open_at_end"].as_u64(), report["closed_by_server"].as_u64()), (Some(0), Some(30)));
    let options =
        FloodOptions { silent: 0, half_heads: 5, head_bytes: 40_000, hold: Duration::from_secs(1), concurrency: 5 };
    let report = run(&server, Mode::Flood(options)).await;
    assert_eq!(report["still_open_at_end"], 0, "{report}");
    let answered = report["responses"]["431"].as_u64().unwrap_or(0);
    let cut_off = report["cut_off_while_sending"].as_u64().unwrap_or(0);
    assert!(answered + cut_off > 0, "oversized heads are refused, not held: {report}");
    server.stop().await;
}

#[tokio::test]
async fn a_call_to_a_user_who_is_not_online_fails_loudly() {
    // The generator must notice when the server refuses a step, not count it as done: a
    // candidate to a peer outside a call is refused by our server with `not_in_call`.
    let server = start_server().await;
    let common = server.common();
    let mut alice =
        loadgen::client::Client::connect_and_login(&common.target, common.io_timeout, "lg-alice").await.expect("login");
    alice
        .send(loadgen::client::candidate_frame("lg-bob", &loadgen::client::candidate_json(257, 1)))
        .await
        .expect("send");
    let refused = alice.expect(loadgen::client::Kind::Candidate).await;
    assert!(
        refused.is_err_and(|error| error.to_string().contains("Error")),
        "an error reply is not a relayed candidate"
    );
    // Same name twice: the second login is refused and reported.
    let second = loadgen::client::Client::connect_and_login(&common.target, common.io_timeout, "lg-alice").await;
    assert!(second.is_err());
    alice.close().await;
    server.stop().await;
}

#[tokio::test]
async fn non_loopback_targets_are_refused_before_connecting() {
    for url in ["ws://10.1.2.3:9090/", "ws://192.168.0.1/", "ws://example.org/"] {
        assert!(Target::parse(url).is_err(), "{url}");
    }
    let cli = <loadgen::Cli as clap::Parser>::try_parse_from(["loadgen", "relay", "--url", "ws://203.0.113.5:9090/"])
        .expect("parses");
    assert!(cli.validate().is_err_and(|error| error.contains("refusing")));
}
