//! Names coming and going in the [`MemoryDirectory`]: claim (plain, or a takeover the session
//! allowed after verifying a resume token), release (or hold: away with the call kept), the
//! waits of a server that has no record of a call both sides say they are in, and the expiry of
//! holds and waits at their grace deadline.
//!
//! Invariants (checked by `consistency.rs`): an away user is in a connected call and has its
//! grace deadline in the schedule; a resuming user has its deadline there too and is listed
//! under the name it waits for; nothing else is in either index.

use super::calls::CallState;
use super::{MemoryDirectory, Schedule, UserEntry};
use crate::directory::identity::{ByKey, ByShape};
use crate::directory::{
    takeover_peer, ClaimError, ClaimRequest, Claimed, ConnectionRef, EndedWait, ExpiredGrace, Identity, Released,
    Resumption,
};
use std::sync::atomic::Ordering;
use std::time::Instant;

impl MemoryDirectory {
    pub(super) fn claim_name(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        request: &ClaimRequest,
    ) -> Result<Claimed, ClaimError> {
        let mut schedule = self.lock_transitions();
        // Checked before the entry is taken: looking a holder up while holding the entry's shard
        // could deadlock. Both maps only change under the transition mutex held here.
        if let Some(in_use) = self.shapes.get(name.shape()).filter(|in_use| in_use.key().0 != *name) {
            return Err(ClaimError::Taken {
                requested: name.display().clone(),
                in_use: in_use.key().0.display().clone(),
            });
        }
        let (takeover, awaited) = match request {
            ClaimRequest::Fresh => (false, None),
            ClaimRequest::Takeover { in_call_with, grace_deadline } => {
                let peer = takeover_peer(name, in_call_with.as_ref());
                (true, peer.map(|peer| (peer, *grace_deadline)))
            }
        };
        let awaited_key = awaited.as_ref().map(|(peer, _)| peer.key());
        let (identity, newly_online, replaced, ended) = match self.users.entry(ByKey(name.clone())) {
            dashmap::Entry::Vacant(vacant) => {
                vacant.insert(UserEntry { identity: name.clone(), holder, away_until: None, call: CallState::Idle });
                self.shapes.insert(ByShape(name.clone()), ());
                (name.clone(), true, None, None)
            }
            dashmap::Entry::Occupied(mut occupied) => {
                if !takeover {
                    let in_use = occupied.get().identity.display().clone();
                    return Err(ClaimError::Taken { requested: name.display().clone(), in_use });
                }
                let entry = occupied.get_mut();
                let previous = std::mem::replace(&mut entry.holder, holder);
                let replaced = match entry.away_until.take() {
                    Some(away_until) => {
                        schedule.graces.remove(&(away_until, entry.identity.key().clone()));
                        None
                    }
                    None => Some(previous),
                };
                let keeps_call = match &entry.call {
                    CallState::InCall { peer, .. } | CallState::Resuming { peer, .. } => {
                        Some(peer.key()) == awaited_key
                    }
                    _ => false,
                };
                let ended = if keeps_call { None } else { entry.call.hang_up(&entry.identity, &mut schedule) };
                (entry.identity.clone(), false, replaced, ended)
            }
        };
        let ended_call = ended.map(|(peer, phase)| self.end_peer_side(&identity, peer, phase, &mut schedule));
        let resumption = match awaited {
            Some((peer, grace_deadline)) => self.resume_call(&identity, peer, grace_deadline, &mut schedule),
            None => Resumption::None,
        };
        let ended_waits = self.end_waits_for(&identity, &mut schedule);
        Ok(Claimed {
            identity,
            newly_online,
            replaced,
            ended_call,
            resumption,
            ended_waits,
            stale_holders_freed: Vec::new(),
        })
    }

    /// `me` (just signed in) says it is in a call with `awaited`: back in its kept call, paired
    /// with `awaited` if that one waits for `me`, or waiting for it until `grace_deadline`.
    fn resume_call(
        &self,
        me: &Identity,
        awaited: Identity,
        grace_deadline: Instant,
        schedule: &mut Schedule,
    ) -> Resumption {
        let kept = self.users.get(me.key()).and_then(|entry| match &entry.call {
            CallState::InCall { peer, .. } => Some((peer.clone(), true)),
            CallState::Resuming { peer, .. } => Some((peer.clone(), false)),
            _ => None,
        });
        match kept {
            Some((peer, true)) => {
                return match self.users.get(peer.key()).filter(|entry| entry.away_until.is_none()) {
                    Some(entry) => Resumption::Restored { peer, peer_connection: entry.holder, new_pairing: false },
                    None => Resumption::PeerAway { peer },
                }
            }
            Some((peer, false)) => return Resumption::Waiting { peer },
            None => {}
        }
        // One entry borrowed at a time: two could share a shard (and deadlock).
        let paired = self.users.get_mut(awaited.key()).and_then(|mut peer_entry| {
            let peer_entry = &mut *peer_entry;
            if !matches!(&peer_entry.call, CallState::Resuming { peer, .. } if peer == me) {
                return None;
            }
            peer_entry.call.hang_up(&peer_entry.identity, schedule);
            let call_id = self.next_call_id.fetch_add(1, Ordering::Relaxed);
            peer_entry.call = CallState::InCall { peer: me.clone(), call_id };
            Some((peer_entry.identity.clone(), peer_entry.holder, call_id))
        });
        if let Some((peer, peer_connection, call_id)) = paired {
            if let Some(mut mine) = self.users.get_mut(me.key()) {
                mine.call = CallState::InCall { peer: peer.clone(), call_id };
            }
            return Resumption::Restored { peer, peer_connection, new_pairing: true };
        }
        // The display form of the awaited name if it is online, as typed otherwise.
        let peer = self.users.get(awaited.key()).map_or(awaited, |entry| entry.identity.clone());
        if let Some(mut mine) = self.users.get_mut(me.key()) {
            mine.call = CallState::Resuming { peer: peer.clone(), deadline: grace_deadline };
            schedule.graces.insert((grace_deadline, me.key().clone()), me.clone());
            schedule.waits.entry(peer.key().clone()).or_default().push(me.clone());
        }
        Resumption::Waiting { peer }
    }

    /// Ends the waits of everyone still waiting for `me` (which did not name them).
    fn end_waits_for(&self, me: &Identity, schedule: &mut Schedule) -> Vec<EndedWait> {
        let Some(waiters) = schedule.waits.remove(me.key()) else { return Vec::new() };
        let mut ended = Vec::new();
        for waiter in waiters {
            let Some(mut entry) = self.users.get_mut(waiter.key()) else { continue };
            let entry = &mut *entry;
            if let CallState::Resuming { peer, deadline } = &entry.call {
                if peer == me {
                    schedule.graces.remove(&(*deadline, entry.identity.key().clone()));
                    entry.call = CallState::Idle;
                    ended.push(EndedWait { waiter: entry.identity.clone(), waiter_connection: entry.holder });
                }
            }
        }
        ended
    }

    pub(super) fn release_name(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        hold_until: Option<Instant>,
    ) -> Option<Released> {
        let mut schedule = self.lock_transitions();
        {
            let mut entry = self.held_mut(name, holder)?;
            if let (Some(until), CallState::InCall { .. }) = (hold_until, &entry.call) {
                entry.away_until = Some(until);
                schedule.graces.insert((until, entry.identity.key().clone()), entry.identity.clone());
                return Some(Released { held: true, ended_call: None });
            }
        }
        let (_, mut entry) = self.users.remove_if(name.key(), |_, entry| entry.holder == holder)?;
        self.shapes.remove_if(entry.identity.shape(), |in_use, ()| in_use.0 == entry.identity);
        let ended = entry.call.hang_up(&entry.identity, &mut schedule);
        Some(Released {
            held: false,
            ended_call: ended.map(|(peer, phase)| self.end_peer_side(name, peer, phase, &mut schedule)),
        })
    }

    /// Removes `user`'s entry and its shape (its call already ended, its deadlines gone).
    pub(super) fn forget_user(&self, user: &Identity) {
        self.users.remove(user.key());
        self.shapes.remove_if(user.shape(), |in_use, ()| in_use.0 == *user);
    }

    pub(super) fn expire_holds_and_waits(&self, now: Instant) -> Vec<ExpiredGrace> {
        let mut schedule = self.lock_transitions();
        let mut expired = Vec::new();
        while let Some(next) = schedule.graces.first_entry() {
            if next.key().0 > now {
                break;
            }
            let ((deadline, key), _) = next.remove_entry();
            let away = {
                let Some(mut entry) = self.users.get_mut(&key) else { continue };
                let entry = &mut *entry;
                if entry.away_until == Some(deadline) {
                    let ended = entry.call.hang_up(&entry.identity, &mut schedule);
                    Some((entry.identity.clone(), ended))
                } else {
                    match &entry.call {
                        CallState::Resuming { peer, deadline: waited_until } if *waited_until == deadline => {
                            let peer = peer.clone();
                            schedule.forget_wait(&entry.identity, peer.key());
                            entry.call = CallState::Idle;
                            let waiter = entry.identity.clone();
                            expired.push(ExpiredGrace::Wait { waiter, waiter_connection: entry.holder, peer });
                        }
                        _ => {}
                    }
                    None
                }
            };
            if let Some((name, ended)) = away {
                self.forget_user(&name);
                let ended_call = ended.map(|(peer, phase)| self.end_peer_side(&name, peer, phase, &mut schedule));
                expired.push(ExpiredGrace::Away { name, ended_call });
            }
        }
        expired
    }
}
