//! The server under test: a `ws://` URL that must point at this machine, and the source
//! addresses connections are spread over.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Source addresses connections are bound to when the target is IPv4 loopback: 127.0.1.1 ..=
/// 127.0.4.250 (1,000 addresses), round robin. Each address has its own ~28,000 ephemeral
/// ports, so 19,000 connections plus TIME_WAIT leftovers never run out, and 19,000 connections
/// are 19 per address: below a server's per-address connection limit (ours: 64 by default).
const SOURCE_HOSTS_PER_SUBNET: usize = 250;
const SOURCE_SUBNETS: usize = 4;
const SOURCE_HOSTS: usize = SOURCE_HOSTS_PER_SUBNET * SOURCE_SUBNETS;

/// Why a URL is not accepted as a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// Only `ws://` (plain WebSocket) is spoken.
    Scheme(String),
    /// `user@host` forms are refused (they hide the real host).
    UserInfo,
    /// The host is not 127.0.0.0/8, ::1 or `localhost`.
    NotLoopback(String),
    /// The URL could not be read.
    Malformed(String),
}

impl fmt::Display for TargetError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Scheme(url) => write!(formatter, "`{url}`: only ws:// URLs are supported"),
            TargetError::UserInfo => write!(formatter, "user@host URLs are refused"),
            TargetError::NotLoopback(host) => write!(
                formatter,
                "refusing to load `{host}`: loadgen only targets this machine (127.0.0.0/8, ::1, localhost)"
            ),
            TargetError::Malformed(detail) => write!(formatter, "malformed URL: {detail}"),
        }
    }
}

impl std::error::Error for TargetError {}

/// A loopback WebSocket server to load.
#[derive(Debug)]
pub struct Target {
    /// The URL as given (used for the HTTP upgrade request).
    pub url: String,
    /// Where to connect.
    pub address: SocketAddr,
    /// Spread source addresses over 127.0.0.2.. (IPv4 targets only).
    pub spread_sources: bool,
    next_source: AtomicUsize,
}

impl Target {
    /// Parses `ws://HOST[:PORT][/PATH]` and refuses any host that is not loopback.
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        let rest = url.strip_prefix("ws://").ok_or_else(|| TargetError::Scheme(url.to_owned()))?;
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if authority.contains('@') {
            return Err(TargetError::UserInfo);
        }
        let (host, port_text) = if let Some(bracketed) = authority.strip_prefix('[') {
            let close =
                bracketed.find(']').ok_or_else(|| TargetError::Malformed(format!("no `]` in `{authority}`")))?;
            let after = &bracketed[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port),
                None if after.is_empty() => None,
                None => return Err(TargetError::Malformed(format!("unexpected `{after}` after the address"))),
            };
            (&bracketed[..close], port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let port: u16 = match port_text {
            None => 80,
            Some(text) => text.parse().map_err(|_| TargetError::Malformed(format!("bad port `{text}`")))?,
        };
        let ip = loopback_ip(host)?;
        Ok(Target {
            url: url.to_owned(),
            address: SocketAddr::new(ip, port),
            spread_sources: ip.is_ipv4(),
            next_source: AtomicUsize::new(0),
        })
    }

    /// The source address for the next connection (round robin), or `None` to let the kernel pick.
    pub fn next_source(&self) -> Option<IpAddr> {
        if !self.spread_sources {
            return None;
        }
        let index = self.next_source.fetch_add(1, Ordering::Relaxed) % SOURCE_HOSTS;
        // Both parts are at most 250: they fit in a byte.
        let subnet = u8::try_from(1 + index / SOURCE_HOSTS_PER_SUBNET).unwrap_or(1);
        let host = u8::try_from(1 + index % SOURCE_HOSTS_PER_SUBNET).unwrap_or(1);
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, subnet, host)))
    }
}

/// The IP of a loopback host name or literal; anything else is refused.
pub fn loopback_ip(host: &str) -> Result<IpAddr, TargetError> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return if v4.is_loopback() { Ok(IpAddr::V4(v4)) } else { Err(TargetError::NotLoopback(host.to_owned())) };
    }
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return if v6 == Ipv6Addr::LOCALHOST {
            Ok(IpAddr::V6(v6))
        } else {
            Err(TargetError::NotLoopback(host.to_owned()))
        };
    }
    Err(TargetError::NotLoopback(host.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_are_accepted() {
        let target = Target::parse("ws://127.0.0.1:9090/").expect("127.0.0.1");
        assert_eq!(target.address, "127.0.0.1:9090".parse().expect("address"));
        assert!(target.spread_sources);
        assert_eq!(Target::parse("ws://localhost:9/ws").expect("localhost").address.port(), 9);
        assert_eq!(Target::parse("ws://LOCALHOST").expect("no port").address.port(), 80);
        assert_eq!(
            Target::parse("ws://127.255.255.254:1").expect("127/8").address.ip(),
            IpAddr::from([127, 255, 255, 254])
        );
        let v6 = Target::parse("ws://[::1]:9090/ws").expect("::1");
        assert_eq!(v6.address, "[::1]:9090".parse().expect("address"));
        assert!(!v6.spread_sources);
        assert_eq!(v6.next_source(), None);
    }

    #[test]
    fn everything_else_is_refused() {
        for url in [
            "ws://10.0.0.1:9090/",
            "ws://192.168.1.10/",
            "ws://172.16.0.1/",
            "ws://8.8.8.8:80/",
            "ws://0.0.0.0:9090/",
            "ws://example.com/",
            "ws://localhost.example.com/",
            "ws://127.1/",
            "ws://[::2]:9090/",
            "ws://[::ffff:10.0.0.1]/",
            "ws://[::ffff:127.0.0.1]/",
        ] {
            assert!(
                matches!(Target::parse(url), Err(TargetError::NotLoopback(_))),
                "{url} must be refused as not loopback, got {:?}",
                Target::parse(url)
            );
        }
        assert!(matches!(Target::parse("wss://127.0.0.1/"), Err(TargetError::Scheme(_))));
        assert!(matches!(Target::parse("http://127.0.0.1/"), Err(TargetError::Scheme(_))));
        assert!(matches!(Target::parse("ws://127.0.0.1@10.0.0.1/"), Err(TargetError::UserInfo)));
        assert!(matches!(Target::parse("ws://127.0.0.1:99999/"), Err(TargetError::Malformed(_))));
        assert!(matches!(Target::parse("ws://[::1/"), Err(TargetError::Malformed(_))));
    }

    #[test]
    fn sources_rotate_over_a_thousand_loopback_addresses() {
        let target = Target::parse("ws://127.0.0.1:1/").expect("target");
        let sources: Vec<IpAddr> = (0..SOURCE_HOSTS + 1).filter_map(|_| target.next_source()).collect();
        assert_eq!(sources[0], IpAddr::from([127, 0, 1, 1]));
        assert_eq!(sources[249], IpAddr::from([127, 0, 1, 250]));
        assert_eq!(sources[250], IpAddr::from([127, 0, 2, 1]));
        assert_eq!(sources[SOURCE_HOSTS - 1], IpAddr::from([127, 0, 4, 250]));
        assert_eq!(sources[SOURCE_HOSTS], sources[0]);
        let distinct: std::collections::HashSet<&IpAddr> = sources.iter().collect();
        assert_eq!(distinct.len(), 1000);
        assert!(sources.iter().all(IpAddr::is_loopback));
    }
}
