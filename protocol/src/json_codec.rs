//! The messages the web app sends and receives, written and read with [`crate::json`] instead
//! of `serde_json`: [`ClientMessage::to_json_without_serde`] and
//! [`ServerMessage::from_json_without_serde`]. Without the `serde_json` feature (the web app)
//! they are what `to_json` and `from_json` do. The fixture tests check that both codecs give
//! the same JSON and the same messages, so the wire stays exactly the same.
//!
//! The reader follows serde's derived `Deserialize` of the server's wire struct: every field it
//! knows is read (whatever the message type) and must have its type, `null` counts as absent
//! (except for payloads, which keep it), a known field given twice is refused, unknown fields
//! are skipped, and a syntax error anywhere makes the frame invalid JSON.

use crate::client::{required, ParseError};
use crate::json::{self, SyntaxError};
use crate::names::{ResumeToken, UserName};
use crate::payload::{IceCandidate, SessionDescription};
use crate::server::{ErrorCode, Hello, IceServer, LeaveReason, Limits, LoginFailure};
use crate::{ClientMessage, ServerMessage};
use std::borrow::Cow;

impl ClientMessage {
    /// The exact JSON text of this message, written by hand (see the module's words).
    pub fn to_json_without_serde(&self) -> String {
        let mut out = String::with_capacity(64);
        let kind = match self {
            ClientMessage::Login { .. } => "login",
            ClientMessage::Offer { .. } => "offer",
            ClientMessage::Answer { .. } => "answer",
            ClientMessage::Candidate { .. } => "candidate",
            ClientMessage::Leave { .. } => "leave",
            ClientMessage::Users => "users",
            ClientMessage::PresenceSubscribe => "presence_subscribe",
            ClientMessage::PresenceQuery { .. } => "presence_query",
        };
        out.push_str(r#"{"type":""#);
        out.push_str(kind);
        out.push('"');
        let text = |out: &mut String, key: &str, value: &str| {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            json::write_string(out, value);
        };
        let raw = |out: &mut String, key: &str, value: &str| {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            out.push_str(value);
        };
        match self {
            ClientMessage::Login { name, resume, in_call_with, keep_call_on_disconnect } => {
                text(&mut out, "name", name.as_str());
                if let Some(resume) = resume {
                    text(&mut out, "resume", resume.as_str());
                }
                if let Some(peer) = in_call_with {
                    text(&mut out, "inCallWith", peer.as_str());
                }
                if *keep_call_on_disconnect {
                    raw(&mut out, "keepCallOnDisconnect", "true");
                }
            }
            ClientMessage::Offer { name, offer } => {
                text(&mut out, "name", name.as_str());
                raw(&mut out, "offer", offer.as_json());
            }
            ClientMessage::Answer { name, answer } => {
                text(&mut out, "name", name.as_str());
                raw(&mut out, "answer", answer.as_json());
            }
            ClientMessage::Candidate { name, candidate } => {
                text(&mut out, "name", name.as_str());
                raw(&mut out, "candidate", candidate.as_json());
            }
            ClientMessage::Leave { name, reason } => {
                if let Some(name) = name {
                    text(&mut out, "name", name.as_str());
                }
                if let Some(reason) = reason {
                    text(&mut out, "reason", reason.as_str());
                }
            }
            ClientMessage::PresenceQuery { names } => {
                out.push_str(r#","names":["#);
                for (index, name) in names.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    json::write_string(&mut out, name.as_str());
                }
                out.push(']');
            }
            ClientMessage::Users | ClientMessage::PresenceSubscribe => {}
        }
        out.push('}');
        out
    }
}

impl IceServer {
    /// `servers` as the JSON list `RTCConfiguration.iceServers` takes, exactly as serde writes
    /// it (`[{"urls":[…],"username":…,"credential":…}]`, absent credentials left out).
    pub fn list_to_json(servers: &[IceServer]) -> String {
        let mut out = String::from("[");
        for (index, server) in servers.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str(r#"{"urls":["#);
            for (index, url) in server.urls.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                json::write_string(&mut out, url);
            }
            out.push(']');
            for (key, value) in [("username", &server.username), ("credential", &server.credential)] {
                if let Some(value) = value {
                    out.push_str(",\"");
                    out.push_str(key);
                    out.push_str("\":");
                    json::write_string(&mut out, value);
                }
            }
            out.push('}');
        }
        out.push(']');
        out
    }
}

fn invalid_json(error: &SyntaxError) -> ParseError {
    ParseError::InvalidJson(error.to_string())
}

fn wrong_type(field: &str, expected: &str) -> ParseError {
    ParseError::InvalidShape(format!("invalid type for `{field}`: expected {expected}"))
}

/// The members of an object value, refusing a second copy of any of the `known` keys.
fn object_members<'a>(value: &'a str, field: &str, known: &[&str]) -> Result<json::Members<'a>, ParseError> {
    let members =
        json::members(value).map_err(|error| invalid_json(&error))?.ok_or_else(|| wrong_type(field, "an object"))?;
    for (index, (key, _)) in members.iter().enumerate() {
        if known.contains(&key.as_ref()) && members[..index].iter().any(|(earlier, _)| earlier == key) {
            return Err(ParseError::InvalidShape(format!("duplicate field `{key}`")));
        }
    }
    Ok(members)
}

/// A string field (`null` is absent).
fn optional_string<'a>(value: &'a str, field: &str) -> Result<Option<Cow<'a, str>>, ParseError> {
    if json::is_null(value) {
        return Ok(None);
    }
    json::string(value).map_err(|error| invalid_json(&error))?.map(Some).ok_or_else(|| wrong_type(field, "a string"))
}

fn string_field(value: &str, field: &str) -> Result<String, ParseError> {
    json::string(value)
        .map_err(|error| invalid_json(&error))?
        .map(Cow::into_owned)
        .ok_or_else(|| wrong_type(field, "a string"))
}

/// A list of strings (`null` is absent; `null` items are not strings).
fn optional_strings(value: &str, field: &str) -> Result<Option<Vec<String>>, ParseError> {
    if json::is_null(value) {
        return Ok(None);
    }
    strings(value, field).map(Some)
}

fn strings(value: &str, field: &str) -> Result<Vec<String>, ParseError> {
    let items = json::items(value).ok_or_else(|| wrong_type(field, "a list"))?;
    items.into_iter().map(|item| string_field(item, field)).collect()
}

fn optional_names(value: &str, field: &str) -> Result<Option<Vec<UserName>>, ParseError> {
    Ok(optional_strings(value, field)?.map(|names| names.into_iter().map(UserName::from_wire).collect()))
}

/// An unsigned integer no larger than `max` (`null` is absent).
fn optional_unsigned(value: &str, field: &str, max: u64) -> Result<Option<u64>, ParseError> {
    if json::is_null(value) {
        return Ok(None);
    }
    json::unsigned(value)
        .filter(|number| *number <= max)
        .map(Some)
        .ok_or_else(|| wrong_type(field, "an unsigned integer"))
}

fn unsigned_field(value: &str, field: &str, max: u64) -> Result<u64, ParseError> {
    optional_unsigned(value, field, max)?.ok_or_else(|| wrong_type(field, "an unsigned integer"))
}

fn usize_field(value: &str, field: &str) -> Result<usize, ParseError> {
    let max = u64::try_from(usize::MAX).unwrap_or(u64::MAX);
    let number = unsigned_field(value, field, max)?;
    usize::try_from(number).map_err(|_| wrong_type(field, "a smaller integer"))
}

fn missing(field: &str) -> ParseError {
    ParseError::InvalidShape(format!("missing field `{field}`"))
}

const LIMITS_FIELDS: [&str; 5] =
    ["maxFrameBytes", "maxNameChars", "ringTimeoutSecs", "idleTimeoutSecs", "callResumeGraceSecs"];

fn limits(value: &str) -> Result<Limits, ParseError> {
    let (mut frame, mut name, mut ring, mut idle, mut grace) = (None, None, None, None, None);
    for (key, value) in object_members(value, "limits", &LIMITS_FIELDS)? {
        match key.as_ref() {
            "maxFrameBytes" => frame = Some(usize_field(value, "maxFrameBytes")?),
            "maxNameChars" => name = Some(usize_field(value, "maxNameChars")?),
            "ringTimeoutSecs" => ring = Some(unsigned_field(value, "ringTimeoutSecs", u64::MAX)?),
            "idleTimeoutSecs" => idle = Some(unsigned_field(value, "idleTimeoutSecs", u64::MAX)?),
            "callResumeGraceSecs" => grace = optional_unsigned(value, "callResumeGraceSecs", u64::MAX)?,
            _ => {}
        }
    }
    Ok(Limits {
        max_frame_bytes: frame.ok_or_else(|| missing("maxFrameBytes"))?,
        max_name_chars: name.ok_or_else(|| missing("maxNameChars"))?,
        ring_timeout_secs: ring.ok_or_else(|| missing("ringTimeoutSecs"))?,
        idle_timeout_secs: idle.ok_or_else(|| missing("idleTimeoutSecs"))?,
        call_resume_grace_secs: grace,
    })
}

fn ice_server(value: &str) -> Result<IceServer, ParseError> {
    let (mut urls, mut username, mut credential) = (None, None, None);
    for (key, value) in object_members(value, "iceServers", &["urls", "username", "credential"])? {
        match key.as_ref() {
            "urls" => urls = Some(strings(value, "urls")?),
            "username" => username = optional_string(value, "username")?.map(Cow::into_owned),
            "credential" => credential = optional_string(value, "credential")?.map(Cow::into_owned),
            _ => {}
        }
    }
    Ok(IceServer { urls: urls.ok_or_else(|| missing("urls"))?, username, credential })
}

fn optional_ice_servers(value: &str) -> Result<Option<Vec<IceServer>>, ParseError> {
    if json::is_null(value) {
        return Ok(None);
    }
    let items = json::items(value).ok_or_else(|| wrong_type("iceServers", "a list"))?;
    items.into_iter().map(ice_server).collect::<Result<_, _>>().map(Some)
}

fn error_code(word: &str) -> ErrorCode {
    [
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
        ErrorCode::Unavailable,
    ]
    .into_iter()
    .find(|code| code.as_str() == word)
    .unwrap_or(ErrorCode::Other)
}

/// An error code (`null` is absent). Any other value than a string is invalid JSON, as
/// `serde_json` words it for an enum of words.
fn optional_code(value: &str) -> Result<Option<ErrorCode>, ParseError> {
    if !json::is_null(value) && !value.starts_with('"') {
        return Err(ParseError::InvalidJson("expected a string for `code`".to_owned()));
    }
    Ok(optional_string(value, "code")?.map(|word| error_code(&word)))
}

const SERVER_FIELDS: [&str; 20] = [
    "type",
    "success",
    "name",
    "resume",
    "reason",
    "message",
    "code",
    "offer",
    "answer",
    "candidate",
    "users",
    "server",
    "version",
    "protocol",
    "limits",
    "iceServers",
    "features",
    "joined",
    "left",
    "online",
];

/// Every field any server message may carry (serde's `ServerWire`).
#[derive(Default)]
struct ServerFields<'a> {
    kind: Option<Cow<'a, str>>,
    success: Option<bool>,
    name: Option<UserName>,
    resume: Option<ResumeToken>,
    reason: Option<Cow<'a, str>>,
    message: Option<String>,
    code: Option<ErrorCode>,
    offer: Option<&'a str>,
    answer: Option<&'a str>,
    candidate: Option<&'a str>,
    users: Option<Vec<UserName>>,
    server: Option<String>,
    version: Option<String>,
    protocol: Option<u32>,
    limits: Option<Limits>,
    ice_servers: Option<Vec<IceServer>>,
    features: Option<Vec<String>>,
    joined: Option<Vec<UserName>>,
    left: Option<Vec<UserName>>,
    online: Option<Vec<UserName>>,
}

impl<'a> ServerFields<'a> {
    fn read(text: &'a str) -> Result<ServerFields<'a>, ParseError> {
        let value = json::value(text).map_err(|error| invalid_json(&error))?;
        let mut fields = ServerFields::default();
        for (key, value) in object_members(value, "the message", &SERVER_FIELDS)? {
            let owned = |field| Ok::<_, ParseError>(optional_string(value, field)?.map(Cow::into_owned));
            match key.as_ref() {
                "type" => fields.kind = optional_string(value, "type")?,
                "success" => {
                    fields.success = match json::boolean(value) {
                        Some(success) => Some(success),
                        None if json::is_null(value) => None,
                        None => return Err(wrong_type("success", "a boolean")),
                    }
                }
                "name" => fields.name = owned("name")?.map(UserName::from_wire),
                "resume" => fields.resume = owned("resume")?.map(ResumeToken::from_wire),
                "reason" => fields.reason = optional_string(value, "reason")?,
                "message" => fields.message = owned("message")?,
                "code" => fields.code = optional_code(value)?,
                "offer" => fields.offer = Some(value),
                "answer" => fields.answer = Some(value),
                "candidate" => fields.candidate = Some(value),
                "users" => fields.users = optional_names(value, "users")?,
                "server" => fields.server = owned("server")?,
                "version" => fields.version = owned("version")?,
                "protocol" => {
                    let protocol = optional_unsigned(value, "protocol", u64::from(u32::MAX))?;
                    fields.protocol = protocol.and_then(|protocol| u32::try_from(protocol).ok());
                }
                "limits" => fields.limits = if json::is_null(value) { None } else { Some(limits(value)?) },
                "iceServers" => fields.ice_servers = optional_ice_servers(value)?,
                "features" => fields.features = optional_strings(value, "features")?,
                "joined" => fields.joined = optional_names(value, "joined")?,
                "left" => fields.left = optional_names(value, "left")?,
                "online" => fields.online = optional_names(value, "online")?,
                _ => {}
            }
        }
        Ok(fields)
    }
}

impl ServerMessage {
    /// Parses one text frame from a server (classic or ours) by hand (see the module's words).
    pub fn from_json_without_serde(text: &str) -> Result<ServerMessage, ParseError> {
        let wire = ServerFields::read(text)?;
        let kind = wire.kind.ok_or(ParseError::MissingType)?;
        let message = match kind.as_ref() {
            "hello" => ServerMessage::Hello(Hello {
                server: wire.server.unwrap_or_default(),
                version: wire.version.unwrap_or_default(),
                protocol: required(wire.protocol, "hello", "protocol")?,
                limits: required(wire.limits, "hello", "limits")?,
                ice_servers: wire.ice_servers.unwrap_or_default(),
                features: wire.features.unwrap_or_default(),
            }),
            "login" => ServerMessage::Login {
                success: required(wire.success, "login", "success")?,
                name: wire.name,
                resume: wire.resume,
                ice_servers: wire.ice_servers,
                reason: wire.reason.as_deref().map(LoginFailure::from_wire),
                message: wire.message,
            },
            "offer" => ServerMessage::Offer {
                offer: SessionDescription::from_checked_json(required(wire.offer, "offer", "offer")?),
                name: required(wire.name, "offer", "name")?,
            },
            "answer" => ServerMessage::Answer {
                answer: SessionDescription::from_checked_json(required(wire.answer, "answer", "answer")?),
                name: wire.name,
            },
            "candidate" => ServerMessage::Candidate {
                candidate: IceCandidate::from_checked_json(required(wire.candidate, "candidate", "candidate")?),
                name: wire.name,
            },
            "leave" => {
                ServerMessage::Leave { name: wire.name, reason: wire.reason.as_deref().map(LeaveReason::from_wire) }
            }
            "users" => ServerMessage::Users { users: wire.users.unwrap_or_default() },
            "presence" => ServerMessage::Presence { joined: wire.joined, left: wire.left, online: wire.online },
            "call_resumed" => ServerMessage::CallResumed { name: required(wire.name, "call_resumed", "name")? },
            "credentials" => ServerMessage::Credentials {
                resume: required(wire.resume, "credentials", "resume")?,
                ice_servers: wire.ice_servers,
            },
            "error" => ServerMessage::Error { message: wire.message.unwrap_or_default(), code: wire.code },
            other => return Err(ParseError::UnknownType(other.to_owned())),
        };
        Ok(message)
    }
}
