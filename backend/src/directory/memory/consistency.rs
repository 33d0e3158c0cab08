//! [`MemoryDirectory::check_symmetry`]: the invariants of the in-memory directory, checked in
//! one pass under the transition mutex (property tests and the conformance suite call it).

use super::calls::CallState;
use super::MemoryDirectory;
use crate::directory::{CallId, Identity};

impl MemoryDirectory {
    /// Call state is symmetric (whoever names a peer is named back by that peer with the same
    /// call id, in a matching role; a resuming user excepted); every name online holds its shape
    /// and nothing else does; the ring deadline index lists exactly the calls still ringing; the
    /// grace index lists exactly the away users (each in a connected call) and the resuming
    /// ones, and the waits list exactly the resuming users under the name each waits for.
    pub(super) fn check_symmetry(&self) -> Result<(), String> {
        let schedule = self.lock_transitions();
        let ring_deadlines = &schedule.rings;
        let mut graces = 0;
        let mut waits = 0;
        for entry in self.users.iter() {
            let deadline = match (&entry.call, entry.away_until) {
                (CallState::InCall { .. }, Some(away_until)) => away_until,
                (_, Some(_)) => return Err(format!("{} is away but not in a connected call", entry.identity)),
                (CallState::Resuming { peer, deadline }, None) => {
                    waits += 1;
                    if !schedule.waits.get(peer.key()).is_some_and(|waiters| waiters.contains(&entry.identity)) {
                        return Err(format!("{} waits for {peer} but is not listed as waiting", entry.identity));
                    }
                    *deadline
                }
                _ => continue,
            };
            graces += 1;
            if schedule.graces.get(&(deadline, entry.identity.key().clone())) != Some(&entry.identity) {
                return Err(format!("{} is away or waiting without its grace deadline", entry.identity));
            }
        }
        if graces != schedule.graces.len() {
            return Err(format!("{} grace deadlines for {graces} users away or waiting", schedule.graces.len()));
        }
        if waits != schedule.waits.values().map(Vec::len).sum::<usize>() {
            return Err(format!("{waits} users waiting but {:?} listed", schedule.waits));
        }
        if let Some(entry) = self
            .users
            .iter()
            .find(|entry| self.shapes.get(entry.identity.shape()).is_none_or(|holder| holder.key().0 != entry.identity))
        {
            return Err(format!("{} is online but does not hold its shape", entry.identity));
        }
        if self.shapes.len() != self.users.len() {
            return Err(format!("{} shapes for {} users online", self.shapes.len(), self.users.len()));
        }
        type Role = Option<(Identity, CallId, &'static str)>;
        let mut ringing_callers = 0;
        let mut snapshot: Vec<(Identity, Role)> = Vec::with_capacity(self.users.len());
        for entry in self.users.iter() {
            let role = match &entry.call {
                CallState::Idle => None,
                CallState::Calling { peer, call_id, ring_deadline } => {
                    ringing_callers += 1;
                    if ring_deadlines.get(&(*ring_deadline, *call_id)) != Some(&entry.identity) {
                        return Err(format!(
                            "{} calls {peer} (call {call_id}) without its ring deadline",
                            entry.identity
                        ));
                    }
                    Some((peer.clone(), *call_id, "calling"))
                }
                CallState::Ringing { peer, call_id } => Some((peer.clone(), *call_id, "ringing")),
                CallState::InCall { peer, call_id } => Some((peer.clone(), *call_id, "in_call")),
                // One-sided by design: the peer has not said it is in this call yet.
                CallState::Resuming { .. } => None,
            };
            snapshot.push((entry.identity.clone(), role));
        }
        if ring_deadlines.len() != ringing_callers {
            return Err(format!("{} ring deadlines for {ringing_callers} calls ringing", ring_deadlines.len()));
        }
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
