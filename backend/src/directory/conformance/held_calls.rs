//! Conformance of calls that outlive a lost connection (issue 10): holding a call when a
//! client that keeps its calls loses its connection, restoring it when the side comes back
//! naming its peer, pairing two sides of a call on a directory that never saw it (a restarted
//! server), and the grace deadlines that end holds and waits.

use super::{
    assert_consistent, connection, identity, later, sign_in, takeover, target, whole_millis_now, TestDirectory,
};
use crate::directory::{
    CallError, CallPhase, ClaimError, ClaimRequest, ConnectionRef, EndedCall, EndedWait, ExpiredGrace, Identity,
    Resumption,
};
use std::time::Duration;

/// alice (connection 1) and bob (connection 2) in a connected call.
async fn alice_and_bob_in_a_call(directory: &TestDirectory) -> (Identity, ConnectionRef, Identity, ConnectionRef) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("a call");
    directory.answer_call(&bob, bob_connection, &target("alice")).await.expect("answered");
    (alice, alice_connection, bob, bob_connection)
}

/// Whether `user` on `holder` has a call with `peer` that relays to `peer_connection`.
async fn relays(
    directory: &TestDirectory,
    user: &Identity,
    holder: ConnectionRef,
    peer: &str,
) -> Result<ConnectionRef, CallError> {
    directory.relay_target(user, holder, &target(peer)).await
}

pub(crate) async fn a_lost_connection_of_a_client_that_keeps_calls_holds_the_call_and_the_name(
    directory: &TestDirectory,
) {
    let (alice, alice_connection, bob, bob_connection) = alice_and_bob_in_a_call(directory).await;
    let grace = later();
    let released = directory.release(&alice, alice_connection, Some(grace)).await.expect("alice's connection drops");
    assert!(released.held, "the call is held");
    assert_eq!(released.ended_call, None, "bob is told nothing yet");
    assert_eq!(directory.online_count().await, 2, "alice stays online");
    assert_eq!(directory.online_name(&target("alice")).await, Some(alice.display().clone()));
    assert_eq!(directory.next_grace_deadline().await, Some(grace));
    assert_eq!(
        relays(directory, &bob, bob_connection, "alice").await,
        Err(CallError::PeerUnavailable(target("alice")))
    );
    let renegotiation = directory.start_call(&bob, bob_connection, &target("alice"), later()).await;
    assert_eq!(renegotiation.map(|started| started.outcome), Err(CallError::PeerUnavailable(target("alice"))));
    // The lost connection cannot act any more, nor be released twice.
    assert_eq!(relays(directory, &alice, alice_connection, "bob").await, Err(CallError::NotInCall(target("bob"))));
    assert!(directory.release(&alice, alice_connection, Some(grace)).await.is_none());
    assert_consistent(directory).await;
}

pub(crate) async fn ringing_calls_and_idle_users_are_not_held(directory: &TestDirectory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    let (carol, carol_connection) = sign_in(directory, "carol", 3).await;
    directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("a call");
    let released = directory.release(&alice, alice_connection, Some(later())).await.expect("alice drops while ringing");
    assert!(!released.held);
    let expected = EndedCall {
        peer: bob.clone(),
        peer_connection: Some(bob_connection),
        phase: CallPhase::Ringing,
        peer_name_freed: false,
    };
    assert_eq!(released.ended_call, Some(expected));
    let released = directory.release(&carol, carol_connection, Some(later())).await.expect("carol drops, idle");
    assert!(!released.held && released.ended_call.is_none());
    assert_eq!(directory.online_count().await, 1);
    assert_eq!(directory.next_grace_deadline().await, None);
    assert_consistent(directory).await;
}

pub(crate) async fn the_away_side_back_with_in_call_with_restores_the_call_for_both(directory: &TestDirectory) {
    let (alice, alice_connection, bob, bob_connection) = alice_and_bob_in_a_call(directory).await;
    directory.release(&alice, alice_connection, Some(later())).await.expect("held");
    let back = directory.claim(&identity("Alice"), connection(3), &takeover(Some("bob"), later())).await.expect("back");
    assert_eq!(back.identity, alice);
    assert!(!back.newly_online, "never left");
    assert_eq!(back.replaced, None, "the lost connection is gone already");
    assert_eq!(back.ended_call, None);
    let restored = Resumption::Restored { peer: bob.clone(), peer_connection: bob_connection, new_pairing: false };
    assert_eq!(back.resumption, restored);
    assert_eq!(directory.next_grace_deadline().await, None);
    assert_eq!(relays(directory, &bob, bob_connection, "alice").await, Ok(connection(3)));
    assert_eq!(relays(directory, &alice, connection(3), "bob").await, Ok(bob_connection));
    // A still-open connection taken over the same way keeps the call too (and is to be closed).
    let again = directory.claim(&alice, connection(4), &takeover(Some("BOB"), later())).await.expect("again");
    assert_eq!(again.replaced, Some(connection(3)));
    assert!(matches!(again.resumption, Resumption::Restored { .. }));
    let ended = directory.end_call(&bob, bob_connection, None).await.expect("bob hangs up");
    assert_eq!(ended.peer_connection, Some(connection(4)));
    assert_consistent(directory).await;
}

pub(crate) async fn the_away_side_back_without_naming_its_peer_ends_the_held_call(directory: &TestDirectory) {
    let (alice, alice_connection, bob, bob_connection) = alice_and_bob_in_a_call(directory).await;
    directory.release(&alice, alice_connection, Some(later())).await.expect("held");
    let back = directory.claim(&alice, connection(3), &takeover(None, later())).await.expect("back");
    let expected = EndedCall {
        peer: bob.clone(),
        peer_connection: Some(bob_connection),
        phase: CallPhase::Connected,
        peer_name_freed: false,
    };
    assert_eq!(back.ended_call, Some(expected));
    assert_eq!(back.resumption, Resumption::None);
    assert_eq!(directory.next_grace_deadline().await, None);
    assert_eq!(directory.end_call(&bob, bob_connection, None).await, Err(CallError::NoCall), "bob is free");
    assert_consistent(directory).await;
}

pub(crate) async fn both_sides_away_are_restored_once_both_are_back(directory: &TestDirectory) {
    let (alice, alice_connection, bob, bob_connection) = alice_and_bob_in_a_call(directory).await;
    directory.release(&alice, alice_connection, Some(later())).await.expect("alice held");
    directory.release(&bob, bob_connection, Some(later())).await.expect("bob held");
    assert_consistent(directory).await;
    let alice_back = directory.claim(&alice, connection(3), &takeover(Some("bob"), later())).await.expect("alice back");
    assert_eq!(alice_back.resumption, Resumption::PeerAway { peer: bob.clone() });
    assert_eq!(relays(directory, &alice, connection(3), "bob").await, Err(CallError::PeerUnavailable(target("bob"))));
    let bob_back = directory.claim(&bob, connection(4), &takeover(Some("alice"), later())).await.expect("bob back");
    let restored = Resumption::Restored { peer: alice.clone(), peer_connection: connection(3), new_pairing: false };
    assert_eq!(bob_back.resumption, restored);
    assert_eq!(relays(directory, &alice, connection(3), "bob").await, Ok(connection(4)));
    assert_consistent(directory).await;
}

pub(crate) async fn after_a_restart_both_sides_naming_each_other_restore_the_pairing(directory: &TestDirectory) {
    let grace = later();
    let alice = directory.claim(&identity("alice"), connection(1), &takeover(Some("Bob"), grace)).await.expect("alice");
    assert!(alice.newly_online);
    assert_eq!(alice.resumption, Resumption::Waiting { peer: identity("Bob") });
    assert_eq!(directory.next_grace_deadline().await, Some(grace));
    assert_eq!(
        relays(directory, &alice.identity, connection(1), "bob").await,
        Err(CallError::PeerUnavailable(target("Bob")))
    );
    // Others see alice as busy meanwhile.
    let (carol, carol_connection) = sign_in(directory, "carol", 3).await;
    let busy =
        directory.start_call(&carol, carol_connection, &target("alice"), later()).await.map(|started| started.outcome);
    assert_eq!(busy, Err(CallError::Busy(alice.identity.display().clone())));
    assert_consistent(directory).await;
    let bob = directory.claim(&identity("bob"), connection(2), &takeover(Some("alice"), later())).await.expect("bob");
    let restored =
        Resumption::Restored { peer: alice.identity.clone(), peer_connection: connection(1), new_pairing: true };
    assert_eq!(bob.resumption, restored);
    assert!(bob.ended_waits.is_empty());
    assert_eq!(directory.next_grace_deadline().await, None);
    assert_eq!(relays(directory, &alice.identity, connection(1), "bob").await, Ok(connection(2)));
    assert_eq!(relays(directory, &bob.identity, connection(2), "alice").await, Ok(connection(1)));
    let ended = directory.end_call(&alice.identity, connection(1), Some(&target("bob"))).await.expect("hang up");
    assert_eq!((ended.peer_connection, ended.phase), (Some(connection(2)), CallPhase::Connected));
    assert_consistent(directory).await;
}

pub(crate) async fn after_a_restart_the_awaited_side_signing_in_without_naming_the_waiter_ends_the_wait(
    directory: &TestDirectory,
) {
    directory.claim(&identity("alice"), connection(1), &takeover(Some("bob"), later())).await.expect("alice waits");
    directory.claim(&identity("mallory"), connection(3), &takeover(Some("bob"), later())).await.expect("mallory waits");
    // bob names alice: alice's wait is answered, mallory's ends.
    let bob = directory.claim(&identity("bob"), connection(2), &takeover(Some("alice"), later())).await.expect("bob");
    assert!(matches!(bob.resumption, Resumption::Restored { new_pairing: true, .. }));
    assert_eq!(bob.ended_waits, vec![EndedWait { waiter: identity("mallory"), waiter_connection: connection(3) }]);
    assert_consistent(directory).await;
    // A plain sign-in ends every wait for that name.
    directory.claim(&identity("carol"), connection(4), &takeover(Some("dave"), later())).await.expect("carol waits");
    let dave = directory.claim(&identity("dave"), connection(5), &ClaimRequest::Fresh).await.expect("dave");
    assert_eq!(dave.ended_waits, vec![EndedWait { waiter: identity("carol"), waiter_connection: connection(4) }]);
    assert_eq!(directory.next_grace_deadline().await, None);
    assert_eq!(directory.end_call(&identity("carol"), connection(4), None).await, Err(CallError::NoCall), "idle");
    assert_consistent(directory).await;
}

pub(crate) async fn a_side_that_never_comes_back_is_expired_at_the_grace_deadline_and_its_name_freed(
    directory: &TestDirectory,
) {
    let (alice, alice_connection, bob, bob_connection) = alice_and_bob_in_a_call(directory).await;
    let grace = whole_millis_now() + Duration::from_secs(30);
    directory.release(&alice, alice_connection, Some(grace)).await.expect("held");
    assert!(directory.expire_graces(grace - Duration::from_secs(1)).await.is_empty(), "not yet");
    let expired = directory.expire_graces(grace).await;
    let ended = EndedCall {
        peer: bob.clone(),
        peer_connection: Some(bob_connection),
        phase: CallPhase::Connected,
        peer_name_freed: false,
    };
    assert_eq!(expired, vec![ExpiredGrace::Away { name: alice.clone(), ended_call: Some(ended) }]);
    assert!(directory.expire_graces(grace).await.is_empty(), "only once");
    assert_eq!(directory.online_count().await, 1);
    assert_eq!(directory.online_name(&target("alice")).await, None);
    assert_eq!(directory.end_call(&bob, bob_connection, None).await, Err(CallError::NoCall), "bob is free");
    sign_in(directory, "alice", 3).await;
    assert_consistent(directory).await;
}

pub(crate) async fn a_wait_never_answered_expires_at_the_grace_deadline(directory: &TestDirectory) {
    let grace = whole_millis_now() + Duration::from_secs(30);
    let alice = directory.claim(&identity("alice"), connection(1), &takeover(Some("bob"), grace)).await.expect("waits");
    let expired = directory.expire_graces(grace).await;
    let wait =
        ExpiredGrace::Wait { waiter: alice.identity.clone(), waiter_connection: connection(1), peer: identity("bob") };
    assert_eq!(expired, vec![wait]);
    assert_eq!(directory.online_count().await, 1, "alice is still signed in");
    // bob coming later finds nobody waiting.
    let bob = directory.claim(&identity("bob"), connection(2), &takeover(Some("alice"), later())).await.expect("bob");
    assert_eq!(bob.resumption, Resumption::Waiting { peer: alice.identity.clone() });
    assert_consistent(directory).await;
}

pub(crate) async fn the_peer_leaving_during_the_hold_ends_the_call_and_frees_the_away_name(directory: &TestDirectory) {
    let (alice, alice_connection, bob, bob_connection) = alice_and_bob_in_a_call(directory).await;
    directory.release(&alice, alice_connection, Some(later())).await.expect("held");
    let ended = directory.end_call(&bob, bob_connection, Some(&target("alice"))).await.expect("bob hangs up");
    let expected =
        EndedCall { peer: alice.clone(), peer_connection: None, phase: CallPhase::Connected, peer_name_freed: true };
    assert_eq!(ended, expected);
    assert_eq!(directory.online_count().await, 1);
    assert_eq!(directory.next_grace_deadline().await, None);
    assert_consistent(directory).await;
    // The same when the peer's own connection drops (without keeping calls).
    let (carol, carol_connection) = sign_in(directory, "carol", 3).await;
    directory.start_call(&carol, carol_connection, &target("bob"), later()).await.expect("a call");
    directory.answer_call(&bob, bob_connection, &target("carol")).await.expect("answered");
    directory.release(&carol, carol_connection, Some(later())).await.expect("carol held");
    let released = directory.release(&bob, bob_connection, None).await.expect("bob drops");
    assert!(released.ended_call.is_some_and(|ended| ended.peer_name_freed));
    assert_eq!(directory.online_count().await, 0);
    assert_consistent(directory).await;
}

pub(crate) async fn nobody_else_may_claim_an_away_name_and_relays_to_a_waited_for_peer_are_refused(
    directory: &TestDirectory,
) {
    let (alice, alice_connection, _, _) = alice_and_bob_in_a_call(directory).await;
    directory.release(&alice, alice_connection, Some(later())).await.expect("held");
    let taken =
        directory.claim(&identity("alice"), connection(3), &ClaimRequest::Fresh).await.map(|claimed| claimed.identity);
    let expected = ClaimError::Taken { requested: target("alice"), in_use: alice.display().clone() };
    assert_eq!(taken, Err(expected));
    let look_alike = directory.claim(&identity("aIice"), connection(4), &ClaimRequest::Fresh).await;
    assert!(look_alike.is_err());
    assert_consistent(directory).await;
}
