//! Rate-limited log lines for refusals: a client (or many) sending nothing but bad requests must
//! not fill the disk (a 5-minute abuse run wrote 45 MB of "request refused"). Every refusal is
//! still counted in the metrics; only the log lines are limited.
//!
//! Per reason, at most [`REFUSAL_LOG_LINES_PER_SECOND`] lines a second are written; the rest
//! are counted, and the first line of a later second says how many were suppressed.

use dashmap::DashMap;
use std::time::Duration;
use tokio::time::Instant;

/// Refusal log lines written per second and reason, at most.
pub const REFUSAL_LOG_LINES_PER_SECOND: u32 = 10;

/// Whether to write one log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDecision {
    /// Write it; `suppressed` lines of this reason were left out since the last one written.
    Write { suppressed: u64 },
    /// Leave it out (it is counted for the next line written).
    Suppress,
}

/// One reason's current window.
#[derive(Debug)]
struct Window {
    started: Instant,
    written: u32,
    suppressed: u64,
}

/// Limits log lines per reason (a small, fixed set of `&'static str` labels).
#[derive(Debug)]
pub struct LogLimiter {
    per_window: u32,
    window: Duration,
    reasons: DashMap<&'static str, Window>,
}

impl Default for LogLimiter {
    fn default() -> LogLimiter {
        LogLimiter::new(REFUSAL_LOG_LINES_PER_SECOND, Duration::from_secs(1))
    }
}

impl LogLimiter {
    /// At most `per_window` lines per `window` for each reason.
    pub fn new(per_window: u32, window: Duration) -> LogLimiter {
        LogLimiter { per_window, window, reasons: DashMap::new() }
    }

    /// Decides about one line for `reason`, now.
    pub fn check(&self, reason: &'static str) -> LogDecision {
        let now = Instant::now();
        let mut window =
            self.reasons.entry(reason).or_insert_with(|| Window { started: now, written: 0, suppressed: 0 });
        if now.duration_since(window.started) >= self.window {
            window.started = now;
            window.written = 0;
        }
        if window.written >= self.per_window {
            window.suppressed += 1;
            return LogDecision::Suppress;
        }
        window.written += 1;
        LogDecision::Write { suppressed: std::mem::take(&mut window.suppressed) }
    }

    /// Whether to write one line for `reason` now; when lines of it were left out since the last
    /// one, a line saying how many is written first. The one place refusal call sites ask.
    pub fn admits(&self, reason: &'static str) -> bool {
        match self.check(reason) {
            LogDecision::Write { suppressed: 0 } => true,
            LogDecision::Write { suppressed } => {
                tracing::info!(reason, suppressed, "{suppressed} refusals ({reason}) were not logged");
                true
            }
            LogDecision::Suppress => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn refusal_log_lines_are_limited_per_reason_and_report_what_was_suppressed() {
        let limiter = LogLimiter::new(3, Duration::from_secs(1));
        for _ in 0..3 {
            assert_eq!(limiter.check("invalid_json"), LogDecision::Write { suppressed: 0 });
        }
        for _ in 0..1000 {
            assert_eq!(limiter.check("invalid_json"), LogDecision::Suppress);
        }
        assert_eq!(limiter.check("rate_limited"), LogDecision::Write { suppressed: 0 }, "reasons are apart");
        tokio::time::advance(Duration::from_millis(999)).await;
        assert_eq!(limiter.check("invalid_json"), LogDecision::Suppress, "still the same second");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(limiter.check("invalid_json"), LogDecision::Write { suppressed: 1001 }, "the count comes once");
        assert_eq!(limiter.check("invalid_json"), LogDecision::Write { suppressed: 0 });
    }
}
