//! Cluster mode's building blocks on Redis (wired in by `directory_backend` and `cluster_node`): name leases
//! (`leases.rs`), one delivery channel per node (`node_channel.rs`) and call records
//! (`calls.rs`). Each is tested against a real `redis-server` that the test starts itself
//! (`test_redis.rs`).
//!
//! Key layout (`keys.rs`): every directory key carries the hash tag `{duet}`, so each script's
//! keys are in one Redis Cluster slot (a claim checks a name's key and its shape, which hash
//! anywhere; a call touches two users). The price: on Redis Cluster the directory lives on one
//! shard. Frames do not go through keys but through one pub/sub channel per node, and presence
//! changes through one channel all nodes share (`node_channel.rs`).

pub mod calls;
mod calls_lua;
pub mod directory;
mod keys;
pub mod lease_keeper;
pub mod leases;
mod leases_lua;
pub mod node_channel;
mod reply;
#[cfg(test)]
pub mod test_redis;

pub use redis::aio::ConnectionManager;

use crate::address::NodeId;
use std::time::Duration;

/// Why a cluster operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Redis is down, restarting or too slow: the caller answers `unavailable` and may retry.
    #[error("the shared directory (Redis) is unavailable: {0}")]
    Unavailable(#[from] redis::RedisError),
    /// Redis answered something our scripts never write (another program's keys, or a bug).
    #[error("unexpected data in the shared directory: {0}")]
    Corrupt(String),
    /// This node's lease has lapsed (no heartbeat within the TTL): it may not claim names until
    /// a heartbeat renews it and it has re-claimed what it still holds.
    #[error("this node's lease has lapsed; it must renew it before claiming names")]
    LeaseLapsed,
    /// Another live node heartbeats with this node's id (`--node-id` given twice): the two
    /// would share names and a channel. Refused at start (after waiting two lease TTLs).
    #[error("node id {0} is in use by a live node; give each node its own --node-id")]
    NodeIdInUse(NodeId),
    /// No subscriber received a frame published to this node's channel: the node is gone, or
    /// its subscriber is reconnecting. The frame is lost; its sender is told.
    #[error("node {0} is not reachable")]
    NodeUnreachable(NodeId),
}

/// Connects a [`ConnectionManager`]: one multiplexed connection that reconnects by itself
/// (backoff from 50 ms to 1 s); while Redis is unreachable, commands fail at once with an I/O
/// error rather than queueing, so a sign-in can be refused as `unavailable` without waiting.
pub async fn connect(url: &str) -> Result<ConnectionManager, ClusterError> {
    let client = redis::Client::open(url)?;
    Ok(client.get_connection_manager_with_config(manager_config()).await?)
}

pub(crate) fn manager_config() -> redis::aio::ConnectionManagerConfig {
    redis::aio::ConnectionManagerConfig::new()
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_secs(1))
        .set_number_of_retries(3)
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
}

/// A node id as stored in Redis (16 hex digits), read back.
pub(crate) fn parse_node(text: &str) -> Result<NodeId, ClusterError> {
    u64::from_str_radix(text, 16).map(NodeId::from_raw).map_err(|_| ClusterError::Corrupt(format!("node id {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::test_redis::{answers_ping, TestRedis};

    #[test]
    fn a_test_redis_answers_can_be_killed_and_restarted_on_its_port_and_is_killed_on_drop() {
        let mut redis = TestRedis::start();
        let port = redis.port();
        assert!(answers_ping(port));
        redis.kill();
        assert!(!answers_ping(port));
        redis.restart();
        assert_eq!(redis.port(), port);
        assert!(answers_ping(port));
        let pid = redis.pid().expect("running");
        drop(redis);
        assert!(!answers_ping(port));
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "the process is gone");
    }
}
