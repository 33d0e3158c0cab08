//! Frames below the message level: every kind counts against the rate limit, refusals within a
//! window close the connection, bad frames get their close code, and every close frame can be
//! read, even by a client that is still writing.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn metrics_of(server: &TestServer) -> String {
    // The connection task counts its close after the close frame went out.
    tokio::time::sleep(Duration::from_millis(50)).await;
    http_get(server.address, "/metrics", "").await.1
}

#[tokio::test]
async fn empty_continuation_fragments_are_rate_limited() {
    let server = TestServer::start().await;
    let mut flooder = RawClient::connect(server.address).await;
    flooder.send_frame(false, OPCODE_TEXT, b"{").await.expect("first fragment");
    let RawClient { mut reader, mut writer } = flooder;
    let batch: Vec<u8> = (0..1000).flat_map(|_| RawClient::frame(false, OPCODE_CONTINUATION, b"")).collect();
    let flood = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let started = tokio::time::Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if writer.write_all(&batch).await.is_err() {
                return;
            }
        }
    });
    assert_eq!(read_until_close(&mut reader, Duration::from_secs(5)).await, RawEnding::Closed(1008));
    flood.abort();
    let metrics = metrics_of(&server).await;
    assert_eq!(metric_value(&metrics, "duet_connections_closed_total{reason=\"rate_limit\"}"), 1.0, "{metrics}");
    assert!(metric_value(&metrics, "duet_rate_limited_total") > 50.0, "{metrics}");
    server.shut_down().await;
}

#[tokio::test]
async fn refusals_within_a_window_close_the_connection_below_2500_messages_per_second() {
    let config = backend::Config { rate_limit: 5, rate_burst: 10, ..backend::Config::default() };
    let server = TestServer::start_with(config).await;
    let client = server.login("steady").await;
    let (mut sink, mut stream) = client.socket.split();
    // 200 a second: far below the ~2,500 a second at which "50 refused in a row" ever fired.
    let sender = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(5));
        loop {
            every.tick().await;
            if sink.send(Message::text(r#"{"type":"users"}"#)).await.is_err() {
                return;
            }
        }
    });
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(frame) = stream.next().await {
            if let Ok(Message::Close(frame)) = frame {
                return frame.map(|frame| u16::from(frame.code));
            }
        }
        None
    })
    .await
    .expect("a client over the rate for seconds must be closed");
    sender.abort();
    assert_eq!(close, Some(1008));
    server.shut_down().await;
}

#[tokio::test]
async fn a_refused_ping_gets_no_pong() {
    let config = backend::Config { rate_limit: 1, rate_burst: 3, ..backend::Config::default() };
    let server = TestServer::start_with(config).await;
    let mut client = server.login("pinger").await;
    // The login took one of the 3 tokens: the first two pings pass, the others are refused.
    for index in 0..10 {
        client.send_message(Message::Ping(format!("ping-{index}").into_bytes().into())).await;
    }
    let mut pongs = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, client.socket.next()).await {
        if let Message::Pong(payload) = frame {
            pongs.push(String::from_utf8_lossy(&payload).into_owned());
        }
    }
    assert!(pongs.contains(&"ping-0".to_owned()), "an allowed ping is answered: {pongs:?}");
    assert!(!pongs.contains(&"ping-9".to_owned()), "a refused ping got a pong: {pongs:?}");
    assert!(pongs.len() <= 3, "refused pings got pongs: {pongs:?}");
    let metrics = metrics_of(&server).await;
    assert!(metric_value(&metrics, "duet_rate_limited_total") >= 7.0, "{metrics}");
    server.shut_down().await;
}

#[tokio::test]
async fn invalid_utf8_closes_with_1007() {
    let server = TestServer::start().await;
    let mut client = RawClient::connect(server.address).await;
    client.send_frame(true, OPCODE_TEXT, &[b'{', 0xC3, 0x28, b'}']).await.expect("send");
    assert_eq!(client.read_until_close(RECEIVE_TIMEOUT).await, RawEnding::Closed(1007));
    // Split across fragments too.
    let mut client = RawClient::connect(server.address).await;
    client.send_frame(false, OPCODE_TEXT, &[b'"', 0xE2, 0x82]).await.expect("send");
    client.send_frame(true, OPCODE_CONTINUATION, &[0x28, b'"']).await.expect("send");
    assert_eq!(client.read_until_close(RECEIVE_TIMEOUT).await, RawEnding::Closed(1007));
    let metrics = metrics_of(&server).await;
    assert_eq!(metric_value(&metrics, "duet_connections_closed_total{reason=\"invalid_utf8\"}"), 2.0);
    server.shut_down().await;
}

#[tokio::test]
async fn a_protocol_error_closes_with_1002() {
    let server = TestServer::start().await;
    let continuation_of_nothing = RawClient::frame(true, OPCODE_CONTINUATION, b"x");
    let mut reserved_bit = RawClient::frame(true, OPCODE_TEXT, b"{}");
    reserved_bit[0] |= 0x40;
    let mut unmasked = vec![0x81, 2];
    unmasked.extend_from_slice(b"{}");
    let fragmented_ping = RawClient::frame(false, OPCODE_PING, b"");
    for bad_frame in [continuation_of_nothing, reserved_bit, unmasked, fragmented_ping] {
        let mut client = RawClient::connect(server.address).await;
        client.send_raw(&bad_frame).await.expect("send");
        assert_eq!(client.read_until_close(RECEIVE_TIMEOUT).await, RawEnding::Closed(1002), "{bad_frame:02x?}");
    }
    let metrics = metrics_of(&server).await;
    assert_eq!(metric_value(&metrics, "duet_connections_closed_total{reason=\"protocol_error\"}"), 4.0);
    server.shut_down().await;
}

/// Sends `count` requests whose error replies the client does not read yet: with a small receive
/// buffer, they fill it and wait in the server's send queue, where a reset would discard them
/// and the close frame behind them.
async fn leave_replies_unread(client: &mut RawClient, count: usize) {
    let request = format!(r#"{{"type":"{}"}}"#, "x".repeat(60));
    for _ in 0..count {
        client.send_frame(true, OPCODE_TEXT, request.as_bytes()).await.expect("send");
    }
}

#[tokio::test]
async fn the_close_frame_after_1009_is_readable_by_a_client_still_writing() {
    let server = TestServer::start().await;
    let mut client = RawClient::connect_with_receive_buffer(server.address, Some(4096)).await;
    leave_replies_unread(&mut client, 100).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A frame over the limit, and the client goes on writing its payload for a while.
    client.send_raw(&RawClient::header(true, OPCODE_TEXT, 1 << 20)).await.expect("send header");
    let writing_until = tokio::time::Instant::now() + Duration::from_millis(300);
    while tokio::time::Instant::now() < writing_until {
        if client.send_raw(&[b'x'; 4096]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(client.read_until_close(RECEIVE_TIMEOUT).await, RawEnding::Closed(1009));
    server.shut_down().await;
}

#[tokio::test]
async fn every_client_gets_1012_at_shutdown() {
    // Rate limit off: the clients below write without pause.
    let config = backend::Config { rate_limit: 0, ..backend::Config::default() };
    let server = TestServer::start_with(config).await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut client = RawClient::connect_with_receive_buffer(server.address, Some(4096)).await;
        leave_replies_unread(&mut client, 100).await;
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut readers = Vec::new();
    for RawClient { mut reader, mut writer } in clients {
        readers.push(tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            // Still writing when the server shuts down; reading only later.
            let pong = RawClient::frame(true, OPCODE_PONG, b"");
            let writing_until = tokio::time::Instant::now() + Duration::from_millis(400);
            while tokio::time::Instant::now() < writing_until {
                if writer.write_all(&pong).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            read_until_close(&mut reader, RECEIVE_TIMEOUT).await
        }));
    }
    let shutdown = tokio::spawn(server.shut_down());
    for reader in readers {
        assert_eq!(reader.await.expect("reader"), RawEnding::Closed(1012));
    }
    shutdown.await.expect("shutdown completes");
}
