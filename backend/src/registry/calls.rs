//! The call-state transitions of the [`Registry`]: offer, answer, leave, ring timeout, and
//! relaying between the two parties of a call.
//!
//! Call state is symmetric: if A's state names B as peer, B's names A with the same call id, in
//! the matching role (calling and ringing, or both in the call), except within one transition,
//! which holds the transition mutex from start to end so both halves of a call always agree.
//! Relaying checks both sides and takes no global lock: two short shard reads.
//!
//! Peers are [`Identity`]s (name and key, shared): a target named by a client is turned into a
//! key once per operation (trimmed; case, NFC/NFD and look-alikes do not matter), and what the
//! other side is told names the sender by its registered display form.

use super::{Identity, Registry};
use crate::delivery::{ConnectionId, DeliveryError};
use protocol::{quoted, NameKey, UserName};
use std::sync::atomic::Ordering;
use tokio::task::AbortHandle;
use tungstenite::Utf8Bytes;

/// Identifies one call, so that a late ring timer cannot end a newer call between the same users.
pub type CallId = u64;

#[derive(Debug)]
pub(super) enum CallState {
    Idle,
    /// Sent an offer to `peer`, who has not answered yet.
    Calling {
        peer: Identity,
        call_id: CallId,
        ring_timer: Option<AbortHandle>,
    },
    /// `peer` is calling; not answered yet.
    Ringing {
        peer: Identity,
        call_id: CallId,
    },
    /// Answered: both parties may renegotiate and trickle candidates.
    InCall {
        peer: Identity,
        call_id: CallId,
    },
}

impl CallState {
    fn peer(&self) -> Option<&Identity> {
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

/// Why a call operation was refused. The dispatcher turns each into an `error` reply. Names
/// are display forms, or the target as the client sent it when it matched nobody.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    // Names here are call targets exactly as a client sent them: quoted, never echoed whole.
    #[error("\"{}\" is not online.", quoted(.0.as_str()))]
    UserNotFound(UserName),
    #[error("You cannot call yourself.")]
    CannotCallSelf,
    #[error("\"{}\" is in another call.", quoted(.0.as_str()))]
    Busy(UserName),
    #[error("You are already in a call with \"{}\"; hang up first.", quoted(.0.as_str()))]
    AlreadyInCall(UserName),
    #[error("You are not in a call with \"{}\".", quoted(.0.as_str()))]
    NotInCall(UserName),
    #[error("You are not in a call.")]
    NoCall,
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

impl Registry {
    /// Ends one party's side of its call: counts the end in the gauges, stops a ring timer, sets
    /// it idle. Returns the peer, whose side the caller resets once it has let go of this entry.
    pub(super) fn hang_up(&self, call: &mut CallState) -> Option<Identity> {
        match call {
            CallState::Idle => {}
            CallState::Calling { .. } | CallState::Ringing { .. } => {
                self.metrics.calls_ringing.dec();
            }
            CallState::InCall { .. } => {
                self.metrics.calls_active.dec();
            }
        }
        let peer = call.peer().cloned();
        call.reset();
        peer
    }

    /// Sets `user` idle if its call is with `peer`. True when it was.
    pub(super) fn reset_call_if_peer_is(&self, user: &Identity, peer: &Identity) -> bool {
        match self.users.get_mut(user.key()) {
            Some(mut entry) if entry.call.peer() == Some(peer) => {
                entry.call.reset();
                true
            }
            _ => false,
        }
    }

    /// `caller` (on connection `connection_id`) sends an offer to `target`, a name as the
    /// client typed it. Returns what the offer did and who it goes to.
    pub fn start_call(
        &self,
        caller: &Identity,
        connection_id: ConnectionId,
        target: &UserName,
    ) -> Result<(Offered, Identity), CallError> {
        let not_found = || CallError::UserNotFound(target.clone());
        let target_key = NameKey::of_target(target.as_str()).ok_or_else(not_found)?;
        if caller.key() == &target_key {
            return Err(CallError::CannotCallSelf);
        }
        let _transitions = self.lock_transitions();
        {
            let caller_entry = self.held(caller, connection_id).ok_or(CallError::NoCall)?;
            match &caller_entry.call {
                CallState::Idle => {}
                CallState::Calling { peer, .. } | CallState::InCall { peer, .. } if peer.key() == &target_key => {
                    return Ok((Offered::Renegotiation, peer.clone()));
                }
                other => {
                    let peer = other.peer().map_or_else(|| target.clone(), |peer| peer.display().clone());
                    return Err(CallError::AlreadyInCall(peer));
                }
            }
        }
        let call_id = self.next_call_id.fetch_add(1, Ordering::Relaxed);
        let callee = {
            let mut callee_entry = self.users.get_mut(&target_key).ok_or_else(not_found)?;
            if !matches!(callee_entry.call, CallState::Idle) {
                return Err(CallError::Busy(callee_entry.identity.display().clone()));
            }
            callee_entry.call = CallState::Ringing { peer: caller.clone(), call_id };
            callee_entry.identity.clone()
        };
        if let Some(mut caller_entry) = self.users.get_mut(caller.key()) {
            caller_entry.call = CallState::Calling { peer: callee.clone(), call_id, ring_timer: None };
        }
        self.metrics.calls_ringing.inc();
        Ok((Offered::NewCall(call_id), callee))
    }

    /// Remembers the ring timer of a new call so that answering or hanging up stops it.
    /// Stops it at once if the call already ended or was answered.
    pub fn attach_ring_timer(&self, caller: &Identity, call_id: CallId, timer: AbortHandle) {
        let _transitions = self.lock_transitions();
        match self.users.get_mut(caller.key()) {
            Some(mut entry) => match &mut entry.call {
                CallState::Calling { call_id: current, ring_timer, .. } if *current == call_id => {
                    *ring_timer = Some(timer)
                }
                _ => timer.abort(),
            },
            None => timer.abort(),
        }
    }

    /// `callee` answers `target` (the caller, named as the client typed it). Returns what the
    /// answer did and who it goes to.
    pub fn answer_call(
        &self,
        callee: &Identity,
        connection_id: ConnectionId,
        target: &UserName,
    ) -> Result<(Answered, Identity), CallError> {
        let not_in_call = || CallError::NotInCall(target.clone());
        let target_key = NameKey::of_target(target.as_str()).ok_or_else(not_in_call)?;
        let _transitions = self.lock_transitions();
        let (call_id, caller) = {
            let mut callee_entry = self.held_mut(callee, connection_id).ok_or(CallError::NoCall)?;
            match &callee_entry.call {
                CallState::Ringing { peer, call_id } if peer.key() == &target_key => {
                    let (call_id, caller) = (*call_id, peer.clone());
                    callee_entry.call = CallState::InCall { peer: caller.clone(), call_id };
                    (call_id, caller)
                }
                CallState::InCall { peer, .. } if peer.key() == &target_key => {
                    return Ok((Answered::Renegotiation, peer.clone()))
                }
                _ => return Err(not_in_call()),
            }
        };
        if let Some(mut caller_entry) = self.users.get_mut(caller.key()) {
            caller_entry.call.reset();
            caller_entry.call = CallState::InCall { peer: callee.clone(), call_id };
        }
        self.metrics.calls_ringing.dec();
        self.metrics.calls_active.inc();
        Ok((Answered::Connected(call_id), caller))
    }

    /// Ends `user`'s call. With `expected_peer` (as the client typed it), only if the call is
    /// with that user. Returns the peer, who must be told.
    pub fn end_call(
        &self,
        user: &Identity,
        connection_id: ConnectionId,
        expected_peer: Option<&UserName>,
    ) -> Result<Identity, CallError> {
        // `None` inside: a target too long to be anyone's name, which matches no peer.
        let expected_key = expected_peer.map(|expected| NameKey::of_target(expected.as_str()));
        let _transitions = self.lock_transitions();
        let peer = {
            let mut entry = self.held_mut(user, connection_id).ok_or(CallError::NoCall)?;
            if let (Some(expected), Some(expected_key)) = (expected_peer, &expected_key) {
                if entry.call.peer().map(Identity::key) != expected_key.as_ref() {
                    return Err(CallError::NotInCall(expected.clone()));
                }
            }
            self.hang_up(&mut entry.call).ok_or(CallError::NoCall)?
        };
        self.reset_call_if_peer_is(&peer, user);
        Ok(peer)
    }

    /// The ring timer of `call_id` fired: if that call still rings, ends it and returns the callee.
    pub fn expire_ring(&self, caller: &Identity, call_id: CallId) -> Option<Identity> {
        let _transitions = self.lock_transitions();
        let callee = {
            let mut entry = self.users.get_mut(caller.key())?;
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

    /// Relays `text` from `sender` to `target` if they are the two parties of one pending or
    /// answered call, and `sender` is still on `connection_id` (not taken over by a newer
    /// login). Two short shard reads, one after the other; no global lock.
    ///
    /// The peer comes from the call state, so no key is computed when `target` is the peer's
    /// display form (what the app sends); only another spelling of it costs one key.
    pub fn relay_to_peer(
        &self,
        sender: &Identity,
        connection_id: ConnectionId,
        target: &UserName,
        text: Utf8Bytes,
    ) -> Result<(), RelayError> {
        let not_in_call = || RelayError::Call(CallError::NotInCall(target.clone()));
        let (peer, call_id) = self
            .held(sender, connection_id)
            .and_then(|entry| Some((entry.call.peer()?.clone(), entry.call.call_id()?)))
            .ok_or_else(not_in_call)?;
        if peer.display() != target && NameKey::of_target(target.as_str()).as_ref() != Some(peer.key()) {
            return Err(not_in_call());
        }
        let target_entry = self.users.get(peer.key()).ok_or_else(not_in_call)?;
        if target_entry.call.peer() != Some(sender) || target_entry.call.call_id() != Some(call_id) {
            return Err(not_in_call());
        }
        Ok(target_entry.connection.send_text(text)?)
    }

    /// Checks the invariant that call state is symmetric: whoever names a peer is named back
    /// by that peer with the same call id, in a matching role. For tests and debugging.
    pub fn check_consistency(&self) -> Result<(), String> {
        let _transitions = self.lock_transitions();
        if let Some(entry) = self.users.iter().find(|entry| {
            self.shapes.get(entry.identity.shape()).is_none_or(|holder| holder.value().key() != entry.key())
        }) {
            return Err(format!("{} is online but does not hold its shape", entry.identity));
        }
        if self.shapes.len() != self.users.len() {
            return Err(format!("{} shapes for {} users online", self.shapes.len(), self.users.len()));
        }
        type Role = Option<(Identity, CallId, &'static str)>;
        let snapshot: Vec<(Identity, Role)> = self
            .users
            .iter()
            .map(|entry| {
                let role = match &entry.call {
                    CallState::Idle => None,
                    CallState::Calling { peer, call_id, .. } => Some((peer.clone(), *call_id, "calling")),
                    CallState::Ringing { peer, call_id } => Some((peer.clone(), *call_id, "ringing")),
                    CallState::InCall { peer, call_id } => Some((peer.clone(), *call_id, "in_call")),
                };
                (entry.identity.clone(), role)
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::ConnectionHandle;
    use crate::metrics::Metrics;
    use std::sync::Arc;

    #[test]
    fn regression_a_connection_replaced_by_a_resume_login_can_no_longer_act_on_the_name() {
        let registry = Registry::new(Arc::new(Metrics::new()));
        let alice = Identity::new(UserName::from_wire("alice"));
        let bob = Identity::new(UserName::from_wire("bob"));
        let bob_target = bob.display().clone();
        let alice_target = alice.display().clone();
        let old = ConnectionHandle::detached(8);
        let new = ConnectionHandle::detached(8);
        let bob_connection = ConnectionHandle::detached(8);
        let claimed = registry.claim(&alice, old.clone(), None).expect("alice signs in");
        registry.claim(&bob, bob_connection.clone(), None).expect("bob signs in");
        registry.claim(&alice, new.clone(), Some(&claimed.resume)).expect("alice resumes on a new connection");

        // A frame the old connection was still handling when the new one took over.
        assert_eq!(registry.start_call(&alice, old.id(), &bob_target), Err(CallError::NoCall));
        assert_eq!(registry.start_call(&alice, new.id(), &bob_target), Ok((Offered::NewCall(0), bob.clone())));
        assert!(matches!(
            registry.relay_to_peer(&alice, old.id(), &bob_target, Utf8Bytes::from_static("{}")),
            Err(RelayError::Call(CallError::NotInCall(_)))
        ));
        assert_eq!(registry.end_call(&alice, old.id(), Some(&bob_target)), Err(CallError::NoCall));
        assert_eq!(
            registry.answer_call(&bob, bob_connection.id(), &alice_target),
            Ok((Answered::Connected(0), alice.clone()))
        );
        assert_eq!(registry.end_call(&alice, new.id(), Some(&bob_target)), Ok(bob.clone()));
        assert_eq!(registry.check_consistency(), Ok(()));
    }
}
