//! The seed documents' walkthrough, frame by frame, as a classic client (wscat) would do it.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test]
async fn classic_walkthrough_login_offer_answer_candidates_leave_and_disconnect() {
    let server = TestServer::start().await;

    // Two logins on the classic path `/`.
    let mut alice = server.connect().await;
    alice.send_text(r#"{"type":"login","name":"alice"}"#).await;
    let login = alice.receive_json().await;
    assert_eq!((login["type"].as_str(), login["success"].as_bool()), (Some("login"), Some(true)), "{login}");
    assert_eq!(login["name"], "alice");
    assert!(login["resume"].as_str().is_some_and(|token| token.len() >= 32), "{login}");

    let mut bob = server.connect().await;
    bob.send_text(r#"{"type":"login","name":"bob"}"#).await;
    assert_eq!(bob.receive_json().await["success"], true);

    // A duplicate is refused, with a reason; the first holder keeps the name.
    let mut impostor = server.connect().await;
    impostor.send_text(r#"{"type":"login","name":"alice"}"#).await;
    let refused = impostor.receive_json().await;
    assert_eq!(refused["success"], false, "{refused}");
    assert_eq!(refused["reason"], "taken");
    assert!(refused["message"].as_str().is_some_and(|message| message.contains("alice")));

    // Offer: the callee gets the caller's name and the SDP byte for byte.
    alice.send_text(&format!(r#"{{"type":"offer","name":"bob","offer":{SDP_OFFER}}}"#)).await;
    assert_eq!(bob.receive_text().await, format!(r#"{{"type":"offer","offer":{SDP_OFFER},"name":"alice"}}"#));

    // Trickle before the answer, from the caller.
    alice.send_text(&format!(r#"{{"type":"candidate","name":"bob","candidate":{CANDIDATE}}}"#)).await;
    assert_eq!(bob.receive_text().await, format!(r#"{{"type":"candidate","candidate":{CANDIDATE},"name":"alice"}}"#));

    // Answer, with odd spacing preserved.
    bob.send_text(&format!(r#"{{"type":"answer","name":"alice","answer":{SDP_ANSWER}}}"#)).await;
    assert_eq!(alice.receive_text().await, format!(r#"{{"type":"answer","answer":{SDP_ANSWER},"name":"bob"}}"#));

    // Candidates both ways, in order.
    for index in 0..3 {
        let candidate = CANDIDATE.replace("46154", &format!("4615{index}"));
        bob.send_text(&format!(r#"{{"type":"candidate","name":"alice","candidate":{candidate}}}"#)).await;
    }
    for index in 0..3 {
        let candidate = CANDIDATE.replace("46154", &format!("4615{index}"));
        assert_eq!(
            alice.receive_text().await,
            format!(r#"{{"type":"candidate","candidate":{candidate},"name":"bob"}}"#)
        );
    }

    // Leave: the peer is told who and why.
    alice.send_text(r#"{"type":"leave","name":"bob"}"#).await;
    assert_eq!(bob.receive_text().await, r#"{"type":"leave","name":"alice","reason":"hangup"}"#);

    // A second call, then bob's connection drops: alice hears `disconnected`.
    connected_call(&mut alice, &mut bob).await;
    bob.close().await;
    assert_eq!(alice.receive_text().await, r#"{"type":"leave","name":"bob","reason":"disconnected"}"#);

    // The name is free again.
    let mut bob_again = server.connect().await;
    bob_again.send_text(r#"{"type":"login","name":"bob"}"#).await;
    assert_eq!(bob_again.receive_json().await["success"], true);

    server.shut_down().await;
}

#[tokio::test]
async fn hello_is_json_with_version_limits_and_ice_servers() {
    let config = backend::Config { stun_urls: vec!["stun:stun.example.org:3478".into()], ..backend::Config::default() };
    let server = TestServer::start_with(config).await;
    let mut client = Client::connect_raw(&server.url("/")).await;
    let hello: Value = client.receive_json().await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["server"], "duet");
    assert_eq!(hello["protocol"], 1);
    assert_eq!(hello["limits"]["maxFrameBytes"], 65536);
    assert_eq!(hello["limits"]["maxNameChars"], 64);
    assert_eq!(hello["limits"]["ringTimeoutSecs"], 45);
    assert_eq!(hello["iceServers"][0]["urls"][0], "stun:stun.example.org:3478");
    server.shut_down().await;
}

#[tokio::test]
async fn the_ws_path_speaks_the_same_protocol() {
    let server = TestServer::start().await;
    let mut client = server.connect_path("/ws").await;
    client.send_text(r#"{"type":"login","name":"  carol  "}"#).await;
    let login = client.receive_json().await;
    assert_eq!(login["success"], true);
    assert_eq!(login["name"], "carol", "names are trimmed and the stored form is returned");
    server.shut_down().await;
}

#[tokio::test]
async fn users_lists_others_online_sorted() {
    let server = TestServer::start().await;
    let mut carol = server.login("carol").await;
    let _alice = server.login("alice").await;
    let _bob = server.login("bob").await;
    carol.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(carol.receive_text().await, r#"{"type":"users","users":["alice","bob"]}"#);
    server.shut_down().await;
}

#[tokio::test]
async fn plain_http_get_on_root_explains_itself_without_a_built_app() {
    let config = backend::Config {
        static_dir: Some(std::env::temp_dir().join("duet-no-such-dir")),
        ..backend::Config::default()
    };
    let server = TestServer::start_with(config).await;
    let mut stream = tokio::net::TcpStream::connect(server.address).await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /healthy-check-of-404 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    server.shut_down().await;
}

/// Canonical candidate frames take the server's fast path (spliced bytes), others the general
/// parser: both relay the payload byte for byte, with the sender's name, the same way.
#[tokio::test]
async fn candidates_are_relayed_byte_for_byte_in_whatever_form_they_are_written() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    let spaced = r#"{"sdpMid" :"0", "candidate":"a\"b"}"#;
    for (sent, candidate) in [
        (format!(r#"{{"type":"candidate","name":"bob","candidate":{CANDIDATE}}}"#), CANDIDATE),
        (format!(r#"{{"type":"candidate","name":"bob","candidate":{spaced}}}"#), spaced),
        (r#"{"type":"candidate","name":"bob","candidate":null}"#.to_owned(), "null"),
        (format!(r#"{{"type":"candidate","candidate":{CANDIDATE},"name":"bob"}}"#), CANDIDATE),
        (format!(r#"{{ "type": "candidate", "name": "b\u006fb", "candidate": {spaced} }}"#), spaced),
    ] {
        alice.send_text(&sent).await;
        let relayed = format!(r#"{{"type":"candidate","candidate":{candidate},"name":"alice"}}"#);
        assert_eq!(bob.receive_text().await, relayed, "sent {sent}");
    }
    // Canonical in form but not JSON: refused like any invalid frame, nothing relayed.
    alice.send_text(r#"{"type":"candidate","name":"bob","candidate":{"broken":}"#).await;
    assert_eq!(alice.receive_error_code().await, "invalid_json");
    bob.expect_silence(std::time::Duration::from_millis(200)).await;
    server.shut_down().await;
}
