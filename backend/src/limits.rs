//! Abuse limits: connections in total and per client address, the per-connection message
//! rate (token buckets of frames and bytes, and a window of refusals), and which browser origins
//! may connect.

use dashmap::DashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Why a new connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    #[error("The server is full ({0} connections); try again later.")]
    TooManyConnections(usize),
    #[error("Too many connections from your address ({0}); close some and try again.")]
    TooManyFromAddress(usize),
}

/// Counts open connections; a [`ConnectionPermit`] is held for each and releases on drop.
#[derive(Debug, Default)]
pub struct ConnectionLimiter {
    total: AtomicUsize,
    per_address: DashMap<IpAddr, usize>,
}

impl ConnectionLimiter {
    /// Admits one more connection from `address`, within `max_total` and `max_per_address`
    /// (0 means unlimited).
    pub fn try_admit(
        self: &Arc<Self>,
        address: IpAddr,
        max_total: usize,
        max_per_address: usize,
    ) -> Result<ConnectionPermit, AdmissionError> {
        let previous = self.total.fetch_add(1, Ordering::AcqRel);
        if max_total != 0 && previous >= max_total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(AdmissionError::TooManyConnections(max_total));
        }
        {
            let mut count = self.per_address.entry(address).or_insert(0);
            if max_per_address != 0 && *count >= max_per_address {
                drop(count);
                self.total.fetch_sub(1, Ordering::AcqRel);
                return Err(AdmissionError::TooManyFromAddress(max_per_address));
            }
            *count += 1;
        }
        Ok(ConnectionPermit { limiter: Arc::clone(self), address })
    }

    pub fn open_connections(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub struct ConnectionPermit {
    limiter: Arc<ConnectionLimiter>,
    address: IpAddr,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.limiter.total.fetch_sub(1, Ordering::AcqRel);
        self.limiter.per_address.remove_if_mut(&self.address, |_, count| {
            *count -= 1;
            *count == 0
        });
    }
}

/// A token bucket: `burst` at once, refilled at `per_second`. A cost larger than what is left
/// is still allowed while anything is left (the balance goes below zero and refills), so one
/// large frame is never refused for its size alone.
#[derive(Debug)]
struct TokenBucket {
    tokens: f64,
    burst: f64,
    per_second: f64,
}

impl TokenBucket {
    fn new(per_second: u64, burst: u64) -> TokenBucket {
        let burst = burst.max(1) as f64;
        TokenBucket { tokens: burst, burst, per_second: per_second as f64 }
    }

    fn disabled(&self) -> bool {
        self.per_second == 0.0
    }

    fn refill(&mut self, elapsed_seconds: f64) {
        self.tokens = (self.tokens + elapsed_seconds * self.per_second).min(self.burst);
    }
}

/// The per-connection rate limit: frames of every kind (data, continuation, ping, pong) and
/// their payload bytes, each a token bucket; and a window of refusals that closes the connection.
#[derive(Debug)]
pub struct RateLimiter {
    frames: TokenBucket,
    bytes: TokenBucket,
    last_refill: Instant,
    window_started: Instant,
    refused_in_window: u32,
}

/// What the rate limiter says about one incoming frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allow,
    /// Refused: dropped (a data message gets an `error` reply, once per streak).
    Refuse,
    /// More than [`MAX_REFUSALS_PER_WINDOW`] refusals within [`REFUSAL_WINDOW`]: the connection
    /// is closed (1008).
    Disconnect,
}

/// Refusals within one [`REFUSAL_WINDOW`] that a connection may collect; one more closes it.
pub const MAX_REFUSALS_PER_WINDOW: u32 = 50;

/// The window in which refusals are counted (fixed windows, one after the other). A client
/// refused now and then is slowed down; one refused more than 5 times a second is closed,
/// whatever rate it sends at.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(10);

impl RateLimiter {
    /// `frames_per_second` frames (burst `frame_burst`) and `bytes_per_second` payload bytes
    /// (burst `byte_burst`); a rate of 0 disables that limit.
    pub fn new(frames_per_second: u32, frame_burst: u32, bytes_per_second: u64, byte_burst: u64) -> RateLimiter {
        let now = Instant::now();
        RateLimiter {
            frames: TokenBucket::new(u64::from(frames_per_second), u64::from(frame_burst)),
            bytes: TokenBucket::new(bytes_per_second, byte_burst),
            last_refill: now,
            window_started: now,
            refused_in_window: 0,
        }
    }

    /// The limiter for one connection under `config` (`--rate-limit 0` turns both limits off).
    pub fn for_connection(config: &crate::Config) -> RateLimiter {
        let bytes_per_second = if config.rate_limit == 0 { 0 } else { config.rate_limit_bytes };
        RateLimiter::new(config.rate_limit, config.rate_burst, bytes_per_second, config.rate_burst_bytes)
    }

    /// Decides about one frame carrying `payload_bytes`.
    pub fn check(&mut self, payload_bytes: u64) -> RateDecision {
        if self.frames.disabled() && self.bytes.disabled() {
            return RateDecision::Allow;
        }
        let now = Instant::now();
        let elapsed = now.duration_since(self.last_refill).as_secs_f64();
        self.last_refill = now;
        self.frames.refill(elapsed);
        self.bytes.refill(elapsed);
        let frame_allowed = self.frames.disabled() || self.frames.tokens >= 1.0;
        let bytes_allowed = self.bytes.disabled() || self.bytes.tokens > 0.0;
        if frame_allowed && bytes_allowed {
            self.frames.tokens -= 1.0;
            self.bytes.tokens -= payload_bytes as f64;
            return RateDecision::Allow;
        }
        if now.duration_since(self.window_started) >= REFUSAL_WINDOW {
            self.window_started = now;
            self.refused_in_window = 0;
        }
        self.refused_in_window += 1;
        if self.refused_in_window > MAX_REFUSALS_PER_WINDOW {
            RateDecision::Disconnect
        } else {
            RateDecision::Refuse
        }
    }
}

/// Which browser origins may open a WebSocket.
///
/// Requests without an `Origin` header (wscat, scripts, native apps) are always allowed: the
/// check protects browser users from other web sites, it is not authentication. A browser
/// origin is allowed when its host is the host the request was sent to (the app served by this
/// server), when it is listed, or, with no list given, when it is a localhost origin (dev).
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    allowed: Vec<String>,
}

impl OriginPolicy {
    pub fn new(allowed: &[String]) -> OriginPolicy {
        OriginPolicy {
            allowed: allowed.iter().map(|origin| origin.trim().trim_end_matches('/').to_ascii_lowercase()).collect(),
        }
    }

    pub fn allows(&self, origin: Option<&str>, request_host: Option<&str>) -> bool {
        let Some(origin) = origin else { return true };
        let origin = origin.trim().to_ascii_lowercase();
        if self.allowed.iter().any(|allowed| allowed == "*" || *allowed == origin) {
            return true;
        }
        let Some(origin_host) = host_of_origin(&origin) else { return false };
        if request_host.map(|host| strip_port(&host.to_ascii_lowercase()).to_owned()).as_deref() == Some(origin_host) {
            return true;
        }
        self.allowed.is_empty() && matches!(origin_host, "localhost" | "127.0.0.1" | "[::1]")
    }
}

/// `https://example.org:8443` → `example.org`.
fn host_of_origin(origin: &str) -> Option<&str> {
    let (_scheme, rest) = origin.split_once("://")?;
    let authority = rest.split('/').next()?;
    Some(strip_port(authority))
}

fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority.rsplit_once(':').map_or(authority, |(host, _port)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_policy_defaults_allow_same_host_and_localhost_only() {
        let policy = OriginPolicy::new(&[]);
        assert!(policy.allows(None, Some("example.org")), "non-browser clients");
        assert!(policy.allows(Some("https://example.org"), Some("example.org:9090")), "same host, other port");
        assert!(policy.allows(Some("http://localhost:8080"), Some("127.0.0.1:9090")), "trunk serve in development");
        assert!(policy.allows(Some("http://127.0.0.1:8080"), Some("127.0.0.1:9090")));
        assert!(policy.allows(Some("http://[::1]:8080"), Some("[::1]:9090")));
        assert!(!policy.allows(Some("https://evil.example"), Some("example.org:9090")));
        assert!(!policy.allows(Some("https://example.org.evil.example"), Some("example.org")));
        assert!(!policy.allows(Some("null"), Some("example.org")));
    }

    #[test]
    fn origin_policy_with_a_list_allows_listed_and_same_host_but_not_localhost() {
        let policy = OriginPolicy::new(&["https://app.example.com/".to_owned()]);
        assert!(policy.allows(Some("https://app.example.com"), Some("signal.example.com")));
        assert!(policy.allows(Some("https://signal.example.com"), Some("signal.example.com")));
        assert!(!policy.allows(Some("http://app.example.com"), Some("signal.example.com")), "scheme matters");
        assert!(!policy.allows(Some("http://localhost:8080"), Some("signal.example.com")));
        assert!(OriginPolicy::new(&["*".to_owned()]).allows(Some("https://anything.example"), None));
    }

    #[test]
    fn connection_limiter_counts_total_and_per_address_and_frees_on_drop() {
        let limiter = Arc::new(ConnectionLimiter::default());
        let first: IpAddr = [127, 0, 0, 1].into();
        let second: IpAddr = [127, 0, 0, 2].into();
        let a = limiter.try_admit(first, 3, 2).expect("1st");
        let b = limiter.try_admit(first, 3, 2).expect("2nd");
        assert_eq!(
            limiter.try_admit(first, 3, 2).expect_err("third from one address"),
            AdmissionError::TooManyFromAddress(2)
        );
        let c = limiter.try_admit(second, 3, 2).expect("3rd from elsewhere");
        assert_eq!(
            limiter.try_admit(second, 3, 2).expect_err("fourth in total"),
            AdmissionError::TooManyConnections(3)
        );
        drop(a);
        assert_eq!(limiter.open_connections(), 2);
        let _d = limiter.try_admit(first, 3, 2).expect("a place was freed");
        drop((b, c));
        assert_eq!(limiter.open_connections(), 1);
        assert_eq!(limiter.per_address.len(), 1, "addresses with no connection are forgotten");
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limiter_allows_bursts_refills_and_disconnects_after_a_window_of_refusals() {
        let mut limiter = RateLimiter::new(10, 5, 0, 0);
        for _ in 0..5 {
            assert_eq!(limiter.check(0), RateDecision::Allow);
        }
        assert_eq!(limiter.check(0), RateDecision::Refuse);
        tokio::time::advance(Duration::from_millis(200)).await;
        assert_eq!(limiter.check(0), RateDecision::Allow, "two tokens refilled");
        assert_eq!(limiter.check(0), RateDecision::Allow);
        // Refusals interleaved with allowed frames still add up within the window.
        let mut refused = 1;
        loop {
            tokio::time::advance(Duration::from_millis(50)).await;
            let decision = limiter.check(0);
            if decision == RateDecision::Disconnect {
                break;
            }
            refused += u32::from(decision == RateDecision::Refuse);
            assert!(refused <= MAX_REFUSALS_PER_WINDOW, "never disconnects");
        }
        assert_eq!(refused, MAX_REFUSALS_PER_WINDOW);
        assert_eq!(RateLimiter::new(0, 0, 0, 0).check(1 << 20), RateDecision::Allow, "0 disables the limits");
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_spread_over_more_than_a_window_do_not_disconnect() {
        let mut limiter = RateLimiter::new(1, 1, 0, 0);
        for _ in 0..200 {
            let decision = limiter.check(0);
            assert_ne!(decision, RateDecision::Disconnect);
            tokio::time::advance(REFUSAL_WINDOW / 40).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn payload_bytes_are_limited_too_and_one_large_frame_is_never_refused_for_its_size() {
        let mut limiter = RateLimiter::new(0, 0, 1000, 100);
        assert_eq!(limiter.check(5000), RateDecision::Allow, "larger than the burst, but tokens were left");
        assert_eq!(limiter.check(0), RateDecision::Refuse, "in debt");
        tokio::time::advance(Duration::from_millis(4900)).await;
        assert_eq!(limiter.check(0), RateDecision::Refuse, "still in debt after 4.9 s");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(limiter.check(10), RateDecision::Allow);
    }
}
