//! Tests of the per-node channel against a real redis-server.

use super::*;
use crate::cluster::connect;
use crate::cluster::test_redis::TestRedis;
use std::time::{Duration, Instant};

const NODE_A: NodeId = NodeId::from_raw(0xa);
const NODE_B: NodeId = NodeId::from_raw(0xb);
/// Generous: only hit when something is broken.
const DEADLINE: Duration = Duration::from_secs(20);

async fn next(incoming: &mut mpsc::Receiver<Incoming>) -> Incoming {
    tokio::time::timeout(DEADLINE, incoming.recv()).await.expect("in time").expect("subscription alive")
}

/// Waits for `expected`, skipping frames.
async fn wait_for(incoming: &mut mpsc::Receiver<Incoming>, expected: Incoming) {
    while next(incoming).await != expected {}
}

/// Waits until both channels (the node's and presence) are subscribed.
async fn subscribed(incoming: &mut mpsc::Receiver<Incoming>) {
    wait_for(incoming, Incoming::Subscribed).await;
    wait_for(incoming, Incoming::Subscribed).await;
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
    subscribed(&mut incoming).await;
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
    subscribed(&mut incoming).await;
    let publisher = NodePublisher::new(connect(&redis.url()).await.expect("redis"));
    publisher.publish(NODE_B, 1, b"before").await.expect("published");
    assert_eq!(
        next(&mut incoming).await,
        Incoming::Frame(NodeFrame {
            kind: NodeDelivery::Frame,
            connection: 1,
            payload: b"before".to_vec(),
            return_address: None
        })
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
    subscribed(&mut incoming).await;
    // The publisher's manager reconnects by itself too; until then publishing fails.
    while publisher.publish(NODE_B, 2, b"after").await.is_err() {
        assert!(started.elapsed() < DEADLINE, "the publisher never recovered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        next(&mut incoming).await,
        Incoming::Frame(NodeFrame {
            kind: NodeDelivery::Frame,
            connection: 2,
            payload: b"after".to_vec(),
            return_address: None
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_frames_and_kicks_arrive_as_such_in_order_with_the_frames() {
    let redis = TestRedis::start();
    let (_subscription, mut incoming) = NodeSubscription::subscribe(&redis.url(), NODE_B).await.expect("subscribed");
    subscribed(&mut incoming).await;
    let publisher = NodePublisher::new(connect(&redis.url()).await.expect("redis"));
    let sent = [
        (NodeDelivery::Frame, &b"{\"type\":\"candidate\"}"[..]),
        (NodeDelivery::Reserved, &b"{\"type\":\"leave\"}"[..]),
        (NodeDelivery::Kick(crate::delivery::KickReason::ReplacedByNewLogin), &b""[..]),
        (NodeDelivery::Kick(crate::delivery::KickReason::SlowConsumer), &b""[..]),
        (NodeDelivery::Bounced, &b"alice"[..]),
    ];
    for (kind, payload) in sent {
        publisher.publish_delivery(NODE_B, 7, kind, payload).await.expect("published");
    }
    for (kind, payload) in sent {
        let expected = NodeFrame { kind, connection: 7, payload: payload.to_vec(), return_address: None };
        assert_eq!(next(&mut incoming).await, Incoming::Frame(expected));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_frame_carries_its_return_address_and_presence_notes_reach_every_node() {
    let redis = TestRedis::start();
    let (_subscription_a, mut incoming_a) =
        NodeSubscription::subscribe(&redis.url(), NODE_A).await.expect("subscribed");
    let (_subscription_b, mut incoming_b) =
        NodeSubscription::subscribe(&redis.url(), NODE_B).await.expect("subscribed");
    for incoming in [&mut incoming_a, &mut incoming_b] {
        subscribed(incoming).await;
    }
    let publisher = NodePublisher::new(connect(&redis.url()).await.expect("redis"));
    let sender = ConnectionRef { node: NODE_A, connection: 12 };
    let return_address = ReturnAddress { sender, recipient_name: "Zoë".to_owned() };
    let to = ConnectionRef { node: NODE_B, connection: 34 };
    publisher.publish_relayed(to, sender, "Zoë", b"{\"type\":\"candidate\"}").await.expect("published");
    let expected = NodeFrame {
        kind: NodeDelivery::Frame,
        connection: 34,
        payload: b"{\"type\":\"candidate\"}".to_vec(),
        return_address: Some(return_address),
    };
    assert_eq!(next(&mut incoming_b).await, Incoming::Frame(expected));

    publisher.publish_presence(NODE_A, "Zoë").await.expect("published");
    let note = Incoming::Presence(PresenceNote { from: NODE_A, display: "Zoë".to_owned() });
    assert_eq!(next(&mut incoming_a).await, note);
    assert_eq!(next(&mut incoming_b).await, note);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_keep_up_drops_and_counts_what_overflows_its_bounded_queue_and_then_carries_on() {
    let redis = TestRedis::start();
    let (subscription, mut incoming) =
        NodeSubscription::subscribe_with_capacity(&redis.url(), NODE_B, 4).await.expect("subscribed");
    subscribed(&mut incoming).await;
    let publisher = NodePublisher::new(connect(&redis.url()).await.expect("redis"));
    // Nobody reads meanwhile: 4 are queued, the other 6 dropped and counted.
    for index in 0..10u8 {
        publisher.publish(NODE_B, 1, &[index]).await.expect("received by the subscriber");
    }
    publisher.publish_presence(NODE_A, "carol").await.expect("published");
    let drops = subscription.drops();
    let started = Instant::now();
    while (drops.frames(), drops.presence()) != (6, 1) {
        assert!(started.elapsed() < DEADLINE, "dropped {} frames, {} notes", drops.frames(), drops.presence());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for index in 0..4u8 {
        let Incoming::Frame(frame) = next(&mut incoming).await else { panic!("the queued frames") };
        assert_eq!(frame.payload, [index], "the first ones, in order");
    }
    publisher.publish(NODE_B, 1, b"later").await.expect("published");
    let Incoming::Frame(frame) = next(&mut incoming).await else { panic!("a frame") };
    assert_eq!(frame.payload, b"later", "room again once read");
}
