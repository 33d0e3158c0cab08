//! The generator against two real cluster nodes (`backend::AppState::start` with `redis_url`, in
//! this process) sharing a real `redis-server` the test starts on a free loopback port: with
//! `--partner-url` each relay pair and each call has one party on each node, every second idle
//! connection signs in on the partner, and `--extra-pid` reports redis-server's CPU beside the
//! server's. Counts only, never timings.

// The backend's own test harness for redis-server; this file uses part of it.
#[allow(dead_code)]
#[path = "../../backend/src/cluster/test_redis.rs"]
mod test_redis;

use loadgen::adapters::ServerKind;
use loadgen::calls::CallOptions;
use loadgen::extra::ExtraPid;
use loadgen::idle::IdleOptions;
use loadgen::relay::RelayOptions;
use loadgen::target::Target;
use loadgen::{Common, Mode};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use test_redis::TestRedis;
use tokio::sync::oneshot;

struct Node {
    url: String,
    state: backend::AppState,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start_node(redis: &TestRedis) -> Node {
    // The relay ping-pongs far above the production per-connection message rate limit.
    let config = backend::Config { redis_url: Some(redis.url()), rate_limit: 0, ..backend::Config::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    let state = backend::AppState::start(config).await.expect("the node connects to Redis");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(backend::run(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    Node { url: format!("ws://{address}/"), state, stop, task }
}

impl Node {
    /// Candidates this node relayed for its own connections (`duet_messages_relayed_total`).
    fn relayed_candidates(&self) -> u64 {
        let text = self.state.metrics.encode();
        let line = text
            .lines()
            .find(|line| line.starts_with("duet_messages_relayed_total{") && line.contains(r#"type="candidate""#))
            .unwrap_or_else(|| panic!("no relayed candidate counter in {text}"));
        line.rsplit(' ').next().and_then(|value| value.parse().ok()).expect("a count")
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("node task").expect("node ran");
    }
}

fn across(node_a: &Node, node_b: &Node, redis: &TestRedis) -> Common {
    Common {
        target: Arc::new(Target::parse(&node_a.url).expect("loopback URL")),
        partner: Some(Arc::new(Target::parse(&node_b.url).expect("loopback URL"))),
        server: ServerKind::Duet,
        // Both nodes run in this process: its CPU is theirs.
        server_pid: Some(std::process::id()),
        extra_pids: Arc::new([ExtraPid { name: "redis".to_owned(), pid: redis.pid().expect("redis runs") }]),
        io_timeout: Duration::from_secs(10),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_with_a_partner_url_puts_each_pair_across_two_nodes_and_measures_redis() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (start_node(&redis).await, start_node(&redis).await);
    let options = RelayOptions {
        pairs: 3,
        warmup: Duration::from_millis(50),
        window: Duration::from_millis(300),
        windows: 2,
        candidate_bytes: 257,
        concurrency: 3,
        rate: None,
    };
    let report = loadgen::run(&across(&node_a, &node_b, &redis), &Mode::Relay(options), Duration::from_secs(120))
        .await
        .expect("run completes");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["partner_url"], node_b.url.as_str());
    let windows = report["windows"].as_array().expect("windows");
    assert!(windows.iter().all(|window| window["relayed"].as_u64() > Some(0)), "{report}");
    // Callers send from node A, callees from node B: each node relayed its own side's candidates.
    let (from_a, from_b) = (node_a.relayed_candidates(), node_b.relayed_candidates());
    assert!(from_a > 0 && from_b > 0, "relayed on A: {from_a}, on B: {from_b}");
    assert!(from_a.abs_diff(from_b) <= 3 * 2, "one in flight per pair: {from_a} vs {from_b}");
    let redis_cpu = &report["median"]["extra"]["redis"];
    assert_eq!(redis_cpu["pid"], redis.pid().expect("redis runs"));
    assert!(redis_cpu["cpu_ms"].is_number() && redis_cpu.get("cpu_us_per_message").is_some(), "{report}");
    assert!(windows.iter().all(|window| window["extra"]["redis"]["cpu_ms"].is_number()), "{report}");
    node_a.stop().await;
    node_b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_with_a_partner_url_complete_across_two_nodes() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (start_node(&redis).await, start_node(&redis).await);
    let options = CallOptions { calls: 12, in_flight: 3, runs: 1, candidates: 2, sdp_bytes: 512, candidate_bytes: 257 };
    let report = loadgen::run(&across(&node_a, &node_b, &redis), &Mode::Calls(options), Duration::from_secs(120))
        .await
        .expect("run completes");
    assert_eq!(report["errors"], 0, "{report}");
    assert!(report["runs"].as_array().is_some_and(|runs| runs.iter().all(|run| run["completed"] == 12)), "{report}");
    // 12 calls x 2 candidates from each side, each side's relayed by its own node.
    assert_eq!((node_a.relayed_candidates(), node_b.relayed_candidates()), (24, 24));
    assert!(report.pointer("/median/extra/redis/cpu_us_per_call").is_some_and(Value::is_number), "{report}");
    node_a.stop().await;
    node_b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_with_a_partner_url_sign_in_half_on_each_node() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (start_node(&redis).await, start_node(&redis).await);
    // The connections are held for `settle` before they close: long enough to be seen below.
    let options = IdleOptions { count: 20, concurrency: 8, rounds: 1, settle: Duration::from_secs(3) };
    let common = across(&node_a, &node_b, &redis);
    let run = tokio::spawn(async move {
        loadgen::run(&common, &Mode::Idle(options), Duration::from_secs(120)).await.expect("run completes")
    });
    let (mut most_on_a, mut most_on_b) = (0, 0);
    while !run.is_finished() {
        most_on_a = most_on_a.max(node_a.state.metrics.users_online.get());
        most_on_b = most_on_b.max(node_b.state.metrics.users_online.get());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let report = run.await.expect("run task");
    assert_eq!((report["connected"].as_u64(), report["failed"].as_u64()), (Some(20), Some(0)), "{report}");
    assert_eq!((most_on_a, most_on_b), (10, 10), "signed in at once on node A and on node B");
    assert!(report.pointer("/extra/redis/cpu_us_per_connect").is_some(), "{report}");
    node_a.stop().await;
    node_b.stop().await;
}
