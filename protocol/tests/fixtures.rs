//! Exact-JSON fixtures: every message, both directions, classic shapes and extensions.

use protocol::*;

const SDP: &str = r#"{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}"#;
const ICE: &str =
    r#"{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0}"#;

fn sdp() -> SessionDescription {
    SessionDescription::from_json(SDP).expect("fixture SDP is JSON")
}
fn ice() -> IceCandidate {
    IceCandidate::from_json(ICE).expect("fixture candidate is JSON")
}
fn name(raw: &str) -> UserName {
    UserName::from_wire(raw)
}

/// Parses `json` as a client message, checks it equals `expected`, and that `expected`
/// serializes back to exactly `json`.
fn client_round_trip(json: &str, expected: ClientMessage) {
    assert_eq!(ClientMessage::from_json(json), Ok(expected.clone()), "parsing {json}");
    assert_eq!(expected.to_json(), json, "serializing {expected:?}");
    assert_eq!(expected.to_json_without_serde(), json, "the web app's codec writes {expected:?} the same");
    let through_serde: ClientMessage = serde_json::from_str(json).expect("serde Deserialize agrees");
    assert_eq!(through_serde, expected);
}

fn server_round_trip(json: &str, expected: ServerMessage) {
    assert_eq!(ServerMessage::from_json(json), Ok(expected.clone()), "parsing {json}");
    assert_eq!(expected.to_json(), json, "serializing {expected:?}");
    assert_eq!(ServerMessage::from_json_without_serde(json), Ok(expected.clone()), "the web app's codec reads {json}");
    let through_serde: ServerMessage = serde_json::from_str(json).expect("serde Deserialize agrees");
    assert_eq!(through_serde, expected);
}

#[test]
fn client_login_classic() {
    client_round_trip(r#"{"type":"login","name":"alice"}"#, ClientMessage::login(name("alice")));
}

#[test]
fn client_login_with_resume_token() {
    client_round_trip(
        r#"{"type":"login","name":"alice","resume":"k3y"}"#,
        ClientMessage::Login {
            name: name("alice"),
            resume: Some(ResumeToken::from_wire("k3y")),
            in_call_with: None,
            keep_call_on_disconnect: false,
        },
    );
}

#[test]
fn client_offer_classic_keeps_sdp_bytes() {
    let json = format!(r#"{{"type":"offer","name":"bob","offer":{SDP}}}"#);
    client_round_trip(&json, ClientMessage::Offer { name: name("bob"), offer: sdp() });
}

#[test]
fn client_answer_classic() {
    let json = format!(r#"{{"type":"answer","name":"alice","answer":{SDP}}}"#);
    client_round_trip(&json, ClientMessage::Answer { name: name("alice"), answer: sdp() });
}

#[test]
fn client_candidate_classic() {
    let json = format!(r#"{{"type":"candidate","name":"bob","candidate":{ICE}}}"#);
    client_round_trip(&json, ClientMessage::Candidate { name: name("bob"), candidate: ice() });
}

#[test]
fn client_candidate_null_end_of_candidates_is_carried() {
    let json = r#"{"type":"candidate","name":"bob","candidate":null}"#;
    let candidate = IceCandidate::from_json("null").expect("null is JSON");
    client_round_trip(json, ClientMessage::Candidate { name: name("bob"), candidate });
}

#[test]
fn client_leave_classic_and_extended() {
    client_round_trip(
        r#"{"type":"leave","name":"bob"}"#,
        ClientMessage::Leave { name: Some(name("bob")), reason: None },
    );
    client_round_trip(
        r#"{"type":"leave","name":"alice","reason":"declined"}"#,
        ClientMessage::Leave { name: Some(name("alice")), reason: Some(LeaveReason::Declined) },
    );
    client_round_trip(r#"{"type":"leave"}"#, ClientMessage::Leave { name: None, reason: None });
}

#[test]
fn client_users_request() {
    client_round_trip(r#"{"type":"users"}"#, ClientMessage::Users);
}

#[test]
fn client_payloads_are_kept_byte_for_byte_with_odd_spacing_and_key_order() {
    let odd_sdp = r#"{ "sdp" : "v=0\r\n" ,"type":"answer" , "x":[1, 2.50, "\u00e9"] }"#;
    let json = format!(r#"{{"type":"answer","name":"alice","answer":{odd_sdp}}}"#);
    match ClientMessage::from_json(&json) {
        Ok(ClientMessage::Answer { answer, .. }) => assert_eq!(answer.as_json(), odd_sdp),
        other => panic!("expected an answer, got {other:?}"),
    }
}

#[test]
fn client_extra_fields_sent_by_classic_clients_are_ignored() {
    // The seed client's send() adds `name` to every message, login included.
    let parsed = ClientMessage::from_json(r#"{"type":"login","name":"alice","extra":{"a":1}}"#);
    assert_eq!(parsed, Ok(ClientMessage::login(name("alice"))));
}

#[test]
fn client_unknown_leave_reason_is_other() {
    assert_eq!(
        ClientMessage::from_json(r#"{"type":"leave","name":"bob","reason":"gremlins"}"#),
        Ok(ClientMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Other) })
    );
}

#[test]
fn client_leave_reason_failed_is_read() {
    assert_eq!(
        ClientMessage::from_json(r#"{"type":"leave","name":"bob","reason":"failed"}"#),
        Ok(ClientMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Failed) })
    );
}

#[test]
fn client_leave_reason_do_not_disturb_is_read_and_relayed_exactly() {
    assert_eq!(
        ClientMessage::from_json(r#"{"type":"leave","name":"alice","reason":"do_not_disturb"}"#),
        Ok(ClientMessage::Leave { name: Some(name("alice")), reason: Some(LeaveReason::DoNotDisturb) })
    );
    let relayed = ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::DoNotDisturb) };
    assert_eq!(relayed.to_json(), r#"{"type":"leave","name":"bob","reason":"do_not_disturb"}"#);
}

#[test]
fn client_bad_frames_give_specific_errors() {
    let cases: &[(&str, ErrorCode)] = &[
        ("not json", ErrorCode::InvalidJson),
        ("{\"type\":\"login\"", ErrorCode::InvalidJson),
        ("{\"type\":7", ErrorCode::InvalidJson),
        ("", ErrorCode::InvalidJson),
        ("null", ErrorCode::InvalidMessage),
        ("42", ErrorCode::InvalidMessage),
        ("[]", ErrorCode::InvalidMessage),
        ("\"login\"", ErrorCode::InvalidMessage),
        ("{}", ErrorCode::InvalidMessage),
        (r#"{"type":null}"#, ErrorCode::InvalidMessage),
        (r#"{"type":5}"#, ErrorCode::InvalidMessage),
        (r#"{"type":"login"}"#, ErrorCode::InvalidMessage),
        (r#"{"type":"login","name":5}"#, ErrorCode::InvalidMessage),
        (r#"{"type":"offer","name":"bob"}"#, ErrorCode::InvalidMessage),
        (r#"{"type":"answer","answer":{}}"#, ErrorCode::InvalidMessage),
        (r#"{"type":"candidate","name":"bob"}"#, ErrorCode::InvalidMessage),
        (r#"{"type":"dance"}"#, ErrorCode::UnknownType),
    ];
    for (frame, code) in cases {
        let error = ClientMessage::from_json(frame).expect_err(frame);
        assert_eq!(error.error_code(), *code, "{frame}: {error}");
    }
}

#[test]
fn client_unknown_type_keeps_classic_wording() {
    let error = ClientMessage::from_json(r#"{"type":"dance"}"#).expect_err("unknown type");
    assert_eq!(error.to_string(), "Command not found: dance");
    let not_an_object = ClientMessage::from_json("null").expect_err("null is no message");
    assert!(not_an_object.to_string().contains("expected a JSON object with a \"type\" field"), "{not_an_object}");
    let missing = ClientMessage::from_json(r#"{"type":"offer","name":"bob"}"#).expect_err("missing offer");
    assert_eq!(missing.to_string(), "A \"offer\" message needs a \"offer\" field");
}

#[test]
fn server_hello() {
    let hello = Hello {
        server: "duet".into(),
        version: "0.1.0".into(),
        protocol: PROTOCOL_VERSION,
        limits: Limits {
            max_frame_bytes: 65536,
            max_name_chars: 64,
            ring_timeout_secs: 45,
            idle_timeout_secs: 60,
            call_resume_grace_secs: None,
        },
        ice_servers: vec![
            IceServer { urls: vec!["stun:stun.example.org:3478".into()], username: None, credential: None },
            IceServer {
                urls: vec!["turn:turn.example.org:3478?transport=udp".into()],
                username: Some("1700000000:alice".into()),
                credential: Some("c2VjcmV0".into()),
            },
        ],
        features: Vec::new(),
    };
    server_round_trip(
        concat!(
            r#"{"type":"hello","server":"duet","version":"0.1.0","protocol":1,"#,
            r#""limits":{"maxFrameBytes":65536,"maxNameChars":64,"ringTimeoutSecs":45,"idleTimeoutSecs":60},"#,
            r#""iceServers":[{"urls":["stun:stun.example.org:3478"]},"#,
            r#"{"urls":["turn:turn.example.org:3478?transport=udp"],"username":"1700000000:alice","credential":"c2VjcmV0"}]}"#
        ),
        ServerMessage::Hello(hello),
    );
}

#[test]
fn server_login_classic_success_and_failure() {
    let success = ServerMessage::Login {
        success: true,
        name: None,
        resume: None,
        ice_servers: None,
        reason: None,
        message: None,
    };
    server_round_trip(r#"{"type":"login","success":true}"#, success);
    let failure = ServerMessage::Login {
        success: false,
        name: None,
        resume: None,
        ice_servers: None,
        reason: None,
        message: None,
    };
    server_round_trip(r#"{"type":"login","success":false}"#, failure);
}

#[test]
fn server_login_extended() {
    server_round_trip(
        r#"{"type":"login","success":true,"name":"alice","resume":"t0k"}"#,
        ServerMessage::Login {
            success: true,
            name: Some(name("alice")),
            resume: Some(ResumeToken::from_wire("t0k")),
            ice_servers: None,
            reason: None,
            message: None,
        },
    );
    server_round_trip(
        r#"{"type":"login","success":true,"name":"bob","resume":"t","iceServers":[{"urls":["turn:127.0.0.1:3478"],"username":"1700000000:bob","credential":"Y3JlZA=="}]}"#,
        ServerMessage::Login {
            success: true,
            name: Some(name("bob")),
            resume: Some(ResumeToken::from_wire("t")),
            ice_servers: Some(vec![IceServer {
                urls: vec!["turn:127.0.0.1:3478".into()],
                username: Some("1700000000:bob".into()),
                credential: Some("Y3JlZA==".into()),
            }]),
            reason: None,
            message: None,
        },
    );
    server_round_trip(
        r#"{"type":"login","success":false,"reason":"taken","message":"Someone online already uses the name \"alice\"."}"#,
        ServerMessage::Login {
            success: false,
            name: None,
            resume: None,
            ice_servers: None,
            reason: Some(LoginFailure::Taken),
            message: Some("Someone online already uses the name \"alice\".".into()),
        },
    );
    server_round_trip(
        r#"{"type":"login","success":false,"reason":"invalid","message":"A name cannot be empty."}"#,
        ServerMessage::Login {
            success: false,
            name: None,
            resume: None,
            ice_servers: None,
            reason: Some(LoginFailure::Invalid),
            message: Some("A name cannot be empty.".into()),
        },
    );
}

#[test]
fn server_offer_classic_field_order() {
    let json = format!(r#"{{"type":"offer","offer":{SDP},"name":"alice"}}"#);
    server_round_trip(&json, ServerMessage::Offer { offer: sdp(), name: name("alice") });
}

#[test]
fn server_answer_classic_and_with_name() {
    server_round_trip(
        &format!(r#"{{"type":"answer","answer":{SDP}}}"#),
        ServerMessage::Answer { answer: sdp(), name: None },
    );
    server_round_trip(
        &format!(r#"{{"type":"answer","answer":{SDP},"name":"bob"}}"#),
        ServerMessage::Answer { answer: sdp(), name: Some(name("bob")) },
    );
}

#[test]
fn server_candidate_classic_and_with_name() {
    server_round_trip(
        &format!(r#"{{"type":"candidate","candidate":{ICE}}}"#),
        ServerMessage::Candidate { candidate: ice(), name: None },
    );
    server_round_trip(
        &format!(r#"{{"type":"candidate","candidate":{ICE},"name":"alice"}}"#),
        ServerMessage::Candidate { candidate: ice(), name: Some(name("alice")) },
    );
}

#[test]
fn server_leave_classic_and_every_reason() {
    server_round_trip(r#"{"type":"leave"}"#, ServerMessage::Leave { name: None, reason: None });
    for (word, reason) in [
        ("hangup", LeaveReason::Hangup),
        ("declined", LeaveReason::Declined),
        ("busy", LeaveReason::Busy),
        ("disconnected", LeaveReason::Disconnected),
        ("timeout", LeaveReason::Timeout),
    ] {
        server_round_trip(
            &format!(r#"{{"type":"leave","name":"bob","reason":"{word}"}}"#),
            ServerMessage::Leave { name: Some(name("bob")), reason: Some(reason) },
        );
    }
}

#[test]
fn server_users() {
    server_round_trip(
        r#"{"type":"users","users":["bob","carol"]}"#,
        ServerMessage::Users { users: vec![name("bob"), name("carol")] },
    );
}

#[test]
fn server_error_classic_and_every_code() {
    server_round_trip(
        r#"{"type":"error","message":"Command not found: dance"}"#,
        ServerMessage::Error { message: "Command not found: dance".into(), code: None },
    );
    for code in [
        ErrorCode::InvalidJson,
        ErrorCode::BinaryFrame,
        ErrorCode::InvalidMessage,
        ErrorCode::UnknownType,
        ErrorCode::NotLoggedIn,
        ErrorCode::AlreadyLoggedIn,
        ErrorCode::UserNotFound,
        ErrorCode::NotInCall,
        ErrorCode::CannotCallSelf,
        ErrorCode::AlreadyInCall,
        ErrorCode::RateLimited,
        ErrorCode::PeerUnavailable,
    ] {
        let json = format!(r#"{{"type":"error","message":"m","code":"{}"}}"#, code.as_str());
        server_round_trip(&json, ServerMessage::error(code, "m"));
    }
}

#[test]
fn server_unknown_codes_from_newer_servers_parse_as_other() {
    assert_eq!(
        ServerMessage::from_json(r#"{"type":"error","message":"m","code":"brand_new"}"#),
        Ok(ServerMessage::Error { message: "m".into(), code: Some(ErrorCode::Other) })
    );
}

#[test]
fn login_names_are_trimmed_and_validated() {
    assert_eq!(UserName::parse_login("  alice \t").map(UserName::into_string), Ok("alice".to_owned()));
    assert_eq!(UserName::parse_login("Zoë 🎥").map(UserName::into_string), Ok("Zoë 🎥".to_owned()));
    assert_eq!(UserName::parse_login(""), Err(NameError::Empty));
    assert_eq!(UserName::parse_login("   "), Err(NameError::Empty));
    assert_eq!(UserName::parse_login("a\nb"), Err(NameError::ControlCharacter));
    assert_eq!(UserName::parse_login("a\u{0}b"), Err(NameError::ControlCharacter));
    let longest = "é".repeat(MAX_NAME_CHARS);
    assert!(UserName::parse_login(&longest).is_ok(), "64 two-byte characters are fine");
    assert_eq!(UserName::parse_login(&"x".repeat(65)), Err(NameError::TooLong { chars: 65 }));
    // Issue 13: kept in NFC; nothing invisible, direction-changing or mixing look-alike scripts.
    assert_eq!(UserName::parse_login(" Rene\u{301} ").map(UserName::into_string), Ok("Ren\u{E9}".to_owned()));
    assert_eq!(UserName::parse_login("\u{200B}"), Err(NameError::InvisibleOnly));
    assert_eq!(UserName::parse_login("ali\u{200B}ce"), Err(NameError::InvisibleCharacter { character: '\u{200B}' }));
    assert_eq!(UserName::parse_login("\u{202E}ecila"), Err(NameError::DirectionControl { character: '\u{202E}' }));
    assert_eq!(
        UserName::parse_login("\u{430}lice"),
        Err(NameError::MixedScripts { first: "Latin", second: "Cyrillic" })
    );
}

#[test]
fn plain_ascii_names_differ_only_by_case_in_their_key() {
    let key = |raw: &str| UserName::parse_login(raw).expect("valid").key();
    assert_eq!(key("Alice"), key("alice"), "Alice and alice are one person now");
    assert_ne!(key("alice"), key("alice2"));
    assert_ne!(key("bob"), key("rob"));
}

#[test]
fn debug_output_never_contains_sdp_bodies() {
    let debug = format!("{:?}", ClientMessage::Offer { name: name("bob"), offer: sdp() });
    assert!(!debug.contains("v=0"), "{debug}");
    let token = format!("{:?}", ResumeToken::from_wire("secret-token"));
    assert!(!token.contains("secret"), "{token}");
}

#[test]
fn client_presence_subscribe() {
    client_round_trip(r#"{"type":"presence_subscribe"}"#, ClientMessage::PresenceSubscribe);
}

#[test]
fn client_presence_query() {
    client_round_trip(
        r#"{"type":"presence_query","names":["bob","carol"]}"#,
        ClientMessage::PresenceQuery { names: vec![name("bob"), name("carol")] },
    );
    let missing = ClientMessage::from_json(r#"{"type":"presence_query"}"#).expect_err("names is required");
    assert_eq!(missing, ParseError::MissingField { message_type: "presence_query", field: "names" });
}

#[test]
fn server_presence_joined_left_and_online() {
    server_round_trip(
        r#"{"type":"presence","joined":["bob"]}"#,
        ServerMessage::Presence { joined: Some(vec![name("bob")]), left: None, online: None },
    );
    server_round_trip(
        r#"{"type":"presence","left":["bob"]}"#,
        ServerMessage::Presence { joined: None, left: Some(vec![name("bob")]), online: None },
    );
    server_round_trip(
        r#"{"type":"presence","online":["bob"]}"#,
        ServerMessage::Presence { joined: None, left: None, online: Some(vec![name("bob")]) },
    );
}

#[test]
fn server_hello_announces_presence_features() {
    let json = concat!(
        r#"{"type":"hello","server":"duet","version":"0.1.0","protocol":1,"#,
        r#""limits":{"maxFrameBytes":65536,"maxNameChars":64,"ringTimeoutSecs":45,"idleTimeoutSecs":60},"#,
        r#""iceServers":[],"features":["presence","presence_query"]}"#
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
            call_resume_grace_secs: None,
        },
        ice_servers: Vec::new(),
        features: vec![FEATURE_PRESENCE.into(), FEATURE_PRESENCE_QUERY.into()],
    };
    assert!(hello.supports(FEATURE_PRESENCE));
    server_round_trip(json, ServerMessage::Hello(hello));
}
