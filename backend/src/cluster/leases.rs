//! Name leases: who holds each name across the cluster. A name record (`{duet}:name:KEY`)
//! points at a node and a connection; the node's lease (`{duet}:node:ID`, `SET … PX ttl`) is
//! renewed by one heartbeat per node (not per name), and a name whose node's lease has expired
//! counts as free: the next claim of it (or of a look-alike) frees the stale record, and a
//! survivor's [`NameLeases::sweep_dead_node`] frees all of a dead node's names at once and
//! returns them (with their calls, ended) so it can tell their peers.
//!
//! Invariants (each transition is one Lua script, so they hold between scripts): a name record
//! is in its node's set and holds its shape key; no two live records share a key or a shape
//! (the directory keys names by [`Identity`]: key and shape are both unique across the
//! cluster); only the holder (node and connection) releases a name; a takeover (resume) moves
//! the record and returns the previous holder. A node whose own lease has lapsed claims nothing
//! ([`ClusterError::LeaseLapsed`]) until a heartbeat renews it.

use super::keys::{self, script};
use super::reply::{array, at, connection, ended_call, required, text};
use super::{parse_node, ClusterError, ConnectionManager};
use crate::address::{ConnectionId, ConnectionRef, NodeId};
pub use crate::directory::FreedName;
use crate::directory::{EndedCall, Identity};
use protocol::UserName;
use redis::{Script, Value};
use std::time::Duration;

const CLAIM: &str = r#"
if redis.call('EXISTS', KEYS[4]) == 0 then return {'lapsed'} end
local key, shape, display, node, conn, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local held = redis.call('HMGET', KEYS[1], 'display', 'node', 'conn', 'call')
if held[1] and mode == 'reclaim' and held[2] == node and held[3] == conn then
  redis.call('SADD', KEYS[3], key)
  return {'won'}
end
if held[1] and mode == 'takeover' then
  redis.call('SREM', P .. 'node:' .. held[2] .. ':names', key)
  redis.call('HSET', KEYS[1], 'node', node, 'conn', conn)
  redis.call('HDEL', KEYS[1], 'call')
  redis.call('SADD', KEYS[3], key)
  local ended = false
  if held[4] then ended = end_call(held[4], key) end
  return {'replaced', held[1], held[2], held[3], ended}
end
if held[1] and live(held[2]) then return {'taken', held[1]} end
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= key then
  local other = redis.call('HMGET', P .. 'name:' .. owner, 'display', 'node')
  if other[1] and live(other[2]) then return {'taken', other[1]} end
end
local stale_name, stale_shape = false, false
if held[1] then stale_name = free_name(key) end
if owner and owner ~= key then stale_shape = free_name(owner) end
redis.call('HSET', KEYS[1], 'display', display, 'shape', shape, 'node', node, 'conn', conn)
redis.call('SET', KEYS[2], key)
redis.call('SADD', KEYS[3], key)
return {'won', stale_name, stale_shape}
"#;

const RELEASE: &str = r#"
local held = redis.call('HMGET', KEYS[1], 'node', 'conn')
if held[1] ~= ARGV[2] or held[2] ~= ARGV[3] then return {0} end
local freed = free_name(ARGV[1])
return {1, freed[4]}
"#;

const DEAD_NODES: &str = r#"
local dead = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not live(node) then table.insert(dead, node) end
end
return dead
"#;

const SWEEP: &str = r#"
if redis.call('EXISTS', KEYS[3]) == 1 then return {} end
local freed = {}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('HGET', P .. 'name:' .. key, 'node') == ARGV[1] then table.insert(freed, free_name(key)) end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[1], ARGV[1])
return freed
"#;

/// What a claim did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The name is now held by the claimer. `freed`: stale records (of dead nodes) that held the
    /// name or its shape, freed by this claim; their calls' peers must be told.
    Won { freed: Vec<FreedName> },
    /// A live holder has this name or a look-alike; `in_use` is its display form.
    Taken { in_use: UserName },
    /// A takeover moved the name: `display` is the registered display form, `previous` the
    /// holder to close, `ended_call` its call, ended. (Resume tokens are stateless and checked
    /// by the session, `resume_token.rs`: nothing about them is stored here.)
    Replaced { display: UserName, previous: ConnectionRef, ended_call: Option<EndedCall> },
}

/// Whether a heartbeat found the lease still live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heartbeat {
    Renewed,
    /// The lease had expired before this heartbeat: others may have claimed this node's names
    /// or swept them; the node must re-claim the names of its live connections.
    Lapsed,
}

/// This node's handle on the cluster's names.
#[derive(Debug, Clone)]
pub struct NameLeases {
    redis: ConnectionManager,
    node: NodeId,
    ttl: Duration,
    claim: Script,
    release: Script,
    dead_nodes: Script,
    sweep: Script,
}

impl NameLeases {
    /// Names for `node`, whose lease lives `ttl` after each heartbeat. Call
    /// [`NameLeases::heartbeat`] before the first claim, then every fraction of `ttl`.
    pub fn new(redis: ConnectionManager, node: NodeId, ttl: Duration) -> NameLeases {
        NameLeases {
            redis,
            node,
            ttl,
            claim: script(CLAIM),
            release: script(RELEASE),
            dead_nodes: script(DEAD_NODES),
            sweep: script(SWEEP),
        }
    }

    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Renews this node's lease for all of its names: one pipeline (`SET … PX ttl GET` and the
    /// node's entry in the set of nodes).
    pub async fn heartbeat(&self) -> Result<Heartbeat, ClusterError> {
        let ttl = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let (previous, _): (Option<String>, i64) = redis::pipe()
            .cmd("SET")
            .arg(keys::node_lease(self.node))
            .arg(self.node.to_string())
            .arg("PX")
            .arg(ttl)
            .arg("GET")
            .sadd(keys::nodes(), self.node.to_string())
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(if previous.is_some() { Heartbeat::Renewed } else { Heartbeat::Lapsed })
    }

    /// Whether this node's lease is live now (claims are accepted).
    pub async fn lease_is_live(&self) -> Result<bool, ClusterError> {
        let exists: bool =
            redis::cmd("EXISTS").arg(keys::node_lease(self.node)).query_async(&mut self.redis.clone()).await?;
        Ok(exists)
    }

    /// Claims `name` for connection `connection` of this node, unless a live holder has it or a
    /// look-alike (same key or same shape).
    pub async fn claim(&self, name: &Identity, connection: ConnectionId) -> Result<Claim, ClusterError> {
        self.run_claim(name, connection, "claim").await
    }

    /// Moves `name` to `connection` of this node whoever holds it (the caller has checked a
    /// stateless resume token), returning the previous holder; a name nobody holds is claimed.
    pub async fn take_over(&self, name: &Identity, connection: ConnectionId) -> Result<Claim, ClusterError> {
        self.run_claim(name, connection, "takeover").await
    }

    /// After this node's lease lapsed: keeps `name` for `connection` if the record still names
    /// it (nobody swept or claimed it meanwhile), else claims it as [`NameLeases::claim`] does.
    pub async fn reclaim(&self, name: &Identity, connection: ConnectionId) -> Result<Claim, ClusterError> {
        self.run_claim(name, connection, "reclaim").await
    }

    async fn run_claim(&self, name: &Identity, connection: ConnectionId, mode: &str) -> Result<Claim, ClusterError> {
        let reply: Value = self
            .claim
            .key(keys::name(name.key()))
            .key(keys::shape(name.shape()))
            .key(keys::node_names(self.node))
            .key(keys::node_lease(self.node))
            .arg(name.key().as_str())
            .arg(name.shape().as_str())
            .arg(name.display().as_str())
            .arg(self.node.to_string())
            .arg(connection)
            .arg(mode)
            .invoke_async(&mut self.redis.clone())
            .await?;
        let items = array(&reply)?;
        match required(items, 0)?.as_str() {
            "lapsed" => Err(ClusterError::LeaseLapsed),
            "taken" => Ok(Claim::Taken { in_use: UserName::from_wire(required(items, 1)?) }),
            "won" => {
                let mut freed = Vec::new();
                for stale in &items[1..] {
                    freed.extend(freed_name(stale)?);
                }
                Ok(Claim::Won { freed })
            }
            "replaced" => Ok(Claim::Replaced {
                display: UserName::from_wire(required(items, 1)?),
                previous: connection_of(at(items, 2), at(items, 3))?,
                ended_call: ended_call(at(items, 4))?,
            }),
            other => Err(ClusterError::Corrupt(format!("claim answered {other:?}"))),
        }
    }

    /// Frees `name` if `holder` holds it (ending its call); `None` if it did not.
    pub async fn release(
        &self,
        name: &Identity,
        holder: ConnectionRef,
    ) -> Result<Option<Option<EndedCall>>, ClusterError> {
        let reply: Value = self
            .release
            .key(keys::name(name.key()))
            .arg(name.key().as_str())
            .arg(holder.node.to_string())
            .arg(holder.connection)
            .invoke_async(&mut self.redis.clone())
            .await?;
        let items = array(&reply)?;
        if required(items, 0)? != "1" {
            return Ok(None);
        }
        Ok(Some(ended_call(at(items, 1))?))
    }

    /// Nodes known to the cluster whose lease has expired (their names are stale).
    pub async fn dead_nodes(&self) -> Result<Vec<NodeId>, ClusterError> {
        let reply: Value = self.dead_nodes.key(keys::nodes()).invoke_async(&mut self.redis.clone()).await?;
        array(&reply)?.iter().map(|node| parse_node(&text(node)?.unwrap_or_default())).collect()
    }

    /// Frees every name of `dead` (whose lease must have expired: a live node is left alone and
    /// nothing is returned) and forgets the node. Atomic: of several survivors sweeping at once,
    /// one gets the list and tells the peers of the ended calls.
    pub async fn sweep_dead_node(&self, dead: NodeId) -> Result<Vec<FreedName>, ClusterError> {
        let reply: Value = self
            .sweep
            .key(keys::nodes())
            .key(keys::node_names(dead))
            .key(keys::node_lease(dead))
            .arg(dead.to_string())
            .invoke_async(&mut self.redis.clone())
            .await?;
        let mut freed = Vec::new();
        for name in array(&reply)? {
            freed.extend(freed_name(name)?);
        }
        Ok(freed)
    }
}

fn connection_of(node: &Value, conn: &Value) -> Result<ConnectionRef, ClusterError> {
    connection(node, conn)?.ok_or_else(|| ClusterError::Corrupt("a name record without its holder".into()))
}

/// The result of the Lua `free_name`: `None` for nil.
fn freed_name(value: &Value) -> Result<Option<FreedName>, ClusterError> {
    if matches!(value, Value::Nil) {
        return Ok(None);
    }
    let items = array(value)?;
    Ok(Some(FreedName {
        display: UserName::from_wire(required(items, 0)?),
        holder: connection_of(at(items, 1), at(items, 2))?,
        ended_call: ended_call(at(items, 3))?,
    }))
}

#[cfg(test)]
#[path = "leases_tests.rs"]
mod tests;
