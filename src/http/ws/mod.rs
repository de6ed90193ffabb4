//! GraphQL over WebSocket on `/graphql`, speaking `graphql-transport-ws`
//! and the legacy `graphql-ws`, implemented here rather than with
//! async-graphql's handler, whose close codes and missing init timeout
//! depart from the spec.

pub mod connection;
pub mod protocol;

use std::net::IpAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use protocol::Protocol;

/// Largest message a client may send; a bigger one closes with 1009.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Sockets one user may hold open on one node.
pub const MAX_CONNECTIONS_PER_USER: usize = 20;

/// Open sockets per user on this node, for the per-user cap.
#[derive(Default)]
pub struct UserConnections(std::sync::Mutex<std::collections::HashMap<String, usize>>);

impl UserConnections {
    /// Counts one more socket of the user, unless they are at the cap.
    pub fn try_open(&self, user_id: &str) -> bool {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(user_id.to_owned()).or_insert(0);
        if *count >= MAX_CONNECTIONS_PER_USER {
            return false;
        }
        *count += 1;
        true
    }

    pub fn close(&self, user_id: &str) {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(user_id) {
            *count -= 1;
            if *count == 0 {
                counts.remove(user_id);
            }
        }
    }
}

pub fn upgrade(
    upgrade: WebSocketUpgrade,
    state: AppState,
    headers: &HeaderMap,
    client_ip: IpAddr,
) -> Response {
    if !origin_allowed(headers, &state.allowed_origins) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let upgrade = upgrade
        .protocols(Protocol::NAMES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES);
    let protocol = Protocol::from_name(
        upgrade
            .selected_protocol()
            .and_then(|value| value.to_str().ok()),
    );
    upgrade.on_upgrade(move |socket| connection::run(socket, protocol, state, client_ip))
}

/// Browsers always send `Origin` on WebSocket handshakes: it must be our
/// own host or a configured origin, or another site could ride on the
/// user's connection (cross-site WebSocket hijacking). Clients that send
/// no `Origin` are not browsers and are let through.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
    else {
        return true;
    };
    if allowed.iter().any(|entry| entry == "*" || entry == origin) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or_default();
    !host.is_empty() && origin_host == host
}
