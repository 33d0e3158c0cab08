//! Tests of the presence hub (in memory; cluster mode is tested with real Redis in
//! `tests/cluster_presence.rs`).

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
