//! What a scenario reports: named figures, printed as a table for people
//! and as one JSON line (prefixed `RESULT `) for machines and BENCHMARKS.md.

use hdrhistogram::Histogram;
use serde_json::{Map, Value, json};

/// Latencies are recorded in microseconds, up to a minute.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant histogram bounds are valid")
}

/// Records `elapsed` (saturating at the histogram's bound).
pub fn record(histogram: &mut Histogram<u64>, elapsed: std::time::Duration) {
    let micros = u64::try_from(elapsed.as_micros())
        .unwrap_or(u64::MAX)
        .clamp(1, 60_000_000);
    histogram.saturating_record(micros);
}

/// p50/p95/p99/max in milliseconds.
pub fn latency(histogram: &Histogram<u64>) -> Value {
    let ms = |micros: u64| round3(micros as f64 / 1000.0);
    json!({
        "count": histogram.len(),
        "p50_ms": ms(histogram.value_at_quantile(0.50)),
        "p95_ms": ms(histogram.value_at_quantile(0.95)),
        "p99_ms": ms(histogram.value_at_quantile(0.99)),
        "max_ms": ms(histogram.max()),
    })
}

/// One scenario's figures, in the order they were added.
pub struct Report {
    scenario: String,
    figures: Map<String, Value>,
    /// Correctness failures (a lost or duplicated message): the run fails.
    pub failures: Vec<String>,
}

impl Report {
    pub fn new(scenario: &str) -> Self {
        Report {
            scenario: scenario.to_owned(),
            figures: Map::new(),
            failures: Vec::new(),
        }
    }

    pub fn set(&mut self, name: &str, value: impl Into<Value>) {
        self.figures.insert(name.to_owned(), value.into());
    }

    pub fn fail(&mut self, why: String) {
        self.failures.push(why);
    }

    /// Prints the table and the JSON line.
    pub fn print(&self) {
        println!("\n== {} ==", self.scenario);
        for (name, value) in &self.figures {
            match value {
                Value::Object(inner) => {
                    let parts: Vec<String> = inner
                        .iter()
                        .map(|(key, value)| format!("{key}={}", plain(value)))
                        .collect();
                    println!("  {name:<28} {}", parts.join("  "));
                }
                other => println!("  {name:<28} {}", plain(other)),
            }
        }
        if self.failures.is_empty() {
            println!("  {:<28} ok", "correctness");
        }
        for failure in &self.failures {
            println!("  !!! FAILED: {failure}");
        }
        let line = json!({
            "scenario": self.scenario,
            "machine": crate::procfs::machine(),
            "figures": self.figures,
            "failures": self.failures,
        });
        println!("RESULT {line}");
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => match number.as_f64() {
            Some(float) if number.is_f64() => format!("{float:.3}"),
            _ => number.to_string(),
        },
        other => other.to_string(),
    }
}

/// Rounds to three decimals for the report.
pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// Bytes as MiB, rounded.
pub fn mib(bytes: u64) -> f64 {
    round3(bytes as f64 / (1024.0 * 1024.0))
}
