//! Abuse limits: connections in total and per client address (counted from `accept`, within
//! the process's open-file limit), the per-connection message rate (token buckets of frames and
//! bytes, and a window of refusals), and which browser origins may connect.

use crate::client_address::address_group;
use dashmap::DashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

mod rate;
pub use rate::{RateDecision, RateLimiter, MAX_REFUSALS_PER_WINDOW, REFUSAL_WINDOW};

/// Why a new connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    #[error("The server is full ({0} connections); try again later.")]
    TooManyConnections(usize),
    #[error("Too many connections from your address ({0}); close some and try again.")]
    TooManyFromAddress(usize),
}

/// Counts open connections, from the moment the TCP connection is accepted to the end of its
/// WebSocket (if it becomes one); a [`ConnectionPermit`] is held for each and releases on drop.
/// The per-address count is by [`address_group`] (an IPv6 client's whole /64).
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
        let mut permit = self.try_admit_unattributed(max_total)?;
        permit.attribute_to(address, max_per_address)?;
        Ok(permit)
    }

    /// Admits one more connection within `max_total` only, not yet counted against any address:
    /// a trusted proxy's connection, whose client is known only from its request.
    pub fn try_admit_unattributed(self: &Arc<Self>, max_total: usize) -> Result<ConnectionPermit, AdmissionError> {
        let previous = self.total.fetch_add(1, Ordering::AcqRel);
        if max_total != 0 && previous >= max_total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(AdmissionError::TooManyConnections(max_total));
        }
        Ok(ConnectionPermit { limiter: Arc::clone(self), address_group: None })
    }

    pub fn open_connections(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    fn add_to_group(&self, group: IpAddr, max_per_address: usize) -> Result<(), AdmissionError> {
        let mut count = self.per_address.entry(group).or_insert(0);
        if max_per_address != 0 && *count >= max_per_address {
            drop(count);
            // The entry may have been created just now: forget it again if nobody holds it.
            self.per_address.remove_if(&group, |_, count| *count == 0);
            return Err(AdmissionError::TooManyFromAddress(max_per_address));
        }
        *count += 1;
        Ok(())
    }

    fn remove_from_group(&self, group: IpAddr) {
        self.per_address.remove_if_mut(&group, |_, count| {
            *count = count.saturating_sub(1);
            *count == 0
        });
    }
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub struct ConnectionPermit {
    limiter: Arc<ConnectionLimiter>,
    /// The [`address_group`] this connection counts against, once known.
    address_group: Option<IpAddr>,
}

impl ConnectionPermit {
    /// Whether this connection already counts against an address.
    pub fn is_attributed(&self) -> bool {
        self.address_group.is_some()
    }

    /// Counts this connection against `address`'s group from now on (instead of the one it
    /// counted against before, if any); refused, it stays as it was.
    pub fn attribute_to(&mut self, address: IpAddr, max_per_address: usize) -> Result<(), AdmissionError> {
        let group = address_group(address);
        if self.address_group == Some(group) {
            return Ok(());
        }
        self.limiter.add_to_group(group, max_per_address)?;
        if let Some(previous) = self.address_group.replace(group) {
            self.limiter.remove_from_group(previous);
        }
        Ok(())
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.limiter.total.fetch_sub(1, Ordering::AcqRel);
        if let Some(group) = self.address_group {
            self.limiter.remove_from_group(group);
        }
    }
}

/// Descriptors kept back from `--max-connections` below the process's open-file limit: the
/// listener, the runtime, logs, static files being served, and the connections over the limit
/// that are still answered (`/healthz`, or a readable 503), see `serve::OVERFLOW_CONNECTIONS`.
pub const RESERVED_FILE_DESCRIPTORS: usize = 128;

/// The connection limit actually enforced: `configured` (0: unlimited), but never more than the
/// open-file limit allows with [`RESERVED_FILE_DESCRIPTORS`] to spare, so that running out of
/// descriptors never stops the accept loop. Unknown open-file limit: `configured` as is.
pub fn effective_connection_limit(configured: usize, open_files_limit: Option<u64>) -> usize {
    let Some(open_files) = open_files_limit else { return configured };
    let allowed = usize::try_from(open_files).unwrap_or(usize::MAX).saturating_sub(RESERVED_FILE_DESCRIPTORS).max(1);
    if configured == 0 {
        allowed
    } else {
        configured.min(allowed)
    }
}

/// This process's open-file limit (the soft `RLIMIT_NOFILE`, `ulimit -n`), read from
/// `/proc/self/limits`; `None` where that file does not exist or says "unlimited".
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files_limit(&limits)
}

fn parse_open_files_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|line| line.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files").split_whitespace().next()?.parse().ok()
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

    #[test]
    fn a_proxied_connection_counts_against_its_client_once_known_and_can_be_refused_then() {
        let limiter = Arc::new(ConnectionLimiter::default());
        let client: IpAddr = [203, 0, 113, 7].into();
        let _direct = limiter.try_admit(client, 0, 1).expect("first from the client");
        let mut proxied = limiter.try_admit_unattributed(0).expect("the proxy's connection");
        assert!(!proxied.is_attributed());
        assert_eq!(proxied.attribute_to(client, 1), Err(AdmissionError::TooManyFromAddress(1)));
        assert!(!proxied.is_attributed(), "a refusal leaves the permit as it was");
        let other: IpAddr = [203, 0, 113, 8].into();
        proxied.attribute_to(other, 1).expect("another client");
        assert_eq!(limiter.per_address.get(&other).map(|count| *count), Some(1));
        drop(proxied);
        assert!(limiter.per_address.get(&other).is_none());
        assert_eq!(limiter.open_connections(), 1);
        assert_eq!(limiter.per_address.len(), 1, "refusals leave no empty entries behind");
    }

    #[test]
    fn the_connection_limit_keeps_descriptors_in_reserve_below_the_open_file_limit() {
        assert_eq!(effective_connection_limit(19_000, Some(20_000)), 19_000);
        assert_eq!(effective_connection_limit(19_000, Some(1_024)), 1_024 - RESERVED_FILE_DESCRIPTORS);
        assert_eq!(effective_connection_limit(0, Some(20_000)), 20_000 - RESERVED_FILE_DESCRIPTORS);
        assert_eq!(effective_connection_limit(0, None), 0, "unknown and unlimited stays unlimited");
        assert_eq!(effective_connection_limit(3, Some(10)), 1, "never zero, which would mean unlimited");
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63459                63459                processes \n\
                      Max open files            20000                1048576              files     \n";
        assert_eq!(parse_open_files_limit(limits), Some(20_000));
        assert_eq!(parse_open_files_limit("Max open files  unlimited  unlimited  files"), None);
    }
}
