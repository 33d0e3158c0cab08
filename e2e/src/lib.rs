//! Only tests live in this crate: tests/browser_call.rs (sign-in, calls and every unhappy
//! ending), tests/secure_and_relayed_calls.rs (https:// + wss:// with the self-signed mode, and
//! a relay-only call through coturn, with /metrics checked during a call); tests/common/ holds
//! the harness they share.
