//! Issue 13, "names that look like other names": while `alice` is online, every look-alike of
//! her name is refused (as `taken`, or as `invalid` when the name itself is deceptive), with
//! words; call targets are found whatever their spelling; lists and relayed messages show the
//! registered display form.

mod common;

use backend::Config;
use common::*;
use serde_json::{json, Value};
use std::sync::Arc;

/// Connects and sends a login for `name`; returns the client and the login reply.
async fn try_login(server: &TestServer, name: &str) -> (Client, Value) {
    let mut client = server.connect().await;
    client.send_text(&json!({"type": "login", "name": name}).to_string()).await;
    let reply = client.receive_json().await;
    assert_eq!(reply["type"], "login", "{reply}");
    (client, reply)
}

/// Asserts `name` is refused for `reason` with a message containing `words`.
async fn assert_refused(server: &TestServer, name: &str, reason: &str, words: &str) {
    let (client, reply) = try_login(server, name).await;
    assert_eq!(reply["success"], false, "{name:?} was accepted: {reply}");
    assert_eq!(reply["reason"], reason, "{name:?}: {reply}");
    let message = reply["message"].as_str().unwrap_or_default();
    assert!(message.contains(words), "{name:?}: expected {words:?} in {message:?}");
    client.close().await;
}

#[tokio::test]
async fn look_alikes_of_a_name_online_are_refused_with_words_instead_of_listed_as_other_people() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let looks_like_alice = "looks too much like a name already in use (\"alice\")";

    assert_refused(&server, "Alice", "taken", &format!("The name \"Alice\" {looks_like_alice}")).await;
    assert_refused(&server, "ALICE", "taken", looks_like_alice).await;
    assert_refused(&server, "\u{FF41}lice", "taken", looks_like_alice).await;
    assert_refused(&server, "\u{0430}lice", "invalid", "mixes Latin and Cyrillic").await;
    assert_refused(&server, "ali\u{200B}ce", "invalid", "invisible characters (this one has U+200B)").await;
    assert_refused(&server, "\u{200B}\u{2060}\u{FEFF}", "invalid", "at least one visible character").await;
    assert_refused(&server, "\u{202E}ecila", "invalid", "change the writing direction (this one has U+202E)").await;
    // The very same name keeps its classic words.
    assert_refused(&server, "alice", "taken", "Someone online already uses the name \"alice\"").await;

    let _bob = server.login("bob").await;
    alice.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(alice.receive_json().await, json!({"type": "users", "users": ["bob"]}), "no look-alike got in");
}

#[tokio::test]
async fn nfc_and_nfd_forms_of_rene_are_one_person_kept_in_nfc() {
    let server = TestServer::start().await;
    let (_decomposed, reply) = try_login(&server, "rene\u{301}").await;
    assert_eq!(reply["success"], true, "{reply}");
    assert_eq!(reply["name"], "ren\u{E9}", "the display form is NFC");

    assert_refused(&server, "ren\u{E9}", "taken", "Someone online already uses the name \"ren\u{E9}\"").await;
    let mut carol = server.login("carol").await;
    carol.send_text(r#"{"type":"users"}"#).await;
    assert_eq!(carol.receive_json().await["users"], json!(["ren\u{E9}"]));
}

#[tokio::test]
async fn call_target_with_surrounding_spaces_reaches_bob() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;

    alice.send_text(&format!(r#"{{"type":"offer","name":" bob ","offer":{SDP_OFFER}}}"#)).await;
    assert_eq!(bob.receive_text().await, format!(r#"{{"type":"offer","offer":{SDP_OFFER},"name":"alice"}}"#));
    bob.send_text(&format!(r#"{{"type":"answer","name":" alice ","answer":{SDP_ANSWER}}}"#)).await;
    assert_eq!(alice.receive_text().await, format!(r#"{{"type":"answer","answer":{SDP_ANSWER},"name":"bob"}}"#));
    alice.send_text(&format!(r#"{{"type":"candidate","name":" bob ","candidate":{CANDIDATE}}}"#)).await;
    assert_eq!(bob.receive_text().await, format!(r#"{{"type":"candidate","candidate":{CANDIDATE},"name":"alice"}}"#));
    alice.send_text(r#"{"type":"leave","name":" bob "}"#).await;
    assert_eq!(bob.receive_text().await, r#"{"type":"leave","name":"alice","reason":"hangup"}"#);
}

#[tokio::test]
async fn call_target_in_another_case_reaches_the_person_who_is_named_by_their_registered_name() {
    let server = TestServer::start().await;
    let mut alice = server.login("Alice").await;
    let mut bob = server.login("bob").await;

    alice.send_text(&format!(r#"{{"type":"offer","name":"BOB","offer":{SDP_OFFER}}}"#)).await;
    assert_eq!(bob.receive_json().await["name"], "Alice");
    bob.send_text(&format!(r#"{{"type":"answer","name":"alice","answer":{SDP_ANSWER}}}"#)).await;
    assert_eq!(alice.receive_json().await["name"], "bob");
    bob.send_text(&format!(r#"{{"type":"candidate","name":"ALICE","candidate":{CANDIDATE}}}"#)).await;
    assert_eq!(alice.receive_json().await["name"], "bob");

    // Calling yourself under another spelling is still calling yourself.
    let mut carol = server.login("carol").await;
    carol.send_text(&format!(r#"{{"type":"offer","name":"CAROL","offer":{SDP_OFFER}}}"#)).await;
    assert_eq!(carol.receive_error_code().await, "cannot_call_self");
    // A name nobody has is still not found, and a huge one costs nothing.
    carol.send_text(&format!(r#"{{"type":"offer","name":"{}","offer":{SDP_OFFER}}}"#, "x".repeat(40_000))).await;
    assert_eq!(carol.receive_error_code().await, "user_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_sign_ins_with_look_alikes_of_alice_have_exactly_one_winner() {
    const CONTENDERS: usize = 1_000;
    let spellings = ["alice", "Alice", "ALICE", "\u{FF41}lice", "aLiCe", "\u{FF21}\u{FF2C}\u{FF29}\u{FF23}\u{FF25}"];
    let config = Config { max_connections_per_ip: CONTENDERS + 10, ..Config::default() };
    let server = TestServer::start_with(config).await;
    let start = Arc::new(tokio::sync::Barrier::new(CONTENDERS));
    let mut contenders = tokio::task::JoinSet::new();
    for index in 0..CONTENDERS {
        let url = server.url("/");
        let start = Arc::clone(&start);
        let name = spellings[index % spellings.len()];
        contenders.spawn(async move {
            let mut client = Client::connect_raw(&url).await;
            assert_eq!(client.receive_json().await["type"], "hello");
            start.wait().await;
            client.send_text(&json!({"type": "login", "name": name}).to_string()).await;
            let reply = client.receive_json().await;
            (reply, client)
        });
    }
    let mut winners = Vec::new();
    let mut clients = Vec::new();
    while let Some(outcome) = contenders.join_next().await {
        let (reply, client) = outcome.expect("contender task");
        if reply["success"] == true {
            winners.push(reply["name"].clone());
        } else {
            assert_eq!(reply["reason"], "taken", "{reply}");
        }
        clients.push(client);
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(server.state.directory.online_count().await.expect("in memory"), 1);
    drop(clients);
}

#[tokio::test]
async fn a_resume_login_under_another_spelling_keeps_the_registered_name() {
    let server = TestServer::start().await;
    let (mut first, reply) = try_login(&server, "alice").await;
    let resume = reply["resume"].as_str().expect("a resume token").to_owned();
    let mut second = server.connect().await;
    second.send_text(&json!({"type": "login", "name": "ALICE", "resume": resume}).to_string()).await;
    let reply = second.receive_json().await;
    assert_eq!((reply["success"].as_bool(), reply["name"].as_str()), (Some(true), Some("alice")), "{reply}");
    assert_eq!(first.expect_closed(RECEIVE_TIMEOUT).await, Some(4001));
}

#[tokio::test]
async fn capital_i_drawn_like_lowercase_l_is_refused_while_alice_is_online_and_freed_with_her() {
    let server = TestServer::start().await;
    let alice = server.login("alice").await;
    assert_refused(
        &server,
        "aIice",
        "taken",
        "The name \"aIice\" looks too much like a name already in use (\"alice\")",
    )
    .await;

    alice.close().await;
    let mut impostor = None;
    for _ in 0..100 {
        let (client, reply) = try_login(&server, "aIice").await;
        if reply["success"] == true {
            impostor = Some(client);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(impostor.is_some(), "alice's shape is freed when she leaves");
    assert_refused(&server, "alice", "taken", "(\"aIice\")").await;
    assert_eq!(server.state.directory.check_consistency().await, Ok(()));
}
