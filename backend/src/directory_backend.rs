//! [`DirectoryBackend`]: the directory a server uses, in memory (one process, the default) or
//! on Redis (cluster mode), behind one set of async methods. The session, the ring sweep and
//! the conformance suite use only this.
//!
//! *Why an enum and not `async-trait` or a boxed trait object:* the in-memory arm calls the
//! synchronous [`MemoryDirectory`] directly, so its futures are ready on their first poll, hold
//! no lock across an `.await` (there is none inside) and allocate nothing: the single-process
//! server stays exactly as fast as before (the connection loop even polls them on its own stack,
//! see [`crate::dispatch::Session::handle_text_now`]). `async-trait` would box every call's
//! future; a generic `AppState<D>` would spread a type parameter through every module. Two
//! implementations are all there will be, and a `match` names both.
//!
//! Errors: Redis out of reach (down, restarting, too slow), a lapsed lease or unexpected data
//! all become [`DirectoryError::Unavailable`] (the words a person reads); the cause is logged.

use crate::address::{ConnectionRef, NodeId};
use crate::cluster::directory::RedisDirectory;
use crate::cluster::ClusterError;
use crate::directory::{
    CallAnswered, CallError, CallStarted, ClaimError, ClaimRequest, Claimed, Directory, DirectoryError, EndedCall,
    ExpiredGrace, ExpiredRing, Identity, MemoryDirectory, Released,
};
use protocol::UserName;
use std::time::Instant;

/// The directory of names and calls this node uses.
#[derive(Debug)]
pub enum DirectoryBackend {
    /// One process: everything in this process's memory.
    Memory(MemoryDirectory),
    /// Cluster mode: shared with the other nodes through Redis (boxed: its scripts and
    /// connections are large, and the in-memory arm should not pay their size).
    Redis(Box<RedisDirectory>),
}

/// Logs why the shared directory could not be asked and answers `unavailable`.
fn unavailable(error: ClusterError) -> DirectoryError {
    tracing::debug!(%error, "shared directory unavailable");
    DirectoryError::Unavailable
}

impl DirectoryBackend {
    /// The default: a new, empty directory in this process.
    pub fn in_memory() -> DirectoryBackend {
        DirectoryBackend::Memory(MemoryDirectory::new())
    }

    /// The in-memory directory, if this is one: its answers never wait.
    pub fn memory(&self) -> Option<&MemoryDirectory> {
        match self {
            DirectoryBackend::Memory(memory) => Some(memory),
            DirectoryBackend::Redis(_) => None,
        }
    }

    /// True when asking the directory may wait (a network round trip): the session's futures
    /// must then be awaited, not polled once.
    pub fn may_wait(&self) -> bool {
        matches!(self, DirectoryBackend::Redis(_))
    }

    /// The node whose connections this directory claims names for, in cluster mode.
    pub fn node(&self) -> Option<NodeId> {
        match self {
            DirectoryBackend::Memory(_) => None,
            DirectoryBackend::Redis(redis) => Some(redis.leases().node()),
        }
    }

    /// See [`Directory::claim`].
    pub async fn claim(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        request: &ClaimRequest,
    ) -> Result<Claimed, ClaimError> {
        match self {
            DirectoryBackend::Memory(memory) => memory.claim(name, holder, request),
            DirectoryBackend::Redis(redis) => redis.claim(name, holder, request).await.map_err(unavailable)?,
        }
    }

    /// See [`Directory::release`].
    pub async fn release(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        hold_until: Option<Instant>,
    ) -> Result<Option<Released>, DirectoryError> {
        match self {
            DirectoryBackend::Memory(memory) => Ok(memory.release(name, holder, hold_until)),
            DirectoryBackend::Redis(redis) => redis.release(name, holder, hold_until).await.map_err(unavailable),
        }
    }

    /// See [`Directory::online_count`] (cluster-wide in cluster mode).
    pub async fn online_count(&self) -> Result<usize, DirectoryError> {
        match self {
            DirectoryBackend::Memory(memory) => Ok(memory.online_count()),
            DirectoryBackend::Redis(redis) => redis.online_count().await.map_err(unavailable),
        }
    }

    /// Cluster mode: the calls ringing and connected in the whole cluster (for the metrics);
    /// `None` in memory (the process counts its own).
    pub async fn call_counts(&self) -> Option<Result<(usize, usize), DirectoryError>> {
        match self {
            DirectoryBackend::Memory(_) => None,
            DirectoryBackend::Redis(redis) => Some(redis.call_counts().await.map_err(unavailable)),
        }
    }

    /// See [`Directory::online_name`].
    pub async fn online_name(&self, name: &UserName) -> Result<Option<UserName>, DirectoryError> {
        match self {
            DirectoryBackend::Memory(memory) => Ok(memory.online_name(name)),
            DirectoryBackend::Redis(redis) => redis.online_name(name).await.map_err(unavailable),
        }
    }

    /// The display form of each of `names` that is online now (`None` for those offline), in
    /// order: the final states a presence flush sends. One script in cluster mode.
    pub async fn online_displays(&self, names: &[Identity]) -> Result<Vec<Option<UserName>>, DirectoryError> {
        match self {
            DirectoryBackend::Memory(memory) => {
                Ok(names.iter().map(|name| memory.online_name(name.display())).collect())
            }
            DirectoryBackend::Redis(redis) => redis.online_displays(names).await.map_err(unavailable),
        }
    }

    /// See [`Directory::online_names`].
    pub async fn online_names(&self, except: Option<&Identity>, limit: usize) -> Result<Vec<UserName>, DirectoryError> {
        match self {
            DirectoryBackend::Memory(memory) => Ok(memory.online_names(except, limit)),
            DirectoryBackend::Redis(redis) => redis.online_names(except, limit).await.map_err(unavailable),
        }
    }

    /// See [`Directory::start_call`].
    pub async fn start_call(
        &self,
        caller: &Identity,
        holder: ConnectionRef,
        target: &UserName,
        ring_deadline: Instant,
    ) -> Result<CallStarted, CallError> {
        match self {
            DirectoryBackend::Memory(memory) => memory.start_call(caller, holder, target, ring_deadline),
            DirectoryBackend::Redis(redis) => {
                redis.start_call(caller, holder, target, ring_deadline).await.map_err(unavailable)?
            }
        }
    }

    /// See [`Directory::answer_call`].
    pub async fn answer_call(
        &self,
        callee: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<CallAnswered, CallError> {
        match self {
            DirectoryBackend::Memory(memory) => memory.answer_call(callee, holder, target),
            DirectoryBackend::Redis(redis) => redis.answer_call(callee, holder, target).await.map_err(unavailable)?,
        }
    }

    /// See [`Directory::end_call`].
    pub async fn end_call(
        &self,
        user: &Identity,
        holder: ConnectionRef,
        expected_peer: Option<&UserName>,
    ) -> Result<EndedCall, CallError> {
        match self {
            DirectoryBackend::Memory(memory) => memory.end_call(user, holder, expected_peer),
            DirectoryBackend::Redis(redis) => redis.end_call(user, holder, expected_peer).await.map_err(unavailable)?,
        }
    }

    /// See [`Directory::relay_target`].
    pub async fn relay_target(
        &self,
        sender: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<ConnectionRef, CallError> {
        match self {
            DirectoryBackend::Memory(memory) => memory.relay_target(sender, holder, target),
            DirectoryBackend::Redis(redis) => redis.relay_target(sender, holder, target).await.map_err(unavailable)?,
        }
    }

    /// See [`Directory::next_ring_deadline`].
    pub async fn next_ring_deadline(&self) -> Result<Option<Instant>, DirectoryError> {
        match self {
            DirectoryBackend::Memory(memory) => Ok(memory.next_ring_deadline()),
            DirectoryBackend::Redis(redis) => redis.next_ring_deadline().await.map_err(unavailable),
        }
    }

    /// See [`Directory::expire_rings`].
    pub async fn expire_rings(&self, now: Instant) -> Result<Vec<ExpiredRing>, DirectoryError> {
        match self {
            DirectoryBackend::Memory(memory) => Ok(memory.expire_rings(now)),
            DirectoryBackend::Redis(redis) => redis.expire_rings(now).await.map_err(unavailable),
        }
    }

    /// See [`Directory::next_grace_deadline`].
    pub async fn next_grace_deadline(&self) -> Result<Option<Instant>, DirectoryError> {
        match self {
            DirectoryBackend::Memory(memory) => Ok(memory.next_grace_deadline()),
            DirectoryBackend::Redis(redis) => redis.next_grace_deadline().await.map_err(unavailable),
        }
    }

    /// See [`Directory::expire_graces`].
    pub async fn expire_graces(&self, now: Instant) -> Result<Vec<ExpiredGrace>, DirectoryError> {
        match self {
            DirectoryBackend::Memory(memory) => Ok(memory.expire_graces(now)),
            DirectoryBackend::Redis(redis) => redis.expire_graces(now).await.map_err(unavailable),
        }
    }

    /// See [`Directory::check_consistency`]; an unreachable store is reported as broken.
    pub async fn check_consistency(&self) -> Result<(), String> {
        match self {
            DirectoryBackend::Memory(memory) => memory.check_consistency(),
            DirectoryBackend::Redis(redis) => redis.check_consistency().await.map_err(|error| error.to_string())?,
        }
    }
}
