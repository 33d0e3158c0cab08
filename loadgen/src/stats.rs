//! Percentiles, medians, and what /proc says about a process (CPU time, resident memory).

use serde_json::{json, Value};
use std::time::Duration;

/// Clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on every Linux ABI).
pub const USER_HZ: u64 = 100;

/// Nearest-rank percentile (`p` in 0..=100) of sorted samples; `None` when there are none.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    // Nearest rank: the smallest value with at least p% of the samples at or below it.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// p50/p90/p99/max of latencies in microseconds, as milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub samples: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    /// Summarises samples (microseconds; sorted in place). `None` without samples.
    pub fn from_micros(samples: &mut [u64]) -> Option<Latency> {
        samples.sort_unstable();
        let ms = |p: f64| percentile(samples, p).map_or(0.0, |micros| micros as f64 / 1000.0);
        (!samples.is_empty()).then(|| Latency {
            samples: samples.len(),
            p50_ms: ms(50.0),
            p90_ms: ms(90.0),
            p99_ms: ms(99.0),
            max_ms: ms(100.0),
        })
    }

    pub fn to_json(self) -> Value {
        json!({"samples": self.samples, "p50_ms": round3(self.p50_ms), "p90_ms": round3(self.p90_ms), "p99_ms": round3(self.p99_ms), "max_ms": round3(self.max_ms)})
    }
}

/// Median of the values (mean of the two middle ones for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|value| value.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 0 { (sorted[middle - 1] + sorted[middle]) / 2.0 } else { sorted[middle] })
}

/// Rounds to 3 decimals for printing and JSON.
pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// utime + stime (clock ticks) from the text of /proc/PID/stat.
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may contain spaces: skip past the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// VmRSS in KiB from the text of /proc/PID/status.
pub fn parse_status_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system, all threads) a process has used so far.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = parse_stat_cpu_ticks(&stat)?;
    Some(Duration::from_millis(ticks * 1000 / USER_HZ))
}

/// Resident memory of a process, in KiB.
pub fn process_rss_kib(pid: u32) -> Option<u64> {
    parse_status_rss_kib(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// Open file descriptors of a process (its sockets included): the entries of /proc/PID/fd.
pub fn process_open_files(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// CPU time of this (the generator's) process.
pub fn own_cpu() -> Option<Duration> {
    process_cpu(std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&samples, 50.0), Some(50));
        assert_eq!(percentile(&samples, 90.0), Some(90));
        assert_eq!(percentile(&samples, 99.0), Some(99));
        assert_eq!(percentile(&samples, 100.0), Some(100));
        assert_eq!(percentile(&samples, 0.0), Some(1));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
        // 10 samples: p99 is the largest, p50 the 5th.
        let ten = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000];
        assert_eq!(percentile(&ten, 99.0), Some(1000));
        assert_eq!(percentile(&ten, 50.0), Some(50));
        assert_eq!(percentile(&ten, 90.0), Some(90));
    }

    #[test]
    fn latency_summary_sorts_and_converts_to_milliseconds() {
        let mut micros = vec![3000, 1000, 2000, 4000];
        let latency = Latency::from_micros(&mut micros).expect("samples");
        assert_eq!(latency.samples, 4);
        assert_eq!(latency.p50_ms, 2.0);
        assert_eq!(latency.p99_ms, 4.0);
        assert_eq!(latency.max_ms, 4.0);
        assert!(Latency::from_micros(&mut []).is_none());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    }

    #[test]
    fn proc_stat_and_status_parse() {
        let stat = "1234 (tokio worker (x)) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 3 0 100 1000000 500";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(325));
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
        let status = "Name:\tbackend\nVmPeak:\t  9999 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(parse_status_rss_kib(status), Some(12345));
        assert_eq!(parse_status_rss_kib("Name: x\n"), None);
    }

    #[test]
    fn own_process_is_readable() {
        assert!(own_cpu().is_some());
        assert!(process_rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
    }
}
