//! Conformance of calls: offer, busy, glare, answer, renegotiation, leave, ring deadlines,
//! disconnect, resume mid-call, and where relayed messages may go.

use super::{
    assert_consistent, connection, identity, later, sign_in, takeover, target, whole_millis_now, TestDirectory,
};
use crate::directory::{Answered, CallError, CallPhase, EndedCall, ExpiredRing, Offered};
use std::time::Duration;

pub(crate) async fn an_offer_rings_the_callee_and_both_sides_name_each_other(directory: &TestDirectory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    let deadline = later();
    let started = directory.start_call(&alice, alice_connection, &target("Bob"), deadline).await.expect("bob is free");
    assert!(matches!(started.outcome, Offered::NewCall(_)));
    assert_eq!((started.callee, started.callee_connection), (bob.clone(), bob_connection));
    assert_eq!(directory.next_ring_deadline().await, Some(deadline));
    assert_consistent(directory).await;
    // Both parties of a ringing call may trickle candidates.
    assert_eq!(directory.relay_target(&alice, alice_connection, &target("bob")).await, Ok(bob_connection));
    assert_eq!(directory.relay_target(&bob, bob_connection, &target("alice")).await, Ok(alice_connection));
}

pub(crate) async fn offers_to_oneself_to_nobody_to_someone_busy_or_while_in_a_call_are_refused(
    directory: &TestDirectory,
) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    let (carol, carol_connection) = sign_in(directory, "carol", 3).await;
    let (_, dave_connection) = sign_in(directory, "dave", 4).await;
    let dave = identity("dave");
    assert_eq!(
        directory.start_call(&alice, alice_connection, &target("ALICE"), later()).await,
        Err(CallError::CannotCallSelf)
    );
    let nobody = target("nobody");
    assert_eq!(
        directory.start_call(&alice, alice_connection, &nobody, later()).await,
        Err(CallError::UserNotFound(nobody))
    );
    let too_long = target(&"x".repeat(500));
    assert_eq!(
        directory.start_call(&alice, alice_connection, &too_long, later()).await,
        Err(CallError::UserNotFound(too_long))
    );
    directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("bob is free");
    // The callee and the caller of a ringing call are busy for others.
    let busy = |name: &str| Err(CallError::Busy(identity(name).display().clone()));
    assert_eq!(
        directory.start_call(&carol, carol_connection, &target("bob"), later()).await.map(|s| s.outcome),
        busy("bob")
    );
    assert_eq!(
        directory.start_call(&carol, carol_connection, &target("alice"), later()).await.map(|s| s.outcome),
        busy("alice")
    );
    // A party of a call cannot call someone else.
    let already = |name: &str| Err(CallError::AlreadyInCall(identity(name).display().clone()));
    assert_eq!(
        directory.start_call(&alice, alice_connection, &target("carol"), later()).await.map(|s| s.outcome),
        already("bob")
    );
    assert_eq!(
        directory.start_call(&bob, bob_connection, &target("carol"), later()).await.map(|s| s.outcome),
        already("alice")
    );
    directory.answer_call(&bob, bob_connection, &target("alice")).await.expect("bob answers");
    assert_eq!(
        directory.start_call(&dave, dave_connection, &target("bob"), later()).await.map(|s| s.outcome),
        busy("bob")
    );
    // Not signed in on that connection: nothing to act with.
    assert_eq!(directory.start_call(&carol, connection(99), &target("dave"), later()).await, Err(CallError::NoCall));
    assert_consistent(directory).await;
}

pub(crate) async fn glare_the_second_of_two_crossing_offers_is_refused_and_the_first_call_stands(
    directory: &TestDirectory,
) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("the first offer wins");
    let second = directory.start_call(&bob, bob_connection, &target("alice"), later()).await;
    assert_eq!(second.map(|started| started.outcome), Err(CallError::AlreadyInCall(alice.display().clone())));
    assert_consistent(directory).await;
    let answered = directory.answer_call(&bob, bob_connection, &target("alice")).await.expect("bob answers the first");
    assert!(matches!(answered.outcome, Answered::Connected(_)));
    assert_consistent(directory).await;
}

pub(crate) async fn answering_connects_the_call_and_cancels_its_ring_deadline(directory: &TestDirectory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    let (carol, carol_connection) = sign_in(directory, "carol", 3).await;
    let deadline = later();
    let Offered::NewCall(call_id) =
        directory.start_call(&alice, alice_connection, &target("bob"), deadline).await.expect("a call").outcome
    else {
        panic!("a new call")
    };
    // Only the callee answers, and only the caller.
    let not_in_call = |name: &str| Err(CallError::NotInCall(target(name)));
    assert_eq!(
        directory.answer_call(&alice, alice_connection, &target("bob")).await.map(|a| a.outcome),
        not_in_call("bob")
    );
    assert_eq!(
        directory.answer_call(&carol, carol_connection, &target("alice")).await.map(|a| a.outcome),
        not_in_call("alice")
    );
    assert_eq!(
        directory.answer_call(&bob, bob_connection, &target("carol")).await.map(|a| a.outcome),
        not_in_call("carol")
    );
    let answered = directory.answer_call(&bob, bob_connection, &target("ALICE")).await.expect("bob answers");
    assert_eq!(answered.outcome, Answered::Connected(call_id));
    assert_eq!((answered.caller, answered.caller_connection), (alice.clone(), alice_connection));
    assert_eq!(directory.next_ring_deadline().await, None);
    assert_eq!(directory.expire_rings(deadline + Duration::from_secs(3600)).await, []);
    assert_eq!(directory.relay_target(&alice, alice_connection, &target("bob")).await, Ok(bob_connection));
    assert_consistent(directory).await;
}

pub(crate) async fn offers_and_answers_inside_a_call_are_renegotiations(directory: &TestDirectory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("a call");
    // A repeated offer while ringing goes to the same callee, still one call.
    let again = directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("again");
    assert_eq!((again.outcome, again.callee_connection), (Offered::Renegotiation, bob_connection));
    directory.answer_call(&bob, bob_connection, &target("alice")).await.expect("answered");
    for (from, from_connection, to, to_connection) in
        [(&bob, bob_connection, "alice", alice_connection), (&alice, alice_connection, "bob", bob_connection)]
    {
        let offered = directory.start_call(from, from_connection, &target(to), later()).await.expect("renegotiation");
        assert_eq!((offered.outcome, offered.callee_connection), (Offered::Renegotiation, to_connection));
        let answered =
            directory.answer_call(from, from_connection, &target(to)).await.expect("an answer inside the call");
        assert_eq!((answered.outcome, answered.caller_connection), (Answered::Renegotiation, to_connection));
    }
    assert_eq!(directory.next_ring_deadline().await, None, "renegotiation rings nobody");
    assert_consistent(directory).await;
}

pub(crate) async fn leaving_ends_the_call_for_both_and_names_the_peer_to_tell(directory: &TestDirectory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    assert_eq!(directory.end_call(&alice, alice_connection, None).await, Err(CallError::NoCall));
    // The caller cancels a ringing call.
    directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("a call");
    assert_eq!(
        directory.end_call(&alice, alice_connection, Some(&target("carol"))).await,
        Err(CallError::NotInCall(target("carol")))
    );
    let ended = directory.end_call(&alice, alice_connection, Some(&target("bob"))).await.expect("cancelled");
    let expected = EndedCall {
        peer: bob.clone(),
        peer_connection: Some(bob_connection),
        phase: CallPhase::Ringing,
        peer_name_freed: false,
    };
    assert_eq!(ended, expected);
    assert_eq!(directory.next_ring_deadline().await, None);
    assert_eq!(
        directory.answer_call(&bob, bob_connection, &target("alice")).await.map(|a| a.outcome),
        Err(CallError::NotInCall(target("alice")))
    );
    assert_consistent(directory).await;
    // The callee declines, then an answered call is hung up.
    directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("a call");
    let declined = directory.end_call(&bob, bob_connection, Some(&target("alice"))).await.expect("declined");
    assert_eq!((declined.peer_connection, declined.phase), (Some(alice_connection), CallPhase::Ringing));
    directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("a call");
    directory.answer_call(&bob, bob_connection, &target("alice")).await.expect("answered");
    let hung_up = directory.end_call(&bob, bob_connection, None).await.expect("hung up");
    assert_eq!((hung_up.peer, hung_up.phase), (alice.clone(), CallPhase::Connected));
    assert_eq!(directory.end_call(&alice, alice_connection, None).await, Err(CallError::NoCall), "ended for both");
    assert_consistent(directory).await;
}

pub(crate) async fn a_ring_deadline_ends_the_call_for_both_once_it_has_passed_and_only_once(directory: &TestDirectory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    let deadline = whole_millis_now() + Duration::from_secs(45);
    let started = directory.start_call(&alice, alice_connection, &target("bob"), deadline).await.expect("a call");
    let Offered::NewCall(call_id) = started.outcome else { panic!("a new call") };
    assert_eq!(directory.expire_rings(deadline - Duration::from_millis(1)).await, []);
    assert_consistent(directory).await;
    let expired = directory.expire_rings(deadline).await;
    let expected = ExpiredRing {
        call_id,
        caller: alice.clone(),
        caller_connection: alice_connection,
        callee: bob.clone(),
        callee_connection: Some(bob_connection),
    };
    assert_eq!(expired, [expected]);
    assert_eq!(directory.expire_rings(deadline + Duration::from_secs(1)).await, [], "once");
    assert_eq!(directory.next_ring_deadline().await, None);
    assert_eq!(directory.end_call(&bob, bob_connection, None).await, Err(CallError::NoCall), "bob is free");
    assert_consistent(directory).await;
    // Both can call again; the new call is another call.
    let again = directory.start_call(&bob, bob_connection, &target("alice"), later()).await.expect("free again");
    assert!(matches!(again.outcome, Offered::NewCall(id) if id != call_id));
    assert_consistent(directory).await;
}

pub(crate) async fn ring_deadlines_expire_earliest_first(directory: &TestDirectory) {
    let now = whole_millis_now();
    let mut callers = Vec::new();
    for (index, (caller, callee)) in [("alice", "bob"), ("carol", "dave"), ("erin", "frank")].into_iter().enumerate() {
        let number = index as u64 * 2 + 1;
        let (caller, caller_connection) = sign_in(directory, caller, number).await;
        sign_in(directory, callee, number + 1).await;
        // The second call rings the shortest.
        let deadline = now + Duration::from_secs([30, 10, 20][index]);
        directory.start_call(&caller, caller_connection, &target(callee), deadline).await.expect("a call");
        callers.push((caller, deadline));
    }
    assert_eq!(directory.next_ring_deadline().await, Some(now + Duration::from_secs(10)));
    let expired = directory.expire_rings(now + Duration::from_secs(20)).await;
    let expired_callers: Vec<_> = expired.iter().map(|expired| expired.caller.display().as_str()).collect();
    assert_eq!(expired_callers, ["carol", "erin"]);
    assert_eq!(directory.next_ring_deadline().await, Some(callers[0].1));
    assert_consistent(directory).await;
}

pub(crate) async fn disconnecting_mid_call_frees_the_peer(directory: &TestDirectory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    let (carol, carol_connection) = sign_in(directory, "carol", 3).await;
    directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("a call");
    let released = directory.release(&alice, alice_connection, None).await.expect("alice leaves while ringing");
    let expected = EndedCall {
        peer: bob.clone(),
        peer_connection: Some(bob_connection),
        phase: CallPhase::Ringing,
        peer_name_freed: false,
    };
    assert_eq!(released.ended_call, Some(expected));
    assert_eq!(directory.next_ring_deadline().await, None);
    assert_consistent(directory).await;
    directory.start_call(&carol, carol_connection, &target("bob"), later()).await.expect("bob is free");
    directory.answer_call(&bob, bob_connection, &target("carol")).await.expect("answered");
    let released = directory.release(&bob, bob_connection, None).await.expect("bob leaves mid-call");
    assert_eq!(released.ended_call.map(|ended| (ended.peer, ended.phase)), Some((carol, CallPhase::Connected)));
    assert_eq!(
        directory.relay_target(&identity("carol"), carol_connection, &target("bob")).await,
        Err(CallError::NotInCall(target("bob")))
    );
    assert_consistent(directory).await;
}

pub(crate) async fn a_resume_login_mid_call_ends_the_call_of_the_replaced_connection(directory: &TestDirectory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("a call");
    directory.answer_call(&bob, bob_connection, &target("alice")).await.expect("answered");
    // Without `inCallWith` naming bob, the takeover ends the call.
    let resumed = directory.claim(&alice, connection(3), &takeover(None, later())).await.expect("alice resumes");
    assert_eq!(resumed.replaced, Some(alice_connection));
    assert!(!resumed.newly_online);
    let expected = EndedCall {
        peer: bob.clone(),
        peer_connection: Some(bob_connection),
        phase: CallPhase::Connected,
        peer_name_freed: false,
    };
    assert_eq!(resumed.ended_call, Some(expected));
    assert_eq!(directory.end_call(&bob, bob_connection, None).await, Err(CallError::NoCall), "bob is free");
    assert_consistent(directory).await;
}

pub(crate) async fn relaying_goes_only_between_the_two_parties_of_one_call(directory: &TestDirectory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    let (carol, carol_connection) = sign_in(directory, "carol", 3).await;
    let refused = |name: &str| Err(CallError::NotInCall(target(name)));
    assert_eq!(directory.relay_target(&alice, alice_connection, &target("bob")).await, refused("bob"), "no call yet");
    directory.start_call(&alice, alice_connection, &target("bob"), later()).await.expect("a call");
    directory.answer_call(&bob, bob_connection, &target("alice")).await.expect("answered");
    assert_eq!(directory.relay_target(&carol, carol_connection, &target("alice")).await, refused("alice"));
    assert_eq!(directory.relay_target(&alice, alice_connection, &target("carol")).await, refused("carol"));
    assert_eq!(
        directory.relay_target(&alice, alice_connection, &target(" BOB ")).await,
        Ok(bob_connection),
        "any spelling"
    );
    assert_eq!(
        directory.relay_target(&bob, carol_connection, &target("alice")).await,
        refused("alice"),
        "not bob's holder"
    );
    directory.end_call(&alice, alice_connection, None).await.expect("hung up");
    assert_eq!(
        directory.relay_target(&bob, bob_connection, &target("alice")).await,
        refused("alice"),
        "after the call"
    );
    assert_consistent(directory).await;
}
