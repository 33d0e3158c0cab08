//! Relay: P pairs, each in a call, ping-pong one candidate at a time (closed loop). Measures
//! relayed messages per second, round trips, and the server's CPU time per relayed message, in
//! W windows after a warm-up; the report gives every window and their medians.

use crate::client::{self, candidate_frame, Client, Flavor, Kind};
use crate::stats::{self, median, round3, Latency};
use crate::{run_id, Common};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Debug, Clone)]
pub struct RelayOptions {
    pub pairs: usize,
    pub warmup: Duration,
    pub window: Duration,
    pub windows: u32,
    pub candidate_bytes: usize,
    /// Connections set up at once.
    pub concurrency: usize,
}

/// One measurement window.
#[derive(Debug, Clone)]
struct Window {
    seconds: f64,
    relayed: u64,
    server_cpu: Option<Duration>,
    generator_cpu: Option<Duration>,
    latency: Option<Latency>,
    /// CPU of the `--extra-pid` processes over the window (`crate::extra`).
    extra: Value,
}

impl Window {
    fn messages_per_second(&self) -> f64 {
        self.relayed as f64 / self.seconds
    }
    fn server_cpu_us_per_message(&self) -> Option<f64> {
        let cpu = self.server_cpu?;
        (self.relayed > 0).then(|| cpu.as_secs_f64() * 1e6 / self.relayed as f64)
    }
    fn to_json(&self) -> Value {
        json!({
            "seconds": round3(self.seconds),
            "relayed": self.relayed,
            "messages_per_sec": round3(self.messages_per_second()),
            "server_cpu_us_per_message": self.server_cpu_us_per_message().map(round3),
            "server_cpu_percent": self.server_cpu.map(|cpu| round3(cpu.as_secs_f64() * 100.0 / self.seconds)),
            "generator_cpu_percent": self.generator_cpu.map(|cpu| round3(cpu.as_secs_f64() * 100.0 / self.seconds)),
            "rtt": self.latency.map(Latency::to_json),
            "extra": self.extra,
        })
    }
}

struct Pair {
    caller: Client,
    callee: Client,
    caller_name: String,
    callee_name: String,
}

/// Two logged-in clients in a call (offer answered), ready to trickle candidates.
async fn set_up_pair(common: &Common, prefix: &str, index: usize) -> anyhow::Result<Pair> {
    let caller_name = format!("{prefix}a{index}");
    let callee_name = format!("{prefix}b{index}");
    let mut caller = Client::connect_and_login(&common.target, common.io_timeout, &caller_name).await?;
    // With --partner-url the callee is on another node: every candidate crosses between nodes.
    let mut callee = Client::connect_and_login(common.partner_target(), common.io_timeout, &callee_name).await?;
    let sdp_offer = client::sdp_json("offer", 300);
    let sdp_answer = client::sdp_json("answer", 300);
    caller.send(client::offer_frame(&callee_name, &sdp_offer)).await?;
    callee.expect(Kind::Offer).await.context("callee waiting for the offer")?;
    callee.send(client::answer_frame(&caller_name, &sdp_answer)).await?;
    caller.expect(Kind::Answer).await.context("caller waiting for the answer")?;
    Ok(Pair { caller, callee, caller_name, callee_name })
}

pub async fn run(common: &Common, options: &RelayOptions) -> anyhow::Result<Value> {
    let prefix = run_id("r");
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let setup_started = Instant::now();
    let mut setups = Vec::with_capacity(options.pairs);
    for index in 0..options.pairs {
        let semaphore = semaphore.clone();
        let common = common.clone();
        let prefix = prefix.clone();
        setups.push(tokio::spawn(async move {
            let _permit = semaphore.acquire_owned().await?;
            set_up_pair(&common, &prefix, index).await
        }));
    }
    let mut pairs = Vec::with_capacity(options.pairs);
    for setup in setups {
        pairs.push(setup.await.context("pair set-up task")?.context("setting up a pair")?);
    }
    let setup_seconds = setup_started.elapsed().as_secs_f64();
    let flavor = pairs.first().map_or(Flavor::Duet, |pair| pair.caller.flavor);

    // Phase 0: warm-up; 1..=windows: measured; windows + 1: stop.
    let phase = Arc::new(AtomicU32::new(0));
    let relayed = Arc::new(AtomicU64::new(0));
    let stop_phase = options.windows + 1;
    let mut callers = Vec::with_capacity(pairs.len());
    let mut callees = Vec::with_capacity(pairs.len());
    for (index, pair) in pairs.into_iter().enumerate() {
        let Pair { mut caller, mut callee, caller_name, callee_name } = pair;
        let seed = u32::try_from(index).unwrap_or(0);
        let to_callee = candidate_frame(&callee_name, &client::candidate_json(options.candidate_bytes, seed));
        let to_caller = candidate_frame(&caller_name, &client::candidate_json(options.candidate_bytes, seed + 1));
        let (phase, relayed_by_caller) = (phase.clone(), relayed.clone());
        callers.push(tokio::spawn(async move {
            let mut samples: Vec<(u32, u64)> = Vec::new();
            let outcome: anyhow::Result<()> = async {
                loop {
                    let current = phase.load(Ordering::Relaxed);
                    if current >= stop_phase {
                        return Ok(());
                    }
                    let sent = Instant::now();
                    caller.send(to_callee.clone()).await?;
                    caller.expect(Kind::Candidate).await?;
                    relayed_by_caller.fetch_add(1, Ordering::Relaxed);
                    let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                    if samples.len() < MAX_SAMPLES_PER_PAIR {
                        samples.push((current, micros));
                    }
                }
            }
            .await;
            caller.close().await;
            (samples, outcome)
        }));
        let relayed_by_callee = relayed.clone();
        callees.push(tokio::spawn(async move {
            let outcome: anyhow::Result<()> = async {
                loop {
                    match callee.recv_kind().await {
                        Ok(Kind::Candidate) => {
                            relayed_by_callee.fetch_add(1, Ordering::Relaxed);
                            callee.send(to_caller.clone()).await?;
                        }
                        // The caller hung up (the server tells us); we are done.
                        Ok(Kind::Leave) => return Ok(()),
                        Ok(other) => bail!("callee got {other:?} during the relay"),
                        Err(error) => return Err(error),
                    }
                }
            }
            .await;
            callee.close().await;
            outcome
        }));
    }

    tokio::time::sleep(options.warmup).await;
    let mut windows = Vec::with_capacity(options.windows as usize);
    for number in 1..=options.windows {
        let (count_before, cpu_before, own_before, extra_before) =
            (relayed.load(Ordering::Relaxed), common.server_cpu(), stats::own_cpu(), common.extra_cpu());
        let started = Instant::now();
        phase.store(number, Ordering::Relaxed);
        tokio::time::sleep(options.window).await;
        let seconds = started.elapsed().as_secs_f64();
        let (count_after, cpu_after, own_after, extra_after) =
            (relayed.load(Ordering::Relaxed), common.server_cpu(), stats::own_cpu(), common.extra_cpu());
        let relayed_in_window = count_after - count_before;
        windows.push(Window {
            seconds,
            relayed: relayed_in_window,
            server_cpu: cpu_before.zip(cpu_after).map(|(before, after)| after.saturating_sub(before)),
            generator_cpu: own_before.zip(own_after).map(|(before, after)| after.saturating_sub(before)),
            latency: None,
            extra: common.extra_cpu_between(&extra_before, &extra_after, seconds, relayed_in_window, "message"),
        });
    }
    phase.store(stop_phase, Ordering::Relaxed);

    let mut errors = Vec::new();
    let mut by_window: Vec<Vec<u64>> = vec![Vec::new(); options.windows as usize + 1];
    for caller in callers {
        let (samples, outcome) = caller.await.context("caller task")?;
        if let Err(error) = outcome {
            errors.push(format!("{error:#}"));
        }
        for (window, micros) in samples {
            if let Some(bucket) = by_window.get_mut(window as usize) {
                bucket.push(micros);
            }
        }
    }
    for callee in callees {
        if let Err(error) = callee.await.context("callee task")? {
            errors.push(format!("{error:#}"));
        }
    }
    for (window, samples) in windows.iter_mut().zip(by_window.iter_mut().skip(1)) {
        window.latency = Latency::from_micros(samples);
    }
    if errors.len() == options.pairs * 2 {
        bail!("every connection failed; first error: {}", errors[0]);
    }

    let med =
        |value: fn(&Window) -> Option<f64>| median(&windows.iter().filter_map(value).collect::<Vec<f64>>()).map(round3);
    let extra: Vec<Value> = windows.iter().map(|window| window.extra.clone()).collect();
    let summary = json!({
        "messages_per_sec": med(|w| Some(w.messages_per_second())),
        "server_cpu_us_per_message": med(Window::server_cpu_us_per_message),
        "server_cpu_percent": med(|w| w.server_cpu.map(|cpu| cpu.as_secs_f64() * 100.0 / w.seconds)),
        "generator_cpu_percent": med(|w| w.generator_cpu.map(|cpu| cpu.as_secs_f64() * 100.0 / w.seconds)),
        "rtt_p50_ms": med(|w| w.latency.map(|l| l.p50_ms)),
        "rtt_p90_ms": med(|w| w.latency.map(|l| l.p90_ms)),
        "rtt_p99_ms": med(|w| w.latency.map(|l| l.p99_ms)),
        "rtt_max_ms": med(|w| w.latency.map(|l| l.max_ms)),
        "extra": crate::extra::median_of(&extra),
    });
    Ok(json!({
        "mode": "relay",
        "flavor": flavor.as_str(),
        "pairs": options.pairs,
        "candidate_bytes": options.candidate_bytes,
        "warmup_s": options.warmup.as_secs_f64(),
        "window_s": options.window.as_secs_f64(),
        "setup_s": round3(setup_seconds),
        "median": summary,
        "windows": windows.iter().map(Window::to_json).collect::<Vec<_>>(),
        "errors": errors.len(),
        "first_error": errors.first(),
    }))
}

/// Bounds the generator's memory whatever the duration: 2 M samples per pair at most.
const MAX_SAMPLES_PER_PAIR: usize = 2_000_000;
