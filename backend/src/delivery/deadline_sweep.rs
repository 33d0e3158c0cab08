//! The deadline sweep: one task per server wakes the connections whose deadline (a ping due, the
//! idle timeout, the login deadline, a credentials refresh) passed, instead of a timer per
//! connection (a tokio `Interval` cost every idle connection 112 bytes of heap and its future
//! some more; BENCHMARKS.md, "Memory per idle connection (issue 15)"). Deadlines are data, as in
//! tokio's mini-redis: each connection stores when it next looks in its queue's `deadline`
//! ([`super::ConnectionHandle::set_deadline`]); the sweep ticks every [`deadline_sweep_period`],
//! marks the passed ones and wakes their tasks through the queue's `ready`, which each task
//! already waits on. The connection itself decides what is due, with the same checks as before,
//! so a deadline is enforced at most one period late (a quarter of the shortest that applies).
//!
//! Started by the first connection, inside the server's runtime; it holds the queues weakly and
//! ends at shutdown, so it never keeps a server alive. At shutdown it wakes every queue once: a
//! connection does not wait on the shutdown token itself (that wait cost every idle connection's
//! task 128 bytes), it looks at the token whenever it wakes. Tokio's clock is used throughout, so
//! paused-time tests see it like the rest.

use super::LocalQueues;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the sweep looks: a quarter of the shortest deadline that applies to a connection
/// (the idle timeout, a heartbeat's fourfold, the login deadline, the credentials refresh), so
/// each is enforced at most a quarter late; never under 10 ms.
pub fn deadline_sweep_period(config: &crate::Config) -> Duration {
    let shortest = config
        .idle_timeout
        .min(config.heartbeat_interval * 4)
        .min(config.login_timeout)
        .min(crate::dispatch::credentials_refresh_interval(config));
    (shortest / 4).max(Duration::from_millis(10))
}

/// The handle to the sweep task, kept in the server's state.
#[derive(Debug, Default)]
pub struct DeadlineSweep {
    started: OnceLock<()>,
}

impl DeadlineSweep {
    /// Starts the sweep over `queues` on the first call (inside the runtime); later calls do
    /// nothing.
    pub fn start_once(&self, queues: &Arc<LocalQueues>, period: Duration, shutdown: &CancellationToken) {
        self.started.get_or_init(|| {
            tokio::spawn(sweep(Arc::downgrade(queues), period, shutdown.clone()));
        });
    }
}

async fn sweep(queues: Weak<LocalQueues>, period: Duration, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let now = tokio::select! {
            biased;
            () = shutdown.cancelled() => {
                // The connections wait on their queue, not on the token: wake them all.
                if let Some(queues) = queues.upgrade() {
                    queues.wake_all();
                }
                return;
            }
            now = ticks.tick() => now,
        };
        let Some(queues) = queues.upgrade() else { return };
        queues.wake_passed_deadlines(now);
    }
}

#[cfg(test)]
mod tests {
    use super::{deadline_sweep_period, DeadlineSweep};
    use crate::delivery::{ConnectionHandle, QueueLimits};
    use std::time::Duration;
    use tokio::time::Instant;
    use tokio_util::sync::CancellationToken;

    #[test]
    fn the_sweep_looks_at_a_quarter_of_the_shortest_deadline_and_never_in_a_busy_loop() {
        let config = crate::Config::default();
        // The 15 s login deadline is the shortest by default.
        assert_eq!(deadline_sweep_period(&config), Duration::from_millis(3750));
        let fast = crate::Config {
            idle_timeout: Duration::from_millis(400),
            heartbeat_interval: Duration::from_millis(100),
            ..crate::Config::default()
        };
        assert_eq!(deadline_sweep_period(&fast), Duration::from_millis(100));
        let tiny = crate::Config { idle_timeout: Duration::from_millis(1), ..crate::Config::default() };
        assert_eq!(deadline_sweep_period(&tiny), Duration::from_millis(10));
    }

    #[tokio::test(start_paused = true)]
    async fn the_sweep_wakes_each_connection_once_its_own_deadline_passed_and_not_before() {
        let limits = QueueLimits::frames_only(4);
        let queues = limits.budget.local_queues();
        let (early, late) = (ConnectionHandle::new(&limits), ConnectionHandle::new(&limits));
        let start = Instant::now();
        early.set_deadline(start + Duration::from_millis(250));
        late.set_deadline(start + Duration::from_secs(10));
        let shutdown = CancellationToken::new();
        DeadlineSweep::default().start_once(queues, Duration::from_millis(100), &shutdown);

        early.ready().await;
        let woken_after = start.elapsed();
        assert!(early.deadline_passed());
        assert!(woken_after >= Duration::from_millis(250), "woken at {woken_after:?}, before its deadline");
        assert!(woken_after <= Duration::from_millis(350), "woken at {woken_after:?}, over a period late");
        assert!(!late.deadline_passed(), "the later deadline has not passed");

        // A wake-up taken elsewhere is given again until the connection looked.
        early.ready().await;
        assert!(early.deadline_passed());
        early.set_deadline(start + Duration::from_secs(20));
        assert!(!early.deadline_passed(), "a new deadline clears the passed one");

        late.ready().await;
        assert!(start.elapsed() >= Duration::from_secs(10));
        assert!(late.deadline_passed());
        assert!(!early.deadline_passed());
        shutdown.cancel();
    }

    #[tokio::test(start_paused = true)]
    async fn the_sweep_ends_at_shutdown_and_wakes_nobody_after() {
        let limits = QueueLimits::frames_only(4);
        let handle = ConnectionHandle::new(&limits);
        handle.set_deadline(Instant::now() + Duration::from_secs(1));
        let shutdown = CancellationToken::new();
        DeadlineSweep::default().start_once(limits.budget.local_queues(), Duration::from_millis(100), &shutdown);
        shutdown.cancel();
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!handle.deadline_passed());
    }
}
