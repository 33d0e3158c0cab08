//! Cluster mode (issue 12): presence pushed across nodes through Redis's presence channel, a
//! relay to a held peer on another node answered `peer_unavailable`, and the call gauges of
//! every node. Real redis-server and nodes (in-process, and a binary for `kill -9`), all
//! started by the test.

mod common;

use backend::resume_token::ResumeSecret;
use backend::Config;
use common::resume::*;
use common::server_binary::{login_at, start_server_binary, TEST_RESUME_SECRET};
use common::test_redis::TestRedis;
use common::*;
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

/// Generous: only reached when something is broken (presence arrives within a second).
const PUSHED_WITHIN: Duration = Duration::from_secs(20);

fn node_config(redis: &TestRedis) -> Config {
    Config {
        redis_url: Some(redis.url()),
        name_lease_ttl: Duration::from_millis(1500),
        rate_limit: 0,
        // One secret: a resume token from one node is accepted by another.
        resume_secret: Some(ResumeSecret::parse(TEST_RESUME_SECRET).expect("the test secret")),
        ..Config::default()
    }
}

/// The next frame of `client` within [`PUSHED_WITHIN`].
async fn pushed(client: &mut Client) -> Value {
    let text = client.receive_text_within(PUSHED_WITHIN).await;
    serde_json::from_str(&text).expect("JSON")
}

/// A subscriber's view of who is online: the snapshot, then the deltas applied.
#[derive(Debug, Default)]
struct View(BTreeSet<String>);

impl View {
    fn apply(&mut self, message: &Value) {
        let names = |field: &str| -> Vec<String> {
            message[field]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|name| name.as_str().map(str::to_owned))
                .collect()
        };
        match message["type"].as_str() {
            Some("users") => self.0 = names("users").into_iter().collect(),
            Some("presence") => {
                self.0.extend(names("joined"));
                for gone in names("left") {
                    self.0.remove(&gone);
                }
            }
            _ => panic!("a subscriber got {message}"),
        }
    }

    /// Applies what `client` receives until its view is `truth` and nothing more arrives for a
    /// moment (a view that only passes through the truth fails), within a generous deadline.
    async fn settle(&mut self, client: &mut Client, truth: &BTreeSet<String>) {
        let deadline = tokio::time::Instant::now() + PUSHED_WITHIN;
        loop {
            match tokio::time::timeout(Duration::from_millis(500), client.receive_text_within(PUSHED_WITHIN)).await {
                Ok(text) => self.apply(&serde_json::from_str(&text).expect("JSON")),
                Err(_) if &self.0 == truth => return,
                Err(_) => {}
            }
            assert!(tokio::time::Instant::now() < deadline, "view {:?}, truth {truth:?}", self.0);
        }
    }
}

/// `name` signed in on `server` and subscribed to presence, with its view from the snapshot.
async fn watch(server: &TestServer, name: &str) -> (Client, View) {
    let mut watcher = server.login(name).await;
    watcher.send_text(r#"{"type":"presence_subscribe"}"#).await;
    let mut view = View::default();
    view.apply(&watcher.receive_json().await);
    (watcher, view)
}

async fn login_as(server: &TestServer, name: String) -> Client {
    server.login(&name).await
}

/// The next frame of `client` that is not an `error` (late answers to relays may come first).
async fn next_but_errors(client: &mut Client) -> Value {
    loop {
        let message = pushed(client).await;
        if message["type"] != "error" {
            return message;
        }
    }
}

#[tokio::test]
async fn a_subscriber_on_node_a_sees_bob_sign_in_and_out_on_node_b() {
    let redis = TestRedis::start();
    let node_a = TestServer::start_with(node_config(&redis)).await;
    let node_b = TestServer::start_with(node_config(&redis)).await;
    let features = node_a.state.hello().features;
    assert_eq!(features, ["presence", "presence_query", "resume_calls"], "as one server");
    let mut carol = node_b.login("carol").await;
    let mut alice = node_a.login("alice").await;
    alice.send_text(r#"{"type":"presence_subscribe"}"#).await;
    assert_eq!(alice.receive_json().await, json!({"type": "users", "users": ["carol"]}));

    let bob = node_b.login("bob").await;
    assert_eq!(pushed(&mut alice).await, json!({"type": "presence", "joined": ["bob"]}));
    bob.close().await;
    assert_eq!(pushed(&mut alice).await, json!({"type": "presence", "left": ["bob"]}));
    // alice's own sign-out is news on node B, not on node A.
    carol.send_text(r#"{"type":"presence_subscribe"}"#).await;
    assert_eq!(carol.receive_json().await, json!({"type": "users", "users": ["alice"]}));
    alice.close().await;
    assert_eq!(pushed(&mut carol).await, json!({"type": "presence", "left": ["alice"]}));
    node_a.shut_down().await;
    node_b.shut_down().await;
}

#[tokio::test]
async fn a_killed_node_s_names_are_announced_gone_on_every_surviving_node() {
    let redis = TestRedis::start();
    let url = redis.url();
    let node_a = TestServer::start_with(node_config(&redis)).await;
    let node_b = TestServer::start_with(node_config(&redis)).await;
    let (mut node_c, address_c) = start_server_binary(&["--redis-url", &url, "--name-lease-ttl", "1500ms"]);
    let mut watchers = [watch(&node_a, "alice").await, watch(&node_b, "bob").await];
    let _carol = login_at(address_c, "carol").await;
    let _dave = login_at(address_c, "dave").await;
    for ((watcher, view), other) in watchers.iter_mut().zip(["bob", "alice"]) {
        view.settle(watcher, &BTreeSet::from([other, "carol", "dave"].map(str::to_owned))).await;
    }

    node_c.0.kill().expect("SIGKILL node C");
    for ((watcher, view), other) in watchers.iter_mut().zip(["bob", "alice"]) {
        view.settle(watcher, &BTreeSet::from([other.to_owned()])).await;
    }
    node_a.shut_down().await;
    node_b.shut_down().await;
}

#[tokio::test]
async fn a_held_call_s_name_is_announced_gone_across_nodes_when_its_grace_ends() {
    let redis = TestRedis::start();
    let config = || Config { call_resume_grace: Duration::from_secs(2), ..node_config(&redis) };
    let node_a = TestServer::start_with(config()).await;
    let node_b = TestServer::start_with(config()).await;
    let mut carol = presence_watcher(&node_b, "carol").await;
    let (mut alice, _token) = login_keeping_calls(&node_a, "alice").await;
    let mut bob = node_b.login("bob").await;
    let mut view = View::default();
    view.settle(&mut carol, &BTreeSet::from(["alice".to_owned(), "bob".to_owned()])).await;
    connected_call(&mut alice, &mut bob).await;
    drop(alice);
    // Held, then the grace is over: carol hears `left` (her first news since the snapshot).
    wait_until_peer_unavailable(&mut bob, "alice").await;
    let gone = pushed(&mut carol).await;
    assert_eq!(gone, json!({"type": "presence", "left": ["alice"]}));
    let leave = next_but_errors(&mut bob).await;
    assert_eq!((leave["type"].as_str(), leave["reason"].as_str()), (Some("leave"), Some("disconnected")), "{leave}");
    node_a.shut_down().await;
    node_b.shut_down().await;
}

#[tokio::test]
async fn a_held_call_s_name_stays_online_silently_across_nodes_and_its_return_elsewhere_is_no_news() {
    let redis = TestRedis::start();
    let node_a = TestServer::start_with(node_config(&redis)).await;
    let node_b = TestServer::start_with(node_config(&redis)).await;
    let mut carol = presence_watcher(&node_b, "carol").await;
    let (mut alice, token) = login_keeping_calls(&node_a, "alice").await;
    let mut bob = node_b.login("bob").await;
    let mut view = View::default();
    view.settle(&mut carol, &BTreeSet::from(["alice".to_owned(), "bob".to_owned()])).await;
    connected_call(&mut alice, &mut bob).await;
    drop(alice);
    wait_until_peer_unavailable(&mut bob, "alice").await;
    // alice comes back on node B, resuming the held call: a takeover, not a sign-in.
    let mut alice_again = node_b.connect().await;
    alice_again.send_text(&resume_login("alice", &token, Some("bob"))).await;
    assert_eq!(alice_again.receive_json().await["success"], true);
    assert_eq!(alice_again.receive_json().await, json!({"type": "call_resumed", "name": "bob"}));
    // carol heard nothing meanwhile: her next frame is the answer to her question.
    carol.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(pushed(&mut carol).await, json!({"type": "users", "users": ["alice", "bob"]}));
    node_a.shut_down().await;
    node_b.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_joining_on_node_a_during_sign_ins_and_outs_on_node_b_end_with_the_true_view() {
    let redis = TestRedis::start();
    let node_a = TestServer::start_with(node_config(&redis)).await;
    let node_b = TestServer::start_with(node_config(&redis)).await;
    const PEOPLE: usize = 60;
    const WATCHERS: usize = 8;
    let sign_ins = async {
        let people = join_all((0..PEOPLE).map(|index| login_as(&node_b, format!("person{index:02}")))).await;
        // Every third signs out again, while subscriptions are still being made.
        let mut staying = Vec::new();
        for (index, person) in people.into_iter().enumerate() {
            match index % 3 {
                0 => person.close().await,
                _ => staying.push(person),
            }
        }
        staying
    };
    let watched_from = &node_a;
    let subscriptions = join_all((0..WATCHERS).map(|index| async move {
        tokio::time::sleep(Duration::from_millis(15 * index as u64)).await;
        let mut watcher = login_as(watched_from, format!("watcher{index}")).await;
        watcher.send_text(r#"{"type":"presence_subscribe"}"#).await;
        watcher
    }));
    let (_staying, mut watchers) = tokio::join!(sign_ins, subscriptions);

    let mut online: BTreeSet<String> =
        (0..PEOPLE).filter(|index| index % 3 != 0).map(|i| format!("person{i:02}")).collect();
    online.extend((0..WATCHERS).map(|index| format!("watcher{index}")));
    for (index, watcher) in watchers.iter_mut().enumerate() {
        let mut truth = online.clone();
        truth.remove(&format!("watcher{index}"));
        View::default().settle(watcher, &truth).await;
    }
    node_a.shut_down().await;
    node_b.shut_down().await;
}

#[tokio::test]
async fn a_candidate_to_a_peer_whose_call_is_held_on_another_node_is_answered_peer_unavailable() {
    let redis = TestRedis::start();
    let node_a = TestServer::start_with(node_config(&redis)).await;
    let node_b = TestServer::start_with(node_config(&redis)).await;
    let (mut alice, _token) = login_keeping_calls(&node_a, "alice").await;
    let mut bob = node_b.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    // bob's node caches alice's connection for his candidates.
    bob.send_text(&candidate_to("alice")).await;
    assert_eq!(alice.receive_json().await["type"], "candidate");
    drop(alice);
    // Candidates only (no offer clears the cache): each goes to alice's dropped connection
    // until node A answers with a bounce; one server answers `peer_unavailable` too.
    wait_until_peer_unavailable(&mut bob, "alice").await;
    node_a.shut_down().await;
    node_b.shut_down().await;
}

/// Each node's (`duet_calls_ringing`, `duet_calls_active`).
async fn gauges(nodes: [&TestServer; 2]) -> Vec<(f64, f64)> {
    let mut seen = Vec::new();
    for node in nodes {
        let (_, metrics) = http_get(node.address, "/metrics", "").await;
        seen.push((metric_value(&metrics, "duet_calls_ringing"), metric_value(&metrics, "duet_calls_active")));
    }
    seen
}

#[tokio::test]
async fn a_candidate_to_a_peer_whose_call_is_held_on_the_same_node_is_answered_peer_unavailable_in_cluster_mode() {
    let redis = TestRedis::start();
    let node_a = TestServer::start_with(node_config(&redis)).await;
    let (mut alice, _token) = login_keeping_calls(&node_a, "alice").await;
    let mut bob = node_a.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    bob.send_text(&candidate_to("alice")).await;
    assert_eq!(alice.receive_json().await["type"], "candidate");
    drop(alice);
    wait_until_peer_unavailable(&mut bob, "alice").await;
    node_a.shut_down().await;
}

#[tokio::test]
async fn after_redis_restarts_empty_subscribers_catch_up_with_who_is_online() {
    let mut redis = TestRedis::start();
    let node_a = TestServer::start_with(node_config(&redis)).await;
    let node_b = TestServer::start_with(node_config(&redis)).await;
    let _carol = node_b.login("carol").await;
    let (mut alice, mut view) = watch(&node_a, "alice").await;
    view.settle(&mut alice, &BTreeSet::from(["carol".to_owned()])).await;

    redis.kill();
    redis.restart();
    // Sign-ins work again once node B has heartbeat; its names are re-claimed meanwhile.
    let mut bob = None;
    for _ in 0..400 {
        let mut client = node_b.connect().await;
        client.send_text(r#"{"type":"login","name":"bob"}"#).await;
        if client.receive_json().await["success"] == true {
            bob = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _bob = bob.expect("sign-ins work again after Redis is back");
    // alice's node resubscribed (a fresh snapshot) and heard carol re-claimed and bob.
    view.settle(&mut alice, &BTreeSet::from(["bob".to_owned(), "carol".to_owned()])).await;
    node_a.shut_down().await;
    node_b.shut_down().await;
}

#[tokio::test]
async fn every_node_reports_the_cluster_s_calls_ringing_and_active_never_a_negative_share() {
    let redis = TestRedis::start();
    let node_a = TestServer::start_with(node_config(&redis)).await;
    let node_b = TestServer::start_with(node_config(&redis)).await;
    let mut alice = node_a.login("alice").await;
    let mut bob = node_b.login("bob").await;
    alice.send_text(&format!(r#"{{"type":"offer","name":"bob","offer":{SDP_OFFER}}}"#)).await;
    assert_eq!(bob.receive_json().await["type"], "offer");
    assert_eq!(gauges([&node_a, &node_b]).await, [(1.0, 0.0), (1.0, 0.0)]);
    bob.send_text(&format!(r#"{{"type":"answer","name":"alice","answer":{SDP_ANSWER}}}"#)).await;
    assert_eq!(alice.receive_json().await["type"], "answer");
    assert_eq!(gauges([&node_a, &node_b]).await, [(0.0, 1.0), (0.0, 1.0)]);
    bob.send_text(r#"{"type":"leave","name":"alice"}"#).await;
    assert_eq!(alice.receive_json().await["type"], "leave");
    assert_eq!(gauges([&node_a, &node_b]).await, [(0.0, 0.0), (0.0, 0.0)]);
    // Nothing from the other node was dropped (the subscriber's queue is bounded).
    let (_, metrics) = http_get(node_a.address, "/metrics", "").await;
    assert_eq!(metric_value(&metrics, r#"duet_cluster_incoming_dropped_total{type="frames"}"#), 0.0, "{metrics}");
    node_a.shut_down().await;
    node_b.shut_down().await;
}
