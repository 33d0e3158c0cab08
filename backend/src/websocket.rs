//! The WebSocket upgrade, done here instead of by axum's `WebSocketUpgrade` so the socket is
//! built over a [`FrameGate`] (axum's gives no way to wrap the upgraded connection): the same
//! checks and handshake as axum's (HTTP/1.1, RFC 6455), then tokio-tungstenite over the gate,
//! itself over a [`ReadAhead`] (a message in one socket read whatever tungstenite's chunk).

use crate::frame_gate::FrameGate;
use crate::limits::RateLimiter;
use crate::read_ahead::ReadAhead;
use crate::serve::ConnectionContext;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures_util::future::{Either, FutureExt as _};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};
use std::future::Future;
use std::sync::Arc;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// An upgraded connection, as the connection task uses it.
pub type Socket = WebSocketStream<FrameGate<ReadAhead<TokioIo<Upgraded>>>>;

/// A valid WebSocket upgrade request (the extractor refuses anything else).
#[derive(Debug)]
pub struct UpgradeRequest {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
    /// The TCP connection, when served by [`crate::serve`]: its 101 leaves with `hello`.
    connection: Option<Arc<ConnectionContext>>,
}

/// Why a request is not a WebSocket upgrade (answered like axum's extractor would).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotAnUpgrade {
    #[error("A WebSocket upgrade must use GET.")]
    MethodNotGet,
    #[error("Connection header did not include 'upgrade'.")]
    ConnectionHeader,
    #[error("`Upgrade` header did not include 'websocket'.")]
    UpgradeHeader,
    #[error("`Sec-WebSocket-Version` header did not include '13'.")]
    VersionHeader,
    #[error("`Sec-WebSocket-Key` header missing.")]
    KeyHeader,
    #[error("WebSocket request couldn't be upgraded since no upgrade state was present.")]
    NotUpgradable,
}

impl IntoResponse for NotAnUpgrade {
    fn into_response(self) -> Response {
        let status = match self {
            NotAnUpgrade::MethodNotGet => StatusCode::METHOD_NOT_ALLOWED,
            NotAnUpgrade::NotUpgradable => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, format!("{self}\n")).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for UpgradeRequest {
    type Rejection = NotAnUpgrade;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<UpgradeRequest, NotAnUpgrade> {
        let connection = parts.extensions.get::<Arc<ConnectionContext>>().cloned();
        UpgradeRequest::from_parts(parts, connection)
    }
}

impl UpgradeRequest {
    /// The upgrade `parts` ask for on the TCP connection `connection` (if served by
    /// [`crate::serve`]), or why they are not one; `parts` are left as they were unless they are.
    pub(crate) fn from_parts(
        parts: &mut Parts,
        connection: Option<Arc<ConnectionContext>>,
    ) -> Result<UpgradeRequest, NotAnUpgrade> {
        if parts.method != Method::GET {
            return Err(NotAnUpgrade::MethodNotGet);
        }
        if !header_has_token(&parts.headers, header::CONNECTION, "upgrade") {
            return Err(NotAnUpgrade::ConnectionHeader);
        }
        if !header_has_token(&parts.headers, header::UPGRADE, "websocket") {
            return Err(NotAnUpgrade::UpgradeHeader);
        }
        if parts.headers.get(header::SEC_WEBSOCKET_VERSION).is_none_or(|version| version.as_bytes() != b"13") {
            return Err(NotAnUpgrade::VersionHeader);
        }
        let key = parts.headers.get(header::SEC_WEBSOCKET_KEY).ok_or(NotAnUpgrade::KeyHeader)?.clone();
        let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or(NotAnUpgrade::NotUpgradable)?;
        Ok(UpgradeRequest { key, on_upgrade, connection })
    }
}

fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value.to_str().is_ok_and(|value| value.split(',').any(|part| part.trim().eq_ignore_ascii_case(token)))
    })
}

impl UpgradeRequest {
    /// Answers 101 and, once the connection is upgraded, runs `serve` on the socket (rate-limited
    /// by `limiter` at the frame level). If the upgrade fails, `serve` is dropped unrun.
    pub fn accept<Serve, Served>(self, config: WebSocketConfig, limiter: RateLimiter, serve: Serve) -> Response
    where
        Serve: FnOnce(Socket) -> Served + Send + 'static,
        Served: Future<Output = ()> + Send + 'static,
    {
        let UpgradeRequest { key, on_upgrade, connection } = self;
        if let Some(connection) = connection {
            // The 101 waits for the connection's first frame (`hello`): one socket write.
            connection.hold_upgrade_response();
        }
        // Two phases in one enum (`Then`): the upgrade, then `serve`'s future in the same place.
        // One `async` block for both would keep the upgrade's parts and the `serve` closure in
        // slots of their own beside the served future, for the connection's whole life. The
        // upgrade is boxed (freed once upgraded): its future, tungstenite's handshake holding
        // the socket and its configuration, was larger than the served one, and the task's
        // allocation is as large as its larger phase for the connection's whole life.
        let task = Box::pin(upgraded_socket(on_upgrade, config, limiter)).then(move |socket| match socket {
            Some(socket) => Either::Left(serve(socket)),
            None => Either::Right(std::future::ready(())),
        });
        tokio::spawn(task);
        (
            StatusCode::SWITCHING_PROTOCOLS,
            [
                (header::CONNECTION, HeaderValue::from_static("upgrade")),
                (header::UPGRADE, HeaderValue::from_static("websocket")),
                (header::SEC_WEBSOCKET_ACCEPT, accept_key(key.as_bytes())),
            ],
        )
            .into_response()
    }
}

/// The socket once the connection is upgraded, or `None` if the upgrade fails.
async fn upgraded_socket(on_upgrade: OnUpgrade, config: WebSocketConfig, limiter: RateLimiter) -> Option<Socket> {
    let upgraded = match on_upgrade.await {
        Ok(upgraded) => upgraded,
        Err(error) => {
            tracing::debug!(%error, "WebSocket upgrade failed");
            return None;
        }
    };
    let gate = FrameGate::new(ReadAhead::new(TokioIo::new(upgraded)), limiter);
    Some(WebSocketStream::from_raw_socket(gate, Role::Server, Some(config)).await)
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 section 4.2.2).
fn accept_key(key: &[u8]) -> HeaderValue {
    let mut sha1 = Sha1::default();
    sha1.update(key);
    sha1.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let encoded = base64::engine::general_purpose::STANDARD.encode(sha1.finalize());
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| unreachable!("base64 is a valid header value"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_accept_key_is_the_one_of_rfc_6455() {
        assert_eq!(super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }
}
