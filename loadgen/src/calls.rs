//! Call set-up: C calls, K in flight, on ours, the classic server or PeerJS (the servers with
//! offers, answers and hang-ups; peerjs.rs has its sequence). Each call: two new connections log in, offer, answer, N
//! candidates each way, leave, close; timed from the first connect to both connections closed.
//!
//! The classic server crashes when a peer that hung up disconnects after the other side
//! (its close handler dereferences the missing peer), so the order is: the caller sends `leave`,
//! closes first, and the callee closes only after the server told it about the caller's close
//! (the classic server sends a second `leave` then; ours sends none, the call is already over).

use crate::adapters::{peerjs, ServerKind};
use crate::client::{self, Client, Flavor, Kind};
use crate::stats::{median, round3, Latency};
use crate::{run_id, Common};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct CallOptions {
    pub calls: usize,
    pub in_flight: usize,
    pub runs: u32,
    pub candidates: usize,
    pub sdp_bytes: usize,
    pub candidate_bytes: usize,
}

struct Payloads {
    offer: String,
    answer: String,
    candidate: String,
}

async fn one_call(
    common: &Common,
    options: &CallOptions,
    payloads: &Payloads,
    caller_name: &str,
    callee_name: &str,
) -> anyhow::Result<Flavor> {
    if common.server == ServerKind::Peerjs {
        let (offer, answer, candidate) = (&payloads.offer, &payloads.answer, &payloads.candidate);
        peerjs::one_call(common, (caller_name, callee_name), (offer, answer, candidate), options.candidates).await?;
        return Ok(Flavor::Duet);
    }
    let (caller, callee) = tokio::join!(
        Client::connect_and_login(&common.target, common.io_timeout, caller_name),
        Client::connect_and_login(common.partner_target(), common.io_timeout, callee_name),
    );
    let (mut caller, mut callee) = (caller?, callee?);
    let flavor = caller.flavor;
    let caller_side = async {
        caller.send(client::offer_frame(callee_name, &payloads.offer)).await?;
        for _ in 0..options.candidates {
            caller.send(client::candidate_frame(callee_name, &payloads.candidate)).await?;
        }
        caller.expect(Kind::Answer).await.context("caller waiting for the answer")?;
        for _ in 0..options.candidates {
            caller.expect(Kind::Candidate).await.context("caller waiting for candidates")?;
        }
        caller.send(client::leave_frame(callee_name)).await?;
        caller.close().await;
        anyhow::Ok(())
    };
    let callee_side = async {
        callee.expect(Kind::Offer).await.context("callee waiting for the offer")?;
        callee.send(client::answer_frame(caller_name, &payloads.answer)).await?;
        for _ in 0..options.candidates {
            callee.send(client::candidate_frame(caller_name, &payloads.candidate)).await?;
        }
        for _ in 0..options.candidates {
            callee.expect(Kind::Candidate).await.context("callee waiting for candidates")?;
        }
        callee.expect(Kind::Leave).await.context("callee waiting for leave")?;
        if flavor == Flavor::Classic {
            // Sent by the classic server when it has processed the caller's close.
            callee.expect(Kind::Leave).await.context("callee waiting for the caller's close")?;
        }
        callee.close().await;
        anyhow::Ok(())
    };
    let (caller_result, callee_result) = tokio::join!(caller_side, callee_side);
    caller_result?;
    callee_result?;
    Ok(flavor)
}

struct RunResult {
    seconds: f64,
    completed: usize,
    errors: Vec<String>,
    latency: Option<Latency>,
    server_cpu: Option<Duration>,
    flavor: Option<Flavor>,
    /// CPU of the `--extra-pid` processes over the run (`crate::extra`).
    extra: Value,
}

async fn one_run(common: &Common, options: &CallOptions, prefix: &str) -> anyhow::Result<RunResult> {
    let payloads = Arc::new(Payloads {
        offer: client::sdp_json("offer", options.sdp_bytes),
        answer: client::sdp_json("answer", options.sdp_bytes),
        candidate: client::candidate_json(options.candidate_bytes, 1),
    });
    let next = Arc::new(AtomicUsize::new(0));
    let (cpu_before, extra_before) = (common.server_cpu(), common.extra_cpu());
    let started = Instant::now();
    let mut workers = Vec::with_capacity(options.in_flight);
    for _ in 0..options.in_flight.max(1) {
        let (common, options, payloads, next, prefix) =
            (common.clone(), options.clone(), payloads.clone(), next.clone(), prefix.to_owned());
        workers.push(tokio::spawn(async move {
            let mut micros = Vec::new();
            let mut errors = Vec::new();
            let mut flavor = None;
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= options.calls {
                    break;
                }
                let call_started = Instant::now();
                let (caller, callee) = (format!("{prefix}a{index}"), format!("{prefix}b{index}"));
                match one_call(&common, &options, &payloads, &caller, &callee).await {
                    Ok(seen) => {
                        flavor = Some(seen);
                        micros.push(u64::try_from(call_started.elapsed().as_micros()).unwrap_or(u64::MAX));
                    }
                    Err(error) => errors.push(format!("{error:#}")),
                }
            }
            (micros, errors, flavor)
        }));
    }
    let (mut micros, mut errors, mut flavor) = (Vec::new(), Vec::new(), None);
    for worker in workers {
        let (worker_micros, worker_errors, worker_flavor) = worker.await.context("call worker")?;
        micros.extend(worker_micros);
        errors.extend(worker_errors);
        flavor = flavor.or(worker_flavor);
    }
    let seconds = started.elapsed().as_secs_f64();
    let server_cpu = cpu_before.zip(common.server_cpu()).map(|(before, after)| after.saturating_sub(before));
    let extra = common.extra_cpu_between(&extra_before, &common.extra_cpu(), seconds, micros.len() as u64, "call");
    Ok(RunResult {
        extra,
        seconds,
        completed: micros.len(),
        errors,
        latency: Latency::from_micros(&mut micros),
        server_cpu,
        flavor,
    })
}

pub async fn run(common: &Common, options: &CallOptions) -> anyhow::Result<Value> {
    let prefix = run_id("k");
    let mut runs = Vec::new();
    for run in 0..options.runs {
        let result = one_run(common, options, &format!("{prefix}{run}")).await?;
        if result.completed == 0 {
            bail!("no call completed; first error: {}", result.errors.first().map_or("none", String::as_str));
        }
        runs.push(result);
    }
    let rate = |run: &RunResult| run.completed as f64 / run.seconds;
    let cpu_per_call = |run: &RunResult| run.server_cpu.map(|cpu| cpu.as_secs_f64() * 1e6 / run.completed as f64);
    let med = |values: Vec<f64>| median(&values).map(round3);
    let errors: Vec<&String> = runs.iter().flat_map(|run| run.errors.iter()).collect();
    Ok(json!({
        "mode": "calls",
        "flavor": match common.server {
            ServerKind::Duet => runs.iter().find_map(|run| run.flavor).map(Flavor::as_str),
            other => Some(other.as_str()),
        },
        "server_kind": common.server.as_str(),
        "calls": options.calls,
        "in_flight": options.in_flight,
        "candidates_each_way": options.candidates,
        "sdp_bytes": options.sdp_bytes,
        "median": {
            "calls_per_sec": med(runs.iter().map(rate).collect()),
            "p50_ms": med(runs.iter().filter_map(|run| run.latency.map(|l| l.p50_ms)).collect()),
            "p99_ms": med(runs.iter().filter_map(|run| run.latency.map(|l| l.p99_ms)).collect()),
            "max_ms": med(runs.iter().filter_map(|run| run.latency.map(|l| l.max_ms)).collect()),
            "server_cpu_us_per_call": med(runs.iter().filter_map(cpu_per_call).collect()),
            "extra": crate::extra::median_of(&runs.iter().map(|run| run.extra.clone()).collect::<Vec<_>>()),
        },
        "runs": runs.iter().map(|run| json!({
            "seconds": round3(run.seconds),
            "completed": run.completed,
            "failed": run.errors.len(),
            "calls_per_sec": round3(rate(run)),
            "latency": run.latency.map(Latency::to_json),
            "server_cpu_us_per_call": cpu_per_call(run).map(round3),
            "extra": run.extra,
        })).collect::<Vec<_>>(),
        "errors": errors.len(),
        "first_error": errors.first(),
    }))
}
