//! Where a connection is, as plain data: the node (server process) that holds it and its id
//! there. A leaf: the directory stores these for every name online, the router turns them back
//! into local connections, and neither has to know the other.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Unique per connection for the lifetime of the process (and, with its [`NodeId`], across
/// nodes).
pub type ConnectionId = u64;

static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id for a new connection of this process.
pub fn next_connection_id() -> ConnectionId {
    NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed)
}

/// One server process of a (future) cluster. Generated at start-up: two processes, or two runs of
/// one, never share an id, so a connection reference can never point into a previous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeId(u64);

impl NodeId {
    /// A random id for this process.
    pub fn generate() -> NodeId {
        let mut bytes = [0u8; 8];
        // The OS random source does not fail on supported platforms; a fixed id would only
        // matter once several nodes share a directory.
        let _ = getrandom::fill(&mut bytes);
        NodeId(u64::from_le_bytes(bytes))
    }

    /// A given id (tests, and later an operator's `--node-id`).
    pub const fn from_raw(raw: u64) -> NodeId {
        NodeId(raw)
    }

    /// The id as a number (as [`NodeId::from_raw`] takes it).
    pub const fn to_raw(self) -> u64 {
        self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:016x}", self.0)
    }
}

/// Which connection on which node: what the directory keeps for a name online. `Copy`, two words:
/// relaying copies it out of the directory without touching any shared counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionRef {
    pub node: NodeId,
    pub connection: ConnectionId,
}

impl fmt::Display for ConnectionRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.node, self.connection)
    }
}
