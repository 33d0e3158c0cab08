//! Messages from a client to the server, and the parser that turns a text frame into one.

use crate::names::{ResumeToken, UserName};
use crate::payload::{IceCandidate, SessionDescription};
use crate::quoted::{quoted, shortened, MAX_QUOTED_CHARS};
use crate::server::LeaveReason;
#[cfg(feature = "serde_json")]
use serde::{Deserialize, Deserializer};
#[cfg(feature = "serde_json")]
use serde_json::value::RawValue;
#[cfg(feature = "serde_json")]
use std::borrow::Cow;
use std::fmt;

/// A message from a client to the server.
///
/// Ordering rules (enforced by the server, which tracks each user's call state):
/// 1. `Login` comes first; everything else before a successful login is refused.
/// 2. A call starts with the caller's `Offer`; the callee replies with `Answer` or `Leave`.
/// 3. `Candidate` may flow both ways as soon as the offer is sent (trickle ICE), before and after
///    the answer; clients must queue candidates that arrive before their remote description.
/// 4. Inside an answered call either side may send a new `Offer` (renegotiation), answered by
///    an `Answer` from the other side.
/// 5. `Leave` ends the pending or active call, from either side, at any time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde_json", derive(serde::Serialize), serde(tag = "type", rename_all = "lowercase"))]
pub enum ClientMessage {
    /// Classic: `{"type":"login","name":"alice"}`. Extensions:
    /// - `resume`, the token from an earlier successful login (or the latest `credentials`):
    ///   takes the name over from a connection that is gone but not yet noticed by the server,
    ///   also on a server process that never saw the token (it is signed, not stored). A token
    ///   that is forged, expired or for another name is refused (`resume_refused`).
    /// - `inCallWith`: with `resume`, the peer of the call this client is still in (media is
    ///   peer to peer, so the call outlived the signaling connection): the server restores the
    ///   pairing once both sides said so, each getting `call_resumed`.
    /// - `keepCallOnDisconnect: true`: this client keeps its calls through a lost connection, so
    ///   when its connection drops mid-call the server holds the call (and the name) for the
    ///   resume grace period instead of telling the peer `disconnected` at once.
    Login {
        name: UserName,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        resume: Option<ResumeToken>,
        #[cfg_attr(feature = "serde_json", serde(rename = "inCallWith", skip_serializing_if = "Option::is_none"))]
        in_call_with: Option<UserName>,
        #[cfg_attr(
            feature = "serde_json",
            serde(rename = "keepCallOnDisconnect", skip_serializing_if = "std::ops::Not::not")
        )]
        keep_call_on_disconnect: bool,
    },
    /// Classic: `{"type":"offer","name":"bob","offer":SDP}`: call bob (or renegotiate with him).
    Offer { name: UserName, offer: SessionDescription },
    /// Classic: `{"type":"answer","name":"alice","answer":SDP}`: accept alice's offer.
    Answer { name: UserName, answer: SessionDescription },
    /// Classic: `{"type":"candidate","name":"bob","candidate":ICE}`: trickle one ICE candidate.
    Candidate { name: UserName, candidate: IceCandidate },
    /// Classic: `{"type":"leave","name":"bob"}`: hang up. `name` may be omitted (ends the
    /// current call, whoever it is with). Extension: `reason` `declined` (callee refuses a
    /// ringing call) or `busy`; any other reason is relayed as `hangup`.
    Leave {
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        name: Option<UserName>,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        reason: Option<LeaveReason>,
    },
    /// Extension: `{"type":"users"}` asks for the names online; answered by
    /// [`ServerMessage::Users`](crate::ServerMessage::Users).
    Users,
    /// Extension: `{"type":"presence_subscribe"}` subscribes this connection to presence: the
    /// reply is a snapshot ([`ServerMessage::Users`](crate::ServerMessage::Users)), then one
    /// [`ServerMessage::Presence`](crate::ServerMessage::Presence) delta per sign-in and sign-out.
    #[cfg_attr(feature = "serde_json", serde(rename = "presence_subscribe"))]
    PresenceSubscribe,
    /// Extension: `{"type":"presence_query","names":["bob"]}` asks which of these names are
    /// online; answered by a `presence` message with `online`.
    #[cfg_attr(feature = "serde_json", serde(rename = "presence_query"))]
    PresenceQuery { names: Vec<UserName> },
}

impl ClientMessage {
    /// A plain `login`: a name, nothing else (what a classic client sends).
    pub fn login(name: UserName) -> ClientMessage {
        ClientMessage::Login { name, resume: None, in_call_with: None, keep_call_on_disconnect: false }
    }
}

/// Why a text frame is not a valid [`ClientMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON at all (syntax error, truncated text).
    InvalidJson(String),
    /// JSON, but not an object with the fields of a message (or a field of the wrong type).
    InvalidShape(String),
    /// The object has no string `"type"`.
    MissingType,
    /// `"type"` names no message this side understands.
    UnknownType(String),
    /// A field the message type requires is absent.
    MissingField { message_type: &'static str, field: &'static str },
}

impl fmt::Display for ParseError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::InvalidJson(detail) => {
                write!(formatter, "Message is not valid JSON: {}", shortened(detail, MAX_DETAIL_CHARS))
            }
            ParseError::InvalidShape(detail) => {
                write!(formatter, "Message has the wrong shape: {}", shortened(detail, MAX_DETAIL_CHARS))
            }
            ParseError::MissingType => write!(formatter, "Message has no \"type\" field"),
            // The classic server's exact wording, which classic clients may display.
            ParseError::UnknownType(kind) => write!(formatter, "Command not found: {}", quoted(kind)),
            ParseError::MissingField { message_type, field } => {
                write!(formatter, "A \"{message_type}\" message needs a \"{field}\" field")
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// Most characters of a JSON parser's explanation shown (it may quote the client's input).
const MAX_DETAIL_CHARS: usize = 2 * MAX_QUOTED_CHARS;

#[cfg(feature = "serde_json")]
impl ParseError {
    /// Classifies a failed parse of `text`. Serde stops at the first problem, so a wrong type
    /// early in a truncated frame looks like a shape error: re-check the syntax to tell.
    pub(crate) fn from_serde(error: &serde_json::Error, text: &str) -> ParseError {
        match error.classify() {
            serde_json::error::Category::Data => match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => ParseError::InvalidShape(error.to_string()),
                Err(syntax_error) => ParseError::InvalidJson(syntax_error.to_string()),
            },
            _ => ParseError::InvalidJson(error.to_string()),
        }
    }
}

/// Deserializes a field that is present as raw JSON, `null` included (serde's `Option` would
/// turn a present `null` into "absent").
#[cfg(feature = "serde_json")]
pub(crate) fn present_raw<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(deserializer).map(Some)
}

/// Every field any client message may carry, parsed in one pass, borrowing from the frame.
#[cfg(feature = "serde_json")]
#[derive(Deserialize)]
#[serde(expecting = "a JSON object with a \"type\" field")]
struct ClientWire<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "present_raw")]
    offer: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present_raw")]
    answer: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present_raw")]
    candidate: Option<&'a RawValue>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    resume: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "inCallWith")]
    in_call_with: Option<Cow<'a, str>>,
    #[serde(default, rename = "keepCallOnDisconnect")]
    keep_call_on_disconnect: Option<bool>,
    #[serde(default)]
    names: Option<Vec<UserName>>,
}

/// `value`, or the error naming the missing field (shared by both directions' parsers).
pub(crate) fn required<T>(value: Option<T>, message_type: &'static str, field: &'static str) -> Result<T, ParseError> {
    value.ok_or(ParseError::MissingField { message_type, field })
}

impl ClientMessage {
    /// Parses one text frame. Unknown extra fields are ignored (classic clients send some).
    #[cfg(feature = "serde_json")]
    pub fn from_json(text: &str) -> Result<ClientMessage, ParseError> {
        let wire: ClientWire<'_> = serde_json::from_str(text).map_err(|error| ParseError::from_serde(&error, text))?;
        let kind = wire.kind.ok_or(ParseError::MissingType)?;
        let name = |message_type| required(wire.name.as_deref(), message_type, "name").map(UserName::from_wire);
        let message = match kind.as_ref() {
            "login" => ClientMessage::Login {
                name: name("login")?,
                resume: wire.resume.map(ResumeToken::from_wire),
                in_call_with: wire.in_call_with.map(UserName::from_wire),
                keep_call_on_disconnect: wire.keep_call_on_disconnect.unwrap_or(false),
            },
            "offer" => ClientMessage::Offer {
                name: name("offer")?,
                offer: SessionDescription::from_raw(required(wire.offer, "offer", "offer")?),
            },
            "answer" => ClientMessage::Answer {
                name: name("answer")?,
                answer: SessionDescription::from_raw(required(wire.answer, "answer", "answer")?),
            },
            "candidate" => ClientMessage::Candidate {
                name: name("candidate")?,
                candidate: IceCandidate::from_raw(required(wire.candidate, "candidate", "candidate")?),
            },
            "leave" => ClientMessage::Leave {
                name: wire.name.map(UserName::from_wire),
                reason: wire.reason.as_deref().map(LeaveReason::from_wire),
            },
            "users" => ClientMessage::Users,
            "presence_subscribe" => ClientMessage::PresenceSubscribe,
            "presence_query" => {
                ClientMessage::PresenceQuery { names: required(wire.names, "presence_query", "names")? }
            }
            other => return Err(ParseError::UnknownType(other.to_owned())),
        };
        Ok(message)
    }

    /// The exact JSON text of this message.
    #[cfg(feature = "serde_json")]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|error| unreachable!("client messages always serialize: {error}"))
    }

    /// The exact JSON text of this message (written by hand: no `serde_json` here).
    #[cfg(not(feature = "serde_json"))]
    pub fn to_json(&self) -> String {
        self.to_json_without_serde()
    }
}

#[cfg(feature = "serde_json")]
impl<'de> Deserialize<'de> for ClientMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <Box<RawValue>>::deserialize(deserializer)?;
        ClientMessage::from_json(raw.get()).map_err(serde::de::Error::custom)
    }
}
