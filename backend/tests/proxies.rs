//! Behind a reverse proxy, and IPv6: whose forwarding headers are believed, and how IPv6
//! clients are counted by the per-address limit.

mod common;

use backend::limits::{AdmissionError, ConnectionLimiter};
use backend::Config;
use common::*;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::net::TcpSocket;

/// A WebSocket handshake from `source` with extra headers: Ok(client) or the HTTP status.
async fn connect_from_with_headers(server: &TestServer, source: &str, headers: &[(&str, &str)]) -> Result<Client, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(format!("{source}:0").parse().expect("source address")).expect("bind the source address");
    let stream = socket.connect(server.address).await.expect("TCP connect");
    let mut request = server.url("/ws").into_client_request().expect("valid URL");
    for (name, value) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            value.parse().expect("header value"),
        );
    }
    match tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(stream)).await {
        Ok((socket, _)) => Ok(Client { socket }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("handshake failed for another reason: {other}"),
    }
}

#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let config = Config {
        trusted_proxies: vec![backend::client_address::parse_trusted_proxy("127.0.0.1").expect("an address")],
        max_connections_per_ip: 1,
        ..Config::default()
    };
    let server = TestServer::start_with(config).await;
    // Through the proxy: each client counts on its own, the proxy's address not at all.
    let first = connect_from_with_headers(&server, "127.0.0.1", &[("x-forwarded-for", "203.0.113.7")]).await;
    let second = connect_from_with_headers(&server, "127.0.0.1", &[("x-forwarded-for", "203.0.113.8")]).await;
    let forwarded = [("forwarded", "for=\"[2001:db8::1]:4711\"")];
    let third = connect_from_with_headers(&server, "127.0.0.1", &forwarded).await;
    assert!(first.is_ok() && second.is_ok() && third.is_ok(), "three clients behind one proxy");
    let again = connect_from_with_headers(&server, "127.0.0.1", &[("x-forwarded-for", "203.0.113.7")]).await;
    assert_eq!(again.err(), Some(503), "the same client twice is over its limit of 1");
    let same_64 = [("x-forwarded-for", "2001:db8::2")];
    assert_eq!(connect_from_with_headers(&server, "127.0.0.1", &same_64).await.err(), Some(503), "one /64");
    // Not a trusted proxy: its header is ignored and its own address counts.
    let spoofed = connect_from_with_headers(&server, "127.0.0.2", &[("x-forwarded-for", "198.51.100.1")]).await;
    assert!(spoofed.is_ok());
    let spoofed_again = connect_from_with_headers(&server, "127.0.0.2", &[("x-forwarded-for", "198.51.100.2")]).await;
    assert_eq!(spoofed_again.err(), Some(503), "X-Forwarded-For from an untrusted peer is not believed");
    server.shut_down().await;
}

#[tokio::test]
async fn two_ipv6_addresses_of_one_64_share_a_per_address_count() {
    // Loopback has one IPv6 address (::1), so the limiter is tested directly.
    let limiter = Arc::new(ConnectionLimiter::default());
    let address = |text: &str| -> IpAddr { text.parse().expect("address") };
    let _first = limiter.try_admit(address("2001:db8:1:2::1"), 0, 2).expect("first of the /64");
    let _second = limiter.try_admit(address("2001:db8:1:2:ffff::9"), 0, 2).expect("second of the /64");
    assert_eq!(
        limiter.try_admit(address("2001:db8:1:2:abcd::3"), 0, 2).expect_err("a third address of the same /64"),
        AdmissionError::TooManyFromAddress(2)
    );
    let _neighbour = limiter.try_admit(address("2001:db8:1:3::1"), 0, 2).expect("the next /64 is someone else");
    let _v4 = limiter.try_admit(address("192.0.2.1"), 0, 1).expect("IPv4");
    let _v4_other = limiter.try_admit(address("192.0.2.2"), 0, 1).expect("IPv4 addresses count one by one");
    assert!(limiter.try_admit(address("::ffff:192.0.2.1"), 0, 1).is_err(), "IPv4-mapped IPv6 is the IPv4 address");
}
