//! Messages from the server to a client.

use crate::client::ParseError;
use crate::names::{ResumeToken, UserName};
use crate::payload::{IceCandidate, SessionDescription};
use serde::{Deserialize, Serialize};

#[cfg(feature = "serde_json")]
mod serde_wire;

/// A message from the server to a client.
///
/// Ordering rules: `Hello` is the first frame on every connection (classic clients ignore its
/// unknown type). Everything a peer sends is delivered to the other party in the order it was
/// sent. After a `Leave` no further message of that call is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde_json", derive(serde::Serialize), serde(tag = "type", rename_all = "lowercase"))]
pub enum ServerMessage {
    /// Extension, first frame on every connection:
    /// `{"type":"hello","server":"duet","version":"0.1.0","protocol":1,"limits":{..},"iceServers":[..]}`.
    Hello(Hello),
    /// Classic: `{"type":"login","success":true}` / `{"type":"login","success":false}`.
    /// Extensions: on success `name` (as stored: trimmed, NFC), `resume`, and `iceServers` when the
    /// server has TURN (credentials minted for this user; they replace `hello`'s list); on
    /// failure `reason` and a human-readable `message`.
    Login {
        success: bool,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        name: Option<UserName>,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        resume: Option<ResumeToken>,
        #[cfg_attr(feature = "serde_json", serde(rename = "iceServers", skip_serializing_if = "Option::is_none"))]
        ice_servers: Option<Vec<IceServer>>,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        reason: Option<LoginFailure>,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        message: Option<String>,
    },
    /// Classic: `{"type":"offer","offer":SDP,"name":"alice"}`: alice calls you (or renegotiates).
    Offer { offer: SessionDescription, name: UserName },
    /// Classic: `{"type":"answer","answer":SDP}`; extension: `name` of the answering peer.
    Answer {
        answer: SessionDescription,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        name: Option<UserName>,
    },
    /// Classic: `{"type":"candidate","candidate":ICE}`; extension: `name` of the sender.
    Candidate {
        candidate: IceCandidate,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        name: Option<UserName>,
    },
    /// Classic: `{"type":"leave"}`; extensions: `name` of the peer and the `reason` the call ended.
    Leave {
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        name: Option<UserName>,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        reason: Option<LeaveReason>,
    },
    /// Extension, reply to `{"type":"users"}`: names online, sorted, the asker excluded.
    Users { users: Vec<UserName> },
    /// Extension, only to a connection that subscribed (`presence_subscribe`) or asked
    /// (`presence_query`): `{"type":"presence","joined":["bob"]}` (bob signed in),
    /// `{"type":"presence","left":["bob"]}` (bob signed out), or the answer to a query,
    /// `{"type":"presence","online":["bob"]}` (the asked names that are online).
    Presence {
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        joined: Option<Vec<UserName>>,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        left: Option<Vec<UserName>>,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        online: Option<Vec<UserName>>,
    },
    /// Extension: `{"type":"call_resumed","name":"bob"}`, to both parties, once the server has
    /// heard from both sides of a call that outlived a lost connection (each signed back in with
    /// `inCallWith` naming the other, or one side's connection dropped and came back while the
    /// other stayed): relaying between them works again.
    #[cfg_attr(feature = "serde_json", serde(rename = "call_resumed"))]
    CallResumed { name: UserName },
    /// Extension: `{"type":"credentials","resume":"TOKEN","iceServers":[..]}`, pushed to a
    /// signed-in connection before its resume token (and, on servers with TURN, its TURN
    /// credentials) expire: keep the new token for the next resume and give the ICE servers to
    /// the running call (`setConfiguration`). `iceServers` is absent on servers without TURN.
    Credentials {
        resume: ResumeToken,
        #[cfg_attr(feature = "serde_json", serde(rename = "iceServers", skip_serializing_if = "Option::is_none"))]
        ice_servers: Option<Vec<IceServer>>,
    },
    /// Classic: `{"type":"error","message":"Command not found: X"}`; extension: stable `code`.
    Error {
        message: String,
        #[cfg_attr(feature = "serde_json", serde(skip_serializing_if = "Option::is_none"))]
        code: Option<ErrorCode>,
    },
}

/// Greeting sent on connect: who the server is, what it allows, and how to reach peers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    /// Server software name.
    pub server: String,
    /// Server software version.
    pub version: String,
    /// [`crate::PROTOCOL_VERSION`] the server speaks.
    pub protocol: u32,
    pub limits: Limits,
    /// Ready to pass as `RTCConfiguration.iceServers`.
    pub ice_servers: Vec<IceServer>,
    /// Extension: optional capabilities, e.g. `"presence"` (`presence_subscribe` answered with
    /// a snapshot and deltas) and `"presence_query"`. Absent (empty) on older servers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

/// The `hello` feature announcing `presence_subscribe` (snapshot and deltas).
pub const FEATURE_PRESENCE: &str = "presence";
/// The `hello` feature announcing `presence_query`.
pub const FEATURE_PRESENCE_QUERY: &str = "presence_query";
/// The `hello` feature announcing calls that outlive a lost connection: signed resume tokens
/// (accepted by a restarted server), `inCallWith` and `keepCallOnDisconnect` on `login`,
/// `call_resumed`, and `credentials` pushed before expiry.
pub const FEATURE_RESUME_CALLS: &str = "resume_calls";

impl Hello {
    /// True when the server announced `feature`.
    pub fn supports(&self, feature: &str) -> bool {
        self.features.iter().any(|announced| announced == feature)
    }
}

/// Limits the server enforces, so a client can respect them instead of discovering them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Largest text frame accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Longest user name, in characters.
    pub max_name_chars: usize,
    /// Seconds an unanswered call rings before it ends with reason `timeout`.
    pub ring_timeout_secs: u64,
    /// Seconds of silence (no frame, no pong) after which the server closes a connection.
    pub idle_timeout_secs: u64,
    /// Extension: seconds the server waits for the other side of a call to come back after a
    /// lost connection or a restart (see [`FEATURE_RESUME_CALLS`]) before ending it with
    /// `disconnected`. Absent on servers without the feature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_resume_grace_secs: Option<u64>,
}

/// One `RTCIceServer`: STUN or TURN URLs and, for TURN, short-lived credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Why a login was refused. Wire values are lowercase words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginFailure {
    /// Someone online already has this name, or one that looks like it.
    Taken,
    /// The name breaks the rules (see [`crate::NameError`]: empty, too long, control, invisible
    /// or direction-changing characters, look-alike letters of mixed scripts).
    Invalid,
    /// The `resume` token is forged, expired, or for another name: sign in without it (and
    /// treat any call it was meant to resume as ended).
    ResumeRefused,
    /// The server cannot reach its shared directory (cluster mode: Redis down or restarting):
    /// nothing was claimed; try again shortly.
    Unavailable,
    /// A reason this version does not know (sent by a newer server).
    #[serde(other)]
    Other,
}

impl LoginFailure {
    /// Reads a reason from the wire; unknown words become [`LoginFailure::Other`].
    pub fn from_wire(word: &str) -> LoginFailure {
        match word {
            "taken" => LoginFailure::Taken,
            "invalid" => LoginFailure::Invalid,
            "resume_refused" => LoginFailure::ResumeRefused,
            "unavailable" => LoginFailure::Unavailable,
            _ => LoginFailure::Other,
        }
    }
}

/// Why a call ended, carried on `leave`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// The peer hung up (or cancelled the call while it rang).
    Hangup,
    /// The callee refused the call.
    Declined,
    /// The callee is in another call.
    Busy,
    /// The peer's connection closed or stopped answering.
    Disconnected,
    /// Nobody answered within the ring timeout.
    Timeout,
    /// The peer's browser could not connect to ours (its peer connection failed: no network
    /// path between the two, or a WebRTC step failed); sent by the client that saw it fail.
    Failed,
    /// The callee has Do not disturb on: the call was refused without ringing (sent by the
    /// callee's app; an older server relays it as `hangup`).
    DoNotDisturb,
    /// A reason this version does not know.
    #[serde(other)]
    Other,
}

impl LeaveReason {
    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaveReason::Hangup => "hangup",
            LeaveReason::Declined => "declined",
            LeaveReason::Busy => "busy",
            LeaveReason::Disconnected => "disconnected",
            LeaveReason::Timeout => "timeout",
            LeaveReason::Failed => "failed",
            LeaveReason::DoNotDisturb => "do_not_disturb",
            LeaveReason::Other => "other",
        }
    }

    /// Reads a reason from the wire; unknown words become [`LeaveReason::Other`].
    pub fn from_wire(word: &str) -> LeaveReason {
        match word {
            "hangup" => LeaveReason::Hangup,
            "declined" => LeaveReason::Declined,
            "busy" => LeaveReason::Busy,
            "disconnected" => LeaveReason::Disconnected,
            "timeout" => LeaveReason::Timeout,
            "failed" => LeaveReason::Failed,
            "do_not_disturb" => LeaveReason::DoNotDisturb,
            _ => LeaveReason::Other,
        }
    }
}

/// Stable, machine-readable error codes carried on `error` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not JSON.
    InvalidJson,
    /// The frame was binary; only text frames are spoken.
    BinaryFrame,
    /// JSON, but not a valid message (wrong shape, missing or mistyped field).
    InvalidMessage,
    /// Unknown `type` (the message keeps the classic "Command not found: X" wording).
    UnknownType,
    /// Anything but `login` before a successful login.
    NotLoggedIn,
    /// A second `login` on a connection that already has a name.
    AlreadyLoggedIn,
    /// The named user is not online.
    UserNotFound,
    /// `answer`, `candidate` or `leave` for a user you are not in a call with.
    NotInCall,
    /// An offer to yourself.
    CannotCallSelf,
    /// An offer to someone new while already calling, ringing or in a call: hang up first.
    AlreadyInCall,
    /// Too many messages too fast.
    RateLimited,
    /// The peer of your call lost its connection and the server is waiting for it to come back
    /// (within the resume grace period): nothing can be relayed to it now; try again shortly.
    PeerUnavailable,
    /// The server cannot reach its shared directory (cluster mode: Redis down or restarting):
    /// the request did nothing; try again shortly.
    Unavailable,
    /// A code this version does not know.
    #[serde(other)]
    Other,
}

impl ErrorCode {
    /// The wire word, as it appears in JSON and in metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::BinaryFrame => "binary_frame",
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::NotLoggedIn => "not_logged_in",
            ErrorCode::AlreadyLoggedIn => "already_logged_in",
            ErrorCode::UserNotFound => "user_not_found",
            ErrorCode::NotInCall => "not_in_call",
            ErrorCode::CannotCallSelf => "cannot_call_self",
            ErrorCode::AlreadyInCall => "already_in_call",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::PeerUnavailable => "peer_unavailable",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Other => "other",
        }
    }
}

impl ParseError {
    /// The error code a server replies with for this parse failure.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ParseError::InvalidJson(_) => ErrorCode::InvalidJson,
            ParseError::UnknownType(_) => ErrorCode::UnknownType,
            ParseError::InvalidShape(_) | ParseError::MissingType | ParseError::MissingField { .. } => {
                ErrorCode::InvalidMessage
            }
        }
    }
}

impl ServerMessage {
    /// Parses one text frame from a server (classic or ours), by hand: no `serde_json` here.
    #[cfg(not(feature = "serde_json"))]
    pub fn from_json(text: &str) -> Result<ServerMessage, ParseError> {
        ServerMessage::from_json_without_serde(text)
    }

    /// An `error` message with its stable code.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> ServerMessage {
        ServerMessage::Error { message: message.into(), code: Some(code) }
    }
}

// `ErrorCode` is also used as a label; keep `Display` equal to the wire word.
impl std::fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}
