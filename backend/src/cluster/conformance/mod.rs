//! The conformance suite of `directory/conformance/`, copied as async tests and run against
//! [`RedisDirectory`] on a real redis-server (one per test). [`TestDirectory`] has the
//! `Directory` trait's signatures, async, and fails the test if Redis errs, so the scenarios are
//! the originals with `.await` added; keep them in step with the originals.
//!
//! The only other change: ring deadlines are whole milliseconds (`whole_millis_now`), as Redis
//! stores them, so a deadline read back equals the one given.

mod calls;
mod names;

use super::calls::whole_millis;
use super::connect;
use super::directory::RedisDirectory;
use super::test_redis::TestRedis;
use crate::directory::{
    CallAnswered, CallError, CallStarted, ClaimError, ClaimRequest, Claimed, ConnectionRef, EndedCall, ExpiredRing,
    Identity, NodeId, Released,
};
use protocol::UserName;
use std::time::{Duration, Instant};

/// The node every connection of these tests is on.
const NODE: NodeId = NodeId::from_raw(0x5eed);

/// A [`RedisDirectory`] of [`NODE`] on its own redis-server.
#[derive(Debug)]
pub(crate) struct TestDirectory {
    directory: RedisDirectory,
    _redis: TestRedis,
}

impl TestDirectory {
    async fn start() -> TestDirectory {
        let redis = TestRedis::start();
        let connection = connect(&redis.url()).await.expect("redis");
        let directory = RedisDirectory::new(connection, NODE, Duration::from_secs(60));
        directory.leases().heartbeat().await.expect("heartbeat");
        TestDirectory { directory, _redis: redis }
    }

    async fn claim(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        request: &ClaimRequest,
    ) -> Result<Claimed, ClaimError> {
        // Stale holders freed by a claim happen only with a dead node: not in these scenarios.
        self.directory.claim(name, holder, request).await.expect("redis").map(|(claimed, _)| claimed)
    }

    /// Held calls (`hold_until`) are not in Redis yet: these scenarios release without one.
    async fn release(&self, name: &Identity, holder: ConnectionRef) -> Option<Released> {
        self.directory.release(name, holder, None).await.expect("redis")
    }

    async fn online_count(&self) -> usize {
        self.directory.online_count().await.expect("redis")
    }

    async fn online_name(&self, name: &UserName) -> Option<UserName> {
        self.directory.online_name(name).await.expect("redis")
    }

    async fn online_names(&self, except: Option<&Identity>, limit: usize) -> Vec<UserName> {
        self.directory.online_names(except, limit).await.expect("redis")
    }

    async fn start_call(
        &self,
        caller: &Identity,
        holder: ConnectionRef,
        target: &UserName,
        ring_deadline: Instant,
    ) -> Result<CallStarted, CallError> {
        self.directory.start_call(caller, holder, target, ring_deadline).await.expect("redis")
    }

    async fn answer_call(
        &self,
        callee: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<CallAnswered, CallError> {
        self.directory.answer_call(callee, holder, target).await.expect("redis")
    }

    async fn end_call(
        &self,
        user: &Identity,
        holder: ConnectionRef,
        expected_peer: Option<&UserName>,
    ) -> Result<EndedCall, CallError> {
        self.directory.end_call(user, holder, expected_peer).await.expect("redis")
    }

    async fn relay_target(
        &self,
        sender: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<ConnectionRef, CallError> {
        self.directory.relay_target(sender, holder, target).await.expect("redis")
    }

    async fn next_ring_deadline(&self) -> Option<Instant> {
        self.directory.next_ring_deadline().await.expect("redis")
    }

    async fn expire_rings(&self, now: Instant) -> Vec<ExpiredRing> {
        self.directory.expire_rings(now).await.expect("redis")
    }

    async fn check_consistency(&self) -> Result<(), String> {
        self.directory.check_consistency().await.expect("redis")
    }
}

/// One `#[tokio::test]` per scenario, each on a fresh redis-server.
macro_rules! scenarios {
    ($($group:ident :: $test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let directory = TestDirectory::start().await;
                $group::$test(&directory).await;
            }
        )*
    };
}

scenarios!(
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

/// Connection number `number` on [`NODE`].
fn connection(number: u64) -> ConnectionRef {
    ConnectionRef { node: NODE, connection: number }
}

/// A name as a client types it (a call target).
fn target(name: &str) -> UserName {
    UserName::from_wire(name)
}

/// The identity of a login name.
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
    assert!(claimed.replaced.is_none() && claimed.ended_call.is_none() && claimed.newly_online);
    assert_consistent(directory).await;
    (claimed.identity, connection(number))
}

/// A takeover after a verified resume token, not naming a call.
fn takeover() -> ClaimRequest {
    ClaimRequest::Takeover { in_call_with: None, grace_deadline: later() }
}
