//! WebSocket close codes the server sends, and what each means to a client.
//!
//! The standard codes are RFC 6455's; 4001 is ours (4000-4999 is the range for applications).
//! The server picks one per way a connection can end (`backend/src/connection/ending.rs`); the app reads
//! them to decide whether to reconnect (`frontend/src/call_state/`).

/// 1001 "going away": no heartbeat, the connection was idle for longer than the idle timeout.
pub const IDLE_TIMEOUT: u16 = 1001;
/// 1002 "protocol error": a frame that breaks the WebSocket protocol (an unmasked frame, a
/// continuation with nothing to continue, reserved bits or opcodes, a fragmented control frame).
pub const PROTOCOL_ERROR: u16 = 1002;
/// 1007 "invalid frame payload data": a text message that is not valid UTF-8.
pub const INVALID_PAYLOAD: u16 = 1007;
/// 1008 "policy violation": no sign-in within the login deadline, or too many frames (more than
/// 50 refused by the rate limit within 10 s).
pub const POLICY_VIOLATION: u16 = 1008;
/// 1009 "message too big": a frame over the server's `--max-frame-bytes`.
pub const FRAME_TOO_LARGE: u16 = 1009;
/// 1012 "service restart": the server is shutting down; reconnect.
pub const SERVER_RESTARTING: u16 = 1012;
/// 4001: another connection signed in with this name and its resume token and took the name over
/// (the same person in another tab or device). Reconnecting would take it back, so clients stay
/// signed out.
pub const REPLACED_BY_NEW_LOGIN: u16 = 4001;
