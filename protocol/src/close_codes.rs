//! WebSocket close codes the server sends, and what each means to a client.
//!
//! The standard codes are RFC 6455's; 4001 is ours (4000-4999 is the range for applications).
//! The server picks one per way a connection can end (`backend/src/connection.rs`); the app reads
//! them to decide whether to reconnect (`frontend/src/call_state/`).

/// 1001 "going away": no heartbeat, the connection was idle for longer than the idle timeout.
pub const IDLE_TIMEOUT: u16 = 1001;
/// 1008 "policy violation": no sign-in within the login deadline, or too many messages.
pub const POLICY_VIOLATION: u16 = 1008;
/// 1009 "message too big": a frame over the server's `--max-frame-bytes`.
pub const FRAME_TOO_LARGE: u16 = 1009;
/// 1012 "service restart": the server is shutting down; reconnect.
pub const SERVER_RESTARTING: u16 = 1012;
/// 4001: another connection signed in with this name and its resume token and took the name over
/// (the same person in another tab or device). Reconnecting would take it back, so clients stay
/// signed out.
pub const REPLACED_BY_NEW_LOGIN: u16 = 4001;
