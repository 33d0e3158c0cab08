//! The serde wire of server messages (the `serde_json` feature: the server, loadgen, the tests):
//! one pass over every field any server message may carry, then the message its `type` names.

use super::{ErrorCode, Hello, IceServer, LeaveReason, Limits, LoginFailure, ServerMessage};
use crate::client::{present_raw, required, ParseError};
use crate::names::{ResumeToken, UserName};
use crate::payload::{IceCandidate, SessionDescription};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Every field any server message may carry, parsed in one pass.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a JSON object with a \"type\" field")]
struct ServerWire<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    name: Option<UserName>,
    #[serde(default)]
    resume: Option<ResumeToken>,
    #[serde(default)]
    reason: Option<Cow<'a, str>>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<ErrorCode>,
    #[serde(borrow, default, deserialize_with = "present_raw")]
    offer: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present_raw")]
    answer: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present_raw")]
    candidate: Option<&'a RawValue>,
    #[serde(default)]
    users: Option<Vec<UserName>>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    protocol: Option<u32>,
    #[serde(default)]
    limits: Option<Limits>,
    #[serde(default)]
    ice_servers: Option<Vec<IceServer>>,
    #[serde(default)]
    features: Option<Vec<String>>,
    #[serde(default)]
    joined: Option<Vec<UserName>>,
    #[serde(default)]
    left: Option<Vec<UserName>>,
    #[serde(default)]
    online: Option<Vec<UserName>>,
}

impl ServerMessage {
    /// Parses one text frame from a server (classic or ours).
    pub fn from_json(text: &str) -> Result<ServerMessage, ParseError> {
        let wire: ServerWire<'_> = serde_json::from_str(text).map_err(|error| ParseError::from_serde(&error, text))?;
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
                offer: SessionDescription::from_raw(required(wire.offer, "offer", "offer")?),
                name: required(wire.name, "offer", "name")?,
            },
            "answer" => ServerMessage::Answer {
                answer: SessionDescription::from_raw(required(wire.answer, "answer", "answer")?),
                name: wire.name,
            },
            "candidate" => ServerMessage::Candidate {
                candidate: IceCandidate::from_raw(required(wire.candidate, "candidate", "candidate")?),
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

    /// The exact JSON text of this message.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|error| unreachable!("server messages always serialize: {error}"))
    }
}

impl<'de> Deserialize<'de> for ServerMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <Box<RawValue>>::deserialize(deserializer)?;
        ServerMessage::from_json(raw.get()).map_err(serde::de::Error::custom)
    }
}
