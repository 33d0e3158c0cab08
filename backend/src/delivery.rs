//! Delivery to the connections of this process: the bounded outbound queue each connection
//! owns, the [`ConnectionHandle`] other tasks hold to reach it, and the [`Backlog`] a sender
//! waits on when that queue is full. A leaf: it knows nothing of sessions, names or calls.
//!
//! Memory per client is bounded: a queue holds at most its capacity (`--outbox-capacity`) of
//! frames. A frame that finds it full goes back to its sender's connection task as a
//! [`Backlog`], which waits for room (at most `--send-timeout`) before that sender's next frame
//! is read: bursts are absorbed, the sender's order is kept, and a client whose queue stays full
//! is disconnected instead of buffered. The server's own `leave` messages never wait: they use
//! [`RESERVED_SLOTS`] above the capacity, so a call's end is never stuck behind (nor reordered
//! with) a backlog. An empty queue allocates nothing: an idle connection costs a few hundred bytes.

use protocol::ServerMessage;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::futures::Notified;
use tokio::sync::Notify;
use tokio::time::Instant;
use tungstenite::Utf8Bytes;

/// Unique per connection for the lifetime of the process.
pub type ConnectionId = u64;

static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

/// Slots above a queue's capacity that only `leave` messages of the server's own may use, so a
/// call's end is never stuck behind (or reordered with) a backlog.
pub const RESERVED_SLOTS: usize = 4;

/// Why another task asked a connection to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// Its queue stayed full: the client does not read.
    SlowConsumer,
    /// A new login with this name's resume token took over.
    ReplacedByNewLogin,
}

/// Why a message could not be handed to a connection's outbound queue at once.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the recipient is not online")]
    NotOnline,
    /// The recipient's queue is full: the frame waits in the backlog for its sender to deliver.
    #[error("the recipient's queue is full")]
    QueueFull(Backlog),
}

/// The half of a connection other tasks share.
#[derive(Debug)]
struct Outbox {
    frames: Mutex<VecDeque<Utf8Bytes>>,
    capacity: usize,
    /// A frame was queued or a close requested: the connection task wakes.
    ready: Notify,
    /// The connection task took frames out: senders waiting for room wake.
    room: Notify,
    kick: OnceLock<KickReason>,
    /// The connection is gone: nothing more is accepted.
    closed: AtomicBool,
}

impl Outbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Utf8Bytes>> {
        // A panic while holding this lock cannot leave a VecDeque half-modified.
        self.frames.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn try_push(&self, text: Utf8Bytes) -> Result<(), PushError> {
        self.try_push_within(text, self.capacity)
    }

    fn try_push_within(&self, text: Utf8Bytes, limit: usize) -> Result<(), PushError> {
        {
            let mut frames = self.lock();
            if self.closed.load(Ordering::Acquire) {
                return Err(PushError::Closed);
            }
            if frames.len() >= limit {
                return Err(PushError::Full(text));
            }
            frames.push_back(text);
        }
        self.ready.notify_one();
        Ok(())
    }

    /// Takes everything queued at once (the queue keeps no memory while idle) and wakes the
    /// senders waiting for room.
    fn take_all(&self) -> VecDeque<Utf8Bytes> {
        let batch = std::mem::take(&mut *self.lock());
        if !batch.is_empty() {
            self.room.notify_waiters();
        }
        batch
    }
}

enum PushError {
    Full(Utf8Bytes),
    Closed,
}

/// What other tasks hold to reach a connection: its outbound queue and a way to close it.
///
/// The `pub(crate)` methods are for the one connection task that owns the queue and writes
/// it to the socket (`connection.rs`).
#[derive(Debug, Clone)]
pub struct ConnectionHandle {
    id: ConnectionId,
    outbox: Arc<Outbox>,
}

impl ConnectionHandle {
    /// A new queue of `capacity` frames (at least one) under a fresh [`ConnectionId`].
    pub(crate) fn new(capacity: usize) -> ConnectionHandle {
        let outbox = Outbox {
            frames: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            ready: Notify::new(),
            room: Notify::new(),
            kick: OnceLock::new(),
            closed: AtomicBool::new(false),
        };
        ConnectionHandle { id: NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed), outbox: Arc::new(outbox) }
    }

    /// A handle with no socket behind it: for driving `dispatch::Session`s directly (property
    /// tests, tools); [`ConnectionHandle::take_queued`] empties its queue.
    pub fn detached(capacity: usize) -> ConnectionHandle {
        ConnectionHandle::new(capacity)
    }

    /// Takes every queued frame (for detached handles).
    pub fn take_queued(&self) -> Vec<Utf8Bytes> {
        self.take_batch().into()
    }

    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// Queues a text frame without waiting. When the queue is full the frame comes back as a
    /// [`Backlog`] for the sender to wait on (bounded), so a momentary burst is absorbed and a
    /// client that really does not read is disconnected instead of buffered without bound.
    pub fn send_text(&self, text: Utf8Bytes) -> Result<(), DeliveryError> {
        match self.outbox.try_push(text) {
            Ok(()) => Ok(()),
            Err(PushError::Full(text)) => Err(DeliveryError::QueueFull(Backlog { recipient: self.clone(), text })),
            Err(PushError::Closed) => Err(DeliveryError::NotOnline),
        }
    }

    /// Queues a `leave` of the server's own in the reserve above capacity (see
    /// [`RESERVED_SLOTS`]); a client that has filled even that does not read: it is closed.
    pub fn send_text_reserved(&self, text: Utf8Bytes) {
        if let Err(PushError::Full(_)) = self.outbox.try_push_within(text, self.outbox.capacity + RESERVED_SLOTS) {
            self.kick(KickReason::SlowConsumer);
        }
    }

    /// Serializes and queues a message.
    pub fn send(&self, message: &ServerMessage) -> Result<(), DeliveryError> {
        self.send_text(Utf8Bytes::from(message.to_json()))
    }

    /// Asks the connection to close (the first reason given wins).
    pub fn kick(&self, reason: KickReason) {
        let _ = self.outbox.kick.set(reason);
        self.wake();
    }

    /// Completes when a frame was queued or a close requested since the owner last woke (a
    /// wake-up that came while nobody waited is kept for the next wait).
    pub(crate) fn ready(&self) -> Notified<'_> {
        self.outbox.ready.notified()
    }

    /// Wakes the owner again: for a wake-up it took but leaves to its main loop.
    pub(crate) fn wake(&self) {
        self.outbox.ready.notify_one();
    }

    /// Why the connection was asked to close, if it was.
    pub(crate) fn kicked(&self) -> Option<KickReason> {
        self.outbox.kick.get().copied()
    }

    /// Takes everything queued, in order, for the owner to write (see [`Outbox::take_all`]).
    pub(crate) fn take_batch(&self) -> VecDeque<Utf8Bytes> {
        self.outbox.take_all()
    }

    /// The connection is gone: the queue accepts nothing more, and senders waiting for room
    /// retry, find it closed, and move on.
    pub(crate) fn mark_closed(&self) {
        self.outbox.closed.store(true, Ordering::Release);
        self.outbox.room.notify_waiters();
    }
}

/// A frame that found its recipient's queue full.
#[derive(Debug)]
pub struct Backlog {
    recipient: ConnectionHandle,
    text: Utf8Bytes,
}

impl Backlog {
    /// True when the frame is for connection `id` (a connection's reply to itself).
    pub(crate) fn is_for(&self, id: ConnectionId) -> bool {
        self.recipient.id == id
    }

    /// Tries once more, without waiting: done when the frame was queued or its recipient is
    /// gone; the backlog comes back while the queue is still full.
    pub(crate) fn retry(self) -> Result<(), Backlog> {
        match self.recipient.outbox.try_push(self.text) {
            Ok(()) | Err(PushError::Closed) => Ok(()),
            Err(PushError::Full(text)) => Err(Backlog { recipient: self.recipient, text }),
        }
    }

    /// Waits up to `patience` for room in the recipient's queue. A recipient whose queue stays
    /// full that long does not read its messages: it is disconnected.
    pub async fn deliver_within(self, patience: Duration) {
        let deadline = Instant::now() + patience;
        let Backlog { recipient, mut text } = self;
        loop {
            // Created before trying: `notify_waiters` reaches it from creation, so room made
            // in between is not missed.
            let room = recipient.outbox.room.notified();
            match recipient.outbox.try_push(text) {
                Ok(()) | Err(PushError::Closed) => return,
                Err(PushError::Full(returned)) => text = returned,
            }
            if tokio::time::timeout_at(deadline, room).await.is_err() {
                recipient.kick(KickReason::SlowConsumer);
                return;
            }
        }
    }
}
