//! Denial of service before the WebSocket upgrade: silent and half-sent requests, oversized
//! heads, connections counted from `accept`, `/healthz` when the limit is full, and a shutdown
//! that no client can hold up.

mod common;

use backend::{Config, SHUTDOWN_DRAIN_TIMEOUT};
use common::*;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const SHORT_HEAD_TIMEOUT: Duration = Duration::from_millis(300);
/// Longer than any test: only the server's other rules can close a connection in time.
const LONG_HEAD_TIMEOUT: Duration = Duration::from_secs(60);

/// The sockets here stay silent on purpose, to see what the server does with them once it has
/// accepted them: `--defer-accept 0` hands them over at once (the last test has it on).
fn config(request_head_timeout: Duration) -> Config {
    Config { request_head_timeout, defer_accept: Duration::ZERO, ..Config::default() }
}

async fn connect_from(source: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(format!("{source}:0").parse().expect("source address")).expect("bind the source address");
    socket.connect(server).await.expect("TCP connect")
}

/// Reads until the server closes the connection (end of stream or reset) and returns what came.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => panic!("the connection is still open after {limit:?} (received {received:?})"),
            Ok(Ok(0) | Err(_)) => return received,
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
        }
    }
}

/// Waits until the server counts `expected` open TCP connections.
async fn wait_for_open_connections(server: &TestServer, expected: usize) {
    for _ in 0..500 {
        if server.state.connection_limiter.open_connections() == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server counts {} connections, expected {expected}", server.state.connection_limiter.open_connections());
}

fn status_of(response: &[u8]) -> Option<u16> {
    std::str::from_utf8(response.get(9..12)?).ok()?.parse().ok()
}

#[tokio::test]
async fn silent_tcp_connections_are_closed_after_the_request_head_deadline() {
    let server = TestServer::start_with(config(SHORT_HEAD_TIMEOUT)).await;
    let started = tokio::time::Instant::now();
    let mut silent: Vec<TcpStream> = Vec::new();
    for _ in 0..5 {
        silent.push(TcpStream::connect(server.address).await.expect("connect"));
    }
    for stream in &mut silent {
        assert!(read_until_closed(stream, RECEIVE_TIMEOUT).await.is_empty(), "nothing is answered to silence");
    }
    assert!(started.elapsed() >= SHORT_HEAD_TIMEOUT, "closed before the deadline");
    wait_for_open_connections(&server, 0).await;
    let (_, metrics) = http_get(server.address, "/metrics", "").await;
    assert_eq!(metric_value(&metrics, "duet_connections_refused_total{reason=\"request_head_timeout\"}"), 5.0);
    server.shut_down().await;
}

#[tokio::test]
async fn half_sent_request_heads_are_closed_after_the_request_head_deadline() {
    let server = TestServer::start_with(config(SHORT_HEAD_TIMEOUT)).await;
    let mut slow = TcpStream::connect(server.address).await.expect("connect");
    slow.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nX-Slow: ").await.expect("write");
    // Trickling bytes does not extend the deadline.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        slow.write_all(b"a").await.expect("trickle");
    }
    read_until_closed(&mut slow, RECEIVE_TIMEOUT).await;
    wait_for_open_connections(&server, 0).await;
    server.shut_down().await;
}

#[tokio::test]
async fn a_keep_alive_connection_that_goes_silent_after_a_request_is_closed_after_the_head_deadline() {
    let server = TestServer::start_with(config(SHORT_HEAD_TIMEOUT)).await;
    let mut idle = TcpStream::connect(server.address).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("write");
    let response = read_until_closed(&mut idle, RECEIVE_TIMEOUT).await;
    assert_eq!(status_of(&response), Some(200), "{}", String::from_utf8_lossy(&response));
    assert!(response.ends_with(b"ok\n"));
    wait_for_open_connections(&server, 0).await;
    server.shut_down().await;
}

#[tokio::test]
async fn a_request_head_over_the_size_cap_is_refused() {
    let server = TestServer::start_with(config(LONG_HEAD_TIMEOUT)).await;
    let mut large = TcpStream::connect(server.address).await.expect("connect");
    let padding = "a".repeat(24 * 1024);
    let request = format!("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: {padding}\r\n\r\n");
    // The server may close before it has read everything.
    let _ = large.write_all(request.as_bytes()).await;
    let response = read_until_closed(&mut large, RECEIVE_TIMEOUT).await;
    // 431, unless the close (with unread bytes: a reset) overtook it; never served.
    assert!(response.is_empty() || status_of(&response) == Some(431), "{}", String::from_utf8_lossy(&response));
    let (_, metrics) = http_get(server.address, "/metrics", "").await;
    assert_eq!(metric_value(&metrics, "duet_connections_refused_total{reason=\"request_head_too_large\"}"), 1.0);
    // A head under the cap is served as usual.
    let padding = "a".repeat(8 * 1024);
    assert_eq!(http_get(server.address, "/healthz", &format!("X-Padding: {padding}\r\n")).await.0, 200);
    server.shut_down().await;
}

#[tokio::test]
async fn accepted_but_not_upgraded_connections_count_against_the_per_address_limit() {
    let config = Config { max_connections_per_ip: 3, ..config(LONG_HEAD_TIMEOUT) };
    let server = TestServer::start_with(config).await;
    let mut silent: Vec<TcpStream> = Vec::new();
    for _ in 0..3 {
        silent.push(TcpStream::connect(server.address).await.expect("connect"));
    }
    wait_for_open_connections(&server, 3).await;
    assert_eq!(try_connect_with_headers(&server.url("/ws"), &[]).await.err(), Some(503));
    // Others are not affected.
    let stream = connect_from("127.0.0.2", server.address).await;
    let (mut other, _) = tokio_tungstenite::client_async(server.url("/"), stream).await.expect("from 127.0.0.2");
    use futures_util::StreamExt;
    assert!(other.next().await.expect("a frame").expect("ok").to_text().expect("text").contains("hello"));
    // A silent connection's place frees when it closes, and the upgraded WebSocket keeps the
    // permit its TCP connection took (not counted twice).
    drop(silent.pop());
    wait_for_open_connections(&server, 3).await;
    let _client = server.connect().await;
    wait_for_open_connections(&server, 4).await;
    drop(silent);
    wait_for_open_connections(&server, 2).await;
    let (_, metrics) = http_get(server.address, "/metrics", "").await;
    assert_eq!(metric_value(&metrics, "duet_connections"), 2.0, "WebSockets");
    assert_eq!(metric_value(&metrics, "duet_connections_refused_total{reason=\"too_many_from_address\"}"), 1.0);
    server.shut_down().await;
}

#[tokio::test]
async fn healthz_still_answers_when_the_connection_limit_is_full_of_silent_sockets() {
    let config = Config { max_connections: 4, max_connections_per_ip: 0, ..config(LONG_HEAD_TIMEOUT) };
    let server = TestServer::start_with(config).await;
    let mut silent: Vec<TcpStream> = Vec::new();
    for _ in 0..4 {
        silent.push(TcpStream::connect(server.address).await.expect("connect"));
    }
    wait_for_open_connections(&server, 4).await;
    assert_eq!(http_get(server.address, "/healthz", "").await, (200, "ok\n".to_owned()));
    let (status, body) = http_get(server.address, "/", "").await;
    assert_eq!(status, 503);
    assert!(body.contains("The server is full"), "{body}");
    assert_eq!(try_connect_with_headers(&server.url("/ws"), &[]).await.err(), Some(503));
    // A connection over the limit that sends nothing is not held for the full deadline.
    let mut over = TcpStream::connect(server.address).await.expect("connect");
    read_until_closed(&mut over, RECEIVE_TIMEOUT).await;
    assert_eq!(server.state.connection_limiter.open_connections(), 4);
    drop(silent);
    wait_for_open_connections(&server, 0).await;
    let _client = server.connect().await;
    server.shut_down().await;
}

#[tokio::test]
async fn connections_beyond_the_limit_and_its_reserve_get_a_503_at_once_and_the_accept_loop_carries_on() {
    let config = Config { max_connections: 1, max_connections_per_ip: 0, ..config(LONG_HEAD_TIMEOUT) };
    let server = TestServer::start_with(config).await;
    let mut held: Vec<TcpStream> = Vec::new();
    // One admitted, then the reserve of connections over the limit that are still read.
    for _ in 0..=backend::serve::OVERFLOW_CONNECTIONS {
        held.push(TcpStream::connect(server.address).await.expect("connect"));
    }
    wait_for_open_connections(&server, 1).await;
    let mut beyond = TcpStream::connect(server.address).await.expect("connect");
    let response = read_until_closed(&mut beyond, RECEIVE_TIMEOUT).await;
    assert_eq!(status_of(&response), Some(503), "{}", String::from_utf8_lossy(&response));
    drop(held);
    wait_for_open_connections(&server, 0).await;
    assert_eq!(http_get(server.address, "/healthz", "").await.0, 200);
    server.shut_down().await;
}

#[tokio::test]
async fn shutdown_completes_within_the_drain_limit_while_a_half_sent_request_head_is_open() {
    let server = TestServer::start_with(config(LONG_HEAD_TIMEOUT)).await;
    let mut half = TcpStream::connect(server.address).await.expect("connect");
    half.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Half: ").await.expect("write");
    // Accepted after the half-sent request (the listener's queue is in order): both are open.
    let mut signed_in = server.login("alice").await;
    tokio::time::timeout(SHUTDOWN_DRAIN_TIMEOUT + Duration::from_secs(2), server.shut_down())
        .await
        .expect("shutdown completes within the drain limit");
    assert_eq!(signed_in.expect_closed(RECEIVE_TIMEOUT).await, Some(1012), "WebSockets still get their close");
    read_until_closed(&mut half, Duration::from_secs(1)).await;
}

#[tokio::test]
async fn tls_handshakes_are_under_the_request_head_deadline() {
    let tls = backend::tls::self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let state = backend::AppState::new(config(SHORT_HEAD_TIMEOUT));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(backend::run_tls(listener, tls.config, state.clone(), async move {
        let _ = stopped.await;
    }));
    let mut silent = TcpStream::connect(address).await.expect("connect");
    let mut half_hello = TcpStream::connect(address).await.expect("connect");
    // The first bytes of a TLS record header (handshake, TLS 1.0 record version): never finished.
    half_hello.write_all(&[0x16, 0x03, 0x01]).await.expect("write");
    read_until_closed(&mut silent, Duration::from_secs(5)).await;
    read_until_closed(&mut half_hello, Duration::from_secs(5)).await;
    assert_eq!(state.connection_limiter.open_connections(), 0);
    let _ = stop.send(());
    task.await.expect("server task").expect("server ran");
}

#[tokio::test]
async fn with_defer_accept_a_silent_socket_takes_no_permit_until_it_sends_its_request() {
    let config = Config {
        max_connections: 1,
        max_connections_per_ip: 0,
        defer_accept: Duration::from_secs(5),
        ..config(LONG_HEAD_TIMEOUT)
    };
    let server = TestServer::start_with(config).await;
    // Answered once the accept loop runs, which is when the listener gets the option.
    assert_eq!(http_get(server.address, "/healthz", "").await.0, 200);
    wait_for_open_connections(&server, 0).await;
    let mut silent = TcpStream::connect(server.address).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.state.connection_limiter.open_connections(), 0, "the kernel still holds the silent socket");
    // The one permit is free for a client that speaks.
    let _alice = server.login("alice").await;
    wait_for_open_connections(&server, 1).await;
    // Once the silent socket sends its request it is accepted: over the limit, but /healthz answers.
    silent.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.expect("write");
    let response = read_until_closed(&mut silent, RECEIVE_TIMEOUT).await;
    assert_eq!(status_of(&response), Some(200), "{}", String::from_utf8_lossy(&response));
    server.shut_down().await;
}
