//! What the two apps of a call say to each other, peer to peer, on the call's one negotiated
//! `RTCDataChannel` (never through the signaling server): [`PeerMessage`], sent as a small JSON
//! object with a version field, `{"v":1,"type":"media_state",...}`, `{"v":1,"type":"chat",...}` or
//! `{"v":1,"type":"reveal","nonce":"<64 hex digits>"}`, `{"v":1,"type":"hang_up"}` or
//! `{"v":1,"type":"restart_ice"}`.
//!
//! Pure: encoding and decoding are unit-tested natively. Everything from the peer is untrusted:
//! [`decode`] refuses other versions, unknown types, oversized frames and over-long chat text
//! instead of failing anything, and chat text is only ever rendered as text.

use crate::text_search::find_text;
use protocol::json;
use std::borrow::Cow;

/// The version this app speaks; a message with another `v` is ignored.
pub const PEER_MESSAGE_VERSION: u32 = 1;

/// Longest chat message, in characters (typing more is cut at this length).
pub const MAX_CHAT_CHARS: usize = 1000;

/// Longest frame accepted from the peer, in bytes (a chat message of `MAX_CHAT_CHARS` 4-byte
/// characters, JSON-escaped, fits well inside).
const MAX_FRAME_BYTES: usize = 16 * 1024;

/// One message between the two apps of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerMessage {
    /// The sender's microphone and camera, sent when the channel opens and on every change.
    MediaState { muted: bool, camera_off: bool, sharing_screen: bool },
    /// A chat message (plain text, at most [`MAX_CHAT_CHARS`] characters).
    Chat { text: String },
    /// The sender's verification nonce (64 hex digits), revealed once when the channel opens;
    /// it must open the commitment its offer or answer carried (`crate::verification`).
    Reveal { nonce: String },
    /// `{"v":1,"type":"hang_up"}`: the sender hung up while its signaling server was away, so
    /// the `leave` could not go through the server; the receiver ends the call at once.
    HangUp {},
    /// `{"v":1,"type":"restart_ice"}`, sent by the polite side (the callee) while the call is
    /// connected: "restart ICE for both of us". The impolite side makes the offer, so the two
    /// never offer at once (Chromium leaves the polite side's remote video without frames
    /// after it rolls an offer back, see `peer/negotiation.rs`).
    RestartIce {},
}

/// Why a frame from the peer was ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerMessageError {
    TooLarge,
    /// Not JSON, no `v`, or an unknown `type` (in words).
    Unreadable(String),
    /// A version this app does not speak.
    UnsupportedVersion(u32),
    /// A chat message longer than [`MAX_CHAT_CHARS`].
    ChatTooLong,
}

// Encoded and decoded by hand with `protocol::json` (the app's wasm has no serde_json); the
// wire form is what serde_json wrote before, which the tests check.

/// `"text"` as a JSON string (quotes and escapes).
fn json_string(text: &str) -> String {
    json::quoted_string(text)
}

/// A frame's object members: each key once (the last copy wins, as in a JSON object read into
/// a map).
struct FrameObject<'a>(json::Members<'a>);

impl<'a> FrameObject<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0.iter().rev().find(|(name, _)| name == key).map(|(_, value)| *value)
    }
}

impl PeerMessage {
    /// The JSON frame for the data channel.
    pub fn encode(&self) -> String {
        let fields = match self {
            PeerMessage::MediaState { muted, camera_off, sharing_screen } => format!(
                r#""type":"media_state","muted":{muted},"camera_off":{camera_off},"sharing_screen":{sharing_screen}"#
            ),
            PeerMessage::Chat { text } => format!(r#""type":"chat","text":{}"#, json_string(text)),
            PeerMessage::Reveal { nonce } => format!(r#""type":"reveal","nonce":{}"#, json_string(nonce)),
            PeerMessage::HangUp {} => r#""type":"hang_up""#.to_owned(),
            PeerMessage::RestartIce {} => r#""type":"restart_ice""#.to_owned(),
        };
        format!(r#"{{"v":{PEER_MESSAGE_VERSION},{fields}}}"#)
    }

    /// The message in a frame's object (its `v` already checked): `type` names the variant,
    /// whose fields must be there with their types; other fields are ignored.
    fn from_object(object: &FrameObject<'_>) -> Result<PeerMessage, PeerMessageError> {
        let unreadable = |what: &str| PeerMessageError::Unreadable(what.to_owned());
        let string = |field: &str| object.get(field).and_then(|value| json::string(value).ok().flatten());
        let flag = |field: &str| object.get(field).and_then(json::boolean).ok_or_else(|| unreadable(field));
        let text = |field: &str| string(field).map(Cow::into_owned).ok_or_else(|| unreadable(field));
        match string("type").as_deref() {
            Some("media_state") => Ok(PeerMessage::MediaState {
                muted: flag("muted")?,
                camera_off: flag("camera_off")?,
                sharing_screen: flag("sharing_screen")?,
            }),
            Some("chat") => Ok(PeerMessage::Chat { text: text("text")? }),
            Some("reveal") => Ok(PeerMessage::Reveal { nonce: text("nonce")? }),
            Some("hang_up") => Ok(PeerMessage::HangUp {}),
            Some("restart_ice") => Ok(PeerMessage::RestartIce {}),
            _ => Err(unreadable("unknown type")),
        }
    }
}

/// Reads a frame the peer sent.
pub fn decode(text: &str) -> Result<PeerMessage, PeerMessageError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(PeerMessageError::TooLarge);
    }
    let unreadable = |error: json::SyntaxError| PeerMessageError::Unreadable(error.to_string());
    let frame = json::value(text).map_err(unreadable)?;
    let Some(members) = json::members(frame).map_err(unreadable)? else {
        return Err(PeerMessageError::Unreadable("not a JSON object".to_owned()));
    };
    let object = FrameObject(members);
    match object.get("v").and_then(json::unsigned) {
        Some(v) if v == u64::from(PEER_MESSAGE_VERSION) => {}
        Some(v) => return Err(PeerMessageError::UnsupportedVersion(u32::try_from(v).unwrap_or(u32::MAX))),
        None => return Err(PeerMessageError::Unreadable("no version field".to_owned())),
    }
    let message = PeerMessage::from_object(&object)?;
    if let PeerMessage::Chat { text } = &message {
        if text.chars().count() > MAX_CHAT_CHARS {
            return Err(PeerMessageError::ChatTooLong);
        }
    }
    Ok(message)
}

/// A piece of chat text: plain text, or a link to show as `<a>` (only `http://` and `https://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatPiece {
    Text(String),
    Link(String),
}

/// Splits chat text into text and web links, so the view can render links as anchors and the
/// rest as text (never as HTML). A trailing `.`, `,`, `)` and the like stays outside the link.
pub fn chat_pieces(text: &str) -> Vec<ChatPiece> {
    let mut pieces = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let next_link = ["https://", "http://"].iter().filter_map(|scheme| find_text(rest, scheme)).min();
        let Some(start) = next_link else {
            plain.push_str(rest);
            break;
        };
        plain.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let mut link = &after[..end];
        while link.ends_with(['.', ',', ')', '!', '?', ';', ':', '"', '\'']) {
            link = &link[..link.len() - 1];
        }
        let scheme_only = link == "https://" || link == "http://";
        if scheme_only {
            plain.push_str(link);
        } else {
            if !plain.is_empty() {
                pieces.push(ChatPiece::Text(std::mem::take(&mut plain)));
            }
            pieces.push(ChatPiece::Link(link.to_owned()));
        }
        rest = &after[link.len()..];
    }
    if !plain.is_empty() {
        pieces.push(ChatPiece::Text(plain));
    }
    pieces
}

/// Chat text as typed, trimmed and cut to [`MAX_CHAT_CHARS`]; `None` when nothing is left.
pub fn chat_text_to_send(typed: &str) -> Option<String> {
    let trimmed = typed.trim();
    (!trimmed.is_empty()).then(|| trimmed.chars().take(MAX_CHAT_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_state_is_a_versioned_json_object() {
        let message = PeerMessage::MediaState { muted: true, camera_off: false, sharing_screen: false };
        assert_eq!(
            message.encode(),
            r#"{"v":1,"type":"media_state","muted":true,"camera_off":false,"sharing_screen":false}"#
        );
        assert_eq!(decode(&message.encode()), Ok(message));
    }

    #[test]
    fn hang_up_is_a_versioned_json_object_with_nothing_else() {
        let message = PeerMessage::HangUp {};
        assert_eq!(message.encode(), r#"{"v":1,"type":"hang_up"}"#);
        assert_eq!(decode(&message.encode()), Ok(message));
        let message = PeerMessage::RestartIce {};
        assert_eq!(message.encode(), r#"{"v":1,"type":"restart_ice"}"#);
        assert_eq!(decode(&message.encode()), Ok(message));
    }

    #[test]
    fn fields_of_the_wrong_type_are_refused_and_unknown_fields_ignored() {
        let wrong_type = r#"{"v":1,"type":"media_state","muted":"yes","camera_off":false,"sharing_screen":false}"#;
        assert!(matches!(decode(wrong_type), Err(PeerMessageError::Unreadable(_))));
        assert!(matches!(decode(r#"{"v":1,"type":"chat","text":7}"#), Err(PeerMessageError::Unreadable(_))));
        assert!(matches!(decode(r#"[1,"chat"]"#), Err(PeerMessageError::Unreadable(_))));
        assert_eq!(decode(r#"{"v":1,"type":"hang_up","later":{"x":[1]}}"#), Ok(PeerMessage::HangUp {}));
        let nonce = "ab".repeat(32);
        let reveal = format!(r#"{{"nonce":"{nonce}","type":"reveal","v":1}}"#);
        assert_eq!(decode(&reveal), Ok(PeerMessage::Reveal { nonce }));
    }

    #[test]
    fn chat_round_trips_with_markup_kept_as_text() {
        let message = PeerMessage::Chat { text: "<b>hi</b> \"there\"".to_owned() };
        assert_eq!(message.encode(), r#"{"v":1,"type":"chat","text":"<b>hi</b> \"there\""}"#);
        assert_eq!(decode(&message.encode()), Ok(message));
    }

    #[test]
    fn other_versions_unknown_types_and_garbage_are_refused() {
        assert_eq!(decode(r#"{"v":2,"type":"chat","text":"hi"}"#), Err(PeerMessageError::UnsupportedVersion(2)));
        assert!(matches!(decode(r#"{"type":"chat","text":"hi"}"#), Err(PeerMessageError::Unreadable(_))));
        assert!(matches!(decode(r#"{"v":1,"type":"launch","text":"hi"}"#), Err(PeerMessageError::Unreadable(_))));
        assert!(matches!(decode(r#"{"v":1,"type":"media_state"}"#), Err(PeerMessageError::Unreadable(_))));
        assert!(matches!(decode("not json"), Err(PeerMessageError::Unreadable(_))));
        assert_eq!(decode(&"x".repeat(MAX_FRAME_BYTES + 1)), Err(PeerMessageError::TooLarge));
    }

    #[test]
    fn chat_longer_than_the_limit_is_refused_from_the_peer_and_cut_when_typed() {
        let long = "é".repeat(MAX_CHAT_CHARS + 1);
        let frame = format!(r#"{{"v":1,"type":"chat","text":"{long}"}}"#);
        assert_eq!(decode(&frame), Err(PeerMessageError::ChatTooLong));
        let cut = chat_text_to_send(&long).expect("text");
        assert_eq!(cut.chars().count(), MAX_CHAT_CHARS);
        assert_eq!(chat_text_to_send("   \n "), None);
        assert_eq!(chat_text_to_send("  hi  "), Some("hi".to_owned()));
    }

    #[test]
    fn links_are_split_out_with_trailing_punctuation_left_as_text() {
        assert_eq!(
            chat_pieces("see https://example.org/a?b=1, and http://x.test."),
            vec![
                ChatPiece::Text("see ".to_owned()),
                ChatPiece::Link("https://example.org/a?b=1".to_owned()),
                ChatPiece::Text(", and ".to_owned()),
                ChatPiece::Link("http://x.test".to_owned()),
                ChatPiece::Text(".".to_owned()),
            ]
        );
        assert_eq!(chat_pieces("no links here"), vec![ChatPiece::Text("no links here".to_owned())]);
        assert_eq!(chat_pieces("javascript:alert(1)"), vec![ChatPiece::Text("javascript:alert(1)".to_owned())]);
        assert_eq!(chat_pieces("https:// alone"), vec![ChatPiece::Text("https:// alone".to_owned())]);
    }
}
