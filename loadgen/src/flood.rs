//! The floods before the WebSocket upgrade: N silent TCP connections that never send a request,
//! and N half-sent request heads of a given size, held for a given time. Reports how many the
//! server still holds open at the end (the rest it closed, perhaps after an answer such as 431
//! or 503), and the server's resident memory and open descriptors before, with everything open,
//! and at the end.
//!
//! "Still open" is the client's view: a connection whose handshake the kernel completed but the
//! server never accepted (a full accept queue, SYN cookies) looks open from here as well. The
//! server's open descriptors (with `--server-pid`) are the server's view.

use crate::stats::round3;
use crate::{caps, within, Common};
use anyhow::{anyhow, Context};
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{timeout, timeout_at, Instant};

#[derive(Debug, Args)]
pub struct FloodArgs {
    /// TCP connections that connect and then send nothing.
    #[arg(long, default_value_t = 100)]
    pub silent: usize,
    /// TCP connections that send the start of a request head and never finish it.
    #[arg(long, default_value_t = 0)]
    pub half_heads: usize,
    /// Bytes of each half-sent request head (request line and headers, never the final blank
    /// line).
    #[arg(long, default_value_t = 4_096)]
    pub head_bytes: usize,
    /// How long every connection is held once all are open; then the report says how many the
    /// server still holds.
    #[arg(long, default_value = "10s", value_parser = crate::parse_duration)]
    pub hold: Duration,
    /// Connects (and head writes) in flight at once.
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
}

#[derive(Debug, Clone)]
pub struct FloodOptions {
    pub silent: usize,
    pub half_heads: usize,
    pub head_bytes: usize,
    pub hold: Duration,
    pub concurrency: usize,
}

impl FloodArgs {
    /// Checks the bounds; the hold must fit in the run's `--timeout`.
    pub fn validate(&self, run_timeout: Duration) -> Result<FloodOptions, String> {
        within("silent", self.silent, 0, caps::MAX_CONNECTIONS)?;
        within("half-heads", self.half_heads, 0, caps::MAX_CONNECTIONS)?;
        within("silent plus --half-heads", self.silent + self.half_heads, 1, caps::MAX_CONNECTIONS)?;
        within("head-bytes", self.head_bytes, 0, caps::MAX_HEAD_BYTES)?;
        within("hold", self.hold, Duration::ZERO, caps::MAX_HOLD)?;
        within("concurrency", self.concurrency, 1, caps::MAX_CONCURRENCY)?;
        if self.hold >= run_timeout {
            return Err(format!("--hold ({:?}) must be shorter than --timeout ({run_timeout:?})", self.hold));
        }
        Ok(FloodOptions {
            silent: self.silent,
            half_heads: self.half_heads,
            head_bytes: self.head_bytes,
            hold: self.hold,
            concurrency: self.concurrency,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Silent,
    HalfHead,
}

/// One opened connection.
struct Opened {
    kind: Kind,
    stream: TcpStream,
    /// The server closed the connection while the head was being written.
    cut_off: bool,
}

/// What the server did with one connection while it was held.
struct Watched {
    kind: Kind,
    /// Still open at the end: returned so it stays open until memory has been read.
    still_open: Option<TcpStream>,
    /// The status of the answer the server sent, if any.
    status: Option<u16>,
}

/// The start of a request head of about `bytes` bytes, without the blank line that ends it.
pub fn half_head(host: &str, bytes: usize) -> Vec<u8> {
    let mut head = format!("GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Flood: ")
        .into_bytes();
    head.resize(head.len().max(bytes), b'a');
    head
}

async fn open(common: &Common, kind: Kind, head: Arc<Vec<u8>>) -> anyhow::Result<Opened> {
    let target = &common.target;
    let socket = if target.address.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if let Some(source) = target.next_source() {
        socket.bind((source, 0).into()).with_context(|| format!("bind {source}"))?;
    }
    let mut stream = timeout(common.io_timeout, socket.connect(target.address))
        .await
        .map_err(|_| anyhow!("TCP connect timed out"))?
        .context("TCP connect")?;
    let mut cut_off = false;
    if kind == Kind::HalfHead {
        // A server that stops reading makes the write wait: that is holding too, not an error.
        cut_off = matches!(timeout(common.io_timeout, stream.write_all(&head)).await, Ok(Err(_)));
    }
    Ok(Opened { kind, stream, cut_off })
}

async fn watch(opened: Opened, until: Instant) -> Watched {
    let Opened { kind, mut stream, .. } = opened;
    let mut received = Vec::new();
    let mut buffer = [0u8; 256];
    loop {
        match timeout_at(until, stream.read(&mut buffer)).await {
            Err(_) => return Watched { kind, still_open: Some(stream), status: status_of(&received) },
            Ok(Ok(0) | Err(_)) => return Watched { kind, still_open: None, status: status_of(&received) },
            Ok(Ok(read)) => {
                if received.len() < 16 {
                    received.extend_from_slice(&buffer[..read]);
                }
            }
        }
    }
}

fn status_of(response: &[u8]) -> Option<u16> {
    std::str::from_utf8(response.get(9..12)?).ok()?.parse().ok()
}

pub async fn run(common: &Common, options: &FloodOptions) -> anyhow::Result<Value> {
    let rss_before_kib = common.server_rss_kib();
    let open_files_before = common.server_open_files();
    let head = Arc::new(half_head(&common.target.address.to_string(), options.head_bytes));
    let semaphore = Arc::new(Semaphore::new(options.concurrency));
    let kinds = std::iter::repeat_n(Kind::Silent, options.silent)
        .chain(std::iter::repeat_n(Kind::HalfHead, options.half_heads));
    let mut opening = JoinSet::new();
    for kind in kinds {
        let (semaphore, common, head) = (Arc::clone(&semaphore), common.clone(), Arc::clone(&head));
        opening.spawn(async move {
            let _permit = semaphore.acquire_owned().await?;
            open(&common, kind, head).await
        });
    }
    let started = Instant::now();
    let (mut opened, mut failed, mut first_error) = (Vec::new(), 0usize, None);
    while let Some(joined) = opening.join_next().await {
        match joined.context("connect task")? {
            Ok(connection) => opened.push(connection),
            Err(error) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{error:#}"));
            }
        }
    }
    let open_seconds = started.elapsed().as_secs_f64();
    let rss_after_open_kib = common.server_rss_kib();
    let open_files_after_open = common.server_open_files();
    let opened_count = opened.len();
    let cut_off = opened.iter().filter(|connection| connection.cut_off).count();
    eprintln!("loadgen: {opened_count} connections open ({failed} failed); holding for {:?}", options.hold);

    let until = Instant::now() + options.hold;
    let mut watching = JoinSet::new();
    for connection in opened {
        watching.spawn(watch(connection, until));
    }
    let mut watched = Vec::with_capacity(opened_count);
    while let Some(joined) = watching.join_next().await {
        watched.push(joined.context("watch task")?);
    }
    // Read while everything still open is held, then let go.
    let rss_at_end_kib = common.server_rss_kib();
    let open_files_at_end = common.server_open_files();
    let still_open = |kind: Kind| watched.iter().filter(|each| each.kind == kind && each.still_open.is_some()).count();
    let (silent_open, half_heads_open) = (still_open(Kind::Silent), still_open(Kind::HalfHead));
    let mut responses: BTreeMap<String, usize> = BTreeMap::new();
    for status in watched.iter().filter_map(|each| each.status) {
        *responses.entry(status.to_string()).or_default() += 1;
    }
    drop(watched);
    let kib_per_connection = rss_before_kib
        .zip(rss_after_open_kib)
        .filter(|_| opened_count > 0)
        .map(|(before, after)| round3((after as f64 - before as f64) / opened_count as f64));
    Ok(json!({
        "mode": "flood",
        "silent": options.silent,
        "half_heads": options.half_heads,
        "head_bytes": options.head_bytes,
        "hold_s": round3(options.hold.as_secs_f64()),
        "opened": opened_count,
        "open_s": round3(open_seconds),
        "failed": failed,
        "first_error": first_error,
        "cut_off_while_sending": cut_off,
        "still_open_at_end": silent_open + half_heads_open,
        "silent_still_open": silent_open,
        "half_heads_still_open": half_heads_open,
        "closed_by_server": opened_count - silent_open - half_heads_open,
        "responses": responses,
        "rss_before_kib": rss_before_kib,
        "rss_after_open_kib": rss_after_open_kib,
        "rss_at_end_kib": rss_at_end_kib,
        "kib_per_connection": kib_per_connection,
        "server_open_files_before": open_files_before,
        "server_open_files_after_open": open_files_after_open,
        "server_open_files_at_end": open_files_at_end,
    }))
}

/// Human-readable lines for a flood report.
pub fn summary(report: &Value) -> String {
    let get = |path: &str| report.pointer(path).cloned().unwrap_or(Value::Null);
    format!(
        "flood: {} of {} connections opened ({} failed): {} silent, {} half-sent heads of {} bytes ({} cut off by the server while sending)\n  after holding {} s the server still holds {} ({} silent, {} half-sent); it closed {}; answers: {}\n  server VmRSS {} KiB before, {} KiB with all open ({} KiB per connection), {} KiB at the end\n  server open descriptors: {} before, {} with all open, {} at the end",
        get("/opened"), report["silent"].as_u64().unwrap_or(0) + report["half_heads"].as_u64().unwrap_or(0),
        get("/failed"), get("/silent"), get("/half_heads"), get("/head_bytes"), get("/cut_off_while_sending"),
        get("/hold_s"), get("/still_open_at_end"), get("/silent_still_open"), get("/half_heads_still_open"),
        get("/closed_by_server"), get("/responses"), get("/rss_before_kib"), get("/rss_after_open_kib"),
        get("/kib_per_connection"), get("/rss_at_end_kib"), get("/server_open_files_before"),
        get("/server_open_files_after_open"), get("/server_open_files_at_end"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_head_has_the_size_asked_for_and_never_ends() {
        let head = half_head("127.0.0.1:9090", 1_000);
        assert_eq!(head.len(), 1_000);
        assert!(head.starts_with(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9090\r\n"));
        assert!(!head.windows(4).any(|window| window == b"\r\n\r\n"), "no blank line: the head is never complete");
        assert!(half_head("h", 0).ends_with(b"X-Flood: "), "at least the request line and a header name");
        assert_eq!(status_of(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), Some(431));
        assert_eq!(status_of(b""), None);
    }
}
