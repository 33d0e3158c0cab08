//! Only tests live in this crate: tests/browser_call.rs (sign-in, calls and every unhappy
//! ending), tests/secure_and_relayed_calls.rs (https:// + wss:// with the self-signed mode, and
//! a relay-only call through coturn, with /metrics checked during a call); tests/common/ holds
//! the harness they share: `processes` (chromedriver, the in-process server, coturn), `person`
//! (one Chromium per person, string-only DOM probes, a full call), `certificates`, `devtools`
//! and `metrics` (for the production set-ups).
