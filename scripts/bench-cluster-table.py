#!/usr/bin/env python3
"""Writes scripts/bench-cluster's table into BENCHMARKS.md between <!-- clusterbench:begin -->
and <!-- clusterbench:end --> (the rest of the file is kept; without the markers the section is
appended). Input: the JSON lines scripts/bench-cluster collected (one per set-up and workload).
Re-run by hand to re-render from target/bench/cluster-results.jsonl."""
import json
import sys

(results_path, md_path, started, start_load, end_load, nproc, cpu, kernel, commit, command, ours_log, ours_flags,
 redis_version) = sys.argv[1:]
rows = [json.loads(line) for line in open(results_path) if line.strip()]
by = {(r["setup"], r["workload"]): r for r in rows}
SETUPS = ("memory", "redis1", "redis2")


def get(setup, workload, *path):
    value = by.get((setup, workload), {}).get("report", {})
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def total(*values):
    """Sum of the parts that were measured; None when the first (the node itself) was not."""
    if values[0] is None:
        return None
    return sum(value for value in values if value is not None)


def fmt(value, digits=1):
    if value is None:
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def ratio(numerator, denominator):
    if numerator is None or denominator is None or numerator <= 0 or denominator <= 0:
        return ""
    return f"{numerator / denominator:.2f}x"


def load(workload):
    parts = []
    for setup in SETUPS:
        r = by.get((setup, workload))
        parts.append(f"{r['load_before']:.1f}/{r['load_after']:.1f}" if r else "-")
    return " · ".join(parts)


def problems(workload):
    notes = []
    for setup in SETUPS:
        r = by.get((setup, workload))
        if r is None:
            notes.append(f"{setup}: not run")
            continue
        if not r["servers_survived"]:
            notes.append(f"{setup}: a server died")
        if r["exit_status"] != 0:
            notes.append(f"{setup}: loadgen failed")
        errors = r["report"].get("errors") or r["report"].get("failed")
        if errors:
            notes.append(f"{setup}: {errors} errors")
    return "; ".join(notes)


table = []


def row(label, metric, values, digits=1):
    memory, one, two = values
    cells = [label, metric, fmt(memory, digits), fmt(one, digits), fmt(two, digits), ratio(one, memory), ratio(two, one)]
    table.append("| " + " | ".join(cells) + " |")


def per_setup(workload, unit_path, extra_unit):
    """Rows of CPU per unit of work: node A, node B, both nodes, redis-server, all of them."""
    node_a = [get(s, workload, *unit_path) for s in SETUPS]
    prefix = unit_path[:-1]
    node_b = [get(s, workload, *prefix, "extra", "node_b", f"cpu_us_per_{extra_unit}") for s in SETUPS]
    redis = [get(s, workload, *prefix, "extra", "redis", f"cpu_us_per_{extra_unit}") for s in SETUPS]
    nodes = [total(a, b) for a, b in zip(node_a, node_b)]
    everything = [total(n, r) for n, r in zip(nodes, redis)]
    return node_a, node_b, nodes, redis, everything


# Relay: P pairs ping-pong candidates; two nodes: caller on A, callee on B.
W = "relay"
pairs = next((get(s, W, "pairs") for s in SETUPS if get(s, W, "pairs")), "?")
label = f"relay, {pairs} pairs, 257 B candidates"
row(label, "relayed messages/s", [get(s, W, "median", "messages_per_sec") for s in SETUPS], 0)
row(label, "round trip p50 (ms)", [get(s, W, "median", "rtt_p50_ms") for s in SETUPS], 2)
row(label, "round trip p99 (ms)", [get(s, W, "median", "rtt_p99_ms") for s in SETUPS], 2)
node_a, node_b, nodes, redis, everything = per_setup(W, ("median", "server_cpu_us_per_message"), "message")
row(label, "node A CPU per relayed message (µs)", node_a, 2)
row(label, "node B CPU per relayed message (µs)", node_b, 2)
row(label, "nodes' CPU per relayed message, A + B (µs)", nodes, 2)
row(label, "redis-server CPU per relayed message (µs)", redis, 2)
row(label, "all servers' CPU per relayed message (µs)", everything, 2)
busy = [total(get(s, W, "median", "server_cpu_percent"), get(s, W, "median", "extra", "node_b", "cpu_percent"),
              get(s, W, "median", "extra", "redis", "cpu_percent")) for s in SETUPS]
row(label, "core 0 busy: all servers (% of one core)", busy)
row(label, "generator CPU (% of one core)", [get(s, W, "median", "generator_cpu_percent") for s in SETUPS])

# Sign-ins: connect + login, rounds of N then disconnect-all; two nodes: every second on B.
W = "signins"
count = next((get(s, W, "count") for s in SETUPS if get(s, W, "count")), "?")
rounds = next((get(s, W, "rounds") for s in SETUPS if get(s, W, "rounds")), "?")
label = f"sign-ins (connect + login), {count:,} × {rounds} rounds, 200 in flight" if isinstance(count, int) else "sign-ins"
row(label, "sign-ins per second (median of rounds)", [get(s, W, "connects_per_sec") for s in SETUPS], 0)
node_a, node_b, nodes, redis, everything = per_setup(W, ("server_cpu_us_per_connect",), "connect")
row(label, "node A CPU per sign-in (µs)", node_a)
row(label, "node B CPU per sign-in (µs)", node_b)
row(label, "redis-server CPU per sign-in (µs)", redis)
row(label, "all servers' CPU per sign-in (µs)", everything)

# Call set-up: K in flight; two nodes: caller on A, callee on B.
W = "calls"
in_flight = next((get(s, W, "in_flight") for s in SETUPS if get(s, W, "in_flight")), "?")
label = f"call set-up, {in_flight} in flight"
row(label, "calls/s", [get(s, W, "median", "calls_per_sec") for s in SETUPS], 0)
row(label, "per call p50 (ms)", [get(s, W, "median", "p50_ms") for s in SETUPS], 2)
row(label, "per call p99 (ms)", [get(s, W, "median", "p99_ms") for s in SETUPS], 2)
node_a, node_b, nodes, redis, everything = per_setup(W, ("median", "server_cpu_us_per_call"), "call")
row(label, "node A CPU per call (µs)", node_a, 0)
row(label, "node B CPU per call (µs)", node_b, 0)
row(label, "redis-server CPU per call (µs)", redis, 0)
row(label, "all servers' CPU per call (µs)", everything, 0)

trouble = [f"{w}: {p}" for w in ("relay", "signins", "calls") if (p := problems(w))]
smoke = "BENCH_" in command
lines = [
    "<!-- clusterbench:begin -->",
    "## Cluster mode: one node in memory, one node on Redis, two nodes on Redis",
    "",
    f"Generated by `scripts/bench-cluster` (also run at the end of `scripts/bench`) on {started}. Command: `{command}`.",
    "",
]
busy_machine = float(start_load.split()[0]) > float(nproc) or any(
    r["load_before"] > float(nproc) or r["load_after"] > float(nproc) for r in rows)
if busy_machine and not smoke:
    lines += [
        f"**A shared machine**: the 1-minute load average went above {nproc} (the core count) during this run, so "
        "other jobs took CPU from the pinned processes and rates and latencies are noisy; CPU per unit of work is "
        "the steadier figure. Re-run `scripts/bench-cluster` on a quiet machine to compare.",
        "",
    ]
if smoke:
    lines += [
        "**A smoke run** (counts and windows shortened by the environment variables in the command, on a machine "
        "shared with other jobs): it shows that the machinery works, not what the server costs. Re-run "
        "`scripts/bench-cluster` on a quiet machine for figures.",
        "",
    ]
lines += [
    f"Machine: {nproc} cores ({cpu}), Linux {kernel}. Every server process is pinned to core 0 (`taskset -c 0`): "
    f"the node or both nodes and `redis-server` {redis_version} (Debian's, on a free loopback port, no persistence); "
    "the load generator (`loadgen`, one thread) to core 1. Fresh processes and a fresh Redis for every workload. "
    f"Nodes: `backend {ours_flags}` at {commit}, `RUST_LOG={ours_log}`, one resume secret; "
    "**one node (memory)**: no `--redis-url` (the default single process); **one node (Redis)**: `--redis-url`, "
    "both parties on it; **two nodes (Redis)**: two nodes on one Redis, the second party of every relay pair and "
    "call on node B (`loadgen --partner-url`), every second sign-in on node B. "
    f"Load average (1/5/15 min) at start {start_load}, at end {end_load}; per workload (memory · Redis · two nodes, "
    "1-minute before/after): " + "; ".join(f"{w} {load(w)}" for w in ("relay", "signins", "calls")) + ".",
    "",
    "| workload | metric | one node (memory) | one node (Redis) | two nodes (Redis) | Redis ÷ memory | two nodes ÷ one node |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    *table,
    "",
    "How to read it: the ratio columns divide the figures as they are (above 1: more messages/s, or more "
    "latency or CPU). CPU time is utime+stime from /proc/PID/stat (10 ms ticks) over each measurement window "
    "(relay: medians of the windows after a warm-up; sign-ins: the connect phase of each round, median of the "
    "rounds, releasing the names at disconnect is not counted; calls: whole runs, median of the runs), divided by "
    "all the work of the window, so node A and node B rows add up to the nodes' cost of one message, sign-in or "
    "call. In the relay, a message on two nodes is read by the sender's node, published to the receiver's node "
    "through Redis and written there: the per-message costs show that extra hop, and since every server "
    "shares core 0, messages/s falls when the servers together saturate it (the \"core 0 busy\" row). "
    "On one node with Redis a relayed message does not touch Redis (the session keeps its call's peer), so "
    "redis-server's relay row stays near 0 there. "
    "Sign-ins on Redis claim a lease per name (one script, one round trip); calls add the call scripts.",
]
if trouble:
    lines += ["", "Problems in this run: " + "; ".join(trouble) + "."]
lines += ["", "Raw JSON (one line per set-up and workload): `target/bench/cluster-results.jsonl`.", "<!-- clusterbench:end -->"]

begin, end = "<!-- clusterbench:begin -->", "<!-- clusterbench:end -->"
try:
    text = open(md_path).read()
except FileNotFoundError:
    text = "# Benchmarks\n\n"
section = "\n".join(lines)
if begin in text and end in text and text.index(begin) < text.index(end):
    head, rest = text.split(begin, 1)
    text = head + section + rest.split(end, 1)[1]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(md_path, "w").write(text)
print(section)
