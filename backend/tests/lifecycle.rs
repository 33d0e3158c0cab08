//! Connection lifecycle: heartbeats, idle clients, clients that never read, resume tokens, and
//! graceful shutdown.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_client_that_stops_answering_pings_is_closed_and_its_peer_told_disconnected() {
    let config = backend::Config {
        heartbeat_interval: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(400),
        ..backend::Config::default()
    };
    let server = TestServer::start_with(config).await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;

    // bob's socket stays open but is never read again, so his pongs never come.
    let frozen_bob = bob;
    // alice keeps reading (and so answering pings) for well over the idle timeout.
    let leave = alice.receive_text_within(Duration::from_secs(5)).await;
    assert_eq!(leave, r#"{"type":"leave","name":"bob","reason":"disconnected"}"#);
    alice.expect_silence(Duration::from_millis(1000)).await;
    alice.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(alice.receive_text().await, r#"{"type":"users","users":[]}"#, "alice alive, bob's name freed");
    drop(frozen_bob);
    server.shut_down().await;
}

#[tokio::test]
async fn a_peer_that_never_reads_is_disconnected_when_its_queue_fills_and_memory_stays_bounded() {
    // Rate limiting off: this test floods on purpose to fill bob's queue.
    let config = backend::Config {
        idle_timeout: Duration::from_secs(60),
        rate_limit: 0,
        send_timeout: Duration::from_millis(300),
        ..backend::Config::default()
    };
    let server = TestServer::start_with(config).await;
    let alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    let mut alice = alice;
    connected_call(&mut alice, &mut bob).await;
    let never_reading_bob = bob;

    let (mut sink, mut stream) = alice.socket.split();
    let watcher = tokio::spawn(async move {
        loop {
            match stream.next().await {
                Some(Ok(Message::Text(text))) if text.contains(r#""type":"leave""#) => return text.to_string(),
                Some(Ok(_)) => continue,
                other => panic!("alice's connection ended: {other:?}"),
            }
        }
    });
    // 8 KiB candidates; loopback socket buffers hold some megabytes, the server's queue 64
    // frames: 64 MiB is far more than both, so the server must give up on bob well before.
    let big_candidate =
        format!(r#"{{"candidate":"candidate:{}","sdpMid":"0","sdpMLineIndex":0}}"#, "x".repeat(8 * 1024));
    let frame = format!(r#"{{"type":"candidate","name":"bob","candidate":{big_candidate}}}"#);
    let mut sent = 0;
    while !watcher.is_finished() && sent < 8 * 1024 {
        sink.send(Message::text(frame.clone())).await.expect("alice can always send");
        sent += 1;
    }
    let leave = tokio::time::timeout(RECEIVE_TIMEOUT, watcher).await.expect("leave arrives").expect("watcher ok");
    assert_eq!(leave, r#"{"type":"leave","name":"bob","reason":"disconnected"}"#, "after {sent} frames");
    assert!(sent < 8 * 1024, "bob was never disconnected");
    assert_eq!(server.state.directory.online_count().await.expect("in memory"), 1, "bob's name was freed");
    drop(never_reading_bob);
    server.shut_down().await;
}

#[tokio::test]
async fn graceful_shutdown_closes_every_connection_with_1012_so_clients_reconnect() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut anonymous = server.connect().await;
    let shutdown = tokio::spawn(server.shut_down());
    assert_eq!(alice.expect_closed(RECEIVE_TIMEOUT).await, Some(1012));
    assert_eq!(anonymous.expect_closed(RECEIVE_TIMEOUT).await, Some(1012));
    shutdown.await.expect("shutdown completes");
}

#[tokio::test]
async fn resume_token_takes_the_name_over_from_a_stale_connection() {
    let server = TestServer::start().await;
    let mut alice = server.connect().await;
    alice.send_text(r#"{"type":"login","name":"alice"}"#).await;
    let login = alice.receive_json().await;
    let token = login["resume"].as_str().expect("resume token").to_owned();
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;

    // A wrong token is refused as such.
    let mut thief = server.connect().await;
    thief.send_text(r#"{"type":"login","name":"alice","resume":"0000"}"#).await;
    assert_eq!(thief.receive_json().await["reason"], "resume_refused");

    // The right one takes over: the old connection is closed, bob's call with it ends.
    let mut alice_again = server.connect().await;
    alice_again.send_text(&format!(r#"{{"type":"login","name":"alice","resume":"{token}"}}"#)).await;
    let relogin = alice_again.receive_json().await;
    assert_eq!(relogin["success"], true, "{relogin}");
    assert_ne!(relogin["resume"].as_str(), Some(token.as_str()), "a fresh token each login");
    assert_eq!(alice.expect_closed(RECEIVE_TIMEOUT).await, Some(protocol::close_codes::REPLACED_BY_NEW_LOGIN));
    assert_eq!(bob.receive_text().await, r#"{"type":"leave","name":"alice","reason":"disconnected"}"#);

    // The new connection is alice, and the old one's clean-up did not free the name.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.state.directory.online_count().await.expect("in memory"), 2);
    connected_call(&mut alice_again, &mut bob).await;
    server.shut_down().await;
}
