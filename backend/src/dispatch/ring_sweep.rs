//! The ring sweep: one task per server ends the calls that ring past their deadline (45 s,
//! `--ring-timeout`) and tells both parties `timeout`, and ends the held calls and waits past
//! their grace deadline (`--call-resume-grace`, see `login.rs`). Deadlines are data in the
//! directory's records, not a timer per call: the task sleeps until the earliest one
//! ([`crate::directory_backend::DirectoryBackend::next_ring_deadline`],
//! [`crate::directory_backend::DirectoryBackend::next_grace_deadline`]), and each new deadline wakes it to
//! look again. Started by the first call; it holds the server's state weakly and ends at shutdown, so
//! it never keeps a server alive. Tokio's clock is used throughout, so paused-time tests see the
//! timeout exactly.

use super::send_leave;
use crate::{AppState, SharedState};
use protocol::LeaveReason;
use std::sync::{Arc, OnceLock, Weak};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How soon the sweep asks again when the directory's store (Redis) was out of reach.
const UNAVAILABLE_RETRY: std::time::Duration = std::time::Duration::from_millis(500);

/// The handle to the sweep task, kept in the server's state.
#[derive(Debug, Default)]
pub struct RingSweep {
    /// A new ring deadline: the task looks again at the earliest one.
    wake: Arc<Notify>,
    started: OnceLock<()>,
}

impl RingSweep {
    /// A call now rings, or a call is held, until a deadline: starts the sweep on the first one
    /// (inside the server's runtime) and wakes it.
    pub fn deadline_added(&self, state: &AppState) {
        self.started.get_or_init(|| {
            tokio::spawn(sweep(state.downgrade(), Arc::clone(&self.wake), state.shutdown.clone()));
        });
        // Kept as a permit if the task is not waiting right now, so no deadline is missed.
        self.wake.notify_one();
    }
}

async fn sweep(state: Weak<SharedState>, wake: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        let Some(directory) = state.upgrade().map(|state| Arc::clone(&state.directory)) else { return };
        let (ring, grace) = (directory.next_ring_deadline().await, directory.next_grace_deadline().await);
        drop(directory);
        // An unreachable store (cluster mode) is asked again a moment later.
        let next_deadline = match (ring, grace) {
            (Ok(ring), Ok(grace)) => ring.into_iter().chain(grace).min(),
            _ => Some(Instant::now().into_std() + UNAVAILABLE_RETRY),
        };
        let until_deadline = async {
            match next_deadline {
                Some(deadline) => tokio::time::sleep_until(Instant::from_std(deadline)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = wake.notified() => continue,
            () = until_deadline => {}
        }
        let Some(state) = state.upgrade().map(AppState) else { return };
        let now = Instant::now().into_std();
        if let Ok(expired) = state.directory.expire_graces(now).await {
            super::login::expired_graces(&state, expired);
        }
        for expired in state.directory.expire_rings(now).await.unwrap_or_default() {
            state.metrics.call_ended(false);
            tracing::info!(caller = %expired.caller, callee = %expired.callee, reason = "timeout", "call ended");
            send_leave(&state, &expired.caller_connection, &expired.callee, LeaveReason::Timeout);
            if let Some(callee_connection) = &expired.callee_connection {
                send_leave(&state, callee_connection, &expired.caller, LeaveReason::Timeout);
            }
        }
    }
}
