//! Abuse limits: connections in total and per client address, the per-connection message
//! rate (token bucket), and which browser origins may connect.

use dashmap::DashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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

/// Token bucket: `burst` messages at once, refilled at `per_second`.
#[derive(Debug)]
pub struct RateLimiter {
    tokens: f64,
    burst: f64,
    per_second: f64,
    last_refill: Instant,
    /// Messages refused in a row; reset by the next accepted one.
    refused_in_a_row: u32,
}

/// What the rate limiter says about one incoming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allow,
    /// Refused; the first of a streak gets an `error` reply, the rest are dropped silently.
    Refuse {
        first_in_streak: bool,
    },
    /// Refused so many times in a row that the connection is closed.
    Disconnect,
}

/// Consecutive refused messages after which a connection counts as abusive and is closed.
pub const MAX_REFUSED_IN_A_ROW: u32 = 50;

impl RateLimiter {
    /// `per_second == 0` disables the limit.
    pub fn new(per_second: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            tokens: f64::from(burst.max(1)),
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_second),
            last_refill: Instant::now(),
            refused_in_a_row: 0,
        }
    }

    pub fn check(&mut self) -> RateDecision {
        if self.per_second == 0.0 {
            return RateDecision::Allow;
        }
        let now = Instant::now();
        let elapsed = now.duration_since(self.last_refill).as_secs_f64();
        self.last_refill = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused_in_a_row = 0;
            return RateDecision::Allow;
        }
        self.refused_in_a_row += 1;
        if self.refused_in_a_row >= MAX_REFUSED_IN_A_ROW {
            RateDecision::Disconnect
        } else {
            RateDecision::Refuse { first_in_streak: self.refused_in_a_row == 1 }
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
    async fn rate_limiter_allows_bursts_refills_and_disconnects_sustained_abuse() {
        let mut limiter = RateLimiter::new(10, 5);
        for _ in 0..5 {
            assert_eq!(limiter.check(), RateDecision::Allow);
        }
        assert_eq!(limiter.check(), RateDecision::Refuse { first_in_streak: true });
        assert_eq!(limiter.check(), RateDecision::Refuse { first_in_streak: false });
        tokio::time::advance(std::time::Duration::from_millis(200)).await;
        assert_eq!(limiter.check(), RateDecision::Allow, "two tokens refilled");
        assert_eq!(limiter.check(), RateDecision::Allow);
        let mut decision = limiter.check();
        let mut refused = 1;
        while decision != RateDecision::Disconnect {
            decision = limiter.check();
            refused += 1;
            assert!(refused <= MAX_REFUSED_IN_A_ROW, "never disconnects");
        }
        assert_eq!(refused, MAX_REFUSED_IN_A_ROW);
        assert_eq!(RateLimiter::new(0, 0).check(), RateDecision::Allow, "0 disables the limit");
    }
}
