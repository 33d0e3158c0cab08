//! The fast path of the most frequent frame, a relayed ICE candidate: a client `candidate` in
//! canonical key order (`{"type":"candidate","name":"…","candidate":…}`, how the app and the
//! classic clients write it) is recognised by its bytes, its payload validated as raw JSON
//! without building anything, and the relayed frame spliced from the payload's bytes and the
//! sender's name. The result is byte for byte what
//! [`crate::ServerMessage::Candidate`] serializes to; anything else (other key orders, escapes
//! in the name, extra fields) takes the general parser.

use serde_json::value::RawValue;

const CLIENT_PREFIX: &str = r#"{"type":"candidate","name":""#;
const CLIENT_PAYLOAD_KEY: &str = r#"","candidate":"#;
const SERVER_PREFIX: &str = r#"{"type":"candidate","candidate":"#;
const SERVER_NAME_KEY: &str = r#","name":"#;

/// A client `candidate` frame in canonical form, borrowed from the frame's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidateFrame<'a> {
    /// The peer's name as written (no escapes, so the same as the decoded string).
    pub name: &'a str,
    /// The payload, valid JSON, without surrounding white space.
    pub candidate: &'a str,
}

impl<'a> CandidateFrame<'a> {
    /// `Some` only when `text` is a canonical `candidate` frame whose payload is valid JSON;
    /// `None` means "use [`crate::ClientMessage::from_json`]", never "invalid".
    pub fn parse(text: &'a str) -> Option<CandidateFrame<'a>> {
        let rest = text.strip_prefix(CLIENT_PREFIX)?;
        let name_end = rest.find('"')?;
        let name = &rest[..name_end];
        if name.bytes().any(|byte| byte == b'\\' || byte < 0x20) {
            return None;
        }
        let payload = rest[name_end..].strip_prefix(CLIENT_PAYLOAD_KEY)?.strip_suffix('}')?;
        let candidate: &RawValue = serde_json::from_str(payload).ok()?;
        Some(CandidateFrame { name, candidate: candidate.get() })
    }
}

/// The server's `candidate` frame for `candidate` (valid JSON, as [`CandidateFrame`] or
/// [`crate::IceCandidate::as_json`] hold it) from `sender`:
/// `{"type":"candidate","candidate":…,"name":"…"}`. A name that needs no escapes (nearly all)
/// is copied as it is; others are escaped as serde_json does.
pub fn relayed_candidate(candidate: &str, sender: &str) -> String {
    let length = SERVER_PREFIX.len() + candidate.len() + SERVER_NAME_KEY.len() + sender.len() + 3;
    let mut frame = String::with_capacity(length);
    frame.push_str(SERVER_PREFIX);
    frame.push_str(candidate);
    frame.push_str(SERVER_NAME_KEY);
    if sender.bytes().any(|byte| byte == b'"' || byte == b'\\' || byte < 0x20) {
        let escaped =
            serde_json::to_string(sender).unwrap_or_else(|error| unreachable!("a string serializes: {error}"));
        frame.push_str(&escaped);
    } else {
        frame.push('"');
        frame.push_str(sender);
        frame.push('"');
    }
    frame.push('}');
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientMessage, IceCandidate, ServerMessage, UserName};

    const ICE: &str =
        r#"{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0}"#;

    #[test]
    fn canonical_candidate_frames_are_recognised_and_agree_with_the_parser() {
        for (name, candidate) in [("bob", ICE), ("Zoë 🎈", ICE), ("bob", "null"), ("a b", r#"{"x":[1,{"y":"\"}"}]}"#)]
        {
            let text = format!(r#"{{"type":"candidate","name":"{name}","candidate":{candidate}}}"#);
            let frame = CandidateFrame::parse(&text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(frame, CandidateFrame { name, candidate });
            let parsed = ClientMessage::from_json(&text).expect("the parser accepts it too");
            let ClientMessage::Candidate { name: parsed_name, candidate: parsed_candidate } = parsed else {
                panic!("{parsed:?}")
            };
            assert_eq!(parsed_name.as_str(), frame.name);
            assert_eq!(parsed_candidate.as_json(), frame.candidate);
        }
    }

    #[test]
    fn anything_but_the_canonical_form_is_left_to_the_parser() {
        for text in [
            format!(r#"{{"type":"candidate","candidate":{ICE},"name":"bob"}}"#),
            format!(r#"{{"type":"candidate","name":"b\"ob","candidate":{ICE}}}"#),
            format!(r#"{{"type":"candidate","name":"b\u0062","candidate":{ICE}}}"#),
            format!("{{\"type\":\"candidate\",\"name\":\"b\tob\",\"candidate\":{ICE}}}"),
            format!(r#"{{"type":"candidate","name":"bob","candidate":{ICE},"extra":1}}"#),
            format!(r#"{{"type":"candidate","name":"bob","candidate":{ICE}}} "#),
            format!(r#"{{"type":"candidate","name":"bob","candidate":{ICE}}}}}"#),
            r#"{"type":"candidate","name":"bob","candidate":{"unterminated":}"#.to_owned(),
            r#"{"type":"candidate","name":"bob","candidate":}"#.to_owned(),
            r#"{"type":"candidate","name":"bob"}"#.to_owned(),
            r#"{"type":"offer","name":"bob","offer":{}}"#.to_owned(),
        ] {
            assert_eq!(CandidateFrame::parse(&text), None, "{text}");
        }
    }

    #[test]
    fn the_spliced_frame_is_byte_for_byte_the_serialized_message() {
        for sender in ["alice", "Zoë 🎈", "quote\"back\\slash", "tab\tnew\nline", "\u{1f}control"] {
            for candidate in [ICE, "null", r#"{"candidate":"x","sdpMid":null}"#] {
                let serialized = ServerMessage::Candidate {
                    candidate: IceCandidate::from_json(candidate).expect("JSON"),
                    name: Some(UserName::from_wire(sender)),
                }
                .to_json();
                assert_eq!(relayed_candidate(candidate, sender), serialized);
            }
        }
    }
}
