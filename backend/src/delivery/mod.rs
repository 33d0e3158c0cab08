//! Delivery to the connections of this process: the bounded outbound queue each connection
//! owns, the [`ConnectionHandle`] other tasks hold to reach it, and the [`Backlog`] a sender
//! waits on when that queue is full. A leaf: it knows nothing of sessions, names or calls.
//!
//! Memory per client is bounded: a queue holds at most its capacity (`--outbox-capacity`) of
//! frames and `--outbox-bytes` of text (an empty queue always takes one frame), plus the batch
//! its connection is writing. Memory of all clients is bounded too: every queue counts its bytes
//! (queued and being written) in one [`QueueBudget`] (an atomic counter); when a push takes it
//! over `--max-queued-bytes`, the queues holding the most bytes (the slowest readers) are closed
//! first and their frames freed at once. A frame that finds its queue full goes back to its sender's connection task as a
//! [`Backlog`], which waits for room (at most `--send-timeout`) before that sender's next frame
//! is read: bursts are absorbed, the sender's order is kept, and a client whose queue stays full
//! is disconnected instead of buffered. The server's own `leave` messages never wait: they use
//! [`RESERVED_SLOTS`] above the capacity, so a call's end is never stuck behind (nor reordered
//! with) a backlog. An empty queue allocates nothing: an idle connection costs a few hundred bytes.
//!
//! Imports only the plain ids of [`crate::address`].

pub use crate::address::ConnectionId;
use protocol::ServerMessage;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::futures::Notified;
use tokio::sync::Notify;
use tokio::time::Instant;

mod budget;
mod deadline_sweep;
mod local_queues;
pub use budget::{QueueBudget, QueueLimits};
pub use deadline_sweep::{deadline_sweep_period, DeadlineSweep};
pub use local_queues::LocalQueues;
use tungstenite::Utf8Bytes;

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

/// A queue's frames and their size, under one lock.
#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<Utf8Bytes>,
    bytes: usize,
    /// Closed for the budget: its bytes no longer count (batches being written included).
    released: bool,
}

/// The half of a connection other tasks share.
#[derive(Debug)]
struct Outbox {
    id: ConnectionId,
    queue: Mutex<Queue>,
    capacity: usize,
    byte_capacity: usize,
    /// Bytes queued plus being written (what the budget counts for this queue).
    held_bytes: AtomicUsize,
    budget: Arc<QueueBudget>,
    /// A frame was queued or a close requested: the connection task wakes.
    ready: Notify,
    /// The connection task took frames out: senders waiting for room wake.
    room: Notify,
    kick: OnceLock<KickReason>,
    /// A close was requested: a write in progress gives up (see [`ConnectionHandle::kicked_signal`]).
    kicked: Notify,
    /// The connection is gone: nothing more is accepted.
    closed: AtomicBool,
    /// Frames queued in the reserve so far (`leave`, `call_resumed`: the server's news about
    /// this connection's call), so a session can tell its cached relay target is still valid.
    reserved_deliveries: AtomicU32,
    /// When the connection next checks its deadlines (ping, idle, login, credentials), in
    /// milliseconds on [`LocalQueues`]'s clock, with [`DEADLINE_PASSED`] set by the deadline
    /// sweep once it is due: deadlines are data, not a timer per connection.
    deadline: AtomicU64,
}

/// Set in [`Outbox::deadline`] by the sweep: the connection's deadline passed (it was woken).
const DEADLINE_PASSED: u64 = 1 << 63;

impl Outbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        // A panic while holding this lock cannot leave the queue half-modified.
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn try_push(&self, text: Utf8Bytes) -> Result<(), PushError> {
        self.try_push_within(text, self.capacity, self.byte_capacity)
    }

    fn try_push_within(&self, text: Utf8Bytes, limit: usize, byte_limit: usize) -> Result<(), PushError> {
        let over_budget;
        {
            let mut queue = self.lock();
            if self.closed.load(Ordering::Acquire) {
                return Err(PushError::Closed);
            }
            let too_many_bytes = !queue.frames.is_empty() && queue.bytes.saturating_add(text.len()) > byte_limit;
            if queue.frames.len() >= limit || too_many_bytes {
                return Err(PushError::Full(text));
            }
            queue.bytes += text.len();
            self.held_bytes.fetch_add(text.len(), Ordering::AcqRel);
            over_budget = self.budget.add(text.len());
            queue.frames.push_back(text);
        }
        self.ready.notify_one();
        if over_budget {
            self.budget.reclaim();
        }
        Ok(())
    }

    /// Takes everything queued at once (the queue keeps no memory while idle) and wakes the
    /// senders waiting for room. Its bytes count until the batch is dropped (written).
    fn take_all(self: &Arc<Self>) -> Batch {
        let (frames, bytes) = {
            let mut queue = self.lock();
            let bytes = std::mem::take(&mut queue.bytes);
            (std::mem::take(&mut queue.frames), bytes)
        };
        if !frames.is_empty() {
            self.room.notify_waiters();
        }
        Batch { frames, bytes, outbox: Arc::clone(self) }
    }

    /// A written batch's bytes no longer count.
    fn release(&self, bytes: usize) {
        let queue = self.lock();
        self.held_bytes.fetch_sub(bytes, Ordering::AcqRel);
        if !queue.released {
            self.budget.remove(bytes);
        }
    }

    /// Closes this queue to bring the budget back under its limit: its frames are dropped now,
    /// and its bytes (batches being written included) stop counting; its connection closes as a
    /// slow consumer.
    fn close_for_budget(&self, budget: &QueueBudget) {
        let dropped = {
            let mut queue = self.lock();
            if queue.released {
                return;
            }
            queue.released = true;
            self.closed.store(true, Ordering::Release);
            budget.remove(self.held_bytes.load(Ordering::Acquire));
            self.held_bytes.fetch_sub(queue.bytes, Ordering::AcqRel);
            queue.bytes = 0;
            std::mem::take(&mut queue.frames)
        };
        tracing::warn!(
            connection = self.id,
            dropped_frames = dropped.len(),
            "server-wide queue budget reached: closing the connection with the most bytes queued"
        );
        drop(dropped);
        self.kick(KickReason::SlowConsumer);
        self.room.notify_waiters();
    }

    /// Asks the connection to close (the first reason given wins) and wakes its task, including
    /// a write in progress.
    fn kick(&self, reason: KickReason) {
        let _ = self.kick.set(reason);
        self.ready.notify_one();
        self.kicked.notify_waiters();
    }

    /// The deadline sweep's visit at `now` (milliseconds on [`LocalQueues`]'s clock): wakes the
    /// connection if its deadline passed, and again at every visit until it looked (so a
    /// wake-up taken by another wait of the connection is not lost).
    fn wake_if_deadline_passed(&self, now: u64) {
        let deadline = self.deadline.load(Ordering::Acquire);
        let passed = deadline & DEADLINE_PASSED != 0
            || (deadline <= now
                && self
                    .deadline
                    .compare_exchange(deadline, deadline | DEADLINE_PASSED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok());
        if passed {
            self.ready.notify_one();
        }
    }
}

impl Drop for Outbox {
    /// Frames never written stop counting when the last handle goes.
    fn drop(&mut self) {
        let queue = self.queue.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !queue.released {
            self.budget.remove(queue.bytes);
        }
    }
}

/// Frames taken out of a queue to be written; their bytes count in the budget until it is dropped.
#[derive(Debug)]
pub(crate) struct Batch {
    frames: VecDeque<Utf8Bytes>,
    bytes: usize,
    outbox: Arc<Outbox>,
}

impl Batch {
    pub(crate) fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The frames, in order (the batch keeps counting until dropped).
    pub(crate) fn drain(&mut self) -> std::collections::vec_deque::Drain<'_, Utf8Bytes> {
        self.frames.drain(..)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.outbox.release(self.bytes);
        }
    }
}

enum PushError {
    Full(Utf8Bytes),
    Closed,
}

/// What other tasks hold to reach a connection: its outbound queue and a way to close it.
///
/// The `pub(crate)` methods are for the one connection task that owns the queue and writes
/// it to the socket (`connection/mod.rs`).
#[derive(Debug, Clone)]
pub struct ConnectionHandle {
    id: ConnectionId,
    outbox: Arc<Outbox>,
}

impl ConnectionHandle {
    /// A new queue within `limits` under a fresh [`ConnectionId`].
    pub(crate) fn new(limits: &QueueLimits) -> ConnectionHandle {
        let id = crate::address::next_connection_id();
        let outbox = Arc::new(Outbox {
            id,
            queue: Mutex::new(Queue::default()),
            capacity: limits.frames.max(1),
            byte_capacity: limits.bytes,
            held_bytes: AtomicUsize::new(0),
            budget: Arc::clone(&limits.budget),
            ready: Notify::new(),
            room: Notify::new(),
            kick: OnceLock::new(),
            kicked: Notify::new(),
            closed: AtomicBool::new(false),
            reserved_deliveries: AtomicU32::new(0),
            deadline: AtomicU64::new(!DEADLINE_PASSED),
        });
        limits.budget.queues.insert(id, &outbox);
        ConnectionHandle { id, outbox }
    }

    /// A handle with no socket behind it: for driving `dispatch::Session`s directly (property
    /// tests, tools); [`ConnectionHandle::take_queued`] empties its queue.
    pub fn detached(capacity: usize) -> ConnectionHandle {
        ConnectionHandle::new(&QueueLimits::frames_only(capacity))
    }

    /// Takes every queued frame (for detached handles).
    pub fn take_queued(&self) -> Vec<Utf8Bytes> {
        self.take_batch().drain().collect()
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
        // `leave` is small: only the frame count is reserved, the byte limit does not apply.
        self.outbox.reserved_deliveries.fetch_add(1, Ordering::Release);
        let reserve = self.outbox.capacity + RESERVED_SLOTS;
        if let Err(PushError::Full(_)) = self.outbox.try_push_within(text, reserve, usize::MAX) {
            self.kick(KickReason::SlowConsumer);
        }
    }

    /// How many frames were queued in the reserve so far: changes whenever the server tells
    /// this connection its call changed (see [`ConnectionHandle::send_text_reserved`]).
    pub fn reserved_deliveries(&self) -> u32 {
        self.outbox.reserved_deliveries.load(Ordering::Acquire)
    }

    /// Counts as a reserved delivery without queueing anything: the session's cached relay
    /// target (valid while [`ConnectionHandle::reserved_deliveries`] is unchanged) is dropped.
    /// For a relay that found its target's connection gone (cluster mode).
    pub fn relay_target_changed(&self) {
        self.outbox.reserved_deliveries.fetch_add(1, Ordering::Release);
    }

    /// Serializes and queues a message.
    pub fn send(&self, message: &ServerMessage) -> Result<(), DeliveryError> {
        self.send_text(Utf8Bytes::from(message.to_json()))
    }

    /// Asks the connection to close (the first reason given wins).
    pub fn kick(&self, reason: KickReason) {
        self.outbox.kick(reason);
    }

    /// Completes when the connection is asked to close after this was called (check
    /// [`ConnectionHandle::kicked`] after creating it: a close asked before is not signalled).
    pub(crate) fn kicked_signal(&self) -> Notified<'_> {
        self.outbox.kicked.notified()
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

    /// The connection checks its deadlines next at `at` (its task is woken once that passed,
    /// by the [`DeadlineSweep`]); clears a passed deadline.
    pub(crate) fn set_deadline(&self, at: Instant) {
        let at = self.outbox.budget.queues.millis_after_epoch_rounded_up(at);
        self.outbox.deadline.store(at.min(!DEADLINE_PASSED), Ordering::Release);
    }

    /// Whether the deadline set last passed (the sweep woke this connection for it).
    pub(crate) fn deadline_passed(&self) -> bool {
        self.outbox.deadline.load(Ordering::Acquire) & DEADLINE_PASSED != 0
    }

    /// Why the connection was asked to close, if it was.
    pub(crate) fn kicked(&self) -> Option<KickReason> {
        self.outbox.kick.get().copied()
    }

    /// Takes everything queued, in order, for the owner to write (see [`Outbox::take_all`]).
    pub(crate) fn take_batch(&self) -> Batch {
        self.outbox.take_all()
    }

    /// The connection is gone: the queue accepts nothing more, and senders waiting for room
    /// retry, find it closed, and move on.
    pub(crate) fn mark_closed(&self) {
        self.outbox.closed.store(true, Ordering::Release);
        self.outbox.room.notify_waiters();
        self.outbox.budget.queues.remove(self.id);
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
