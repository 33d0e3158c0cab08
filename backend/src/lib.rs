//! Duet's signaling server as a library: `app(state)` builds the router and `run(listener, ...)`
//! serves it, so tests run the real server on `127.0.0.1:0`.

// First: its macro serves the socket wrappers below (macros are in scope after their module).
#[macro_use]
mod write_through;
pub mod address;
pub mod client_address;
pub mod cluster;
pub mod cluster_node;
pub mod config;
pub mod connection;
pub mod defer_accept;
pub mod delivery;
pub mod directory;
pub mod directory_backend;
pub mod dispatch;
pub mod first_read;
pub mod frame_gate;
pub mod ice;
pub mod limits;
pub mod log_limit;
pub mod metrics;
pub mod nodelay;
pub mod presence;
pub mod read_ahead;
pub mod resume_token;
pub mod router;
pub mod security_headers;
pub mod serve;
pub mod static_files;
pub mod tls;
pub mod upgrade_write;
pub mod websocket;
mod websocket_route;

pub use config::Config;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use client_address::TrustedProxies;
use directory_backend::DirectoryBackend;
use limits::{ConnectionLimiter, OriginPolicy};
use metrics::Metrics;
use protocol::{
    Hello, Limits, FEATURE_PRESENCE, FEATURE_PRESENCE_QUERY, FEATURE_RESUME_CALLS, MAX_NAME_CHARS, PROTOCOL_VERSION,
};
use serve::Transport;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Name announced in `hello`.
pub const SERVER_NAME: &str = "duet";

/// How long shutdown waits for connections to say goodbye before it drops them: the whole
/// shutdown, HTTP connections included, ends within this time.
pub const SHUTDOWN_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes tungstenite reads at a time, and the read buffer every idle connection keeps. A
/// candidate frame (a 257-byte candidate is ~313 bytes on the wire) still arrives in one read; anything larger takes
/// one `recvfrom` and a copy per further chunk ([`read_ahead`]). 512 held 0.13 KiB more per idle
/// connection; 256 cost 4 % more instructions per relayed candidate (BENCHMARKS.md, "Server
/// levers (issue 15)").
pub const READ_BUFFER_BYTES: usize = 384;

/// Everything a request handler or connection needs: one pointer, cheap to clone (every
/// connection holds one, so its size counts per connection).
#[derive(Debug, Clone)]
pub struct AppState(Arc<SharedState>);

/// What [`AppState`] points to.
#[derive(Debug)]
pub struct SharedState {
    pub config: Arc<Config>,
    /// Cluster mode (`--redis-url`): this node's link to the others; `None` alone.
    pub cluster: Option<cluster_node::ClusterNode>,
    /// Names online and call state (plain data: in memory, or on Redis in cluster mode).
    pub directory: Arc<DirectoryBackend>,
    /// This node's connections, by id: where the directory's connection references lead.
    pub router: Arc<router::Router>,
    /// The connections subscribed to presence (`presence_subscribe`).
    pub presence: presence::PresenceHub,
    /// Ends calls that ring past `--ring-timeout`, and holds past `--call-resume-grace`.
    pub ring_sweep: dispatch::RingSweep,
    /// Wakes the connections whose deadline passed (started by the first connection).
    pub deadline_sweep: delivery::DeadlineSweep,
    /// Signs and checks resume tokens (`--resume-secret`, or the secret file read by `main`).
    pub resume_secret: resume_token::ResumeSecret,
    pub metrics: Arc<Metrics>,
    pub connection_limiter: Arc<ConnectionLimiter>,
    /// The connection limit enforced: `--max-connections` within the open-file limit (see
    /// [`limits::effective_connection_limit`]).
    pub max_connections: usize,
    /// `--trusted-proxy`: whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
    origin_policy: OriginPolicy,
    /// The built web app, if any (see [`static_files::web_app`]).
    pub web_app: Option<Arc<static_files::WebApp>>,
    /// How much each connection's queue may hold, and the server-wide budget they share.
    pub queue_limits: delivery::QueueLimits,
    /// Limits the log lines of refused requests (they are all counted in the metrics).
    pub refusal_log: log_limit::LogLimiter,
    /// Cancelled when the server shuts down; every connection watches it.
    pub shutdown: CancellationToken,
    /// The upgraded WebSocket connections.
    connections: TaskTracker,
    /// `hello` as sent, serialised once: the configuration does not change while serving.
    hello_frame: tungstenite::Utf8Bytes,
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl AppState {
    /// The server's state. Without `config.resume_secret`, tokens are signed with a random
    /// secret of this process (the binary loads or creates `--resume-secret-file` first).
    pub fn new(config: Config) -> AppState {
        AppState::assemble(config, address::NodeId::generate(), DirectoryBackend::in_memory(), None)
    }

    /// The server's state: alone in memory without `--redis-url` (as [`AppState::new`]), or a
    /// node of a cluster connected to Redis, with its tasks running (see [`cluster_node`]).
    pub async fn start(config: Config) -> Result<AppState, cluster::ClusterError> {
        let Some(url) = config.redis_url.clone() else { return Ok(AppState::new(config)) };
        let (node, directory, cluster, incoming, left_behind) = cluster_node::start(&config, &url).await?.into_parts();
        let state = AppState::assemble(config, node, directory, Some(cluster));
        cluster_node::Started::spawn_tasks(incoming, left_behind, &state);
        Ok(state)
    }

    fn assemble(
        config: Config,
        node: address::NodeId,
        directory: DirectoryBackend,
        cluster: Option<cluster_node::ClusterNode>,
    ) -> AppState {
        let metrics = Arc::new(if cluster.is_some() { Metrics::for_cluster() } else { Metrics::new() });
        let queue_budget = Arc::new(delivery::QueueBudget::new(config.max_queued_bytes));
        let router = router::Router::new(node, Arc::clone(queue_budget.local_queues()));
        let queue_limits =
            delivery::QueueLimits { frames: config.outbox_capacity, bytes: config.outbox_bytes, budget: queue_budget };
        let router = Arc::new(router);
        let directory = Arc::new(directory);
        let shutdown = CancellationToken::new();
        let presence = presence::PresenceHub::new(Arc::clone(&router), Arc::clone(&directory), shutdown.clone());
        let hello_frame = tungstenite::Utf8Bytes::from(protocol::ServerMessage::Hello(hello(&config)).to_json());
        AppState(Arc::new(SharedState {
            hello_frame,
            origin_policy: OriginPolicy::new(&config.allowed_origins),
            max_connections: limits::effective_connection_limit(config.max_connections, limits::open_files_limit()),
            trusted_proxies: TrustedProxies::new(&config.trusted_proxies),
            web_app: static_files::web_app(&config).map(Arc::new),
            resume_secret: config.resume_secret.clone().unwrap_or_else(resume_token::ResumeSecret::random),
            config: Arc::new(config),
            cluster,
            directory,
            router,
            presence,
            ring_sweep: dispatch::RingSweep::default(),
            deadline_sweep: delivery::DeadlineSweep::default(),
            metrics,
            connection_limiter: Arc::new(ConnectionLimiter::default()),
            refusal_log: log_limit::LogLimiter::default(),
            queue_limits,
            shutdown,
            connections: TaskTracker::new(),
        }))
    }

    /// A reference that does not keep the server's state alive (for its background tasks).
    pub(crate) fn downgrade(&self) -> Weak<SharedState> {
        Arc::downgrade(&self.0)
    }

    /// The greeting every connection receives first.
    pub fn hello(&self) -> Hello {
        hello(&self.config)
    }

    /// [`AppState::hello`] as the frame every connection receives first (shared bytes, not
    /// built and serialised per connection).
    pub fn hello_frame(&self) -> tungstenite::Utf8Bytes {
        self.hello_frame.clone()
    }
}

/// The greeting for a server with `config`.
fn hello(config: &Config) -> Hello {
    let ice_servers = ice::stun_servers(&config.stun_urls);
    Hello {
        server: SERVER_NAME.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol: PROTOCOL_VERSION,
        limits: Limits {
            max_frame_bytes: config.max_frame_bytes,
            max_name_chars: MAX_NAME_CHARS,
            ring_timeout_secs: config.ring_timeout.as_secs(),
            idle_timeout_secs: config.idle_timeout.as_secs(),
            call_resume_grace_secs: Some(config.call_resume_grace.as_secs()),
        },
        ice_servers,
        // The same in cluster mode: presence is pushed cluster-wide (through Redis's presence
        // channel, `cluster_node.rs`) and held calls are in Redis (`cluster/leases_lua.rs`).
        features: match config.presence_list {
            config::PresenceList::Global => vec![FEATURE_PRESENCE, FEATURE_PRESENCE_QUERY, FEATURE_RESUME_CALLS],
            config::PresenceList::None => vec![FEATURE_PRESENCE_QUERY, FEATURE_RESUME_CALLS],
        }
        .into_iter()
        .map(str::to_owned)
        .collect(),
    }
}

/// The HTTP router: WebSocket upgrades on `/` (classic clients) and `/ws` (the web app); plain
/// requests get the web app's static files.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(websocket_route::root))
        .route("/ws", get(websocket_route::websocket_only))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .fallback_service(static_files::service(state.web_app.clone()))
        .layer(axum::middleware::map_response(security_headers::add_to_every_response))
        .with_state(state)
}

/// The TCP peer's address (`ConnectInfo<ClientAddress>` in every request, plain or TLS); behind
/// a trusted proxy the client is found by [`client_address::TrustedProxies::client_address`].
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub SocketAddr);

/// Liveness: the process serves HTTP.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness, for load balancers: alone always ready; a cluster node only while it reaches
/// Redis (sign-ins are refused meanwhile). `/healthz` stays liveness.
async fn readyz(State(state): State<AppState>) -> Response {
    match &state.cluster {
        Some(cluster) if !cluster.is_ready() => {
            (StatusCode::SERVICE_UNAVAILABLE, "not ready: the shared directory (Redis) is unreachable\n")
                .into_response()
        }
        _ => "ready\n".into_response(),
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    // WebSockets only, as before accepted connections were counted too (those are
    // `duet_tcp_connections`).
    state.metrics.connections.set(i64::try_from(state.connections.len()).unwrap_or(i64::MAX));
    state.metrics.tcp_connections.set(i64::try_from(state.connection_limiter.open_connections()).unwrap_or(i64::MAX));
    state.metrics.queued_bytes.set(i64::try_from(state.queue_limits.budget.used()).unwrap_or(i64::MAX));
    if let Some(cluster) = &state.cluster {
        let (frames, presence) = cluster.incoming_dropped();
        state.metrics.cluster_incoming_dropped(frames, presence);
        // Cluster-wide, one set size per live node in Redis; left as it was while unreachable.
        if let Ok(count) = state.directory.online_count().await {
            state.metrics.cluster_users_online.set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        // The cluster's calls (per node they would not add up: a call's start, answer and end
        // may each run on another node).
        if let Some(Ok((ringing, active))) = state.directory.call_counts().await {
            state.metrics.set_cluster_calls(ringing, active);
        }
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], state.metrics.encode())
        .into_response()
}

/// Serves `app(state)` on `listener` until `shutdown` completes, then closes every WebSocket
/// with code 1012 ("restarting") and every HTTP connection, dropping what is still open after
/// [`SHUTDOWN_DRAIN_TIMEOUT`]. See [`serve`] for the limits before the upgrade.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    on_a_worker(serve::serve(listener, Transport::Plain, state, shutdown)).await
}

/// Like [`run`], over TLS (https:// and wss://) with the given server configuration. The TLS
/// handshake counts against the request-head deadline.
pub async fn run_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    on_a_worker(serve::serve(listener, Transport::Tls(tokio_rustls::TlsAcceptor::from(tls)), state, shutdown)).await
}

/// Runs the accept loop as a task of its own instead of in the caller's future. Under
/// `#[tokio::main]` the caller is `block_on`'s thread, not one of the runtime's workers: every
/// connection task it spawned was handed over to a worker and the worker woken (an eventfd
/// write and a thread switch per connection; BENCHMARKS.md, "Server levers (issue 15)"). From a
/// worker, spawned tasks go to its own queue. Dropping the returned future stops the loop, as
/// dropping the loop itself did.
async fn on_a_worker(serving: impl Future<Output = std::io::Result<()>> + Send + 'static) -> std::io::Result<()> {
    match tokio_util::task::AbortOnDropHandle::new(tokio::spawn(serving)).await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(std::io::Error::other(error)),
    }
}
