//! Presence pushed to subscribers: the connections that sent `presence_subscribe` get a
//! snapshot (`users`) and then one small `presence` delta per sign-in (`joined`) and sign-out
//! (`left`), instead of polling `users`.
//!
//! *Invariants:* the subscriber set and every announcement are handled under one lock that is
//! never held across an `.await` (everything here is synchronous), so a subscriber's snapshot
//! and the deltas after it are queued in order, and each announcement re-reads the directory
//! under that lock: a `joined` is only sent while the name is online and a `left` only while it
//! is not, so two announcements about one name racing each other cannot leave a stale state.
//!
//! A slow subscriber never blocks nor kicks anybody else: a delta is offered to each queue
//! without waiting; a subscriber whose queue is full is closed as a slow consumer (4008, like
//! any client that does not read) and dropped from the set, never silently skipped. Its app
//! reconnects and resubscribes, receiving a fresh snapshot.

use crate::address::{ConnectionId, ConnectionRef};
use crate::delivery::KickReason;
use crate::directory::{Directory, Identity};
use crate::router::{RouteError, Router};
use protocol::{ServerMessage, UserName};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use tungstenite::Utf8Bytes;

/// What happened to a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Signed in (a name claimed; a resume takeover keeps the name online and is not one).
    Joined,
    /// Signed out (a name released by its holder's disconnect).
    Left,
}

/// What one announcement did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Announced {
    /// Subscribers whose queue took the delta.
    pub delivered: usize,
    /// Subscribers closed as slow consumers (their queue was full).
    pub closed_slow: usize,
}

/// The connections subscribed to presence on this node.
#[derive(Debug, Default)]
pub struct PresenceHub {
    subscribers: Mutex<HashMap<ConnectionId, ConnectionRef>>,
}

impl PresenceHub {
    fn lock(&self) -> MutexGuard<'_, HashMap<ConnectionId, ConnectionRef>> {
        // The map is only inserted into and removed from: a panic cannot leave it half-modified.
        self.subscribers.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Number of subscribed connections.
    pub fn subscriber_count(&self) -> usize {
        self.lock().len()
    }

    /// Subscribes `subscriber` (signed in as `who`) and queues its snapshot: up to `limit` names
    /// online, without `who`. False when the snapshot could not be queued at once (the
    /// connection is closed as a slow consumer, or is gone) and nothing was subscribed.
    pub fn subscribe(
        &self,
        router: &Router,
        directory: &dyn Directory,
        subscriber: ConnectionRef,
        who: &Identity,
        limit: usize,
    ) -> bool {
        let mut subscribers = self.lock();
        let users = directory.online_names(Some(who), limit);
        let snapshot = Utf8Bytes::from(ServerMessage::Users { users }.to_json());
        match router.deliver(&subscriber, snapshot) {
            Ok(()) => {
                subscribers.insert(subscriber.connection, subscriber);
                true
            }
            Err(RouteError::QueueFull(_)) => {
                subscribers.remove(&subscriber.connection);
                let _ = router.kick(&subscriber, KickReason::SlowConsumer);
                false
            }
            Err(RouteError::NotConnected | RouteError::OtherNode(_)) => false,
        }
    }

    /// Ends connection `id`'s subscription (its session ended).
    pub fn unsubscribe(&self, id: ConnectionId) {
        self.lock().remove(&id);
    }

    /// Tells every subscriber but `except` that `name` joined or left, in one small delta
    /// each, without waiting on anybody.
    pub fn announce(
        &self,
        router: &Router,
        directory: &dyn Directory,
        name: &Identity,
        change: Change,
        except: ConnectionId,
    ) -> Announced {
        let mut subscribers = self.lock();
        let mut announced = Announced::default();
        if subscribers.is_empty() {
            return announced;
        }
        let online = directory.online_name(name.display()).is_some();
        let names = vec![name.display().clone()];
        let delta = match (change, online) {
            (Change::Joined, true) => presence_delta(Some(names), None),
            (Change::Left, false) => presence_delta(None, Some(names)),
            // Superseded: a later sign-in or sign-out of this name announces the final state.
            _ => return announced,
        };
        let text = Utf8Bytes::from(delta.to_json());
        subscribers.retain(|id, subscriber| {
            if *id == except {
                return true;
            }
            match router.deliver(subscriber, text.clone()) {
                Ok(()) => {
                    announced.delivered += 1;
                    true
                }
                Err(RouteError::QueueFull(_)) => {
                    let _ = router.kick(subscriber, KickReason::SlowConsumer);
                    announced.closed_slow += 1;
                    false
                }
                Err(RouteError::NotConnected | RouteError::OtherNode(_)) => false,
            }
        });
        announced
    }
}

/// A `presence` delta.
fn presence_delta(joined: Option<Vec<UserName>>, left: Option<Vec<UserName>>) -> ServerMessage {
    ServerMessage::Presence { joined, left, online: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::NodeId;
    use crate::delivery::ConnectionHandle;
    use crate::directory::MemoryDirectory;
    use std::sync::Arc;

    fn identity(name: &str) -> Identity {
        Identity::new(UserName::from_wire(name))
    }

    #[test]
    fn a_full_subscriber_is_closed_as_slow_and_never_blocks_the_others() {
        let router = Router::new(NodeId::from_raw(1), Arc::default());
        let directory = MemoryDirectory::new();
        let hub = PresenceHub::default();
        let (reader, slow, bob) =
            (ConnectionHandle::detached(8), ConnectionHandle::detached(1), ConnectionHandle::detached(8));
        for handle in [&reader, &slow, &bob] {
            router.register(handle);
        }
        assert!(hub.subscribe(&router, &directory, router.reference_to(reader.id()), &identity("reader"), 10));
        assert!(hub.subscribe(&router, &directory, router.reference_to(slow.id()), &identity("slow"), 10));
        assert_eq!(reader.take_queued(), [r#"{"type":"users","users":[]}"#]);

        directory
            .claim(&identity("bob"), router.reference_to(bob.id()), &crate::directory::ClaimRequest::Fresh)
            .expect("bob signs in");
        let announced = hub.announce(&router, &directory, &identity("bob"), Change::Joined, bob.id());
        assert_eq!(announced, Announced { delivered: 1, closed_slow: 1 });
        assert_eq!(reader.take_queued(), [r#"{"type":"presence","joined":["bob"]}"#]);
        assert_eq!(slow.kicked(), Some(KickReason::SlowConsumer));
        assert_eq!(hub.subscriber_count(), 1);
    }

    #[test]
    fn a_superseded_announcement_is_not_sent() {
        let router = Router::new(NodeId::from_raw(1), Arc::default());
        let directory = MemoryDirectory::new();
        let hub = PresenceHub::default();
        let (reader, bob) = (ConnectionHandle::detached(8), ConnectionHandle::detached(8));
        router.register(&reader);
        assert!(hub.subscribe(&router, &directory, router.reference_to(reader.id()), &identity("reader"), 10));
        reader.take_queued();
        // bob already signed out again: his late `joined` would leave him online forever.
        let announced = hub.announce(&router, &directory, &identity("bob"), Change::Joined, bob.id());
        assert_eq!(announced, Announced::default());
        directory
            .claim(&identity("bob"), router.reference_to(bob.id()), &crate::directory::ClaimRequest::Fresh)
            .expect("bob signs in");
        // bob signed in again: a late `left` of his previous connection is not sent.
        let announced = hub.announce(&router, &directory, &identity("bob"), Change::Left, bob.id());
        assert_eq!(announced, Announced::default());
        assert!(reader.take_queued().is_empty());
    }
}
