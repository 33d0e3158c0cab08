//! [`LocalQueues`]: every open queue of this process by connection id, as weak references. The
//! router finds a connection here, and the server-wide budget searches it for the queue holding
//! the most bytes: one index for both, so a connection costs one entry.

use super::{ConnectionHandle, ConnectionId, Outbox, QueueBudget};
use dashmap::DashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use tokio::time::Instant;

/// The queues of this process's connections; an entry is added when a queue is made and
/// removed when its connection closes.
///
/// Hashed with foldhash, not SipHash: the ids are the server's own sequence numbers, so no
/// client can choose colliding keys (BENCHMARKS.md, "Server levers (issue 15)").
#[derive(Debug)]
pub struct LocalQueues {
    queues: DashMap<ConnectionId, Weak<Outbox>, foldhash::fast::RandomState>,
    /// The start of the clock the queues' deadlines are counted on, in milliseconds.
    epoch: Instant,
}

impl Default for LocalQueues {
    fn default() -> LocalQueues {
        LocalQueues { queues: DashMap::default(), epoch: Instant::now() }
    }
}

impl LocalQueues {
    /// `at` on the deadlines' clock, rounded up: a deadline is never seen as passed early.
    pub(super) fn millis_after_epoch_rounded_up(&self, at: Instant) -> u64 {
        let after = at.saturating_duration_since(self.epoch);
        let millis = after.as_millis() + u128::from(after.subsec_nanos() % 1_000_000 != 0);
        u64::try_from(millis).unwrap_or(u64::MAX)
    }

    /// Wakes every connection whose deadline passed at `now` (the [`super::DeadlineSweep`]).
    pub(super) fn wake_passed_deadlines(&self, now: Instant) {
        let now = u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX);
        for queue in &self.queues {
            if let Some(outbox) = queue.value().upgrade() {
                outbox.wake_if_deadline_passed(now);
            }
        }
    }

    /// Wakes every connection (the server is shutting down: each looks at the token once woken).
    pub(super) fn wake_all(&self) {
        for queue in &self.queues {
            if let Some(outbox) = queue.value().upgrade() {
                outbox.ready.notify_one();
            }
        }
    }

    pub(super) fn insert(&self, id: ConnectionId, outbox: &Arc<Outbox>) {
        self.queues.insert(id, Arc::downgrade(outbox));
    }

    /// Lists a queue made with other limits (a detached handle driven by tests or tools).
    pub fn index(&self, handle: &ConnectionHandle) {
        self.insert(handle.id, &handle.outbox);
    }

    pub fn remove(&self, id: ConnectionId) {
        self.queues.remove(&id);
    }

    /// The connection `id`, if its queue is still listed. One shard read.
    pub fn connection(&self, id: ConnectionId) -> Option<ConnectionHandle> {
        let outbox = self.queues.get(&id)?.upgrade()?;
        Some(ConnectionHandle { id, outbox })
    }

    /// Number of queues listed.
    pub fn len(&self) -> usize {
        self.queues.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// The open queue counting in `budget` that holds the most bytes, if it holds any.
    pub(super) fn largest_open_in(&self, budget: &QueueBudget) -> Option<Arc<Outbox>> {
        self.queues
            .iter()
            .filter_map(|queue| queue.value().upgrade())
            .filter(|outbox| std::ptr::eq(Arc::as_ptr(&outbox.budget), budget))
            .filter(|outbox| !outbox.closed.load(Ordering::Acquire))
            .max_by_key(|outbox| outbox.held_bytes.load(Ordering::Acquire))
            .filter(|outbox| outbox.held_bytes.load(Ordering::Acquire) > 0)
    }
}
