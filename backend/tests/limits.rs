//! Abuse limits: each one holding, and honest traffic unaffected.

mod common;

use common::*;
use std::time::Duration;

#[tokio::test]
async fn regression_honest_bursts_larger_than_the_recipients_queue_are_delivered_not_disconnected() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    // A browser gathering on many interfaces sends a few dozen candidates at once, then
    // renegotiates; 150 messages in one burst is far beyond that.
    for index in 0..150 {
        let candidate = CANDIDATE.replace("46154", &format!("{}", 40_000 + index));
        alice.send_text(&format!(r#"{{"type":"candidate","name":"bob","candidate":{candidate}}}"#)).await;
    }
    for _ in 0..150 {
        assert_eq!(bob.receive_json().await["type"], "candidate");
    }
    alice.expect_silence(Duration::from_millis(50)).await;
    server.shut_down().await;
}

#[tokio::test]
async fn a_flood_gets_rate_limited_then_closed_with_1008_while_others_are_unaffected() {
    let config = backend::Config { rate_limit: 5, rate_burst: 10, ..backend::Config::default() };
    let server = TestServer::start_with(config).await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    let mut flooder = server.login("flooder").await;
    // 10 allowed (the login used one token), then refused: one error, then silence, then closed.
    for _ in 0..80 {
        flooder.send_text(r#"{"type":"users"}"#).await;
    }
    let mut users_replies = 0;
    let code = loop {
        let reply = flooder.receive_json().await;
        match reply["type"].as_str() {
            Some("users") => users_replies += 1,
            Some("error") => break reply["code"].as_str().unwrap_or_default().to_owned(),
            _ => panic!("unexpected {reply}"),
        }
    };
    assert_eq!(code, "rate_limited");
    assert_eq!(users_replies, 9, "the burst minus the login");
    assert_eq!(flooder.expect_closed(RECEIVE_TIMEOUT).await, Some(1008));
    // The others never noticed.
    connected_call(&mut alice, &mut bob).await;
    let (_, metrics) = http_get(server.address, "/metrics", "").await;
    assert!(metric_value(&metrics, "duet_rate_limited_total") >= 50.0, "{metrics}");
    assert_eq!(metric_value(&metrics, "duet_connections_closed_total{reason=\"rate_limit\"}"), 1.0);
    server.shut_down().await;
}

#[tokio::test]
async fn connections_beyond_the_total_limit_are_refused_with_503_until_one_closes() {
    let config = backend::Config { max_connections: 3, ..backend::Config::default() };
    let server = TestServer::start_with(config).await;
    let first = server.connect().await;
    let _second = server.connect().await;
    let _third = server.connect().await;
    assert_eq!(try_connect_with_headers(&server.url("/"), &[]).await.err(), Some(503));
    first.close().await;
    // The place frees once the server has noticed the close.
    let mut admitted = None;
    for _ in 0..100 {
        if let Ok(client) = try_connect_with_headers(&server.url("/ws"), &[]).await {
            admitted = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(admitted.is_some(), "a closed connection's place was never freed");
    server.shut_down().await;
}

#[tokio::test]
async fn connections_beyond_the_per_address_limit_are_refused_but_other_addresses_are_not() {
    let config = backend::Config { max_connections_per_ip: 2, ..backend::Config::default() };
    let server = TestServer::start_with(config).await;
    let _first = server.connect().await;
    let _second = server.connect().await;
    assert_eq!(try_connect_with_headers(&server.url("/"), &[]).await.err(), Some(503));
    // From another loopback address.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.2:0".parse().expect("address")).expect("bind 127.0.0.2");
    let stream = socket.connect(server.address).await.expect("connect from 127.0.0.2");
    let (mut other, _) =
        tokio_tungstenite::client_async(server.url("/"), stream).await.expect("admitted from 127.0.0.2");
    use futures_util::StreamExt;
    let hello = other.next().await.expect("a frame").expect("ok frame");
    assert!(hello.to_text().expect("text").contains("\"hello\""));
    server.shut_down().await;
}

#[tokio::test]
async fn a_connection_that_never_signs_in_is_closed_after_the_login_timeout() {
    let config = backend::Config { login_timeout: Duration::from_millis(300), ..backend::Config::default() };
    let server = TestServer::start_with(config).await;
    let mut signed_in = server.login("alice").await;
    let mut lurker = server.connect().await;
    let started = tokio::time::Instant::now();
    assert_eq!(lurker.expect_closed(RECEIVE_TIMEOUT).await, Some(1008));
    assert!(started.elapsed() >= Duration::from_millis(200), "closed too early");
    signed_in.expect_silence(Duration::from_millis(300)).await;
    signed_in.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(signed_in.receive_json().await["type"], "users", "signed-in connections stay");
    server.shut_down().await;
}

#[tokio::test]
async fn browser_origins_are_checked_and_clients_without_origin_allowed() {
    let server = TestServer::start().await;
    let url = server.url("/ws");
    assert!(try_connect_with_headers(&url, &[]).await.is_ok(), "no Origin: wscat, scripts");
    assert!(try_connect_with_headers(&url, &[("origin", "http://localhost:8080")]).await.is_ok(), "development");
    let same_host = format!("http://{}", server.address);
    assert!(try_connect_with_headers(&url, &[("origin", same_host.as_str())]).await.is_ok(), "the app served here");
    assert_eq!(try_connect_with_headers(&url, &[("origin", "https://evil.example")]).await.err(), Some(403));
    let (_, metrics) = http_get(server.address, "/metrics", "").await;
    assert_eq!(metric_value(&metrics, "duet_connections_refused_total{reason=\"origin_not_allowed\"}"), 1.0);
    server.shut_down().await;

    let config =
        backend::Config { allowed_origins: vec!["https://app.example.com".into()], ..backend::Config::default() };
    let server = TestServer::start_with(config).await;
    let url = server.url("/");
    assert!(try_connect_with_headers(&url, &[("origin", "https://app.example.com")]).await.is_ok());
    assert_eq!(try_connect_with_headers(&url, &[("origin", "http://localhost:8080")]).await.err(), Some(403));
    server.shut_down().await;
}

#[tokio::test]
async fn healthz_answers_and_metrics_count_a_real_call() {
    let server = TestServer::start().await;
    assert_eq!(http_get(server.address, "/healthz", "").await, (200, "ok\n".to_owned()));

    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    alice.send_text(&format!(r#"{{"type":"offer","name":"bob","offer":{SDP_OFFER}}}"#)).await;
    bob.receive_json().await;
    let (_, ringing) = http_get(server.address, "/metrics", "").await;
    assert_eq!(metric_value(&ringing, "duet_calls_ringing"), 1.0);
    assert_eq!(metric_value(&ringing, "duet_calls_active"), 0.0);

    bob.send_text(&format!(r#"{{"type":"answer","name":"alice","answer":{SDP_ANSWER}}}"#)).await;
    alice.receive_json().await;
    for _ in 0..3 {
        alice.send_text(&format!(r#"{{"type":"candidate","name":"bob","candidate":{CANDIDATE}}}"#)).await;
        bob.receive_json().await;
    }
    alice.send_text("not json").await;
    alice.receive_json().await;
    let (status, active) = http_get(server.address, "/metrics", "").await;
    assert_eq!(status, 200);
    assert_eq!(metric_value(&active, "duet_connections"), 2.0);
    assert_eq!(metric_value(&active, "duet_users_online"), 2.0);
    assert_eq!(metric_value(&active, "duet_calls_ringing"), 0.0);
    assert_eq!(metric_value(&active, "duet_calls_active"), 1.0);
    assert_eq!(metric_value(&active, "duet_messages_relayed_total{type=\"offer\"}"), 1.0);
    assert_eq!(metric_value(&active, "duet_messages_relayed_total{type=\"answer\"}"), 1.0);
    assert_eq!(metric_value(&active, "duet_messages_relayed_total{type=\"candidate\"}"), 3.0);
    assert_eq!(metric_value(&active, "duet_errors_total{code=\"invalid_json\"}"), 1.0);

    alice.send_text(r#"{"type":"leave","name":"bob"}"#).await;
    bob.receive_json().await;
    bob.close().await;
    alice.expect_silence(Duration::from_millis(100)).await;
    let (_, after) = http_get(server.address, "/metrics", "").await;
    assert_eq!(metric_value(&after, "duet_calls_active"), 0.0);
    assert_eq!(metric_value(&after, "duet_users_online"), 1.0);
    assert_eq!(metric_value(&after, "duet_messages_relayed_total{type=\"leave\"}"), 1.0);
    server.shut_down().await;
}

#[tokio::test]
async fn oversized_frames_are_counted_in_metrics() {
    let server = TestServer::start().await;
    let mut big = server.connect().await;
    big.send_text(&"x".repeat(70_000)).await;
    assert_eq!(big.expect_closed(RECEIVE_TIMEOUT).await, Some(1009));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (_, metrics) = http_get(server.address, "/metrics", "").await;
    assert_eq!(metric_value(&metrics, "duet_connections_closed_total{reason=\"frame_too_large\"}"), 1.0);
    server.shut_down().await;
}

#[tokio::test]
async fn regression_two_peers_bursting_at_each_other_both_get_everything() {
    let config = backend::Config { rate_limit: 0, ..backend::Config::default() };
    let server = TestServer::start_with(config).await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    // Each sends far more than a queue holds before reading anything.
    for index in 0..300 {
        let candidate = CANDIDATE.replace("46154", &format!("{}", 30_000 + index));
        alice.send_text(&format!(r#"{{"type":"candidate","name":"bob","candidate":{candidate}}}"#)).await;
        bob.send_text(&format!(r#"{{"type":"candidate","name":"alice","candidate":{candidate}}}"#)).await;
    }
    for index in 0..300 {
        let port = format!("{}", 30_000 + index);
        assert!(alice.receive_text().await.contains(&port), "alice's candidate {index} in order");
        assert!(bob.receive_text().await.contains(&port), "bob's candidate {index} in order");
    }
    server.shut_down().await;
}

#[tokio::test]
async fn regression_a_burst_of_requests_gets_every_reply_even_beyond_the_queue_size() {
    let server = TestServer::start().await;
    let mut carol = server.login("carol").await;
    for _ in 0..150 {
        carol.send_text(r#"{"type":"users"}"#).await;
    }
    for _ in 0..150 {
        assert_eq!(carol.receive_json().await["type"], "users");
    }
    server.shut_down().await;
}

#[tokio::test]
async fn regression_a_ping_flood_is_rate_limited_like_any_other_frames() {
    // The default 15 s login deadline is longer than the wait below: only the rate limit can
    // close the flooder in time.
    let server = TestServer::start().await;
    let flooder = server.connect().await;
    use futures_util::{SinkExt, StreamExt};
    let (mut sink, mut stream) = flooder.socket.split();
    let pinger = tokio::spawn(async move {
        for _ in 0..200_000 {
            if sink.send(tokio_tungstenite::tungstenite::Message::Ping(Default::default())).await.is_err() {
                return;
            }
        }
    });
    let close = tokio::time::timeout(RECEIVE_TIMEOUT, async {
        while let Some(frame) = stream.next().await {
            if let Ok(tokio_tungstenite::tungstenite::Message::Close(frame)) = frame {
                return frame.map(|frame| u16::from(frame.code));
            }
        }
        None
    })
    .await
    .expect("a ping flood must not keep a connection open");
    // The server reads and ignores the rest of the flood for a moment after its close frame,
    // so no reset overtakes it.
    assert_eq!(close, Some(1008), "closed for policy");
    pinger.abort();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (_, metrics) = http_get(server.address, "/metrics", "").await;
    assert_eq!(metric_value(&metrics, "duet_connections_closed_total{reason=\"rate_limit\"}"), 1.0, "{metrics}");
    server.shut_down().await;
}

#[tokio::test]
async fn a_refused_origin_is_quoted_not_echoed_whole() {
    let server = TestServer::start().await;
    let origin = format!("https://{}.example", "x".repeat(6000));
    let headers = format!(
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n"
    );
    let (status, body) = http_get(server.address, "/ws", &headers).await;
    assert_eq!(status, 403);
    assert!(body.len() < 300, "a {}-byte answer: {body:.200}", body.len());
    assert!(body.contains("https://xxxx") && body.contains('…'), "{body}");
    server.shut_down().await;
}
