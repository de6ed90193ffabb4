//! Prometheus metrics: one process-wide recorder, rendered at `/metrics`.
//!
//! Names follow Prometheus conventions (`realtalk_` prefix, base units in
//! the name); labels are bounded sets (operation names, codes), never ids.

use std::sync::OnceLock;
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets in seconds, from 100 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Installs the recorder on first call; later calls (more servers in one
/// test process) share it.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

/// Times one store operation; records when dropped, so every exit counts.
pub struct StoreTimer {
    operation: &'static str,
    started: Instant,
}

impl StoreTimer {
    pub fn start(operation: &'static str) -> Self {
        StoreTimer {
            operation,
            started: Instant::now(),
        }
    }
}

impl Drop for StoreTimer {
    fn drop(&mut self) {
        metrics::histogram!(
            "realtalk_store_operation_duration_seconds",
            "operation" => self.operation
        )
        .record(self.started.elapsed().as_secs_f64());
    }
}
