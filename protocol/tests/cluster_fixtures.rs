//! Exact-JSON fixtures for cluster mode (issue 12): a login refused, or any other request
//! answered, with `unavailable` while the server cannot reach its shared directory (Redis).

use protocol::*;

fn server_round_trip(json: &str, expected: ServerMessage) {
    assert_eq!(ServerMessage::from_json(json), Ok(expected.clone()), "parsing {json}");
    assert_eq!(expected.to_json(), json, "serializing {expected:?}");
    assert_eq!(ServerMessage::from_json_without_serde(json), Ok(expected), "the web app's codec reads {json}");
}

#[test]
fn server_login_refused_because_the_shared_directory_is_unavailable() {
    server_round_trip(
        r#"{"type":"login","success":false,"reason":"unavailable","message":"m"}"#,
        ServerMessage::Login {
            success: false,
            name: None,
            resume: None,
            ice_servers: None,
            reason: Some(LoginFailure::Unavailable),
            message: Some("m".into()),
        },
    );
}

#[test]
fn server_error_unavailable() {
    server_round_trip(
        r#"{"type":"error","message":"m","code":"unavailable"}"#,
        ServerMessage::error(ErrorCode::Unavailable, "m"),
    );
    assert_eq!(ErrorCode::Unavailable.as_str(), "unavailable");
}
