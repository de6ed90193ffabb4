//! The client's IP address, decided once per request.
//!
//! It is the TCP peer, unless the peer is one of `TRUSTED_PROXIES`: then it
//! is the right-most `X-Forwarded-For` entry that is not itself a trusted
//! proxy (entries further left can be forged by the client).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tower_governor::GovernorError;
use tower_governor::key_extractor::KeyExtractor;

/// Stored in request extensions by [`resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

/// Middleware: works out the client IP and stores it as [`ClientIp`].
pub async fn resolve(
    State(trusted_proxies): State<Arc<Vec<IpAddr>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let client = if trusted_proxies.contains(&peer) {
        request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
            .rev()
            .find(|ip| !trusted_proxies.contains(ip))
            .unwrap_or(peer)
    } else {
        peer
    };
    request.extensions_mut().insert(ClientIp(client));
    next.run(request).await
}

/// Keys tower_governor's per-IP limiter by [`ClientIp`].
#[derive(Debug, Clone, Copy)]
pub struct ClientIpKey;

impl KeyExtractor for ClientIpKey {
    type Key = IpAddr;

    fn extract<T>(&self, request: &axum::http::Request<T>) -> Result<IpAddr, GovernorError> {
        request
            .extensions()
            .get::<ClientIp>()
            .map(|ClientIp(ip)| *ip)
            .ok_or(GovernorError::UnableToExtractKey)
    }
}
