#!/usr/bin/env python3
"""Writes the web app's section of BENCHMARKS.md (between <!-- webbench:begin --> and
<!-- webbench:end -->) from the outputs of scripts/bench-webapp: the bench program's JSON
(target/bench/webapp.json) and the bundle sizes (target/bench/webapp-sizes.json). Hand-written
notes after <!-- webbench:notes --> survive a re-run; the rest of the file is kept. On the first
run the section replaces the old "Browser call set-up" section (whose measurement it repeats)."""

import json
import os
import statistics
import sys

(report_path, sizes_path, md_path, started, start_load, end_load, nproc, cpu, kernel, chromium, built_from,
 command, calls, loads) = sys.argv[1:]
report = json.load(open(report_path))
sizes = json.load(open(sizes_path))

WASM_GZIP_TARGET = 150_000  # bytes: "under 150 KB gzip" (issue 15)
CALL_RATIO_TARGET = 1.2  # Accept to first remote frame within 1.2x of the minimal page


def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def ms(value):
    return "n/a" if value is None else f"{value:,.0f}"


def met(ok):
    return "n/a" if ok is None else ("met" if ok else "**missed**")


# --- Bundle -----------------------------------------------------------------------------------
bundle = ["| file | raw (bytes) | gzip -9 (bytes) | brotli 11 (bytes) |", "| --- | ---: | ---: | ---: |"]
for row in sizes:
    names = ", ".join(f"`{name}`" for name in row["files"]) or "(none)"
    bundle.append(f"| {row['kind']}: {names} | {row['raw']:,} | {row['gzip']:,} | {row['brotli']:,} |")
total = {key: sum(row[key] for row in sizes) for key in ("raw", "gzip", "brotli")}
bundle.append(f"| **total, first page load** | {total['raw']:,} | {total['gzip']:,} | {total['brotli']:,} |")
wasm = next((row for row in sizes if row["kind"] == "wasm" and row["files"]), None)
wasm_ok = None if wasm is None else wasm["gzip"] < WASM_GZIP_TARGET
wasm_line = (
    f"Target: the app's wasm under 150 KB gzip (150,000 bytes): {met(wasm_ok)}"
    + ("" if wasm is None else f" ({wasm['gzip']:,} bytes, {wasm['gzip'] / 1024:,.1f} KiB).")
)

# --- Timings ----------------------------------------------------------------------------------
loads_json = report.get("page_loads", {})
calls_json = report.get("calls", {})


def load_median(page, visit, key="usable_ms"):
    return median([(entry or {}).get(key) for entry in loads_json.get(page, {}).get(visit, [])])


def call_values(page, side):
    return [call.get(side) for call in calls_json.get(page, [])]


timings = ["| measure | app (ms) | minimal page (ms) | app / minimal | target | verdict |",
           "| --- | ---: | ---: | ---: | --- | --- |"]
verdicts = []


def row(label, app, minimal, target=None):
    ratio = None if app is None or minimal is None or minimal <= 0 else app / minimal
    ok = None if target is None or ratio is None else ratio <= target
    if target is not None:
        verdicts.append(ok)
    timings.append(
        f"| {label} | {ms(app)} | {ms(minimal)} | {'n/a' if ratio is None else f'{ratio:.2f}x'} | "
        f"{'' if target is None else f'≤ {target}x'} | {met(ok) if target is not None else ''} |"
    )


row("navigation → usable sign-in form, first visit (cold cache)", load_median("app", "cold"), load_median("minimal", "cold"))
row("navigation → usable sign-in form, second visit (warm cache)", load_median("app", "warm"), load_median("minimal", "warm"))
row("first visit: document received", load_median("app", "cold", "document_received_ms"),
    load_median("minimal", "cold", "document_received_ms"))
row("first visit: every file received", load_median("app", "cold", "files_received_ms"),
    load_median("minimal", "cold", "files_received_ms"))
row("Accept → first remote frame, caller", median(call_values("app", "caller_ms")),
    median(call_values("minimal", "caller_ms")), CALL_RATIO_TARGET)
row("Accept → first remote frame, callee", median(call_values("app", "callee_ms")),
    median(call_values("minimal", "callee_ms")), CALL_RATIO_TARGET)
calls_ok = None if None in verdicts or not verdicts else all(verdicts)


STEPS = [
    ("peer_connection_created", "RTCPeerConnection created"),
    ("createOffer_done", "offer created"),
    ("setRemoteDescription_called", "setRemoteDescription called"),
    ("setRemoteDescription_done", "remote description applied"),
    ("createAnswer_done", "answer created"),
    ("setLocalDescription_done", "local description set"),
    ("answer_sent", "`answer` sent on the WebSocket"),
    ("answer_received", "`answer` received on the WebSocket"),
    ("ice_connected", "ICE connected"),
    ("connected", "connection `connected` (DTLS done)"),
    ("remote_track", "remote track (`track` event)"),
]
steps = ["| step (median ms after Accept; negative: before) | app caller | minimal caller | app callee | minimal callee |",
         "| --- | ---: | ---: | ---: | ---: |"]
for key, label in STEPS:
    cells = [median([(call.get(f"{side}_steps_ms") or {}).get(key) for call in calls_json.get(page, [])])
             for side in ("caller", "callee") for page in ("app", "minimal")]
    if any(cell is not None for cell in cells):
        steps.append(f"| {label} | " + " | ".join(ms(cell) for cell in cells) + " |")
steps.append("| first remote frame | " + " | ".join(
    ms(median(call_values(page, f"{side}_ms"))) for side in ("caller", "callee") for page in ("app", "minimal")) + " |")


def listing(page):
    return "; ".join(f"{ms(call.get('caller_ms'))}/{ms(call.get('callee_ms'))}" for call in calls_json.get(page, []))


minimal_js = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "bench", "minimal-call", "minimal-call.js")
minimal_js_lines = sum(1 for _ in open(minimal_js))
smoke = int(calls) < 5 or int(loads) < 10
# A 1-minute load average above the core count means other jobs competed for the CPU.
busiest = max(float(start_load.split()[0]), float(end_load.split()[0]))
busy = busiest > int(nproc)
lines = [
    "<!-- webbench:begin -->",
    "## Web app: bundle size, page load and call set-up against a minimal page",
    "",
    f"Generated by `scripts/bench-webapp` on {started}. Command: `{command}`."
    + (" **Smoke run** (fewer calls or page loads than the defaults): the figures prove the"
       " machinery, not the app." if smoke else "")
    + (f" **Busy machine** (1-minute load average up to {busiest:.1f} on {nproc} cores): other jobs shared the"
       " CPU, so the times are noisy; re-run on a quiet machine." if busy else ""),
    "",
    f"Machine: {nproc} cores ({cpu}), Linux {kernel}, {chromium} (headless, fake camera 640x480), "
    f"loopback-only network namespace: {'yes' if report.get('loopback_only') else '**no**'}. App built from "
    f"{built_from}. Load average (1/5/15 min) at start {start_load}, at end {end_load}: other jobs shared the "
    "machine when it is well above 1.",
    "",
    "### Bundle (`dist/`, release build by `scripts/build-frontend`)",
    "",
    *bundle,
    "",
    wasm_line,
    "",
    "### Page load and call set-up: the app vs a minimal page",
    "",
    f"The minimal page (`e2e/bench/minimal-call/`: one HTML file and {minimal_js_lines} lines of plain "
    "JavaScript, no framework) does the same call over our signaling protocol: login, offer with trickled candidates, "
    "the callee's RTCPeerConnection created on **Accept**, the offer and queued candidates applied, answer; "
    "camera and microphone opened after sign-in; the same negotiated data channel. Both pages are served by "
    "our backend (in-process, release build, default configuration) on 127.0.0.1, driven by "
    "`e2e/examples/webapp-bench` through chromedriver, alternating app and minimal page.",
    "",
    f"- Page loads: {report.get('loads_per_page')} per page, each in a fresh Chromium profile. Time from "
    "navigation start to the sign-in form being usable (an input labelled **Your name** and a **Sign in** "
    "button, both in the document and enabled), seen by a MutationObserver installed before any page script; "
    "first visit (nothing cached), then a second navigation in the same browser. Medians.",
    f"- Calls: {report.get('calls_per_page')} per page, each between two fresh browsers signed in with their "
    "camera preview playing. Time from the callee's **Accept** click (its `click` event) to the first remote "
    "video frame on each side (`requestVideoFrameCallback`; `performance.timeOrigin + performance.now()` in "
    "each page, so both browsers share one clock): creating the callee's connection, applying the offer and "
    "queued candidates, answering, ICE, DTLS and the first decoded frame. Medians.",
    "",
    *timings,
    "",
    f"Bytes transferred on the first visit (resource timing, headers included; the app's files go out "
    f"precompressed, brotli when the browser accepts it): app {ms(load_median('app', 'cold', 'transferred_bytes'))}, minimal page "
    f"{ms(load_median('minimal', 'cold', 'transferred_bytes'))}.",
    "",
    f"Target: Accept to first remote frame within 1.2x of the minimal page, both sides: {met(calls_ok)}.",
    "",
    "Where the time goes: each step's time in each page, recorded by a pre-load script that wraps the global "
    "`RTCPeerConnection` and `WebSocket` in both pages alike (`e2e/examples/webapp-bench/calls.rs`).",
    "",
    *steps,
    "",
    f"Each call, caller/callee (ms): app {listing('app') or 'none'}; minimal page {listing('minimal') or 'none'}.",
    "",
    "Raw JSON: `target/bench/webapp.json` (every load and call), `target/bench/webapp-sizes.json`.",
]

try:
    text = open(md_path).read()
except FileNotFoundError:
    text = "# Benchmarks\n\n"
begin, notes, end = "<!-- webbench:begin -->", "<!-- webbench:notes -->", "<!-- webbench:end -->"
old_heading = "## Browser call set-up: Accept to first remote frame"
if begin in text and end in text and text.index(begin) < text.index(end):
    head, rest = text.split(begin, 1)
    old, tail = rest.split(end, 1)
    kept = notes + old.split(notes, 1)[1] if notes in old else notes + "\n"
    text = head + "\n".join(lines) + "\n" + kept + end + tail
else:
    section = "\n".join(lines) + "\n" + notes + "\n" + end + "\n"
    if old_heading in text:
        # The old section runs to the next "## " heading; the new one takes its place.
        start = text.index(old_heading)
        following = text.find("\n## ", start + len(old_heading))
        stop = len(text) if following < 0 else following + 1
        text = text[:start] + section + "\n" + text[stop:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
open(md_path, "w").write(text)
print("\n".join(lines))
