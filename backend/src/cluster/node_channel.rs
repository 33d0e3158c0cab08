//! Delivery between nodes: one Redis pub/sub channel per node (`duet:node:ID`, not per user),
//! carrying the router's three operations for that node's connections (a frame, a reserved
//! frame such as `leave`, a kick). A message is one byte of [`NodeDelivery`], the target
//! connection id (8 bytes, big-endian), then the payload, opaque bytes (the relayed JSON text,
//! never parsed here; empty for a kick). Same-node delivery never comes here.
//!
//! A relayed frame may carry a *return address* (the sender's connection and the recipient's
//! name as the sender named it): a node that no longer has the recipient's connection (it
//! closed, its call held for a resume) answers with [`NodeDelivery::Bounced`] to the sender, whose
//! node tells it `peer_unavailable` and drops its session's relay cache, as one server would.
//!
//! Presence: every node also subscribes to one shared channel, [`PRESENCE_CHANNEL`], where each
//! node publishes the names whose presence it changed (its node id, then the display form);
//! receivers re-read each name's state from the directory (see `presence.rs`).
//!
//! The subscriber's queue is bounded ([`INCOMING_CAPACITY`] messages by default): the pushes are
//! decoded on the Redis connection's reader, which cannot wait, so a message that finds the
//! queue full (this node cannot keep up) is dropped, counted ([`IncomingDrops`], the metric
//! `duet_cluster_incoming_dropped_total`) and logged, never buffered without bound. A dropped
//! relayed frame is lost like a frame to a closed connection (WebRTC retries what matters); a
//! dropped presence note makes the node resynchronize its presence subscribers (fresh snapshot).
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
use crate::address::ConnectionRef;
use crate::address::{ConnectionId, NodeId};
use crate::delivery::KickReason;
use redis::{AsyncCommands, ProtocolVersion, PushInfo, PushKind, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The channel every node subscribes to for presence changes.
pub const PRESENCE_CHANNEL: &str = "duet:presence";

/// Messages the subscriber queues for its node before it drops (see the module docs).
pub const INCOMING_CAPACITY: usize = 4096;

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
    /// A relayed frame found no connection: to its sender, whose payload is the recipient's name.
    Bounced,
}

impl NodeDelivery {
    fn to_byte(self) -> u8 {
        match self {
            NodeDelivery::Frame => 0,
            NodeDelivery::Reserved => 1,
            NodeDelivery::Kick(KickReason::SlowConsumer) => 2,
            NodeDelivery::Kick(KickReason::ReplacedByNewLogin) => 3,
            NodeDelivery::Bounced => 5,
        }
    }

    fn from_byte(byte: u8) -> Option<NodeDelivery> {
        Some(match byte {
            0 => NodeDelivery::Frame,
            1 => NodeDelivery::Reserved,
            2 => NodeDelivery::Kick(KickReason::SlowConsumer),
            3 => NodeDelivery::Kick(KickReason::ReplacedByNewLogin),
            5 => NodeDelivery::Bounced,
            _ => return None,
        })
    }
}

/// The byte of a relayed frame with its return address (decoded as [`NodeDelivery::Frame`]).
const RELAYED_WITH_RETURN: u8 = 4;

/// Where a relayed frame's sender is, and whom it named: for [`NodeDelivery::Bounced`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnAddress {
    pub sender: ConnectionRef,
    /// The recipient's name as the sender wrote it (for the sender's `peer_unavailable`).
    pub recipient_name: String,
}

/// A delivery for one connection of the receiving node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFrame {
    pub kind: NodeDelivery,
    pub connection: ConnectionId,
    pub payload: Vec<u8>,
    /// Relayed frames of a session: where to bounce it if the connection is gone.
    pub return_address: Option<ReturnAddress>,
}

/// A presence change published by a node: the display form of the name whose state changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceNote {
    pub from: NodeId,
    pub display: String,
}

/// How many incoming messages the subscriber dropped because its node's queue was full.
#[derive(Debug, Default)]
pub struct IncomingDrops {
    frames: AtomicU64,
    presence: AtomicU64,
}

impl IncomingDrops {
    /// Frames, reserved frames, kicks and bounces dropped.
    pub fn frames(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }

    /// Presence notes dropped.
    pub fn presence(&self) -> u64 {
        self.presence.load(Ordering::Relaxed)
    }
}

/// What the subscriber hands on, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Frame(NodeFrame),
    /// A node changed a name's presence (this node's own notes come back too).
    Presence(PresenceNote),
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
        self.publish_message(node, message).await
    }

    /// Publishes a relayed frame for `to` with its return address (see [`ReturnAddress`]):
    /// `sender`, and the recipient's name as it wrote it.
    pub async fn publish_relayed(
        &self,
        to: ConnectionRef,
        sender: ConnectionRef,
        recipient_name: &str,
        payload: &[u8],
    ) -> Result<(), ClusterError> {
        let name = recipient_name.as_bytes();
        let name_length = u16::try_from(name.len()).map_err(|_| ClusterError::Corrupt("a name too long".into()))?;
        let mut message = Vec::with_capacity(27 + name.len() + payload.len());
        message.push(RELAYED_WITH_RETURN);
        message.extend_from_slice(&to.connection.to_be_bytes());
        message.extend_from_slice(&sender.node.to_raw().to_be_bytes());
        message.extend_from_slice(&sender.connection.to_be_bytes());
        message.extend_from_slice(&name_length.to_be_bytes());
        message.extend_from_slice(name);
        message.extend_from_slice(payload);
        self.publish_message(to.node, message).await
    }

    async fn publish_message(&self, node: NodeId, message: Vec<u8>) -> Result<(), ClusterError> {
        let receivers: i64 = self.redis.clone().publish(channel_of(node), message).await?;
        if receivers == 0 {
            return Err(ClusterError::NodeUnreachable(node));
        }
        Ok(())
    }

    /// Tells every node (itself included) that `display`'s presence changed on node `from`.
    pub async fn publish_presence(&self, from: NodeId, display: &str) -> Result<(), ClusterError> {
        let mut message = Vec::with_capacity(8 + display.len());
        message.extend_from_slice(&from.to_raw().to_be_bytes());
        message.extend_from_slice(display.as_bytes());
        let _: i64 = self.redis.clone().publish(PRESENCE_CHANNEL, message).await?;
        Ok(())
    }
}

/// This node's subscription; dropping it (and the receiver) ends it.
#[derive(Debug)]
pub struct NodeSubscription {
    /// Kept so the subscribed connection lives (and reconnects) as long as this does.
    _redis: ConnectionManager,
    drops: Arc<IncomingDrops>,
}

impl NodeSubscription {
    /// Subscribes to `node`'s channel and the presence channel on its own connection to `url`
    /// (RESP3, so pushes arrive on the managed connection and it resubscribes after
    /// reconnecting), with a queue of [`INCOMING_CAPACITY`] messages.
    pub async fn subscribe(
        url: &str,
        node: NodeId,
    ) -> Result<(NodeSubscription, mpsc::Receiver<Incoming>), ClusterError> {
        NodeSubscription::subscribe_with_capacity(url, node, INCOMING_CAPACITY).await
    }

    /// [`NodeSubscription::subscribe`] with a queue of `capacity` messages. Frames, presence
    /// notes and connection events arrive on the returned receiver, in order; what finds the
    /// queue full is dropped and counted (connection events are
    /// dropped too: [`IncomingDrops`] counts every drop, and the node resynchronizes its presence
    /// subscribers when it sees presence notes dropped).
    pub async fn subscribe_with_capacity(
        url: &str,
        node: NodeId,
        capacity: usize,
    ) -> Result<(NodeSubscription, mpsc::Receiver<Incoming>), ClusterError> {
        let info = redis::IntoConnectionInfo::into_connection_info(url)?;
        let info = info.clone().set_redis_settings(info.redis_settings().clone().set_protocol(ProtocolVersion::RESP3));
        let client = redis::Client::open(info)?;
        let (incoming_sender, incoming) = mpsc::channel(capacity.max(1));
        let drops = Arc::new(IncomingDrops::default());
        let counted = Arc::clone(&drops);
        // Runs on the connection's reader: decode and hand on, nothing else, never waiting.
        let push_sender = move |push: PushInfo| -> Result<(), redis::aio::SendError> {
            let event = match push.kind {
                PushKind::Message => match decode(&push.data) {
                    Some(event) => event,
                    None => {
                        tracing::warn!("a malformed message on this node's channel was dropped");
                        return Ok(());
                    }
                },
                PushKind::Subscribe => Incoming::Subscribed,
                PushKind::Disconnection => Incoming::Disconnected,
                _ => return Ok(()),
            };
            offer(&incoming_sender, &counted, event)
        };
        let config = manager_config().set_push_sender(push_sender).set_automatic_resubscription();
        let mut redis = client.get_connection_manager_with_config(config).await?;
        redis.subscribe(&[channel_of(node), PRESENCE_CHANNEL.to_owned()]).await?;
        Ok((NodeSubscription { _redis: redis, drops }, incoming))
    }

    /// What the subscriber dropped so far (its node did not keep up).
    pub fn drops(&self) -> Arc<IncomingDrops> {
        Arc::clone(&self.drops)
    }
}

/// Queues `event` without waiting; a full queue drops it and counts it (see the module docs).
fn offer(sender: &mpsc::Sender<Incoming>, drops: &IncomingDrops, event: Incoming) -> Result<(), redis::aio::SendError> {
    match sender.try_send(event) {
        Ok(()) => Ok(()),
        Err(mpsc::error::TrySendError::Closed(_)) => Err(redis::aio::SendError),
        Err(mpsc::error::TrySendError::Full(dropped)) => {
            let counter = match dropped {
                Incoming::Presence(_) => &drops.presence,
                _ => &drops.frames,
            };
            let before = counter.fetch_add(1, Ordering::Relaxed);
            if before.is_power_of_two() || before == 0 {
                tracing::warn!(dropped = before + 1, "this node cannot keep up with its channel: messages dropped");
            }
            Ok(())
        }
    }
}

/// A `message` push's data: the channel, then our message.
fn decode(data: &[Value]) -> Option<Incoming> {
    let Some(Value::BulkString(message)) = data.get(1) else { return None };
    if matches!(data.first(), Some(Value::BulkString(channel)) if channel == PRESENCE_CHANNEL.as_bytes()) {
        let (from, display) = message.split_first_chunk::<8>()?;
        let display = String::from_utf8(display.to_vec()).ok()?;
        return Some(Incoming::Presence(PresenceNote { from: NodeId::from_raw(u64::from_be_bytes(*from)), display }));
    }
    let (kind, rest) = message.split_first()?;
    let (connection, rest) = rest.split_first_chunk::<8>()?;
    let connection = ConnectionId::from_be_bytes(*connection);
    if *kind == RELAYED_WITH_RETURN {
        let (node, rest) = rest.split_first_chunk::<8>()?;
        let (sender, rest) = rest.split_first_chunk::<8>()?;
        let (length, rest) = rest.split_first_chunk::<2>()?;
        let (name, payload) = rest.split_at_checked(usize::from(u16::from_be_bytes(*length)))?;
        let sender = ConnectionRef {
            node: NodeId::from_raw(u64::from_be_bytes(*node)),
            connection: ConnectionId::from_be_bytes(*sender),
        };
        let return_address = ReturnAddress { sender, recipient_name: String::from_utf8(name.to_vec()).ok()? };
        let frame = NodeFrame {
            kind: NodeDelivery::Frame,
            connection,
            payload: payload.to_vec(),
            return_address: Some(return_address),
        };
        return Some(Incoming::Frame(frame));
    }
    let kind = NodeDelivery::from_byte(*kind)?;
    Some(Incoming::Frame(NodeFrame { kind, connection, payload: rest.to_vec(), return_address: None }))
}

#[cfg(test)]
#[path = "node_channel_tests.rs"]
mod tests;
