//! Presence pushed to subscribers: the connections that sent `presence_subscribe` get a
//! snapshot (`users`) and then `presence` deltas (`joined`, `left`) as people sign in and out,
//! instead of polling `users`.
//!
//! Changes are merged, not sent one by one: [`PresenceHub::announce`] only notes that a name's
//! presence changed and wakes one flusher task per server, which waits [`BATCH_WINDOW`] to gather
//! a burst, then sends every subscriber ONE delta naming all the names that joined and all that
//! left meanwhile. A burst of sign-ins (everybody reconnecting after a server restart, which with
//! resumable calls is exactly what happens) is then a few frames per subscriber instead of one
//! per sign-in, which would fill every subscriber's queue and close them all as slow consumers.
//!
//! *Invariants:* the subscriber set and every flush are handled under one lock that is never
//! held across an `.await` (everything here but the flusher's sleep is synchronous), so a
//! subscriber's snapshot and the deltas after it are queued in order. A flush re-reads the
//! directory for each noted name: a name online then is `joined`, one offline `left`, so two
//! changes of one name racing each other end in its final state. A change noted before a
//! subscription and flushed after it repeats what the snapshot said (harmless, see
//! PROTOCOL.md); nobody is told about their own name.
//!
//! A slow subscriber never blocks nor kicks anybody else: a delta is offered to each queue
//! without waiting; a subscriber whose queue is still full is closed as a slow consumer (4008,
//! like any client that does not read) and dropped from the set, never silently skipped. Its
//! app reconnects and resubscribes, receiving a fresh snapshot.

use crate::address::{ConnectionId, ConnectionRef};
use crate::delivery::KickReason;
use crate::directory::{Directory, Identity, MemoryDirectory};
use crate::directory_backend::DirectoryBackend;
use crate::router::{RouteError, Router};
use protocol::{NameKey, ServerMessage, UserName};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tungstenite::Utf8Bytes;

/// How long the flusher gathers changes before sending them as one delta: short against the
/// one second presence must arrive within, long enough to merge a burst of sign-ins.
pub const BATCH_WINDOW: Duration = Duration::from_millis(100);

/// What happened to a name (for the caller's readability: the flush reads the final state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Signed in (a name claimed; a resume takeover keeps the name online and is not one).
    Joined,
    /// Signed out (a name released by its holder's disconnect).
    Left,
}

/// What one flush did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Announced {
    /// Subscribers whose queue took the delta.
    pub delivered: usize,
    /// Subscribers closed as slow consumers (their queue was full).
    pub closed_slow: usize,
}

/// A subscribed connection and who signed in on it (never told about themselves).
#[derive(Debug)]
struct Subscriber {
    connection: ConnectionRef,
    who: NameKey,
    /// The last change number noted before its snapshot was read: those are in the snapshot.
    since: u64,
}

/// The changes noted since the last flush.
#[derive(Debug, Default)]
struct Changes {
    /// Numbered in the order noted (the number of the latest note of each name).
    by_name: HashMap<NameKey, (Identity, u64)>,
    last_number: u64,
}

/// What the hub and its flusher task share.
#[derive(Debug)]
struct HubShared {
    router: Arc<Router>,
    directory: Arc<DirectoryBackend>,
    subscribers: Mutex<HashMap<ConnectionId, Subscriber>>,
    /// Names whose presence changed since the last flush, by key.
    changed: Mutex<Changes>,
    wake: Notify,
}

/// The connections subscribed to presence on this node, and the changes not yet sent to them.
#[derive(Debug)]
pub struct PresenceHub {
    shared: Arc<HubShared>,
    /// Ends the flusher (server shutdown: every connection is closing, nobody needs deltas).
    shutdown: CancellationToken,
    flusher_started: OnceLock<()>,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Both maps are only inserted into, removed from and swapped: a panic cannot leave one
    // half-modified.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PresenceHub {
    pub fn new(router: Arc<Router>, directory: Arc<DirectoryBackend>, shutdown: CancellationToken) -> PresenceHub {
        let shared = HubShared {
            router,
            directory,
            subscribers: Mutex::default(),
            changed: Mutex::default(),
            wake: Notify::new(),
        };
        PresenceHub { shared: Arc::new(shared), shutdown, flusher_started: OnceLock::new() }
    }

    /// Number of subscribed connections.
    pub fn subscriber_count(&self) -> usize {
        locked(&self.shared.subscribers).len()
    }

    /// Subscribes `subscriber` (signed in as `who`) and queues its snapshot: up to `limit` names
    /// online, without `who`. False when the snapshot could not be queued at once (the
    /// connection is closed as a slow consumer, or is gone) and nothing was subscribed.
    pub fn subscribe(&self, subscriber: ConnectionRef, who: &Identity, limit: usize) -> bool {
        let shared = &self.shared;
        let mut subscribers = locked(&shared.subscribers);
        // Read before the snapshot: a change noted by now is already in the directory it reads.
        let since = locked(&shared.changed).last_number;
        let users = shared.in_memory().map(|memory| memory.online_names(Some(who), limit)).unwrap_or_default();
        let snapshot = Utf8Bytes::from(ServerMessage::Users { users }.to_json());
        match shared.router.deliver(&subscriber, snapshot) {
            Ok(()) => {
                let subscribed = Subscriber { connection: subscriber, who: who.key().clone(), since };
                subscribers.insert(subscriber.connection, subscribed);
                true
            }
            Err(RouteError::QueueFull(_)) => {
                subscribers.remove(&subscriber.connection);
                let _ = shared.router.kick(&subscriber, KickReason::SlowConsumer);
                false
            }
            Err(RouteError::NotConnected | RouteError::OtherNode(_)) => false,
        }
    }

    /// Ends connection `id`'s subscription (its session ended).
    pub fn unsubscribe(&self, id: ConnectionId) {
        locked(&self.shared.subscribers).remove(&id);
    }

    /// Notes that `name` signed in or out; the flusher tells every subscriber within
    /// [`BATCH_WINDOW`], merged with the other changes of that window. Must be called inside
    /// the server's runtime (it starts the flusher on first use).
    pub fn announce(&self, name: &Identity, _change: Change) {
        if self.shutdown.is_cancelled() {
            return;
        }
        self.note(name);
        self.flusher_started.get_or_init(|| {
            tokio::spawn(flush_batches(Arc::downgrade(&self.shared), self.shutdown.clone()));
        });
        // Kept as a permit if the flusher is not waiting right now, so no change is missed.
        self.shared.wake.notify_one();
    }

    /// Notes a change without starting or waking the flusher (see [`Self::announce`]).
    fn note(&self, name: &Identity) {
        let mut changes = locked(&self.shared.changed);
        changes.last_number += 1;
        let number = changes.last_number;
        changes.by_name.insert(name.key().clone(), (name.clone(), number));
    }

    /// Sends the changes noted so far now (what the flusher does after each window).
    pub fn flush(&self) -> Announced {
        self.shared.flush()
    }
}

/// The flusher: one per server, holding the hub weakly, so it never keeps a server alive.
async fn flush_batches(shared: Weak<HubShared>, shutdown: CancellationToken) {
    loop {
        let Some(wake) = shared.upgrade() else { return };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = wake.wake.notified() => {}
        }
        drop(wake);
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(BATCH_WINDOW) => {}
        }
        let Some(shared) = shared.upgrade() else { return };
        let announced = shared.flush();
        if announced.closed_slow > 0 {
            tracing::warn!(closed = announced.closed_slow, "presence subscribers closed as slow consumers");
        }
    }
}

impl HubShared {
    /// The directory, read under the hub's lock: the in-memory one, whose answers never wait.
    /// Cluster mode's presence (through Redis, without a lock across the round trip) is not
    /// wired yet: there the hub reads nothing (empty snapshots, every change a `left`).
    fn in_memory(&self) -> Option<&MemoryDirectory> {
        self.directory.memory()
    }

    fn flush(&self) -> Announced {
        let changed = std::mem::take(&mut locked(&self.changed).by_name);
        let mut announced = Announced::default();
        let mut subscribers = locked(&self.subscribers);
        if changed.is_empty() || subscribers.is_empty() {
            return announced;
        }
        // Each name's final state, read now: online is joined (in its current display form).
        let mut states: Vec<NameState> = changed
            .iter()
            .map(|(key, (identity, number))| {
                let online = self.in_memory().and_then(|memory| memory.online_name(identity.display()));
                let joined = online.is_some();
                let display = online.unwrap_or_else(|| identity.display().clone());
                NameState { key: key.clone(), display, joined, number: *number }
            })
            .collect();
        states.sort_by(|a, b| a.display.cmp(&b.display));
        let first_number = states.iter().map(|state| state.number).min().unwrap_or(0);
        let Some(common_delta) = delta(&states, |_| true) else { return announced };
        subscribers.retain(|_, subscriber| {
            let text = if subscriber.since < first_number && !changed.contains_key(&subscriber.who) {
                common_delta.clone()
            } else {
                // Subscribed during this window, or its own sign-in is in it: only what its
                // snapshot did not say, and never itself.
                match delta(&states, |state| state.number > subscriber.since && state.key != subscriber.who) {
                    Some(text) => text,
                    None => return true,
                }
            };
            match self.router.deliver(&subscriber.connection, text) {
                Ok(()) => {
                    announced.delivered += 1;
                    true
                }
                Err(RouteError::QueueFull(_)) => {
                    let _ = self.router.kick(&subscriber.connection, KickReason::SlowConsumer);
                    announced.closed_slow += 1;
                    false
                }
                Err(RouteError::NotConnected | RouteError::OtherNode(_)) => false,
            }
        });
        announced
    }
}

/// One changed name at flush time.
struct NameState {
    key: NameKey,
    display: UserName,
    joined: bool,
    number: u64,
}

/// The `presence` delta of the `states` that `include` keeps, if any.
fn delta(states: &[NameState], include: impl Fn(&NameState) -> bool) -> Option<Utf8Bytes> {
    let names = |joined: bool| {
        let names: Vec<UserName> = states
            .iter()
            .filter(|state| state.joined == joined && include(state))
            .map(|state| state.display.clone())
            .collect();
        (!names.is_empty()).then_some(names)
    };
    let (joined, left) = (names(true), names(false));
    (joined.is_some() || left.is_some())
        .then(|| Utf8Bytes::from(ServerMessage::Presence { joined, left, online: None }.to_json()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::NodeId;
    use crate::delivery::ConnectionHandle;

    fn identity(name: &str) -> Identity {
        Identity::new(UserName::from_wire(name))
    }

    struct Fixture {
        router: Arc<Router>,
        directory: Arc<DirectoryBackend>,
        hub: PresenceHub,
    }

    fn fixture() -> Fixture {
        let router = Arc::new(Router::new(NodeId::from_raw(1), Arc::default()));
        let directory = Arc::new(DirectoryBackend::in_memory());
        let hub = PresenceHub::new(Arc::clone(&router), directory.clone(), CancellationToken::new());
        Fixture { router, directory, hub }
    }

    impl Fixture {
        fn memory(&self) -> &MemoryDirectory {
            self.directory.memory().expect("in memory")
        }

        fn subscribed(&self, name: &str, queue_frames: usize) -> ConnectionHandle {
            let handle = ConnectionHandle::detached(queue_frames);
            self.router.register(&handle);
            let reference = self.router.reference_to(handle.id());
            self.memory().claim(&identity(name), reference, &crate::directory::ClaimRequest::Fresh).expect("signs in");
            assert!(self.hub.subscribe(reference, &identity(name), 10));
            handle.take_queued();
            handle
        }

        fn sign_in(&self, name: &str) -> ConnectionRef {
            let holder = self.router.reference_to(ConnectionHandle::detached(1).id());
            self.memory().claim(&identity(name), holder, &crate::directory::ClaimRequest::Fresh).expect("signs in");
            self.hub.note(&identity(name));
            holder
        }
    }

    #[test]
    fn a_full_subscriber_is_closed_as_slow_and_never_blocks_the_others() {
        let fixture = fixture();
        let reader = fixture.subscribed("reader", 8);
        let slow = fixture.subscribed("slow", 1);
        slow.take_queued();
        fixture.sign_in("carol");
        assert_eq!(fixture.hub.flush(), Announced { delivered: 2, closed_slow: 0 });
        fixture.sign_in("bob");
        assert_eq!(fixture.hub.flush(), Announced { delivered: 1, closed_slow: 1 });
        assert_eq!(
            reader.take_queued(),
            [r#"{"type":"presence","joined":["carol"]}"#, r#"{"type":"presence","joined":["bob"]}"#]
        );
        assert_eq!(slow.kicked(), Some(KickReason::SlowConsumer));
        assert_eq!(fixture.hub.subscriber_count(), 1);
    }

    #[test]
    fn a_burst_of_sign_ins_and_outs_is_one_delta_per_subscriber_in_the_final_state() {
        let fixture = fixture();
        let reader = fixture.subscribed("reader", 2);
        for index in 0..500 {
            fixture.sign_in(&format!("user{index:03}"));
        }
        // dave signed in and out within the window: he is announced as gone, never as online.
        let dave = fixture.sign_in("dave");
        assert!(fixture.memory().release(&identity("dave"), dave, None).is_some());
        fixture.hub.note(&identity("dave"));
        assert_eq!(fixture.hub.flush(), Announced { delivered: 1, closed_slow: 0 });
        let queued = reader.take_queued();
        assert_eq!(queued.len(), 1, "one delta for the whole burst");
        let delta: serde_json::Value = serde_json::from_str(&queued[0]).expect("JSON");
        assert_eq!(delta["joined"].as_array().map(Vec::len), Some(500));
        assert_eq!(delta["joined"][0], "user000", "sorted");
        assert_eq!(delta["left"], serde_json::json!(["dave"]));
        assert_eq!(fixture.hub.flush(), Announced::default(), "nothing noted since");
    }

    #[test]
    fn nobody_is_told_about_their_own_sign_in() {
        let fixture = fixture();
        let alice = fixture.subscribed("alice", 8);
        fixture.hub.note(&identity("alice"));
        assert_eq!(fixture.hub.flush(), Announced::default());
        fixture.hub.note(&identity("alice"));
        fixture.sign_in("bob");
        fixture.hub.flush();
        assert_eq!(alice.take_queued(), [r#"{"type":"presence","joined":["bob"]}"#]);
    }

    #[test]
    fn a_change_already_in_the_snapshot_is_not_repeated_but_a_later_one_is_sent() {
        let fixture = fixture();
        fixture.sign_in("carol");
        let alice = fixture.subscribed("alice", 8);
        fixture.sign_in("bob");
        fixture.hub.flush();
        assert_eq!(alice.take_queued(), [r#"{"type":"presence","joined":["bob"]}"#]);
    }

    #[test]
    fn a_change_superseded_within_the_window_announces_the_final_state() {
        let fixture = fixture();
        let reader = fixture.subscribed("reader", 8);
        // bob's sign-in was noted but he is gone again by the flush: `left`, not a stale `joined`.
        fixture.hub.note(&identity("bob"));
        fixture.hub.flush();
        assert_eq!(reader.take_queued(), [r#"{"type":"presence","left":["bob"]}"#]);
    }
}
