//! Measures the cluster building blocks' scripts against a fresh redis-server on loopback (the
//! tests' helper): sign-ins (claim) per second from 64 concurrent tasks, and the round trip of
//! one call's offer, answer and end, each a script. Not a test: numbers for BENCHMARKS.md.
//!
//! `cargo run --release -p backend --example cluster_scripts`

// Only part of the tests' helper is used here.
#[allow(dead_code)]
#[path = "../src/cluster/test_redis.rs"]
mod test_redis;

use backend::address::{ConnectionRef, NodeId};
use backend::cluster::connect;
use backend::cluster::directory::RedisDirectory;
use backend::directory::{ClaimRequest, Identity};
use protocol::UserName;
use std::time::{Duration, Instant};

const TASKS: u64 = 64;
const CLAIMS_PER_TASK: u64 = 500;
const CALLS: usize = 2_000;

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |quantile: f64| samples[((samples.len() - 1) as f64 * quantile) as usize].as_secs_f64() * 1e6;
    format!("p50 {:.0} µs, p99 {:.0} µs", at(0.5), at(0.99))
}

#[tokio::main]
async fn main() {
    let redis = test_redis::TestRedis::start();
    let node = NodeId::from_raw(0xa);
    let directory = RedisDirectory::new(connect(&redis.url()).await.expect("redis"), node, Duration::from_secs(60));
    directory.leases().heartbeat().await.expect("heartbeat");

    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let directory = directory.clone();
            tokio::spawn(async move {
                for index in 0..CLAIMS_PER_TASK {
                    let connection = task * CLAIMS_PER_TASK + index + 10;
                    let name = Identity::new(UserName::from_wire(format!("user{connection}")));
                    let holder = ConnectionRef { node, connection };
                    directory.claim(&name, holder, &ClaimRequest::Fresh).await.expect("redis").expect("a free name");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let claims = (TASKS * CLAIMS_PER_TASK) as f64;
    println!("claims (sign-ins), {TASKS} tasks: {:.0} /s", claims / started.elapsed().as_secs_f64());

    let alice = Identity::new(UserName::from_wire("alice"));
    let bob = Identity::new(UserName::from_wire("bob"));
    let (alice_at, bob_at) = (ConnectionRef { node, connection: 1 }, ConnectionRef { node, connection: 2 });
    directory.claim(&alice, alice_at, &ClaimRequest::Fresh).await.expect("redis").expect("free");
    directory.claim(&bob, bob_at, &ClaimRequest::Fresh).await.expect("redis").expect("free");
    let (mut offers, mut answers, mut ends, mut relays) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..CALLS {
        let deadline = Instant::now() + Duration::from_secs(45);
        let started = Instant::now();
        directory.start_call(&alice, alice_at, bob.display(), deadline).await.expect("redis").expect("offer");
        offers.push(started.elapsed());
        let started = Instant::now();
        directory.answer_call(&bob, bob_at, alice.display()).await.expect("redis").expect("answer");
        answers.push(started.elapsed());
        let started = Instant::now();
        directory.relay_target(&alice, alice_at, bob.display()).await.expect("redis").expect("relay");
        relays.push(started.elapsed());
        let started = Instant::now();
        directory.end_call(&alice, alice_at, None).await.expect("redis").expect("end");
        ends.push(started.elapsed());
    }
    println!("offer (start_call):   {}", percentiles(offers));
    println!("answer (answer_call): {}", percentiles(answers));
    println!("relay_target:         {}", percentiles(relays));
    println!("end (end_call):       {}", percentiles(ends));
}
