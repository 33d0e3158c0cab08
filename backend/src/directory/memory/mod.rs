//! [`MemoryDirectory`]: the directory of one process, in memory. This file keeps the user
//! entries and lists the names; `sign_in.rs` claims and releases names (takeovers, held calls,
//! waits for a peer, grace expiry); `calls.rs` keeps the call transitions, the ring deadlines
//! and relaying.
//!
//! Entries are keyed by the name's [`NameKey`] (case folded, TR39 confusable skeleton), computed
//! once at login, so a look-alike of a name online is refused as taken and lookups stay one hash
//! probe. A second index maps each online name's shape (skeleton with case kept) to its holder,
//! so `aIice` (capital I) is refused while `alice` is online; it changes only in `claim` and
//! `release`, under the transition mutex, and is never read on the call or relay paths. Call
//! targets get their key once per call operation; relaying uses the call state.
//!
//! Concurrency: entries live in a sharded map, so relaying a candidate touches two shard locks
//! briefly and never a global lock. Transitions that change two users' call state at once
//! (offer, answer, leave, ring timeout, disconnect, login) are serialized by one small mutex,
//! which also guards the [`Schedule`] (ring and grace deadlines, who waits for whom), so the
//! two halves of a call always agree; no
//! two map entries are ever borrowed at the same time (which could deadlock two shards).

mod calls;
mod consistency;
mod sign_in;

use super::{
    CallAnswered, CallError, CallId, CallStarted, ClaimError, ClaimRequest, Claimed, ConnectionRef, Directory,
    EndedCall, ExpiredGrace, ExpiredRing, Identity, Released,
};
use crate::directory::identity::{ByKey, ByShape};
use calls::CallState;
use dashmap::mapref::one::{Ref, RefMut};
use dashmap::DashMap;
use protocol::{NameKey, UserName};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

#[derive(Debug)]
struct UserEntry {
    /// The name as registered (its display form) and its key, which is this entry's map key.
    identity: Identity,
    /// The connection that holds the name (while away: the one that was lost).
    holder: ConnectionRef,
    /// Away (its connection lost mid-call, its call held) until this grace deadline.
    away_until: Option<Instant>,
    call: CallState,
}

/// Calls still ringing by deadline, to their caller: what the ring sweep reads. Changed only
/// with the call states, under the transition mutex that holds it.
type RingDeadlines = BTreeMap<(Instant, CallId), Identity>;

/// What the transition mutex guards besides the users: deadlines and waits, changed only with
/// the entries they describe.
#[derive(Debug, Default)]
struct Schedule {
    rings: RingDeadlines,
    /// Away users and waiting users, by grace deadline (one per user at most).
    graces: BTreeMap<(Instant, NameKey), Identity>,
    /// Who waits for whom: the awaited name's key to the users waiting for it.
    waits: HashMap<NameKey, Vec<Identity>>,
}

impl Schedule {
    /// Forgets `waiter`'s wait for the name with key `awaited`.
    fn forget_wait(&mut self, waiter: &Identity, awaited: &NameKey) {
        if let Some(waiters) = self.waits.get_mut(awaited) {
            waiters.retain(|other| other != waiter);
            if waiters.is_empty() {
                self.waits.remove(awaited);
            }
        }
    }
}

/// The hasher of the maps keyed by names: foldhash seeded at random per process (a client
/// chooses its name, so the seed must not be guessable), cheaper than SipHash on the relay
/// path (BENCHMARKS.md, "Server levers (issue 15)").
type NameHasher = foldhash::quality::RandomState;

/// The directory of users online and their calls, in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    /// Keyed by the identity itself (by its key): no copy of the key per user.
    users: DashMap<ByKey, UserEntry, NameHasher>,
    /// The name holding each online shape (see [`NameKey::shape_of`]), keyed by its shape: a
    /// set of identities, no copy of the shape per user.
    shapes: DashMap<ByShape, (), NameHasher>,
    transitions: Mutex<Schedule>,
    next_call_id: AtomicU64,
}

impl MemoryDirectory {
    pub fn new() -> MemoryDirectory {
        MemoryDirectory::default()
    }

    fn lock_transitions(&self) -> MutexGuard<'_, Schedule> {
        // Every change to the index is one insert or remove: a panic elsewhere cannot leave it
        // half-changed.
        self.transitions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `user`'s entry, if `holder` holds the name.
    ///
    /// Acting on a name needs the connection that holds it: every call operation looks its
    /// user up through here (or [`MemoryDirectory::held_mut`]), so a connection replaced by a
    /// resume-token login cannot start, answer, relay or end calls for that name any more,
    /// even with a frame already in flight.
    fn held(&self, user: &Identity, holder: ConnectionRef) -> Option<Ref<'_, ByKey, UserEntry>> {
        self.users.get(user.key()).filter(|entry| entry.holder == holder && entry.away_until.is_none())
    }

    /// [`MemoryDirectory::held`], for changing the entry.
    fn held_mut(&self, user: &Identity, holder: ConnectionRef) -> Option<RefMut<'_, ByKey, UserEntry>> {
        self.users.get_mut(user.key()).filter(|entry| entry.holder == holder && entry.away_until.is_none())
    }

    pub(super) fn count_online(&self) -> usize {
        self.users.len()
    }

    pub(super) fn names_online(&self, except: Option<&Identity>, limit: usize) -> Vec<UserName> {
        let mut names: Vec<UserName> = self
            .users
            .iter()
            .filter(|entry| except.is_none_or(|except| except != &entry.key().0))
            .map(|entry| entry.identity.display().clone())
            .take(limit)
            .collect();
        names.sort();
        names
    }
}

impl Directory for MemoryDirectory {
    fn claim(&self, name: &Identity, holder: ConnectionRef, request: &ClaimRequest) -> Result<Claimed, ClaimError> {
        self.claim_name(name, holder, request)
    }

    fn release(&self, name: &Identity, holder: ConnectionRef, hold_until: Option<Instant>) -> Option<Released> {
        self.release_name(name, holder, hold_until)
    }

    fn online_count(&self) -> usize {
        self.count_online()
    }

    fn online_name(&self, name: &UserName) -> Option<UserName> {
        self.users.get(&name.key()).map(|entry| entry.identity.display().clone())
    }

    fn online_names(&self, except: Option<&Identity>, limit: usize) -> Vec<UserName> {
        self.names_online(except, limit)
    }

    fn start_call(
        &self,
        caller: &Identity,
        holder: ConnectionRef,
        target: &UserName,
        ring_deadline: Instant,
    ) -> Result<CallStarted, CallError> {
        self.start(caller, holder, target, ring_deadline)
    }

    fn answer_call(
        &self,
        callee: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<CallAnswered, CallError> {
        self.answer(callee, holder, target)
    }

    fn end_call(
        &self,
        user: &Identity,
        holder: ConnectionRef,
        expected_peer: Option<&UserName>,
    ) -> Result<EndedCall, CallError> {
        self.end(user, holder, expected_peer)
    }

    fn relay_target(
        &self,
        sender: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<ConnectionRef, CallError> {
        self.relay_destination(sender, holder, target)
    }

    fn next_ring_deadline(&self) -> Option<Instant> {
        self.earliest_ring_deadline()
    }

    fn expire_rings(&self, now: Instant) -> Vec<ExpiredRing> {
        self.expire(now)
    }

    fn next_grace_deadline(&self) -> Option<Instant> {
        self.lock_transitions().graces.first_key_value().map(|((deadline, _), _)| *deadline)
    }

    fn expire_graces(&self, now: Instant) -> Vec<ExpiredGrace> {
        self.expire_holds_and_waits(now)
    }

    fn check_consistency(&self) -> Result<(), String> {
        self.check_symmetry()
    }
}
