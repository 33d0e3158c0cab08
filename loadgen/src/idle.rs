//! Idle connections: connect and sign in N clients (through the server's adapter) (K at a time), hold them, read the server's
//! resident memory, disconnect them all; R rounds of that (R = 1: the `connections` mode, R > 1:
//! the `churn` leak check, which reports the server's memory after every round). With
//! `--partner-url`, every second connection goes to the partner (another node of a cluster).

use crate::adapters;
use crate::stats::{median, round3};
use crate::{run_id, Common};
use anyhow::Context;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

#[derive(Debug, Clone)]
pub struct IdleOptions {
    pub count: usize,
    pub concurrency: usize,
    pub rounds: u32,
    /// Wait after connecting (before reading memory) and after disconnecting.
    pub settle: Duration,
}

#[derive(Debug, Clone)]
struct Round {
    connected: usize,
    failed: usize,
    connect_seconds: f64,
    dropped_while_held: usize,
    disconnect_seconds: f64,
    /// Server CPU time spent while the connections were opened and logged in.
    server_cpu_connect: Option<Duration>,
    /// CPU of the `--extra-pid` processes while they were opened (`crate::extra`).
    extra_connect: Value,
    rss_before_kib: Option<u64>,
    rss_held_kib: Option<u64>,
    rss_after_kib: Option<u64>,
    first_error: Option<String>,
    /// When the generator began closing the connections (seconds since the Unix epoch): what
    /// the server wrote before that was for connecting and signing in (bench's syscall count).
    disconnect_started_unix_s: f64,
}

impl Round {
    fn connect_rate(&self) -> f64 {
        self.connected as f64 / self.connect_seconds.max(1e-9)
    }
    /// Server memory per held connection: (VmRSS holding - VmRSS before) / connections.
    fn kib_per_connection(&self) -> Option<f64> {
        let (before, held) = (self.rss_before_kib?, self.rss_held_kib?);
        (self.connected > 0).then(|| (held as f64 - before as f64) / self.connected as f64)
    }
    fn server_cpu_us_per_connect(&self) -> Option<f64> {
        let cpu = self.server_cpu_connect?;
        (self.connected > 0).then(|| cpu.as_secs_f64() * 1e6 / self.connected as f64)
    }
    fn to_json(&self) -> Value {
        json!({
            "connected": self.connected,
            "server_cpu_us_per_connect": self.server_cpu_us_per_connect().map(round3),
            "extra": self.extra_connect,
            "failed": self.failed,
            "connect_s": round3(self.connect_seconds),
            "connects_per_sec": round3(self.connect_rate()),
            "dropped_while_held": self.dropped_while_held,
            "disconnect_s": round3(self.disconnect_seconds),
            "rss_before_kib": self.rss_before_kib,
            "rss_held_kib": self.rss_held_kib,
            "rss_after_kib": self.rss_after_kib,
            "kib_per_connection": self.kib_per_connection().map(round3),
            "first_error": self.first_error,
            "disconnect_started_unix_s": self.disconnect_started_unix_s,
        })
    }
}

async fn one_round(
    common: &Common,
    options: &IdleOptions,
    prefix: &str,
    flavor: &mut Option<&'static str>,
) -> anyhow::Result<Round> {
    let rss_before_kib = common.server_rss_kib();
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let (stop_sender, stop) = watch::channel(false);
    let dropped = Arc::new(AtomicUsize::new(0));
    let (cpu_before, extra_before) = (common.server_cpu(), common.extra_cpu());
    let started = Instant::now();
    let mut connects = JoinSet::new();
    for index in 0..options.count {
        let (semaphore, common, name) = (semaphore.clone(), common.clone(), format!("{prefix}-{index}"));
        connects.spawn(async move {
            let _permit = semaphore.acquire_owned().await?;
            // With --partner-url every second connection goes there (two nodes share the load).
            let common = if index % 2 == 1 { common.at_partner() } else { common };
            adapters::sign_in(&common, &name).await
        });
    }
    let mut holders = JoinSet::new();
    let (mut connected, mut failed, mut first_error) = (0, 0, None);
    while let Some(joined) = connects.join_next().await {
        match joined.context("connect task")? {
            Ok(mut client) => {
                connected += 1;
                flavor.get_or_insert(client.flavor(common.server));
                let (mut stop, dropped) = (stop.clone(), dropped.clone());
                // Keeps reading so the server's pings are answered; closes when told to.
                holders.spawn(async move {
                    loop {
                        tokio::select! {
                            _ = stop.changed() => break,
                            alive = client.idle_read() => if !alive {
                                dropped.fetch_add(1, Ordering::Relaxed);
                                return;
                            },
                        }
                    }
                    client.close().await;
                });
            }
            Err(error) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{error:#}"));
            }
        }
    }
    let connect_seconds = started.elapsed().as_secs_f64();
    let server_cpu_connect = cpu_before.zip(common.server_cpu()).map(|(before, after)| after.saturating_sub(before));
    let extra_connect =
        common.extra_cpu_between(&extra_before, &common.extra_cpu(), connect_seconds, connected as u64, "connect");
    tokio::time::sleep(options.settle).await;
    let rss_held_kib = common.server_rss_kib();
    let dropped_while_held = dropped.load(Ordering::Relaxed);

    let disconnect_started_unix_s = unix_seconds();
    let disconnect_started = Instant::now();
    let _ = stop_sender.send(true);
    while holders.join_next().await.is_some() {}
    let disconnect_seconds = disconnect_started.elapsed().as_secs_f64();
    tokio::time::sleep(options.settle).await;
    Ok(Round {
        connected,
        failed,
        connect_seconds,
        dropped_while_held,
        disconnect_seconds,
        server_cpu_connect,
        extra_connect,
        rss_before_kib,
        rss_held_kib,
        rss_after_kib: common.server_rss_kib(),
        first_error,
        disconnect_started_unix_s,
    })
}

pub async fn run(common: &Common, options: &IdleOptions) -> anyhow::Result<Value> {
    let prefix = run_id("c");
    let mut flavor = None;
    let mut rounds = Vec::with_capacity(options.rounds as usize);
    for round in 0..options.rounds {
        rounds.push(one_round(common, options, &format!("{prefix}{round}"), &mut flavor).await?);
        let last = rounds.last().map(Round::to_json).unwrap_or_default();
        eprintln!("loadgen: round {}/{}: {last}", round + 1, options.rounds);
    }
    let first = rounds.first().context("no round ran")?;
    let after: Vec<Option<u64>> = rounds.iter().map(|round| round.rss_after_kib).collect();
    // Growth of the memory left after disconnecting, from the end of round 1 to the last round.
    let growth_kib = match (after.first().copied().flatten(), after.last().copied().flatten()) {
        (Some(first_after), Some(last_after)) => Some(last_after as i64 - first_after as i64),
        _ => None,
    };
    Ok(json!({
        "mode": if options.rounds > 1 { "churn" } else { "connections" },
        "flavor": flavor,
        "server_kind": common.server.as_str(),
        "count": options.count,
        "concurrency": options.concurrency,
        "rounds": options.rounds,
        "connected": first.connected,
        "failed": rounds.iter().map(|round| round.failed).sum::<usize>(),
        "dropped_while_held": rounds.iter().map(|round| round.dropped_while_held).sum::<usize>(),
        "connects_per_sec": median(&rounds.iter().map(Round::connect_rate).collect::<Vec<_>>()).map(round3),
        "server_cpu_us_per_connect": median(&rounds.iter().filter_map(Round::server_cpu_us_per_connect).collect::<Vec<_>>()).map(round3),
        "extra": crate::extra::median_of(&rounds.iter().map(|round| round.extra_connect.clone()).collect::<Vec<_>>()),
        "kib_per_connection": first.kib_per_connection().map(round3),
        "rss_before_kib": first.rss_before_kib,
        "rss_after_each_round_kib": after,
        "rss_growth_after_round1_kib": growth_kib,
        "per_round": rounds.iter().map(Round::to_json).collect::<Vec<_>>(),
        "first_error": rounds.iter().find_map(|round| round.first_error.clone()),
    }))
}

fn unix_seconds() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64())
}
