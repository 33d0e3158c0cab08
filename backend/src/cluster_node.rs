//! Cluster mode wired into the server (`--redis-url`): this node's link to the others.
//! [`ClusterNode`] holds the publisher of frames for other nodes, the readiness `/readyz`
//! reports, and the names signed in on this node's connections; [`start`] connects to Redis and
//! spawns the node's two tasks, which hold the server's state weakly and end at shutdown:
//! - the lease events task (`cluster/lease_keeper.rs` heartbeats every third of
//!   `--name-lease-ttl` and sweeps dead nodes): Redis gone and back sets readiness; a lapsed
//!   lease re-claims the names of this node's live connections and closes those now held by
//!   someone else (4001); the swept names of a dead node have their peers told `leave`
//!   `disconnected`;
//! - the subscriber task: frames, reserved frames (`leave`) and kicks published to this node's
//!   channel go to its connections through the router. A relayed frame that finds its
//!   recipient's queue full closes that recipient as a slow consumer: the subscriber serves
//!   every sender of the node and must not wait for one reader (nor reorder its frames).
//!   Presence notes of the other nodes go to this node's presence hub (`presence.rs`); when
//!   notes may have been lost (the subscription reconnected, or its bounded queue dropped
//!   some), every presence subscriber gets a fresh snapshot.
//!
//! Presence: a name whose presence this node changed (sign-in, sign-out, an away name freed, a
//! dead node's names swept, a stale holder freed by a sign-in) is published on the presence
//! channel by a spawned task; every node re-reads its state from Redis, so a note heard twice,
//! or late, is harmless.
//!
//! Sending: a session awaits each publish, so one sender's frames keep their order; a publish
//! that fails (Redis down, the node gone) is answered to the sender with `unavailable`. The
//! server's own `leave`s and kicks for another node are published by a spawned task.

use crate::address::{ConnectionId, ConnectionRef, NodeId};
use crate::cluster::directory::RedisDirectory;
use crate::cluster::lease_keeper::{spawn_lease_keeper, LeaseEvent};
use crate::cluster::leases::{Claim, NameLeases};
use crate::cluster::node_channel::{Incoming, IncomingDrops, NodeDelivery, NodePublisher, NodeSubscription};
use crate::cluster::ClusterError;
use crate::delivery::KickReason;
use crate::directory::Identity;
use crate::directory_backend::DirectoryBackend;
use crate::presence::Change;

mod incoming;
use crate::{AppState, Config, SharedState};
use protocol::{LeaveReason, ServerMessage};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;
use tokio::sync::mpsc;
use tungstenite::Utf8Bytes;

/// This node's link to the cluster.
#[derive(Debug)]
pub struct ClusterNode {
    publisher: NodePublisher,
    leases: NameLeases,
    /// Heartbeats reach Redis (`/readyz`).
    ready: AtomicBool,
    /// The names signed in on this node's connections (re-claimed after a lapsed lease). Never
    /// locked across an `.await`.
    signed_in: Mutex<HashMap<ConnectionId, Identity>>,
    /// Names whose connection closed while Redis was out of reach: freed when it is back.
    pending_releases: Mutex<Vec<(Identity, ConnectionRef)>>,
    /// What the subscription dropped (its bounded queue was full).
    drops: Arc<IncomingDrops>,
    /// Kept so the subscription (and its reconnection) lives as long as the node.
    _subscription: NodeSubscription,
}

/// What [`start`] built, for `AppState::start` to assemble.
#[derive(Debug)]
pub struct Started {
    pub node: NodeId,
    pub directory: DirectoryBackend,
    pub cluster: ClusterNode,
    incoming: mpsc::Receiver<Incoming>,
    /// Names a previous process with this node id left behind, freed at start: their peers
    /// are told `disconnected` once the server runs.
    left_behind: Vec<crate::directory::FreedName>,
}

/// Connects to `--redis-url`: the directory, the publisher, this node's subscription and a
/// first heartbeat (so sign-ins are accepted at once).
pub async fn start(config: &Config, url: &str) -> Result<Started, ClusterError> {
    let node = config.node_id.unwrap_or_else(NodeId::generate);
    let redis = crate::cluster::connect(url).await?;
    let directory = RedisDirectory::new(redis.clone(), node, config.name_lease_ttl);
    // A node restarted with the same --node-id waits for its previous lease to expire (and
    // frees the names it left); one still renewed after two TTLs belongs to another live node.
    let waiting_since = tokio::time::Instant::now();
    while directory.leases().lease_is_live().await? {
        if waiting_since.elapsed() > config.name_lease_ttl * 2 {
            return Err(ClusterError::NodeIdInUse(node));
        }
        tracing::info!(%node, "waiting for the previous lease of this node id to expire");
        tokio::time::sleep(config.name_lease_ttl / 4).await;
    }
    let left_behind = directory.leases().sweep_dead_node(node).await?;
    directory.leases().heartbeat().await?;
    let (subscription, incoming) = NodeSubscription::subscribe(url, node).await?;
    let cluster = ClusterNode {
        publisher: NodePublisher::new(redis),
        leases: directory.leases().clone(),
        ready: AtomicBool::new(true),
        signed_in: Mutex::default(),
        pending_releases: Mutex::default(),
        drops: subscription.drops(),
        _subscription: subscription,
    };
    Ok(Started { node, directory: DirectoryBackend::Redis(Box::new(directory)), cluster, incoming, left_behind })
}

impl Started {
    /// Spawns the node's tasks for the assembled server state.
    pub fn spawn_tasks(
        incoming: mpsc::Receiver<Incoming>,
        left_behind: Vec<crate::directory::FreedName>,
        state: &AppState,
    ) {
        let Some(cluster) = &state.cluster else { return };
        for name in left_behind {
            crate::dispatch::announce_change(state, &Identity::new(name.display.clone()), Change::Left);
            let Some(peer) = name.ended_call.and_then(|ended| ended.peer_connection) else { continue };
            crate::dispatch::send_leave(state, &peer, &Identity::new(name.display), LeaveReason::Disconnected);
        }
        let (sender, events) = mpsc::unbounded_channel();
        spawn_lease_keeper(cluster.leases.clone(), state.config.name_lease_ttl / 3, sender);
        tokio::spawn(lease_events(state.downgrade(), events, state.config.name_lease_ttl / 3));
        tokio::spawn(incoming::deliver_incoming(state.downgrade(), incoming));
    }

    /// The node id, its directory and link, and what [`Started::spawn_tasks`] takes.
    #[allow(clippy::type_complexity)]
    pub fn into_parts(
        self,
    ) -> (NodeId, DirectoryBackend, ClusterNode, mpsc::Receiver<Incoming>, Vec<crate::directory::FreedName>) {
        (self.node, self.directory, self.cluster, self.incoming, self.left_behind)
    }
}

impl ClusterNode {
    /// Whether this node reaches Redis (its last heartbeat or sweep worked).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Connection `id` signed in as `name`.
    pub fn signed_in(&self, id: ConnectionId, name: &Identity) {
        self.signed_in.lock().unwrap_or_else(PoisonError::into_inner).insert(id, name.clone());
    }

    /// Connection `id` signed out (or closed).
    pub fn signed_out(&self, id: ConnectionId) {
        self.signed_in.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }

    /// `name`, held by the closed connection `holder`, could not be freed (Redis out of reach):
    /// freed when Redis is back.
    pub fn release_later(&self, name: Identity, holder: ConnectionRef) {
        self.pending_releases.lock().unwrap_or_else(PoisonError::into_inner).push((name, holder));
    }

    /// How many incoming frames (first) and presence notes this node dropped (its subscription's
    /// queue was full): `duet_cluster_incoming_dropped_total`.
    pub fn incoming_dropped(&self) -> (u64, u64) {
        (self.drops.frames(), self.drops.presence())
    }

    /// Tells every node that `name`'s presence changed here (a spawned publish; a failure is
    /// logged: Redis is out of reach, and the other nodes resynchronize when they reconnect).
    pub fn publish_presence(&self, node: NodeId, name: &Identity) {
        let publisher = self.publisher.clone();
        let display = name.display().as_str().to_owned();
        tokio::spawn(async move {
            if let Err(error) = publisher.publish_presence(node, &display).await {
                tracing::warn!(%error, "a presence change was not published to the other nodes");
            }
        });
    }

    /// Publishes a relayed frame for `to` (on another node) with its return address (`sender`
    /// and the recipient's name as written), awaiting Redis's answer.
    pub async fn publish_relayed(
        &self,
        to: ConnectionRef,
        sender: ConnectionRef,
        recipient_name: &str,
        payload: &[u8],
    ) -> Result<(), ClusterError> {
        self.publisher.publish_relayed(to, sender, recipient_name, payload).await
    }

    /// Publishes `payload` for `to` (on another node), awaiting Redis's answer.
    pub async fn publish(&self, to: &ConnectionRef, kind: NodeDelivery, payload: &[u8]) -> Result<(), ClusterError> {
        self.publisher.publish_delivery(to.node, to.connection, kind, payload).await
    }
}

/// Delivers a frame the server generated (`leave`, `call_resumed`) or a kick to `to`, on this
/// node at once or on another by a spawned publish (never waits; a failure is logged: the
/// node is gone, and its sweep tells whoever must know).
pub fn deliver_reserved_anywhere(state: &AppState, to: &ConnectionRef, kind: NodeDelivery, text: Utf8Bytes) {
    if to.node == state.router.node() || state.cluster.is_none() {
        let _ = match kind {
            NodeDelivery::Kick(reason) => state.router.kick(to, reason),
            _ => state.router.deliver_reserved(to, text),
        };
        return;
    }
    let (state, to) = (state.clone(), *to);
    tokio::spawn(async move {
        let Some(cluster) = &state.cluster else { return };
        if let Err(error) = cluster.publish(&to, kind, text.as_bytes()).await {
            tracing::warn!(%to, %error, "a server message for another node was not delivered");
        }
    });
}

async fn lease_events(state: Weak<SharedState>, mut events: mpsc::UnboundedReceiver<LeaseEvent>, retry: Duration) {
    // Names left to free are retried on every event and at least this often.
    let mut retries = tokio::time::interval(retry);
    retries.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let Some(shutdown) = state.upgrade().map(|state| state.shutdown.clone()) else { return };
        let event = tokio::select! {
            () = shutdown.cancelled() => return,
            event = events.recv() => event,
            _ = retries.tick() => {
                let Some(state) = state.upgrade().map(AppState) else { return };
                if let Some(cluster) = &state.cluster {
                    release_pending(&state, cluster).await;
                }
                continue;
            }
        };
        let (Some(event), Some(state)) = (event, state.upgrade().map(AppState)) else { return };
        let Some(cluster) = &state.cluster else { return };
        match event {
            LeaseEvent::Unavailable(error) => {
                cluster.ready.store(false, Ordering::Relaxed);
                tracing::error!(%error, "Redis is unreachable: sign-ins are refused until it is back");
            }
            LeaseEvent::Available => {
                cluster.ready.store(true, Ordering::Relaxed);
                tracing::info!("Redis is reachable again");
                release_pending(&state, cluster).await;
            }
            LeaseEvent::Lapsed => {
                reclaim_names(&state, cluster).await;
                release_pending(&state, cluster).await;
            }
            LeaseEvent::Swept { node, freed } => {
                tracing::info!(%node, names = freed.len(), "a dead node's names freed");
                for name in freed {
                    let departed = Identity::new(name.display);
                    crate::dispatch::announce_change(&state, &departed, Change::Left);
                    let Some(peer) = name.ended_call.and_then(|ended| ended.peer_connection) else { continue };
                    crate::dispatch::send_leave(&state, &peer, &departed, LeaveReason::Disconnected);
                }
            }
        }
    }
}

/// After a lapsed lease: keeps every live connection's name that is still its own, closes the
/// connections whose name someone else holds now.
async fn reclaim_names(state: &AppState, cluster: &ClusterNode) {
    let names: Vec<(ConnectionId, Identity)> = cluster
        .signed_in
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(id, name)| (*id, name.clone()))
        .collect();
    tracing::warn!(names = names.len(), "this node's lease lapsed: re-claiming its names");
    for (id, name) in names {
        match cluster.leases.reclaim(&name, id).await {
            Ok(Claim::Won { .. }) => {
                // Online again if a survivor had swept it meanwhile (the flush reads the state).
                crate::dispatch::announce_change(state, &name, Change::Joined);
            }
            Ok(Claim::Replaced { .. }) => {}
            Ok(Claim::Taken { .. }) => {
                tracing::warn!(user = %name, connection = id, "name lost while the lease had lapsed: connection closed");
                let _ = state.router.kick(&state.router.reference_to(id), KickReason::ReplacedByNewLogin);
            }
            Err(error) => {
                tracing::warn!(%error, "re-claiming stopped: Redis is unreachable again");
                return;
            }
        }
    }
}

/// Frees the names of connections that closed while Redis was out of reach (their peers told
/// `disconnected`); those still failing are kept for the next time.
async fn release_pending(state: &AppState, cluster: &ClusterNode) {
    if cluster.pending_releases.lock().unwrap_or_else(PoisonError::into_inner).is_empty() {
        return;
    }
    let pending = std::mem::take(&mut *cluster.pending_releases.lock().unwrap_or_else(PoisonError::into_inner));
    for (index, (name, holder)) in pending.iter().enumerate() {
        match state.directory.release(name, *holder, None).await {
            Ok(released) => {
                // Freed now, or already (swept, or Redis restarted empty): no longer this node's.
                tracing::info!(user = %name, "name freed after Redis came back");
                state.metrics.users_online.dec();
                crate::dispatch::announce_change(state, name, Change::Left);
                let ended = released.and_then(|released| released.ended_call);
                if let Some(peer) = ended.and_then(|ended| ended.peer_connection) {
                    crate::dispatch::send_leave(state, &peer, name, LeaveReason::Disconnected);
                }
            }
            Err(_) => {
                let mut still = cluster.pending_releases.lock().unwrap_or_else(PoisonError::into_inner);
                still.extend(pending[index..].iter().cloned());
                return;
            }
        }
    }
}

/// The words for a relay that could not reach the other node.
pub fn unreachable_words() -> String {
    "Your message could not be delivered: the other person's server cannot be reached right now. Try again in a moment."
        .to_owned()
}

/// `leave` as the server sends it (also across nodes).
pub fn leave_text(departed: &Identity, reason: LeaveReason) -> Utf8Bytes {
    Utf8Bytes::from(ServerMessage::Leave { name: Some(departed.display().clone()), reason: Some(reason) }.to_json())
}
