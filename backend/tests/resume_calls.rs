//! Calls that outlive a lost connection (issue 10), against the real server in this process:
//! held calls and their restoration, the grace period, refused tokens, token rotation and the
//! credentials pushed before expiry. The restart of a server process is in
//! `resume_after_restart.rs`.

mod common;

use backend::resume_token::ResumeSecret;
use backend::Config;
use common::resume::*;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

#[tokio::test]
async fn a_keep_call_client_whose_socket_drops_mid_call_is_held_then_restored_for_both_with_call_resumed() {
    let server = TestServer::start().await;
    let mut carol = presence_watcher(&server, "carol").await;
    let (mut alice, token) = login_keeping_calls(&server, "alice").await;
    let mut bob = server.login("bob").await;
    // Presence merges the changes of a tenth of a second: one or two deltas.
    let mut joined = Vec::new();
    while joined.len() < 2 {
        let delta = carol.receive_json().await;
        joined.extend(delta["joined"].as_array().expect("a joined delta").iter().cloned());
    }
    assert_eq!(joined, [json!("alice"), json!("bob")]);
    connected_call(&mut alice, &mut bob).await;

    drop(alice);
    wait_until_peer_unavailable(&mut bob, "alice").await;
    bob.expect_silence(Duration::from_millis(300)).await;

    let mut alice = server.connect().await;
    alice.send_text(&resume_login("alice", &token, Some("bob"))).await;
    let login = alice.receive_json().await;
    assert_eq!(login["success"], true, "{login}");
    assert_ne!(login["resume"].as_str(), Some(token.as_str()), "a new token");
    assert_eq!(alice.receive_json().await, json!({"type": "call_resumed", "name": "bob"}));
    assert_eq!(bob.receive_json().await, json!({"type": "call_resumed", "name": "alice"}));

    bob.send_text(&candidate_to("alice")).await;
    assert_eq!(alice.receive_json().await["type"], "candidate");
    alice.send_text(r#"{"type":"leave","name":"bob"}"#).await;
    assert_eq!(bob.receive_text().await, r#"{"type":"leave","name":"alice","reason":"hangup"}"#);
    // Presence never saw alice leave or join again.
    carol.expect_silence(Duration::from_millis(300)).await;
    server.shut_down().await;
}

#[tokio::test]
async fn a_classic_client_dropping_mid_call_still_gives_its_peer_leave_disconnected_at_once() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    drop(alice);
    assert_eq!(bob.receive_text().await, r#"{"type":"leave","name":"alice","reason":"disconnected"}"#);
    server.shut_down().await;
}

#[tokio::test]
async fn a_held_call_whose_side_never_comes_back_ends_with_disconnected_and_presence_left_after_the_grace() {
    let config = Config { call_resume_grace: Duration::from_millis(800), ..Config::default() };
    let server = TestServer::start_with(config).await;
    let (mut alice, _) = login_keeping_calls(&server, "alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    let mut carol = presence_watcher(&server, "carol").await;
    drop(alice);
    assert_eq!(bob.receive_text().await, r#"{"type":"leave","name":"alice","reason":"disconnected"}"#);
    assert_eq!(carol.receive_json().await["left"], json!(["alice"]));
    // The name is free again.
    let _new_alice = server.login("alice").await;
    let metrics = http_get(server.address, "/metrics", "").await.1;
    assert_eq!(metric_value(&metrics, "duet_call_resume_expired_total"), 1.0);
    assert_eq!(metric_value(&metrics, "duet_calls_active"), 0.0);
    server.shut_down().await;
}

#[tokio::test]
async fn the_grace_period_ends_a_half_restored_call_with_disconnected() {
    let config = Config {
        call_resume_grace: Duration::from_millis(800),
        resume_secret: Some(ResumeSecret::parse(server_binary::TEST_RESUME_SECRET).expect("secret")),
        ..Config::default()
    };
    let secret = config.resume_secret.clone().expect("secret");
    let server = TestServer::start_with(config).await;
    // A token as the previous server process would have issued it.
    let token =
        secret.issue(&protocol::UserName::from_wire("alice"), std::time::SystemTime::now(), Duration::from_secs(60));
    let mut alice = server.connect().await;
    alice.send_text(&resume_login("alice", token.as_str(), Some("bob"))).await;
    assert_eq!(alice.receive_json().await["success"], true);
    alice.send_text(&candidate_to("bob")).await;
    assert_eq!(alice.receive_error_code().await, "peer_unavailable");
    assert_eq!(alice.receive_text().await, r#"{"type":"leave","name":"bob","reason":"disconnected"}"#);
    // Idle again: alice may call someone else.
    let _carol = server.login("carol").await;
    alice.send_text(&format!(r#"{{"type":"offer","name":"carol","offer":{SDP_OFFER}}}"#)).await;
    alice.expect_silence(Duration::from_millis(200)).await;
    server.shut_down().await;
}

#[tokio::test]
async fn forged_expired_and_other_name_tokens_are_refused_with_resume_refused() {
    let config = Config { resume_token_ttl: Duration::from_secs(1), ..Config::default() };
    let server = TestServer::start_with(config).await;
    let (_alice, token) = login_keeping_calls(&server, "alice").await;
    let refused = |reply: Value| {
        assert_eq!(reply["success"], false, "{reply}");
        assert_eq!(reply["reason"], "resume_refused", "{reply}");
        reply["message"].as_str().expect("words for the person").to_owned()
    };
    let mut client = server.connect().await;
    client.send_text(&resume_login("bob", &token, None)).await;
    assert!(refused(client.receive_json().await).contains("another name"));
    let (version_and_payload, _) = token.rsplit_once('.').expect("signed");
    let forged = format!("{version_and_payload}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    client.send_text(&resume_login("alice", &forged, None)).await;
    assert!(refused(client.receive_json().await).contains("not one this server issued"));
    client.send_text(&resume_login("alice", "0123456789abcdef0123456789abcdef", None)).await;
    refused(client.receive_json().await);
    // Past its lifetime (whole seconds), the real token is refused too.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    client.send_text(&resume_login("alice", &token, None)).await;
    assert!(refused(client.receive_json().await).contains("expired"));
    // Refused logins leave the connection free to sign in plainly.
    client.send_text(r#"{"type":"login","name":"dave"}"#).await;
    assert_eq!(client.receive_json().await["success"], true);
    server.shut_down().await;
}

#[tokio::test]
async fn a_token_from_a_server_with_another_secret_is_refused() {
    let issuing = Config { resume_secret: Some(ResumeSecret::random()), ..Config::default() };
    let other =
        TestServer::start_with(Config { resume_secret: Some(ResumeSecret::random()), ..Config::default() }).await;
    let first = TestServer::start_with(issuing).await;
    let (_alice, token) = login_keeping_calls(&first, "alice").await;
    let mut client = other.connect().await;
    client.send_text(&resume_login("alice", &token, Some("bob"))).await;
    assert_eq!(client.receive_json().await["reason"], "resume_refused");
    first.shut_down().await;
    other.shut_down().await;
}

#[tokio::test]
async fn every_login_returns_a_new_token_and_the_latest_one_takes_the_name_over() {
    let server = TestServer::start().await;
    let (_first, token) = login_keeping_calls(&server, "alice").await;
    let mut tokens = vec![token];
    for _ in 0..3 {
        let mut again = server.connect().await;
        again.send_text(&resume_login("alice", tokens.last().expect("a token"), None)).await;
        let reply = again.receive_json().await;
        assert_eq!(reply["success"], true, "{reply}");
        let token = reply["resume"].as_str().expect("token").to_owned();
        assert!(!tokens.contains(&token), "token repeated");
        tokens.push(token);
    }
    server.shut_down().await;
}

#[tokio::test]
async fn credentials_are_pushed_before_the_token_expires_with_fresh_turn_credentials() {
    let config = Config {
        resume_token_ttl: Duration::from_secs(2),
        turn_urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
        turn_secret: Some("shared-secret".into()),
        turn_ttl: Duration::from_secs(3600),
        ..Config::default()
    };
    let server = TestServer::start_with(config).await;
    let (mut alice, token) = login_keeping_calls(&server, "alice").await;
    let pushed = alice.receive_json().await;
    assert_eq!(pushed["type"], "credentials", "{pushed}");
    let fresh = pushed["resume"].as_str().expect("a token").to_owned();
    assert_ne!(fresh, token);
    let turn = &pushed["iceServers"][0];
    assert_eq!(turn["urls"][0], "turn:127.0.0.1:3478?transport=udp");
    let expiry: u64 = turn["username"]
        .as_str()
        .and_then(|user| user.split_once(':'))
        .expect("EXPIRY:NAME")
        .0
        .parse()
        .expect("expiry");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    assert!(expiry >= now + 3590, "fresh TURN credentials: {expiry} vs now {now}");
    // The pushed token is a valid one.
    let mut again = server.connect().await;
    again.send_text(&resume_login("alice", &fresh, None)).await;
    assert_eq!(again.receive_json().await["success"], true);
    server.shut_down().await;
}

#[tokio::test]
async fn without_turn_credentials_carry_only_the_token() {
    let config = Config { resume_token_ttl: Duration::from_secs(2), ..Config::default() };
    let server = TestServer::start_with(config).await;
    let (mut alice, _) = login_keeping_calls(&server, "alice").await;
    let pushed = alice.receive_json().await;
    assert_eq!(pushed["type"], "credentials", "{pushed}");
    assert!(pushed.get("iceServers").is_none(), "{pushed}");
    server.shut_down().await;
}

#[tokio::test]
async fn hello_announces_resume_calls_and_the_grace_period() {
    let config = Config { call_resume_grace: Duration::from_secs(42), ..Config::default() };
    let server = TestServer::start_with(config).await;
    let mut client = Client::connect_raw(&server.url("/")).await;
    let hello = client.receive_json().await;
    assert!(hello["features"].as_array().expect("features").contains(&json!("resume_calls")), "{hello}");
    assert_eq!(hello["limits"]["callResumeGraceSecs"], 42);
    server.shut_down().await;
}

/// A page that is closed or left closes its WebSocket with 1001 (going away): its peer
/// connection went with it, so the call is not held for a resume that cannot come, and the peer
/// hears at once instead of after the grace period.
#[tokio::test]
async fn a_keep_call_client_closing_with_1001_going_away_ends_the_call_at_once() {
    let server = TestServer::start().await;
    let (mut alice, _) = login_keeping_calls(&server, "alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    let going_away = CloseFrame { code: CloseCode::Away, reason: "page closed".into() };
    alice.socket.close(Some(going_away)).await.expect("the close frame is sent");
    assert_eq!(bob.receive_text().await, r#"{"type":"leave","name":"alice","reason":"disconnected"}"#);
    server.shut_down().await;
}
