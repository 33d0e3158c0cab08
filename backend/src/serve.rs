//! The accept loop and the HTTP/1 connections in front of the router (instead of `axum::serve`),
//! so that nothing a client does before the WebSocket upgrade can hold the server:
//!
//! - every accepted TCP connection takes a [`crate::limits::ConnectionPermit`] at once (total and
//!   per address; a trusted proxy's only in total until its request names the client:
//!   `serve/admission.rs`); the permit stays with the connection for its whole life (in its
//!   `serve/connection_context.rs`) and moves into the WebSocket when it upgrades;
//! - a connection must finish its TLS handshake and send a complete request head within
//!   `--request-head-timeout` of `accept`, and each later head within that time of asking for
//!   it (hyper's header-read timeout, which needs the timer given here); heads over
//!   [`MAX_REQUEST_HEAD_BYTES`] get 431;
//! - connections over a limit are still read and answered (a readable 503, or `/healthz`) from a
//!   small reserve with a short deadline; beyond that reserve they are closed at once;
//! - shutdown asks every connection to finish, and after [`SHUTDOWN_DRAIN_TIMEOUT`] drops
//!   whatever is left, so one half-sent request cannot keep the process alive.

mod admission;
mod connection_context;

pub use connection_context::ConnectionContext;

use crate::first_read::{first_read, Prefixed};
use crate::limits::AdmissionError;
use crate::metrics::RefuseReason;
use crate::nodelay::AcceptedNodelay;
use crate::upgrade_write::{HoldUpgradeResponse, UpgradeWrite};
use crate::websocket_route::{upgrade_without_router, Routing};
use crate::{AppState, ClientAddress, SHUTDOWN_DRAIN_TIMEOUT};
use admission::{admit, log_connection_limit, refusal_response};
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// Largest request head accepted (request line and headers); larger ones get 431. A browser's
/// WebSocket upgrade with cookies is 1-3 KiB.
pub const MAX_REQUEST_HEAD_BYTES: usize = 16 * 1024;

/// Connections over a limit that are still read and answered at once (part of
/// [`crate::limits::RESERVED_FILE_DESCRIPTORS`]); more are closed without reading.
pub const OVERFLOW_CONNECTIONS: usize = 32;

/// How long a connection over a limit may take to send its request head.
const OVERFLOW_HEAD_TIMEOUT: Duration = Duration::from_secs(1);

/// After the drain limit, how long dropped connections get to end their tasks.
const HARD_STOP_GRACE: Duration = Duration::from_millis(100);

/// Accept errors (out of descriptors and the like) are logged at most this often.
const ACCEPT_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Refusals at `accept` are logged at most this often (each is counted in metrics).
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Written, without reading anything, to a connection over the limit when the reserve is full.
const FULL_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
content-length: 44\r\nretry-after: 5\r\nconnection: close\r\n\r\nThe server is busy; try again in a moment.\r\n";

/// How connections arrive: plain TCP, or TLS on top.
#[derive(Clone)]
pub(crate) enum Transport {
    Plain,
    Tls(TlsAcceptor),
}

/// What every connection task shares.
struct Server {
    state: AppState,
    router: Router,
    transport: Transport,
    http: http1::Builder,
    overflow_http: http1::Builder,
    /// Cancelled at shutdown: finish the request in progress, then close.
    graceful: CancellationToken,
    /// Cancelled when the drain limit is over: close now.
    hard_stop: CancellationToken,
}

/// Serves `state`'s router on `listener` until `shutdown` completes, then drains (see the
/// module documentation). Returns within [`SHUTDOWN_DRAIN_TIMEOUT`] (and a moment) of
/// `shutdown`, whatever the clients do.
pub(crate) async fn serve(
    listener: TcpListener,
    transport: Transport,
    state: AppState,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    log_connection_limit(&state);
    let head_timeout = state.config.request_head_timeout;
    let server = Arc::new(Server {
        router: crate::app(state.clone()),
        transport,
        http: http_builder(head_timeout, true),
        overflow_http: http_builder(head_timeout.min(OVERFLOW_HEAD_TIMEOUT), false),
        graceful: CancellationToken::new(),
        hard_stop: CancellationToken::new(),
        state,
    });
    let http_connections = TaskTracker::new();
    let overflow = Arc::new(Semaphore::new(OVERFLOW_CONNECTIONS));
    let mut nodelay = AcceptedNodelay::from_listener(&listener);
    match crate::defer_accept::defer_accept(&listener, server.state.config.defer_accept) {
        Ok(()) => {}
        // Outside Linux: accepted at once, as before the option (nothing to warn about).
        Err(error) if error.kind() == std::io::ErrorKind::Unsupported => tracing::debug!(%error, "--defer-accept"),
        Err(error) => {
            tracing::warn!(%error, "could not defer accepting connections until they send data (--defer-accept)")
        }
    }
    let mut last_accept_error_log: Option<Instant> = None;
    let mut last_refusal_log: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    if last_accept_error_log.is_none_or(|at| at.elapsed() >= ACCEPT_ERROR_LOG_INTERVAL) {
                        last_accept_error_log = Some(Instant::now());
                        tracing::warn!(%error, "accept failed (logged at most every 10 s)");
                    }
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        nodelay.apply(&stream);
        let accepted_at = Instant::now();
        let (permit, refusal, overflow_slot) = match admit(&server.state, peer) {
            Ok(permit) => (Some(permit), None, None),
            Err(refusal) => {
                server.state.metrics.refused(match refusal {
                    AdmissionError::TooManyConnections(_) => RefuseReason::TooManyConnections,
                    AdmissionError::TooManyFromAddress(_) => RefuseReason::TooManyConnectionsFromAddress,
                });
                if last_refusal_log.is_none_or(|at| at.elapsed() >= REFUSAL_LOG_INTERVAL) {
                    last_refusal_log = Some(accepted_at);
                    tracing::warn!(%peer, %refusal, "connection refused (logged at most every 10 s; see /metrics)");
                }
                match Arc::clone(&overflow).try_acquire_owned() {
                    Ok(slot) => (None, Some(refusal), Some(slot)),
                    Err(_) => {
                        // Nothing is read, so this may not arrive; the connection is closed anyway.
                        let _ = stream.try_write(FULL_RESPONSE);
                        continue;
                    }
                }
            }
        };
        let context = Arc::new(ConnectionContext {
            peer,
            permit: Mutex::new(permit),
            refusal,
            head_received: AtomicBool::new(false),
            hold_upgrade_response: HoldUpgradeResponse::default(),
        });
        http_connections.spawn(serve_connection(Arc::clone(&server), stream, context, accepted_at, overflow_slot));
    }
    drop(listener);
    drain(&server, &http_connections).await;
    Ok(())
}

/// Closes everything within [`SHUTDOWN_DRAIN_TIMEOUT`]: WebSockets get 1012 (they watch
/// `state.shutdown`), HTTP connections finish their request; what is left then is dropped.
async fn drain(server: &Server, http_connections: &TaskTracker) {
    let deadline = Instant::now() + SHUTDOWN_DRAIN_TIMEOUT;
    let websockets = &server.state.connections;
    server.state.shutdown.cancel();
    server.graceful.cancel();
    http_connections.close();
    websockets.close();
    let drained = tokio::time::timeout_at(deadline, async {
        http_connections.wait().await;
        websockets.wait().await;
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            http_connections = http_connections.len(),
            websockets = websockets.len(),
            "shutdown: connections still open after the drain limit are dropped"
        );
        server.hard_stop.cancel();
        let _ = tokio::time::timeout(HARD_STOP_GRACE, http_connections.wait()).await;
    }
}

fn http_builder(head_timeout: Duration, keep_alive: bool) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        .max_buf_size(MAX_REQUEST_HEAD_BYTES)
        .keep_alive(keep_alive);
    builder
}

/// One TCP connection: TLS handshake (if any) and HTTP requests until it closes, upgrades, or
/// misses its deadline.
async fn serve_connection(
    server: Arc<Server>,
    mut stream: TcpStream,
    context: Arc<ConnectionContext>,
    accepted_at: Instant,
    overflow_slot: Option<OwnedSemaphorePermit>,
) {
    let head_timeout = if overflow_slot.is_some() {
        server.state.config.request_head_timeout.min(OVERFLOW_HEAD_TIMEOUT)
    } else {
        server.state.config.request_head_timeout
    };
    let deadline = accepted_at + head_timeout;
    // Nothing is set up for a connection before it sends something: hyper allocates its read
    // and write buffers (16 KiB) and rustls its state at once, which a flood of silent sockets
    // would multiply. What the first read got is handed to hyper (or rustls) first.
    let first_bytes = tokio::select! {
        () = server.graceful.cancelled() => None,
        read = tokio::time::timeout_at(deadline, first_read(&mut stream)) => Some(read),
    };
    let first_bytes = match first_bytes {
        // Also at the end of the stream (nothing read): hyper sees the connection close.
        Some(Ok(Ok(first_bytes))) => first_bytes,
        Some(Ok(Err(error))) => {
            tracing::debug!(peer = %context.peer, %error, "connection failed before its request");
            return;
        }
        Some(Err(_)) => {
            head_deadline_missed(&server, &context, "no request within the request-head deadline");
            return;
        }
        None => return,
    };
    // Boxed: a connection that sends nothing holds only this small future.
    let stream = Prefixed::new(first_bytes, stream);
    Box::pin(serve_after_first_bytes(&server, stream, &context, deadline)).await;
    // Unless its WebSocket took it, the connection's place is free from here.
    drop(context.permit.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take());
    drop(overflow_slot);
}

/// TLS handshake (if any) and HTTP requests, once the connection has sent its first bytes.
async fn serve_after_first_bytes(
    server: &Arc<Server>,
    stream: Prefixed<TcpStream>,
    context: &Arc<ConnectionContext>,
    deadline: Instant,
) {
    let hold = Arc::clone(context);
    match &server.transport {
        Transport::Plain => serve_http(server, TokioIo::new(UpgradeWrite::new(stream, hold)), context, deadline).await,
        Transport::Tls(acceptor) => {
            let handshake = tokio::select! {
                () = server.graceful.cancelled() => return,
                handshake = tokio::time::timeout_at(deadline, acceptor.accept(stream)) => handshake,
            };
            match handshake {
                Ok(Ok(tls_stream)) => {
                    serve_http(server, TokioIo::new(UpgradeWrite::new(tls_stream, hold)), context, deadline).await
                }
                Ok(Err(error)) => tracing::debug!(peer = %context.peer, %error, "TLS handshake failed"),
                Err(_) => {
                    head_deadline_missed(server, context, "TLS handshake not finished within the request-head deadline")
                }
            }
        }
    }
}

async fn serve_http<I>(server: &Arc<Server>, io: TokioIo<I>, context: &Arc<ConnectionContext>, deadline: Instant)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = {
        let server = Arc::clone(server);
        let context = Arc::clone(context);
        hyper::service::service_fn(move |request: Request<Incoming>| {
            context.head_received.store(true, Ordering::Release);
            let refusal = context.refusal.filter(|_| request.uri().path() != "/healthz");
            // A valid WebSocket upgrade is answered here, as the router would answer it.
            let routing = match refusal {
                Some(_) => Routing::ToRouter(request),
                None => upgrade_without_router(&server.state, request, &context),
            };
            let routed = match routing {
                Routing::Answered(upgraded) => Ok(upgraded),
                Routing::ToRouter(mut request) => {
                    request.extensions_mut().insert(ConnectInfo(ClientAddress(context.peer)));
                    request.extensions_mut().insert(Arc::clone(&context));
                    Err((request, server.router.clone()))
                }
            };
            async move {
                match (refusal, routed) {
                    (Some(refusal), _) => Ok(refusal_response(refusal)),
                    (None, Ok(upgraded)) => Ok(upgraded),
                    (None, Err((request, router))) => router.oneshot(request).await,
                }
            }
        })
    };
    let builder = if context.refusal.is_some() { &server.overflow_http } else { &server.http };
    let connection = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(connection);
    let first_head_deadline = tokio::time::sleep_until(deadline);
    tokio::pin!(first_head_deadline);
    let mut watching_first_head = true;
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    if error.is_timeout() {
                        server.state.metrics.refused(RefuseReason::RequestHeadTimeout);
                    } else if error.is_parse_too_large() {
                        server.state.metrics.refused(RefuseReason::RequestHeadTooLarge);
                    }
                    tracing::debug!(peer = %context.peer, %error, "HTTP connection ended with an error");
                }
                return;
            }
            () = &mut first_head_deadline, if watching_first_head => {
                if context.head_received.load(Ordering::Acquire) {
                    watching_first_head = false;
                    continue;
                }
                head_deadline_missed(server, context, "no complete request head within the deadline");
                return;
            }
            () = server.graceful.cancelled(), if !shutting_down => {
                shutting_down = true;
                connection.as_mut().graceful_shutdown();
            }
            () = server.hard_stop.cancelled() => return,
        }
    }
}

/// Counts and logs (at debug level: a flood would fill the log) a connection closed for its deadline.
fn head_deadline_missed(server: &Server, context: &ConnectionContext, what: &str) {
    server.state.metrics.refused(RefuseReason::RequestHeadTimeout);
    tracing::debug!(peer = %context.peer, "{what}: connection closed");
}
