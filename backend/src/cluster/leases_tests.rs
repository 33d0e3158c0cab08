//! Tests of [`NameLeases`] against a real redis-server.

use super::*;
use crate::cluster::connect;
use crate::cluster::test_redis::TestRedis;
use std::time::Instant;

const TTL: Duration = Duration::from_millis(600);
const HEARTBEAT: Duration = Duration::from_millis(150);

/// Node `raw` on its own client connection, its lease renewed once.
async fn node(redis: &TestRedis, raw: u64) -> NameLeases {
    let leases = NameLeases::new(connect(&redis.url()).await.expect("redis"), NodeId::from_raw(raw), TTL);
    assert_eq!(leases.heartbeat().await.expect("heartbeat"), Heartbeat::Lapsed, "a new node had no lease");
    leases
}

fn identity(name: &str) -> Identity {
    Identity::new(UserName::from_wire(name))
}

fn won(claim: &Claim) -> bool {
    matches!(claim, Claim::Won { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_nodes_racing_for_one_name_exactly_one_wins_each_of_1000_rounds() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (node(&redis, 0xa).await, node(&redis, 0xb).await);
    let rounds = (0..1000u64).map(|round| {
        let (node_a, node_b) = (node_a.clone(), node_b.clone());
        async move {
            let name = identity(&format!("racer{round}"));
            let (a, b) = tokio::join!(node_a.claim(&name, round), node_b.claim(&name, round));
            let (a, b) = (a.expect("redis"), b.expect("redis"));
            assert!(won(&a) != won(&b), "round {round}: exactly one wins: {a:?} {b:?}");
            let loser = if won(&a) { b } else { a };
            assert_eq!(loser, Claim::Taken { in_use: UserName::from_wire(format!("racer{round}")) });
        }
    });
    futures_util::future::join_all(rounds).await;
}

#[tokio::test]
async fn a_name_or_a_look_alike_held_on_another_node_is_refused() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (node(&redis, 0xa).await, node(&redis, 0xb).await);
    assert!(won(&node_a.claim(&identity("alice"), 1).await.expect("redis")));
    for requested in ["alice", "ALICE", "\u{430}lice", "aIice"] {
        let refused = node_b.claim(&identity(requested), 2).await.expect("redis");
        assert_eq!(refused, Claim::Taken { in_use: UserName::from_wire("alice") }, "{requested}");
    }
    assert!(won(&node_b.claim(&identity("bob"), 2).await.expect("redis")));
}

#[tokio::test]
async fn release_by_anyone_but_the_holder_is_a_no_op_and_the_holder_frees_the_name_once() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (node(&redis, 0xa).await, node(&redis, 0xb).await);
    let alice = identity("alice");
    node_a.claim(&alice, 1).await.expect("redis");
    let holder = ConnectionRef { node: node_a.node(), connection: 1 };
    for not_holder in [ConnectionRef { connection: 2, ..holder }, ConnectionRef { node: node_b.node(), ..holder }] {
        assert_eq!(node_b.release(&alice, not_holder).await.expect("redis"), None);
    }
    assert!(matches!(node_b.claim(&alice, 5).await.expect("redis"), Claim::Taken { .. }), "still held");
    assert_eq!(node_a.release(&alice, holder).await.expect("redis"), Some(None), "freed, no call");
    assert_eq!(node_a.release(&alice, holder).await.expect("redis"), None, "once");
    assert!(won(&node_b.claim(&identity("aIice"), 5).await.expect("redis")), "its shape is free too");
}

#[tokio::test]
async fn a_takeover_moves_the_name_across_nodes_and_returns_the_previous_holder() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (node(&redis, 0xa).await, node(&redis, 0xb).await);
    node_a.claim(&identity("alice"), 1).await.expect("redis");
    let moved = node_b.take_over(&identity("ALICE"), 7).await.expect("redis");
    let previous = ConnectionRef { node: node_a.node(), connection: 1 };
    let Claim::Replaced { display, previous: replaced, ended_call, .. } = moved else { panic!("{moved:?}") };
    assert_eq!((display.as_str(), replaced, ended_call), ("alice", Some(previous), None));
    assert_eq!(node_a.release(&identity("alice"), previous).await.expect("redis"), None, "no longer its holder");
    // Node A dying no longer frees it: it is node B's now.
    let new_holder = ConnectionRef { node: node_b.node(), connection: 7 };
    assert_eq!(node_b.release(&identity("alice"), new_holder).await.expect("redis"), Some(None));
    // A takeover of a name nobody holds is a claim.
    assert!(won(&node_b.take_over(&identity("carol"), 8).await.expect("redis")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_stops_heartbeating_loses_its_names_within_the_ttl_and_one_heartbeat() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (node(&redis, 0xa).await, node(&redis, 0xb).await);
    let heartbeats = tokio::spawn({
        let node_b = node_b.clone();
        async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                node_b.heartbeat().await.expect("heartbeat");
            }
        }
    });
    for (number, name) in ["alice", "bob"].into_iter().enumerate() {
        node_a.claim(&identity(name), number as u64).await.expect("redis");
    }
    node_b.claim(&identity("carol"), 9).await.expect("redis");
    // Node A heartbeats a while, then is "killed": no more heartbeats.
    let mut last_heartbeat_sent = Instant::now();
    for _ in 0..3 {
        tokio::time::sleep(HEARTBEAT).await;
        last_heartbeat_sent = Instant::now();
        assert_eq!(node_a.heartbeat().await.expect("heartbeat"), Heartbeat::Renewed);
    }
    let killed = Instant::now();
    assert!(matches!(node_b.claim(&identity("alice"), 10).await.expect("redis"), Claim::Taken { .. }));
    assert_eq!(node_b.dead_nodes().await.expect("redis"), [], "both alive");
    let freed_at = loop {
        if won(&node_b.claim(&identity("alice"), 10).await.expect("redis")) {
            break killed.elapsed();
        }
        assert!(killed.elapsed() < TTL * 10, "alice was never freed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // The lease expires in Redis TTL after the last heartbeat; allow scheduling slack.
    assert!(freed_at <= TTL + HEARTBEAT + Duration::from_secs(2), "freed after {freed_at:?}");
    // Never before the lease's TTL ran out (Redis counts whole milliseconds).
    let lease_lived = last_heartbeat_sent.elapsed() - (killed.elapsed() - freed_at);
    assert!(lease_lived + Duration::from_millis(5) >= TTL, "freed too early: {lease_lived:?} after the heartbeat");
    assert_eq!(node_b.dead_nodes().await.expect("redis"), [node_a.node()]);
    let swept = node_b.sweep_dead_node(node_a.node()).await.expect("redis");
    let swept: Vec<_> = swept.iter().map(|freed| (freed.display.as_str(), freed.holder.connection)).collect();
    assert_eq!(swept, [("bob", 1)], "alice was already freed by the claim");
    assert_eq!(node_b.sweep_dead_node(node_a.node()).await.expect("redis"), [], "swept once");
    assert_eq!(node_b.sweep_dead_node(node_b.node()).await.expect("redis"), [], "a live node is left alone");
    assert!(matches!(node_a.claim(&identity("dave"), 3).await, Err(ClusterError::LeaseLapsed)));
    assert_eq!(node_a.heartbeat().await.expect("heartbeat"), Heartbeat::Lapsed, "told it lapsed");
    assert!(won(&node_a.claim(&identity("dave"), 3).await.expect("redis")));
    heartbeats.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_claims_fail_at_once_and_after_it_returns_empty_the_node_learns_and_reclaims() {
    let mut redis = TestRedis::start();
    let (node_a, node_b) = (node(&redis, 0xa).await, node(&redis, 0xb).await);
    assert!(won(&node_a.claim(&identity("alice"), 1).await.expect("redis")));
    redis.kill();
    let refused = node_b.claim(&identity("bob"), 2).await;
    assert!(matches!(refused, Err(ClusterError::Unavailable(_))), "{refused:?}");
    assert!(node_a.heartbeat().await.is_err(), "a heartbeat fails too");
    // Restarting blocks while redis-server starts: not on the runtime's threads.
    let _redis = tokio::task::spawn_blocking(move || {
        redis.restart();
        redis
    })
    .await
    .expect("restarted");
    // Redis came back empty (no persistence): the managers reconnect by themselves, and the
    // first heartbeat says the lease had lapsed, so the node re-claims its live names.
    let started = Instant::now();
    let heartbeat = loop {
        match node_a.heartbeat().await {
            Ok(heartbeat) => break heartbeat,
            Err(_) if started.elapsed() < Duration::from_secs(20) => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(error) => panic!("node A never reconnected: {error}"),
        }
    };
    assert_eq!(heartbeat, Heartbeat::Lapsed);
    assert!(won(&node_a.claim(&identity("alice"), 1).await.expect("redis")), "re-claimed");
    while node_b.heartbeat().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "node B never reconnected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        node_b.claim(&identity("alice"), 2).await.expect("redis"),
        Claim::Taken { in_use: UserName::from_wire("alice") }
    );
}
