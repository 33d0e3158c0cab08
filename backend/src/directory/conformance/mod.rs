//! The conformance suite: one set of async scenarios that every directory runs, through the
//! methods of [`DirectoryBackend`]: the in-memory one and the one on Redis (a real
//! `redis-server` per test, started and killed by the test). Each scenario is an async
//! function over `&TestDirectory` (the backend's methods, failing the test if the store is out
//! of reach); `scenarios!` turns a list of them into `#[tokio::test]`s for one implementation.
//! Every scenario checks `check_consistency` (symmetric call state) after each transition.
//!
//! Ring and grace deadlines are whole milliseconds (`whole_millis_now`), as Redis stores them,
//! so a deadline read back equals the one given.
//!
//! Held calls (`held_calls.rs`, issue 10) run against both too.

pub(crate) mod calls;
pub(crate) mod held_calls;
pub(crate) mod names;

use super::{
    CallAnswered, CallError, CallStarted, ClaimError, ClaimRequest, Claimed, ConnectionRef, EndedCall, ExpiredGrace,
    ExpiredRing, Identity, NodeId, Released,
};
use crate::cluster::calls::whole_millis;
use crate::cluster::directory::RedisDirectory;
use crate::cluster::test_redis::TestRedis;
use crate::directory_backend::DirectoryBackend;
use protocol::UserName;
use std::time::{Duration, Instant};

/// The node every connection of these tests is on (any node: the directory only stores it).
const NODE: NodeId = NodeId::from_raw(0x5eed);

/// A directory under test, and the redis-server it lives on, if any.
#[derive(Debug)]
pub(crate) struct TestDirectory {
    directory: DirectoryBackend,
    _redis: Option<TestRedis>,
}

const REACHABLE: &str = "the directory's store is reachable in these tests";

impl TestDirectory {
    pub(crate) fn in_memory() -> TestDirectory {
        TestDirectory { directory: DirectoryBackend::in_memory(), _redis: None }
    }

    /// A `RedisDirectory` of [`NODE`] on its own redis-server, its node lease live.
    pub(crate) async fn on_redis() -> TestDirectory {
        let redis = TestRedis::start();
        let connection = crate::cluster::connect(&redis.url()).await.expect("redis");
        let directory = RedisDirectory::new(connection, NODE, Duration::from_secs(60));
        directory.leases().heartbeat().await.expect("heartbeat");
        TestDirectory { directory: DirectoryBackend::Redis(Box::new(directory)), _redis: Some(redis) }
    }

    async fn claim(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        request: &ClaimRequest,
    ) -> Result<Claimed, ClaimError> {
        self.directory.claim(name, holder, request).await
    }

    async fn release(&self, name: &Identity, holder: ConnectionRef, hold_until: Option<Instant>) -> Option<Released> {
        self.directory.release(name, holder, hold_until).await.expect(REACHABLE)
    }

    async fn online_count(&self) -> usize {
        self.directory.online_count().await.expect(REACHABLE)
    }

    async fn online_name(&self, name: &UserName) -> Option<UserName> {
        self.directory.online_name(name).await.expect(REACHABLE)
    }

    async fn online_names(&self, except: Option<&Identity>, limit: usize) -> Vec<UserName> {
        self.directory.online_names(except, limit).await.expect(REACHABLE)
    }

    async fn start_call(
        &self,
        caller: &Identity,
        holder: ConnectionRef,
        target: &UserName,
        ring_deadline: Instant,
    ) -> Result<CallStarted, CallError> {
        self.directory.start_call(caller, holder, target, ring_deadline).await
    }

    async fn answer_call(
        &self,
        callee: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<CallAnswered, CallError> {
        self.directory.answer_call(callee, holder, target).await
    }

    async fn end_call(
        &self,
        user: &Identity,
        holder: ConnectionRef,
        expected_peer: Option<&UserName>,
    ) -> Result<EndedCall, CallError> {
        self.directory.end_call(user, holder, expected_peer).await
    }

    async fn relay_target(
        &self,
        sender: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<ConnectionRef, CallError> {
        self.directory.relay_target(sender, holder, target).await
    }

    async fn next_ring_deadline(&self) -> Option<Instant> {
        self.directory.next_ring_deadline().await.expect(REACHABLE)
    }

    async fn expire_rings(&self, now: Instant) -> Vec<ExpiredRing> {
        self.directory.expire_rings(now).await.expect(REACHABLE)
    }

    async fn next_grace_deadline(&self) -> Option<Instant> {
        self.directory.next_grace_deadline().await.expect(REACHABLE)
    }

    async fn expire_graces(&self, now: Instant) -> Vec<ExpiredGrace> {
        self.directory.expire_graces(now).await.expect(REACHABLE)
    }

    async fn check_consistency(&self) -> Result<(), String> {
        self.directory.check_consistency().await
    }
}

/// One `#[tokio::test]` per scenario, each on a fresh directory made by `$make`.
macro_rules! scenarios {
    ($make:expr; $($group:ident :: $test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let directory = $make;
                super::$group::$test(&directory).await;
            }
        )*
    };
}

/// The scenarios of names and calls, for both directories.
macro_rules! names_and_calls {
    ($make:expr) => {
        scenarios!($make;
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
        );
    };
}

/// The held-call scenarios (issue 10).
macro_rules! held_calls {
    ($make:expr) => {
        scenarios!($make;
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
            held_calls::nobody_else_may_claim_an_away_name_and_relays_to_a_waited_for_peer_are_refused,
        );
    };
}

/// The whole suite against `MemoryDirectory`.
mod in_memory {
    use super::TestDirectory;

    names_and_calls!(TestDirectory::in_memory());
    held_calls!(TestDirectory::in_memory());
}

/// The whole suite against `RedisDirectory` on a real redis-server.
mod on_redis {
    use super::TestDirectory;

    names_and_calls!(TestDirectory::on_redis().await);
    held_calls!(TestDirectory::on_redis().await);
}

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

async fn assert_consistent(directory: &TestDirectory) {
    assert_eq!(directory.check_consistency().await, Ok(()));
}

/// Now, to the millisecond (what Redis stores).
fn whole_millis_now() -> Instant {
    whole_millis(Instant::now())
}

/// A ring deadline far enough ahead that nothing expires unless a test says so.
fn later() -> Instant {
    whole_millis_now() + Duration::from_secs(45)
}

/// Signs `name` in on connection `number`; returns the identity and its connection.
async fn sign_in(directory: &TestDirectory, name: &str, number: u64) -> (Identity, ConnectionRef) {
    let claimed =
        directory.claim(&identity(name), connection(number), &ClaimRequest::Fresh).await.expect("a free name");
    assert!(claimed.newly_online && claimed.replaced.is_none() && claimed.ended_call.is_none());
    assert_consistent(directory).await;
    (claimed.identity, connection(number))
}

/// A takeover the session allowed (a valid resume token), naming `in_call_with` if given; a
/// wait for that peer lasts until `grace_deadline`.
fn takeover(in_call_with: Option<&str>, grace_deadline: Instant) -> ClaimRequest {
    ClaimRequest::Takeover { in_call_with: in_call_with.map(target), grace_deadline }
}
