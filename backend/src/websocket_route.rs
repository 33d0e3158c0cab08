//! The WebSocket routes (`/` for classic clients, `/ws` for the web app) and the checks before
//! an upgrade (origin, connection limits). [`upgrade_without_router`] serves a valid upgrade
//! on either path without going through the router, with the answer the router would give:
//! every connection's sign-in starts with one, and the router's path match, boxed handler
//! futures, extractors and response layers were about a tenth of the server's instructions per
//! connect + sign-in (BENCHMARKS.md, "Server levers (issue 15)").

use crate::limits::{self, AdmissionError, ConnectionPermit};
use crate::metrics::RefuseReason;
use crate::serve::ConnectionContext;
use crate::websocket::{self, UpgradeRequest};
use crate::{connection, security_headers, static_files, AppState, ClientAddress, READ_BUFFER_BYTES};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tungstenite::protocol::WebSocketConfig;

/// `/`: a WebSocket upgrade, or the web app's page.
pub(crate) async fn root(
    upgrade: Result<UpgradeRequest, websocket::NotAnUpgrade>,
    State(state): State<AppState>,
    ConnectInfo(ClientAddress(peer)): ConnectInfo<ClientAddress>,
    request: Request,
) -> Response {
    match upgrade {
        Ok(upgrade) => {
            let context = request.extensions().get::<Arc<ConnectionContext>>();
            accept_websocket(upgrade, state, peer, request.headers(), context)
        }
        Err(_) => static_files::index(state.web_app.as_deref(), request).await,
    }
}

/// `/ws`: WebSocket upgrades only.
pub(crate) async fn websocket_only(
    upgrade: UpgradeRequest,
    State(state): State<AppState>,
    ConnectInfo(ClientAddress(peer)): ConnectInfo<ClientAddress>,
    request: Request,
) -> Response {
    let context = request.extensions().get::<Arc<ConnectionContext>>();
    accept_websocket(upgrade, state, peer, request.headers(), context)
}

/// What [`upgrade_without_router`] did with a request.
pub(crate) enum Routing<Body> {
    /// A valid upgrade, answered.
    Answered(Response),
    /// Anything else, untouched: the router answers it.
    ToRouter(axum::http::Request<Body>),
}

/// A valid WebSocket upgrade of `/` or `/ws` answered as the router answers it ([`root`] or
/// [`websocket_only`], then the security headers of every answer), or the request back,
/// untouched, for the router. `context` is the connection's, given directly (the router's
/// handlers find it in the request's extensions).
pub(crate) fn upgrade_without_router<Body>(
    state: &AppState,
    request: axum::http::Request<Body>,
    context: &Arc<ConnectionContext>,
) -> Routing<Body> {
    if request.method() != Method::GET || !matches!(request.uri().path(), "/" | "/ws") {
        return Routing::ToRouter(request);
    }
    let (mut parts, body) = request.into_parts();
    match UpgradeRequest::from_parts(&mut parts, Some(Arc::clone(context))) {
        Ok(upgrade) => {
            let mut response = accept_websocket(upgrade, state.clone(), context.peer, &parts.headers, Some(context));
            security_headers::add_to(&mut response);
            Routing::Answered(response)
        }
        Err(_) => Routing::ToRouter(axum::http::Request::from_parts(parts, body)),
    }
}

/// Checks the origin and connection limits, then upgrades. Refusals are plain HTTP answers a
/// person can read in the browser's network panel.
fn accept_websocket(
    upgrade: UpgradeRequest,
    state: AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    context: Option<&Arc<ConnectionContext>>,
) -> Response {
    // Behind a trusted proxy, the client it names; otherwise the TCP peer. The port of a
    // forwarded client is not known: 0.
    let client = state.trusted_proxies.client_address(peer.ip(), headers);
    let remote = if client == peer.ip().to_canonical() { peer } else { SocketAddr::new(client, 0) };
    let origin = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok());
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    if !state.origin_policy.allows(origin, host) {
        let origin = protocol::quoted(origin.unwrap_or(""));
        state.metrics.refused(RefuseReason::OriginNotAllowed);
        if state.refusal_log.admits(RefuseReason::OriginNotAllowed.label()) {
            tracing::info!(%remote, %origin, "connection refused: origin not allowed");
        }
        let message = format!("Origin {origin} may not connect to this server (see --allowed-origin).\n");
        return (StatusCode::FORBIDDEN, message).into_response();
    }
    let config = &state.config;
    let permit = match websocket_permit(&state, context, client) {
        Ok(permit) => permit,
        Err(refusal) => {
            let reason = match refusal {
                AdmissionError::TooManyConnections(_) => RefuseReason::TooManyConnections,
                AdmissionError::TooManyFromAddress(_) => RefuseReason::TooManyConnectionsFromAddress,
            };
            state.metrics.refused(reason);
            if state.refusal_log.admits(reason.label()) {
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

/// The WebSocket's permit: the one its TCP connection took at `accept` (counted against the
/// client's address now if it came through a trusted proxy), or, when the router is served by
/// something other than [`crate::run`], a new one.
fn websocket_permit(
    state: &AppState,
    context: Option<&Arc<ConnectionContext>>,
    client: IpAddr,
) -> Result<ConnectionPermit, AdmissionError> {
    let per_address = state.config.max_connections_per_ip;
    if let Some(context) = context {
        if let Some(permit) = context.take_permit_for_websocket(client, per_address)? {
            return Ok(permit);
        }
    }
    state.connection_limiter.try_admit(client, state.max_connections, per_address)
}
