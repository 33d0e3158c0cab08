//! Memory queued for clients that do not read: bounded per client in bytes (not only in frames)
//! and server-wide, where the slowest readers are closed first.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// `caller` (a normal client) in a call with `callee`, a raw client with a small receive buffer
/// that never reads again.
async fn call_a_client_that_never_reads(server: &TestServer, caller: &str, callee: &str) -> (Client, RawClient) {
    let mut never_reads = RawClient::connect_with_receive_buffer(server.address, Some(4096)).await;
    never_reads
        .send_frame(true, OPCODE_TEXT, format!(r#"{{"type":"login","name":"{callee}"}}"#).as_bytes())
        .await
        .expect("login");
    let mut calling = server.login(caller).await;
    calling.send_text(&format!(r#"{{"type":"offer","name":"{callee}","offer":{SDP_OFFER}}}"#)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let answer = format!(r#"{{"type":"answer","name":"{caller}","answer":{SDP_ANSWER}}}"#);
    never_reads.send_frame(true, OPCODE_TEXT, answer.as_bytes()).await.expect("answer");
    assert_eq!(calling.receive_json().await["type"], "answer");
    (calling, never_reads)
}

fn big_candidate_to(name: &str) -> String {
    let candidate = format!(r#"{{"candidate":"candidate:{}","sdpMid":"0"}}"#, "y".repeat(8 * 1024));
    format!(r#"{{"type":"candidate","name":"{name}","candidate":{candidate}}}"#)
}

async fn queued_bytes(server: &TestServer) -> f64 {
    metric_value(&http_get(server.address, "/metrics", "").await.1, "duet_queued_bytes")
}

#[tokio::test]
async fn queued_bytes_are_bounded_per_client_and_server_wide() {
    // Per client: 64 KiB, whatever the frame count allows (64 frames of 8 KiB would be 512 KiB).
    let config = backend::Config {
        rate_limit: 0,
        outbox_bytes: 64 * 1024,
        send_timeout: Duration::from_secs(3),
        max_queued_bytes: 0,
        ..backend::Config::default()
    };
    let server = TestServer::start_with(config).await;
    let (alice, bob) = call_a_client_that_never_reads(&server, "alice", "bob").await;
    let (mut sink, stream) = alice.socket.split();
    let frame = big_candidate_to("bob");
    let flood = tokio::spawn(async move {
        for _ in 0..4000 {
            if sink.send(Message::text(frame.clone())).await.is_err() {
                return;
            }
        }
    });
    let mut most_queued = 0.0_f64;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        most_queued = most_queued.max(queued_bytes(&server).await);
    }
    flood.abort();
    drop((bob, stream));
    // The queue, plus the batch being written, plus one frame.
    let bound = (2 * 64 + 9) as f64 * 1024.0;
    assert!(most_queued > 32.0 * 1024.0, "the flood never filled bob's queue ({most_queued} bytes)");
    assert!(most_queued <= bound, "{most_queued} bytes queued for one client");
    server.shut_down().await;

    // Server-wide: 256 KiB for everyone; per client far more.
    let config = backend::Config {
        rate_limit: 0,
        outbox_capacity: 100_000,
        outbox_bytes: 64 * 1024 * 1024,
        send_timeout: Duration::from_secs(3),
        max_queued_bytes: 256 * 1024,
        ..backend::Config::default()
    };
    let server = TestServer::start_with(config).await;
    let (mut carol, dave) = call_a_client_that_never_reads(&server, "carol", "dave").await;
    for _ in 0..4 {
        carol.send_text(&big_candidate_to("dave")).await;
    }
    let (alice, bob) = call_a_client_that_never_reads(&server, "alice", "bob").await;
    let (mut sink, mut stream) = alice.socket.split();
    let watcher = tokio::spawn(async move {
        while let Some(Ok(frame)) = stream.next().await {
            if frame.to_text().is_ok_and(|text| text.contains(r#""type":"leave""#)) {
                return frame.to_text().unwrap_or_default().to_owned();
            }
        }
        panic!("alice lost her connection");
    });
    let frame = big_candidate_to("bob");
    // Well before the 3 s send timeout would close bob anyway.
    let leave = tokio::time::timeout(Duration::from_millis(1500), async {
        while !watcher.is_finished() {
            if sink.send(Message::text(frame.clone())).await.is_err() {
                break;
            }
        }
        watcher.await.expect("watcher")
    })
    .await
    .expect("bob, with the most bytes queued, is closed when the server-wide budget is reached");
    assert_eq!(leave, r#"{"type":"leave","name":"bob","reason":"disconnected"}"#);
    carol.expect_silence(Duration::from_millis(300)).await;
    assert_eq!(server.state.directory.online_count().await.expect("in memory"), 3, "dave, with little queued, stays");
    assert!(queued_bytes(&server).await <= (256 + 9) as f64 * 1024.0);
    let (_, metrics) = http_get(server.address, "/metrics", "").await;
    assert_eq!(metric_value(&metrics, "duet_connections_closed_total{reason=\"slow_consumer\"}"), 1.0);
    drop((bob, dave, sink));
    server.shut_down().await;
}
