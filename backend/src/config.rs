//! Server configuration: command-line flags and environment variables, with documented defaults.

use clap::Parser;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Duet signaling server: relays WebRTC call set-up between browsers over WebSockets.
///
/// Speaks the classic tutorial protocol (`wscat -c ws://localhost:9090`) plus additive
/// extensions (see PROTOCOL.md). Every option can also be set by the environment variable
/// shown next to it. Durations accept `500ms`, `45s`, `2m` or a bare number of seconds.
#[derive(Debug, Clone, Parser)]
#[command(name = "backend", version, about, long_about = None)]
pub struct Config {
    /// TCP port to listen on.
    #[arg(long, env = "PORT", default_value_t = 9090)]
    pub port: u16,

    /// Address to bind: 0.0.0.0 for every IPv4 interface, 127.0.0.1 for this machine only,
    /// :: for IPv6.
    #[arg(long, env = "DUET_BIND", default_value = "0.0.0.0")]
    pub bind: IpAddr,

    /// How long an unanswered call rings before both sides get `leave` with reason `timeout`.
    #[arg(long, env = "DUET_RING_TIMEOUT", default_value = "45s", value_parser = parse_duration)]
    pub ring_timeout: Duration,

    /// How often the server pings each connection (browsers answer automatically).
    #[arg(long, env = "DUET_HEARTBEAT_INTERVAL", default_value = "15s", value_parser = parse_duration)]
    pub heartbeat_interval: Duration,

    /// A connection silent this long (no frame, no pong) is closed and its call ended with
    /// reason `disconnected`.
    #[arg(long, env = "DUET_IDLE_TIMEOUT", default_value = "40s", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// Largest text frame accepted, in bytes (an SDP offer with many candidates is ~10 KB).
    #[arg(long, env = "DUET_MAX_FRAME_BYTES", default_value_t = 64 * 1024)]
    pub max_frame_bytes: usize,

    /// Messages queued for one connection before it counts as not reading and is closed.
    #[arg(long, env = "DUET_OUTBOX_CAPACITY", default_value_t = 64)]
    pub outbox_capacity: usize,

    /// A STUN server URL sent to clients in `hello` (repeat the flag, or comma-separate in the
    /// environment variable). Example: stun:stun.l.google.com:19302. Default: none, which is
    /// enough for calls on one network.
    #[arg(long = "stun-url", env = "DUET_STUN_URLS", value_delimiter = ',')]
    pub stun_urls: Vec<String>,

    /// Folder with the built web app (`trunk build --release` writes `dist/`), served at `/`
    /// for plain HTTP requests. Default: `dist` when that folder exists.
    #[arg(long, env = "DUET_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,
}

impl Default for Config {
    /// The same values as the command line's defaults, without reading the environment.
    fn default() -> Config {
        Config {
            port: 9090,
            bind: IpAddr::from([0, 0, 0, 0]),
            ring_timeout: Duration::from_secs(45),
            heartbeat_interval: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(40),
            max_frame_bytes: 64 * 1024,
            outbox_capacity: 64,
            stun_urls: Vec::new(),
            static_dir: None,
        }
    }
}

/// Parses `500ms`, `45s`, `2m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit_millis) = if let Some(number) = text.strip_suffix("ms") {
        (number, 1)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1000)
    } else if let Some(number) = text.strip_suffix('m') {
        (number, 60_000)
    } else {
        (text, 1000)
    };
    let value: u64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. 500ms, 45s or 2m"))?;
    Ok(Duration::from_millis(value.saturating_mul(unit_millis)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn command_line_defaults_match_default_impl() {
        let parsed = Config::try_parse_from(["backend"]).expect("no flags parse");
        let default = Config::default();
        // Environment variables could override the command line; compare only when unset.
        if std::env::var_os("PORT").is_none() {
            assert_eq!(parsed.port, default.port);
        }
        assert_eq!(parsed.ring_timeout, default.ring_timeout);
        assert_eq!(parsed.heartbeat_interval, default.heartbeat_interval);
        assert_eq!(parsed.idle_timeout, default.idle_timeout);
        assert_eq!(parsed.max_frame_bytes, default.max_frame_bytes);
        assert_eq!(parsed.outbox_capacity, default.outbox_capacity);
    }
}
