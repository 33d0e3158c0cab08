//! Presence pushed, not polled: `presence_subscribe` gets a snapshot and then one `presence`
//! delta per sign-in and sign-out; classic clients get nothing new; `--presence-list none`
//! lists nobody and answers `presence_query`.

mod common;

use backend::config::PresenceList;
use backend::Config;
use common::server_binary::{login_at, start_server_binary};
use common::{Client, TestServer};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

/// Short on purpose: presence must arrive within a second, not at the next poll.
const PUSHED_WITHIN: Duration = Duration::from_secs(1);
const QUIET: Duration = Duration::from_millis(300);

async fn receive_within(client: &mut Client, limit: Duration) -> Value {
    let text = client.receive_text_within(limit).await;
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("server sent non-JSON {text:?}: {error}"))
}

/// Subscribes and returns the snapshot.
async fn subscribe(client: &mut Client) -> Value {
    client.send_text(r#"{"type":"presence_subscribe"}"#).await;
    let snapshot = client.receive_json().await;
    assert_eq!(snapshot["type"], "users", "{snapshot}");
    snapshot
}

#[tokio::test]
async fn hello_announces_presence_support() {
    let server = TestServer::start().await;
    let mut client = Client::connect_raw(&server.url("/")).await;
    let hello = client.receive_json().await;
    assert_eq!(hello["features"], json!(["presence", "presence_query", "resume_calls"]), "{hello}");
    server.shut_down().await;
}

#[tokio::test]
async fn subscriber_sees_a_join_at_once_and_a_leave_when_the_other_disconnects() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let carol = server.login("carol").await;
    assert_eq!(subscribe(&mut alice).await["users"], json!(["carol"]));

    let bob = server.login("bob").await;
    assert_eq!(receive_within(&mut alice, PUSHED_WITHIN).await, json!({"type":"presence","joined":["bob"]}));
    bob.close().await;
    assert_eq!(receive_within(&mut alice, PUSHED_WITHIN).await, json!({"type":"presence","left":["bob"]}));
    drop(carol);
    assert_eq!(receive_within(&mut alice, PUSHED_WITHIN).await, json!({"type":"presence","left":["carol"]}));
    alice.expect_silence(QUIET).await;
    server.shut_down().await;
}

#[tokio::test]
async fn resume_takeover_is_neither_a_join_nor_a_leave() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    subscribe(&mut alice).await;
    let mut bob = server.connect().await;
    bob.send_text(r#"{"type":"login","name":"bob"}"#).await;
    let token = bob.receive_json().await["resume"].as_str().expect("resume token").to_owned();
    assert_eq!(receive_within(&mut alice, PUSHED_WITHIN).await, json!({"type":"presence","joined":["bob"]}));

    let mut bob_again = server.connect().await;
    bob_again.send_text(&format!(r#"{{"type":"login","name":"bob","resume":"{token}"}}"#)).await;
    assert_eq!(bob_again.receive_json().await["success"], true);
    assert_eq!(bob.expect_closed(Duration::from_secs(5)).await, Some(protocol::close_codes::REPLACED_BY_NEW_LOGIN));
    alice.expect_silence(QUIET).await;
    bob_again.close().await;
    assert_eq!(receive_within(&mut alice, PUSHED_WITHIN).await, json!({"type":"presence","left":["bob"]}));
    server.shut_down().await;
}

#[tokio::test]
async fn classic_client_that_did_not_subscribe_receives_nothing_new() {
    let server = TestServer::start().await;
    let mut classic = server.login("classic").await;
    let bob = server.login("bob").await;
    bob.close().await;
    classic.expect_silence(QUIET).await;
    classic.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(classic.receive_json().await, json!({"type":"users","users":[]}));
    server.shut_down().await;
}

#[tokio::test]
async fn presence_list_none_lists_nobody_and_answers_queries() {
    let config = Config { presence_list: PresenceList::None, ..Config::default() };
    let server = TestServer::start_with(config).await;
    let mut alice = Client::connect_raw(&server.url("/")).await;
    let hello = alice.receive_json().await;
    assert_eq!(hello["features"], json!(["presence_query", "resume_calls"]), "{hello}");
    alice.send_text(r#"{"type":"login","name":"alice"}"#).await;
    assert_eq!(alice.receive_json().await["success"], true);
    let _bob = server.login("bob").await;

    alice.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(alice.receive_json().await, json!({"type":"users","users":[]}));
    assert_eq!(subscribe(&mut alice).await["users"], json!([]));
    let _carol = server.login("carol").await;
    alice.expect_silence(QUIET).await;

    alice.send_text(r#"{"type":"presence_query","names":["Bob","dave","carol","bob"]}"#).await;
    assert_eq!(alice.receive_json().await, json!({"type":"presence","online":["bob","carol"]}));
    server.shut_down().await;
}

#[tokio::test]
async fn presence_requests_need_a_sign_in() {
    let server = TestServer::start().await;
    let mut anonymous = server.connect().await;
    anonymous.send_text(r#"{"type":"presence_subscribe"}"#).await;
    assert_eq!(anonymous.receive_error_code().await, "not_logged_in");
    anonymous.send_text(r#"{"type":"presence_query","names":["bob"]}"#).await;
    assert_eq!(anonymous.receive_error_code().await, "not_logged_in");
    server.shut_down().await;
}

/// 10,000 signed-in subscribers on the real binary (its own process: the 10,000 client sockets
/// here and the server's 10,000 would not fit in one process's 20,000 descriptors), one more
/// person signs in: every subscriber gets exactly that one small delta, nobody is closed as slow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_at_scale_every_subscriber_gets_exactly_one_small_delta_per_join() {
    const SUBSCRIBERS: usize = 10_000;
    let per_address = (SUBSCRIBERS + 10).to_string();
    let (_server, address) =
        start_server_binary(&["--max-connections-per-ip", &per_address, "--max-connections", "19000"]);
    // Sign everybody in first, then subscribe: the sign-ins are not deltas to anybody.
    let mut clients: Vec<Client> = futures_util::stream::iter(0..SUBSCRIBERS)
        .map(|index| async move { login_at(address, &format!("user{index}")).await })
        .buffer_unordered(64)
        .collect()
        .await;
    futures_util::stream::iter(clients.iter_mut())
        .for_each_concurrent(64, |client| async move {
            subscribe(client).await;
        })
        .await;

    let _newcomer = login_at(address, "newcomer").await;
    let expected = r#"{"type":"presence","joined":["newcomer"]}"#;
    futures_util::stream::iter(clients.iter_mut())
        .for_each_concurrent(None, |client| async move {
            let delta = client.receive_text_within(Duration::from_secs(10)).await;
            assert_eq!(delta, expected);
            client.expect_silence(QUIET).await;
        })
        .await;
    // Nobody was closed as slow: every subscriber still gets the next delta.
    let _second = login_at(address, "second-newcomer").await;
    let expected = r#"{"type":"presence","joined":["second-newcomer"]}"#;
    futures_util::stream::iter(clients.iter_mut())
        .for_each_concurrent(None, |client| async move {
            assert_eq!(client.receive_text_within(Duration::from_secs(10)).await, expected);
        })
        .await;
    drop(clients);
}
