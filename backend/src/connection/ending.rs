//! How a connection ended, and what the client is told: the close code and reason for each
//! ending, and which ending each kind of bad input leads to.

use crate::delivery::KickReason;
use crate::frame_gate::is_rate_limit_exceeded;
use crate::metrics::CloseReason;
use protocol::close_codes;
use std::time::Duration;
use tungstenite::protocol::CloseFrame;
use tungstenite::Utf8Bytes;

/// How the reader loop ended, which decides the close frame and the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    ClientClosed,
    TransportError,
    FrameTooLarge,
    InvalidUtf8,
    ProtocolError,
    Idle,
    LoginTimeout,
    RateLimited,
    Kicked(KickReason),
    ServerShutdown,
}

impl Ending {
    /// The close frame to send, and the metrics label, for endings the server decided.
    pub(super) fn close(self, login_timeout: Duration) -> (Option<CloseFrame>, Option<CloseReason>) {
        let frame = |code: u16, reason: String| Some(CloseFrame { code: code.into(), reason: Utf8Bytes::from(reason) });
        match self {
            Ending::ClientClosed | Ending::TransportError => (None, None),
            Ending::Idle => (
                frame(close_codes::IDLE_TIMEOUT, "No heartbeat: connection idle for too long.".into()),
                Some(CloseReason::Idle),
            ),
            Ending::FrameTooLarge => {
                (frame(close_codes::FRAME_TOO_LARGE, "Frame too large.".into()), Some(CloseReason::FrameTooLarge))
            }
            Ending::InvalidUtf8 => (
                frame(close_codes::INVALID_PAYLOAD, "Text frames must be valid UTF-8.".into()),
                Some(CloseReason::InvalidUtf8),
            ),
            Ending::ProtocolError => (
                frame(close_codes::PROTOCOL_ERROR, "WebSocket protocol error.".into()),
                Some(CloseReason::ProtocolError),
            ),
            Ending::LoginTimeout => (
                frame(
                    close_codes::POLICY_VIOLATION,
                    format!("Sign in within {} s of connecting.", login_timeout.as_secs()),
                ),
                Some(CloseReason::LoginTimeout),
            ),
            Ending::RateLimited => {
                (frame(close_codes::POLICY_VIOLATION, "Too many frames.".into()), Some(CloseReason::RateLimit))
            }
            Ending::ServerShutdown => (
                frame(close_codes::SERVER_RESTARTING, "Server restarting; reconnect.".into()),
                Some(CloseReason::Shutdown),
            ),
            Ending::Kicked(KickReason::ReplacedByNewLogin) => (
                frame(close_codes::REPLACED_BY_NEW_LOGIN, "Signed in again from another connection.".into()),
                Some(CloseReason::ReplacedByNewLogin),
            ),
            // Its queue is full: no close frame could get through; the socket is just dropped.
            Ending::Kicked(KickReason::SlowConsumer) => (None, Some(CloseReason::SlowConsumer)),
        }
    }
}

/// How reading ended on `error`: each kind of bad input gets its close code.
pub(super) fn ending_of_error(error: &tungstenite::Error) -> Ending {
    use tungstenite::error::ProtocolError;
    match error {
        tungstenite::Error::Capacity(_) => Ending::FrameTooLarge,
        tungstenite::Error::Utf8(_) => Ending::InvalidUtf8,
        tungstenite::Error::Io(io_error) if is_rate_limit_exceeded(io_error) => Ending::RateLimited,
        // The client dropped the connection without a close frame: nobody to tell.
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Ending::TransportError,
        tungstenite::Error::Protocol(_) => Ending::ProtocolError,
        _ => Ending::TransportError,
    }
}
