//! Reading the server's Prometheus `/metrics` as a page of the test sees it.

use super::{Person, STEP_TIMEOUT};
use std::time::{Duration, Instant};

/// The value of one Prometheus series (`name` or `name{label="value"}`) in `/metrics` text.
pub fn metric_value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|value| value.trim().parse().ok())
}

/// `/metrics` as the page's origin serves it, fetched by `person`'s page (same origin, so over
/// https:// in the secure scenario).
pub async fn metrics_seen_by(person: &Person) -> String {
    let text = person
        .wait_for(
            "the /metrics text",
            "return fetch('/metrics', { cache: 'no-store' }).then(r => r.ok ? r.text() : '');",
        )
        .await;
    text.as_str().unwrap_or_default().to_owned()
}

/// Polls `/metrics` until `series` has a value for which `accept` holds; returns the text.
pub async fn wait_for_metric(person: &Person, series: &str, wanted: &str, accept: impl Fn(f64) -> bool) -> String {
    let started = Instant::now();
    loop {
        let metrics = metrics_seen_by(person).await;
        if metric_value(&metrics, series).is_some_and(&accept) {
            return metrics;
        }
        assert!(
            started.elapsed() < STEP_TIMEOUT,
            "/metrics did not show {series} {wanted} within {STEP_TIMEOUT:?}; it showed:\n{}",
            metrics.lines().filter(|line| line.starts_with("duet_")).collect::<Vec<_>>().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
