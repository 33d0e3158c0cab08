//! The web app's hand-written codec (`ClientMessage::to_json_without_serde`,
//! `ServerMessage::from_json_without_serde`) against the server's serde codec, beyond the exact
//! fixtures: frames in other shapes (key order, white space, escapes, `null`s, unknown fields)
//! read as the same message, bad frames fail with the same kind of error, and every message the
//! app sends is written byte for byte the same.

use protocol::*;

const SDP: &str = r#"{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}"#;
const ICE: &str =
    r#"{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0}"#;

/// The kind of a parse error (its words come from each codec's own reader).
fn kind(error: &ParseError) -> String {
    match error {
        ParseError::InvalidJson(_) => "invalid json".to_owned(),
        ParseError::InvalidShape(_) => "invalid shape".to_owned(),
        other => other.to_string(),
    }
}

fn both_read_the_same(frame: &str) {
    let theirs = ServerMessage::from_json(frame);
    let ours = ServerMessage::from_json_without_serde(frame);
    match (&theirs, &ours) {
        (Ok(theirs), Ok(ours)) => assert_eq!(ours, theirs, "{frame}"),
        (Err(theirs), Err(ours)) => assert_eq!(kind(ours), kind(theirs), "{frame}: {ours:?} / {theirs:?}"),
        _ => panic!("{frame}: serde {theirs:?}, by hand {ours:?}"),
    }
}

#[test]
fn server_frames_in_other_shapes_read_as_the_same_message() {
    let frames = [
        format!(" {{ \"name\" : \"b\\u00f6b\" , \"offer\" : {SDP} , \"type\" : \"offer\" }} "),
        format!(r#"{{"type":"answer","answer":{SDP},"name":null,"extra":{{"nested":[1,{{"x":"\ud800"}}]}}}}"#),
        r#"{"type":"candidate","candidate":null}"#.to_owned(),
        format!(r#"{{"type":"candidate","candidate":{ICE},"name":"Zoë 🎈"}}"#),
        r#"{"type":"leave","reason":"gremlins"}"#.to_owned(),
        r#"{"type":"leave","name":"bob","reason":null}"#.to_owned(),
        r#"{"type":"login","success":false,"reason":"taken","message":"Name \"bob\" is taken"}"#.to_owned(),
        r#"{"type":"login","success":true,"name":"bob","resume":"t0k","iceServers":[{"urls":["turn:x"],"username":"u","credential":"c"}]}"#.to_owned(),
        r#"{"type":"login","success":true,"iceServers":null}"#.to_owned(),
        r#"{"type":"hello","protocol":1,"limits":{"maxFrameBytes":65536,"maxNameChars":64,"ringTimeoutSecs":30,"idleTimeoutSecs":60,"later":true},"iceServers":[{"urls":["stun:s"]}]}"#.to_owned(),
        r#"{"type":"hello","server":"classic?","version":"9","protocol":1,"limits":{"maxFrameBytes":1,"maxNameChars":2,"ringTimeoutSecs":3,"idleTimeoutSecs":4,"callResumeGraceSecs":null},"iceServers":[],"features":["presence","x"]}"#.to_owned(),
        r#"{"type":"users","users":[]}"#.to_owned(),
        r#"{"type":"users"}"#.to_owned(),
        r#"{"type":"users","extra":1,"extra":2,"skipped":"\ud800"}"#.to_owned(),
        r#"{"type":"presence","joined":["a"],"left":null}"#.to_owned(),
        r#"{"type":"presence","online":["a","b"]}"#.to_owned(),
        r#"{"type":"call_resumed","name":"bob"}"#.to_owned(),
        r#"{"type":"credentials","resume":"r"}"#.to_owned(),
        r#"{"type":"error","message":"Command not found: dance","code":"unknown_type"}"#.to_owned(),
        r#"{"type":"error","code":"something_new"}"#.to_owned(),
        r#"{"type":"error"}"#.to_owned(),
    ];
    for frame in &frames {
        assert!(ServerMessage::from_json(frame).is_ok(), "{frame} is a message");
        both_read_the_same(frame);
    }
}

#[test]
fn bad_server_frames_fail_the_same_way() {
    let frames = [
        "",
        "not json",
        "{\"type\":\"users\"} trailing",
        "{\"type\":\"users\",}",
        "null",
        "\"users\"",
        "{}",
        "{\"type\":null}",
        "{\"type\":7}",
        "{\"type\":\"dance\"}",
        "{\"type\":\"offer\",\"name\":\"bob\"}",
        "{\"type\":\"offer\",\"offer\":{}}",
        "{\"type\":\"login\"}",
        "{\"type\":\"login\",\"success\":\"yes\"}",
        "{\"type\":\"users\",\"name\":7}",
        "{\"type\":\"users\",\"users\":[\"a\",null]}",
        "{\"type\":\"users\",\"users\":\"a\"}",
        "{\"type\":\"users\",\"type\":\"users\"}",
        "{\"type\":\"users\",\"name\":\"\\ud800\"}",
        "{\"type\":\"users\",\"\\ud800\":1}",
        "{\"type\":\"hello\",\"protocol\":1}",
        "{\"type\":\"hello\",\"protocol\":-1,\"limits\":{}}",
        "{\"type\":\"hello\",\"protocol\":4294967296}",
        "{\"type\":\"hello\",\"protocol\":1.0}",
        "{\"type\":\"hello\",\"protocol\":1,\"limits\":{\"maxFrameBytes\":1}}",
        "{\"type\":\"hello\",\"protocol\":1,\"limits\":{\"maxFrameBytes\":1,\"maxNameChars\":2,\"ringTimeoutSecs\":3,\"idleTimeoutSecs\":null}}",
        "{\"type\":\"hello\",\"protocol\":1,\"limits\":[]}",
        "{\"type\":\"login\",\"success\":true,\"iceServers\":[{\"username\":\"u\"}]}",
        "{\"type\":\"login\",\"success\":true,\"iceServers\":[{\"urls\":null}]}",
        "{\"type\":\"login\",\"success\":true,\"iceServers\":[{\"urls\":[],\"urls\":[]}]}",
        "{\"type\":\"error\",\"code\":3}",
        "{\"type\":\"error\",\"code\":{}}",
        "{\"type\":\"error\",\"code\":[\"x\"]}",
        "{\"type\":\"candidate\",\"candidate\":{\"a\":}}",
        "{\"type\":\"candidate\"\"candidate\":1}",
    ];
    for frame in frames {
        assert!(ServerMessage::from_json(frame).is_err(), "{frame} is no message");
        both_read_the_same(frame);
    }
}

#[test]
fn a_message_written_as_a_list_is_refused_by_hand_though_serde_reads_it_by_position() {
    // serde's derived struct also reads `["users"]` (fields by position); no server writes that,
    // and the app's codec reads objects only.
    assert!(ServerMessage::from_json(r#"["users"]"#).is_ok());
    assert!(matches!(ServerMessage::from_json_without_serde(r#"["users"]"#), Err(ParseError::InvalidShape(_))));
}

#[test]
fn every_message_the_app_sends_is_written_the_same() {
    let name = UserName::from_wire;
    let sdp = SessionDescription::from_json(SDP).expect("JSON");
    let awkward = "quote\" back\\slash tab\t nul\u{0} del\u{7f} Zoë 🎈 \u{2028}";
    let mut messages = vec![
        ClientMessage::login(name("alice")),
        ClientMessage::login(name(awkward)),
        ClientMessage::Login {
            name: name("alice"),
            resume: Some(ResumeToken::from_wire("t0k.en")),
            in_call_with: Some(name("bob")),
            keep_call_on_disconnect: true,
        },
        ClientMessage::Offer { name: name("bob"), offer: sdp.clone() },
        ClientMessage::Answer { name: name(awkward), answer: sdp },
        ClientMessage::Candidate { name: name("bob"), candidate: IceCandidate::from_json(ICE).expect("JSON") },
        ClientMessage::Candidate { name: name("bob"), candidate: IceCandidate::from_json(" null ").expect("JSON") },
        ClientMessage::Leave { name: None, reason: None },
        ClientMessage::Users,
        ClientMessage::PresenceSubscribe,
        ClientMessage::PresenceQuery { names: vec![] },
        ClientMessage::PresenceQuery { names: vec![name("a"), name(awkward)] },
    ];
    for reason in [
        LeaveReason::Hangup,
        LeaveReason::Declined,
        LeaveReason::Busy,
        LeaveReason::Disconnected,
        LeaveReason::Timeout,
        LeaveReason::Failed,
        LeaveReason::DoNotDisturb,
        LeaveReason::Other,
    ] {
        messages.push(ClientMessage::Leave { name: Some(name("bob")), reason: Some(reason) });
    }
    for message in messages {
        assert_eq!(message.to_json_without_serde(), message.to_json(), "{message:?}");
    }
}

#[test]
fn ice_servers_are_written_for_the_browser_as_serde_writes_them() {
    let servers = [
        IceServer { urls: vec!["stun:stun.example.org:3478".to_owned()], username: None, credential: None },
        IceServer {
            urls: vec!["turn:t.example.org?transport=udp".to_owned(), "turns:t.example.org:443".to_owned()],
            username: Some("1733300000:alice \"quoted\"".to_owned()),
            credential: Some("c/R+e=d\\".to_owned()),
        },
        IceServer { urls: vec![], username: None, credential: Some("only".to_owned()) },
    ];
    for list in [&servers[..], &servers[..1], &[]] {
        assert_eq!(IceServer::list_to_json(list), serde_json::to_string(list).expect("serializes"));
    }
}
