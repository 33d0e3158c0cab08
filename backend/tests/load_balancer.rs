//! Cluster mode behind a real load balancer (issue 12): Debian's HAProxy running the shipped
//! `deploy/haproxy.cfg` (only its listening port, its `server` lines and a stats socket changed
//! for the test) in front of two real server binaries sharing a real `redis-server`. Proves that
//! the web app and WebSocket upgrades pass through, that two clients land on different nodes and
//! still complete the classic walkthrough through the balancer, that the `/readyz` health check
//! takes out a node killed with SIGKILL (new sign-ins keep working on the survivor) and a node
//! that cannot reach Redis, and puts them back when they are ready again.
//!
//! Every process is started by the test on free loopback ports and stopped by PID on drop.

mod common;
#[path = "support/haproxy.rs"]
mod haproxy;

use common::server_binary::{start_server_binary, ServerProcess};
use common::test_redis::TestRedis;
use common::*;
use haproxy::{Haproxy, STATE_DEADLINE};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const LEASE_TTL: &str = "1500ms";
const WEB_APP_MARKER: &str = "duet web app served through the balancer";

/// A folder removed when dropped, also when the test panics.
struct TemporaryFolder(PathBuf);

impl Drop for TemporaryFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A node of the cluster: the real binary, trusting the balancer's forwarded addresses.
fn start_node(redis: &TestRedis, web_app: &Path) -> (ServerProcess, SocketAddr) {
    let url = redis.url();
    let web_app = web_app.to_str().expect("a UTF-8 temporary path");
    let flags = ["--redis-url", &url, "--name-lease-ttl", LEASE_TTL, "--trusted-proxy", "127.0.0.1"];
    start_server_binary(&[&flags[..], &["--static-dir", web_app]].concat())
}

/// Open WebSockets on the node at `address` (its own `/metrics`).
async fn open_websockets(address: SocketAddr) -> f64 {
    let (status, metrics) = http_get(address, "/metrics", "").await;
    assert_eq!(status, 200, "{metrics}");
    metric_value(&metrics, "duet_connections")
}

/// Waits until the nodes hold these numbers of WebSockets.
async fn wait_for_websockets(nodes: &[SocketAddr], wanted: &[f64]) {
    let deadline = Instant::now() + STATE_DEADLINE;
    loop {
        let mut open = Vec::new();
        for node in nodes {
            open.push(open_websockets(*node).await);
        }
        if open == wanted {
            return;
        }
        assert!(Instant::now() < deadline, "the nodes hold {open:?} WebSockets, not {wanted:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Connects through the balancer and signs in; Err(the refusal) when the name is refused.
async fn sign_in_through(balancer: SocketAddr, name: &str) -> Result<Client, serde_json::Value> {
    let mut client = Client::connect_raw(&format!("ws://{balancer}/")).await;
    client.receive_json().await;
    client.send_text(&format!(r#"{{"type":"login","name":"{name}"}}"#)).await;
    let reply = client.receive_json().await;
    if reply["success"] == true {
        Ok(client)
    } else {
        Err(reply)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_spreads_clients_over_two_nodes_and_its_readyz_check_takes_out_a_dead_or_redisless_node() {
    let mut redis = TestRedis::start();
    let web_app = TemporaryFolder(std::env::temp_dir().join(format!("duet-test-balanced-app-{}", std::process::id())));
    std::fs::create_dir_all(&web_app.0).expect("a temporary web app folder");
    std::fs::write(web_app.0.join("index.html"), format!("<!DOCTYPE html><title>{WEB_APP_MARKER}</title>\n"))
        .expect("write index.html");
    let (mut node_a, address_a) = start_node(&redis, &web_app.0);
    let (node_b, address_b) = start_node(&redis, &web_app.0);
    let nodes = [address_a, address_b];
    let balancer = Haproxy::start(&nodes);
    balancer.wait_for_states(&[("node1", "UP"), ("node2", "UP")]).await;

    // The web app comes from the nodes, through the balancer.
    let (status, page) = http_get(balancer.address, "/", "").await;
    assert_eq!((status, page.contains(WEB_APP_MARKER)), (200, true), "{page}");

    // Two clients land on different nodes (the one with fewer connections wins).
    let mut alice = sign_in_through(balancer.address, "alice").await.expect("alice signs in");
    let alice_node = if open_websockets(address_a).await == 1.0 { 0 } else { 1 };
    let mut bob = sign_in_through(balancer.address, "bob").await.expect("bob signs in");
    wait_for_websockets(&nodes, &[1.0, 1.0]).await;
    // A name is one across the cluster, whichever node the balancer picks.
    let refusal = sign_in_through(balancer.address, "alice").await.err().expect("a second alice is refused");
    assert_eq!(refusal["reason"], "taken", "{refusal}");

    // The classic walkthrough across the two nodes, through the balancer.
    connected_call(&mut alice, &mut bob).await;
    for index in 0..5 {
        let candidate = CANDIDATE.replace("46154", &format!("4615{index}"));
        alice.send_text(&format!(r#"{{"type":"candidate","name":"bob","candidate":{candidate}}}"#)).await;
        bob.send_text(&format!(r#"{{"type":"candidate","name":"alice","candidate":{candidate}}}"#)).await;
    }
    for index in 0..5 {
        let candidate = CANDIDATE.replace("46154", &format!("4615{index}"));
        assert_eq!(
            bob.receive_text().await,
            format!(r#"{{"type":"candidate","candidate":{candidate},"name":"alice"}}"#)
        );
        assert_eq!(
            alice.receive_text().await,
            format!(r#"{{"type":"candidate","candidate":{candidate},"name":"bob"}}"#)
        );
    }
    alice.send_text(r#"{"type":"leave","name":"bob"}"#).await;
    assert_eq!(bob.receive_text().await, r#"{"type":"leave","name":"alice","reason":"hangup"}"#);

    // alice's node dies without a word: the health check takes it out, and sign-ins (alice's
    // name too, once its lease lapsed) keep working through the balancer on the survivor.
    let (dead, survivor) = if alice_node == 0 { ("node1", "node2") } else { ("node2", "node1") };
    let survivor_address = nodes[1 - alice_node];
    if alice_node == 0 {
        node_a.0.kill().expect("SIGKILL node A");
        let _ = node_a.0.wait();
    } else {
        drop(node_b);
    }
    let mut wanted = [(dead, "DOWN"), (survivor, "UP")];
    wanted.sort();
    balancer.wait_for_states(&wanted).await;
    let mut newcomers = Vec::new();
    for name in ["carol", "dave", "erin", "frank"] {
        newcomers.push(sign_in_through(balancer.address, name).await.expect("a new sign-in on the survivor"));
    }
    let deadline = Instant::now() + STATE_DEADLINE;
    let mut alice = loop {
        match sign_in_through(balancer.address, "alice").await {
            Ok(client) => break client,
            Err(refusal) => assert!(Instant::now() < deadline, "alice's name stays refused: {refusal}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut carol = newcomers.remove(0);
    // A call on the survivor, through the balancer.
    carol.send_text(&format!(r#"{{"type":"offer","name":"alice","offer":{SDP_OFFER}}}"#)).await;
    assert_eq!(alice.receive_json().await["type"], "offer");
    drop(bob);

    // The survivor loses Redis: its /readyz answers 503 and the balancer takes it out too, so
    // nobody is sent where sign-ins would be refused; it comes back by itself with Redis.
    redis.kill();
    balancer.wait_for_states(&[("node1", "DOWN"), ("node2", "DOWN")]).await;
    let (status, _) = http_get(balancer.address, "/", "").await;
    assert_eq!(status, 503, "no node is ready, so the balancer answers itself");
    redis.restart();
    balancer.wait_for_states(&wanted).await;
    let (status, page) = http_get(balancer.address, "/", "").await;
    assert_eq!((status, page.contains(WEB_APP_MARKER)), (200, true), "{page}");
    sign_in_through(balancer.address, "grace").await.expect("sign-ins work again through the balancer");
    assert!(open_websockets(survivor_address).await >= 1.0);
}
