//! Helpers for the tests of calls that outlive a lost connection (issue 10).

use super::{Client, TestServer, CANDIDATE, RECEIVE_TIMEOUT};
use serde_json::json;
use std::time::Duration;

/// A login frame with a resume token, `inCallWith` and `keepCallOnDisconnect`.
pub fn resume_login(name: &str, token: &str, in_call_with: Option<&str>) -> String {
    let mut login = json!({"type": "login", "name": name, "resume": token, "keepCallOnDisconnect": true});
    if let Some(peer) = in_call_with {
        login["inCallWith"] = json!(peer);
    }
    login.to_string()
}

/// Signs in as `name` with `keepCallOnDisconnect` (as the web app does); returns the client
/// and its resume token.
pub async fn login_keeping_calls(server: &TestServer, name: &str) -> (Client, String) {
    let mut client = server.connect().await;
    client.send_text(&json!({"type": "login", "name": name, "keepCallOnDisconnect": true}).to_string()).await;
    let reply = client.receive_json().await;
    assert_eq!(reply["success"], true, "{reply}");
    (client, reply["resume"].as_str().expect("a resume token").to_owned())
}

pub fn candidate_to(peer: &str) -> String {
    format!(r#"{{"type":"candidate","name":"{peer}","candidate":{CANDIDATE}}}"#)
}

/// Sends candidates to `peer` until the server answers `peer_unavailable` (the server may not
/// have noticed the lost connection yet when the first one goes).
pub async fn wait_until_peer_unavailable(client: &mut Client, peer: &str) {
    let deadline = tokio::time::Instant::now() + RECEIVE_TIMEOUT;
    while tokio::time::Instant::now() < deadline {
        client.send_text(&candidate_to(peer)).await;
        let reply = tokio::time::timeout(Duration::from_millis(200), client.receive_json()).await;
        if let Ok(reply) = reply {
            assert_eq!(reply["type"], "error", "only an error may come back: {reply}");
            assert_eq!(reply["code"], "peer_unavailable", "{reply}");
            return;
        }
    }
    panic!("relays to {peer} were never refused as peer_unavailable");
}

/// A presence subscriber signed in as `name`, its snapshot read.
pub async fn presence_watcher(server: &TestServer, name: &str) -> Client {
    let mut watcher = server.login(name).await;
    watcher.send_text(r#"{"type":"presence_subscribe"}"#).await;
    assert_eq!(watcher.receive_json().await["type"], "users");
    watcher
}
