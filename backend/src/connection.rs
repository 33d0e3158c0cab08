//! One WebSocket connection: a reader loop that dispatches frames, a writer task fed by a
//! bounded queue, heartbeats, and the clean-up that frees the name when the connection ends.
//! The connection task is where its errors stop: nothing here can take the server down.

use crate::dispatch::Session;
use crate::registry::DeliveryError;
use crate::AppState;
use axum::extract::ws::{close_code, CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use protocol::{ErrorCode, LeaveReason, ServerMessage};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Unique per connection for the lifetime of the process.
pub type ConnectionId = u64;

static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

/// How long a closing connection may take to flush what is queued for it.
const WRITER_DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Custom close code: the name was taken over by a new login with the resume token.
pub const CLOSE_REPLACED_BY_NEW_LOGIN: u16 = 4001;

/// What the writer task sends.
#[derive(Debug)]
pub enum Outbound {
    Text(Utf8Bytes),
    Close(CloseFrame),
}

/// Why another task asked a connection to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// Its outbound queue filled up: the client does not read.
    SlowConsumer,
    /// A new login with this name's resume token took over.
    ReplacedByNewLogin,
}

#[derive(Debug)]
struct Kick {
    token: CancellationToken,
    reason: OnceLock<KickReason>,
}

/// What other tasks hold to reach a connection: its outbound queue and a way to close it.
#[derive(Debug, Clone)]
pub struct ConnectionHandle {
    id: ConnectionId,
    outbox: mpsc::Sender<Outbound>,
    kick: Arc<Kick>,
}

impl ConnectionHandle {
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// Queues a text frame without waiting. A full queue means the client does not read: the
    /// connection is closed instead of buffering without bound.
    pub fn send_text(&self, text: Utf8Bytes) -> Result<(), DeliveryError> {
        match self.outbox.try_send(Outbound::Text(text)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kick(KickReason::SlowConsumer);
                Err(DeliveryError::RecipientTooSlow)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(DeliveryError::NotOnline),
        }
    }

    /// Serializes and queues a message.
    pub fn send(&self, message: &ServerMessage) -> Result<(), DeliveryError> {
        self.send_text(Utf8Bytes::from(message.to_json()))
    }

    /// Asks the connection to close (the first reason given wins).
    pub fn kick(&self, reason: KickReason) {
        let _ = self.kick.reason.set(reason);
        self.kick.token.cancel();
    }
}

/// How the reader loop ended, which decides the close frame and the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    ClientClosed,
    TransportError,
    FrameTooLarge,
    Idle,
    Kicked(KickReason),
    ServerShutdown,
}

/// Runs one upgraded WebSocket until it closes. Never panics outward, never returns an error:
/// every failure ends this connection only.
pub async fn serve_connection(socket: WebSocket, state: AppState, remote: SocketAddr) {
    let id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
    let config = &state.config;
    let (sink, mut stream) = socket.split();
    let (outbox, outbox_receiver) = mpsc::channel(config.outbox_capacity.max(1));
    let handle = ConnectionHandle {
        id,
        outbox,
        kick: Arc::new(Kick { token: state.shutdown.child_token(), reason: OnceLock::new() }),
    };
    let writer = tokio::spawn(write_loop(sink, outbox_receiver, config.heartbeat_interval));
    tracing::info!(connection = id, %remote, "connection opened");

    let mut session = Session::new(state.clone(), handle.clone());
    let _ = handle.send(&ServerMessage::Hello(state.hello()));

    let ending = loop {
        let frame = tokio::select! {
            biased;
            () = handle.kick.token.cancelled() => {
                break match handle.kick.reason.get() {
                    Some(reason) => Ending::Kicked(*reason),
                    None => Ending::ServerShutdown,
                };
            }
            frame = tokio::time::timeout(config.idle_timeout, stream.next()) => frame,
        };
        match frame {
            Err(_elapsed) => break Ending::Idle,
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => break Ending::ClientClosed,
            Ok(Some(Err(error))) => {
                break if is_capacity_error(&error) { Ending::FrameTooLarge } else { Ending::TransportError };
            }
            Ok(Some(Ok(Message::Text(text)))) => session.handle_text(text.as_str()),
            Ok(Some(Ok(Message::Binary(_)))) => session.reply_error(
                ErrorCode::BinaryFrame,
                "Binary frames are not supported; send JSON text frames.".to_owned(),
            ),
            // Any frame proves the client is alive; the timeout above already restarted.
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
        }
    };

    if let Some((name, peer)) = session.disconnect() {
        tracing::info!(connection = id, user = %name, ?ending, "user left");
        if let Some(peer) = peer {
            let leave = ServerMessage::Leave { name: Some(name.clone()), reason: Some(LeaveReason::Disconnected) };
            let _ = state.registry.deliver(&peer, Utf8Bytes::from(leave.to_json()));
            tracing::info!(caller = %name, callee = %peer, reason = "disconnected", "call ended");
        }
    }
    tracing::info!(connection = id, ?ending, "connection closed");

    let close = match ending {
        Ending::Idle => Some(close_frame(close_code::AWAY, "No heartbeat: connection idle for too long.")),
        Ending::FrameTooLarge => Some(close_frame(close_code::SIZE, "Frame too large.")),
        Ending::ServerShutdown => Some(close_frame(close_code::RESTART, "Server restarting; reconnect.")),
        Ending::Kicked(KickReason::ReplacedByNewLogin) => {
            Some(close_frame(CLOSE_REPLACED_BY_NEW_LOGIN, "Signed in again from another connection."))
        }
        Ending::Kicked(KickReason::SlowConsumer) | Ending::ClientClosed | Ending::TransportError => None,
    };
    finish_writer(handle, session, writer, close, ending).await;
}

fn close_frame(code: u16, reason: &'static str) -> CloseFrame {
    CloseFrame { code, reason: Utf8Bytes::from_static(reason) }
}

/// Lets the writer flush what is queued (plus a close frame) for a bounded time, then stops it.
async fn finish_writer(
    handle: ConnectionHandle,
    session: Session,
    writer: tokio::task::JoinHandle<()>,
    close: Option<CloseFrame>,
    ending: Ending,
) {
    let slow = ending == Ending::Kicked(KickReason::SlowConsumer);
    if let Some(close) = close {
        let _ = handle.outbox.try_send(Outbound::Close(close));
    }
    // The writer ends once every sender is gone: ours, the session's, the registry's (released).
    drop(handle);
    drop(session);
    let abort = writer.abort_handle();
    if slow || tokio::time::timeout(WRITER_DRAIN_TIMEOUT, writer).await.is_err() {
        abort.abort();
    }
}

fn is_capacity_error(error: &axum::Error) -> bool {
    use std::error::Error as _;
    let mut source = error.source();
    while let Some(inner) = source {
        if let Some(tungstenite_error) = inner.downcast_ref::<tungstenite::Error>() {
            return matches!(tungstenite_error, tungstenite::Error::Capacity(_));
        }
        source = inner.source();
    }
    false
}

/// Writes queued frames, batching whatever is already queued into one flush, and pings.
async fn write_loop(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut outbox: mpsc::Receiver<Outbound>,
    heartbeat_interval: Duration,
) {
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat_interval, heartbeat_interval);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            queued = outbox.recv() => queued,
            _ = heartbeat.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() { return; }
                continue;
            }
        };
        let Some(mut next) = first else {
            let _ = sink.close().await;
            return;
        };
        loop {
            match next {
                Outbound::Text(text) => {
                    if sink.feed(Message::Text(text)).await.is_err() {
                        return;
                    }
                }
                Outbound::Close(frame) => {
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    return;
                }
            }
            match outbox.try_recv() {
                Ok(queued) => next = queued,
                Err(_) => break,
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}
