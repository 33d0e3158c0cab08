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
//! Cluster mode: the session that changed a name also publishes it on Redis's presence channel
//! (`cluster_node.rs`), and every node notes the names it hears there, so subscribers on every
//! node hear every sign-in and sign-out. The flush then reads the final states from Redis (one
//! script for the whole batch, no lock held across it), and a subscription's snapshot is read
//! from Redis *after* its `since` number is taken ([`PresenceHub::last_change_number`]): a
//! change in Redis is noted (heard) only after it was written, so a change noted by then is in
//! the snapshot, and one noted after is sent with its then-final state (at worst repeating the
//! snapshot, which clients take as harmless). Deltas reach a subscriber only after its snapshot
//! (both under the subscribers' lock), so no subscriber ends with a stale view. A Redis read
//! that fails puts the batch back for the next window. Notes lost on the way (a node's channel
//! dropped them, or was disconnected) are repaired by [`PresenceHub::resynchronize`]: a fresh
//! snapshot for every subscriber.
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
    /// online, without `who`, read from the in-memory directory under the lock (a cluster node
    /// reads its snapshot first: [`Self::subscribe_with_snapshot`]). False when the snapshot
    /// could not be queued at once (the connection is closed as a slow consumer, or is gone) and
    /// nothing was subscribed.
    pub fn subscribe(&self, subscriber: ConnectionRef, who: &Identity, limit: usize) -> bool {
        let shared = &self.shared;
        let mut subscribers = locked(&shared.subscribers);
        // Read before the snapshot: a change noted by now is already in the directory it reads.
        let since = self.last_change_number();
        let users = shared.in_memory().map(|memory| memory.online_names(Some(who), limit)).unwrap_or_default();
        shared.insert(&mut subscribers, subscriber, who, since, users)
    }

    /// The number of the latest change noted: take it before reading a snapshot from a directory
    /// that may wait, and give it to [`Self::subscribe_with_snapshot`].
    pub fn last_change_number(&self) -> u64 {
        locked(&self.shared.changed).last_number
    }

    /// Subscribes `subscriber` with `users`, a snapshot read (after `since` was taken from
    /// [`Self::last_change_number`]) from a directory that may wait; as [`Self::subscribe`].
    pub fn subscribe_with_snapshot(
        &self,
        subscriber: ConnectionRef,
        who: &Identity,
        since: u64,
        users: Vec<UserName>,
    ) -> bool {
        let mut subscribers = locked(&self.shared.subscribers);
        self.shared.insert(&mut subscribers, subscriber, who, since, users)
    }

    /// Sends every subscriber a fresh snapshot (`users`, up to `limit` names, without its own),
    /// read from the directory now: after presence notes were lost (a cluster node's channel
    /// dropped or missed some). Subscribers whose queue is full are closed as slow consumers.
    pub async fn resynchronize(&self, limit: usize) {
        let since = self.last_change_number();
        let Ok(online) = self.shared.directory.online_names(None, limit.saturating_add(1)).await else {
            tracing::warn!("presence not resynchronized: the directory is unavailable");
            return;
        };
        let mut subscribers = locked(&self.shared.subscribers);
        let refreshed: Vec<(ConnectionRef, NameKey)> =
            subscribers.values().map(|subscriber| (subscriber.connection, subscriber.who.clone())).collect();
        for (connection, who) in refreshed {
            let mut users: Vec<UserName> = online.iter().filter(|name| name.key() != who).cloned().collect();
            users.truncate(limit);
            subscribers.remove(&connection.connection);
            self.shared.insert_key(&mut subscribers, connection, who, since, users);
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
        let announced = shared.flush_now().await;
        if announced.closed_slow > 0 {
            tracing::warn!(closed = announced.closed_slow, "presence subscribers closed as slow consumers");
        }
    }
}

impl HubShared {
    /// The directory, read under the hub's lock: the in-memory one, whose answers never wait.
    fn in_memory(&self) -> Option<&MemoryDirectory> {
        self.directory.memory()
    }

    /// Queues `users` as `subscriber`'s snapshot and adds it to `subscribers` (see
    /// [`PresenceHub::subscribe`]).
    fn insert(
        &self,
        subscribers: &mut HashMap<ConnectionId, Subscriber>,
        subscriber: ConnectionRef,
        who: &Identity,
        since: u64,
        users: Vec<UserName>,
    ) -> bool {
        self.insert_key(subscribers, subscriber, who.key().clone(), since, users)
    }

    fn insert_key(
        &self,
        subscribers: &mut HashMap<ConnectionId, Subscriber>,
        subscriber: ConnectionRef,
        who: NameKey,
        since: u64,
        users: Vec<UserName>,
    ) -> bool {
        let snapshot = Utf8Bytes::from(ServerMessage::Users { users }.to_json());
        match self.router.deliver(&subscriber, snapshot) {
            Ok(()) => {
                subscribers.insert(subscriber.connection, Subscriber { connection: subscriber, who, since });
                true
            }
            Err(RouteError::QueueFull(_)) => {
                subscribers.remove(&subscriber.connection);
                let _ = self.router.kick(&subscriber, KickReason::SlowConsumer);
                false
            }
            Err(RouteError::NotConnected | RouteError::OtherNode(_)) => false,
        }
    }

    /// The changes noted since the last flush, if any subscriber would hear them.
    fn take_batch(&self) -> Option<HashMap<NameKey, (Identity, u64)>> {
        let changed = std::mem::take(&mut locked(&self.changed).by_name);
        (!changed.is_empty() && !locked(&self.subscribers).is_empty()).then_some(changed)
    }

    /// Flushes with the in-memory directory (never waits).
    fn flush(&self) -> Announced {
        let Some(changed) = self.take_batch() else { return Announced::default() };
        let states = changed
            .iter()
            .map(|(key, (identity, number))| {
                let online = self.in_memory().and_then(|memory| memory.online_name(identity.display()));
                NameState::new(key, identity, online, *number)
            })
            .collect();
        self.deliver(&changed, states)
    }

    /// Flushes with whichever directory this node has: in cluster mode the batch's final states
    /// are read from Redis first (no lock held); a failed read puts the batch back.
    async fn flush_now(&self) -> Announced {
        if self.in_memory().is_some() {
            return self.flush();
        }
        let Some(changed) = self.take_batch() else { return Announced::default() };
        let batch: Vec<(&NameKey, &(Identity, u64))> = changed.iter().collect();
        let names: Vec<Identity> = batch.iter().map(|(_, (identity, _))| identity.clone()).collect();
        match self.directory.online_displays(&names).await {
            Ok(online) => {
                let states = batch
                    .iter()
                    .zip(online)
                    .map(|((key, (identity, number)), online)| NameState::new(key, identity, online, *number))
                    .collect();
                self.deliver(&changed, states)
            }
            Err(_) => {
                let mut noted = locked(&self.changed);
                for (key, (identity, number)) in changed {
                    // A newer note of the same name keeps its (higher) number.
                    noted.by_name.entry(key).or_insert((identity, number));
                }
                drop(noted);
                self.wake.notify_one();
                Announced::default()
            }
        }
    }

    /// Offers each subscriber the delta of `states` it has not seen (under the subscribers' lock).
    fn deliver(&self, changed: &HashMap<NameKey, (Identity, u64)>, mut states: Vec<NameState>) -> Announced {
        let mut announced = Announced::default();
        let mut subscribers = locked(&self.subscribers);
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

impl NameState {
    /// `online`: the name's display form if it is online now (joined, in that form).
    fn new(key: &NameKey, identity: &Identity, online: Option<UserName>, number: u64) -> NameState {
        let joined = online.is_some();
        let display = online.unwrap_or_else(|| identity.display().clone());
        NameState { key: key.clone(), display, joined, number }
    }
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
#[path = "presence_tests.rs"]
mod tests;
