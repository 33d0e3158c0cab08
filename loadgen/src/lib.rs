//! `loadgen`: a load generator for Duet's signaling server, and for the classic Node.js server
//! (the protocol subset both speak), over real WebSockets.
//!
//! Modes (see `loadgen --help`):
//! - `relay`: P pairs in a call ping-pong candidates; messages/s, round trip percentiles, server
//!   CPU time per relayed message;
//! - `connections`: N logged-in idle connections; connect+login rate and server memory per
//!   connection; `churn`: R rounds of connect-all/disconnect-all, server memory after each;
//! - `calls`: C calls (login ×2, offer, answer, candidates, leave, close), K in flight;
//! - `flood`: N silent TCP connections and N half-sent request heads, held: how many the server
//!   still holds at the end, and its memory.
//!
//! - `relay-server`: the do-nothing relays (axum WebSocket, raw TCP) the bench measures as floors.
//!
//! `--server` picks the protocol adapter (`adapters/`): ours and the classic server (`duet`, the
//! default), PeerJS, matchbox, y-webrtc, and the two floors; every workload runs over each.
//!
//! With `--partner-url` the second party of each pair or call (and every second idle connection)
//! connects to another node of a cluster; `--extra-pid NAME=PID` reports more processes' CPU
//! (the other node, redis-server) beside the server's (`extra`).
//!
//! Every run prints human-readable lines and then exactly one JSON line. Targets other than this
//! machine (127.0.0.0/8, ::1, localhost) are refused before anything is sent, and every loop is
//! bounded in count and time.

pub mod adapters;
pub mod calls;
pub mod client;
pub mod extra;
pub mod flood;
pub mod idle;
pub mod relay;
pub mod relay_server;
pub mod stats;
pub mod target;

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use target::Target;

/// Hard caps on every count and duration (beyond them the arguments are refused).
pub mod caps {
    use std::time::Duration;
    pub const MAX_PAIRS: usize = 5_000;
    /// The per-process descriptor limit on these machines is 20,000.
    pub const MAX_CONNECTIONS: usize = 19_900;
    pub const MAX_CONCURRENCY: usize = 2_000;
    pub const MAX_ROUNDS: u32 = 50;
    pub const MAX_WINDOWS: u32 = 20;
    pub const MAX_WINDOW: Duration = Duration::from_secs(60);
    pub const MAX_SETTLE: Duration = Duration::from_secs(30);
    pub const MAX_CALLS: usize = 200_000;
    pub const MAX_IN_FLIGHT: usize = 1_000;
    pub const MAX_RUNS: u32 = 20;
    pub const MAX_CANDIDATES: usize = 50;
    pub const MAX_PAYLOAD_BYTES: usize = 60_000;
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(1_800);
    pub const MAX_IO_TIMEOUT: Duration = Duration::from_secs(60);
    pub const MAX_HEAD_BYTES: usize = 1024 * 1024;
    pub const MAX_HOLD: Duration = Duration::from_secs(600);
    /// Round trips per second per pair (`relay --rate`).
    pub const MAX_RATE: f64 = 10_000.0;
}

/// Load generator for Duet's signaling server and the classic server. Loopback targets only.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, about, long_about = None)]
pub struct Cli {
    /// Server URL: ws://HOST:PORT/PATH with HOST in 127.0.0.0/8, [::1] or localhost.
    #[arg(long, global = true, default_value = "ws://127.0.0.1:9090/")]
    pub url: String,
    /// PID of the server process, to read its CPU time and memory from /proc.
    #[arg(long, global = true)]
    pub server_pid: Option<u32>,
    /// Another node of a cluster: the second party of each relay pair or call connects here
    /// instead of --url, and every second connection of `connections`/`churn`. Loopback only.
    #[arg(long, global = true)]
    pub partner_url: Option<String>,
    /// Another process whose CPU time is reported beside the server's, as NAME=PID (a second
    /// node, redis-server); repeatable.
    #[arg(long = "extra-pid", global = true, value_parser = extra::parse_extra_pid)]
    pub extra_pids: Vec<extra::ExtraPid>,
    /// Hard limit for the whole run; the run is aborted past it.
    #[arg(long, global = true, default_value = "300s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Limit for each connect, send or expected reply.
    #[arg(long, global = true, default_value = "10s", value_parser = parse_duration)]
    pub io_timeout: Duration,
    /// Free text copied into the JSON line (e.g. which server this is).
    #[arg(long, global = true)]
    pub label: Option<String>,
    /// The server's protocol (which adapter speaks to it).
    #[arg(long, global = true, value_enum, default_value_t = adapters::ServerKind::Duet)]
    pub server: adapters::ServerKind,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// P pairs in a call ping-pong candidates (closed loop, one in flight per pair).
    Relay(RelayArgs),
    /// N logged-in idle connections: connect+login rate, server memory per connection.
    Connections(IdleArgs),
    /// R rounds of connect-all / disconnect-all, server memory after each (leak check).
    Churn(IdleArgs),
    /// C calls with K in flight: logins, offer, answer, candidates, leave, close.
    Calls(CallArgs),
    /// N silent TCP connections and N half-sent request heads, held: how many the server still
    /// holds at the end, and its memory (the floods before the WebSocket upgrade).
    Flood(flood::FloodArgs),
    /// Serve a do-nothing relay (the floor the bench compares with) until stopped.
    RelayServer(relay_server::RelayServerArgs),
}

#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Pairs of logged-in clients in a call, each with one candidate in flight.
    #[arg(long, default_value_t = 100)]
    pub pairs: usize,
    /// Ping-pong before the first measurement window.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Length of each measurement window.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub window: Duration,
    /// Measurement windows; the report gives each and their medians.
    #[arg(long, default_value_t = 3)]
    pub windows: u32,
    /// Size of each candidate's JSON value (RTCIceCandidateInit), in bytes.
    #[arg(long, default_value_t = 257)]
    pub candidate_bytes: usize,
    /// Connections set up at once.
    #[arg(long, default_value_t = 100)]
    pub concurrency: usize,
    /// Fixed offered load: each pair's caller starts a round trip this many times per second
    /// (one in flight; a late reply delays the next). Without it, the loop is closed.
    #[arg(long)]
    pub rate: Option<f64>,
}

#[derive(Debug, Args)]
pub struct IdleArgs {
    /// Connections to open and log in (at most 19,900: the descriptor limit is 20,000).
    #[arg(long, default_value_t = 1_000)]
    pub count: usize,
    /// Connect+login handshakes in flight at once.
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// Rounds (default 1 for `connections`, 10 for `churn`).
    #[arg(long)]
    pub rounds: Option<u32>,
    /// Pause before reading memory while holding, and after disconnecting.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub settle: Duration,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// Calls per run.
    #[arg(long, default_value_t = 2_000)]
    pub calls: usize,
    /// Calls in progress at once.
    #[arg(long, default_value_t = 10)]
    pub in_flight: usize,
    /// Repeat the C calls this many times; the report gives the median.
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
    /// Candidates sent by each side of a call.
    #[arg(long, default_value_t = 4)]
    pub candidates: usize,
    /// Size of the offer's and the answer's JSON value, in bytes (about).
    #[arg(long, default_value_t = 1_024)]
    pub sdp_bytes: usize,
    #[arg(long, default_value_t = 257)]
    pub candidate_bytes: usize,
}

/// Parses a duration for a flag: what humantime accepts (`500ms`, `5s`, `2m`, `1m 30s`), or a
/// bare number of seconds (which humantime refuses).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let parsed = text.parse().map(Duration::from_secs).or_else(|_| humantime::parse_duration(text));
    parsed.map_err(|error| format!("`{text}` is not a duration ({error}); write e.g. 500ms, 5s or 2m"))
}

fn within<T: PartialOrd + std::fmt::Debug>(what: &str, value: T, low: T, high: T) -> Result<(), String> {
    if value < low || value > high {
        return Err(format!("--{what} must be between {low:?} and {high:?} (got {value:?})"));
    }
    Ok(())
}

/// A mode with its arguments checked against the hard caps.
#[derive(Debug, Clone)]
pub enum Mode {
    Relay(relay::RelayOptions),
    Idle(idle::IdleOptions),
    Calls(calls::CallOptions),
    Flood(flood::FloodOptions),
}

impl Cli {
    /// Checks every bound and the target; nothing is sent before this passes.
    pub fn validate(&self) -> Result<(Target, Mode), String> {
        let target = Target::parse(&self.url).map_err(|error| error.to_string())?;
        within("timeout", self.timeout, Duration::from_millis(100), caps::MAX_TIMEOUT)?;
        within("io-timeout", self.io_timeout, Duration::from_millis(10), caps::MAX_IO_TIMEOUT)?;
        let mode = match &self.command {
            Command::Relay(args) => {
                within("pairs", args.pairs, 1, caps::MAX_PAIRS)?;
                within("windows", args.windows, 1, caps::MAX_WINDOWS)?;
                within("window", args.window, Duration::from_millis(10), caps::MAX_WINDOW)?;
                within("warmup", args.warmup, Duration::ZERO, caps::MAX_WINDOW)?;
                within("candidate-bytes", args.candidate_bytes, 0, caps::MAX_PAYLOAD_BYTES)?;
                within("concurrency", args.concurrency, 1, caps::MAX_CONCURRENCY)?;
                if let Some(rate) = args.rate {
                    within("rate", rate, 0.1, caps::MAX_RATE)?;
                }
                Mode::Relay(relay::RelayOptions {
                    pairs: args.pairs,
                    warmup: args.warmup,
                    window: args.window,
                    windows: args.windows,
                    candidate_bytes: args.candidate_bytes,
                    concurrency: args.concurrency,
                    rate: args.rate,
                })
            }
            Command::Connections(args) | Command::Churn(args) => {
                let default_rounds = if matches!(self.command, Command::Churn(_)) { 10 } else { 1 };
                let rounds = args.rounds.unwrap_or(default_rounds);
                within("count", args.count, 1, caps::MAX_CONNECTIONS)?;
                within("concurrency", args.concurrency, 1, caps::MAX_CONCURRENCY)?;
                within("rounds", rounds, 1, caps::MAX_ROUNDS)?;
                within("settle", args.settle, Duration::ZERO, caps::MAX_SETTLE)?;
                Mode::Idle(idle::IdleOptions {
                    count: args.count,
                    concurrency: args.concurrency,
                    rounds,
                    settle: args.settle,
                })
            }
            Command::Calls(args) => {
                if !self.server.has_calls() {
                    return Err(format!("--server {} has no notion of calls", self.server));
                }
                within("calls", args.calls, 1, caps::MAX_CALLS)?;
                within("in-flight", args.in_flight, 1, caps::MAX_IN_FLIGHT)?;
                within("runs", args.runs, 1, caps::MAX_RUNS)?;
                within("candidates", args.candidates, 0, caps::MAX_CANDIDATES)?;
                within("sdp-bytes", args.sdp_bytes, 0, caps::MAX_PAYLOAD_BYTES)?;
                within("candidate-bytes", args.candidate_bytes, 0, caps::MAX_PAYLOAD_BYTES)?;
                Mode::Calls(calls::CallOptions {
                    calls: args.calls,
                    in_flight: args.in_flight,
                    runs: args.runs,
                    candidates: args.candidates,
                    sdp_bytes: args.sdp_bytes,
                    candidate_bytes: args.candidate_bytes,
                })
            }
            Command::Flood(args) => Mode::Flood(args.validate(self.timeout)?),
            Command::RelayServer(_) => return Err("relay-server is not a load run".to_owned()),
        };
        Ok((target, mode))
    }

    /// The checked `--partner-url`, if any (refused like --url unless loopback).
    pub fn partner(&self) -> Result<Option<Target>, String> {
        let Some(url) = &self.partner_url else { return Ok(None) };
        Target::parse(url).map(Some).map_err(|error| format!("--partner-url: {error}"))
    }
}

/// What every mode needs: the target (and where partners connect), the server's PID and the
/// other measured processes, the I/O timeout. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Common {
    pub target: Arc<Target>,
    /// `--partner-url`: where the second party of a relay pair or a call connects.
    pub partner: Option<Arc<Target>>,
    /// Which protocol adapter speaks to the server.
    pub server: adapters::ServerKind,
    pub server_pid: Option<u32>,
    /// `--extra-pid`: processes whose CPU time is reported beside the server's.
    pub extra_pids: Arc<[extra::ExtraPid]>,
    pub io_timeout: Duration,
}

impl Common {
    /// Where the second party of a pair or a call connects: `--partner-url`, else `--url`.
    pub fn partner_target(&self) -> &Arc<Target> {
        self.partner.as_ref().unwrap_or(&self.target)
    }
    /// The same settings aimed at the partner (`--partner-url`, or the target itself without it).
    pub fn at_partner(&self) -> Common {
        Common { target: self.partner_target().clone(), ..self.clone() }
    }
    pub fn server_cpu(&self) -> Option<Duration> {
        self.server_pid.and_then(stats::process_cpu)
    }
    pub fn server_rss_kib(&self) -> Option<u64> {
        self.server_pid.and_then(stats::process_rss_kib)
    }
    pub fn server_open_files(&self) -> Option<usize> {
        self.server_pid.and_then(stats::process_open_files)
    }
}

/// A prefix that makes this run's user names unique on a server that outlives it.
pub fn run_id(mode: &str) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.subsec_nanos());
    format!("lg{mode}{}x{:x}", std::process::id() % 100_000, nanos % 0xfffff)
}

/// Runs one mode to completion (bounded by `timeout`) and returns its JSON report.
pub async fn run(common: &Common, mode: &Mode, timeout: Duration) -> anyhow::Result<Value> {
    let work = async {
        match mode {
            Mode::Relay(options) => relay::run(common, options).await,
            Mode::Idle(options) => idle::run(common, options).await,
            Mode::Calls(options) => calls::run(common, options).await,
            Mode::Flood(options) => flood::run(common, options).await,
        }
    };
    let mut report = tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| anyhow::anyhow!("run aborted after the --timeout of {timeout:?}"))??;
    if let Value::Object(fields) = &mut report {
        fields.insert("url".to_owned(), json!(common.target.url));
        fields.insert("server_pid".to_owned(), json!(common.server_pid));
        fields.insert("partner_url".to_owned(), json!(common.partner.as_ref().map(|partner| &partner.url)));
    }
    Ok(report)
}

/// Human-readable lines for a report.
pub fn summary(report: &Value) -> String {
    let get = |path: &str| report.pointer(path).cloned().unwrap_or(Value::Null);
    let flavor = get("/flavor");
    match report["mode"].as_str() {
        Some("relay") => format!(
            "relay against {flavor} server: {} pairs, {} candidates\n  {} msgs/s, server CPU {} us/msg ({}% of a core), generator {}% CPU\n  RTT p50 {} ms, p90 {} ms, p99 {} ms, max {} ms (medians of {} windows of {} s); errors: {}",
            get("/pairs"), get("/candidate_bytes"), get("/median/messages_per_sec"), get("/median/server_cpu_us_per_message"),
            get("/median/server_cpu_percent"), get("/median/generator_cpu_percent"), get("/median/rtt_p50_ms"),
            get("/median/rtt_p90_ms"), get("/median/rtt_p99_ms"), get("/median/rtt_max_ms"),
            report["windows"].as_array().map_or(0, Vec::len), get("/window_s"), get("/errors"),
        ) + &extra::summary_lines(report.pointer("/median/extra"), "message"),
        Some(mode @ ("connections" | "churn")) => format!(
            "{mode} against {flavor} server: {} of {} connected and logged in ({} failed, {} dropped while held)\n  {} connect+login/s (server CPU {} us each); server memory {} KiB per connection (VmRSS {} KiB before)\n  VmRSS after each round (KiB): {}; growth after round 1: {} KiB",
            get("/connected"), get("/count"), get("/failed"), get("/dropped_while_held"), get("/connects_per_sec"),
            get("/server_cpu_us_per_connect"), get("/kib_per_connection"), get("/rss_before_kib"), get("/rss_after_each_round_kib"), get("/rss_growth_after_round1_kib"),
        ) + &extra::summary_lines(report.pointer("/extra"), "connect"),
        Some("calls") => format!(
            "calls against {flavor} server: {} calls x {} runs, {} in flight\n  {} calls/s, per call p50 {} ms, p99 {} ms, max {} ms; server CPU {} us/call; errors: {}",
            get("/calls"), report["runs"].as_array().map_or(0, Vec::len), get("/in_flight"), get("/median/calls_per_sec"),
            get("/median/p50_ms"), get("/median/p99_ms"), get("/median/max_ms"), get("/median/server_cpu_us_per_call"), get("/errors"),
        ) + &extra::summary_lines(report.pointer("/median/extra"), "call"),
        Some("flood") => flood::summary(report),
        _ => report.to_string(),
    }
}

#[cfg(test)]
mod cli_tests;
