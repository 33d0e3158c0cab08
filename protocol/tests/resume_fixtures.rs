//! Exact-JSON fixtures for calls that outlive a lost connection: `login` with `inCallWith` and
//! `keepCallOnDisconnect`, `call_resumed`, `credentials`, `resume_refused`, the `resume_calls`
//! feature and the `callResumeGraceSecs` limit.

use protocol::*;

fn name(raw: &str) -> UserName {
    UserName::from_wire(raw)
}

fn client_round_trip(json: &str, expected: ClientMessage) {
    assert_eq!(ClientMessage::from_json(json), Ok(expected.clone()), "parsing {json}");
    assert_eq!(expected.to_json(), json, "serializing {expected:?}");
    assert_eq!(expected.to_json_without_serde(), json, "the web app's codec writes {expected:?} the same");
}

fn server_round_trip(json: &str, expected: ServerMessage) {
    assert_eq!(ServerMessage::from_json(json), Ok(expected.clone()), "parsing {json}");
    assert_eq!(expected.to_json(), json, "serializing {expected:?}");
    assert_eq!(ServerMessage::from_json_without_serde(json), Ok(expected), "the web app's codec reads {json}");
}

#[test]
fn client_login_that_keeps_its_calls_through_a_lost_connection() {
    client_round_trip(
        r#"{"type":"login","name":"alice","keepCallOnDisconnect":true}"#,
        ClientMessage::Login { name: name("alice"), resume: None, in_call_with: None, keep_call_on_disconnect: true },
    );
}

#[test]
fn client_login_that_resumes_a_call() {
    client_round_trip(
        r#"{"type":"login","name":"alice","resume":"v1.t0k","inCallWith":"bob","keepCallOnDisconnect":true}"#,
        ClientMessage::Login {
            name: name("alice"),
            resume: Some(ResumeToken::from_wire("v1.t0k")),
            in_call_with: Some(name("bob")),
            keep_call_on_disconnect: true,
        },
    );
}

#[test]
fn client_login_with_keep_call_false_reads_as_absent() {
    assert_eq!(
        ClientMessage::from_json(r#"{"type":"login","name":"alice","keepCallOnDisconnect":false}"#),
        Ok(ClientMessage::login(name("alice")))
    );
}

#[test]
fn server_call_resumed() {
    server_round_trip(r#"{"type":"call_resumed","name":"bob"}"#, ServerMessage::CallResumed { name: name("bob") });
    assert_eq!(
        ServerMessage::from_json(r#"{"type":"call_resumed"}"#),
        Err(ParseError::MissingField { message_type: "call_resumed", field: "name" })
    );
}

#[test]
fn server_credentials_with_and_without_turn() {
    server_round_trip(
        r#"{"type":"credentials","resume":"v1.n3w"}"#,
        ServerMessage::Credentials { resume: ResumeToken::from_wire("v1.n3w"), ice_servers: None },
    );
    server_round_trip(
        r#"{"type":"credentials","resume":"v1.n3w","iceServers":[{"urls":["turn:127.0.0.1:3478"],"username":"1700000000:bob","credential":"Y3JlZA=="}]}"#,
        ServerMessage::Credentials {
            resume: ResumeToken::from_wire("v1.n3w"),
            ice_servers: Some(vec![IceServer {
                urls: vec!["turn:127.0.0.1:3478".into()],
                username: Some("1700000000:bob".into()),
                credential: Some("Y3JlZA==".into()),
            }]),
        },
    );
}

#[test]
fn server_login_refused_because_the_resume_token_is_not_valid() {
    server_round_trip(
        r#"{"type":"login","success":false,"reason":"resume_refused","message":"m"}"#,
        ServerMessage::Login {
            success: false,
            name: None,
            resume: None,
            ice_servers: None,
            reason: Some(LoginFailure::ResumeRefused),
            message: Some("m".into()),
        },
    );
}

#[test]
fn server_hello_announces_resumable_calls_and_their_grace_period() {
    let json = concat!(
        r#"{"type":"hello","server":"duet","version":"0.1.0","protocol":1,"#,
        r#""limits":{"maxFrameBytes":65536,"maxNameChars":64,"ringTimeoutSecs":45,"idleTimeoutSecs":60,"callResumeGraceSecs":30},"#,
        r#""iceServers":[],"features":["presence","presence_query","resume_calls"]}"#
    );
    let hello = Hello {
        server: "duet".into(),
        version: "0.1.0".into(),
        protocol: PROTOCOL_VERSION,
        limits: Limits {
            max_frame_bytes: 65536,
            max_name_chars: 64,
            ring_timeout_secs: 45,
            idle_timeout_secs: 60,
            call_resume_grace_secs: Some(30),
        },
        ice_servers: Vec::new(),
        features: vec![FEATURE_PRESENCE.into(), FEATURE_PRESENCE_QUERY.into(), FEATURE_RESUME_CALLS.into()],
    };
    assert!(hello.supports(FEATURE_RESUME_CALLS));
    server_round_trip(json, ServerMessage::Hello(hello));
}

#[test]
fn server_error_peer_unavailable() {
    server_round_trip(
        r#"{"type":"error","message":"m","code":"peer_unavailable"}"#,
        ServerMessage::error(ErrorCode::PeerUnavailable, "m"),
    );
}
