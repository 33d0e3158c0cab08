//! The router: turns a [`ConnectionRef`] from the directory into a delivery. Connections of
//! this node are found in delivery's [`LocalQueues`] (`ConnectionId` → queue, the index the
//! queue budget keeps anyway, so routing costs no memory per connection): a queue is listed
//! from its creation until its connection closes or its session ends ([`Router::deregister`]).
//! A reference to another node is refused with [`RouteError::OtherNode`]: that is the seam
//! where cross-node delivery (a channel per node) goes later.
//!
//! Imports `address` and `delivery` only. *Invariant:* a delivery is one shard read of the
//! index (and one reference count on the recipient's queue), so relaying a candidate stays two
//! directory shard reads plus this one, with no global lock.

use crate::address::{ConnectionId, ConnectionRef, NodeId};
use crate::delivery::{Backlog, ConnectionHandle, DeliveryError, KickReason, LocalQueues};
use std::sync::Arc;
use tungstenite::Utf8Bytes;

/// Why a frame could not be handed to its recipient's queue at once.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// The connection has closed (or never registered).
    #[error("the recipient's connection is gone")]
    NotConnected,
    /// The connection is on another node: not reachable from here yet.
    #[error("the recipient is connected to node {0}")]
    OtherNode(NodeId),
    /// The recipient's queue is full: the frame waits in the backlog for its sender to deliver.
    #[error("the recipient's queue is full")]
    QueueFull(Backlog),
}

impl From<DeliveryError> for RouteError {
    fn from(error: DeliveryError) -> RouteError {
        match error {
            DeliveryError::NotOnline => RouteError::NotConnected,
            DeliveryError::QueueFull(backlog) => RouteError::QueueFull(backlog),
        }
    }
}

/// The connections of this node, by id.
#[derive(Debug)]
pub struct Router {
    node: NodeId,
    /// Shared with the queue budget (one entry per connection for both).
    queues: Arc<LocalQueues>,
}

impl Router {
    pub fn new(node: NodeId, queues: Arc<LocalQueues>) -> Router {
        Router { node, queues }
    }

    /// This node's id: the node of every connection registered here.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Where the directory finds the local connection `id`.
    pub fn reference_to(&self, id: ConnectionId) -> ConnectionRef {
        ConnectionRef { node: self.node, connection: id }
    }

    /// Makes `handle` reachable by its reference until [`Router::deregister`] or its connection
    /// closes. A queue made with the server's limits is listed from the start; this lists any
    /// other (a detached handle of a test) too.
    pub fn register(&self, handle: &ConnectionHandle) -> ConnectionRef {
        self.queues.index(handle);
        self.reference_to(handle.id())
    }

    /// Makes connection `id` unreachable (its session ended).
    pub fn deregister(&self, id: ConnectionId) {
        self.queues.remove(id);
    }

    /// Number of connections reachable (for tests).
    pub fn registered_count(&self) -> usize {
        self.queues.len()
    }

    /// Runs `deliver` on the local connection `to`: one shard read of the index.
    fn with_local<T>(
        &self,
        to: &ConnectionRef,
        deliver: impl FnOnce(&ConnectionHandle) -> Result<T, RouteError>,
    ) -> Result<T, RouteError> {
        if to.node != self.node {
            return Err(RouteError::OtherNode(to.node));
        }
        let handle = self.queues.connection(to.connection).ok_or(RouteError::NotConnected)?;
        deliver(&handle)
    }

    /// Queues `text` for `to` without waiting. A recipient whose queue is full does not read its
    /// messages: the frame comes back as a backlog for its sender to wait on (bounded).
    pub fn deliver(&self, to: &ConnectionRef, text: Utf8Bytes) -> Result<(), RouteError> {
        self.with_local(to, |handle| Ok(handle.send_text(text)?))
    }

    /// Queues a message the server itself generates (`leave`) for `to`, in the small reserve
    /// above the queue's capacity, so it never waits behind a backlog nor overtakes one; a
    /// recipient that has filled even the reserve does not read and is disconnected.
    pub fn deliver_reserved(&self, to: &ConnectionRef, text: Utf8Bytes) -> Result<(), RouteError> {
        self.with_local(to, |handle| {
            handle.send_text_reserved(text);
            Ok(())
        })
    }

    /// Tells `to`'s session that its call's relay target changed (see
    /// [`ConnectionHandle::relay_target_changed`]), queueing nothing.
    pub fn relay_target_changed(&self, to: &ConnectionRef) -> Result<(), RouteError> {
        self.with_local(to, |handle| {
            handle.relay_target_changed();
            Ok(())
        })
    }

    /// Asks `to` to close (the first reason given wins).
    pub fn kick(&self, to: &ConnectionRef, reason: KickReason) -> Result<(), RouteError> {
        self.with_local(to, |handle| {
            handle.kick(reason);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_reach_registered_local_connections_only() {
        let router = Router::new(NodeId::from_raw(1), Arc::default());
        let handle = ConnectionHandle::detached(1);
        let reference = router.register(&handle);
        router.deliver(&reference, Utf8Bytes::from_static("one")).expect("queued");
        assert!(matches!(router.deliver(&reference, Utf8Bytes::from_static("two")), Err(RouteError::QueueFull(_))));
        router.deliver_reserved(&reference, Utf8Bytes::from_static("leave")).expect("the reserve");
        assert_eq!(handle.take_queued(), ["one", "leave"]);

        let elsewhere = ConnectionRef { node: NodeId::from_raw(2), ..reference };
        assert!(matches!(router.deliver(&elsewhere, Utf8Bytes::from_static("x")), Err(RouteError::OtherNode(_))));
        assert!(matches!(router.kick(&elsewhere, KickReason::SlowConsumer), Err(RouteError::OtherNode(_))));

        router.deregister(handle.id());
        assert_eq!(router.registered_count(), 0);
        assert!(matches!(router.deliver(&reference, Utf8Bytes::from_static("x")), Err(RouteError::NotConnected)));
    }
}
