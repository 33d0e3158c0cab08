//! [`MemoryDirectory`]: the directory of one process, in memory. This file keeps the user
//! entries (claim a name, release it, list the names); `calls.rs` keeps the call transitions,
//! the ring deadlines and relaying.
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
//! which also guards the index of ring deadlines, so the two halves of a call always agree; no
//! two map entries are ever borrowed at the same time (which could deadlock two shards).

mod calls;
mod consistency;

use super::{
    CallAnswered, CallError, CallId, CallStarted, ClaimError, Claimed, ConnectionRef, Directory, EndedCall,
    ExpiredRing, Identity, Released,
};
use calls::CallState;
use dashmap::mapref::one::{Ref, RefMut};
use dashmap::DashMap;
use protocol::{NameKey, ResumeToken, UserName};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

#[derive(Debug)]
struct UserEntry {
    /// The name as registered (its display form) and its key, which is this entry's map key.
    identity: Identity,
    holder: ConnectionRef,
    /// The resume token's 128 random bits, kept inline (every online user has one).
    resume: u128,
    call: CallState,
}

/// Calls still ringing by deadline, to their caller: what the ring sweep reads. Changed only
/// with the call states, under the transition mutex that holds it.
type RingDeadlines = BTreeMap<(Instant, CallId), Identity>;

/// The directory of users online and their calls, in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    users: DashMap<NameKey, UserEntry>,
    /// Shape of each online name (see [`NameKey::shape_of`]) to the name that holds it.
    shapes: DashMap<NameKey, Identity>,
    transitions: Mutex<RingDeadlines>,
    next_call_id: AtomicU64,
}

impl MemoryDirectory {
    pub fn new() -> MemoryDirectory {
        MemoryDirectory::default()
    }

    fn lock_transitions(&self) -> MutexGuard<'_, RingDeadlines> {
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
    fn held(&self, user: &Identity, holder: ConnectionRef) -> Option<Ref<'_, NameKey, UserEntry>> {
        self.users.get(user.key()).filter(|entry| entry.holder == holder)
    }

    /// [`MemoryDirectory::held`], for changing the entry.
    fn held_mut(&self, user: &Identity, holder: ConnectionRef) -> Option<RefMut<'_, NameKey, UserEntry>> {
        self.users.get_mut(user.key()).filter(|entry| entry.holder == holder)
    }

    pub(super) fn claim_name(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        resume: Option<&ResumeToken>,
    ) -> Result<Claimed, ClaimError> {
        let mut ring_deadlines = self.lock_transitions();
        // Checked before the entry is taken: looking a holder up while holding the entry's shard
        // could deadlock. Both maps only change under the transition mutex held here.
        // (`holder.value()`: a map guard's own `key()` is the shape, not the holder's key.)
        if let Some(in_use) = self.shapes.get(name.shape()).filter(|in_use| in_use.value().key() != name.key()) {
            return Err(ClaimError::Taken { requested: name.display().clone(), in_use: in_use.display().clone() });
        }
        let fresh_secret = new_resume_secret();
        let (identity, replaced, ended) = match self.users.entry(name.key().clone()) {
            dashmap::Entry::Vacant(vacant) => {
                vacant.insert(UserEntry {
                    identity: name.clone(),
                    holder,
                    resume: fresh_secret,
                    call: CallState::Idle,
                });
                self.shapes.insert(name.shape().clone(), name.clone());
                (name.clone(), None, None)
            }
            dashmap::Entry::Occupied(mut occupied) => {
                if resume.and_then(secret_of_token) != Some(occupied.get().resume) {
                    let in_use = occupied.get().identity.display().clone();
                    return Err(ClaimError::Taken { requested: name.display().clone(), in_use });
                }
                let entry = occupied.get_mut();
                let replaced = std::mem::replace(&mut entry.holder, holder);
                entry.resume = fresh_secret;
                let identity = entry.identity.clone();
                let ended = entry.call.hang_up(&mut ring_deadlines);
                (identity, Some(replaced), ended)
            }
        };
        let ended_call = ended.map(|(peer, phase)| self.end_peer_side(&identity, peer, phase, &mut ring_deadlines));
        Ok(Claimed { identity, resume: token_of_secret(fresh_secret), replaced, ended_call })
    }

    pub(super) fn release_name(&self, name: &Identity, holder: ConnectionRef) -> Option<Released> {
        let mut ring_deadlines = self.lock_transitions();
        let (_, mut entry) = self.users.remove_if(name.key(), |_, entry| entry.holder == holder)?;
        self.shapes.remove_if(entry.identity.shape(), |_, in_use| in_use.key() == entry.identity.key());
        let ended = entry.call.hang_up(&mut ring_deadlines);
        Some(Released {
            ended_call: ended.map(|(peer, phase)| self.end_peer_side(name, peer, phase, &mut ring_deadlines)),
        })
    }

    pub(super) fn count_online(&self) -> usize {
        self.users.len()
    }

    pub(super) fn names_online(&self, except: Option<&Identity>, limit: usize) -> Vec<UserName> {
        let mut names: Vec<UserName> = self
            .users
            .iter()
            .filter(|entry| except.is_none_or(|except| except.key() != entry.key()))
            .map(|entry| entry.identity.display().clone())
            .take(limit)
            .collect();
        names.sort();
        names
    }
}

impl Directory for MemoryDirectory {
    fn claim(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        resume: Option<&ResumeToken>,
    ) -> Result<Claimed, ClaimError> {
        self.claim_name(name, holder, resume)
    }

    fn release(&self, name: &Identity, holder: ConnectionRef) -> Option<Released> {
        self.release_name(name, holder)
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

    fn check_consistency(&self) -> Result<(), String> {
        self.check_symmetry()
    }
}

fn new_resume_secret() -> u128 {
    let mut bytes = [0u8; 16];
    // The OS random source does not fail on supported platforms; a zero token would only make
    // resuming guessable for that one login, never crash the server.
    let _ = getrandom::fill(&mut bytes);
    u128::from_le_bytes(bytes)
}

/// The token as sent to the client: 32 lowercase hex digits.
fn token_of_secret(secret: u128) -> ResumeToken {
    ResumeToken::from_wire(format!("{secret:032x}"))
}

/// The secret a token stands for; `None` for anything that is not 32 hex digits.
fn secret_of_token(token: &ResumeToken) -> Option<u128> {
    let text = token.as_str();
    (text.len() == 32 && text.bytes().all(|byte| byte.is_ascii_hexdigit()))
        .then(|| u128::from_str_radix(text, 16).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_tokens_round_trip_and_reject_anything_else() {
        let secret = new_resume_secret();
        let token = token_of_secret(secret);
        assert_eq!(token.as_str().len(), 32);
        assert_eq!(secret_of_token(&token), Some(secret));
        assert_eq!(secret_of_token(&ResumeToken::from_wire("0000")), None);
        assert_eq!(secret_of_token(&ResumeToken::from_wire("+".repeat(32))), None);
        assert_eq!(
            secret_of_token(&ResumeToken::from_wire(format!("{:032X}", secret))),
            Some(secret),
            "hex is case-insensitive"
        );
    }

    crate::directory::conformance::conformance_tests!(MemoryDirectory::new());
}
