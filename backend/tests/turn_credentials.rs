//! TURN credentials: minted per login (TURN REST scheme), never in `hello`, never the secret.

mod common;

use common::*;

#[tokio::test]
async fn login_carries_turn_credentials_minted_for_that_user_and_hello_carries_none() {
    let config = backend::Config {
        stun_urls: vec!["stun:127.0.0.1:3478".into()],
        turn_urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
        turn_secret: Some("shared-secret".into()),
        turn_ttl: std::time::Duration::from_secs(600),
        ..backend::Config::default()
    };
    let server = TestServer::start_with(config).await;
    let mut client = Client::connect_raw(&server.url("/")).await;
    let hello = client.receive_text().await;
    assert!(!hello.contains("turn:") && !hello.contains("shared-secret"), "{hello}");

    client.send_text(r#"{"type":"login","name":"alice"}"#).await;
    let login = client.receive_json().await;
    let servers = login["iceServers"].as_array().expect("iceServers on login");
    assert_eq!(servers[0]["urls"][0], "stun:127.0.0.1:3478");
    let turn = &servers[1];
    assert_eq!(turn["urls"][0], "turn:127.0.0.1:3478?transport=udp");
    let username = turn["username"].as_str().expect("username");
    let (expiry, user) = username.split_once(':').expect("EXPIRY:NAME");
    assert_eq!(user, "alice");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let expiry: u64 = expiry.parse().expect("numeric expiry");
    assert!((now + 590..=now + 610).contains(&expiry), "expiry {expiry} is not now + 600 s");
    let (_, expected) = backend::ice::turn_credentials(
        "shared-secret",
        &protocol::UserName::from_wire("alice"),
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(expiry - 600),
        std::time::Duration::from_secs(600),
    );
    assert_eq!(turn["credential"], expected.as_str());
    assert!(!login.to_string().contains("shared-secret"));
    server.shut_down().await;
}

#[tokio::test]
async fn without_turn_the_login_reply_stays_classic_sized() {
    let server = TestServer::start().await;
    let mut client = server.connect().await;
    client.send_text(r#"{"type":"login","name":"bob"}"#).await;
    let login = client.receive_json().await;
    assert!(login.get("iceServers").is_none(), "{login}");
    server.shut_down().await;
}
