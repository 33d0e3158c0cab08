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

use super::calls::unix_millis;
use super::keys::{self, script};
use super::leases_lua::{CLAIM, DEAD_NODES, RELEASE, SWEEP};
use super::reply::{array, at, connection, ended_call, required, text};
use super::{parse_node, ClusterError, ConnectionManager};
use crate::address::{ConnectionId, ConnectionRef, NodeId};
pub use crate::directory::FreedName;
use crate::directory::{EndedCall, EndedWait, Identity, Released, Resumption};
use protocol::UserName;
use redis::{Script, Value};
use std::time::Duration;
use std::time::Instant;

/// What a claim did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The name is now held by the claimer. `freed`: stale records (of dead nodes) that held the
    /// name or its shape, freed by this claim; their calls' peers must be told.
    /// On a takeover naming a peer, `resumption` says whether it waits or was paired; `ended_waits`:
    /// the waits of others for this name that it ended.
    Won { freed: Vec<FreedName>, resumption: Resumption, ended_waits: Vec<EndedWait> },
    /// A live holder has this name or a look-alike; `in_use` is its display form.
    Taken { in_use: UserName },
    /// A takeover moved the name: `display` is the registered display form, `previous` the
    /// holder to close (`None` if the name was away), `ended_call` its call, ended, unless the
    /// takeover named its peer: then `resumption` says what became of the kept call. (Resume
    /// tokens are stateless and checked by the session, `resume_token.rs`: nothing about them
    /// is stored here.)
    Replaced {
        display: UserName,
        previous: Option<ConnectionRef>,
        ended_call: Option<EndedCall>,
        resumption: Resumption,
        ended_waits: Vec<EndedWait>,
    },
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
        self.run_claim(name, connection, "claim", None).await
    }

    /// Moves `name` to `connection` of this node whoever holds it (the caller has checked a
    /// stateless resume token), returning the previous holder; a name nobody holds is claimed.
    pub async fn take_over(&self, name: &Identity, connection: ConnectionId) -> Result<Claim, ClusterError> {
        self.run_claim(name, connection, "takeover", None).await
    }

    /// [`NameLeases::take_over`] by a client that says it is still in a call with `in_call_with`:
    /// its call is kept if that is its peer and the call was connected (held); otherwise it is
    /// paired with that peer if it waits for this name, or waits for it until `grace_deadline`.
    pub async fn take_over_in_call(
        &self,
        name: &Identity,
        connection: ConnectionId,
        in_call_with: Option<&Identity>,
        grace_deadline: Instant,
    ) -> Result<Claim, ClusterError> {
        self.run_claim(name, connection, "takeover", in_call_with.map(|peer| (peer, grace_deadline))).await
    }

    /// After this node's lease lapsed: keeps `name` for `connection` if the record still names
    /// it (nobody swept or claimed it meanwhile), else claims it as [`NameLeases::claim`] does.
    pub async fn reclaim(&self, name: &Identity, connection: ConnectionId) -> Result<Claim, ClusterError> {
        self.run_claim(name, connection, "reclaim", None).await
    }

    async fn run_claim(
        &self,
        name: &Identity,
        connection: ConnectionId,
        mode: &str,
        in_call_with: Option<(&Identity, Instant)>,
    ) -> Result<Claim, ClusterError> {
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
            .arg(in_call_with.map_or("", |(peer, _)| peer.key().as_str()))
            .arg(in_call_with.map_or("", |(peer, _)| peer.display().as_str()))
            .arg(in_call_with.map_or(0, |(_, grace)| unix_millis(grace)))
            .invoke_async(&mut self.redis.clone())
            .await?;
        let items = array(&reply)?;
        match required(items, 0)?.as_str() {
            "lapsed" => Err(ClusterError::LeaseLapsed),
            "taken" => Ok(Claim::Taken { in_use: UserName::from_wire(required(items, 1)?) }),
            "won" => {
                let mut freed = Vec::new();
                for stale in [at(items, 1), at(items, 2)] {
                    freed.extend(freed_name(stale)?);
                }
                Ok(Claim::Won { freed, resumption: resumption(at(items, 3))?, ended_waits: ended_waits(at(items, 4))? })
            }
            "replaced" => Ok(Claim::Replaced {
                display: UserName::from_wire(required(items, 1)?),
                previous: super::reply::connection(at(items, 2), at(items, 3))?,
                ended_call: ended_call(at(items, 4))?,
                resumption: resumption(at(items, 5))?,
                ended_waits: ended_waits(at(items, 6))?,
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
        Ok(self.release_or_hold(name, holder, None).await?.map(|released| released.ended_call))
    }

    /// [`NameLeases::release`], or with `hold_until`, for a user in a connected call: keeps the
    /// name away and its call held until then (see `Directory::release`).
    pub async fn release_or_hold(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        hold_until: Option<Instant>,
    ) -> Result<Option<Released>, ClusterError> {
        let reply: Value = self
            .release
            .key(keys::name(name.key()))
            .key(keys::graces())
            .arg(name.key().as_str())
            .arg(holder.node.to_string())
            .arg(holder.connection)
            .arg(hold_until.map_or_else(String::new, |until| unix_millis(until).to_string()))
            .invoke_async(&mut self.redis.clone())
            .await?;
        let items = array(&reply)?;
        Ok(match required(items, 0)?.as_str() {
            "1" => Some(Released { held: false, ended_call: ended_call(at(items, 1))? }),
            "2" => Some(Released { held: true, ended_call: None }),
            _ => None,
        })
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

/// The claim's `resumed`: nil, `{'peer_away', display}`, `{'restored', display, node, conn}`
/// (the held call), `{'paired', display, node, conn}` (two waits) or `{'waiting', display}`.
fn resumption(value: &Value) -> Result<Resumption, ClusterError> {
    if matches!(value, Value::Nil) {
        return Ok(Resumption::None);
    }
    let items = array(value)?;
    let peer = Identity::new(UserName::from_wire(required(items, 1)?));
    Ok(match required(items, 0)?.as_str() {
        "peer_away" => Resumption::PeerAway { peer },
        "restored" | "paired" => Resumption::Restored {
            peer,
            peer_connection: connection_of(at(items, 2), at(items, 3))?,
            new_pairing: required(items, 0)? == "paired",
        },
        "waiting" => Resumption::Waiting { peer },
        other => return Err(ClusterError::Corrupt(format!("resumption {other:?}"))),
    })
}

/// The result of the Lua `end_waits`.
fn ended_waits(value: &Value) -> Result<Vec<EndedWait>, ClusterError> {
    if matches!(value, Value::Nil) {
        return Ok(Vec::new());
    }
    let mut ended = Vec::new();
    for wait in array(value)? {
        let items = array(wait)?;
        ended.push(EndedWait {
            waiter: Identity::new(UserName::from_wire(required(items, 0)?)),
            waiter_connection: connection_of(at(items, 1), at(items, 2))?,
        });
    }
    Ok(ended)
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
