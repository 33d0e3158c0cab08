//! Only tests live in this crate: see tests/browser_call.rs.
