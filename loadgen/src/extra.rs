//! Processes measured beside the server (`--extra-pid NAME=PID`, repeatable): a cluster's other
//! nodes and its Redis. Each one's CPU time over a window is reported under its name, in total,
//! as a share of one core, and per unit of work (message, call, connect+login).

use crate::stats::{self, median, round3};
use crate::Common;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// One extra process: the name it is reported under and its PID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraPid {
    pub name: String,
    pub pid: u32,
}

/// Parses `NAME=PID` (NAME: letters, digits, `_` and `-`) for `--extra-pid`.
pub fn parse_extra_pid(text: &str) -> Result<ExtraPid, String> {
    let (name, pid) = text.split_once('=').ok_or_else(|| format!("`{text}` is not NAME=PID (e.g. redis=1234)"))?;
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if name.is_empty() || !name.chars().all(valid) {
        return Err(format!("`{name}`: a name is letters, digits, `_` or `-`"));
    }
    let pid = pid.trim().parse().map_err(|_| format!("`{pid}` is not a process id"))?;
    Ok(ExtraPid { name: name.to_owned(), pid })
}

/// The CPU time each extra process had used at one moment (`None` where /proc could not tell).
#[derive(Debug, Clone, Default)]
pub struct CpuSnapshot(Vec<Option<Duration>>);

impl Common {
    /// CPU time of every `--extra-pid` process, now.
    pub fn extra_cpu(&self) -> CpuSnapshot {
        CpuSnapshot(self.extra_pids.iter().map(|extra| stats::process_cpu(extra.pid)).collect())
    }

    /// What each extra process used between two snapshots, as a JSON object keyed by name:
    /// `cpu_ms`, `cpu_percent` (of one core over `seconds`) and `cpu_us_per_{unit}` (over
    /// `units` of work). Empty without extra processes.
    pub fn extra_cpu_between(
        &self,
        before: &CpuSnapshot,
        after: &CpuSnapshot,
        seconds: f64,
        units: u64,
        unit: &str,
    ) -> Value {
        let mut fields = Map::new();
        for (index, extra) in self.extra_pids.iter().enumerate() {
            let used = before.0.get(index).copied().flatten().zip(after.0.get(index).copied().flatten());
            let cpu = used.map(|(start, end)| end.saturating_sub(start));
            let percent = cpu.filter(|_| seconds > 0.0).map(|cpu| round3(cpu.as_secs_f64() * 100.0 / seconds));
            let per_unit = cpu.filter(|_| units > 0).map(|cpu| round3(cpu.as_secs_f64() * 1e6 / units as f64));
            fields.insert(
                extra.name.clone(),
                json!({
                    "pid": extra.pid,
                    "cpu_ms": cpu.map(|cpu| round3(cpu.as_secs_f64() * 1e3)),
                    "cpu_percent": percent,
                    format!("cpu_us_per_{unit}"): per_unit,
                }),
            );
        }
        Value::Object(fields)
    }
}

/// The median of each number of each process over several `extra_cpu_between` objects (one per
/// window or run); non-numbers (the PID) are taken from the first.
pub fn median_of(objects: &[Value]) -> Value {
    let mut result = Map::new();
    let Some(Value::Object(first)) = objects.first() else { return Value::Object(result) };
    for (name, fields) in first {
        let mut medians = Map::new();
        for (key, value) in fields.as_object().into_iter().flatten() {
            let values: Vec<f64> =
                objects.iter().filter_map(|object| object.pointer(&format!("/{name}/{key}"))?.as_f64()).collect();
            let merged = if key == "pid" { value.clone() } else { json!(median(&values).map(round3)) };
            medians.insert(key.clone(), merged);
        }
        result.insert(name.clone(), Value::Object(medians));
    }
    Value::Object(result)
}

/// One line per extra process for the human-readable summary (empty without any).
pub fn summary_lines(extra: Option<&Value>, unit: &str) -> String {
    let Some(Value::Object(fields)) = extra else { return String::new() };
    fields
        .iter()
        .map(|(name, value)| {
            format!(
                "\n  {name} (pid {}): CPU {} us/{unit} ({}% of a core)",
                value["pid"],
                value[format!("cpu_us_per_{unit}")],
                value["cpu_percent"]
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;
    use std::sync::Arc;

    #[test]
    fn extra_pids_parse_as_name_equals_pid() {
        assert_eq!(parse_extra_pid("redis=42"), Ok(ExtraPid { name: "redis".to_owned(), pid: 42 }));
        assert_eq!(parse_extra_pid("node_b=7").map(|extra| extra.pid), Ok(7));
        assert!(parse_extra_pid("redis").is_err());
        assert!(parse_extra_pid("=42").is_err());
        assert!(parse_extra_pid("re dis=42").is_err());
        assert!(parse_extra_pid("redis=x").is_err());
    }

    fn common_with(extra_pids: Vec<ExtraPid>) -> Common {
        Common {
            target: Arc::new(Target::parse("ws://127.0.0.1:9/").expect("target")),
            partner: None,
            server: crate::adapters::ServerKind::Duet,
            server_pid: None,
            extra_pids: extra_pids.into(),
            io_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn cpu_between_snapshots_is_reported_per_name_and_per_unit() {
        let common = common_with(vec![
            ExtraPid { name: "redis".to_owned(), pid: 1 },
            ExtraPid { name: "gone".to_owned(), pid: 2 },
        ]);
        let before = CpuSnapshot(vec![Some(Duration::from_millis(100)), None]);
        let after = CpuSnapshot(vec![Some(Duration::from_millis(600)), None]);
        let report = common.extra_cpu_between(&before, &after, 2.0, 1000, "message");
        assert_eq!(report["redis"]["cpu_ms"], 500.0);
        assert_eq!(report["redis"]["cpu_percent"], 25.0);
        assert_eq!(report["redis"]["cpu_us_per_message"], 500.0);
        assert_eq!(report["gone"]["cpu_ms"], Value::Null);
        let medians = median_of(&[
            report.clone(),
            common.extra_cpu_between(
                &before,
                &CpuSnapshot(vec![Some(Duration::from_millis(300)), None]),
                2.0,
                1000,
                "message",
            ),
            report,
        ]);
        assert_eq!(
            (medians["redis"]["cpu_us_per_message"].as_f64(), medians["redis"]["pid"].as_u64()),
            (Some(500.0), Some(1))
        );
        assert!(summary_lines(Some(&medians), "message").contains("redis (pid 1): CPU 500.0 us/message"));
        assert_eq!(common_with(Vec::new()).extra_cpu_between(&before, &after, 1.0, 1, "call"), json!({}));
    }

    #[test]
    fn this_process_can_be_measured_as_an_extra_one() {
        let common = common_with(vec![ExtraPid { name: "self".to_owned(), pid: std::process::id() }]);
        assert!(common.extra_cpu().0[0].is_some());
    }
}
