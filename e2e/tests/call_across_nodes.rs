//! Browser test of cluster mode (issue 12): a real `redis-server` and two real server binaries
//! sharing it (`--redis-url`, one `--resume-secret`, distinct `--node-id`), each serving this
//! worktree's `dist/` on its own port. alice's Chromium opens node A, bob's opens node B; alice
//! calls bob by name, bob accepts, both see new remote video frames (the offer, answer and
//! candidates went through Redis to the other node), and alice's hang-up reaches bob. Each node's
//! `/metrics` shows its one WebSocket, so the two really are on different nodes. Then both pages
//! open the app through HAProxy running the shipped `deploy/haproxy.cfg` in front of the two
//! nodes: the web app and the WebSockets pass through it, the two land on different nodes, and
//! they call again, video both ways, hang-up across.
//!
//! Needs the backend binary built (`cargo build -p backend`; `scripts/test` does), Debian's
//! `redis-server` and `haproxy` (`scripts/setup`), and a network namespace with only the
//! loopback interface.

mod common;

#[path = "../../backend/tests/support/haproxy.rs"]
mod haproxy;
#[path = "../../backend/src/cluster/test_redis.rs"]
#[allow(dead_code)]
mod test_redis;

use common::backend_binary::{free_port, BackendProcess};
use common::metrics::{metric_value, wait_for_metric};
use common::*;
use haproxy::Haproxy;
use std::net::SocketAddr;
use std::time::Instant;
use test_redis::TestRedis;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Open WebSockets on the node on 127.0.0.1:`port`, from its own `/metrics` (not through a page,
/// whose origin may be the balancer).
async fn open_websockets(port: u16) -> Option<f64> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    metric_value(&response, "duet_connections")
}

/// Waits until the nodes hold these numbers of WebSockets.
async fn wait_for_websockets(ports: &[u16], wanted: &[f64]) {
    let started = Instant::now();
    loop {
        let mut open = Vec::new();
        for port in ports {
            open.push(open_websockets(*port).await);
        }
        if open.iter().copied().eq(wanted.iter().map(|count| Some(*count))) {
            return;
        }
        assert!(started.elapsed() < STEP_TIMEOUT, "the nodes hold {open:?} WebSockets, not {wanted:?}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// alice calls bob by name, bob accepts, both see new remote frames; alice hangs up and bob is
/// told.
async fn call_with_video_both_ways_and_hang_up(alice: &Person, bob: &Person) {
    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    bob.click_button("Accept").await;
    for person in [alice, bob] {
        person.wait_until_remote_video_plays().await;
        person.wait_for_phase("in-call").await;
    }
    for person in [alice, bob] {
        person.wait_for_new_remote_frames().await;
    }
    alice.click_button("Hang up").await;
    alice.wait_for_phase("idle").await;
    bob.wait_for_notice("alice hung up").await;
    bob.wait_for_phase("idle").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_on_node_a_calls_bob_on_node_b_with_video_both_ways_directly_and_through_haproxy() {
    require_loopback_only_network();
    let dist = built_app_directory();
    let log_directory = target_directory().join("e2e-logs");
    std::fs::create_dir_all(&log_directory).expect("create the log directory");

    let redis = TestRedis::start();
    let redis_url = redis.url();
    let secret = common::processes::random_hex(32);
    let mut nodes = Vec::new();
    for (node_id, log_name) in [("a", "cluster-node-a.log"), ("b", "cluster-node-b.log")] {
        let flags = [
            "--redis-url",
            redis_url.as_str(),
            "--resume-secret",
            secret.as_str(),
            "--node-id",
            node_id,
            // Behind the balancer, later: the client's address comes from X-Forwarded-For.
            "--trusted-proxy",
            "127.0.0.1",
        ];
        let log_path = log_directory.join(log_name);
        let _ = std::fs::remove_file(&log_path);
        nodes.push(BackendProcess::start(free_port(), &dist, &flags, log_path).await);
    }
    let (node_a, node_b) = (&nodes[0], &nodes[1]);

    let mut driver = ChromeDriverProcess::start(&log_directory.join("chromedriver-across-nodes.log"));
    driver.wait_until_listening().await;
    let setup = MediaSetup::FakeCameraAndMicrophone;
    let alice = open_browser(driver.port, "alice", setup).await;
    let bob = open_browser(driver.port, "bob", setup).await;
    for (person, node) in [(&alice, node_a), (&bob, node_b)] {
        let app_url = format!("http://127.0.0.1:{}/", node.port);
        person
            .client
            .goto(&app_url)
            .await
            .unwrap_or_else(|error| panic!("{}: could not open {app_url}: {error}", person.name));
        person.sign_in(person.name).await;
        person.wait_for_signed_in().await;
    }
    // Each page's own node holds exactly its WebSocket.
    for (person, node) in [(&alice, node_a), (&bob, node_b)] {
        let metrics = wait_for_metric(person, "duet_connections", "1", |open| open == 1.0).await;
        assert_eq!(
            metric_value(&metrics, "duet_connections"),
            Some(1.0),
            "{}: node log:\n{}",
            person.name,
            node.log_tail()
        );
    }

    // alice (node A) calls bob (node B) by name; video flows both ways; the hang-up crosses.
    call_with_video_both_ways_and_hang_up(&alice, &bob).await;
    let summary = bob.page_summary().await;
    assert!(!summary.contains("Connection lost"), "bob: {summary}\nnode B log:\n{}", node_b.log_tail());

    // Both open the app through HAProxy instead: each lands on a node of its own (the one with
    // fewer connections), and the call works the same.
    let ports = [node_a.port, node_b.port];
    let node_addresses: Vec<SocketAddr> = ports.iter().map(|port| SocketAddr::from(([127, 0, 0, 1], *port))).collect();
    let balancer = Haproxy::start(&node_addresses);
    balancer.wait_for_states(&[("node1", "UP"), ("node2", "UP")]).await;
    let balanced_url = format!("http://{}/", balancer.address);
    // Both close the nodes' own pages first (a whole browser: a page merely left may keep its
    // socket), so their names are free when they sign in anew in fresh browsers.
    alice.close().await;
    bob.close().await;
    wait_for_websockets(&ports, &[0.0, 0.0]).await;
    let alice = open_browser(driver.port, "alice", setup).await;
    let bob = open_browser(driver.port, "bob", setup).await;
    for person in [&alice, &bob] {
        person.client.goto(&balanced_url).await.unwrap_or_else(|error| {
            panic!("{}: could not open {balanced_url}: {error}\n{}", person.name, balancer.log())
        });
        person.sign_in(person.name).await;
        person.wait_for_signed_in().await;
    }
    wait_for_websockets(&ports, &[1.0, 1.0]).await;
    call_with_video_both_ways_and_hang_up(&alice, &bob).await;
    alice.save_screenshot("across-nodes-through-haproxy-alice.png").await;

    alice.close().await;
    bob.close().await;
    drop(driver);
    drop(balancer);
    drop(nodes);
    drop(redis);
}
