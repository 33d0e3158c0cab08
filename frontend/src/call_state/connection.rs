//! The signaling connection as the app sees it, and the reconnect backoff.

/// First reconnect delay; doubled per failed attempt up to [`RECONNECT_MAX_DELAY_MILLIS`].
pub const RECONNECT_FIRST_DELAY_MILLIS: u32 = 500;
/// Longest wait between two reconnect attempts.
pub const RECONNECT_MAX_DELAY_MILLIS: u32 = 10_000;

/// The state of the WebSocket to the signaling server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalingConnection {
    /// The first connection is being opened.
    Connecting,
    /// The server greeted us: messages can flow.
    Connected,
    /// The connection was lost; a new attempt is scheduled after `retry_in_millis`.
    Reconnecting { attempt: u32, retry_in_millis: u32 },
    /// Another tab or device signed in with our name and resume token: we stay offline.
    ReplacedByAnotherLogin,
    /// The server closed an idle connection while nobody was signed in (it closes connections
    /// that do not sign in within a deadline): reopened when someone clicks "Sign in".
    Dormant,
}

impl SignalingConnection {
    /// A short stable word for the connection, rendered as `data-signaling` for tests.
    pub fn word(&self) -> &'static str {
        match self {
            SignalingConnection::Connecting => "connecting",
            SignalingConnection::Connected => "connected",
            SignalingConnection::Reconnecting { .. } => "reconnecting",
            SignalingConnection::ReplacedByAnotherLogin => "replaced",
            SignalingConnection::Dormant => "dormant",
        }
    }

    /// The alert shown while reconnecting, the delay in seconds with one decimal ("Retrying in
    /// 0.5 s"); in integers, so the wasm needs no `f64` formatting. Every delay is a multiple of
    /// 100 ms, so rounding never comes into it.
    pub fn reconnecting_words(attempt: u32, retry_in_millis: u32) -> String {
        let tenths = retry_in_millis.saturating_add(50) / 100;
        let (seconds, tenth) = ((tenths / 10).to_string(), (tenths % 10).to_string());
        let attempt = attempt.to_string();
        ["Not connected to the server. Retrying in ", &seconds, ".", &tenth, " s (attempt ", &attempt, ")…"].concat()
    }
}

/// The delay before reconnect attempt number `attempt` (1-based): 0.5 s, 1 s, 2 s, ... 10 s.
pub fn reconnect_delay_millis(attempt: u32) -> u32 {
    let doublings = attempt.saturating_sub(1).min(16);
    RECONNECT_FIRST_DELAY_MILLIS.saturating_mul(1 << doublings).min(RECONNECT_MAX_DELAY_MILLIS)
}
