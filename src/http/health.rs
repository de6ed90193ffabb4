//! Liveness, readiness and metrics.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use super::AppState;

/// Process alive; touches no dependency.
pub async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Dependencies with their latency; 503 when one is down.
pub async fn status(State(state): State<AppState>) -> impl IntoResponse {
    let started = Instant::now();
    let store = state.services.store.ping().await;
    let store_latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let store_ok = store.is_ok();
    let started = Instant::now();
    let bus = state.services.bus.ping().await;
    let bus_ok = bus.is_ok();
    let bus_check = json!({
        "engine": state.services.bus.engine(),
        "ok": bus_ok,
        "latencyMs": started.elapsed().as_secs_f64() * 1000.0,
    });
    let body = json!({
        "status": if store_ok && bus_ok { "ok" } else { "degraded" },
        "connections": metrics_connections(),
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeSeconds": state.started_at.elapsed().as_secs(),
        "checks": {
            "store": {
                "engine": state.services.store.engine(),
                "ok": store_ok,
                "latencyMs": store_latency_ms,
            },
            "bus": bus_check,
            "mail": state.services.accounts.mailer().status(),
        },
    });
    let code = if store_ok && bus_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

/// Open WebSocket connections on this node.
fn metrics_connections() -> u64 {
    crate::http::ws::connection::OPEN.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Ok(active) = state
        .services
        .store
        .count_active_sessions(chrono::Utc::now())
        .await
    {
        metrics::gauge!("realtalk_active_sessions").set(active as f64);
    }
    crate::telemetry::metrics::record_process();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::telemetry::metrics::render(),
    )
}
