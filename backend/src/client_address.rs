//! Who a client is, for the per-address connection limit and the logs: the TCP peer, or, when the
//! peer is a trusted reverse proxy (`--trusted-proxy`), the address that proxy forwards in
//! `Forwarded` (RFC 7239) or `X-Forwarded-For`. Headers from anyone else are ignored: any client
//! can write them. IPv6 clients are counted per /64 ([`address_group`]): one subscriber usually
//! holds a whole /64 and can pick any address in it.

use axum::http::header::{HeaderMap, FORWARDED};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};

/// The header most proxies (nginx, HAProxy, cloud load balancers) send.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Hops of a forwarding chain looked at, at most; a longer chain is not believed past that.
const MAX_FORWARDED_HOPS: usize = 32;

/// Networks of the reverse proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

impl TrustedProxies {
    pub fn new(networks: &[IpNet]) -> TrustedProxies {
        TrustedProxies { networks: networks.iter().map(IpNet::trunc).collect() }
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `address` is one of the trusted proxies (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.networks.iter().any(|network| network.contains(&address))
    }

    /// The client's address: `peer` itself unless `peer` is a trusted proxy, else the right-most
    /// forwarded address that is not a trusted proxy (every proxy appends the address it got the
    /// request from, so entries left of an untrusted one may be made up). An entry that is not
    /// an address (`unknown`, an obfuscated name) stops the walk at the proxy that wrote it.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let chain = forwarded_chain(headers);
        for hop in chain.iter().rev().take(MAX_FORWARDED_HOPS) {
            let Some(hop) = hop else { return client };
            client = hop.to_canonical();
            if !self.contains(client) {
                return client;
            }
        }
        client
    }
}

/// Parses one `--trusted-proxy` value: an address (`10.0.0.7`, `::1`) or a network in CIDR form
/// (`10.0.0.0/8`, `fd00::/8`).
pub fn parse_trusted_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(network) = text.parse::<IpNet>() {
        return Ok(network);
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("`{text}` is neither an IP address nor a network like 10.0.0.0/8 or fd00::/8"))
}

/// What the per-address limit counts: an IPv4 address as is, an IPv6 address by its /64.
pub fn address_group(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
    }
}

/// The forwarded-for addresses, first (the original client) to last (the proxy next to us):
/// from `Forwarded` if the request has one, else from `X-Forwarded-For`. `None` for an entry
/// that is not an address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers.get_all(FORWARDED).iter().filter_map(|value| value.to_str().ok()).collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node))
            })
            .collect();
    }
    headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(parse_node)
        .collect()
}

/// `192.0.2.43`, `192.0.2.43:47011`, `"[2001:db8::17]:4711"`, `2001:db8::17` → the address.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"').trim();
    if let Some(bracketed) = node.strip_prefix('[') {
        let (address, _port) = bracketed.split_once(']')?;
        return address.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(address);
    }
    let (address, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    address.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        let networks: Vec<IpNet> = list.iter().map(|text| parse_trusted_proxy(text).expect("network")).collect();
        TrustedProxies::new(&networks)
    }

    #[test]
    fn trusted_proxies_parse_from_addresses_and_networks() {
        assert_eq!(parse_trusted_proxy("10.0.0.7"), Ok("10.0.0.7/32".parse().expect("net")));
        assert_eq!(parse_trusted_proxy(" ::1 "), Ok("::1/128".parse().expect("net")));
        assert_eq!(parse_trusted_proxy("10.0.0.0/8"), Ok("10.0.0.0/8".parse().expect("net")));
        assert!(parse_trusted_proxy("10.0.0.0/33").is_err());
        assert!(parse_trusted_proxy("proxy.example").is_err_and(|error| error.contains("proxy.example")));
        let trusted = proxies(&["10.1.2.3/8", "fd00::/8"]);
        assert!(trusted.contains(ip("10.200.0.1")), "the network, not only the address written");
        assert!(trusted.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped IPv6 peers (dual-stack listeners)");
        assert!(trusted.contains(ip("fd12::1")));
        assert!(!trusted.contains(ip("11.0.0.1")));
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_a_trusted_proxy() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(trusted.client_address(ip("10.0.0.2"), &forwarded), ip("203.0.113.7"));
        assert_eq!(trusted.client_address(ip("198.51.100.9"), &forwarded), ip("198.51.100.9"), "not a proxy");
        assert_eq!(TrustedProxies::default().client_address(ip("10.0.0.2"), &forwarded), ip("10.0.0.2"));
        assert_eq!(trusted.client_address(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"), "no header");
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client_and_spoofed_entries_left_of_it_are_ignored() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7, 10.0.0.5"), ("x-forwarded-for", "10.0.0.6")]);
        assert_eq!(trusted.client_address(ip("10.0.0.2"), &chain), ip("203.0.113.7"));
        let all_trusted = headers(&[("x-forwarded-for", "10.0.0.9, 10.0.0.5")]);
        assert_eq!(trusted.client_address(ip("10.0.0.2"), &all_trusted), ip("10.0.0.9"));
        let garbage = headers(&[("x-forwarded-for", "203.0.113.7, unknown")]);
        assert_eq!(trusted.client_address(ip("10.0.0.2"), &garbage), ip("10.0.0.2"), "stops at the proxy");
        let with_port = headers(&[("x-forwarded-for", "203.0.113.7:5555")]);
        assert_eq!(trusted.client_address(ip("10.0.0.2"), &with_port), ip("203.0.113.7"));
    }

    #[test]
    fn the_forwarded_header_wins_over_x_forwarded_for_and_understands_ipv6() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let both = headers(&[
            ("forwarded", r#"for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711""#),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(trusted.client_address(ip("10.0.0.2"), &both), ip("2001:db8:cafe::17"));
        let hidden = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(trusted.client_address(ip("10.0.0.2"), &hidden), ip("10.0.0.2"));
        let v4_with_port = headers(&[("forwarded", r#"for="192.0.2.43:47011""#)]);
        assert_eq!(trusted.client_address(ip("10.0.0.2"), &v4_with_port), ip("192.0.2.43"));
        let bare_v6 = headers(&[("x-forwarded-for", "2001:db8::1")]);
        assert_eq!(trusted.client_address(ip("10.0.0.2"), &bare_v6), ip("2001:db8::1"));
    }

    #[test]
    fn ipv6_addresses_are_grouped_by_their_64_bit_prefix_and_ipv4_stays_whole() {
        assert_eq!(address_group(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(address_group(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), ip("2001:db8:1:2::"));
        assert_ne!(address_group(ip("2001:db8:1:3::1")), address_group(ip("2001:db8:1:2::1")));
        assert_eq!(address_group(ip("192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(address_group(ip("::ffff:192.0.2.1")), ip("192.0.2.1"), "IPv4-mapped is IPv4");
        assert_ne!(address_group(ip("192.0.2.1")), address_group(ip("192.0.2.2")));
    }
}
