//! Tests of the per-node channel against a real redis-server.

use super::*;
use crate::cluster::connect;
use crate::cluster::test_redis::TestRedis;
use std::time::{Duration, Instant};

const NODE_A: NodeId = NodeId::from_raw(0xa);
const NODE_B: NodeId = NodeId::from_raw(0xb);
/// Generous: only hit when something is broken.
const DEADLINE: Duration = Duration::from_secs(20);

async fn next(incoming: &mut mpsc::UnboundedReceiver<Incoming>) -> Incoming {
    tokio::time::timeout(DEADLINE, incoming.recv()).await.expect("in time").expect("subscription alive")
}

/// Waits for `expected`, skipping frames.
async fn wait_for(incoming: &mut mpsc::UnboundedReceiver<Incoming>, expected: Incoming) {
    while next(incoming).await != expected {}
}

/// Frame `sequence` of `sender`: not UTF-8, with a JSON tail, different lengths.
fn payload(sender: u8, sequence: u32) -> Vec<u8> {
    let mut bytes = vec![sender, 0xff, 0x00, 0xfe];
    bytes.extend_from_slice(&sequence.to_be_bytes());
    bytes.extend_from_slice(br#"{"candidate":"a\u00e9"}"#);
    bytes.resize(bytes.len() + (sequence % 50) as usize, b' ');
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_frames_from_each_of_two_senders_arrive_in_order_with_their_bytes_unchanged() {
    let redis = TestRedis::start();
    let (_subscription, mut incoming) = NodeSubscription::subscribe(&redis.url(), NODE_B).await.expect("subscribed");
    wait_for(&mut incoming, Incoming::Subscribed).await;
    let publisher = NodePublisher::new(connect(&redis.url()).await.expect("redis"));
    const FRAMES: u32 = 10_000;
    let senders: Vec<_> = (0..2u8)
        .map(|sender| {
            let publisher = publisher.clone();
            tokio::spawn(async move {
                for sequence in 0..FRAMES {
                    publisher
                        .publish(NODE_B, u64::from(sender) + 100, &payload(sender, sequence))
                        .await
                        .expect("published");
                }
            })
        })
        .collect();
    let mut expected_next = [0u32; 2];
    while expected_next.iter().any(|&sequence| sequence < FRAMES) {
        let Incoming::Frame(frame) = next(&mut incoming).await else { panic!("only frames") };
        let sender = frame.payload[0];
        assert_eq!(frame.connection, u64::from(sender) + 100);
        let sequence = expected_next[usize::from(sender)];
        assert_eq!(frame.payload, payload(sender, sequence), "sender {sender}: frame {sequence} next, unchanged");
        expected_next[usize::from(sender)] += 1;
    }
    for sender in senders {
        sender.await.expect("sender");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_for_a_node_nobody_subscribes_for_fails_at_its_sender() {
    let redis = TestRedis::start();
    let publisher = NodePublisher::new(connect(&redis.url()).await.expect("redis"));
    let refused = publisher.publish(NODE_A, 1, b"{}").await;
    assert!(matches!(refused, Err(ClusterError::NodeUnreachable(NODE_A))), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_frames_fail_at_their_sender_and_delivery_resumes_by_itself_after_a_restart() {
    let mut redis = TestRedis::start();
    let (_subscription, mut incoming) = NodeSubscription::subscribe(&redis.url(), NODE_B).await.expect("subscribed");
    wait_for(&mut incoming, Incoming::Subscribed).await;
    let publisher = NodePublisher::new(connect(&redis.url()).await.expect("redis"));
    publisher.publish(NODE_B, 1, b"before").await.expect("published");
    assert_eq!(
        next(&mut incoming).await,
        Incoming::Frame(NodeFrame { kind: NodeDelivery::Frame, connection: 1, payload: b"before".to_vec() })
    );

    redis.kill();
    wait_for(&mut incoming, Incoming::Disconnected).await;
    assert!(publisher.publish(NODE_B, 1, b"while down").await.is_err(), "refused, never silently lost");

    // Restarting blocks while redis-server starts: not on the runtime's threads.
    let _redis = tokio::task::spawn_blocking(move || {
        redis.restart();
        redis
    })
    .await
    .expect("restarted");
    let started = Instant::now();
    wait_for(&mut incoming, Incoming::Subscribed).await;
    // The publisher's manager reconnects by itself too; until then publishing fails.
    while publisher.publish(NODE_B, 2, b"after").await.is_err() {
        assert!(started.elapsed() < DEADLINE, "the publisher never recovered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        next(&mut incoming).await,
        Incoming::Frame(NodeFrame { kind: NodeDelivery::Frame, connection: 2, payload: b"after".to_vec() })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_frames_and_kicks_arrive_as_such_in_order_with_the_frames() {
    let redis = TestRedis::start();
    let (_subscription, mut incoming) = NodeSubscription::subscribe(&redis.url(), NODE_B).await.expect("subscribed");
    wait_for(&mut incoming, Incoming::Subscribed).await;
    let publisher = NodePublisher::new(connect(&redis.url()).await.expect("redis"));
    let sent = [
        (NodeDelivery::Frame, &b"{\"type\":\"candidate\"}"[..]),
        (NodeDelivery::Reserved, &b"{\"type\":\"leave\"}"[..]),
        (NodeDelivery::Kick(crate::delivery::KickReason::ReplacedByNewLogin), &b""[..]),
        (NodeDelivery::Kick(crate::delivery::KickReason::SlowConsumer), &b""[..]),
    ];
    for (kind, payload) in sent {
        publisher.publish_delivery(NODE_B, 7, kind, payload).await.expect("published");
    }
    for (kind, payload) in sent {
        let expected = NodeFrame { kind, connection: 7, payload: payload.to_vec() };
        assert_eq!(next(&mut incoming).await, Incoming::Frame(expected));
    }
}
