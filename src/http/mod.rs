//! The HTTP surface: the axum router and the layers around it.
//!
//! Layers, outermost first: request id → tracing → security headers → CORS →
//! client IP → (on /graphql) body limit → per-IP rate limit → handler.
//! Whatever no route matches is the web app (`frontend.rs`).

pub mod client_ip;
pub mod frontend;
pub mod graphql;
pub mod health;
pub mod media;
pub mod security;
pub mod ws;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_governor::GovernorLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::graphql::AppSchema;
use crate::service::Services;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub services: Arc<Services>,
    pub started_at: Instant,
    /// Cancelled when the server shuts down; WebSockets close with 1001.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// `CORS_ORIGINS`, also the WebSocket Origin allowlist.
    pub allowed_origins: Arc<Vec<String>>,
    /// `MAX_BODY_BYTES`: the limit of non-upload requests.
    pub max_body_bytes: usize,
    /// `WS_KEEPALIVE_SECONDS`: how often sockets are pinged.
    pub ws_keep_alive: std::time::Duration,
    /// Open WebSockets per user on this node.
    pub user_connections: Arc<ws::UserConnections>,
    /// Live event payloads rendered once for every subscriber with the same query.
    pub shared_frames: Arc<ws::shared_frames::SharedFrames>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState, config: &Config) -> anyhow::Result<Router> {
    let ip_limit = security::ip_rate_limit(config.rate_limit_per_second, config.rate_limit_burst)
        .ok_or_else(|| {
        anyhow::anyhow!("RATE_LIMIT_PER_SECOND/RATE_LIMIT_BURST: invalid limiter")
    })?;
    let graphql_routes = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .layer(
            ServiceBuilder::new()
                // The handler applies the exact limit per content type; this
                // refuses anything larger than the largest upload up front.
                .layer(RequestBodyLimitLayer::new(graphql::body_ceiling(config)))
                .layer(GovernorLayer::new(ip_limit).error_handler(security::rate_limited_response)),
        );
    let trusted_proxies: Arc<Vec<IpAddr>> = Arc::new(config.trusted_proxies.clone());
    let router = Router::new()
        .route("/health", get(health::health))
        .route("/status", get(health::status))
        .route("/metrics", get(health::metrics))
        .route("/media/{id}", get(media::original))
        .route("/media/{id}/thumbnail", get(media::thumbnail))
        .merge(graphql_routes)
        .route_layer(axum::middleware::from_fn(
            crate::telemetry::metrics::track_http,
        ));
    // After route_layer, so static files stay out of the per-route metrics.
    let router = frontend::serve(router, config.frontend_dir.as_deref());
    // One `layer` call for the whole stack: every `Router::layer` boxes each
    // route once more, and a request clones its route's boxes one by one
    // (before: ~66 boxed clones and ~90 allocations per request, callgrind).
    Ok(router
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(axum::middleware::map_response(security::default_headers))
                .layer(security::cors(&config.cors_origins))
                .layer(axum::middleware::from_fn_with_state(
                    trusted_proxies,
                    client_ip::resolve,
                )),
        )
        .with_state(state))
}

/// The span of one request: method, path (not the query string, which may
/// carry variables) and request id.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}
