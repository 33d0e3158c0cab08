//! Tests of the command line: bounds, defaults, durations, and what each server can run.

use super::*;

fn parse(args: &[&str]) -> Result<(Target, Mode), String> {
    let cli = Cli::try_parse_from(std::iter::once("loadgen").chain(args.iter().copied()))
        .map_err(|error| error.to_string())?;
    cli.validate()
}

#[test]
fn defaults_parse() {
    let (target, mode) = parse(&["relay"]).expect("defaults");
    assert_eq!(target.address, "127.0.0.1:9090".parse().expect("address"));
    let Mode::Relay(options) = mode else { panic!("relay expected") };
    assert_eq!((options.pairs, options.windows, options.candidate_bytes), (100, 3, 257));
    assert_eq!(options.window, Duration::from_secs(5));
    let Ok((_, Mode::Idle(churn))) = parse(&["churn", "--count", "500"]) else { panic!("churn expected") };
    assert_eq!((churn.count, churn.rounds), (500, 10));
    let Ok((_, Mode::Idle(connections))) = parse(&["connections"]) else { panic!("connections expected") };
    assert_eq!(connections.rounds, 1);
    let Ok((_, Mode::Calls(calls))) = parse(&["calls", "--calls", "50", "--in-flight", "5"]) else {
        panic!("calls expected")
    };
    assert_eq!((calls.calls, calls.in_flight, calls.candidates, calls.runs), (50, 5, 4, 3));
}

#[test]
fn global_flags_go_before_or_after_the_mode() {
    let cli = Cli::try_parse_from([
        "loadgen",
        "relay",
        "--url",
        "ws://localhost:9190/",
        "--server-pid",
        "42",
        "--window",
        "250ms",
    ])
    .expect("flags after the mode");
    assert_eq!(cli.server_pid, Some(42));
    assert_eq!(cli.url, "ws://localhost:9190/");
    let cli = Cli::try_parse_from(["loadgen", "--timeout", "2m", "calls"]).expect("flags before the mode");
    assert_eq!(cli.timeout, Duration::from_secs(120));
}

#[test]
fn bounds_and_targets_are_enforced() {
    assert!(parse(&["relay", "--url", "ws://10.0.0.1:9090/"]).is_err_and(|error| error.contains("refusing")));
    assert!(parse(&["connections", "--count", "20000"]).is_err_and(|error| error.contains("--count")));
    assert!(parse(&["connections", "--count", "0"]).is_err());
    assert!(parse(&["relay", "--pairs", "5001"]).is_err_and(|error| error.contains("--pairs")));
    assert!(parse(&["relay", "--window", "61s"]).is_err_and(|error| error.contains("--window")));
    assert!(parse(&["churn", "--rounds", "51"]).is_err_and(|error| error.contains("--rounds")));
    assert!(parse(&["calls", "--in-flight", "1001"]).is_err());
    assert!(parse(&["calls", "--timeout", "31m"]).is_err_and(|error| error.contains("--timeout")));
    assert!(parse(&["relay", "--window", "soon"]).is_err());
    assert!(parse(&["relay", "--no-such-flag"]).is_err());
    assert!(parse(&[]).is_err(), "a mode is required");
    assert!(parse(&["flood", "--silent", "19901"]).is_err_and(|error| error.contains("--silent")));
    assert!(parse(&["flood", "--silent", "10000", "--half-heads", "10000"]).is_err());
    assert!(parse(&["flood", "--silent", "0"]).is_err(), "something to flood with");
    assert!(parse(&["flood", "--head-bytes", "2000000"]).is_err_and(|error| error.contains("--head-bytes")));
    assert!(parse(&["flood", "--hold", "5m"]).is_err_and(|error| error.contains("--timeout")));
    let Ok((_, Mode::Flood(flood))) = parse(&["flood", "--half-heads", "500", "--head-bytes", "307200"]) else {
        panic!("flood expected")
    };
    assert_eq!((flood.silent, flood.half_heads, flood.head_bytes), (100, 500, 307_200));
    assert_eq!(flood.hold, Duration::from_secs(10));
}

#[test]
fn durations() {
    assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
    assert!(parse_duration("-1s").is_err());
}

#[test]
fn bare_numbers_are_seconds_and_the_rest_is_humantime() {
    assert_eq!(parse_duration(" 3 "), Ok(Duration::from_secs(3)));
    assert_eq!(parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("600s"), Ok(Duration::from_secs(600)));
    assert!(parse_duration("").is_err());
    assert!(parse_duration("soon").is_err_and(|error| error.contains("soon")));
}

#[test]
fn run_ids_differ_between_modes() {
    assert_ne!(run_id("r"), run_id("c"));
    assert!(run_id("r").len() < 30);
}

#[test]
fn relay_rate_and_server_kinds() {
    let Ok((_, Mode::Relay(relay))) = parse(&["relay", "--rate", "50", "--server", "peerjs"]) else {
        panic!("relay expected")
    };
    assert_eq!(relay.rate, Some(50.0));
    let Ok((_, Mode::Relay(closed))) = parse(&["relay"]) else { panic!("relay expected") };
    assert_eq!(closed.rate, None, "closed loop by default");
    assert!(parse(&["relay", "--rate", "0"]).is_err_and(|error| error.contains("--rate")));
    for server in ["duet", "peerjs", "matchbox", "y-webrtc", "axum-floor", "tcp-floor"] {
        assert!(parse(&["connections", "--server", server]).is_ok(), "{server}");
    }
    assert!(parse(&["relay", "--server", "janus"]).is_err());
    assert!(parse(&["calls", "--server", "peerjs"]).is_ok(), "PeerJS relays offers and answers");
    for server in ["matchbox", "y-webrtc", "axum-floor", "tcp-floor"] {
        assert!(
            parse(&["calls", "--server", server]).is_err_and(|error| error.contains("no notion of calls")),
            "{server}"
        );
    }
    assert!(parse(&["relay-server", "--kind", "tcp"]).is_err(), "not a load run");
}

#[test]
fn partner_url_and_extra_pids_are_global_and_checked() {
    let cli = Cli::try_parse_from([
        "loadgen",
        "relay",
        "--partner-url",
        "ws://127.0.0.1:9091/",
        "--extra-pid",
        "node_b=7",
        "--extra-pid",
        "redis=8",
    ])
    .expect("flags");
    assert_eq!(cli.partner().expect("loopback").map(|partner| partner.address.port()), Some(9091));
    let names: Vec<&str> = cli.extra_pids.iter().map(|extra| extra.name.as_str()).collect();
    assert_eq!(names, ["node_b", "redis"]);
    let cli = Cli::try_parse_from(["loadgen", "calls", "--partner-url", "ws://10.0.0.2:9091/"]).expect("parses");
    assert!(cli.partner().is_err_and(|error| error.contains("--partner-url") && error.contains("refusing")));
    assert!(Cli::try_parse_from(["loadgen", "relay"]).expect("parses").partner().is_ok_and(|p| p.is_none()));
    assert!(Cli::try_parse_from(["loadgen", "relay", "--extra-pid", "redis"]).is_err());
}
