//! A call survives a restart of the server process (issue 10): the real binary is killed with
//! SIGKILL mid-call and a new process started with the same secret (by option, or the default
//! secret file in the same working directory) accepts the tokens the first one issued and
//! restores the pairing when both sides come back naming each other.

mod common;

use common::server_binary::{start_server_binary_in, ServerProcess, TEST_RESUME_SECRET};
use common::*;
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;

/// Signs in at `address` as `name` with `keepCallOnDisconnect` (and a token, `inCallWith`);
/// returns the client and the reply.
async fn login_at(address: SocketAddr, name: &str, resume: Option<(&str, &str)>) -> (Client, serde_json::Value) {
    let mut client = Client::connect_raw(&format!("ws://{address}/")).await;
    assert_eq!(client.receive_json().await["type"], "hello");
    let mut login = json!({"type": "login", "name": name, "keepCallOnDisconnect": true});
    if let Some((token, peer)) = resume {
        login["resume"] = json!(token);
        login["inCallWith"] = json!(peer);
    }
    client.send_text(&login.to_string()).await;
    let reply = client.receive_json().await;
    (client, reply)
}

fn token_of(reply: &serde_json::Value) -> String {
    assert_eq!(reply["success"], true, "{reply}");
    reply["resume"].as_str().expect("a resume token").to_owned()
}

/// alice and bob in a call on the server at `address`; returns their tokens (clients dropped
/// with the server).
async fn call_on(address: SocketAddr) -> (Client, String, Client, String) {
    let (mut alice, reply) = login_at(address, "alice", None).await;
    let alice_token = token_of(&reply);
    let (mut bob, reply) = login_at(address, "bob", None).await;
    let bob_token = token_of(&reply);
    connected_call(&mut alice, &mut bob).await;
    (alice, alice_token, bob, bob_token)
}

/// Kills the server with SIGKILL (no goodbye to anyone) and waits for it to be gone.
fn kill_hard(mut server: ServerProcess) {
    server.0.kill().expect("SIGKILL the server");
    server.0.wait().expect("reap the server");
}

/// Both sides sign in to the new server naming each other: both get `call_resumed`, relaying
/// works, and a hang-up reaches the other side.
async fn both_resume_at(address: SocketAddr, alice_token: &str, bob_token: &str) {
    let (mut alice, reply) = login_at(address, "alice", Some((alice_token, "bob"))).await;
    assert_ne!(token_of(&reply), alice_token, "a new token");
    let (mut bob, reply) = login_at(address, "bob", Some((bob_token, "alice"))).await;
    token_of(&reply);
    assert_eq!(alice.receive_json().await, json!({"type": "call_resumed", "name": "bob"}));
    assert_eq!(bob.receive_json().await, json!({"type": "call_resumed", "name": "alice"}));
    alice.send_text(&format!(r#"{{"type":"candidate","name":"bob","candidate":{CANDIDATE}}}"#)).await;
    assert_eq!(bob.receive_json().await["type"], "candidate");
    bob.send_text(r#"{"type":"leave","name":"alice"}"#).await;
    assert_eq!(alice.receive_text().await, r#"{"type":"leave","name":"bob","reason":"hangup"}"#);
}

#[tokio::test]
async fn a_new_server_process_with_the_same_secret_accepts_the_tokens_and_restores_the_call() {
    let (first, address) = start_server_binary_in(None, &["--resume-secret", TEST_RESUME_SECRET]);
    let (alice, alice_token, bob, bob_token) = call_on(address).await;
    kill_hard(first);
    drop((alice, bob));
    let (_second, address) = start_server_binary_in(None, &["--resume-secret", TEST_RESUME_SECRET]);
    both_resume_at(address, &alice_token, &bob_token).await;
}

#[tokio::test]
async fn a_restart_from_the_same_working_directory_accepts_the_tokens_through_the_secret_file() {
    let folder = tempfile::tempdir().expect("a working directory");
    let (first, address) = start_server_binary_in(Some(folder.path()), &[]);
    let secret_file = folder.path().join("duet-resume-secret");
    assert_private_file(&secret_file);
    let (alice, alice_token, bob, bob_token) = call_on(address).await;
    kill_hard(first);
    drop((alice, bob));

    // Another working directory has another secret: the tokens mean nothing there.
    let elsewhere = tempfile::tempdir().expect("another working directory");
    let (_stranger, stranger_address) = start_server_binary_in(Some(elsewhere.path()), &[]);
    let (_alice, reply) = login_at(stranger_address, "alice", Some((&alice_token, "bob"))).await;
    assert_eq!(reply["reason"], "resume_refused", "{reply}");

    let (_second, address) = start_server_binary_in(Some(folder.path()), &[]);
    both_resume_at(address, &alice_token, &bob_token).await;
}

fn assert_private_file(path: &Path) {
    let metadata = std::fs::metadata(path).expect("the server created its secret file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600, "only its owner may read the secret");
    }
    assert!(metadata.len() >= 32);
}

#[tokio::test]
async fn after_a_graceful_restart_with_1012_both_sides_resume_on_the_new_process() {
    let (first, address) = start_server_binary_in(None, &["--resume-secret", TEST_RESUME_SECRET]);
    let (mut alice, alice_token, mut bob, bob_token) = call_on(address).await;
    let status =
        std::process::Command::new("kill").args(["-TERM", &first.0.id().to_string()]).status().expect("run kill");
    assert!(status.success());
    let restarting = Some(protocol::close_codes::SERVER_RESTARTING);
    assert_eq!(alice.expect_closed(RECEIVE_TIMEOUT).await, restarting);
    assert_eq!(bob.expect_closed(RECEIVE_TIMEOUT).await, restarting);
    drop(first);
    let (_second, address) = start_server_binary_in(None, &["--resume-secret", TEST_RESUME_SECRET]);
    both_resume_at(address, &alice_token, &bob_token).await;
}
