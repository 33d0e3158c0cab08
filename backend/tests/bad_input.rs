//! Every bad frame gets an `error` reply with a stable code, the connection stays usable, and
//! nobody else is affected. Includes the inputs that crash the classic server.

mod common;

use common::*;
use tokio_tungstenite::tungstenite::Message;

async fn expect_still_usable(client: &mut Client) {
    client.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(client.receive_json().await["type"], "users", "connection must stay usable");
}

#[tokio::test]
async fn malformed_frames_get_error_codes_and_the_connection_stays_usable() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    let mut mallory = server.login("mallory").await;
    connected_call(&mut alice, &mut bob).await;

    let cases: &[(&str, &str)] = &[
        ("this is not json", "invalid_json"),
        ("{\"type\":\"offer\"", "invalid_json"),
        ("", "invalid_json"),
        ("null", "invalid_message"),
        ("[1,2,3]", "invalid_message"),
        ("\"login\"", "invalid_message"),
        ("{}", "invalid_message"),
        (r#"{"type":42}"#, "invalid_message"),
        (r#"{"type":"offer","name":"alice"}"#, "invalid_message"),
        (r#"{"type":"offer","offer":{}}"#, "invalid_message"),
        (r#"{"type":"answer","name":["x"],"answer":{}}"#, "invalid_message"),
        (r#"{"type":"candidate","name":"alice"}"#, "invalid_message"),
        (r#"{"type":"dance","name":"alice"}"#, "unknown_type"),
        // The classic server crashes on these two.
        (r#"{"type":"leave","name":"nobody"}"#, "not_in_call"),
        (r#"{"type":"leave"}"#, "not_in_call"),
        (r#"{"type":"offer","name":"nobody","offer":{"type":"offer","sdp":"v=0"}}"#, "user_not_found"),
        (r#"{"type":"candidate","name":"nobody","candidate":{}}"#, "not_in_call"),
        (r#"{"type":"answer","name":"nobody","answer":{}}"#, "not_in_call"),
    ];
    for (frame, code) in cases {
        mallory.send_text(frame).await;
        assert_eq!(mallory.receive_error_code().await, *code, "frame {frame:?}");
    }
    mallory.send_message(Message::binary(vec![0u8, 159, 146, 150])).await;
    assert_eq!(mallory.receive_error_code().await, "binary_frame");
    expect_still_usable(&mut mallory).await;

    // The call next door never noticed.
    alice.send_text(&format!(r#"{{"type":"candidate","name":"bob","candidate":{CANDIDATE}}}"#)).await;
    assert_eq!(bob.receive_json().await["type"], "candidate");
    alice.expect_silence(std::time::Duration::from_millis(50)).await;
    server.shut_down().await;
}

#[tokio::test]
async fn unknown_type_keeps_the_classic_error_wording() {
    let server = TestServer::start().await;
    let mut client = server.connect().await;
    client.send_text(r#"{"type":"dance"}"#).await;
    assert_eq!(
        client.receive_text().await,
        r#"{"type":"error","message":"Command not found: dance","code":"unknown_type"}"#
    );
    server.shut_down().await;
}

#[tokio::test]
async fn nothing_but_login_works_before_login() {
    let server = TestServer::start().await;
    let _bob = server.login("bob").await;
    let mut anonymous = server.connect().await;
    for frame in [
        format!(r#"{{"type":"offer","name":"bob","offer":{SDP_OFFER}}}"#),
        format!(r#"{{"type":"answer","name":"bob","answer":{SDP_ANSWER}}}"#),
        format!(r#"{{"type":"candidate","name":"bob","candidate":{CANDIDATE}}}"#),
        r#"{"type":"leave","name":"bob"}"#.to_owned(),
    ] {
        anonymous.send_text(&frame).await;
        assert_eq!(anonymous.receive_error_code().await, "not_logged_in", "{frame}");
    }
    // Login still works afterwards.
    anonymous.send_text(r#"{"type":"login","name":"carol"}"#).await;
    assert_eq!(anonymous.receive_json().await["success"], true);
    server.shut_down().await;
}

#[tokio::test]
async fn second_login_on_one_connection_is_refused_and_the_first_name_kept() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    alice.send_text(r#"{"type":"login","name":"alice2"}"#).await;
    assert_eq!(alice.receive_error_code().await, "already_logged_in");
    // alice2 was not claimed; alice still is.
    let _alice2 = server.login("alice2").await;
    let mut other = server.connect().await;
    other.send_text(r#"{"type":"login","name":"alice"}"#).await;
    assert_eq!(other.receive_json().await["reason"], "taken");
    server.shut_down().await;
}

#[tokio::test]
async fn invalid_names_are_refused_with_reason_invalid_and_a_readable_message() {
    let server = TestServer::start().await;
    let mut client = server.connect().await;
    let long_name = "x".repeat(60_000);
    for name in ["", "   ", "a\\nb", "tab\\there", "nul\\u0000", long_name.as_str()] {
        client.send_text(&format!(r#"{{"type":"login","name":"{name}"}}"#)).await;
        let reply = client.receive_json().await;
        assert_eq!(reply["success"], false, "{name:.20}: {reply:.200}");
        assert_eq!(reply["reason"], "invalid");
        assert!(reply["message"].as_str().is_some_and(|message| message.len() > 10));
    }
    // After all that, a valid name works on the same connection.
    client.send_text(r#"{"type":"login","name":"Zoë 🎥"}"#).await;
    assert_eq!(client.receive_json().await["success"], true);
    server.shut_down().await;
}

#[tokio::test]
async fn a_flood_of_garbage_from_one_client_does_not_disturb_others() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    let mut garbage = server.connect().await;
    for index in 0..40 {
        garbage.send_text(&format!("{{\"type\":{index}")).await;
        assert_eq!(garbage.receive_error_code().await, "invalid_json");
    }
    connected_call(&mut alice, &mut bob).await;
    server.shut_down().await;
}

#[tokio::test]
async fn a_frame_over_the_size_limit_closes_only_that_connection_with_1009() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    let mut big = server.connect().await;
    let huge_name = "x".repeat(100_000);
    big.send_text(&format!(r#"{{"type":"login","name":"{huge_name}"}}"#)).await;
    assert_eq!(big.expect_closed(RECEIVE_TIMEOUT).await, Some(1009));
    connected_call(&mut alice, &mut bob).await;
    server.shut_down().await;
}

#[tokio::test]
async fn error_replies_do_not_echo_a_60kb_name() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let long_name = "x".repeat(60_000);
    for (frame, code) in [
        (format!(r#"{{"type":"offer","name":"{long_name}","offer":{SDP_OFFER}}}"#), "user_not_found"),
        (format!(r#"{{"type":"leave","name":"{long_name}"}}"#), "not_in_call"),
        (format!(r#"{{"type":"candidate","name":"{long_name}","candidate":{CANDIDATE}}}"#), "not_in_call"),
        (format!(r#"{{"type":"{long_name}"}}"#), "unknown_type"),
        (format!(r#""{long_name}""#), "invalid_message"),
        (format!(r#"{{"type":"offer","name":"bob","offer":{{}}, "{long_name}"}}"#), "invalid_json"),
    ] {
        alice.send_text(&frame).await;
        let reply = alice.receive_text().await;
        assert!(reply.len() < 600, "a {}-byte reply to a {}-byte frame: {reply:.300}", reply.len(), frame.len());
        let reply: serde_json::Value = serde_json::from_str(&reply).expect("JSON");
        assert_eq!(reply["code"], code, "{reply}");
        let message = reply["message"].as_str().expect("a message");
        if message.contains("xxxx") {
            assert!(message.contains(&format!("{}…", "x".repeat(64))), "{message}");
        }
    }
    server.shut_down().await;
}

#[tokio::test]
async fn users_before_sign_in_is_refused() {
    let server = TestServer::start().await;
    let _bob = server.login("bob").await;
    let mut anonymous = server.connect().await;
    anonymous.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(anonymous.receive_error_code().await, "not_logged_in", "the names online are for people signed in");
    anonymous.send_text(r#"{"type":"login","name":"carol"}"#).await;
    assert_eq!(anonymous.receive_json().await["success"], true);
    anonymous.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(anonymous.receive_text().await, r#"{"type":"users","users":["bob"]}"#);
    server.shut_down().await;
}
