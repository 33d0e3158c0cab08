//! Delivery between nodes: one Redis pub/sub channel per node (`duet:node:ID`, not per user),
//! carrying the router's three operations for that node's connections (a frame, a reserved
//! frame such as `leave`, a kick). A message is one byte of [`NodeDelivery`], the target
//! connection id (8 bytes, big-endian), then the payload, opaque bytes (the relayed JSON text,
//! never parsed here; empty for a kick). Same-node delivery never comes here.
//!
//! Order: a node publishes over one multiplexed connection, so the frames of one sender that
//! awaits each publish (a session does) reach the receiving node in that order, and its
//! subscriber hands them on in order. Loss is never silent: Redis pub/sub keeps nothing, so a
//! publish while Redis is down fails at once, and one that no node receives (the target node is
//! gone or its subscriber is between connections) fails with [`ClusterError::NodeUnreachable`];
//! the subscriber reports [`Incoming::Disconnected`] when its connection drops (frames sent to it
//! meanwhile failed at their senders) and resubscribes by itself when Redis is back (the
//! manager's backoff), then reports [`Incoming::Subscribed`].

use super::{manager_config, ClusterError, ConnectionManager};
use crate::address::{ConnectionId, NodeId};
use crate::delivery::KickReason;
use redis::{AsyncCommands, ProtocolVersion, PushInfo, PushKind, Value};
use tokio::sync::mpsc;

/// The channel of `node`.
pub fn channel_of(node: NodeId) -> String {
    format!("duet:node:{node}")
}

/// Which of the router's operations a message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeDelivery {
    /// `Router::deliver`: a relayed frame, into the connection's bounded queue.
    Frame,
    /// `Router::deliver_reserved`: a frame the server generated (`leave`), in the reserve.
    Reserved,
    /// `Router::kick`: close the connection.
    Kick(KickReason),
}

impl NodeDelivery {
    fn to_byte(self) -> u8 {
        match self {
            NodeDelivery::Frame => 0,
            NodeDelivery::Reserved => 1,
            NodeDelivery::Kick(KickReason::SlowConsumer) => 2,
            NodeDelivery::Kick(KickReason::ReplacedByNewLogin) => 3,
        }
    }

    fn from_byte(byte: u8) -> Option<NodeDelivery> {
        Some(match byte {
            0 => NodeDelivery::Frame,
            1 => NodeDelivery::Reserved,
            2 => NodeDelivery::Kick(KickReason::SlowConsumer),
            3 => NodeDelivery::Kick(KickReason::ReplacedByNewLogin),
            _ => return None,
        })
    }
}

/// A delivery for one connection of the receiving node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFrame {
    pub kind: NodeDelivery,
    pub connection: ConnectionId,
    pub payload: Vec<u8>,
}

/// What the subscriber hands on, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Frame(NodeFrame),
    /// The subscription is (again) in place: frames published from now on arrive.
    Subscribed,
    /// The connection to Redis dropped: frames published until the next
    /// [`Incoming::Subscribed`] were refused to their senders.
    Disconnected,
}

/// Publishes frames to other nodes' channels (clone freely: one shared connection).
#[derive(Debug, Clone)]
pub struct NodePublisher {
    redis: ConnectionManager,
}

impl NodePublisher {
    pub fn new(redis: ConnectionManager) -> NodePublisher {
        NodePublisher { redis }
    }

    /// Publishes the frame `payload` for connection `connection` of node `node`. Succeeds only
    /// when the node's subscriber received it from Redis (it may have closed that connection).
    pub async fn publish(&self, node: NodeId, connection: ConnectionId, payload: &[u8]) -> Result<(), ClusterError> {
        self.publish_delivery(node, connection, NodeDelivery::Frame, payload).await
    }

    /// [`NodePublisher::publish`] for any of the router's operations.
    pub async fn publish_delivery(
        &self,
        node: NodeId,
        connection: ConnectionId,
        kind: NodeDelivery,
        payload: &[u8],
    ) -> Result<(), ClusterError> {
        let mut message = Vec::with_capacity(9 + payload.len());
        message.push(kind.to_byte());
        message.extend_from_slice(&connection.to_be_bytes());
        message.extend_from_slice(payload);
        let receivers: i64 = self.redis.clone().publish(channel_of(node), message).await?;
        if receivers == 0 {
            return Err(ClusterError::NodeUnreachable(node));
        }
        Ok(())
    }
}

/// This node's subscription; dropping it (and the receiver) ends it.
#[derive(Debug)]
pub struct NodeSubscription {
    /// Kept so the subscribed connection lives (and reconnects) as long as this does.
    _redis: ConnectionManager,
}

impl NodeSubscription {
    /// Subscribes to `node`'s channel on its own connection to `url` (RESP3, so pushes arrive on
    /// the managed connection and it resubscribes after reconnecting). Frames and connection
    /// events arrive on the returned receiver, in order.
    pub async fn subscribe(
        url: &str,
        node: NodeId,
    ) -> Result<(NodeSubscription, mpsc::UnboundedReceiver<Incoming>), ClusterError> {
        let info = redis::IntoConnectionInfo::into_connection_info(url)?;
        let info = info.clone().set_redis_settings(info.redis_settings().clone().set_protocol(ProtocolVersion::RESP3));
        let client = redis::Client::open(info)?;
        let (incoming_sender, incoming) = mpsc::unbounded_channel();
        // Runs on the connection's reader: decode and hand on, nothing else.
        let push_sender = move |push: PushInfo| -> Result<(), redis::aio::SendError> {
            let event = match push.kind {
                PushKind::Message => match decode(&push.data) {
                    Some(frame) => Incoming::Frame(frame),
                    None => {
                        tracing::warn!("a malformed message on this node's channel was dropped");
                        return Ok(());
                    }
                },
                PushKind::Subscribe => Incoming::Subscribed,
                PushKind::Disconnection => Incoming::Disconnected,
                _ => return Ok(()),
            };
            incoming_sender.send(event).map_err(|_| redis::aio::SendError)
        };
        let config = manager_config().set_push_sender(push_sender).set_automatic_resubscription();
        let mut redis = client.get_connection_manager_with_config(config).await?;
        redis.subscribe(channel_of(node)).await?;
        Ok((NodeSubscription { _redis: redis }, incoming))
    }
}

/// A `message` push's data: the channel, then our message.
fn decode(data: &[Value]) -> Option<NodeFrame> {
    let Some(Value::BulkString(message)) = data.get(1) else { return None };
    let (kind, rest) = message.split_first()?;
    let (connection, payload) = rest.split_first_chunk::<8>()?;
    Some(NodeFrame {
        kind: NodeDelivery::from_byte(*kind)?,
        connection: ConnectionId::from_be_bytes(*connection),
        payload: payload.to_vec(),
    })
}

#[cfg(test)]
#[path = "node_channel_tests.rs"]
mod tests;
