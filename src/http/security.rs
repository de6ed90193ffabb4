//! Response headers that make browsers strict, CORS from `CORS_ORIGINS`, and
//! the per-IP request limit.

use std::time::Duration;

use axum::body::Body;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{Method, Response, StatusCode};
use tower_governor::GovernorError;
use tower_governor::governor::GovernorConfigBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::client_ip::ClientIpKey;

/// The default policy: everything from our own origin only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; \
     connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

/// Headers set on every response that did not set its own.
const DEFAULT_HEADERS: [(HeaderName, HeaderValue); 6] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    ),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    ),
];

/// Middleware (`map_response`): the default headers a response lacks. One
/// step for all of them, rather than a `SetResponseHeaderLayer` each.
pub async fn default_headers(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    for (name, value) in DEFAULT_HEADERS {
        headers.entry(name).or_insert(value);
    }
    response
}

/// CORS for the configured origins; none configured means same-origin only
/// (no CORS headers at all), `*` means any origin (never with credentials).
pub fn cors(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("apollo-require-preflight"),
            HeaderName::from_static("x-requested-with"),
        ])
        .max_age(Duration::from_secs(3600))
}

/// The per-IP limiter for /graphql: `per_second` sustained, `burst` at once.
pub fn ip_rate_limit(
    per_second: u32,
    burst: u32,
) -> Option<
    tower_governor::governor::GovernorConfig<ClientIpKey, governor::middleware::NoOpMiddleware>,
> {
    let interval_ns = 1_000_000_000 / u64::from(per_second.max(1));
    GovernorConfigBuilder::default()
        .per_nanosecond(interval_ns.max(1))
        .burst_size(burst.max(1))
        .key_extractor(ClientIpKey)
        .finish()
}

/// The body of a refused request: a GraphQL error with RATE_LIMITED.
pub fn rate_limited_response(error: GovernorError) -> Response<Body> {
    let (status, wait) = match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            (StatusCode::TOO_MANY_REQUESTS, wait_time.max(1))
        }
        GovernorError::UnableToExtractKey | GovernorError::Other { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, 1)
        }
    };
    let code = if status == StatusCode::TOO_MANY_REQUESTS {
        "RATE_LIMITED"
    } else {
        "INTERNAL_SERVER_ERROR"
    };
    let body = serde_json::json!({
        "errors": [{
            "message": format!("too many requests; retry in {wait} s"),
            "extensions": { "code": code, "retryAfterSeconds": wait }
        }]
    });
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::RETRY_AFTER, wait.to_string())
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
