//! The server-wide budget of queued bytes (`--max-queued-bytes`) and the limits of one queue.

use super::LocalQueues;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// The server-wide budget of queued bytes: one atomic counter that every push adds to; the
/// queues are listed ([`LocalQueues`], touched on connect and close, which the router reads
/// too) to find the largest when the budget is exceeded.
#[derive(Debug, Default)]
pub struct QueueBudget {
    /// 0: no server-wide limit.
    pub(super) limit: usize,
    used: AtomicUsize,
    pub(super) queues: Arc<LocalQueues>,
    reclaiming: AtomicBool,
}

impl QueueBudget {
    /// A budget of `limit` bytes for all queues together (0: unlimited).
    pub fn new(limit: usize) -> QueueBudget {
        QueueBudget { limit, ..QueueBudget::default() }
    }

    /// The queues counting in this budget (and any listed with [`LocalQueues::index`]).
    pub fn local_queues(&self) -> &Arc<LocalQueues> {
        &self.queues
    }

    /// Bytes queued or being written, all connections together.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// Adds `bytes`; true when that took the budget over its limit.
    pub(super) fn add(&self, bytes: usize) -> bool {
        let used = self.used.fetch_add(bytes, Ordering::AcqRel) + bytes;
        self.limit != 0 && used > self.limit
    }

    pub(super) fn remove(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// While over the limit, closes the open queue holding the most bytes and frees them. Cold:
    /// it runs only when a push went over, and one task at a time.
    pub(super) fn reclaim(&self) {
        if self.reclaiming.swap(true, Ordering::AcqRel) {
            return;
        }
        while self.used() > self.limit {
            let Some(largest) = self.queues.largest_open_in(self) else { break };
            largest.close_for_budget(self);
        }
        self.reclaiming.store(false, Ordering::Release);
    }
}

/// How much one queue may hold, and the budget it counts in.
#[derive(Debug, Clone)]
pub struct QueueLimits {
    /// Frames (at least one).
    pub frames: usize,
    /// Bytes of text (an empty queue still takes one frame of any size).
    pub bytes: usize,
    pub budget: Arc<QueueBudget>,
}

impl QueueLimits {
    /// `frames` frames, no byte limits: for detached handles.
    pub fn frames_only(frames: usize) -> QueueLimits {
        QueueLimits { frames, bytes: usize::MAX, budget: Arc::new(QueueBudget::new(0)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{ConnectionHandle, DeliveryError, KickReason};
    use tungstenite::Utf8Bytes;

    fn text(bytes: usize) -> Utf8Bytes {
        Utf8Bytes::from("x".repeat(bytes))
    }

    #[test]
    fn a_queue_is_bounded_in_bytes_as_well_as_frames_and_an_empty_one_takes_any_frame() {
        let budget = Arc::new(QueueBudget::new(0));
        let handle = ConnectionHandle::new(&QueueLimits { frames: 10, bytes: 1000, budget: Arc::clone(&budget) });
        assert!(handle.send_text(text(5000)).is_ok(), "an empty queue takes one frame of any size");
        assert!(matches!(handle.send_text(text(1)), Err(DeliveryError::QueueFull(_))));
        assert_eq!(budget.used(), 5000);
        let batch = handle.take_batch();
        assert_eq!(budget.used(), 5000, "a batch being written still counts");
        for _ in 0..2 {
            assert!(handle.send_text(text(400)).is_ok());
        }
        assert!(matches!(handle.send_text(text(400)), Err(DeliveryError::QueueFull(_))), "1200 > 1000 bytes");
        drop(batch);
        assert_eq!(budget.used(), 800);
        handle.send_text_reserved(text(300));
        assert_eq!(handle.take_queued().len(), 3, "leave's reserve ignores the byte limit");
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn over_the_server_wide_budget_the_queue_with_the_most_bytes_is_closed_first() {
        let budget = Arc::new(QueueBudget::new(10_000));
        let limits = QueueLimits { frames: 1000, bytes: usize::MAX, budget: Arc::clone(&budget) };
        let (small, large, pushing) =
            (ConnectionHandle::new(&limits), ConnectionHandle::new(&limits), ConnectionHandle::new(&limits));
        small.send_text(text(1000)).expect("queued");
        for _ in 0..6 {
            large.send_text(text(1000)).expect("queued");
        }
        let written = large.take_batch();
        large.send_text(text(1000)).expect("queued");
        pushing.send_text(text(2000)).expect("queued");
        assert_eq!(budget.used(), 10_000, "at the limit, not over");
        pushing.send_text(text(500)).expect("the push that goes over is queued, then the largest closed");
        assert_eq!(large.kicked(), Some(KickReason::SlowConsumer));
        assert!(matches!(large.send_text(text(1)), Err(DeliveryError::NotOnline)));
        assert_eq!((small.kicked(), pushing.kicked()), (None, None));
        assert_eq!(budget.used(), 3500, "its queue and its batch being written stopped counting");
        drop(written);
        assert_eq!(budget.used(), 3500);
        drop(large);
        small.mark_closed();
        drop(small);
        assert_eq!(budget.used(), 2500, "frames never written stop counting with the last handle");
    }
}
