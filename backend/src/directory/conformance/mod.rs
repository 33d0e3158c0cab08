//! The conformance suite: one set of tests, written against the [`Directory`] trait, that every
//! implementation runs (today [`super::MemoryDirectory`], in `memory/mod.rs`). Each test is a
//! generic function over `&impl Directory`; `conformance_tests!(constructor)` turns the list
//! into `#[test]`s for one implementation. Every test checks [`Directory::check_consistency`]
//! (symmetric call state) after each transition.

pub(crate) mod calls;
pub(crate) mod held_calls;
pub(crate) mod names;

use super::{ClaimRequest, ConnectionRef, Directory, Identity, NodeId};
use protocol::UserName;
use std::time::{Duration, Instant};

/// `#[test]`s running the whole suite against the directory built by the given expression.
macro_rules! conformance_tests {
    ($make_directory:expr) => {
        $crate::directory::conformance::conformance_tests!(@each $make_directory;
            names::claiming_a_free_name_signs_in_and_the_name_or_a_look_alike_is_then_refused,
            names::a_takeover_moves_the_name_to_a_new_connection_and_a_plain_claim_is_refused,
            names::a_name_is_freed_exactly_once_and_only_by_the_connection_that_holds_it,
            names::regression_a_connection_replaced_by_a_resume_login_can_no_longer_act_on_the_name,
            names::the_online_list_is_sorted_capped_and_leaves_out_the_asker,
            names::one_name_is_looked_up_by_key_and_answered_in_its_display_form,
            calls::an_offer_rings_the_callee_and_both_sides_name_each_other,
            calls::offers_to_oneself_to_nobody_to_someone_busy_or_while_in_a_call_are_refused,
            calls::glare_the_second_of_two_crossing_offers_is_refused_and_the_first_call_stands,
            calls::answering_connects_the_call_and_cancels_its_ring_deadline,
            calls::offers_and_answers_inside_a_call_are_renegotiations,
            calls::leaving_ends_the_call_for_both_and_names_the_peer_to_tell,
            calls::a_ring_deadline_ends_the_call_for_both_once_it_has_passed_and_only_once,
            calls::ring_deadlines_expire_earliest_first,
            calls::disconnecting_mid_call_frees_the_peer,
            calls::a_resume_login_mid_call_ends_the_call_of_the_replaced_connection,
            calls::relaying_goes_only_between_the_two_parties_of_one_call,
            held_calls::a_lost_connection_of_a_client_that_keeps_calls_holds_the_call_and_the_name,
            held_calls::ringing_calls_and_idle_users_are_not_held,
            held_calls::the_away_side_back_with_in_call_with_restores_the_call_for_both,
            held_calls::the_away_side_back_without_naming_its_peer_ends_the_held_call,
            held_calls::both_sides_away_are_restored_once_both_are_back,
            held_calls::after_a_restart_both_sides_naming_each_other_restore_the_pairing,
            held_calls::after_a_restart_the_awaited_side_signing_in_without_naming_the_waiter_ends_the_wait,
            held_calls::a_side_that_never_comes_back_is_expired_at_the_grace_deadline_and_its_name_freed,
            held_calls::a_wait_never_answered_expires_at_the_grace_deadline,
            held_calls::the_peer_leaving_during_the_hold_ends_the_call_and_frees_the_away_name,
            held_calls::nobody_else_may_claim_an_away_name_and_relays_to_a_waited_for_peer_are_refused
        );
    };
    (@each $make_directory:expr; $($group:ident :: $test:ident),* $(,)?) => {
        mod conformance {
            use super::*;
            $(
                #[test]
                fn $test() {
                    $crate::directory::conformance::$group::$test(&$make_directory);
                }
            )*
        }
    };
}
pub(crate) use conformance_tests;

/// The node every connection of these tests is on (any node: the directory only stores it).
const NODE: NodeId = NodeId::from_raw(0x5eed);

/// Connection number `number` on [`NODE`].
fn connection(number: u64) -> ConnectionRef {
    ConnectionRef { node: NODE, connection: number }
}

/// A name as a client types it (a call target).
fn target(name: &str) -> UserName {
    UserName::from_wire(name)
}

/// The identity of a login name (the directory takes whatever login accepted).
fn identity(name: &str) -> Identity {
    Identity::new(UserName::from_wire(name))
}

fn assert_consistent(directory: &impl Directory) {
    assert_eq!(directory.check_consistency(), Ok(()));
}

/// A ring deadline far enough ahead that nothing expires unless a test says so.
fn later() -> Instant {
    Instant::now() + Duration::from_secs(45)
}

/// Signs `name` in on connection `number`; returns the identity and its connection.
fn sign_in(directory: &impl Directory, name: &str, number: u64) -> (Identity, ConnectionRef) {
    let claimed = directory.claim(&identity(name), connection(number), &ClaimRequest::Fresh).expect("a free name");
    assert!(claimed.newly_online && claimed.replaced.is_none() && claimed.ended_call.is_none());
    assert_consistent(directory);
    (claimed.identity, connection(number))
}

/// A takeover the session allowed (a valid resume token), naming `in_call_with` if given; a
/// wait for that peer lasts until `grace_deadline`.
fn takeover(in_call_with: Option<&str>, grace_deadline: Instant) -> ClaimRequest {
    ClaimRequest::Takeover { in_call_with: in_call_with.map(target), grace_deadline }
}
