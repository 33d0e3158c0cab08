//! Who is online and who is in a call with whom: claim a name, release it, deliver to a name,
//! and the call-state transitions. The only shared state of the server.
//!
//! Concurrency: entries live in a sharded map, so relaying a candidate touches two shard locks
//! briefly and never a global lock. Transitions that change two users' call state at once
//! (offer, answer, leave, timeout, disconnect) are serialized by one small mutex so the two
//! halves of a call always agree; no lock is ever held across an `.await`, and no two map
//! entries are ever borrowed at the same time (which could deadlock two shards).

use crate::connection::{ConnectionHandle, ConnectionId, KickReason};
use crate::metrics::Metrics;
use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use protocol::{ResumeToken, UserName};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::task::AbortHandle;

/// Identifies one call, so that a late ring timer cannot end a newer call between the same users.
pub type CallId = u64;

#[derive(Debug)]
enum CallState {
    Idle,
    /// Sent an offer to `peer`, who has not answered yet.
    Calling {
        peer: UserName,
        call_id: CallId,
        ring_timer: Option<AbortHandle>,
    },
    /// `peer` is calling; not answered yet.
    Ringing {
        peer: UserName,
        call_id: CallId,
    },
    /// Answered: both parties may renegotiate and trickle candidates.
    InCall {
        peer: UserName,
        call_id: CallId,
    },
}

impl CallState {
    fn peer(&self) -> Option<&UserName> {
        match self {
            CallState::Idle => None,
            CallState::Calling { peer, .. } | CallState::Ringing { peer, .. } | CallState::InCall { peer, .. } => {
                Some(peer)
            }
        }
    }

    fn call_id(&self) -> Option<CallId> {
        match self {
            CallState::Idle => None,
            CallState::Calling { call_id, .. }
            | CallState::Ringing { call_id, .. }
            | CallState::InCall { call_id, .. } => Some(*call_id),
        }
    }

    /// Back to idle, stopping a ring timer if one runs.
    fn reset(&mut self) {
        if let CallState::Calling { ring_timer: Some(timer), .. } = self {
            timer.abort();
        }
        *self = CallState::Idle;
    }
}

#[derive(Debug)]
struct UserEntry {
    connection: ConnectionHandle,
    /// The resume token's 128 random bits, kept inline (every online user has one).
    resume: u128,
    call: CallState,
}

/// Why a name could not be claimed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("Someone online already uses the name \"{0}\". Pick another name.")]
    Taken(UserName),
}

/// Why a call operation was refused. The dispatcher turns each into an `error` reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("\"{0}\" is not online.")]
    UserNotFound(UserName),
    #[error("You cannot call yourself.")]
    CannotCallSelf,
    #[error("\"{0}\" is in another call.")]
    Busy(UserName),
    #[error("You are already in a call with \"{0}\"; hang up first.")]
    AlreadyInCall(UserName),
    #[error("You are not in a call with \"{0}\".")]
    NotInCall(UserName),
    #[error("You are not in a call.")]
    NoCall,
}

/// Why a message could not be handed to a connection's outbound queue at once.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the recipient is not online")]
    NotOnline,
    /// The recipient's queue is full: the frame waits in the backlog for its sender to deliver.
    #[error("the recipient's queue is full")]
    QueueFull(crate::connection::Backlog),
}

/// Why a relayed message did not reach the peer at once.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Refused: the two are not in a call with each other.
    #[error(transparent)]
    Call(#[from] CallError),
    /// Allowed, but not queued at once (see [`DeliveryError`]).
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
}

/// What a successful offer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// A new call: the callee now rings.
    NewCall(CallId),
    /// A new offer inside an existing call with the same peer (renegotiation, ICE restart).
    Renegotiation,
}

/// What a successful answer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// The ringing call is now connected.
    Connected(CallId),
    /// An answer to a renegotiation offer.
    Renegotiation,
}

/// A successful login.
#[derive(Debug)]
pub struct Claimed {
    pub resume: ResumeToken,
    /// With a resume token: the connection that held the name before (now being closed) and
    /// the peer of the call it was in, which must be told `disconnected`.
    pub replaced_call_peer: Option<UserName>,
}

/// The registry of users online and their calls.
#[derive(Debug, Default)]
pub struct Registry {
    users: DashMap<UserName, UserEntry>,
    transitions: Mutex<()>,
    next_call_id: AtomicU64,
    metrics: Arc<Metrics>,
}

impl Registry {
    pub fn new(metrics: Arc<Metrics>) -> Registry {
        Registry { metrics, ..Registry::default() }
    }

    /// Counts the end of a call in the gauges, given one party's state before it ended.
    fn count_call_end(&self, state: &CallState) {
        match state {
            CallState::Idle => {}
            CallState::Calling { .. } | CallState::Ringing { .. } => {
                self.metrics.calls_ringing.dec();
            }
            CallState::InCall { .. } => {
                self.metrics.calls_active.dec();
            }
        }
    }

    fn lock_transitions(&self) -> std::sync::MutexGuard<'_, ()> {
        // The guarded data is `()`: a panic elsewhere cannot leave it inconsistent.
        self.transitions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Number of users logged in.
    pub fn online_count(&self) -> usize {
        self.users.len()
    }

    /// Claims `name` for `connection`. A name held by another connection is refused, unless
    /// `resume` matches the token handed out when it was claimed: then the old connection is
    /// closed and its call ended.
    pub fn claim(
        &self,
        name: &UserName,
        connection: ConnectionHandle,
        resume: Option<&ResumeToken>,
    ) -> Result<Claimed, ClaimError> {
        let _transitions = self.lock_transitions();
        let fresh_secret = new_resume_secret();
        let replaced_call_peer = match self.users.entry(name.clone()) {
            dashmap::Entry::Vacant(vacant) => {
                vacant.insert(UserEntry { connection, resume: fresh_secret, call: CallState::Idle });
                self.metrics.users_online.inc();
                None
            }
            dashmap::Entry::Occupied(mut occupied) => {
                if resume.and_then(secret_of_token) != Some(occupied.get().resume) {
                    return Err(ClaimError::Taken(name.clone()));
                }
                let entry = occupied.get_mut();
                entry.connection.kick(KickReason::ReplacedByNewLogin);
                entry.connection = connection;
                entry.resume = fresh_secret;
                let peer = entry.call.peer().cloned();
                self.count_call_end(&entry.call);
                entry.call.reset();
                drop(occupied);
                peer.filter(|peer| self.reset_call_if_peer_is(peer, name))
            }
        };
        Ok(Claimed { resume: token_of_secret(fresh_secret), replaced_call_peer })
    }

    /// Frees `name` if `connection_id` still holds it, ending its call. Returns the peer that
    /// must be told the call ended.
    pub fn release(&self, name: &UserName, connection_id: ConnectionId) -> Option<UserName> {
        let _transitions = self.lock_transitions();
        let (_, mut entry) = self.users.remove_if(name, |_, entry| entry.connection.id() == connection_id)?;
        self.metrics.users_online.dec();
        let peer = entry.call.peer().cloned();
        self.count_call_end(&entry.call);
        entry.call.reset();
        peer.filter(|peer| self.reset_call_if_peer_is(peer, name))
    }

    /// Sets `user` idle if its call is with `peer`. True when it was.
    fn reset_call_if_peer_is(&self, user: &UserName, peer: &UserName) -> bool {
        match self.users.get_mut(user) {
            Some(mut entry) if entry.call.peer() == Some(peer) => {
                entry.call.reset();
                true
            }
            _ => false,
        }
    }

    /// `caller` (on connection `connection_id`) sends an offer to `callee`.
    pub fn start_call(
        &self,
        caller: &UserName,
        connection_id: ConnectionId,
        callee: &UserName,
    ) -> Result<Offered, CallError> {
        if caller == callee {
            return Err(CallError::CannotCallSelf);
        }
        let _transitions = self.lock_transitions();
        {
            let caller_entry = self
                .users
                .get(caller)
                .filter(|entry| entry.connection.id() == connection_id)
                .ok_or(CallError::NoCall)?;
            match &caller_entry.call {
                CallState::Idle => {}
                CallState::Calling { peer, .. } | CallState::InCall { peer, .. } if peer == callee => {
                    return Ok(Offered::Renegotiation);
                }
                other => {
                    let peer = other.peer().cloned().unwrap_or_else(|| callee.clone());
                    return Err(CallError::AlreadyInCall(peer));
                }
            }
        }
        let call_id = self.next_call_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut callee_entry = self.users.get_mut(callee).ok_or_else(|| CallError::UserNotFound(callee.clone()))?;
            if !matches!(callee_entry.call, CallState::Idle) {
                return Err(CallError::Busy(callee.clone()));
            }
            callee_entry.call = CallState::Ringing { peer: caller.clone(), call_id };
        }
        if let Some(mut caller_entry) = self.users.get_mut(caller) {
            caller_entry.call = CallState::Calling { peer: callee.clone(), call_id, ring_timer: None };
        }
        self.metrics.calls_ringing.inc();
        Ok(Offered::NewCall(call_id))
    }

    /// Remembers the ring timer of a new call so that answering or hanging up stops it.
    /// Stops it at once if the call already ended or was answered.
    pub fn attach_ring_timer(&self, caller: &UserName, call_id: CallId, timer: AbortHandle) {
        let _transitions = self.lock_transitions();
        match self.users.get_mut(caller) {
            Some(mut entry) => match &mut entry.call {
                CallState::Calling { call_id: current, ring_timer, .. } if *current == call_id => {
                    *ring_timer = Some(timer)
                }
                _ => timer.abort(),
            },
            None => timer.abort(),
        }
    }

    /// `callee` answers `caller`.
    pub fn answer_call(
        &self,
        callee: &UserName,
        connection_id: ConnectionId,
        caller: &UserName,
    ) -> Result<Answered, CallError> {
        let _transitions = self.lock_transitions();
        let call_id = {
            let mut callee_entry = self
                .users
                .get_mut(callee)
                .filter(|entry| entry.connection.id() == connection_id)
                .ok_or(CallError::NoCall)?;
            match &callee_entry.call {
                CallState::Ringing { peer, call_id } if peer == caller => {
                    let call_id = *call_id;
                    callee_entry.call = CallState::InCall { peer: caller.clone(), call_id };
                    call_id
                }
                CallState::InCall { peer, .. } if peer == caller => return Ok(Answered::Renegotiation),
                _ => return Err(CallError::NotInCall(caller.clone())),
            }
        };
        if let Some(mut caller_entry) = self.users.get_mut(caller) {
            caller_entry.call.reset();
            caller_entry.call = CallState::InCall { peer: callee.clone(), call_id };
        }
        self.metrics.calls_ringing.dec();
        self.metrics.calls_active.inc();
        Ok(Answered::Connected(call_id))
    }

    /// Ends `user`'s call. With `expected_peer`, only if the call is with that user.
    /// Returns the peer, who must be told.
    pub fn end_call(
        &self,
        user: &UserName,
        connection_id: ConnectionId,
        expected_peer: Option<&UserName>,
    ) -> Result<UserName, CallError> {
        let _transitions = self.lock_transitions();
        let peer = {
            let mut entry = self
                .users
                .get_mut(user)
                .filter(|entry| entry.connection.id() == connection_id)
                .ok_or(CallError::NoCall)?;
            let peer = match (entry.call.peer(), expected_peer) {
                (None, None) => return Err(CallError::NoCall),
                (None, Some(expected)) => return Err(CallError::NotInCall(expected.clone())),
                (Some(peer), Some(expected)) if peer != expected => return Err(CallError::NotInCall(expected.clone())),
                (Some(peer), _) => peer.clone(),
            };
            self.count_call_end(&entry.call);
            entry.call.reset();
            peer
        };
        self.reset_call_if_peer_is(&peer, user);
        Ok(peer)
    }

    /// The ring timer of `call_id` fired: if that call still rings, ends it and returns the callee.
    pub fn expire_ring(&self, caller: &UserName, call_id: CallId) -> Option<UserName> {
        let _transitions = self.lock_transitions();
        let callee = {
            let mut entry = self.users.get_mut(caller)?;
            let CallState::Calling { peer, call_id: current, .. } = &entry.call else { return None };
            if *current != call_id {
                return None;
            }
            let callee = peer.clone();
            // The timer is this very task: forget it rather than abort it.
            self.metrics.calls_ringing.dec();
            entry.call = CallState::Idle;
            callee
        };
        self.reset_call_if_peer_is(&callee, caller);
        Some(callee)
    }

    /// The id of `user`'s current call if that call is with `peer` and `user` is still on
    /// `connection_id` (not taken over by a newer login).
    fn call_id_with(&self, user: &UserName, connection_id: ConnectionId, peer: &UserName) -> Option<CallId> {
        let entry = self.users.get(user)?;
        entry.call.call_id().filter(|_| entry.call.peer() == Some(peer) && entry.connection.id() == connection_id)
    }

    /// Relays `text` from `sender` to `target` if they are the two parties of one pending or
    /// answered call. Two short shard reads; no global lock.
    pub fn relay_to_peer(
        &self,
        sender: &UserName,
        connection_id: ConnectionId,
        target: &UserName,
        text: Utf8Bytes,
    ) -> Result<(), RelayError> {
        let not_in_call = || RelayError::Call(CallError::NotInCall(target.clone()));
        let call_id = self.call_id_with(sender, connection_id, target).ok_or_else(not_in_call)?;
        let target_entry = self.users.get(target).ok_or_else(not_in_call)?;
        if target_entry.call.peer() != Some(sender) || target_entry.call.call_id() != Some(call_id) {
            return Err(not_in_call());
        }
        Ok(target_entry.connection.send_text(text)?)
    }

    /// Queues a message the server itself generates (`leave`) for `name`, using the small reserve
    /// above the queue's capacity so it never waits behind a backlog nor overtakes one; a
    /// recipient that has filled even the reserve does not read and is disconnected.
    pub fn deliver_reserved(&self, name: &UserName, text: Utf8Bytes) {
        if let Some(entry) = self.users.get(name) {
            entry.connection.send_text_reserved(text);
        }
    }

    /// Queues `text` for `name`'s connection without waiting. A recipient whose queue is full
    /// does not read its messages: it is disconnected rather than buffered without bound.
    pub fn deliver(&self, name: &UserName, text: Utf8Bytes) -> Result<(), DeliveryError> {
        let entry = self.users.get(name).ok_or(DeliveryError::NotOnline)?;
        entry.connection.send_text(text)
    }

    /// Checks the invariant that call state is symmetric: whoever names a peer is named back
    /// by that peer with the same call id, in a matching role. For tests and debugging.
    pub fn check_consistency(&self) -> Result<(), String> {
        let _transitions = self.lock_transitions();
        type Role = Option<(UserName, CallId, &'static str)>;
        let snapshot: Vec<(UserName, Role)> = self
            .users
            .iter()
            .map(|entry| {
                let role = match &entry.call {
                    CallState::Idle => None,
                    CallState::Calling { peer, call_id, .. } => Some((peer.clone(), *call_id, "calling")),
                    CallState::Ringing { peer, call_id } => Some((peer.clone(), *call_id, "ringing")),
                    CallState::InCall { peer, call_id } => Some((peer.clone(), *call_id, "in_call")),
                };
                (entry.key().clone(), role)
            })
            .collect();
        for (user, role) in &snapshot {
            let Some((peer, call_id, kind)) = role else { continue };
            let expected_kind = match *kind {
                "calling" => "ringing",
                "ringing" => "calling",
                _ => "in_call",
            };
            let peer_role = snapshot.iter().find(|(name, _)| name == peer).and_then(|(_, role)| role.as_ref());
            match peer_role {
                Some((back, back_id, back_kind))
                    if back == user && back_id == call_id && *back_kind == expected_kind => {}
                other => return Err(format!("{user} is {kind} {peer} (call {call_id}) but {peer} has {other:?}")),
            }
        }
        Ok(())
    }

    /// Up to `limit` names online, sorted, without `except`.
    pub fn online_names(&self, except: Option<&UserName>, limit: usize) -> Vec<UserName> {
        let mut names: Vec<UserName> = self
            .users
            .iter()
            .map(|entry| entry.key().clone())
            .filter(|name| Some(name) != except)
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
    fn regression_a_connection_replaced_by_a_resume_login_can_no_longer_act_on_the_name() {
        let registry = Registry::new(Arc::new(Metrics::new()));
        let alice = UserName::from_wire("alice");
        let bob = UserName::from_wire("bob");
        let old = ConnectionHandle::detached(8);
        let new = ConnectionHandle::detached(8);
        let bob_connection = ConnectionHandle::detached(8);
        let claimed = registry.claim(&alice, old.clone(), None).expect("alice signs in");
        registry.claim(&bob, bob_connection.clone(), None).expect("bob signs in");
        registry.claim(&alice, new.clone(), Some(&claimed.resume)).expect("alice resumes on a new connection");

        // A frame the old connection was still handling when the new one took over.
        assert_eq!(registry.start_call(&alice, old.id(), &bob), Err(CallError::NoCall));
        assert_eq!(registry.start_call(&alice, new.id(), &bob), Ok(Offered::NewCall(0)));
        assert!(matches!(
            registry.relay_to_peer(&alice, old.id(), &bob, Utf8Bytes::from_static("{}")),
            Err(RelayError::Call(CallError::NotInCall(_)))
        ));
        assert_eq!(registry.end_call(&alice, old.id(), Some(&bob)), Err(CallError::NoCall));
        assert_eq!(registry.answer_call(&bob, bob_connection.id(), &alice), Ok(Answered::Connected(0)));
        assert_eq!(registry.end_call(&alice, new.id(), Some(&bob)), Ok(bob.clone()));
        assert_eq!(registry.check_consistency(), Ok(()));
    }

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
