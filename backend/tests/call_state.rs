//! The server's call-state rules: busy, ring timeout, relay only inside a call, renegotiation.

mod common;

use common::*;
use std::time::Duration;

fn offer_to(callee: &str) -> String {
    format!(r#"{{"type":"offer","name":"{callee}","offer":{SDP_OFFER}}}"#)
}

#[tokio::test]
async fn an_offer_to_someone_in_a_call_gets_leave_busy_and_the_callee_sees_nothing() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    let mut carol = server.login("carol").await;

    // While bob's phone rings for alice...
    alice.send_text(&offer_to("bob")).await;
    assert_eq!(bob.receive_json().await["type"], "offer");
    carol.send_text(&offer_to("bob")).await;
    assert_eq!(carol.receive_text().await, r#"{"type":"leave","name":"bob","reason":"busy"}"#);
    // ...and the caller is busy too.
    carol.send_text(&offer_to("alice")).await;
    assert_eq!(carol.receive_text().await, r#"{"type":"leave","name":"alice","reason":"busy"}"#);

    // Once answered, still busy.
    bob.send_text(&format!(r#"{{"type":"answer","name":"alice","answer":{SDP_ANSWER}}}"#)).await;
    assert_eq!(alice.receive_json().await["type"], "answer");
    carol.send_text(&offer_to("alice")).await;
    assert_eq!(carol.receive_json().await["reason"], "busy");
    bob.expect_silence(Duration::from_millis(50)).await;
    alice.expect_silence(Duration::from_millis(10)).await;

    // After the call, bob is free for carol.
    alice.send_text(r#"{"type":"leave","name":"bob"}"#).await;
    assert_eq!(bob.receive_json().await["reason"], "hangup");
    carol.send_text(&offer_to("bob")).await;
    assert_eq!(bob.receive_json().await["name"], "carol");
    server.shut_down().await;
}

#[tokio::test]
async fn relaying_is_refused_between_users_who_are_not_in_a_call_together() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    let mut carol = server.login("carol").await;
    connected_call(&mut alice, &mut bob).await;

    for frame in [
        format!(r#"{{"type":"candidate","name":"bob","candidate":{CANDIDATE}}}"#),
        format!(r#"{{"type":"answer","name":"alice","answer":{SDP_ANSWER}}}"#),
        r#"{"type":"leave","name":"bob"}"#.to_owned(),
    ] {
        carol.send_text(&frame).await;
        assert_eq!(carol.receive_error_code().await, "not_in_call", "{frame}");
    }
    // A party cannot talk to a third user either, nor hang up someone else's call.
    alice.send_text(&format!(r#"{{"type":"candidate","name":"carol","candidate":{CANDIDATE}}}"#)).await;
    assert_eq!(alice.receive_error_code().await, "not_in_call");
    alice.send_text(r#"{"type":"leave","name":"carol"}"#).await;
    assert_eq!(alice.receive_error_code().await, "not_in_call");
    bob.expect_silence(Duration::from_millis(50)).await;
    carol.expect_silence(Duration::from_millis(10)).await;
    server.shut_down().await;
}

#[tokio::test]
async fn candidates_flow_both_ways_while_ringing() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    alice.send_text(&offer_to("bob")).await;
    assert_eq!(bob.receive_json().await["type"], "offer");
    bob.send_text(&format!(r#"{{"type":"candidate","name":"alice","candidate":{CANDIDATE}}}"#)).await;
    assert_eq!(alice.receive_json().await["name"], "bob");
    alice.send_text(&format!(r#"{{"type":"candidate","name":"bob","candidate":{CANDIDATE}}}"#)).await;
    assert_eq!(bob.receive_json().await["name"], "alice");
    server.shut_down().await;
}

#[tokio::test]
async fn renegotiation_inside_a_call_is_relayed_both_ways() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    // bob renegotiates (say, adds screen sharing); alice answers.
    bob.send_text(&offer_to("alice")).await;
    assert_eq!(alice.receive_text().await, format!(r#"{{"type":"offer","offer":{SDP_OFFER},"name":"bob"}}"#));
    alice.send_text(&format!(r#"{{"type":"answer","name":"bob","answer":{SDP_ANSWER}}}"#)).await;
    assert_eq!(bob.receive_json().await["type"], "answer");
    // alice does an ICE restart.
    alice.send_text(&offer_to("bob")).await;
    assert_eq!(bob.receive_json().await["type"], "offer");
    server.shut_down().await;
}

#[tokio::test]
async fn calling_someone_else_while_in_a_call_or_calling_yourself_is_refused() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    let mut carol = server.login("carol").await;
    alice.send_text(&offer_to("alice")).await;
    assert_eq!(alice.receive_error_code().await, "cannot_call_self");
    connected_call(&mut alice, &mut bob).await;
    alice.send_text(&offer_to("carol")).await;
    assert_eq!(alice.receive_error_code().await, "already_in_call");
    carol.expect_silence(Duration::from_millis(50)).await;
    server.shut_down().await;
}

#[tokio::test]
async fn declining_tells_the_caller_declined_and_both_can_call_again() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    alice.send_text(&offer_to("bob")).await;
    assert_eq!(bob.receive_json().await["type"], "offer");
    bob.send_text(r#"{"type":"leave","name":"alice","reason":"declined"}"#).await;
    assert_eq!(alice.receive_text().await, r#"{"type":"leave","name":"bob","reason":"declined"}"#);
    // A client cannot impersonate the server's reasons.
    connected_call(&mut alice, &mut bob).await;
    bob.send_text(r#"{"type":"leave","reason":"timeout"}"#).await;
    assert_eq!(alice.receive_text().await, r#"{"type":"leave","name":"bob","reason":"hangup"}"#);
    server.shut_down().await;
}

#[tokio::test]
async fn a_failed_peer_connection_is_relayed_as_failed_not_as_hangup() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    bob.send_text(r#"{"type":"leave","name":"alice","reason":"failed"}"#).await;
    assert_eq!(alice.receive_text().await, r#"{"type":"leave","name":"bob","reason":"failed"}"#);
    server.shut_down().await;
}

#[tokio::test]
async fn do_not_disturb_is_relayed_to_the_caller_as_is_not_as_hangup() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    alice.send_text(&offer_to("bob")).await;
    assert_eq!(bob.receive_json().await["type"], "offer");
    bob.send_text(r#"{"type":"leave","name":"alice","reason":"do_not_disturb"}"#).await;
    assert_eq!(alice.receive_text().await, r#"{"type":"leave","name":"bob","reason":"do_not_disturb"}"#);
    server.shut_down().await;
}

#[tokio::test]
async fn caller_cancelling_a_ringing_call_tells_the_callee() {
    let server = TestServer::start().await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    alice.send_text(&offer_to("bob")).await;
    assert_eq!(bob.receive_json().await["type"], "offer");
    alice.send_text(r#"{"type":"leave","name":"bob"}"#).await;
    assert_eq!(bob.receive_text().await, r#"{"type":"leave","name":"alice","reason":"hangup"}"#);
    // The callee can no longer answer the cancelled call.
    bob.send_text(&format!(r#"{{"type":"answer","name":"alice","answer":{SDP_ANSWER}}}"#)).await;
    assert_eq!(bob.receive_error_code().await, "not_in_call");
    server.shut_down().await;
}

/// Default ring timeout; heartbeats and idle checks far beyond what these tests let pass, so
/// that jumping the paused clock forward only ever fires the ring timer.
fn config_for_paused_time() -> backend::Config {
    backend::Config {
        heartbeat_interval: Duration::from_secs(3600),
        idle_timeout: Duration::from_secs(7200),
        ..backend::Config::default()
    }
}

/// Paused time: the 45 s default ring timeout passes instantly, and exactly.
#[tokio::test(start_paused = true)]
async fn an_unanswered_call_times_out_for_both_after_the_ring_timeout() {
    let server = TestServer::start_with(config_for_paused_time()).await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    alice.send_text(&offer_to("bob")).await;
    assert_eq!(bob.receive_json().await["type"], "offer");
    let offered_at = tokio::time::Instant::now();

    let to_alice = alice.receive_text_within(Duration::from_secs(120)).await;
    assert_eq!(to_alice, r#"{"type":"leave","name":"bob","reason":"timeout"}"#);
    let waited = offered_at.elapsed();
    assert!(waited >= Duration::from_secs(45), "ended after {waited:?}, before the 45 s ring timeout");
    let to_bob = bob.receive_text_within(Duration::from_secs(1)).await;
    assert_eq!(to_bob, r#"{"type":"leave","name":"alice","reason":"timeout"}"#);

    // Both are free again.
    connected_call(&mut alice, &mut bob).await;
    server.shut_down().await;
}

#[tokio::test(start_paused = true)]
async fn an_answered_call_does_not_time_out() {
    let server = TestServer::start_with(config_for_paused_time()).await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    connected_call(&mut alice, &mut bob).await;
    tokio::time::sleep(Duration::from_secs(100)).await;
    alice.expect_silence(Duration::from_secs(1)).await;
    bob.send_text(&format!(r#"{{"type":"candidate","name":"alice","candidate":{CANDIDATE}}}"#)).await;
    assert_eq!(alice.receive_json().await["type"], "candidate", "still in the call after 100 s");
    server.shut_down().await;
}

/// One sweep task ends every ringing call (issue 12): each at its own deadline, none early.
#[tokio::test(start_paused = true)]
async fn two_unanswered_calls_each_time_out_after_their_own_ring_timeout() {
    let server = TestServer::start_with(config_for_paused_time()).await;
    let mut alice = server.login("alice").await;
    let mut bob = server.login("bob").await;
    let mut carol = server.login("carol").await;
    let mut dave = server.login("dave").await;
    alice.send_text(&offer_to("bob")).await;
    assert_eq!(bob.receive_json().await["type"], "offer");
    let first_offered_at = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(20)).await;
    carol.send_text(&offer_to("dave")).await;
    assert_eq!(dave.receive_json().await["type"], "offer");
    let second_offered_at = tokio::time::Instant::now();

    let to_alice = alice.receive_text_within(Duration::from_secs(120)).await;
    assert_eq!(to_alice, r#"{"type":"leave","name":"bob","reason":"timeout"}"#);
    assert!(first_offered_at.elapsed() >= Duration::from_secs(45));
    assert!(second_offered_at.elapsed() < Duration::from_secs(45), "the second call still rings");
    assert_eq!(bob.receive_json().await["reason"], "timeout");
    let to_carol = carol.receive_text_within(Duration::from_secs(120)).await;
    assert_eq!(to_carol, r#"{"type":"leave","name":"dave","reason":"timeout"}"#);
    let waited = second_offered_at.elapsed();
    assert!(waited >= Duration::from_secs(45), "the second call ended after {waited:?}");
    assert_eq!(dave.receive_json().await["reason"], "timeout");
    server.shut_down().await;
}
