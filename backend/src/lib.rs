//! Duet's signaling server as a library: `app(state)` builds the router and `run(listener, ...)`
//! serves it, so tests run the real server on `127.0.0.1:0`.

pub mod config;
pub mod connection;
pub mod dispatch;
pub mod registry;
pub mod static_files;

pub use config::Config;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use protocol::{Hello, IceServer, Limits, MAX_NAME_CHARS, PROTOCOL_VERSION};
use registry::Registry;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Name announced in `hello`.
pub const SERVER_NAME: &str = "duet";

/// How long shutdown waits for connections to say goodbye before it stops waiting.
pub const SHUTDOWN_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything a request handler or connection needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub registry: Arc<Registry>,
    /// Cancelled when the server shuts down; every connection watches a child of it.
    pub shutdown: CancellationToken,
    connections: TaskTracker,
}

impl AppState {
    pub fn new(config: Config) -> AppState {
        AppState {
            config: Arc::new(config),
            registry: Arc::new(Registry::new()),
            shutdown: CancellationToken::new(),
            connections: TaskTracker::new(),
        }
    }

    /// The greeting every connection receives first.
    pub fn hello(&self) -> Hello {
        let config = &self.config;
        let ice_servers = if config.stun_urls.is_empty() {
            Vec::new()
        } else {
            vec![IceServer { urls: config.stun_urls.clone(), username: None, credential: None }]
        };
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
        .fallback_service(static_files::service(&state.config))
        .with_state(state)
}

async fn root(
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    match upgrade {
        Ok(upgrade) => accept_websocket(upgrade, state, remote),
        Err(_) => static_files::index(&state.config, request).await,
    }
}

async fn websocket_only(upgrade: WebSocketUpgrade, State(state): State<AppState>, ConnectInfo(remote): ConnectInfo<SocketAddr>) -> Response {
    accept_websocket(upgrade, state, remote)
}

fn accept_websocket(upgrade: WebSocketUpgrade, state: AppState, remote: SocketAddr) -> Response {
    let max_frame_bytes = state.config.max_frame_bytes;
    upgrade
        .max_message_size(max_frame_bytes)
        .max_frame_size(max_frame_bytes)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            let tracker = state.connections.clone();
            tracker.track_future(connection::serve_connection(socket, state, remote))
        })
        .into_response()
}

/// Serves `app(state)` on `listener` until `shutdown` completes, then closes every WebSocket
/// with code 1012 ("restarting") and waits up to [`SHUTDOWN_DRAIN_TIMEOUT`] for them to finish.
pub async fn run(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let router = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let token = state.shutdown.clone();
    // Signaling frames are small and latency-bound: never let Nagle hold one for a delayed ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream: &mut tokio::net::TcpStream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
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
