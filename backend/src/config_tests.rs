//! Tests of the options: parsing, defaults, and `--help` documenting each.

use super::*;

#[test]
fn durations_parse_in_every_unit() {
    assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
    assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(12 * 3600)));
    assert!(parse_duration("soon").is_err());
}

#[test]
fn bare_numbers_are_seconds_and_the_rest_is_humantime() {
    assert_eq!(parse_duration(" 7 "), Ok(Duration::from_secs(7)));
    assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
    assert_eq!(parse_duration("5 s"), Ok(Duration::from_secs(5)));
    assert!(parse_duration("-1s").is_err());
    assert!(parse_duration("").is_err());
    assert!(parse_duration("3 parsecs").is_err_and(|error| error.contains("3 parsecs")));
}

#[test]
fn trusted_proxies_repeat_and_comma_separate_and_refuse_names() {
    let parsed =
        Config::try_parse_from(["backend", "--trusted-proxy", "10.0.0.0/8,::1", "--trusted-proxy", "192.0.2.7"])
            .expect("addresses and networks");
    let expected: Vec<ipnet::IpNet> =
        ["10.0.0.0/8", "::1/128", "192.0.2.7/32"].iter().map(|text| text.parse().expect("network")).collect();
    assert_eq!(parsed.trusted_proxies, expected);
    assert!(Config::try_parse_from(["backend", "--trusted-proxy", "proxy.example"]).is_err());
    assert!(Config::try_parse_from(["backend", "--request-head-timeout", "0"]).is_err());
    let parsed = Config::try_parse_from(["backend", "--request-head-timeout", "750ms"]).expect("duration");
    assert_eq!(parsed.request_head_timeout, Duration::from_millis(750));
}

#[test]
fn defer_accept_is_five_seconds_by_default_and_zero_turns_it_off() {
    assert_eq!(Config::default().defer_accept, Duration::from_secs(5));
    let parsed = Config::try_parse_from(["backend", "--defer-accept", "0"]).expect("zero is allowed");
    assert_eq!(parsed.defer_accept, Duration::ZERO);
    let parsed = Config::try_parse_from(["backend", "--defer-accept", "30s"]).expect("duration");
    assert_eq!(parsed.defer_accept, Duration::from_secs(30));
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
    assert_eq!(parsed.send_timeout, default.send_timeout);
    assert_eq!(parsed.login_timeout, default.login_timeout);
    assert_eq!(parsed.request_head_timeout, default.request_head_timeout);
    assert_eq!(parsed.defer_accept, default.defer_accept);
    assert_eq!(parsed.trusted_proxies, default.trusted_proxies);
    assert_eq!(parsed.rate_limit, default.rate_limit);
    assert_eq!(parsed.rate_burst, default.rate_burst);
    assert_eq!(parsed.rate_limit_bytes, default.rate_limit_bytes);
    assert_eq!(parsed.rate_burst_bytes, default.rate_burst_bytes);
    assert_eq!(parsed.outbox_bytes, default.outbox_bytes);
    assert_eq!(parsed.max_queued_bytes, default.max_queued_bytes);
    assert_eq!(parsed.max_connections, default.max_connections);
    assert_eq!(parsed.max_connections_per_ip, default.max_connections_per_ip);
    assert_eq!(parsed.turn_ttl, default.turn_ttl);
    assert_eq!(parsed.resume_secret_file, default.resume_secret_file);
    assert_eq!(parsed.resume_token_ttl, default.resume_token_ttl);
    assert_eq!(parsed.call_resume_grace, default.call_resume_grace);
    assert_eq!(parsed.name_lease_ttl, default.name_lease_ttl);
    assert_eq!((parsed.redis_url, parsed.node_id), (None, None));
}

#[test]
fn node_ids_are_hex_digits() {
    assert_eq!(parse_node_id("0a3f"), Ok(NodeId::from_raw(0xa3f)));
    assert_eq!(parse_node_id("ffffffffffffffff"), Ok(NodeId::from_raw(u64::MAX)));
    for refused in ["", "0", "node-1", "10000000000000000"] {
        assert!(parse_node_id(refused).is_err(), "{refused}");
    }
}

#[test]
fn help_documents_every_option() {
    let help = <Config as clap::CommandFactory>::command().render_long_help().to_string();
    for flag in [
        "--port",
        "--bind",
        "--ring-timeout",
        "--heartbeat-interval",
        "--idle-timeout",
        "--max-frame-bytes",
        "--outbox-capacity",
        "--send-timeout",
        "--stun-url",
        "--redis-url",
        "--node-id",
        "--name-lease-ttl",
        "--max-connections",
        "--max-connections-per-ip",
        "--login-timeout",
        "--request-head-timeout",
        "--defer-accept",
        "--trusted-proxy",
        "--rate-limit",
        "--rate-burst",
        "--rate-limit-bytes",
        "--rate-burst-bytes",
        "--outbox-bytes",
        "--max-queued-bytes",
        "--allowed-origin",
        "--tls-cert",
        "--tls-key",
        "--tls-self-signed",
        "--turn-url",
        "--turn-secret",
        "--turn-ttl",
        "--log-format",
        "--static-dir",
        "--resume-secret",
        "--resume-secret-file",
        "--resume-token-ttl",
        "--call-resume-grace",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
    assert!(help.contains("[env: PORT="), "environment variables are shown");
}
