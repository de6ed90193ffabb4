//! Prometheus metrics: one process-wide recorder, rendered at `/metrics`.
//!
//! Names follow Prometheus conventions (`realtalk_` prefix, base units in
//! the name); labels are bounded sets (operation names, codes), never ids.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets in seconds, from 100 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Writes per SQLite group commit, up to the writer's largest group.
const GROUP_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Installs the recorder on first call; later calls (more servers in one
/// test process) share it.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full("realtalk_sqlite_writes_per_commit".into()),
                        GROUP_BUCKETS,
                    )
                })
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    register_at_zero();
                    start_upkeep(handle.clone());
                    Some(handle)
                }
                Err(error) => {
                    tracing::warn!(%error, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The exporter keeps every histogram sample until upkeep folds it into
/// the buckets; `install_recorder` leaves upkeep to the caller, and only a
/// scrape of `/metrics` did it here. With nobody scraping (a laptop, a
/// node Prometheus does not know about) memory grew by every delivery's
/// latency sample: 8 bytes × 50k deliveries/s is 1.4 GB an hour. A plain
/// thread, so it runs whatever runtime (or none) installed the recorder.
fn start_upkeep(handle: PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                handle.run_upkeep();
            }
        });
    if let Err(error) = started {
        tracing::warn!(%error, "metrics upkeep thread not started; histograms drain only when scraped");
    }
}

/// Counters and gauges that must be visible (as 0) before anything
/// happens, so dashboards and alerts never query a missing series.
fn register_at_zero() {
    metrics::counter!("realtalk_messages_sent_total").increment(0);
    metrics::counter!("realtalk_bus_redis_reconnects_total").increment(0);
    metrics::counter!("realtalk_bus_publish_errors_total").increment(0);
    metrics::gauge!("realtalk_websocket_connections").increment(0.0);
    metrics::gauge!("realtalk_active_subscriptions").increment(0.0);
    metrics::gauge!("realtalk_active_sessions").set(0.0);
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

/// Process CPU time and resident memory, from `/proc` (Linux), under the
/// standard Prometheus process metric names.
pub fn record_process() {
    // utime and stime are fields 14 and 15, in clock ticks (USER_HZ = 100).
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat")
        && let Some((_, after_name)) = stat.rsplit_once(')')
    {
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|&index| fields.get(index)?.parse::<f64>().ok())
            .sum();
        metrics::gauge!("process_cpu_seconds_total").set(ticks / 100.0);
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|line| line.starts_with("VmRSS:"))
        && let Some(kib) = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse::<f64>().ok())
    {
        metrics::gauge!("process_resident_memory_bytes").set(kib * 1024.0);
    }
}

/// HTTP middleware: request duration by matched route, method and status.
pub async fn track_http(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::histogram!(
        "realtalk_http_request_duration_seconds",
        "route" => route,
        "method" => method,
        "status" => response.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    response
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
