//! Cluster mode (issue 12) across node boundaries: a node killed with SIGKILL frees its names
//! within the lease TTL and its calls' peers hear `disconnected`; a resume token from one node
//! is accepted by another with the same secret; a call held on one node is restored by its side
//! coming back on another. A real redis-server, started by the test.

mod common;

use backend::resume_token::ResumeSecret;
use backend::Config;
use common::resume::*;
use common::server_binary::{login_at, start_server_binary, TEST_RESUME_SECRET};
use common::test_redis::TestRedis;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_millis(1500);

fn node_config(redis: &TestRedis) -> Config {
    Config {
        redis_url: Some(redis.url()),
        name_lease_ttl: TTL,
        rate_limit: 0,
        resume_secret: Some(ResumeSecret::parse(TEST_RESUME_SECRET).expect("the test secret")),
        ..Config::default()
    }
}

#[tokio::test]
async fn a_node_killed_mid_call_frees_its_names_and_the_peer_hears_disconnected_within_the_lease() {
    let redis = TestRedis::start();
    let url = redis.url();
    let (mut node_a, address_a) = start_server_binary(&["--redis-url", &url, "--name-lease-ttl", "1500ms"]);
    let node_b = TestServer::start_with(node_config(&redis)).await;
    let mut alice = login_at(address_a, "alice").await;
    let mut bob = node_b.login("bob").await;
    connected_call(&mut alice, &mut bob).await;

    node_a.0.kill().expect("SIGKILL node A");
    let killed = Instant::now();
    // The lease lapses TTL after A's last heartbeat (sent at most TTL/3 before the kill), and
    // B's keeper sweeps every TTL/3; the rest is slack for a loaded machine.
    let leave = bob.receive_json().await;
    let waited = killed.elapsed();
    assert_eq!((leave["type"].as_str(), leave["name"].as_str()), (Some("leave"), Some("alice")), "{leave}");
    assert_eq!(leave["reason"], "disconnected");
    assert!(waited < TTL + TTL / 3 + Duration::from_secs(3), "told after {waited:?}");

    // alice's name is free again.
    let mut again = node_b.connect().await;
    again.send_text(r#"{"type":"login","name":"alice"}"#).await;
    assert_eq!(again.receive_json().await["success"], true);
    node_b.shut_down().await;
}

#[tokio::test]
async fn a_resume_token_from_node_a_is_accepted_on_node_b_and_closes_the_old_connection() {
    let redis = TestRedis::start();
    let node_a = TestServer::start_with(node_config(&redis)).await;
    let node_b = TestServer::start_with(node_config(&redis)).await;
    let mut alice = node_a.connect().await;
    alice.send_text(r#"{"type":"login","name":"alice"}"#).await;
    let reply = alice.receive_json().await;
    let token = reply["resume"].as_str().expect("a resume token").to_owned();

    let mut resumed = node_b.connect().await;
    resumed.send_text(&serde_json::json!({"type": "login", "name": "alice", "resume": token}).to_string()).await;
    let reply = resumed.receive_json().await;
    assert_eq!((reply["success"].as_bool(), reply["name"].as_str()), (Some(true), Some("alice")), "{reply}");
    // The connection on node A is closed as replaced by a new login (4001).
    assert_eq!(alice.expect_closed(RECEIVE_TIMEOUT).await, Some(4001));
    // Nobody else gets the name.
    let mut mallory = node_a.connect().await;
    mallory.send_text(r#"{"type":"login","name":"alice"}"#).await;
    assert_eq!(mallory.receive_json().await["reason"], "taken");
    node_a.shut_down().await;
    node_b.shut_down().await;
}

#[tokio::test]
async fn a_call_held_when_alices_socket_on_node_a_drops_is_restored_when_she_comes_back_on_node_b() {
    let redis = TestRedis::start();
    let node_a = TestServer::start_with(node_config(&redis)).await;
    let node_b = TestServer::start_with(node_config(&redis)).await;
    let (mut alice, token) = login_keeping_calls(&node_a, "alice").await;
    let mut bob = node_b.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    drop(alice);
    // bob hears nothing (no `leave`); his offers to alice are refused as unavailable once node
    // A has held the call. (Offers, not candidates: bob's session relays candidates to alice's
    // cached connection, dropped by node A, until a frame reaches his reserve.)
    let deadline = tokio::time::Instant::now() + RECEIVE_TIMEOUT;
    loop {
        assert!(tokio::time::Instant::now() < deadline, "offers to alice were never refused as peer_unavailable");
        bob.send_text(&format!(r#"{{"type":"offer","name":"alice","offer":{SDP_OFFER}}}"#)).await;
        if let Ok(reply) = tokio::time::timeout(Duration::from_millis(200), bob.receive_json()).await {
            assert_eq!((reply["type"].as_str(), reply["code"].as_str()), (Some("error"), Some("peer_unavailable")));
            break;
        }
    }
    let mut alice_again = node_b.connect().await;
    alice_again.send_text(&resume_login("alice", &token, Some("bob"))).await;
    assert_eq!(alice_again.receive_json().await["success"], true);
    assert_eq!(alice_again.receive_json().await, json!({"type": "call_resumed", "name": "bob"}));
    assert_eq!(bob.receive_json().await, json!({"type": "call_resumed", "name": "alice"}));
    bob.send_text(&candidate_to("alice")).await;
    assert_eq!(alice_again.receive_json().await["type"], "candidate");
    node_a.shut_down().await;
    node_b.shut_down().await;
}

#[tokio::test]
async fn a_name_whose_connection_closed_while_redis_did_not_answer_is_freed_when_it_answers_again() {
    let redis = TestRedis::start();
    // The lease outlives the outage: only the retried release can free the name.
    let config = || Config { name_lease_ttl: Duration::from_secs(6), ..node_config(&redis) };
    let node_a = TestServer::start_with(config()).await;
    let node_b = TestServer::start_with(config()).await;
    let alice = node_a.login("alice").await;
    // Redis keeps its data but answers nothing for 2.5 s (longer than a command's 2 s timeout).
    let paused = std::process::Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "client", "pause", "2500", "ALL"])
        .status()
        .expect("redis-cli");
    assert!(paused.success());
    alice.close().await;
    let mut freed = false;
    for _ in 0..200 {
        let mut again = node_b.connect().await;
        again.send_text(r#"{"type":"login","name":"alice"}"#).await;
        if again.receive_json().await["success"] == true {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "alice's name was freed once Redis answered again");
    node_a.shut_down().await;
    node_b.shut_down().await;
}

#[tokio::test]
async fn a_second_node_with_the_same_node_id_is_refused_in_words() {
    let redis = TestRedis::start();
    let config = || Config { node_id: Some(backend::address::NodeId::from_raw(7)), ..node_config(&redis) };
    let first = TestServer::start_with(config()).await;
    let refused = backend::AppState::start(config()).await.expect_err("the id is taken");
    assert!(refused.to_string().contains("--node-id"), "{refused}");
    first.shut_down().await;
}

#[tokio::test]
async fn a_node_restarted_at_once_with_its_node_id_waits_for_its_old_lease_and_frees_what_it_left() {
    let redis = TestRedis::start();
    let url = redis.url();
    let flags = ["--redis-url", url.as_str(), "--name-lease-ttl", "1500ms", "--node-id", "5"];
    let (mut node_a, address_a) = start_server_binary(&flags);
    let node_b = TestServer::start_with(node_config(&redis)).await;
    let mut alice = login_at(address_a, "alice").await;
    let mut bob = node_b.login("bob").await;
    connected_call(&mut alice, &mut bob).await;

    node_a.0.kill().expect("SIGKILL node A");
    // Started again at once with the same id: it serves once the old lease has expired.
    let (_node_a_again, address_a_again) = start_server_binary(&flags);
    let leave = bob.receive_json().await;
    assert_eq!((leave["name"].as_str(), leave["reason"].as_str()), (Some("alice"), Some("disconnected")), "{leave}");
    login_at(address_a_again, "alice").await;
    node_b.shut_down().await;
}
