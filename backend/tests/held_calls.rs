//! Held calls (issue 10), against the real server: what ends a hold besides the grace period,
//! who may take an away name, and the takeover of a connection the server still holds.

mod common;

use common::resume::*;
use common::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn the_peers_leave_during_a_hold_ends_the_call_and_frees_the_away_name_with_presence_left() {
    let server = TestServer::start().await;
    let (mut alice, _) = login_keeping_calls(&server, "alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    let mut carol = presence_watcher(&server, "carol").await;
    drop(alice);
    wait_until_peer_unavailable(&mut bob, "alice").await;
    bob.send_text(r#"{"type":"leave","name":"alice"}"#).await;
    assert_eq!(carol.receive_json().await, json!({"type": "presence", "left": ["alice"]}));
    // The name alice is free for anyone.
    let _new_alice = server.login("alice").await;
    let metrics = http_get(server.address, "/metrics", "").await.1;
    assert_eq!(metric_value(&metrics, "duet_users_online"), 3.0);
    assert_eq!(metric_value(&metrics, "duet_calls_active"), 0.0);
    server.shut_down().await;
}

#[tokio::test]
async fn nobody_else_may_sign_in_with_the_name_of_a_side_that_is_away() {
    let server = TestServer::start().await;
    let (mut alice, _) = login_keeping_calls(&server, "alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    drop(alice);
    wait_until_peer_unavailable(&mut bob, "alice").await;
    let mut impostor = server.connect().await;
    impostor.send_text(r#"{"type":"login","name":"Alice"}"#).await;
    assert_eq!(impostor.receive_json().await["reason"], "taken");
    bob.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(bob.receive_json().await, json!({"type": "users", "users": ["alice"]}), "alice is still online");
    server.shut_down().await;
}

#[tokio::test]
async fn a_takeover_of_a_still_open_connection_naming_the_peer_keeps_the_call_and_closes_the_old_one_with_4001() {
    let server = TestServer::start().await;
    let (mut alice, token) = login_keeping_calls(&server, "alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    let mut alice_again = server.connect().await;
    alice_again.send_text(&resume_login("alice", &token, Some("bob"))).await;
    assert_eq!(alice_again.receive_json().await["success"], true);
    assert_eq!(alice_again.receive_json().await, json!({"type": "call_resumed", "name": "bob"}));
    assert_eq!(bob.receive_json().await, json!({"type": "call_resumed", "name": "alice"}));
    assert_eq!(alice.expect_closed(RECEIVE_TIMEOUT).await, Some(protocol::close_codes::REPLACED_BY_NEW_LOGIN));
    bob.send_text(&candidate_to("alice")).await;
    assert_eq!(alice_again.receive_json().await["type"], "candidate");
    bob.expect_silence(Duration::from_millis(200)).await;
    server.shut_down().await;
}

#[tokio::test]
async fn signing_back_in_without_in_call_with_ends_the_held_call_for_the_peer_with_disconnected() {
    let server = TestServer::start().await;
    let (mut alice, token) = login_keeping_calls(&server, "alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    drop(alice);
    wait_until_peer_unavailable(&mut bob, "alice").await;
    let mut alice = server.connect().await;
    alice.send_text(&resume_login("alice", &token, None)).await;
    assert_eq!(alice.receive_json().await["success"], true);
    assert_eq!(bob.receive_text().await, r#"{"type":"leave","name":"alice","reason":"disconnected"}"#);
    alice.expect_silence(Duration::from_millis(200)).await;
    server.shut_down().await;
}

#[tokio::test]
async fn a_ringing_call_of_a_client_that_keeps_calls_still_ends_with_disconnected_when_it_drops() {
    let server = TestServer::start().await;
    let (mut alice, _) = login_keeping_calls(&server, "alice").await;
    let mut bob = server.login("bob").await;
    alice.send_text(&format!(r#"{{"type":"offer","name":"bob","offer":{SDP_OFFER}}}"#)).await;
    assert_eq!(bob.receive_json().await["type"], "offer");
    drop(alice);
    assert_eq!(bob.receive_text().await, r#"{"type":"leave","name":"alice","reason":"disconnected"}"#);
    server.shut_down().await;
}
