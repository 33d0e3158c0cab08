//! Server configuration: command-line flags and environment variables, with documented defaults.

use crate::address::NodeId;
use crate::resume_token::ResumeSecret;
use clap::Parser;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Duet signaling server: relays WebRTC call set-up between browsers over WebSockets.
///
/// Speaks the classic tutorial protocol (`wscat -c ws://localhost:9090`) plus additive
/// extensions (see PROTOCOL.md). Every option can also be set by the environment variable
/// shown next to it. Durations accept `500ms`, `45s`, `2m`, `12h` or a bare number of seconds.
#[derive(Debug, Clone, Parser)]
#[command(name = "backend", version)]
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

    /// Frames queued for one connection. When its queue is full, senders wait for room.
    #[arg(long, env = "DUET_OUTBOX_CAPACITY", default_value_t = 64)]
    pub outbox_capacity: usize,

    /// Bytes queued for one connection (besides the frame count); an empty queue always takes
    /// one frame. When it is full, senders wait for room.
    #[arg(long, env = "DUET_OUTBOX_BYTES", default_value_t = 1024 * 1024)]
    pub outbox_bytes: usize,

    /// Bytes queued for all connections together. When reached, the connections with the most
    /// bytes queued (the slowest readers) are closed first. 0: no server-wide limit.
    #[arg(long, env = "DUET_MAX_QUEUED_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_queued_bytes: usize,

    /// A connection whose queue stays full this long does not read its messages and is
    /// closed (its peer gets `leave` with reason `disconnected`).
    #[arg(long, env = "DUET_SEND_TIMEOUT", default_value = "3s", value_parser = parse_duration)]
    pub send_timeout: Duration,

    /// A STUN server URL sent to clients in `hello` (repeat the flag, or comma-separate in the
    /// environment variable). Example: stun:stun.l.google.com:19302. Default: none, which is
    /// enough for calls on one network.
    #[arg(long = "stun-url", env = "DUET_STUN_URLS", value_delimiter = ',')]
    pub stun_urls: Vec<String>,

    /// Most connections open at once, counted from the moment a TCP connection is accepted (HTTP
    /// requests and WebSockets alike); more are refused with HTTP 503. The server keeps 128 file
    /// descriptors in reserve below its limit (`ulimit -n`) and lowers this to fit, saying so at
    /// start-up. 0: as many as the descriptor limit allows.
    #[arg(long, env = "DUET_MAX_CONNECTIONS", default_value_t = 19_000)]
    pub max_connections: usize,

    /// Most connections open at once from one client IP address (an IPv6 client: its /64),
    /// counted from `accept`. 0: unlimited.
    #[arg(long, env = "DUET_MAX_CONNECTIONS_PER_IP", default_value_t = 64)]
    pub max_connections_per_ip: usize,

    /// A TCP connection must send a complete HTTP request head (after its TLS handshake, if any)
    /// within this time of being accepted, and every later request on it within this time of
    /// the previous one; otherwise it is closed. Request heads over 16 KiB get HTTP 431.
    #[arg(long, env = "DUET_REQUEST_HEAD_TIMEOUT", default_value = "5s", value_parser = parse_positive_duration)]
    pub request_head_timeout: Duration,

    /// Linux hands a TCP connection to the server only once it has sent its first bytes (the
    /// request head or a TLS ClientHello), waiting at most about this long (whole seconds) for
    /// them before handing it over anyway (TCP_DEFER_ACCEPT). One wake-up per connection instead
    /// of two, and a silent socket takes no connection permit while the kernel holds it. 0: off.
    #[arg(long, env = "DUET_DEFER_ACCEPT", default_value = "5s", value_parser = parse_duration)]
    pub defer_accept: Duration,

    /// A reverse proxy whose `Forwarded` / `X-Forwarded-For` header is believed for the client's
    /// address (per-address limit and logs): an address or a network, e.g. 10.0.0.0/8 (repeat
    /// the flag, or comma-separate in the environment variable). Headers from anyone else are
    /// ignored. Default: none, every client is its TCP address.
    #[arg(long = "trusted-proxy", env = "DUET_TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = crate::client_address::parse_trusted_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// A connection that has not signed in this long after connecting is closed (code 1008).
    #[arg(long, env = "DUET_LOGIN_TIMEOUT", default_value = "15s", value_parser = parse_duration)]
    pub login_timeout: Duration,

    /// Frames per second one connection may send, sustained (token bucket); every frame counts:
    /// messages, fragments, pings and pongs. An excess message gets an `error` with code
    /// `rate_limited`, an excess ping no pong; more than 50 refusals within 10 s close the
    /// connection (1008). 0: no rate limit at all (frames nor bytes).
    #[arg(long, env = "DUET_RATE_LIMIT", default_value_t = 50)]
    pub rate_limit: u32,

    /// Frames one connection may send in a burst above the sustained rate (trickle ICE
    /// sends a few dozen candidates at once).
    #[arg(long, env = "DUET_RATE_BURST", default_value_t = 200)]
    pub rate_burst: u32,

    /// Payload bytes per second one connection may send, sustained (token bucket, refused like
    /// excess frames). 0: no limit.
    #[arg(long, env = "DUET_RATE_LIMIT_BYTES", default_value_t = 256 * 1024)]
    pub rate_limit_bytes: u64,

    /// Payload bytes one connection may send in a burst above the sustained byte rate.
    #[arg(long, env = "DUET_RATE_BURST_BYTES", default_value_t = 1024 * 1024)]
    pub rate_burst_bytes: u64,

    /// A browser origin allowed to connect, e.g. https://app.example.com (repeat the flag, or
    /// comma-separate in the environment variable; `*` allows all). Pages served by this server
    /// are always allowed; with no list, so are localhost pages (development). Clients that send
    /// no Origin header (wscat, scripts) are always allowed.
    #[arg(long = "allowed-origin", env = "DUET_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// PEM certificate chain: serve https:// and wss:// (needs --tls-key).
    #[arg(long, env = "DUET_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, env = "DUET_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve https:// and wss:// with a certificate created at start-up for this machine's
    /// names and addresses, so two devices on a LAN can call (browsers allow the camera only on
    /// https:// or localhost). Browsers show a warning to accept once.
    #[arg(long, env = "DUET_TLS_SELF_SIGNED", conflicts_with = "tls_cert")]
    pub tls_self_signed: bool,

    /// A TURN server URL, e.g. turn:turn.example.org:3478?transport=udp (repeat the flag, or
    /// comma-separate in the environment variable). Needs --turn-secret.
    #[arg(long = "turn-url", env = "DUET_TURN_URLS", value_delimiter = ',', requires = "turn_secret")]
    pub turn_urls: Vec<String>,

    /// The secret shared with the TURN server (coturn `static-auth-secret` with
    /// `use-auth-secret`). Each login gets credentials minted from it, never the secret.
    #[arg(long, env = "DUET_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,

    /// How long minted TURN credentials stay valid.
    #[arg(long, env = "DUET_TURN_TTL", default_value = "12h", value_parser = parse_duration)]
    pub turn_ttl: Duration,

    /// The secret resume tokens are signed with: hex or base64, at least 16 bytes. Give every
    /// node of a cluster the same one. Default: the one in --resume-secret-file.
    #[arg(long, env = "DUET_RESUME_SECRET", hide_env_values = true, value_parser = parse_resume_secret)]
    pub resume_secret: Option<ResumeSecret>,

    /// File with the resume secret, used without --resume-secret; created with 32 random bytes
    /// (mode 0600) when missing, so a server restarted with the same options from the same
    /// working directory accepts the tokens it issued (and restores the calls they were in).
    #[arg(long, env = "DUET_RESUME_SECRET_FILE", default_value = "duet-resume-secret")]
    pub resume_secret_file: PathBuf,

    /// How long a resume token stays valid (whole seconds). Signed-in clients get a new one in
    /// `credentials` at half this time; a leaked token lets its holder take the name until then.
    #[arg(long, env = "DUET_RESUME_TOKEN_TTL", default_value = "10m", value_parser = parse_positive_duration)]
    pub resume_token_ttl: Duration,

    /// How long a call is held for a side that lost its connection (or, after a restart, for the
    /// side not back yet) before the other side gets `leave` with reason `disconnected`.
    #[arg(long, env = "DUET_CALL_RESUME_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub call_resume_grace: Duration,

    /// Who may see who is online: `global` (every signed-in client may ask for the list, and
    /// subscribers get every sign-in and sign-out) or `none` (no list at all: presence is
    /// answered only for the names a person asks about with `presence_query`).
    #[arg(long, env = "DUET_PRESENCE_LIST", value_enum, default_value_t = PresenceList::Global)]
    pub presence_list: PresenceList,

    /// Log format: `text` for people, `json` (one object per line) for log collectors.
    #[arg(long, env = "DUET_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Cluster mode: the Redis server the nodes share names and calls through
    /// (`redis://host:6379/0`). Without it the server runs alone, with everything in memory.
    #[arg(long, env = "DUET_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Cluster mode: this node's id, 1 to 16 hex digits, unique among the nodes. Default: a
    /// random one at every start.
    #[arg(long, env = "DUET_NODE_ID", value_parser = parse_node_id)]
    pub node_id: Option<NodeId>,

    /// Cluster mode: how long a node's names outlive its last heartbeat (it heartbeats every
    /// third of this); a node killed without warning frees its names, and its calls end, this
    /// long after.
    #[arg(long, env = "DUET_NAME_LEASE_TTL", default_value = "6s", value_parser = parse_positive_duration)]
    pub name_lease_ttl: Duration,

    /// Folder with the built web app (`trunk build --release` writes `dist/`), served at `/`
    /// for plain HTTP requests. Default: `dist` when that folder exists.
    #[arg(long, env = "DUET_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,
}

/// Whether the list of everyone online is given out (`--presence-list`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PresenceList {
    /// `users` lists everyone online and `presence_subscribe` pushes every sign-in and sign-out.
    Global,
    /// No global list: `users` and the subscription snapshot are empty, no deltas are pushed;
    /// `presence_query` still answers for the names asked about.
    None,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
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
            outbox_bytes: 1024 * 1024,
            max_queued_bytes: 256 * 1024 * 1024,
            send_timeout: Duration::from_secs(3),
            stun_urls: Vec::new(),
            max_connections: 19_000,
            max_connections_per_ip: 64,
            request_head_timeout: Duration::from_secs(5),
            defer_accept: Duration::from_secs(5),
            trusted_proxies: Vec::new(),
            login_timeout: Duration::from_secs(15),
            rate_limit: 50,
            rate_burst: 200,
            rate_limit_bytes: 256 * 1024,
            rate_burst_bytes: 1024 * 1024,
            allowed_origins: Vec::new(),
            tls_cert: None,
            tls_key: None,
            tls_self_signed: false,
            turn_urls: Vec::new(),
            turn_secret: None,
            turn_ttl: Duration::from_secs(12 * 3600),
            // The binary reads (or creates) the secret file; a library user without a secret
            // gets a random one for the process (see `AppState::new`).
            resume_secret: None,
            resume_secret_file: PathBuf::from("duet-resume-secret"),
            resume_token_ttl: Duration::from_secs(600),
            call_resume_grace: Duration::from_secs(30),
            presence_list: PresenceList::Global,
            log_format: LogFormat::Text,
            static_dir: None,
            redis_url: None,
            node_id: None,
            name_lease_ttl: Duration::from_secs(6),
        }
    }
}

/// Parses a duration for a flag: what humantime accepts (`500ms`, `45s`, `2m`, `12h`, `1h 30m`),
/// or a bare number of seconds (which humantime refuses, and `--help` promises).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let parsed = text.parse().map(Duration::from_secs).or_else(|_| humantime::parse_duration(text));
    parsed.map_err(|error| format!("`{text}` is not a duration ({error}); write e.g. 500ms, 45s or 2m"))
}

/// Parses `--resume-secret` (hex or base64, at least 16 bytes).
fn parse_resume_secret(text: &str) -> Result<ResumeSecret, String> {
    ResumeSecret::parse(text).map_err(|error| error.to_string())
}

/// Parses `--node-id`: 1 to 16 hex digits, not all zero.
fn parse_node_id(text: &str) -> Result<NodeId, String> {
    let text = text.trim();
    match u64::from_str_radix(text, 16) {
        Ok(raw) if raw != 0 && text.len() <= 16 => Ok(NodeId::from_raw(raw)),
        _ => Err(format!("`{text}` is not a node id; write 1 to 16 hex digits, e.g. 1 or 0a3f")),
    }
}

/// Like [`parse_duration`], but zero is refused (a zero deadline would close every connection).
pub fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        Duration::ZERO => Err(format!("`{}` is zero; the deadline must be longer than that", text.trim())),
        duration => Ok(duration),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
