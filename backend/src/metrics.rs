//! Prometheus metrics (`GET /metrics`): connections, users, calls, relayed messages, errors,
//! rate limiting and why connections were closed or refused. Counters on the hot path are
//! resolved once at start-up, so counting a relayed message is one atomic add.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Metric, Registry};
use protocol::ErrorCode;
use std::fmt;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabel {
    r#type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// Why the server closed a connection (label `reason` of `duet_connections_closed_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    FrameTooLarge,
    InvalidUtf8,
    ProtocolError,
    SlowConsumer,
    Idle,
    RateLimit,
    LoginTimeout,
    ReplacedByNewLogin,
    Shutdown,
}

impl CloseReason {
    fn label(self) -> &'static str {
        match self {
            CloseReason::FrameTooLarge => "frame_too_large",
            CloseReason::InvalidUtf8 => "invalid_utf8",
            CloseReason::ProtocolError => "protocol_error",
            CloseReason::SlowConsumer => "slow_consumer",
            CloseReason::Idle => "idle",
            CloseReason::RateLimit => "rate_limit",
            CloseReason::LoginTimeout => "login_timeout",
            CloseReason::ReplacedByNewLogin => "replaced_by_new_login",
            CloseReason::Shutdown => "shutdown",
        }
    }
}

/// Why a connection was refused before the WebSocket upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefuseReason {
    TooManyConnections,
    TooManyConnectionsFromAddress,
    OriginNotAllowed,
    /// No complete request head (or TLS handshake) within `--request-head-timeout`.
    RequestHeadTimeout,
    /// A request head over `serve::MAX_REQUEST_HEAD_BYTES` (answered with 431).
    RequestHeadTooLarge,
}

impl RefuseReason {
    /// The metrics label, also the key of its log lines' limit.
    pub fn label(self) -> &'static str {
        match self {
            RefuseReason::TooManyConnections => "too_many_connections",
            RefuseReason::TooManyConnectionsFromAddress => "too_many_from_address",
            RefuseReason::OriginNotAllowed => "origin_not_allowed",
            RefuseReason::RequestHeadTimeout => "request_head_timeout",
            RefuseReason::RequestHeadTooLarge => "request_head_too_large",
        }
    }
}

/// Relayed message kinds (label `type` of `duet_messages_relayed_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayedType {
    Offer,
    Answer,
    Candidate,
    Leave,
}

/// All metrics of one server instance (tests run several servers in one process).
pub struct Metrics {
    registry: Registry,
    pub connections: Gauge,
    pub queued_bytes: Gauge,
    pub tcp_connections: Gauge,
    pub users_online: Gauge,
    pub cluster_users_online: Gauge,
    /// Per process: counted by the transitions. Cluster mode: the whole cluster's, set from
    /// Redis at scrape time ([`Metrics::set_cluster_calls`]); transitions do not count them
    /// (a call's start, answer and end may run on different nodes).
    calls_ringing: Gauge,
    calls_active: Gauge,
    /// False in cluster mode (see `calls_ringing`).
    calls_counted_here: bool,
    cluster_incoming_dropped: Family<TypeLabel, Counter>,
    /// Held or waiting calls restored (both sides back).
    pub calls_resumed: Counter,
    /// Held calls and waits ended because a side did not come back within the grace period.
    pub call_resume_expired: Counter,
    pub rate_limited: Counter,
    relayed_offer: Counter,
    relayed_answer: Counter,
    relayed_candidate: Counter,
    relayed_leave: Counter,
    errors: Family<CodeLabel, Counter>,
    closed: Family<ReasonLabel, Counter>,
    refused: Family<ReasonLabel, Counter>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// A new metric registered under `name`; the returned handle shares its value with the registry.
fn registered<M: Metric + Clone + Default>(registry: &mut Registry, name: &str, help: &str) -> M {
    let metric = M::default();
    registry.register(name, help, metric.clone());
    metric
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("duet");
        let connections: Gauge = registered(&mut registry, "connections", "Open WebSocket connections");
        let queued_bytes: Gauge = registered(
            &mut registry,
            "queued_bytes",
            "Bytes queued for clients or being written to them, all connections together",
        );
        let tcp_connections: Gauge = registered(
            &mut registry,
            "tcp_connections",
            "Open TCP connections counted against --max-connections (HTTP and WebSocket)",
        );
        let users_online: Gauge = registered(&mut registry, "users_online", "Users logged in (on this node)");
        let cluster_users_online: Gauge = registered(
            &mut registry,
            "cluster_users_online",
            "Users logged in on every node of the cluster, read from Redis at scrape time (cluster mode only)",
        );
        let calls_ringing: Gauge = registered(
            &mut registry,
            "calls_ringing",
            "Calls offered but not yet answered (cluster mode: in the whole cluster, read from Redis at scrape time)",
        );
        let calls_active: Gauge = registered(
            &mut registry,
            "calls_active",
            "Answered calls in progress (cluster mode: in the whole cluster, read from Redis at scrape time)",
        );
        let cluster_incoming_dropped = registered(
            &mut registry,
            "cluster_incoming_dropped",
            "Messages from other nodes dropped because this node's bounded queue was full, by type (cluster mode)",
        );
        let calls_resumed = registered(
            &mut registry,
            "calls_resumed",
            "Calls restored after a side lost its connection or the server restarted",
        );
        let call_resume_expired = registered(
            &mut registry,
            "call_resume_expired",
            "Held calls and waits ended because a side did not come back within the grace period",
        );
        let relayed: Family<TypeLabel, Counter> =
            registered(&mut registry, "messages_relayed", "Messages relayed from one user to another, by type");
        let errors = registered(&mut registry, "errors", "Error replies sent to clients, by code");
        let rate_limited = registered(
            &mut registry,
            "rate_limited",
            "Frames refused by the per-connection rate limit (messages, fragments, pings, pongs)",
        );
        let closed = registered(&mut registry, "connections_closed", "Connections the server closed, by reason");
        let refused = registered(
            &mut registry,
            "connections_refused",
            "Connections refused before the WebSocket upgrade, by reason",
        );
        let relayed_of = |name| relayed.get_or_create(&TypeLabel { r#type: name }).clone();
        Metrics {
            relayed_offer: relayed_of("offer"),
            relayed_answer: relayed_of("answer"),
            relayed_candidate: relayed_of("candidate"),
            relayed_leave: relayed_of("leave"),
            registry,
            connections,
            queued_bytes,
            tcp_connections,
            users_online,
            cluster_users_online,
            calls_ringing,
            calls_active,
            calls_counted_here: true,
            cluster_incoming_dropped,
            calls_resumed,
            call_resume_expired,
            rate_limited,
            errors,
            closed,
            refused,
        }
    }

    /// The metrics of a cluster node: the call gauges are the cluster's, set at scrape time.
    pub fn for_cluster() -> Metrics {
        Metrics { calls_counted_here: false, ..Metrics::new() }
    }

    /// A call started ringing (counted by a single process only).
    pub fn call_ringing(&self) {
        if self.calls_counted_here {
            self.calls_ringing.inc();
        }
    }

    /// A call was answered, or a held call paired again (`was_ringing`: it was counted ringing).
    pub fn call_connected(&self, was_ringing: bool) {
        if self.calls_counted_here {
            if was_ringing {
                self.calls_ringing.dec();
            }
            self.calls_active.inc();
        }
    }

    /// A call ended, ringing or connected.
    pub fn call_ended(&self, was_connected: bool) {
        if self.calls_counted_here {
            match was_connected {
                true => self.calls_active.dec(),
                false => self.calls_ringing.dec(),
            };
        }
    }

    /// Cluster mode, at scrape time: the cluster's calls ringing and connected, from Redis.
    pub fn set_cluster_calls(&self, ringing: usize, active: usize) {
        self.calls_ringing.set(i64::try_from(ringing).unwrap_or(i64::MAX));
        self.calls_active.set(i64::try_from(active).unwrap_or(i64::MAX));
    }

    /// Cluster mode, at scrape time: what this node's subscription dropped so far.
    pub fn cluster_incoming_dropped(&self, frames: u64, presence: u64) {
        for (kind, total) in [("frames", frames), ("presence", presence)] {
            let counter = self.cluster_incoming_dropped.get_or_create(&TypeLabel { r#type: kind });
            let counted = counter.get();
            if total > counted {
                counter.inc_by(total - counted);
            }
        }
    }

    pub fn relayed(&self, kind: RelayedType) {
        match kind {
            RelayedType::Offer => self.relayed_offer.inc(),
            RelayedType::Answer => self.relayed_answer.inc(),
            RelayedType::Candidate => self.relayed_candidate.inc(),
            RelayedType::Leave => self.relayed_leave.inc(),
        };
    }

    pub fn error(&self, code: ErrorCode) {
        self.errors.get_or_create(&CodeLabel { code: code.as_str() }).inc();
    }

    pub fn closed(&self, reason: CloseReason) {
        self.closed.get_or_create(&ReasonLabel { reason: reason.label() }).inc();
    }

    pub fn refused(&self, reason: RefuseReason) {
        self.refused.get_or_create(&ReasonLabel { reason: reason.label() }).inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
