//! [`RedisDirectory`]: every `Directory` method's behaviour on Redis, as async fns, built from
//! [`NameLeases`] (names) and [`CallRecords`] (calls). One per node: it claims names for
//! connections of its own node, reached through `DirectoryBackend::Redis`; the
//! conformance suite (`directory/conformance/`) runs against it.
//!
//! The online list reads the index `{duet}:online` (a sorted set of `DISPLAY\0KEY`, kept by the
//! claim script and `free_name`), in display order, skipping the names of dead nodes not swept
//! yet: O(the names returned), not O(the keyspace). The count and the lookup of one name are
//! cheap; the call counts of the metrics are two set sizes.

use super::calls::{CallRecords, CallResult};
use super::keys::{self, script};
use super::leases::{Claim, NameLeases};
use super::{ClusterError, ConnectionManager};
use crate::address::{ConnectionRef, NodeId};
use crate::directory::{
    takeover_peer, CallAnswered, CallStarted, ClaimError, ClaimRequest, Claimed, EndedCall, ExpiredGrace, ExpiredRing,
    Identity, Released,
};
use protocol::UserName;
use redis::Script;
use std::time::{Duration, Instant};

/// Display forms of live holders, in display order, without the key ARGV[1]: at most ARGV[2],
/// read from the index KEYS[1] in pages (names of dead nodes not swept yet are skipped).
const ONLINE: &str = r#"
local online, limit, start, page = {}, tonumber(ARGV[2]), 0, 256
while #online < limit do
  local entries = redis.call('ZRANGE', KEYS[1], start, start + page - 1)
  for _, entry in ipairs(entries) do
    local display, key = string.match(entry, '^(.*)%z(.*)$')
    if key and key ~= ARGV[1] and live(redis.call('HGET', P .. 'name:' .. key, 'node')) then
      table.insert(online, display)
      if #online >= limit then break end
    end
  end
  if #entries < page then break end
  start = start + page
end
return online
"#;

/// Names held by live nodes: the sum of their name sets (dead nodes' names are stale).
const COUNT: &str = r#"
local count = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if live(node) then count = count + redis.call('SCARD', P .. 'node:' .. node .. ':names') end
end
return count
"#;

/// The display form held under KEYS[1] by a live node, or nil.
const NAME: &str = r#"
local held = redis.call('HMGET', KEYS[1], 'display', 'node')
if held[1] and live(held[2]) then return held[1] end
return false
"#;

/// For each KEYS[i] (a name record): the display form held by a live node, or false.
const NAMES: &str = r#"
local displays = {}
for index, record in ipairs(KEYS) do
  local held = redis.call('HMGET', record, 'display', 'node')
  displays[index] = (held[1] and live(held[2])) and held[1] or false
end
return displays
"#;

/// The shared directory as one node sees it.
#[derive(Debug, Clone)]
pub struct RedisDirectory {
    leases: NameLeases,
    calls: CallRecords,
    redis: ConnectionManager,
    online: Script,
    count: Script,
    name: Script,
    names: Script,
}

impl RedisDirectory {
    /// The directory of `node`; its lease lives `ttl` after each [`NameLeases::heartbeat`].
    pub fn new(redis: ConnectionManager, node: NodeId, ttl: Duration) -> RedisDirectory {
        RedisDirectory {
            leases: NameLeases::new(redis.clone(), node, ttl),
            calls: CallRecords::new(redis.clone()),
            redis,
            online: script(ONLINE),
            count: script(COUNT),
            name: script(NAME),
            names: script(NAMES),
        }
    }

    pub fn leases(&self) -> &NameLeases {
        &self.leases
    }

    pub fn calls(&self) -> &CallRecords {
        &self.calls
    }

    /// See `Directory::claim`. `holder` must be a connection of this directory's node. The
    /// stale holders (of dead nodes) that this claim freed are in
    /// [`Claimed::stale_holders_freed`]: the peers of their calls must be told `disconnected`,
    /// as for the names of a swept node (the sweep will not see these any more).
    ///
    /// Held calls follow `MemoryDirectory`'s rules (`directory/memory/sign_in.rs`) in the claim
    /// script: a takeover naming its peer keeps a connected call, or pairs with a wait, or waits.
    pub async fn claim(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        request: &ClaimRequest,
    ) -> Result<Result<Claimed, ClaimError>, ClusterError> {
        if holder.node != self.leases.node() {
            return Err(ClusterError::Corrupt(format!("{holder} is not on node {}", self.leases.node())));
        }
        let claim = match request {
            ClaimRequest::Takeover { in_call_with, grace_deadline } => {
                let peer = takeover_peer(name, in_call_with.as_ref());
                self.leases.take_over_in_call(name, holder.connection, peer.as_ref(), *grace_deadline).await?
            }
            ClaimRequest::Fresh => self.leases.claim(name, holder.connection).await?,
        };
        Ok(match claim {
            Claim::Won { freed, resumption, ended_waits } => {
                let claimed = Claimed {
                    identity: name.clone(),
                    newly_online: true,
                    replaced: None,
                    ended_call: None,
                    resumption,
                    ended_waits,
                    stale_holders_freed: freed,
                };
                Ok(claimed)
            }
            Claim::Taken { in_use } => Err(ClaimError::Taken { requested: name.display().clone(), in_use }),
            Claim::Replaced { display, previous, ended_call, resumption, ended_waits } => {
                let identity = if &display == name.display() { name.clone() } else { Identity::new(display) };
                let claimed = Claimed {
                    identity,
                    newly_online: false,
                    replaced: previous,
                    ended_call,
                    resumption,
                    ended_waits,
                    stale_holders_freed: Vec::new(),
                };
                Ok(claimed)
            }
        })
    }

    /// See `Directory::release`: with `hold_until`, a user in a connected call is kept away
    /// (its name record's `away`, the deadline in `{duet}:graces`), its call held.
    pub async fn release(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        hold_until: Option<Instant>,
    ) -> Result<Option<Released>, ClusterError> {
        self.leases.release_or_hold(name, holder, hold_until).await
    }

    pub async fn next_grace_deadline(&self) -> Result<Option<Instant>, ClusterError> {
        self.calls.next_grace_deadline().await
    }

    pub async fn expire_graces(&self, now: Instant) -> Result<Vec<ExpiredGrace>, ClusterError> {
        self.calls.expire_graces(now).await
    }

    /// See `Directory::online_count`: cluster-wide, one set size per live node (cheap enough
    /// for `duet_users_online` at scrape time).
    pub async fn online_count(&self) -> Result<usize, ClusterError> {
        let count: usize = self.count.key(keys::nodes()).invoke_async(&mut self.redis.clone()).await?;
        Ok(count)
    }

    /// See `Directory::online_name`: one record read.
    pub async fn online_name(&self, name: &UserName) -> Result<Option<UserName>, ClusterError> {
        let display: Option<String> =
            self.name.key(keys::name(&name.key())).invoke_async(&mut self.redis.clone()).await?;
        Ok(display.map(UserName::from_wire))
    }

    /// The display form of each of `names` held by a live node (`None`: offline), in order: one
    /// script for a presence flush's whole batch.
    pub async fn online_displays(&self, names: &[Identity]) -> Result<Vec<Option<UserName>>, ClusterError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = self.names.prepare_invoke();
        for name in names {
            invocation.key(keys::name(name.key()));
        }
        let displays: Vec<Option<String>> = invocation.invoke_async(&mut self.redis.clone()).await?;
        Ok(displays.into_iter().map(|display| display.map(UserName::from_wire)).collect())
    }

    /// See `Directory::online_names`: from the index, in display order (byte order of the
    /// display forms, as `UserName`'s `Ord`).
    pub async fn online_names(&self, except: Option<&Identity>, limit: usize) -> Result<Vec<UserName>, ClusterError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let except = except.map_or("", |except| except.key().as_str());
        let names: Vec<String> =
            self.online.key(keys::online()).arg(except).arg(limit).invoke_async(&mut self.redis.clone()).await?;
        Ok(names.into_iter().map(UserName::from_wire).collect())
    }

    /// Calls ringing and calls connected in the whole cluster (`duet_calls_ringing` and
    /// `duet_calls_active` in cluster mode, at scrape time): two set sizes.
    pub async fn call_counts(&self) -> Result<(usize, usize), ClusterError> {
        let counts: (usize, usize) =
            redis::pipe().zcard(keys::rings()).scard(keys::connected()).query_async(&mut self.redis.clone()).await?;
        Ok(counts)
    }

    pub async fn start_call(
        &self,
        caller: &Identity,
        holder: ConnectionRef,
        target: &UserName,
        ring_deadline: Instant,
    ) -> CallResult<CallStarted> {
        self.calls.start_call(caller, holder, target, ring_deadline).await
    }

    pub async fn answer_call(
        &self,
        callee: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> CallResult<CallAnswered> {
        self.calls.answer_call(callee, holder, target).await
    }

    pub async fn end_call(
        &self,
        user: &Identity,
        holder: ConnectionRef,
        expected_peer: Option<&UserName>,
    ) -> CallResult<EndedCall> {
        self.calls.end_call(user, holder, expected_peer).await
    }

    pub async fn relay_target(
        &self,
        sender: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> CallResult<ConnectionRef> {
        self.calls.relay_target(sender, holder, target).await
    }

    pub async fn next_ring_deadline(&self) -> Result<Option<Instant>, ClusterError> {
        self.calls.next_ring_deadline().await
    }

    pub async fn expire_rings(&self, now: Instant) -> Result<Vec<ExpiredRing>, ClusterError> {
        self.calls.expire_rings(now).await
    }

    pub async fn check_consistency(&self) -> Result<Result<(), String>, ClusterError> {
        self.calls.check_consistency().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::connect;
    use crate::cluster::test_redis::TestRedis;
    use crate::directory::ClaimRequest;

    const TTL: Duration = Duration::from_millis(600);

    async fn node(url: &str, raw: u64) -> RedisDirectory {
        let directory = RedisDirectory::new(connect(url).await.expect("redis"), NodeId::from_raw(raw), TTL);
        directory.leases().heartbeat().await.expect("heartbeat");
        directory
    }

    async fn sign_in(directory: &RedisDirectory, name: &str, connection: u64) {
        let holder = ConnectionRef { node: directory.leases().node(), connection };
        let identity = Identity::new(UserName::from_wire(name));
        directory.claim(&identity, holder, &ClaimRequest::Fresh).await.expect("redis").expect("free");
    }

    async fn listed(directory: &RedisDirectory, except: Option<&str>, limit: usize) -> Vec<String> {
        let except = except.map(|name| Identity::new(UserName::from_wire(name)));
        let names = directory.online_names(except.as_ref(), limit).await.expect("redis");
        names.iter().map(|name| name.as_str().to_owned()).collect()
    }

    async fn indexed(redis: &mut ConnectionManager) -> usize {
        redis::cmd("ZCARD").arg(keys::online()).query_async(redis).await.expect("redis")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_online_list_is_an_index_without_keys_scans_that_skips_dead_nodes_and_loses_freed_names() {
        let redis = TestRedis::start();
        let mut admin = connect(&redis.url()).await.expect("redis");
        // Scripts run with their caller's rights: with KEYS forbidden, a scan would fail.
        let _: () =
            redis::cmd("ACL").arg("SETUSER").arg("default").arg("-keys").query_async(&mut admin).await.expect("acl");
        let scan = redis::cmd("KEYS").arg("*").query_async::<Vec<String>>(&mut admin).await;
        assert!(scan.is_err(), "KEYS is forbidden");
        let (node_a, node_b) = (node(&redis.url(), 0xa).await, node(&redis.url(), 0xb).await);
        for (connection, name) in ["dave", "bob"].into_iter().enumerate() {
            sign_in(&node_a, name, connection as u64).await;
        }
        for (connection, name) in ["carol", "alice"].into_iter().enumerate() {
            sign_in(&node_b, name, connection as u64).await;
        }
        assert_eq!(listed(&node_b, None, 10).await, ["alice", "bob", "carol", "dave"]);
        assert_eq!(listed(&node_b, Some("BOB"), 10).await, ["alice", "carol", "dave"], "the asker by key");
        assert_eq!(listed(&node_b, Some("alice"), 2).await, ["bob", "carol"]);

        // Node A stops heartbeating: its names leave the list at once, and the index once swept.
        while node_a.leases().lease_is_live().await.expect("redis") {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        node_b.leases().heartbeat().await.expect("heartbeat");
        assert_eq!(listed(&node_b, None, 10).await, ["alice", "carol"]);
        assert_eq!(indexed(&mut admin).await, 4, "not swept yet");
        let swept = node_b.leases().sweep_dead_node(node_a.leases().node()).await.expect("redis");
        assert_eq!(swept.len(), 2);
        assert_eq!(indexed(&mut admin).await, 2);
        let carol = Identity::new(UserName::from_wire("carol"));
        let holder = ConnectionRef { node: node_b.leases().node(), connection: 0 };
        assert!(node_b.release(&carol, holder, None).await.expect("redis").is_some());
        assert_eq!(indexed(&mut admin).await, 1);
        assert_eq!(listed(&node_b, None, 10).await, ["alice"]);
    }
}
