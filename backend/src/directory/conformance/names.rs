//! Conformance of names: claim, refuse, release, take over with a resume token, list.

use super::{assert_consistent, connection, identity, later, sign_in, takeover, target, TestDirectory};
use crate::directory::{CallError, ClaimError, ClaimRequest};
use protocol::UserName;

pub(crate) async fn claiming_a_free_name_signs_in_and_the_name_or_a_look_alike_is_then_refused(
    directory: &TestDirectory,
) {
    let (alice, _) = sign_in(directory, "alice", 1).await;
    assert_eq!(alice.display().as_str(), "alice");
    assert_eq!(directory.online_count().await, 1);
    // The same name, other case, a look-alike key (Cyrillic a), a look-alike shape (capital I).
    for (number, requested) in [(2, "alice"), (3, "ALICE"), (4, "\u{430}lice"), (5, "aIice")] {
        let refused = directory.claim(&identity(requested), connection(number), &ClaimRequest::Fresh).await;
        let expected = ClaimError::Taken { requested: UserName::from_wire(requested), in_use: alice.display().clone() };
        assert_eq!(refused.map(|claimed| claimed.identity), Err(expected), "{requested}");
    }
    assert_eq!(directory.online_count().await, 1);
    sign_in(directory, "bob", 6).await;
    assert_eq!(directory.online_count().await, 2);
    assert_consistent(directory).await;
}

pub(crate) async fn a_takeover_moves_the_name_to_a_new_connection_and_a_plain_claim_is_refused(
    directory: &TestDirectory,
) {
    let (_, old) = sign_in(directory, "alice", 1).await;
    assert!(directory.claim(&identity("alice"), connection(2), &ClaimRequest::Fresh).await.is_err());
    // Another spelling taking over keeps the registered display form.
    let resumed =
        directory.claim(&identity("ALICE"), connection(2), &takeover(None, later())).await.expect("a takeover");
    assert_eq!(resumed.identity.display().as_str(), "alice");
    assert_eq!(resumed.replaced, Some(old), "the old connection is to be closed");
    assert_eq!(resumed.ended_call, None);
    assert!(!resumed.newly_online);
    assert_eq!(directory.online_count().await, 1);
    // A takeover of a free name is a sign-in.
    let bob = directory.claim(&identity("bob"), connection(3), &takeover(None, later())).await.expect("a free name");
    assert!(bob.newly_online && bob.replaced.is_none());
    assert_eq!(directory.online_count().await, 2);
    assert_consistent(directory).await;
}

pub(crate) async fn a_name_is_freed_exactly_once_and_only_by_the_connection_that_holds_it(directory: &TestDirectory) {
    let (alice, holder) = sign_in(directory, "alice", 1).await;
    assert!(directory.release(&alice, connection(9), None).await.is_none(), "not its holder");
    assert_eq!(directory.online_count().await, 1);
    let released = directory.release(&alice, holder, None).await.expect("its holder frees it");
    assert_eq!(released.ended_call, None);
    assert!(!released.held);
    assert!(directory.release(&alice, holder, None).await.is_none(), "freed once");
    assert_eq!(directory.online_count().await, 0);
    // Free again for anyone.
    let (_, new_holder) = sign_in(directory, "alice", 2).await;
    // A replaced connection closing later does not free its successor's name.
    sign_in(directory, "bob", 4).await;
    directory.claim(&identity("bob"), connection(5), &takeover(None, later())).await.expect("bob resumes");
    assert!(directory.release(&identity("bob"), connection(4), None).await.is_none());
    assert_eq!(directory.online_count().await, 2);
    assert!(directory.release(&identity("alice"), new_holder, None).await.is_some());
    assert_consistent(directory).await;
}

pub(crate) async fn regression_a_connection_replaced_by_a_resume_login_can_no_longer_act_on_the_name(
    directory: &TestDirectory,
) {
    let (alice, old) = sign_in(directory, "alice", 1).await;
    let (bob, bob_connection) = sign_in(directory, "bob", 2).await;
    let new = directory.claim(&alice, connection(3), &takeover(None, later())).await.expect("alice resumes").replaced;
    assert_eq!(new, Some(old));
    let new = connection(3);

    // A frame the old connection was still handling when the new one took over.
    assert_eq!(directory.start_call(&alice, old, &target("bob"), later()).await, Err(CallError::NoCall));
    let started = directory.start_call(&alice, new, &target("bob"), later()).await.expect("the new connection calls");
    assert_eq!(started.callee_connection, bob_connection);
    assert_eq!(directory.relay_target(&alice, old, &target("bob")).await, Err(CallError::NotInCall(target("bob"))));
    assert_eq!(directory.end_call(&alice, old, Some(&target("bob"))).await, Err(CallError::NoCall));
    assert_eq!(
        directory.answer_call(&bob, bob_connection, &target("alice")).await.map(|a| a.caller_connection),
        Ok(new)
    );
    assert_eq!(directory.relay_target(&bob, bob_connection, &target("alice")).await, Ok(new));
    assert!(directory.release(&alice, old, None).await.is_none());
    assert_eq!(directory.end_call(&alice, new, Some(&target("bob"))).await.map(|ended| ended.peer), Ok(bob));
    assert_consistent(directory).await;
}

pub(crate) async fn the_online_list_is_sorted_capped_and_leaves_out_the_asker(directory: &TestDirectory) {
    for (number, name) in ["dave", "bob", "carol", "alice"].into_iter().enumerate() {
        sign_in(directory, name, number as u64 + 1).await;
    }
    let names = |except: Option<&'static str>, limit| async move {
        let except = except.map(identity);
        directory
            .online_names(except.as_ref(), limit)
            .await
            .iter()
            .map(|name| name.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(None, 10).await, ["alice", "bob", "carol", "dave"]);
    assert_eq!(names(Some("carol"), 10).await, ["alice", "bob", "dave"]);
    assert_eq!(names(Some("CAROL"), 10).await, ["alice", "bob", "dave"], "the asker by key");
    assert_eq!(names(None, 2).await.len(), 2);
    assert_eq!(directory.online_count().await, 4);
}

pub(crate) async fn one_name_is_looked_up_by_key_and_answered_in_its_display_form(directory: &TestDirectory) {
    let (bob, holder) = sign_in(directory, "bob", 1).await;
    let found = |typed: &'static str| async move {
        directory.online_name(&target(typed)).await.map(|name| name.as_str().to_owned())
    };
    assert_eq!(found("bob").await.as_deref(), Some("bob"));
    assert_eq!(found(" Bob ").await.as_deref(), Some("bob"), "by key, as call targets are");
    assert_eq!(found("carol").await, None);
    directory.release(&bob, holder, None).await.expect("bob signs out");
    assert_eq!(found("bob").await, None);
}
