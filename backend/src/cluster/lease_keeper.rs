//! The lease keeper: one task per node that renews the node's lease every `interval` (a
//! fraction of the TTL: a third leaves two heartbeats' slack), and turns what it sees into
//! events for the node: Redis gone and back (readiness: `/readyz`, sign-ins refused as
//! `unavailable` meanwhile), a lapsed lease (Redis restarted empty, or this node stalled past
//! the TTL: re-claim the names of live connections, close those now held by others), and the
//! names of dead nodes it swept (tell the peers of their calls `disconnected`).
//!
//! It stops when the receiver of its events is dropped.

use super::leases::{FreedName, Heartbeat, NameLeases};
use super::ClusterError;
use crate::address::NodeId;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What the keeper saw, in order.
#[derive(Debug)]
pub enum LeaseEvent {
    /// A heartbeat or sweep failed: Redis is unreachable (reported once per outage).
    Unavailable(ClusterError),
    /// Heartbeats work again after [`LeaseEvent::Unavailable`].
    Available,
    /// The lease had expired before a heartbeat renewed it: this node's names may be gone.
    Lapsed,
    /// `node`'s lease expired and this node swept its names (no other node got them).
    Swept { node: NodeId, freed: Vec<FreedName> },
}

/// Starts the keeper of `leases`' node. The first heartbeat of a new node finds no lease; that
/// is not reported as a lapse.
pub fn spawn_lease_keeper(
    leases: NameLeases,
    interval: Duration,
    events: mpsc::UnboundedSender<LeaseEvent>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut available = true;
        let mut first = true;
        loop {
            ticks.tick().await;
            let sent = match keep(&leases, first).await {
                Ok(seen) => {
                    first = false;
                    let recovered = (!available).then_some(LeaseEvent::Available);
                    available = true;
                    recovered.into_iter().chain(seen).try_for_each(|event| events.send(event))
                }
                Err(error) if available => {
                    available = false;
                    events.send(LeaseEvent::Unavailable(error))
                }
                Err(_) => Ok(()),
            };
            if sent.is_err() || events.is_closed() {
                return;
            }
        }
    })
}

/// One heartbeat and one sweep.
async fn keep(leases: &NameLeases, first: bool) -> Result<Vec<LeaseEvent>, ClusterError> {
    let mut seen = Vec::new();
    if leases.heartbeat().await? == Heartbeat::Lapsed && !first {
        seen.push(LeaseEvent::Lapsed);
    }
    for node in leases.dead_nodes().await? {
        let freed = leases.sweep_dead_node(node).await?;
        if !freed.is_empty() {
            seen.push(LeaseEvent::Swept { node, freed });
        }
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::connect;
    use crate::cluster::leases::Claim;
    use crate::cluster::test_redis::TestRedis;
    use crate::directory::Identity;
    use protocol::UserName;

    const TTL: Duration = Duration::from_millis(500);
    const INTERVAL: Duration = Duration::from_millis(100);
    /// Generous: only hit when something is broken.
    const DEADLINE: Duration = Duration::from_secs(20);

    async fn keeper(redis: &TestRedis, raw: u64) -> (NameLeases, JoinHandle<()>, mpsc::UnboundedReceiver<LeaseEvent>) {
        let leases = NameLeases::new(connect(&redis.url()).await.expect("redis"), NodeId::from_raw(raw), TTL);
        let (sender, events) = mpsc::unbounded_channel();
        let task = spawn_lease_keeper(leases.clone(), INTERVAL, sender);
        // Claims need a live lease: wait for the first heartbeat.
        while !leases.lease_is_live().await.expect("redis") {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (leases, task, events)
    }

    async fn next(events: &mut mpsc::UnboundedReceiver<LeaseEvent>) -> LeaseEvent {
        tokio::time::timeout(DEADLINE, events.recv()).await.expect("in time").expect("keeper running")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_survivor_s_keeper_sweeps_a_killed_node_and_hands_on_its_names() {
        let redis = TestRedis::start();
        let (node_a, keeper_a, _events_a) = keeper(&redis, 0xa).await;
        let (node_b, _keeper_b, mut events_b) = keeper(&redis, 0xb).await;
        for (number, name) in ["alice", "bob"].into_iter().enumerate() {
            let claim = node_a.claim(&Identity::new(UserName::from_wire(name)), number as u64 + 1).await;
            assert!(matches!(claim.expect("redis"), Claim::Won { .. }));
        }
        keeper_a.abort();
        let LeaseEvent::Swept { node, freed } = next(&mut events_b).await else { panic!("a sweep first") };
        assert_eq!(node, node_a.node());
        let mut names: Vec<_> = freed.iter().map(|freed| freed.display.as_str().to_owned()).collect();
        names.sort();
        assert_eq!(names, ["alice", "bob"]);
        let claim = node_b.claim(&Identity::new(UserName::from_wire("alice")), 9).await.expect("redis");
        assert!(matches!(claim, Claim::Won { .. }), "free again");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_keeper_reports_redis_going_away_and_coming_back_empty_as_a_lapse() {
        let mut redis = TestRedis::start();
        let (_node_a, _keeper_a, mut events) = keeper(&redis, 0xa).await;
        redis.kill();
        assert!(matches!(next(&mut events).await, LeaseEvent::Unavailable(ClusterError::Unavailable(_))));
        let _redis = tokio::task::spawn_blocking(move || {
            redis.restart();
            redis
        })
        .await
        .expect("restarted");
        assert!(matches!(next(&mut events).await, LeaseEvent::Available));
        assert!(matches!(next(&mut events).await, LeaseEvent::Lapsed));
    }
}
