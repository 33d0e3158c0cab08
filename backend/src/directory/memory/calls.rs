//! The call transitions of the [`MemoryDirectory`]: offer, answer, leave, ring deadlines, and
//! where a relayed message goes.
//!
//! Call state is symmetric: if A's state names B as peer, B's names A with the same call id, in
//! the matching role (calling and ringing, or both in the call), except within one transition,
//! which holds the transition mutex from start to end so both halves of a call always agree.
//! A caller's state holds its ring deadline, and the deadline index under the transition mutex
//! lists exactly the calls still ringing. Relaying checks both sides and takes no global lock:
//! two short shard reads.
//!
//! One exception to the symmetry: a user *resuming* (signed in again with `inCallWith` on a
//! server that had no such call) names a peer that does not name it back until it signs in
//! naming this user too (see `sign_in.rs`). A peer that is away (its call held) is in the call
//! but cannot be reached: relaying to it is refused with `PeerUnavailable`.
//!
//! Peers are [`Identity`]s (name and key, shared): a target named by a client is turned into a
//! key once per operation (trimmed; case, NFC/NFD and look-alikes do not matter).

use super::{MemoryDirectory, Schedule};
use crate::directory::{
    Answered, CallAnswered, CallError, CallId, CallPhase, CallStarted, ConnectionRef, EndedCall, ExpiredRing, Identity,
    Offered,
};
use protocol::{NameKey, UserName};
use std::sync::atomic::Ordering;
use std::time::Instant;

#[derive(Debug)]
pub(super) enum CallState {
    Idle,
    /// Sent an offer to `peer`, who has not answered yet; the call ends at `ring_deadline`.
    Calling {
        peer: Identity,
        call_id: CallId,
        ring_deadline: Instant,
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
    /// Signed back in saying it is still in a call with `peer`, which has not said the same yet;
    /// the wait ends at `deadline` (in the schedule's graces and waits).
    Resuming {
        peer: Identity,
        deadline: Instant,
    },
}

impl CallState {
    pub(super) fn peer(&self) -> Option<&Identity> {
        match self {
            CallState::Idle => None,
            CallState::Calling { peer, .. }
            | CallState::Ringing { peer, .. }
            | CallState::InCall { peer, .. }
            | CallState::Resuming { peer, .. } => Some(peer),
        }
    }

    pub(super) fn call_id(&self) -> Option<CallId> {
        match self {
            CallState::Idle | CallState::Resuming { .. } => None,
            CallState::Calling { call_id, .. }
            | CallState::Ringing { call_id, .. }
            | CallState::InCall { call_id, .. } => Some(*call_id),
        }
    }

    /// Ends `me`'s side of the call: idle, its ring deadline or wait (if any) out of the
    /// schedule. Returns the peer and how far the call had got, or `None` if there was no call.
    pub(super) fn hang_up(&mut self, me: &Identity, schedule: &mut Schedule) -> Option<(Identity, CallPhase)> {
        match std::mem::replace(self, CallState::Idle) {
            CallState::Idle => None,
            CallState::Calling { peer, call_id, ring_deadline } => {
                schedule.rings.remove(&(ring_deadline, call_id));
                Some((peer, CallPhase::Ringing))
            }
            CallState::Resuming { peer, deadline } => {
                schedule.graces.remove(&(deadline, me.key().clone()));
                schedule.forget_wait(me, peer.key());
                Some((peer, CallPhase::Resuming))
            }
            CallState::Ringing { peer, .. } => Some((peer, CallPhase::Ringing)),
            CallState::InCall { peer, .. } => Some((peer, CallPhase::Connected)),
        }
    }
}

impl MemoryDirectory {
    /// Ends `peer`'s side of its call with `user` (whose side already ended), once the caller let
    /// go of `user`'s entry. The peer's connection is returned only if its call was with `user`
    /// and it is connected; a peer that was away loses its name too (nothing left to hold).
    pub(super) fn end_peer_side(
        &self,
        user: &Identity,
        peer: Identity,
        phase: CallPhase,
        schedule: &mut Schedule,
    ) -> EndedCall {
        let (peer_connection, peer_name_freed) = match self.users.get_mut(peer.key()) {
            Some(mut entry) if entry.call.peer() == Some(user) && !matches!(entry.call, CallState::Resuming { .. }) => {
                let entry = &mut *entry;
                entry.call.hang_up(&entry.identity, schedule);
                match entry.away_until {
                    None => (Some(entry.holder), false),
                    Some(away_until) => {
                        schedule.graces.remove(&(away_until, entry.identity.key().clone()));
                        (None, true)
                    }
                }
            }
            _ => (None, false),
        };
        if peer_name_freed {
            self.forget_user(&peer);
        }
        EndedCall { peer, peer_connection, phase, peer_name_freed }
    }

    pub(super) fn start(
        &self,
        caller: &Identity,
        holder: ConnectionRef,
        target: &UserName,
        ring_deadline: Instant,
    ) -> Result<CallStarted, CallError> {
        let not_found = || CallError::UserNotFound(target.clone());
        let target_key = NameKey::of_target(target.as_str()).ok_or_else(not_found)?;
        if caller.key() == &target_key {
            return Err(CallError::CannotCallSelf);
        }
        let mut schedule = self.lock_transitions();
        let renegotiating = {
            let caller_entry = self.held(caller, holder).ok_or(CallError::NoCall)?;
            match &caller_entry.call {
                CallState::Idle => None,
                CallState::Calling { peer, .. } | CallState::InCall { peer, .. } if peer.key() == &target_key => {
                    Some(peer.clone())
                }
                CallState::Resuming { peer, .. } if peer.key() == &target_key => {
                    return Err(CallError::PeerUnavailable(peer.display().clone()));
                }
                other => {
                    let peer = other.peer().map_or_else(|| target.clone(), |peer| peer.display().clone());
                    return Err(CallError::AlreadyInCall(peer));
                }
            }
        };
        if let Some(peer) = renegotiating {
            let callee_connection = self.reachable(&peer).ok_or_else(not_found)??;
            return Ok(CallStarted { outcome: Offered::Renegotiation, callee: peer, callee_connection });
        }
        let call_id = self.next_call_id.fetch_add(1, Ordering::Relaxed);
        let (callee, callee_connection) = {
            let mut callee_entry = self.users.get_mut(&target_key).ok_or_else(not_found)?;
            if !matches!(callee_entry.call, CallState::Idle) {
                return Err(CallError::Busy(callee_entry.identity.display().clone()));
            }
            callee_entry.call = CallState::Ringing { peer: caller.clone(), call_id };
            (callee_entry.identity.clone(), callee_entry.holder)
        };
        if let Some(mut caller_entry) = self.users.get_mut(caller.key()) {
            caller_entry.call = CallState::Calling { peer: callee.clone(), call_id, ring_deadline };
            schedule.rings.insert((ring_deadline, call_id), caller_entry.identity.clone());
        }
        Ok(CallStarted { outcome: Offered::NewCall(call_id), callee, callee_connection })
    }

    pub(super) fn answer(
        &self,
        callee: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<CallAnswered, CallError> {
        let not_in_call = || CallError::NotInCall(target.clone());
        let target_key = NameKey::of_target(target.as_str()).ok_or_else(not_in_call)?;
        let mut schedule = self.lock_transitions();
        let (caller, call_id) = {
            let callee_entry = self.held(callee, holder).ok_or(CallError::NoCall)?;
            match &callee_entry.call {
                CallState::Ringing { peer, call_id } if peer.key() == &target_key => (peer.clone(), *call_id),
                CallState::InCall { peer, .. } if peer.key() == &target_key => {
                    let caller = peer.clone();
                    drop(callee_entry);
                    let caller_connection = self.reachable(&caller).ok_or_else(not_in_call)??;
                    return Ok(CallAnswered { outcome: Answered::Renegotiation, caller, caller_connection });
                }
                CallState::Resuming { peer, .. } if peer.key() == &target_key => {
                    return Err(CallError::PeerUnavailable(peer.display().clone()));
                }
                _ => return Err(not_in_call()),
            }
        };
        let caller_connection = {
            let mut caller_entry = self.users.get_mut(caller.key()).ok_or_else(not_in_call)?;
            if caller_entry.call.peer() != Some(callee) || caller_entry.call.call_id() != Some(call_id) {
                return Err(not_in_call());
            }
            let caller_entry = &mut *caller_entry;
            caller_entry.call.hang_up(&caller_entry.identity, &mut schedule);
            caller_entry.call = CallState::InCall { peer: callee.clone(), call_id };
            caller_entry.holder
        };
        if let Some(mut callee_entry) = self.users.get_mut(callee.key()) {
            callee_entry.call = CallState::InCall { peer: caller.clone(), call_id };
        }
        Ok(CallAnswered { outcome: Answered::Connected(call_id), caller, caller_connection })
    }

    pub(super) fn end(
        &self,
        user: &Identity,
        holder: ConnectionRef,
        expected_peer: Option<&UserName>,
    ) -> Result<EndedCall, CallError> {
        // `None` inside: a target too long to be anyone's name, which matches no peer.
        let expected_key = expected_peer.map(|expected| NameKey::of_target(expected.as_str()));
        let mut schedule = self.lock_transitions();
        let (peer, phase) = {
            let mut entry = self.held_mut(user, holder).ok_or(CallError::NoCall)?;
            let entry = &mut *entry;
            if let (Some(expected), Some(expected_key)) = (expected_peer, &expected_key) {
                if entry.call.peer().map(Identity::key) != expected_key.as_ref() {
                    return Err(CallError::NotInCall(expected.clone()));
                }
            }
            entry.call.hang_up(&entry.identity, &mut schedule).ok_or(CallError::NoCall)?
        };
        Ok(self.end_peer_side(user, peer, phase, &mut schedule))
    }

    /// Two short shard reads, one after the other; no global lock. The peer comes from the call
    /// state, so no key is computed when `target` is the peer's display form (what the app
    /// sends); only another spelling of it costs one key.
    pub(super) fn relay_destination(
        &self,
        sender: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<ConnectionRef, CallError> {
        let not_in_call = || CallError::NotInCall(target.clone());
        let (peer, call_id) = self
            .held(sender, holder)
            .and_then(|entry| Some((entry.call.peer()?.clone(), entry.call.call_id())))
            .ok_or_else(not_in_call)?;
        if peer.display() != target && NameKey::of_target(target.as_str()).as_ref() != Some(peer.key()) {
            return Err(not_in_call());
        }
        // Waiting for the peer to sign back in: nothing to relay to yet.
        let call_id = call_id.ok_or_else(|| CallError::PeerUnavailable(peer.display().clone()))?;
        let target_entry = self.users.get(peer.key()).ok_or_else(not_in_call)?;
        if target_entry.call.peer() != Some(sender) || target_entry.call.call_id() != Some(call_id) {
            return Err(not_in_call());
        }
        if target_entry.away_until.is_some() {
            return Err(CallError::PeerUnavailable(peer.display().clone()));
        }
        Ok(target_entry.holder)
    }

    /// Where `peer` is connected: `None` if it is not online, an error if it is away.
    fn reachable(&self, peer: &Identity) -> Option<Result<ConnectionRef, CallError>> {
        self.users.get(peer.key()).map(|entry| match entry.away_until {
            None => Ok(entry.holder),
            Some(_) => Err(CallError::PeerUnavailable(peer.display().clone())),
        })
    }

    pub(super) fn earliest_ring_deadline(&self) -> Option<Instant> {
        self.lock_transitions().rings.first_key_value().map(|((deadline, _), _)| *deadline)
    }

    pub(super) fn expire(&self, now: Instant) -> Vec<ExpiredRing> {
        let mut schedule = self.lock_transitions();
        let mut expired = Vec::new();
        while let Some(next) = schedule.rings.first_entry() {
            if next.key().0 > now {
                break;
            }
            let ((_, call_id), caller) = next.remove_entry();
            let (callee, caller_connection) = {
                let Some(mut entry) = self.users.get_mut(caller.key()) else { continue };
                match &entry.call {
                    CallState::Calling { peer, call_id: current, .. } if *current == call_id => {
                        let callee = peer.clone();
                        // Its deadline is already out of the index.
                        entry.call = CallState::Idle;
                        (callee, entry.holder)
                    }
                    _ => continue,
                }
            };
            let ended = self.end_peer_side(&caller, callee, CallPhase::Ringing, &mut schedule);
            expired.push(ExpiredRing {
                call_id,
                caller,
                caller_connection,
                callee: ended.peer,
                callee_connection: ended.peer_connection,
            });
        }
        expired
    }
}
