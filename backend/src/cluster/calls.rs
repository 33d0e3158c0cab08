//! Call records on Redis: the two-user transitions of the directory (offer with busy and glare
//! checks, answer, renegotiation, end, ring deadlines) as Lua scripts, with the same rules and
//! result types as `MemoryDirectory` (the conformance suite's scenarios run against both).
//!
//! Stored: one hash per call (`{duet}:call:ID`: caller and callee name keys and display forms,
//! phase `ringing` or `connected`, deadline), each user's current call id in their name record
//! (`{duet}:name:KEY`, field `call`, see `leases.rs`), and the calls still ringing in a sorted
//! set by deadline (`{duet}:rings`, unix milliseconds: deadlines are data, one sweep per node
//! calls [`CallRecords::expire_rings`], and the script hands each expired call to one node).
//!
//! Invariants, each kept by every script (checked by [`CallRecords::check_consistency`]): a
//! user's `call` names a call record they are a party of, and the other party's `call` names
//! the same call; a call is in the ring set exactly while its phase is `ringing`. All keys carry
//! the `{duet}` hash tag, so a script's keys, including the call record and the peer's name
//! record it discovers while running, are in one Redis Cluster slot.

use super::calls_lua::{ANSWER, CHECK, END, EXPIRE, EXPIRE_GRACES, RELAY, START};
use super::keys::{self, script};
use super::reply::{array, at, connection, ended_call, required, text};
use super::{ClusterError, ConnectionManager};
use crate::address::ConnectionRef;
use crate::directory::{
    Answered, CallAnswered, CallError, CallId, CallStarted, EndedCall, ExpiredGrace, ExpiredRing, Identity, Offered,
};
use protocol::{NameKey, UserName};
use redis::{Script, Value};
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A call operation's outcome: refused with the same [`CallError`]s as in memory, or the
/// cluster directory could not be reached.
pub type CallResult<T> = Result<Result<T, CallError>, ClusterError>;

/// The call transitions of the cluster directory (clone freely: one shared connection).
#[derive(Debug, Clone)]
pub struct CallRecords {
    redis: ConnectionManager,
    start: Script,
    answer: Script,
    end: Script,
    relay: Script,
    expire: Script,
    expire_graces: Script,
    check: Script,
}

impl CallRecords {
    pub fn new(redis: ConnectionManager) -> CallRecords {
        CallRecords {
            redis,
            start: script(START),
            answer: script(ANSWER),
            end: script(END),
            relay: script(RELAY),
            expire: script(EXPIRE),
            expire_graces: script(EXPIRE_GRACES),
            check: script(CHECK),
        }
    }

    /// See `Directory::start_call`.
    pub async fn start_call(
        &self,
        caller: &Identity,
        holder: ConnectionRef,
        target: &UserName,
        ring_deadline: Instant,
    ) -> CallResult<CallStarted> {
        let not_found = || CallError::UserNotFound(target.clone());
        let Some(target_key) = NameKey::of_target(target.as_str()) else { return Ok(Err(not_found())) };
        if caller.key() == &target_key {
            return Ok(Err(CallError::CannotCallSelf));
        }
        let reply: Value = self
            .start
            .key(keys::name(caller.key()))
            .key(keys::name(&target_key))
            .key(keys::next_call())
            .key(keys::rings())
            .arg(caller.key().as_str())
            .arg(target_key.as_str())
            .arg(holder.node.to_string())
            .arg(holder.connection)
            .arg(unix_millis(ring_deadline))
            .invoke_async(&mut self.redis.clone())
            .await?;
        let items = array(&reply)?;
        let display = |index| required(items, index).map(UserName::from_wire);
        Ok(match required(items, 0)?.as_str() {
            "no_call" => Err(CallError::NoCall),
            "not_found" => Err(not_found()),
            "busy" => Err(CallError::Busy(display(1)?)),
            "already" => Err(CallError::AlreadyInCall(display(1)?)),
            "unavailable" => Err(CallError::PeerUnavailable(display(1)?)),
            "renegotiation" => Ok(CallStarted {
                outcome: Offered::Renegotiation,
                callee: Identity::new(display(1)?),
                callee_connection: held_by(at(items, 2), at(items, 3))?,
            }),
            "new" => Ok(CallStarted {
                outcome: Offered::NewCall(call_id(&required(items, 1)?)?),
                callee: Identity::new(display(2)?),
                callee_connection: held_by(at(items, 3), at(items, 4))?,
            }),
            other => return Err(ClusterError::Corrupt(format!("start answered {other:?}"))),
        })
    }

    /// See `Directory::answer_call`.
    pub async fn answer_call(
        &self,
        callee: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> CallResult<CallAnswered> {
        let not_in_call = || CallError::NotInCall(target.clone());
        let Some(target_key) = NameKey::of_target(target.as_str()) else { return Ok(Err(not_in_call())) };
        let reply: Value = self
            .answer
            .key(keys::name(callee.key()))
            .key(keys::rings())
            .arg(callee.key().as_str())
            .arg(target_key.as_str())
            .arg(holder.node.to_string())
            .arg(holder.connection)
            .invoke_async(&mut self.redis.clone())
            .await?;
        let items = array(&reply)?;
        let display = |index| required(items, index).map(UserName::from_wire);
        Ok(match required(items, 0)?.as_str() {
            "no_call" => Err(CallError::NoCall),
            "not_in_call" => Err(not_in_call()),
            "unavailable" => Err(CallError::PeerUnavailable(display(1)?)),
            "connected" => Ok(CallAnswered {
                outcome: Answered::Connected(call_id(&required(items, 1)?)?),
                caller: Identity::new(display(2)?),
                caller_connection: held_by(at(items, 3), at(items, 4))?,
            }),
            "renegotiation" => Ok(CallAnswered {
                outcome: Answered::Renegotiation,
                caller: Identity::new(display(1)?),
                caller_connection: held_by(at(items, 2), at(items, 3))?,
            }),
            other => return Err(ClusterError::Corrupt(format!("answer answered {other:?}"))),
        })
    }

    /// See `Directory::end_call`.
    pub async fn end_call(
        &self,
        user: &Identity,
        holder: ConnectionRef,
        expected_peer: Option<&UserName>,
    ) -> CallResult<EndedCall> {
        let expected_key = expected_peer.and_then(|expected| NameKey::of_target(expected.as_str()));
        let reply: Value = self
            .end
            .key(keys::name(user.key()))
            .arg(user.key().as_str())
            .arg(holder.node.to_string())
            .arg(holder.connection)
            .arg(if expected_peer.is_some() { "1" } else { "0" })
            .arg(expected_key.as_ref().map_or("", NameKey::as_str))
            .invoke_async(&mut self.redis.clone())
            .await?;
        let items = array(&reply)?;
        Ok(match required(items, 0)?.as_str() {
            "no_call" => Err(CallError::NoCall),
            "not_in_call" => {
                Err(CallError::NotInCall(expected_peer.cloned().unwrap_or_else(|| UserName::from_wire(""))))
            }
            "ended" => Ok(EndedCall {
                peer: Identity::new(UserName::from_wire(required(items, 1)?)),
                phase: super::reply::phase(&required(items, 2)?)?,
                peer_connection: connection(at(items, 3), at(items, 4))?,
                peer_name_freed: text(at(items, 5))?.is_some(),
            }),
            other => return Err(ClusterError::Corrupt(format!("end answered {other:?}"))),
        })
    }

    /// See `Directory::relay_target`. One script per relayed frame: the wiring should cache a
    /// call's peer connection locally and come here only when it changes.
    pub async fn relay_target(
        &self,
        sender: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> CallResult<ConnectionRef> {
        let not_in_call = || CallError::NotInCall(target.clone());
        let Some(target_key) = NameKey::of_target(target.as_str()) else { return Ok(Err(not_in_call())) };
        let reply: Value = self
            .relay
            .key(keys::name(sender.key()))
            .arg(sender.key().as_str())
            .arg(holder.node.to_string())
            .arg(holder.connection)
            .arg(target_key.as_str())
            .invoke_async(&mut self.redis.clone())
            .await?;
        if matches!(reply, Value::Nil) {
            return Ok(Err(not_in_call()));
        }
        let items = array(&reply)?;
        if text(at(items, 0))?.as_deref() == Some("unavailable") {
            return Ok(Err(CallError::PeerUnavailable(UserName::from_wire(required(items, 1)?))));
        }
        Ok(Ok(held_by(at(items, 0), at(items, 1))?))
    }

    /// See `Directory::next_ring_deadline` (to the millisecond).
    pub async fn next_ring_deadline(&self) -> Result<Option<Instant>, ClusterError> {
        self.earliest_deadline(keys::rings()).await
    }

    /// The lowest score of the deadline set `key` (unix milliseconds), as an instant.
    async fn earliest_deadline(&self, key: String) -> Result<Option<Instant>, ClusterError> {
        let first: Vec<(String, f64)> =
            redis::cmd("ZRANGE").arg(key).arg(0).arg(0).arg("WITHSCORES").query_async(&mut self.redis.clone()).await?;
        Ok(first.first().map(|(_, millis)| instant_of_unix_millis(*millis as i64)))
    }

    /// See `Directory::expire_rings`. Atomic: of several nodes sweeping, each expired call goes
    /// to one of them, which tells both parties.
    pub async fn expire_rings(&self, now: Instant) -> Result<Vec<ExpiredRing>, ClusterError> {
        let reply: Value =
            self.expire.key(keys::rings()).arg(unix_millis(now)).invoke_async(&mut self.redis.clone()).await?;
        let mut expired = Vec::new();
        for ring in array(&reply)? {
            let items = array(ring)?;
            expired.push(ExpiredRing {
                call_id: call_id(&required(items, 0)?)?,
                caller: Identity::new(UserName::from_wire(required(items, 1)?)),
                caller_connection: held_by(at(items, 2), at(items, 3))?,
                callee: Identity::new(UserName::from_wire(required(items, 4)?)),
                callee_connection: connection(at(items, 5), at(items, 6))?,
            });
        }
        Ok(expired)
    }

    /// See `Directory::next_grace_deadline` (to the millisecond): the earliest hold's or wait's.
    pub async fn next_grace_deadline(&self) -> Result<Option<Instant>, ClusterError> {
        self.earliest_deadline(keys::graces()).await
    }

    /// See `Directory::expire_graces`. Atomic: of several nodes sweeping, each expired hold
    /// goes to one of them, which tells the peer.
    pub async fn expire_graces(&self, now: Instant) -> Result<Vec<ExpiredGrace>, ClusterError> {
        let reply: Value =
            self.expire_graces.key(keys::graces()).arg(unix_millis(now)).invoke_async(&mut self.redis.clone()).await?;
        let mut expired = Vec::new();
        for grace in array(&reply)? {
            let items = array(grace)?;
            let name = Identity::new(UserName::from_wire(required(items, 1)?));
            expired.push(match required(items, 0)?.as_str() {
                "away" => ExpiredGrace::Away { name, ended_call: ended_call(at(items, 2))? },
                _ => ExpiredGrace::Wait {
                    waiter: name,
                    waiter_connection: held_by(at(items, 2), at(items, 3))?,
                    peer: Identity::new(UserName::from_wire(required(items, 4)?)),
                },
            });
        }
        Ok(expired)
    }

    /// See `Directory::check_consistency`: reads every directory key (tests only).
    pub async fn check_consistency(&self) -> Result<Result<(), String>, ClusterError> {
        let reply: Value = self.check.prepare_invoke().invoke_async(&mut self.redis.clone()).await?;
        let problem = text(&reply)?.unwrap_or_default();
        Ok(if problem.is_empty() { Ok(()) } else { Err(problem) })
    }
}

fn held_by(node: &Value, conn: &Value) -> Result<ConnectionRef, ClusterError> {
    connection(node, conn)?.ok_or_else(|| ClusterError::Corrupt("a party without its connection".into()))
}

fn call_id(text: &str) -> Result<CallId, ClusterError> {
    text.parse().map_err(|_| ClusterError::Corrupt(format!("call id {text:?}")))
}

/// This process's pair of clocks: deadlines are `Instant`s here and wall-clock milliseconds in
/// Redis (shared by nodes whose clocks agree, as NTP keeps them, to well under a ring timeout).
static CLOCKS: LazyLock<(Instant, SystemTime)> = LazyLock::new(|| (Instant::now(), SystemTime::now()));

pub(crate) fn unix_millis(instant: Instant) -> i64 {
    let (anchor, wall) = *CLOCKS;
    let wall = match instant.checked_duration_since(anchor) {
        Some(after) => wall + after,
        None => wall - anchor.duration_since(instant),
    };
    wall.duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

/// `instant` rounded down to what Redis stores (tests compare deadlines read back).
#[cfg(test)]
pub(crate) fn whole_millis(instant: Instant) -> Instant {
    instant_of_unix_millis(unix_millis(instant))
}

fn instant_of_unix_millis(millis: i64) -> Instant {
    let (anchor, wall) = *CLOCKS;
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0));
    match at.duration_since(wall) {
        Ok(after) => anchor + after,
        Err(before) => anchor.checked_sub(before.duration()).unwrap_or(anchor),
    }
}

#[cfg(test)]
#[path = "calls_tests.rs"]
mod tests;
