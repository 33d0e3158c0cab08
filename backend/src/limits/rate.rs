//! The per-connection rate limit: token buckets of frames and of payload bytes, and a window of
//! refusals after which the connection is closed (1008).

use std::time::Duration;
use tokio::time::Instant;

/// A token bucket: `burst` at once, refilled at `per_second`. A cost larger than what is left
/// is still allowed while anything is left (the balance goes below zero and refills), so one
/// large frame is never refused for its size alone.
#[derive(Debug)]
struct TokenBucket {
    tokens: f64,
    burst: f64,
    per_second: f64,
}

impl TokenBucket {
    fn new(per_second: u64, burst: u64) -> TokenBucket {
        let burst = burst.max(1) as f64;
        TokenBucket { tokens: burst, burst, per_second: per_second as f64 }
    }

    fn disabled(&self) -> bool {
        self.per_second == 0.0
    }

    fn refill(&mut self, elapsed_seconds: f64) {
        self.tokens = (self.tokens + elapsed_seconds * self.per_second).min(self.burst);
    }
}

/// The per-connection rate limit: frames of every kind (data, continuation, ping, pong) and
/// their payload bytes, each a token bucket; and a window of refusals that closes the connection.
#[derive(Debug)]
pub struct RateLimiter {
    frames: TokenBucket,
    bytes: TokenBucket,
    last_refill: Instant,
    window_started: Instant,
    refused_in_window: u32,
}

/// What the rate limiter says about one incoming frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allow,
    /// Refused: dropped (a data message gets an `error` reply, once per streak).
    Refuse,
    /// More than [`MAX_REFUSALS_PER_WINDOW`] refusals within [`REFUSAL_WINDOW`]: the connection
    /// is closed (1008).
    Disconnect,
}

/// Refusals within one [`REFUSAL_WINDOW`] that a connection may collect; one more closes it.
pub const MAX_REFUSALS_PER_WINDOW: u32 = 50;

/// The window in which refusals are counted (fixed windows, one after the other). A client
/// refused now and then is slowed down; one refused more than 5 times a second is closed,
/// whatever rate it sends at.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(10);

impl RateLimiter {
    /// `frames_per_second` frames (burst `frame_burst`) and `bytes_per_second` payload bytes
    /// (burst `byte_burst`); a rate of 0 disables that limit.
    pub fn new(frames_per_second: u32, frame_burst: u32, bytes_per_second: u64, byte_burst: u64) -> RateLimiter {
        let now = Instant::now();
        RateLimiter {
            frames: TokenBucket::new(u64::from(frames_per_second), u64::from(frame_burst)),
            bytes: TokenBucket::new(bytes_per_second, byte_burst),
            last_refill: now,
            window_started: now,
            refused_in_window: 0,
        }
    }

    /// The limiter for one connection under `config` (`--rate-limit 0` turns both limits off).
    pub fn for_connection(config: &crate::Config) -> RateLimiter {
        let bytes_per_second = if config.rate_limit == 0 { 0 } else { config.rate_limit_bytes };
        RateLimiter::new(config.rate_limit, config.rate_burst, bytes_per_second, config.rate_burst_bytes)
    }

    /// Decides about one frame carrying `payload_bytes`.
    pub fn check(&mut self, payload_bytes: u64) -> RateDecision {
        if self.frames.disabled() && self.bytes.disabled() {
            return RateDecision::Allow;
        }
        let now = Instant::now();
        let elapsed = now.duration_since(self.last_refill).as_secs_f64();
        self.last_refill = now;
        self.frames.refill(elapsed);
        self.bytes.refill(elapsed);
        let frame_allowed = self.frames.disabled() || self.frames.tokens >= 1.0;
        let bytes_allowed = self.bytes.disabled() || self.bytes.tokens > 0.0;
        if frame_allowed && bytes_allowed {
            self.frames.tokens -= 1.0;
            self.bytes.tokens -= payload_bytes as f64;
            return RateDecision::Allow;
        }
        if now.duration_since(self.window_started) >= REFUSAL_WINDOW {
            self.window_started = now;
            self.refused_in_window = 0;
        }
        self.refused_in_window += 1;
        if self.refused_in_window > MAX_REFUSALS_PER_WINDOW {
            RateDecision::Disconnect
        } else {
            RateDecision::Refuse
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rate_limiter_allows_bursts_refills_and_disconnects_after_a_window_of_refusals() {
        let mut limiter = RateLimiter::new(10, 5, 0, 0);
        for _ in 0..5 {
            assert_eq!(limiter.check(0), RateDecision::Allow);
        }
        assert_eq!(limiter.check(0), RateDecision::Refuse);
        tokio::time::advance(Duration::from_millis(200)).await;
        assert_eq!(limiter.check(0), RateDecision::Allow, "two tokens refilled");
        assert_eq!(limiter.check(0), RateDecision::Allow);
        // Refusals interleaved with allowed frames still add up within the window.
        let mut refused = 1;
        loop {
            tokio::time::advance(Duration::from_millis(50)).await;
            let decision = limiter.check(0);
            if decision == RateDecision::Disconnect {
                break;
            }
            refused += u32::from(decision == RateDecision::Refuse);
            assert!(refused <= MAX_REFUSALS_PER_WINDOW, "never disconnects");
        }
        assert_eq!(refused, MAX_REFUSALS_PER_WINDOW);
        assert_eq!(RateLimiter::new(0, 0, 0, 0).check(1 << 20), RateDecision::Allow, "0 disables the limits");
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_spread_over_more_than_a_window_do_not_disconnect() {
        let mut limiter = RateLimiter::new(1, 1, 0, 0);
        for _ in 0..200 {
            let decision = limiter.check(0);
            assert_ne!(decision, RateDecision::Disconnect);
            tokio::time::advance(REFUSAL_WINDOW / 40).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn payload_bytes_are_limited_too_and_one_large_frame_is_never_refused_for_its_size() {
        let mut limiter = RateLimiter::new(0, 0, 1000, 100);
        assert_eq!(limiter.check(5000), RateDecision::Allow, "larger than the burst, but tokens were left");
        assert_eq!(limiter.check(0), RateDecision::Refuse, "in debt");
        tokio::time::advance(Duration::from_millis(4900)).await;
        assert_eq!(limiter.check(0), RateDecision::Refuse, "still in debt after 4.9 s");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(limiter.check(10), RateDecision::Allow);
    }
}
