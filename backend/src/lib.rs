//! Duet's signaling server as a library: `app(state)` builds the router and `run(listener, ...)`
//! serves it, so tests run the real server on `127.0.0.1:0`.

pub mod config;
pub mod connection;
pub mod delivery;
pub mod dispatch;
pub mod frame_gate;
pub mod ice;
pub mod limits;
pub mod log_limit;
pub mod metrics;
pub mod registry;
pub mod security_headers;
pub mod static_files;
pub mod tls;
pub mod websocket;

pub use config::Config;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use limits::{AdmissionError, ConnectionLimiter, OriginPolicy};
use metrics::{Metrics, RefuseReason};
use protocol::{Hello, Limits, MAX_NAME_CHARS, PROTOCOL_VERSION};
use registry::Registry;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tungstenite::protocol::WebSocketConfig;
use websocket::UpgradeRequest;

/// Name announced in `hello`.
pub const SERVER_NAME: &str = "duet";

/// How long shutdown waits for connections to say goodbye before it stops waiting.
pub const SHUTDOWN_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes read from a socket at a time. Signaling frames are small (a candidate is ~300 bytes);
/// a larger buffer costs memory on every idle connection and a zero-fill before every read.
pub const READ_BUFFER_BYTES: usize = 512;

/// Everything a request handler or connection needs: one pointer, cheap to clone (every
/// connection holds one, so its size counts per connection).
#[derive(Debug, Clone)]
pub struct AppState(Arc<SharedState>);

/// What [`AppState`] points to.
#[derive(Debug)]
pub struct SharedState {
    pub config: Arc<Config>,
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    pub connection_limiter: Arc<ConnectionLimiter>,
    origin_policy: OriginPolicy,
    /// The built web app, if any (see [`static_files::web_app`]).
    pub web_app: Option<Arc<static_files::WebApp>>,
    /// How much each connection's queue may hold, and the server-wide budget they share.
    pub queue_limits: delivery::QueueLimits,
    /// Limits the log lines of refused requests (they are all counted in the metrics).
    pub refusal_log: log_limit::LogLimiter,
    /// Cancelled when the server shuts down; every connection watches it.
    pub shutdown: CancellationToken,
    connections: TaskTracker,
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl AppState {
    pub fn new(config: Config) -> AppState {
        let metrics = Arc::new(Metrics::new());
        let queue_limits = delivery::QueueLimits {
            frames: config.outbox_capacity,
            bytes: config.outbox_bytes,
            budget: Arc::new(delivery::QueueBudget::new(config.max_queued_bytes)),
        };
        AppState(Arc::new(SharedState {
            origin_policy: OriginPolicy::new(&config.allowed_origins),
            web_app: static_files::web_app(&config).map(Arc::new),
            config: Arc::new(config),
            registry: Arc::new(Registry::new(Arc::clone(&metrics))),
            metrics,
            connection_limiter: Arc::new(ConnectionLimiter::default()),
            refusal_log: log_limit::LogLimiter::default(),
            queue_limits,
            shutdown: CancellationToken::new(),
            connections: TaskTracker::new(),
        }))
    }

    /// The greeting every connection receives first.
    pub fn hello(&self) -> Hello {
        let config = &self.config;
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
            },
            ice_servers,
        }
    }
}

/// The HTTP router: WebSocket upgrades on `/` (classic clients) and `/ws` (the web app); plain
/// requests get the web app's static files.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/ws", get(websocket_only))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .fallback_service(static_files::service(state.web_app.clone()))
        .layer(axum::middleware::map_response(security_headers::add_to_every_response))
        .with_state(state)
}

/// The client's address, for both plain TCP and TLS listeners (axum's `SocketAddr` connect
/// info only knows its own listener types).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, NoDelayListener>> for ClientAddress {
    fn connect_info(stream: axum::serve::IncomingStream<'_, NoDelayListener>) -> ClientAddress {
        ClientAddress(*stream.remote_addr())
    }
}

/// A TCP listener whose connections have TCP_NODELAY set: signaling frames are small and
/// latency-bound, and Nagle would hold one back for a delayed ACK.
#[derive(Debug)]
pub struct NoDelayListener(pub TcpListener);

impl axum::serve::Listener for NoDelayListener {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, remote)) => {
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%error, "could not set TCP_NODELAY");
                    }
                    return (stream, remote);
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tls::TlsListener>> for ClientAddress {
    fn connect_info(stream: axum::serve::IncomingStream<'_, tls::TlsListener>) -> ClientAddress {
        ClientAddress(*stream.remote_addr())
    }
}

/// Liveness: the process serves HTTP.
async fn healthz() -> &'static str {
    "ok\n"
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    state.metrics.connections.set(i64::try_from(state.connection_limiter.open_connections()).unwrap_or(i64::MAX));
    state.metrics.queued_bytes.set(i64::try_from(state.queue_limits.budget.used()).unwrap_or(i64::MAX));
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], state.metrics.encode())
        .into_response()
}

async fn root(
    upgrade: Result<UpgradeRequest, websocket::NotAnUpgrade>,
    State(state): State<AppState>,
    ConnectInfo(ClientAddress(remote)): ConnectInfo<ClientAddress>,
    request: axum::extract::Request,
) -> Response {
    match upgrade {
        Ok(upgrade) => accept_websocket(upgrade, state, remote, request.headers()),
        Err(_) => static_files::index(state.web_app.as_deref(), request).await,
    }
}

async fn websocket_only(
    upgrade: UpgradeRequest,
    State(state): State<AppState>,
    ConnectInfo(ClientAddress(remote)): ConnectInfo<ClientAddress>,
    headers: HeaderMap,
) -> Response {
    accept_websocket(upgrade, state, remote, &headers)
}

/// Checks the origin and connection limits, then upgrades. Refusals are plain HTTP answers a
/// person can read in the browser's network panel.
fn accept_websocket(upgrade: UpgradeRequest, state: AppState, remote: SocketAddr, headers: &HeaderMap) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok());
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    if !state.origin_policy.allows(origin, host) {
        let origin = protocol::quoted(origin.unwrap_or(""));
        state.metrics.refused(RefuseReason::OriginNotAllowed);
        if log_refusal(&state, RefuseReason::OriginNotAllowed) {
            tracing::info!(%remote, %origin, "connection refused: origin not allowed");
        }
        let message = format!("Origin {origin} may not connect to this server (see --allowed-origin).\n");
        return (StatusCode::FORBIDDEN, message).into_response();
    }
    let config = &state.config;
    let permit =
        match state.connection_limiter.try_admit(remote.ip(), config.max_connections, config.max_connections_per_ip) {
            Ok(permit) => permit,
            Err(refusal) => {
                let reason = match refusal {
                    AdmissionError::TooManyConnections(_) => RefuseReason::TooManyConnections,
                    AdmissionError::TooManyFromAddress(_) => RefuseReason::TooManyConnectionsFromAddress,
                };
                state.metrics.refused(reason);
                if log_refusal(&state, reason) {
                    tracing::info!(%remote, %refusal, "connection refused");
                }
                return (StatusCode::SERVICE_UNAVAILABLE, format!("{refusal}\n")).into_response();
            }
        };
    let socket_config = WebSocketConfig::default()
        .max_message_size(Some(config.max_frame_bytes))
        .max_frame_size(Some(config.max_frame_bytes))
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0);
    let limiter = limits::RateLimiter::for_connection(config);
    upgrade.accept(socket_config, limiter, move |socket| {
        let tracker = state.connections.clone();
        tracker.track_future(connection::serve_connection(socket, state, remote, permit))
    })
}

/// Whether to log one refused connection (at most a few lines a second per reason; every one is
/// counted in the metrics); a line saying how many were left out comes first when some were.
fn log_refusal(state: &AppState, reason: RefuseReason) -> bool {
    match state.refusal_log.check(reason.label()) {
        log_limit::LogDecision::Write { suppressed: 0 } => true,
        log_limit::LogDecision::Write { suppressed } => {
            tracing::info!(reason = reason.label(), suppressed, "{suppressed} refused connections were not logged");
            true
        }
        log_limit::LogDecision::Suppress => false,
    }
}

/// Serves `app(state)` on `listener` until `shutdown` completes, then closes every WebSocket
/// with code 1012 ("restarting") and waits up to [`SHUTDOWN_DRAIN_TIMEOUT`] for them to finish.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_until_shutdown(NoDelayListener(listener), state, shutdown).await
}

/// Like [`run`], over TLS (https:// and wss://) with the given server configuration.
pub async fn run_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_until_shutdown(tls::TlsListener::new(listener, tls)?, state, shutdown).await
}

async fn serve_until_shutdown<L>(
    listener: L,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    ClientAddress: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let router = app(state.clone()).into_make_service_with_connect_info::<ClientAddress>();
    let token = state.shutdown.clone();
    let served = axum::serve(listener, router).with_graceful_shutdown(async move {
        shutdown.await;
        token.cancel();
    });
    let result = served.await;
    state.shutdown.cancel();
    state.connections.close();
    if tokio::time::timeout(SHUTDOWN_DRAIN_TIMEOUT, state.connections.wait()).await.is_err() {
        tracing::warn!(remaining = state.connections.len(), "shutdown: connections still open after the drain timeout");
    }
    result
}
