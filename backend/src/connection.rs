//! One WebSocket connection: a reader loop that dispatches frames, a writer task fed by a
//! bounded queue, heartbeats, and the clean-up that frees the name when the connection ends.
//! The connection task is where its errors stop: nothing here can take the server down.

use crate::dispatch::Session;
use crate::limits::{ConnectionPermit, RateDecision, RateLimiter};
use crate::metrics::CloseReason;
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
    /// A handle with no socket behind it, and the receiving end of its queue: for driving
    /// [`Session`]s directly (property tests, tools).
    pub fn detached(capacity: usize) -> (ConnectionHandle, mpsc::Receiver<Outbound>) {
        let (outbox, receiver) = mpsc::channel(capacity.max(1));
        let id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
        let handle = ConnectionHandle { id, outbox, kick: Arc::new(Kick { token: CancellationToken::new(), reason: OnceLock::new() }) };
        (handle, receiver)
    }

    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// Queues a text frame without waiting. When the queue is full the frame comes back as a
    /// [`Backlog`] for the sender to wait on (bounded), so a momentary burst is absorbed and a
    /// client that really does not read is disconnected instead of buffered without bound.
    pub fn send_text(&self, text: Utf8Bytes) -> Result<(), DeliveryError> {
        match self.outbox.try_send(Outbound::Text(text)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(frame)) => Err(DeliveryError::QueueFull(Backlog { recipient: self.clone(), frame })),
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

/// A frame that found its recipient's queue full.
#[derive(Debug)]
pub struct Backlog {
    recipient: ConnectionHandle,
    frame: Outbound,
}

impl Backlog {
    /// Waits up to `patience` for room in the recipient's queue. A recipient whose queue stays
    /// full that long does not read its messages: it is disconnected.
    pub async fn deliver_within(self, patience: Duration) {
        if tokio::time::timeout(patience, self.recipient.outbox.send(self.frame)).await.is_err() {
            self.recipient.kick(KickReason::SlowConsumer);
        }
    }

    /// For senders that cannot wait (timers, clean-up): wait in a task of its own.
    pub fn deliver_in_background(self, patience: Duration) {
        tokio::spawn(self.deliver_within(patience));
    }
}

/// How the reader loop ended, which decides the close frame and the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    ClientClosed,
    TransportError,
    FrameTooLarge,
    Idle,
    LoginTimeout,
    RateLimited,
    Kicked(KickReason),
    ServerShutdown,
}

impl Ending {
    /// The close frame to send, and the metrics label, for endings the server decided.
    fn close(self, login_timeout: Duration) -> (Option<CloseFrame>, Option<CloseReason>) {
        let frame = |code, reason: String| Some(CloseFrame { code, reason: Utf8Bytes::from(reason) });
        match self {
            Ending::ClientClosed | Ending::TransportError => (None, None),
            Ending::Idle => (frame(close_code::AWAY, "No heartbeat: connection idle for too long.".into()), Some(CloseReason::Idle)),
            Ending::FrameTooLarge => (frame(close_code::SIZE, "Frame too large.".into()), Some(CloseReason::FrameTooLarge)),
            Ending::LoginTimeout => (
                frame(close_code::POLICY, format!("Sign in within {} s of connecting.", login_timeout.as_secs())),
                Some(CloseReason::LoginTimeout),
            ),
            Ending::RateLimited => (frame(close_code::POLICY, "Too many messages.".into()), Some(CloseReason::RateLimit)),
            Ending::ServerShutdown => (frame(close_code::RESTART, "Server restarting; reconnect.".into()), Some(CloseReason::Shutdown)),
            Ending::Kicked(KickReason::ReplacedByNewLogin) => (
                frame(CLOSE_REPLACED_BY_NEW_LOGIN, "Signed in again from another connection.".into()),
                Some(CloseReason::ReplacedByNewLogin),
            ),
            // Its queue is full: no close frame could get through; the socket is just dropped.
            Ending::Kicked(KickReason::SlowConsumer) => (None, Some(CloseReason::SlowConsumer)),
        }
    }
}

/// How often the reader checks the idle and login deadlines: a fraction of the shortest, so a
/// deadline is enforced at most a quarter late, with one timer per connection instead of one
/// per frame.
fn deadline_check_interval(config: &crate::Config) -> Duration {
    let shortest = config.idle_timeout.min(config.login_timeout).min(config.heartbeat_interval * 4);
    (shortest / 4).max(Duration::from_millis(10))
}

/// Runs one upgraded WebSocket until it closes. Never panics outward, never returns an error:
/// every failure ends this connection only.
pub async fn serve_connection(socket: WebSocket, state: AppState, remote: SocketAddr, permit: ConnectionPermit) {
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

    let connected_at = tokio::time::Instant::now();
    let mut last_seen = connected_at;
    let mut rate = RateLimiter::new(config.rate_limit, config.rate_burst);
    let mut deadline_check = tokio::time::interval(deadline_check_interval(config));
    deadline_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    let ending = loop {
        let frame = tokio::select! {
            biased;
            () = handle.kick.token.cancelled() => {
                break match handle.kick.reason.get() {
                    Some(reason) => Ending::Kicked(*reason),
                    None => Ending::ServerShutdown,
                };
            }
            frame = stream.next() => frame,
            now = deadline_check.tick() => {
                if now.duration_since(last_seen) >= config.idle_timeout {
                    break Ending::Idle;
                }
                if !session.is_signed_in() && now.duration_since(connected_at) >= config.login_timeout {
                    break Ending::LoginTimeout;
                }
                continue;
            }
        };
        // Any frame, pongs included, proves the client is alive.
        last_seen = tokio::time::Instant::now();
        let message = match frame {
            None | Some(Ok(Message::Close(_))) => break Ending::ClientClosed,
            Some(Err(error)) => break if is_capacity_error(&error) { Ending::FrameTooLarge } else { Ending::TransportError },
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(message)) => message,
        };
        match rate.check() {
            RateDecision::Allow => {}
            RateDecision::Refuse { first_in_streak } => {
                state.metrics.rate_limited.inc();
                if first_in_streak {
                    session.reply_error(ErrorCode::RateLimited, "Too many messages; slow down.".to_owned());
                }
                continue;
            }
            RateDecision::Disconnect => {
                state.metrics.rate_limited.inc();
                break Ending::RateLimited;
            }
        }
        match message {
            Message::Text(text) => session.handle_text(text.as_str()),
            _ => session.reply_error(ErrorCode::BinaryFrame, "Binary frames are not supported; send JSON text frames.".to_owned()),
        }
        // Frames that found a full queue: this sender waits for them (bounded) before its next
        // frame is read, which keeps its messages in order and pushes back on bursts.
        for backlog in session.take_backlog() {
            backlog.deliver_within(config.send_timeout).await;
        }
    };

    if let Some((name, peer)) = session.disconnect() {
        tracing::info!(connection = id, user = %name, ?ending, "user left");
        if let Some(peer) = peer {
            crate::dispatch::send_leave(&state, &peer, &name, LeaveReason::Disconnected);
            tracing::info!(caller = %name, callee = %peer, reason = "disconnected", "call ended");
        }
    }
    let (close, close_reason) = ending.close(config.login_timeout);
    if let Some(reason) = close_reason {
        state.metrics.closed(reason);
    }
    tracing::info!(connection = id, ?ending, "connection closed");
    finish_writer(handle, session, writer, close, ending).await;
    drop(permit);
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
