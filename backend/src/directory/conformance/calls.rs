//! Conformance of calls: offer, busy, glare, answer, renegotiation, leave, ring deadlines,
//! disconnect, resume mid-call, and where relayed messages may go.

use super::{assert_consistent, connection, identity, later, sign_in, takeover, target};
use crate::directory::{Answered, CallError, CallPhase, Directory, EndedCall, ExpiredRing, Offered};
use std::time::{Duration, Instant};

pub(crate) fn an_offer_rings_the_callee_and_both_sides_name_each_other(directory: &impl Directory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1);
    let (bob, bob_connection) = sign_in(directory, "bob", 2);
    let deadline = later();
    let started = directory.start_call(&alice, alice_connection, &target("Bob"), deadline).expect("bob is free");
    assert!(matches!(started.outcome, Offered::NewCall(_)));
    assert_eq!((started.callee, started.callee_connection), (bob.clone(), bob_connection));
    assert_eq!(directory.next_ring_deadline(), Some(deadline));
    assert_consistent(directory);
    // Both parties of a ringing call may trickle candidates.
    assert_eq!(directory.relay_target(&alice, alice_connection, &target("bob")), Ok(bob_connection));
    assert_eq!(directory.relay_target(&bob, bob_connection, &target("alice")), Ok(alice_connection));
}

pub(crate) fn offers_to_oneself_to_nobody_to_someone_busy_or_while_in_a_call_are_refused(directory: &impl Directory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1);
    let (bob, bob_connection) = sign_in(directory, "bob", 2);
    let (carol, carol_connection) = sign_in(directory, "carol", 3);
    let (_, dave_connection) = sign_in(directory, "dave", 4);
    let dave = identity("dave");
    assert_eq!(
        directory.start_call(&alice, alice_connection, &target("ALICE"), later()),
        Err(CallError::CannotCallSelf)
    );
    let nobody = target("nobody");
    assert_eq!(directory.start_call(&alice, alice_connection, &nobody, later()), Err(CallError::UserNotFound(nobody)));
    let too_long = target(&"x".repeat(500));
    assert_eq!(
        directory.start_call(&alice, alice_connection, &too_long, later()),
        Err(CallError::UserNotFound(too_long))
    );
    directory.start_call(&alice, alice_connection, &target("bob"), later()).expect("bob is free");
    // The callee and the caller of a ringing call are busy for others.
    let busy = |name: &str| Err(CallError::Busy(identity(name).display().clone()));
    assert_eq!(directory.start_call(&carol, carol_connection, &target("bob"), later()).map(|s| s.outcome), busy("bob"));
    assert_eq!(
        directory.start_call(&carol, carol_connection, &target("alice"), later()).map(|s| s.outcome),
        busy("alice")
    );
    // A party of a call cannot call someone else.
    let already = |name: &str| Err(CallError::AlreadyInCall(identity(name).display().clone()));
    assert_eq!(
        directory.start_call(&alice, alice_connection, &target("carol"), later()).map(|s| s.outcome),
        already("bob")
    );
    assert_eq!(
        directory.start_call(&bob, bob_connection, &target("carol"), later()).map(|s| s.outcome),
        already("alice")
    );
    directory.answer_call(&bob, bob_connection, &target("alice")).expect("bob answers");
    assert_eq!(directory.start_call(&dave, dave_connection, &target("bob"), later()).map(|s| s.outcome), busy("bob"));
    // Not signed in on that connection: nothing to act with.
    assert_eq!(directory.start_call(&carol, connection(99), &target("dave"), later()), Err(CallError::NoCall));
    assert_consistent(directory);
}

pub(crate) fn glare_the_second_of_two_crossing_offers_is_refused_and_the_first_call_stands(directory: &impl Directory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1);
    let (bob, bob_connection) = sign_in(directory, "bob", 2);
    directory.start_call(&alice, alice_connection, &target("bob"), later()).expect("the first offer wins");
    let second = directory.start_call(&bob, bob_connection, &target("alice"), later());
    assert_eq!(second.map(|started| started.outcome), Err(CallError::AlreadyInCall(alice.display().clone())));
    assert_consistent(directory);
    let answered = directory.answer_call(&bob, bob_connection, &target("alice")).expect("bob answers the first");
    assert!(matches!(answered.outcome, Answered::Connected(_)));
    assert_consistent(directory);
}

pub(crate) fn answering_connects_the_call_and_cancels_its_ring_deadline(directory: &impl Directory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1);
    let (bob, bob_connection) = sign_in(directory, "bob", 2);
    let (carol, carol_connection) = sign_in(directory, "carol", 3);
    let deadline = later();
    let Offered::NewCall(call_id) =
        directory.start_call(&alice, alice_connection, &target("bob"), deadline).expect("a call").outcome
    else {
        panic!("a new call")
    };
    // Only the callee answers, and only the caller.
    let not_in_call = |name: &str| Err(CallError::NotInCall(target(name)));
    assert_eq!(directory.answer_call(&alice, alice_connection, &target("bob")).map(|a| a.outcome), not_in_call("bob"));
    assert_eq!(
        directory.answer_call(&carol, carol_connection, &target("alice")).map(|a| a.outcome),
        not_in_call("alice")
    );
    assert_eq!(directory.answer_call(&bob, bob_connection, &target("carol")).map(|a| a.outcome), not_in_call("carol"));
    let answered = directory.answer_call(&bob, bob_connection, &target("ALICE")).expect("bob answers");
    assert_eq!(answered.outcome, Answered::Connected(call_id));
    assert_eq!((answered.caller, answered.caller_connection), (alice.clone(), alice_connection));
    assert_eq!(directory.next_ring_deadline(), None);
    assert_eq!(directory.expire_rings(deadline + Duration::from_secs(3600)), []);
    assert_eq!(directory.relay_target(&alice, alice_connection, &target("bob")), Ok(bob_connection));
    assert_consistent(directory);
}

pub(crate) fn offers_and_answers_inside_a_call_are_renegotiations(directory: &impl Directory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1);
    let (bob, bob_connection) = sign_in(directory, "bob", 2);
    directory.start_call(&alice, alice_connection, &target("bob"), later()).expect("a call");
    // A repeated offer while ringing goes to the same callee, still one call.
    let again = directory.start_call(&alice, alice_connection, &target("bob"), later()).expect("again");
    assert_eq!((again.outcome, again.callee_connection), (Offered::Renegotiation, bob_connection));
    directory.answer_call(&bob, bob_connection, &target("alice")).expect("answered");
    for (from, from_connection, to, to_connection) in
        [(&bob, bob_connection, "alice", alice_connection), (&alice, alice_connection, "bob", bob_connection)]
    {
        let offered = directory.start_call(from, from_connection, &target(to), later()).expect("renegotiation");
        assert_eq!((offered.outcome, offered.callee_connection), (Offered::Renegotiation, to_connection));
        let answered = directory.answer_call(from, from_connection, &target(to)).expect("an answer inside the call");
        assert_eq!((answered.outcome, answered.caller_connection), (Answered::Renegotiation, to_connection));
    }
    assert_eq!(directory.next_ring_deadline(), None, "renegotiation rings nobody");
    assert_consistent(directory);
}

pub(crate) fn leaving_ends_the_call_for_both_and_names_the_peer_to_tell(directory: &impl Directory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1);
    let (bob, bob_connection) = sign_in(directory, "bob", 2);
    assert_eq!(directory.end_call(&alice, alice_connection, None), Err(CallError::NoCall));
    // The caller cancels a ringing call.
    directory.start_call(&alice, alice_connection, &target("bob"), later()).expect("a call");
    assert_eq!(
        directory.end_call(&alice, alice_connection, Some(&target("carol"))),
        Err(CallError::NotInCall(target("carol")))
    );
    let ended = directory.end_call(&alice, alice_connection, Some(&target("bob"))).expect("cancelled");
    let expected = EndedCall {
        peer: bob.clone(),
        peer_connection: Some(bob_connection),
        phase: CallPhase::Ringing,
        peer_name_freed: false,
    };
    assert_eq!(ended, expected);
    assert_eq!(directory.next_ring_deadline(), None);
    assert_eq!(
        directory.answer_call(&bob, bob_connection, &target("alice")).map(|a| a.outcome),
        Err(CallError::NotInCall(target("alice")))
    );
    assert_consistent(directory);
    // The callee declines, then an answered call is hung up.
    directory.start_call(&alice, alice_connection, &target("bob"), later()).expect("a call");
    let declined = directory.end_call(&bob, bob_connection, Some(&target("alice"))).expect("declined");
    assert_eq!((declined.peer_connection, declined.phase), (Some(alice_connection), CallPhase::Ringing));
    directory.start_call(&alice, alice_connection, &target("bob"), later()).expect("a call");
    directory.answer_call(&bob, bob_connection, &target("alice")).expect("answered");
    let hung_up = directory.end_call(&bob, bob_connection, None).expect("hung up");
    assert_eq!((hung_up.peer, hung_up.phase), (alice.clone(), CallPhase::Connected));
    assert_eq!(directory.end_call(&alice, alice_connection, None), Err(CallError::NoCall), "ended for both");
    assert_consistent(directory);
}

pub(crate) fn a_ring_deadline_ends_the_call_for_both_once_it_has_passed_and_only_once(directory: &impl Directory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1);
    let (bob, bob_connection) = sign_in(directory, "bob", 2);
    let deadline = Instant::now() + Duration::from_secs(45);
    let started = directory.start_call(&alice, alice_connection, &target("bob"), deadline).expect("a call");
    let Offered::NewCall(call_id) = started.outcome else { panic!("a new call") };
    assert_eq!(directory.expire_rings(deadline - Duration::from_millis(1)), []);
    assert_consistent(directory);
    let expired = directory.expire_rings(deadline);
    let expected = ExpiredRing {
        call_id,
        caller: alice.clone(),
        caller_connection: alice_connection,
        callee: bob.clone(),
        callee_connection: Some(bob_connection),
    };
    assert_eq!(expired, [expected]);
    assert_eq!(directory.expire_rings(deadline + Duration::from_secs(1)), [], "once");
    assert_eq!(directory.next_ring_deadline(), None);
    assert_eq!(directory.end_call(&bob, bob_connection, None), Err(CallError::NoCall), "bob is free");
    assert_consistent(directory);
    // Both can call again; the new call is another call.
    let again = directory.start_call(&bob, bob_connection, &target("alice"), later()).expect("free again");
    assert!(matches!(again.outcome, Offered::NewCall(id) if id != call_id));
    assert_consistent(directory);
}

pub(crate) fn ring_deadlines_expire_earliest_first(directory: &impl Directory) {
    let now = Instant::now();
    let mut callers = Vec::new();
    for (index, (caller, callee)) in [("alice", "bob"), ("carol", "dave"), ("erin", "frank")].into_iter().enumerate() {
        let number = index as u64 * 2 + 1;
        let (caller, caller_connection) = sign_in(directory, caller, number);
        sign_in(directory, callee, number + 1);
        // The second call rings the shortest.
        let deadline = now + Duration::from_secs([30, 10, 20][index]);
        directory.start_call(&caller, caller_connection, &target(callee), deadline).expect("a call");
        callers.push((caller, deadline));
    }
    assert_eq!(directory.next_ring_deadline(), Some(now + Duration::from_secs(10)));
    let expired = directory.expire_rings(now + Duration::from_secs(20));
    let expired_callers: Vec<_> = expired.iter().map(|expired| expired.caller.display().as_str()).collect();
    assert_eq!(expired_callers, ["carol", "erin"]);
    assert_eq!(directory.next_ring_deadline(), Some(callers[0].1));
    assert_consistent(directory);
}

pub(crate) fn disconnecting_mid_call_frees_the_peer(directory: &impl Directory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1);
    let (bob, bob_connection) = sign_in(directory, "bob", 2);
    let (carol, carol_connection) = sign_in(directory, "carol", 3);
    directory.start_call(&alice, alice_connection, &target("bob"), later()).expect("a call");
    let released = directory.release(&alice, alice_connection, None).expect("alice leaves while ringing");
    let expected = EndedCall {
        peer: bob.clone(),
        peer_connection: Some(bob_connection),
        phase: CallPhase::Ringing,
        peer_name_freed: false,
    };
    assert_eq!(released.ended_call, Some(expected));
    assert_eq!(directory.next_ring_deadline(), None);
    assert_consistent(directory);
    directory.start_call(&carol, carol_connection, &target("bob"), later()).expect("bob is free");
    directory.answer_call(&bob, bob_connection, &target("carol")).expect("answered");
    let released = directory.release(&bob, bob_connection, None).expect("bob leaves mid-call");
    assert_eq!(released.ended_call.map(|ended| (ended.peer, ended.phase)), Some((carol, CallPhase::Connected)));
    assert_eq!(
        directory.relay_target(&identity("carol"), carol_connection, &target("bob")),
        Err(CallError::NotInCall(target("bob")))
    );
    assert_consistent(directory);
}

pub(crate) fn a_resume_login_mid_call_ends_the_call_of_the_replaced_connection(directory: &impl Directory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1);
    let (bob, bob_connection) = sign_in(directory, "bob", 2);
    directory.start_call(&alice, alice_connection, &target("bob"), later()).expect("a call");
    directory.answer_call(&bob, bob_connection, &target("alice")).expect("answered");
    // Without `inCallWith` naming bob, the takeover ends the call.
    let resumed = directory.claim(&alice, connection(3), &takeover(None, later())).expect("alice resumes");
    assert_eq!(resumed.replaced, Some(alice_connection));
    assert!(!resumed.newly_online);
    let expected = EndedCall {
        peer: bob.clone(),
        peer_connection: Some(bob_connection),
        phase: CallPhase::Connected,
        peer_name_freed: false,
    };
    assert_eq!(resumed.ended_call, Some(expected));
    assert_eq!(directory.end_call(&bob, bob_connection, None), Err(CallError::NoCall), "bob is free");
    assert_consistent(directory);
}

pub(crate) fn relaying_goes_only_between_the_two_parties_of_one_call(directory: &impl Directory) {
    let (alice, alice_connection) = sign_in(directory, "alice", 1);
    let (bob, bob_connection) = sign_in(directory, "bob", 2);
    let (carol, carol_connection) = sign_in(directory, "carol", 3);
    let refused = |name: &str| Err(CallError::NotInCall(target(name)));
    assert_eq!(directory.relay_target(&alice, alice_connection, &target("bob")), refused("bob"), "no call yet");
    directory.start_call(&alice, alice_connection, &target("bob"), later()).expect("a call");
    directory.answer_call(&bob, bob_connection, &target("alice")).expect("answered");
    assert_eq!(directory.relay_target(&carol, carol_connection, &target("alice")), refused("alice"));
    assert_eq!(directory.relay_target(&alice, alice_connection, &target("carol")), refused("carol"));
    assert_eq!(directory.relay_target(&alice, alice_connection, &target(" BOB ")), Ok(bob_connection), "any spelling");
    assert_eq!(directory.relay_target(&bob, carol_connection, &target("alice")), refused("alice"), "not bob's holder");
    directory.end_call(&alice, alice_connection, None).expect("hung up");
    assert_eq!(directory.relay_target(&bob, bob_connection, &target("alice")), refused("alice"), "after the call");
    assert_consistent(directory);
}
