//! Who is online and who is in a call with whom: the only shared state of the server. This
//! file keeps the user entries (claim a name, release it, deliver to a name, list the names);
//! `calls.rs` keeps the call-state transitions; `identity.rs` the name with its key.
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
//! (offer, answer, leave, timeout, disconnect, login) are serialized by one small mutex so the
//! two halves of a call always agree; no lock is ever held across an `.await`, and no two map
//! entries are ever borrowed at the same time (which could deadlock two shards).

mod calls;
mod identity;

use crate::delivery::{ConnectionHandle, ConnectionId, DeliveryError, KickReason};
use crate::metrics::Metrics;
use calls::CallState;
pub use calls::{Answered, CallError, CallId, Offered, RelayError};
use dashmap::mapref::one::{Ref, RefMut};
use dashmap::DashMap;
pub use identity::Identity;
use protocol::{NameKey, ResumeToken, UserName};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use tungstenite::Utf8Bytes;

#[derive(Debug)]
struct UserEntry {
    /// The name as registered (its display form) and its key, which is this entry's map key.
    identity: Identity,
    connection: ConnectionHandle,
    /// The resume token's 128 random bits, kept inline (every online user has one).
    resume: u128,
    call: CallState,
}

/// Why a name could not be claimed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// Someone online has this name, or one that looks like it (same [`NameKey`]).
    #[error("{}", describe_taken(.requested, .in_use))]
    Taken { requested: UserName, in_use: UserName },
}

/// Words for a refused login: the name in use is shown (it is in the online list anyway) so the
/// person sees what theirs was mistaken for.
fn describe_taken(requested: &UserName, in_use: &UserName) -> String {
    if requested == in_use {
        format!("Someone online already uses the name \"{in_use}\". Pick another name.")
    } else {
        format!("The name \"{requested}\" looks too much like a name already in use (\"{in_use}\"). Pick another.")
    }
}

/// A successful login.
#[derive(Debug)]
pub struct Claimed {
    /// The name as registered: the requested one, or on a resume the display form kept from
    /// the first login (a look-alike spelling with the right token does not rename anyone).
    pub identity: Identity,
    pub resume: ResumeToken,
    /// With a resume token: the connection that held the name before (now being closed) and
    /// the peer of the call it was in, which must be told `disconnected`.
    pub replaced_call_peer: Option<Identity>,
}

/// The registry of users online and their calls.
#[derive(Debug, Default)]
pub struct Registry {
    users: DashMap<NameKey, UserEntry>,
    /// Shape of each online name (see [`NameKey::shape_of`]) to the name that holds it.
    shapes: DashMap<NameKey, Identity>,
    transitions: Mutex<()>,
    next_call_id: AtomicU64,
    metrics: Arc<Metrics>,
}

impl Registry {
    pub fn new(metrics: Arc<Metrics>) -> Registry {
        Registry { metrics, ..Registry::default() }
    }

    fn lock_transitions(&self) -> std::sync::MutexGuard<'_, ()> {
        // The guarded data is `()`: a panic elsewhere cannot leave it inconsistent.
        self.transitions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Number of users logged in.
    pub fn online_count(&self) -> usize {
        self.users.len()
    }

    /// Claims `name` for `connection`. A name held by another connection, or one that looks
    /// like it (same key), is refused, unless `resume` matches the token handed out when it was
    /// claimed: then the old connection is closed and its call ended.
    pub fn claim(
        &self,
        name: &Identity,
        connection: ConnectionHandle,
        resume: Option<&ResumeToken>,
    ) -> Result<Claimed, ClaimError> {
        let _transitions = self.lock_transitions();
        // Checked before the entry is taken: looking a holder up while holding the entry's shard
        // could deadlock. Both maps only change under the transition mutex held here.
        // (`holder.value()`: a map guard's own `key()` is the shape, not the holder's key.)
        if let Some(holder) = self.shapes.get(name.shape()).filter(|holder| holder.value().key() != name.key()) {
            return Err(ClaimError::Taken { requested: name.display().clone(), in_use: holder.display().clone() });
        }
        let fresh_secret = new_resume_secret();
        let (identity, replaced_call_peer) = match self.users.entry(name.key().clone()) {
            dashmap::Entry::Vacant(vacant) => {
                vacant.insert(UserEntry {
                    identity: name.clone(),
                    connection,
                    resume: fresh_secret,
                    call: CallState::Idle,
                });
                self.shapes.insert(name.shape().clone(), name.clone());
                self.metrics.users_online.inc();
                (name.clone(), None)
            }
            dashmap::Entry::Occupied(mut occupied) => {
                if resume.and_then(secret_of_token) != Some(occupied.get().resume) {
                    let in_use = occupied.get().identity.display().clone();
                    return Err(ClaimError::Taken { requested: name.display().clone(), in_use });
                }
                let entry = occupied.get_mut();
                entry.connection.kick(KickReason::ReplacedByNewLogin);
                entry.connection = connection;
                entry.resume = fresh_secret;
                let identity = entry.identity.clone();
                let peer = self.hang_up(&mut entry.call);
                drop(occupied);
                (identity.clone(), peer.filter(|peer| self.reset_call_if_peer_is(peer, &identity)))
            }
        };
        Ok(Claimed { identity, resume: token_of_secret(fresh_secret), replaced_call_peer })
    }

    /// Frees `name` if `connection_id` still holds it, ending its call. Returns the peer that
    /// must be told the call ended.
    ///
    /// Names are freed exactly once: only an entry still owned by the closing connection is
    /// removed, so a connection replaced by a resume-token login cannot free its successor's name.
    pub fn release(&self, name: &Identity, connection_id: ConnectionId) -> Option<Identity> {
        let _transitions = self.lock_transitions();
        let (_, mut entry) = self.users.remove_if(name.key(), |_, entry| entry.connection.id() == connection_id)?;
        self.shapes.remove_if(entry.identity.shape(), |_, holder| holder.key() == entry.identity.key());
        self.metrics.users_online.dec();
        let peer = self.hang_up(&mut entry.call);
        peer.filter(|peer| self.reset_call_if_peer_is(peer, name))
    }

    /// `user`'s entry, if connection `connection_id` holds the name.
    ///
    /// Acting on a name needs the connection that holds it: every call operation looks its
    /// user up through here (or [`Registry::held_mut`]), so a connection replaced by a
    /// resume-token login cannot start, answer, relay or end calls for that name any more,
    /// even with a frame already in flight.
    fn held(&self, user: &Identity, connection_id: ConnectionId) -> Option<Ref<'_, NameKey, UserEntry>> {
        self.users.get(user.key()).filter(|entry| entry.connection.id() == connection_id)
    }

    /// [`Registry::held`], for changing the entry.
    fn held_mut(&self, user: &Identity, connection_id: ConnectionId) -> Option<RefMut<'_, NameKey, UserEntry>> {
        self.users.get_mut(user.key()).filter(|entry| entry.connection.id() == connection_id)
    }

    /// Queues a message the server itself generates (`leave`) for `name`, using the small reserve
    /// above the queue's capacity so it never waits behind a backlog nor overtakes one; a
    /// recipient that has filled even the reserve does not read and is disconnected.
    pub fn deliver_reserved(&self, name: &Identity, text: Utf8Bytes) {
        if let Some(entry) = self.users.get(name.key()) {
            entry.connection.send_text_reserved(text);
        }
    }

    /// Queues `text` for `name`'s connection without waiting. A recipient whose queue is full
    /// does not read its messages: it is disconnected rather than buffered without bound.
    pub fn deliver(&self, name: &Identity, text: Utf8Bytes) -> Result<(), DeliveryError> {
        let entry = self.users.get(name.key()).ok_or(DeliveryError::NotOnline)?;
        entry.connection.send_text(text)
    }

    /// Up to `limit` names online (their display forms), sorted, without `except`.
    pub fn online_names(&self, except: Option<&Identity>, limit: usize) -> Vec<UserName> {
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
}
