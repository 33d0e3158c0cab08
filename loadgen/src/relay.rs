//! Relay: P pairs, each in a call, ping-pong one candidate at a time (closed loop, or paced at a
//! fixed rate per pair with `--rate`), over any server's adapter. Measures
//! relayed messages per second, round trips, and the server's CPU time per relayed message, in
//! W windows after a warm-up; the report gives every window and their medians.

use crate::adapters::{self, Incoming, Pair};
use crate::client;
use crate::stats::{self, median, round3, Latency};
use crate::{run_id, Common};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};

#[derive(Debug, Clone)]
pub struct RelayOptions {
    pub pairs: usize,
    pub warmup: Duration,
    pub window: Duration,
    pub windows: u32,
    pub candidate_bytes: usize,
    /// Connections set up at once.
    pub concurrency: usize,
    /// Round trips per second per pair (fixed offered load); `None`: closed loop.
    pub rate: Option<f64>,
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

pub async fn run(common: &Common, options: &RelayOptions) -> anyhow::Result<Value> {
    let prefix = run_id("r");
    // The do-nothing relays pair connections by arrival: one pair at a time.
    let concurrency = if common.server.pairs_by_arrival() { 1 } else { options.concurrency.max(1) };
    let semaphore = Arc::new(Semaphore::new(concurrency));
    let setup_started = Instant::now();
    let mut setups = Vec::with_capacity(options.pairs);
    for index in 0..options.pairs {
        let semaphore = semaphore.clone();
        let common = common.clone();
        let prefix = prefix.clone();
        let seed = u32::try_from(index).unwrap_or(0);
        let (to_callee, to_caller) = (
            client::candidate_json(options.candidate_bytes, seed),
            client::candidate_json(options.candidate_bytes, seed + 1),
        );
        setups.push(tokio::spawn(async move {
            let _permit = semaphore.acquire_owned().await?;
            adapters::set_up_pair(&common, &prefix, index, &to_callee, &to_caller).await
        }));
    }
    let mut pairs = Vec::with_capacity(options.pairs);
    for setup in setups {
        pairs.push(setup.await.context("pair set-up task")?.context("setting up a pair")?);
    }
    let setup_seconds = setup_started.elapsed().as_secs_f64();
    let kind = common.server;
    let flavor = pairs.first().map_or(kind.as_str(), |pair| pair.caller.flavor(kind));

    // Phase 0: warm-up; 1..=windows: measured; windows + 1: stop.
    let phase = Arc::new(AtomicU32::new(0));
    let (stop_sender, stop) = watch::channel(false);
    let relayed = Arc::new(AtomicU64::new(0));
    let stop_phase = options.windows + 1;
    let interval = options.rate.map(|rate| Duration::from_secs_f64(1.0 / rate));
    let mut callers = Vec::with_capacity(pairs.len());
    let mut callees = Vec::with_capacity(pairs.len());
    for (index, pair) in pairs.into_iter().enumerate() {
        let Pair { mut caller, mut callee, to_callee, to_caller } = pair;
        let (phase, relayed_by_caller, mut stopped) = (phase.clone(), relayed.clone(), stop.clone());
        // Paced callers start spread over one interval, not all at once.
        let offset = interval.map(|interval| interval.mul_f64(index as f64 / options.pairs as f64));
        callers.push(tokio::spawn(async move {
            let mut samples: Vec<(u32, u64)> = Vec::new();
            let outcome: anyhow::Result<()> = async {
                let mut next = tokio::time::Instant::now() + offset.unwrap_or_default();
                loop {
                    if let Some(interval) = interval {
                        tokio::select! {
                            _ = stopped.changed() => return Ok(()),
                            () = tokio::time::sleep_until(next) => {}
                        }
                        // Late: start from now rather than catching up in a burst.
                        next = (next + interval).max(tokio::time::Instant::now());
                    }
                    let current = phase.load(Ordering::Relaxed);
                    if current >= stop_phase {
                        return Ok(());
                    }
                    let sent = Instant::now();
                    caller.send(&to_callee).await?;
                    let incoming = tokio::select! {
                        biased;
                        _ = stopped.changed() => return Ok(()),
                        incoming = caller.recv(kind) => match incoming {
                            Ok(incoming) => incoming,
                            // The partner closed at the end of the run (the floors then reset).
                            Err(_) if *stopped.borrow() => return Ok(()),
                            Err(error) => return Err(error),
                        },
                    };
                    if incoming != Incoming::Relayed {
                        bail!("caller got {incoming:?} during the relay");
                    }
                    relayed_by_caller.fetch_add(1, Ordering::Relaxed);
                    let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                    if samples.len() < MAX_SAMPLES_PER_PAIR {
                        samples.push((current, micros));
                    }
                }
            }
            .await;
            // A send to a partner that closed at the end of the run is the end, not a failure.
            let outcome = if *stopped.borrow() { Ok(()) } else { outcome };
            caller.close().await;
            (samples, outcome)
        }));
        let (relayed_by_callee, mut stopped) = (relayed.clone(), stop.clone());
        callees.push(tokio::spawn(async move {
            let outcome: anyhow::Result<()> = async {
                loop {
                    let incoming = tokio::select! {
                        biased;
                        _ = stopped.changed() => return Ok(()),
                        incoming = callee.recv(kind) => match incoming {
                            Ok(incoming) => incoming,
                            // The partner closed at the end of the run (the floors then reset).
                            Err(_) if *stopped.borrow() => return Ok(()),
                            Err(error) => return Err(error),
                        },
                    };
                    match incoming {
                        Incoming::Relayed => {
                            relayed_by_callee.fetch_add(1, Ordering::Relaxed);
                            callee.send(&to_caller).await?;
                        }
                        // The caller hung up (the server tells us); we are done.
                        Incoming::PeerLeft => return Ok(()),
                        Incoming::Other => bail!("callee got an unexpected message during the relay"),
                    }
                }
            }
            .await;
            // A send to a partner that closed at the end of the run is the end, not a failure.
            let outcome = if *stopped.borrow() { Ok(()) } else { outcome };
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
    // Stop first: whatever closes after this is the end of the run, not a failure.
    let _ = stop_sender.send(true);
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
        "flavor": flavor,
        "server_kind": kind.as_str(),
        "pairs": options.pairs,
        "rate_per_pair": options.rate,
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
