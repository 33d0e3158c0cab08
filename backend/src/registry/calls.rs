//! The call-state transitions of the [`Registry`]: offer, answer, leave, ring timeout, and
//! relaying between the two parties of a call.
//!
//! Call state is symmetric: if A's state names B as peer, B's names A with the same call id, in
//! the matching role (calling and ringing, or both in the call), except within one transition,
//! which holds the transition mutex from start to end so both halves of a call always agree.
//! Relaying checks both sides and takes no global lock: two short shard reads.

use super::Registry;
use crate::delivery::{ConnectionId, DeliveryError};
use protocol::{quoted, UserName};
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

/// Why a call operation was refused. The dispatcher turns each into an `error` reply.
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
    pub(super) fn hang_up(&self, call: &mut CallState) -> Option<UserName> {
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
    pub(super) fn reset_call_if_peer_is(&self, user: &UserName, peer: &UserName) -> bool {
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
            let caller_entry = self.held(caller, connection_id).ok_or(CallError::NoCall)?;
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
            let mut callee_entry = self.held_mut(callee, connection_id).ok_or(CallError::NoCall)?;
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
            let mut entry = self.held_mut(user, connection_id).ok_or(CallError::NoCall)?;
            if let Some(expected) = expected_peer.filter(|expected| entry.call.peer() != Some(*expected)) {
                return Err(CallError::NotInCall(expected.clone()));
            }
            self.hang_up(&mut entry.call).ok_or(CallError::NoCall)?
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

    /// Relays `text` from `sender` to `target` if they are the two parties of one pending or
    /// answered call, and `sender` is still on `connection_id` (not taken over by a newer
    /// login). Two short shard reads, one after the other; no global lock.
    pub fn relay_to_peer(
        &self,
        sender: &UserName,
        connection_id: ConnectionId,
        target: &UserName,
        text: Utf8Bytes,
    ) -> Result<(), RelayError> {
        let not_in_call = || RelayError::Call(CallError::NotInCall(target.clone()));
        let call_id = self
            .held(sender, connection_id)
            .and_then(|entry| entry.call.call_id().filter(|_| entry.call.peer() == Some(target)))
            .ok_or_else(not_in_call)?;
        let target_entry = self.users.get(target).ok_or_else(not_in_call)?;
        if target_entry.call.peer() != Some(sender) || target_entry.call.call_id() != Some(call_id) {
            return Err(not_in_call());
        }
        Ok(target_entry.connection.send_text(text)?)
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
}
