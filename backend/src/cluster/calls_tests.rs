//! Tests of the call records across two nodes against a real redis-server. The single-node
//! rules (busy, glare, renegotiation, ring deadlines…) are the conformance scenarios in
//! `conformance/`; these add what only a cluster has: parties on two nodes, concurrent
//! transitions from two nodes, and a node that dies mid-call.

use crate::cluster::connect;
use crate::cluster::directory::RedisDirectory;
use crate::cluster::test_redis::TestRedis;
use crate::directory::{Answered, CallError, CallPhase, ConnectionRef, Identity, NodeId, Offered};
use protocol::UserName;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_millis(500);

/// The directory of node `raw` on its own client connection, its lease renewed once.
async fn node(redis: &TestRedis, raw: u64) -> RedisDirectory {
    let directory = RedisDirectory::new(connect(&redis.url()).await.expect("redis"), NodeId::from_raw(raw), TTL);
    directory.leases().heartbeat().await.expect("heartbeat");
    directory
}

async fn sign_in(directory: &RedisDirectory, name: &str, connection: u64) -> (Identity, ConnectionRef) {
    let holder = ConnectionRef { node: directory.leases().node(), connection };
    let claimed = directory
        .claim(&Identity::new(UserName::from_wire(name)), holder, &crate::directory::ClaimRequest::Fresh)
        .await
        .expect("redis");
    (claimed.expect("a free name").identity, holder)
}

fn target(name: &str) -> UserName {
    UserName::from_wire(name)
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(45)
}

async fn assert_consistent(directory: &RedisDirectory) {
    assert_eq!(directory.check_consistency().await.expect("redis"), Ok(()));
}

#[tokio::test]
async fn a_call_between_two_nodes_rings_is_busy_for_others_refuses_glare_and_relays_both_ways() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (node(&redis, 0xa).await, node(&redis, 0xb).await);
    let (alice, alice_at) = sign_in(&node_a, "alice", 1).await;
    let (bob, bob_at) = sign_in(&node_b, "bob", 1).await;
    let (carol, carol_at) = sign_in(&node_b, "carol", 2).await;
    let started = node_a.start_call(&alice, alice_at, &target("Bob"), later()).await.expect("redis").expect("a call");
    assert!(matches!(started.outcome, Offered::NewCall(_)));
    assert_eq!(started.callee_connection, bob_at, "on node B");
    let busy = node_b.start_call(&carol, carol_at, &target("alice"), later()).await.expect("redis");
    assert_eq!(busy.map(|started| started.outcome), Err(CallError::Busy(target("alice"))));
    let glare = node_b.start_call(&bob, bob_at, &target("alice"), later()).await.expect("redis");
    assert_eq!(glare.map(|started| started.outcome), Err(CallError::AlreadyInCall(target("alice"))));
    let answered = node_b.answer_call(&bob, bob_at, &target("alice")).await.expect("redis").expect("answered");
    assert!(matches!(answered.outcome, Answered::Connected(_)));
    assert_eq!(answered.caller_connection, alice_at, "on node A");
    assert_eq!(node_a.relay_target(&alice, alice_at, &target("bob")).await.expect("redis"), Ok(bob_at));
    assert_eq!(node_b.relay_target(&bob, bob_at, &target("alice")).await.expect("redis"), Ok(alice_at));
    let ended = node_b.end_call(&bob, bob_at, None).await.expect("redis").expect("hung up");
    assert_eq!((ended.peer_connection, ended.phase), (Some(alice_at), CallPhase::Connected));
    assert_consistent(&node_a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_callers_on_two_nodes_offering_to_one_idle_callee_at_once_exactly_one_rings_it() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (node(&redis, 0xa).await, node(&redis, 0xb).await);
    let (alice, alice_at) = sign_in(&node_a, "alice", 1).await;
    let (carol, carol_at) = sign_in(&node_b, "carol", 2).await;
    let (bob, bob_at) = sign_in(&node_b, "bob", 1).await;
    let bob_typed = target("bob");
    for round in 0..200 {
        let (from_a, from_b) = tokio::join!(
            node_a.start_call(&alice, alice_at, &bob_typed, later()),
            node_b.start_call(&carol, carol_at, &bob_typed, later()),
        );
        let (from_a, from_b) = (from_a.expect("redis"), from_b.expect("redis"));
        assert!(from_a.is_ok() != from_b.is_ok(), "round {round}: exactly one rings bob: {from_a:?} {from_b:?}");
        let loser = if from_a.is_ok() { from_b } else { from_a };
        assert_eq!(loser.map(|started| started.outcome), Err(CallError::Busy(target("bob"))));
        node_b.end_call(&bob, bob_at, None).await.expect("redis").expect("bob declines");
    }
    assert_eq!(node_a.next_ring_deadline().await.expect("redis"), None);
    assert_consistent(&node_a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_expired_ring_goes_to_exactly_one_of_two_sweeping_nodes() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (node(&redis, 0xa).await, node(&redis, 0xb).await);
    let past = Instant::now();
    for pair in 0..50u64 {
        let (caller, caller_at) = sign_in(&node_a, &format!("caller{pair}"), pair).await;
        sign_in(&node_b, &format!("callee{pair}"), pair).await;
        let callee = target(&format!("callee{pair}"));
        node_a.start_call(&caller, caller_at, &callee, past).await.expect("redis").expect("a call");
    }
    let now = Instant::now();
    let (swept_a, swept_b) = tokio::join!(node_a.expire_rings(now), node_b.expire_rings(now));
    let ids =
        |swept: Vec<crate::directory::ExpiredRing>| swept.into_iter().map(|ring| ring.call_id).collect::<Vec<_>>();
    let (ids_a, ids_b) = (ids(swept_a.expect("redis")), ids(swept_b.expect("redis")));
    let all: BTreeSet<_> = ids_a.iter().chain(&ids_b).collect();
    assert_eq!((all.len(), ids_a.len() + ids_b.len()), (50, 50), "each once: {ids_a:?} {ids_b:?}");
    assert_consistent(&node_a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_a_node_dies_mid_call_a_survivor_sweeps_its_names_and_learns_whom_to_tell() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (node(&redis, 0xa).await, node(&redis, 0xb).await);
    let (alice, alice_at) = sign_in(&node_a, "alice", 1).await;
    let (bob, bob_at) = sign_in(&node_b, "bob", 1).await;
    node_a.start_call(&alice, alice_at, &target("bob"), later()).await.expect("redis").expect("a call");
    node_b.answer_call(&bob, bob_at, &target("alice")).await.expect("redis").expect("answered");
    // Node A is killed: no more heartbeats. Node B keeps its own lease.
    let killed = Instant::now();
    let dead = loop {
        node_b.leases().heartbeat().await.expect("heartbeat");
        let dead = node_b.leases().dead_nodes().await.expect("redis");
        if !dead.is_empty() {
            break dead;
        }
        assert!(killed.elapsed() < TTL * 20, "node A never counted as dead");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(dead, [node_a.leases().node()]);
    let freed = node_b.leases().sweep_dead_node(dead[0]).await.expect("redis");
    assert_eq!(freed.len(), 1);
    assert_eq!((freed[0].display.as_str(), freed[0].holder), ("alice", alice_at));
    let ended = freed[0].ended_call.clone().expect("alice's call ended");
    assert_eq!((ended.peer, ended.peer_connection, ended.phase), (bob.clone(), Some(bob_at), CallPhase::Connected));
    assert_eq!(node_b.end_call(&bob, bob_at, None).await.expect("redis"), Err(CallError::NoCall), "bob is free");
    sign_in(&node_b, "alice", 2).await;
    assert_consistent(&node_b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_of_a_dead_node_s_name_before_any_sweep_frees_it_and_names_the_peer_to_tell() {
    let redis = TestRedis::start();
    let (node_a, node_b) = (node(&redis, 0xa).await, node(&redis, 0xb).await);
    let (alice, alice_at) = sign_in(&node_a, "alice", 1).await;
    let (bob, bob_at) = sign_in(&node_b, "bob", 1).await;
    node_a.start_call(&alice, alice_at, &target("bob"), later()).await.expect("redis").expect("a call");
    // Node A dies; someone on node B signs in as alice as soon as the name is free.
    let killed = Instant::now();
    let claimed = loop {
        node_b.leases().heartbeat().await.expect("heartbeat");
        let holder = ConnectionRef { node: node_b.leases().node(), connection: 2 };
        if let Ok(claimed) = node_b.claim(&alice, holder, &crate::directory::ClaimRequest::Fresh).await.expect("redis")
        {
            break claimed;
        }
        assert!(killed.elapsed() < TTL * 20, "alice was never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(claimed.replaced, None, "a new sign-in, not a resume");
    let freed = claimed.stale_holders_freed;
    assert_eq!(freed.len(), 1);
    assert_eq!(freed[0].holder, alice_at);
    let ended = freed[0].ended_call.clone().expect("the dead alice's call ended");
    assert_eq!((ended.peer, ended.peer_connection, ended.phase), (bob, Some(bob_at), CallPhase::Ringing));
    assert_eq!(node_b.next_ring_deadline().await.expect("redis"), None, "its ring deadline is gone");
    assert_eq!(node_b.leases().sweep_dead_node(node_a.leases().node()).await.expect("redis"), []);
    assert_consistent(&node_b).await;
}
