//! The wire protocol spoken between browsers (or any classic client) and the signaling server.
//!
//! Transport: WebSocket text frames, one JSON object per frame, discriminated by `"type"`.
//! Every message of the classic tutorial protocol (see `PROTOCOL.md` at the repository root)
//! is accepted and emitted exactly; everything this crate adds is *additive*: extra optional
//! fields on classic messages, and new message types that classic clients ignore because
//! they only switch on the types they know.
//!
//! - [`ClientMessage`]: what a client sends to the server.
//! - [`ServerMessage`]: what the server sends to a client.
//! - [`SessionDescription`] and [`IceCandidate`] are carried as opaque raw JSON: the server
//!   never re-parses, re-orders or re-formats them.
//!
//! With the `serde_json` feature (the server, the load generator, the browser tests) both enums
//! serialize with serde (`tag = "type"`) and deserialization goes through
//! [`ClientMessage::from_json`] / [`ServerMessage::from_json`] (also used by their `Deserialize`
//! impls) because serde's internally tagged enums cannot carry raw JSON values. Without it (the
//! web app, whose wasm is smaller without `serde_json`), [`ClientMessage::to_json`] and
//! [`ServerMessage::from_json`] use the hand-written codec over [`json`], which the fixture tests
//! hold to exactly the same JSON.

#[cfg(feature = "serde_json")]
mod candidate_frame;
mod client;
pub mod close_codes;
pub mod json;
mod json_codec;
mod names;
mod payload;
mod quoted;
mod server;

#[cfg(feature = "serde_json")]
pub use candidate_frame::{relayed_candidate, CandidateFrame};
pub use client::{ClientMessage, ParseError};
#[cfg(feature = "confusables")]
pub use names::NameKey;
pub use names::{NameError, ResumeToken, UserName, MAX_NAME_CHARS};
pub use payload::{IceCandidate, InvalidPayload, SessionDescription};
pub use quoted::{quoted, shortened, MAX_QUOTED_CHARS};
pub use server::{
    ErrorCode, Hello, IceServer, LeaveReason, Limits, LoginFailure, ServerMessage, FEATURE_PRESENCE,
    FEATURE_PRESENCE_QUERY, FEATURE_RESUME_CALLS,
};

/// Version of the extended protocol announced in [`Hello::protocol`]. Bumped only for changes
/// a client must know about; additive fields do not bump it.
pub const PROTOCOL_VERSION: u32 = 1;
