//! The cluster building blocks together, through the crate's public API, against a real
//! redis-server (started by the test on a free loopback port, killed by PID): alice on node A
//! calls bob on node B, and her frames reach bob's connection through node B's channel.

mod common;

use backend::address::{ConnectionRef, NodeId};
use backend::cluster::connect;
use backend::cluster::directory::RedisDirectory;
use backend::cluster::node_channel::{Incoming, NodeDelivery, NodeFrame, NodePublisher, NodeSubscription};
use backend::directory::{Answered, ClaimRequest, Identity, Offered};
use common::test_redis::TestRedis;
use protocol::UserName;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_on_node_a_calls_bob_on_node_b_and_her_candidates_reach_his_connection_in_order() {
    let redis = TestRedis::start();
    let ttl = Duration::from_secs(5);
    let (node_a, node_b) = (NodeId::from_raw(0xa), NodeId::from_raw(0xb));
    let directory_a = RedisDirectory::new(connect(&redis.url()).await.expect("redis"), node_a, ttl);
    let directory_b = RedisDirectory::new(connect(&redis.url()).await.expect("redis"), node_b, ttl);
    directory_a.leases().heartbeat().await.expect("heartbeat");
    directory_b.leases().heartbeat().await.expect("heartbeat");
    let (_subscription, mut incoming_b) = NodeSubscription::subscribe(&redis.url(), node_b).await.expect("subscribed");
    let publisher_a = NodePublisher::new(connect(&redis.url()).await.expect("redis"));

    let alice = Identity::new(UserName::from_wire("alice"));
    let bob = Identity::new(UserName::from_wire("bob"));
    let alice_at = ConnectionRef { node: node_a, connection: 1 };
    let bob_at = ConnectionRef { node: node_b, connection: 1 };
    directory_a.claim(&alice, alice_at, &ClaimRequest::Fresh).await.expect("redis").expect("alice signs in on A");
    directory_b.claim(&bob, bob_at, &ClaimRequest::Fresh).await.expect("redis").expect("bob signs in on B");
    let ring_deadline = Instant::now() + Duration::from_secs(45);
    let started = directory_a.start_call(&alice, alice_at, bob.display(), ring_deadline).await.expect("redis");
    let started = started.expect("bob is free");
    assert!(matches!(started.outcome, Offered::NewCall(_)));
    assert_eq!(started.callee_connection, bob_at);
    let answered = directory_b.answer_call(&bob, bob_at, alice.display()).await.expect("redis").expect("answered");
    assert!(matches!(answered.outcome, Answered::Connected(_)));

    let to = directory_a.relay_target(&alice, alice_at, bob.display()).await.expect("redis").expect("in a call");
    assert_eq!(to.node, node_b, "another node: through its channel");
    for index in 0..1000 {
        let frame = format!(r#"{{"type":"candidate","to":"bob","candidate":{index}}}"#);
        publisher_a.publish(to.node, to.connection, frame.as_bytes()).await.expect("published");
    }
    let mut received = 0;
    while received < 1000 {
        let event = tokio::time::timeout(Duration::from_secs(20), incoming_b.recv()).await.expect("in time");
        match event.expect("subscribed") {
            Incoming::Subscribed | Incoming::Presence(_) => continue,
            Incoming::Frame(NodeFrame { kind, connection, payload, .. }) => {
                assert_eq!(kind, NodeDelivery::Frame);
                assert_eq!(connection, bob_at.connection);
                let expected = format!(r#"{{"type":"candidate","to":"bob","candidate":{received}}}"#);
                assert_eq!(String::from_utf8(payload).expect("the JSON text"), expected);
                received += 1;
            }
            Incoming::Disconnected => panic!("Redis did not go away"),
        }
    }
}
