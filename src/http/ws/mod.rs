//! GraphQL over WebSocket on `/graphql`, speaking `graphql-transport-ws`
//! and the legacy `graphql-ws`, implemented here rather than with
//! async-graphql's handler, whose close codes and missing init timeout
//! depart from the spec.

pub mod connection;
pub mod protocol;
pub mod shared_frames;
mod writer;

use std::net::IpAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use protocol::Protocol;

/// Largest message a client may send; a bigger one closes with 1009.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Sockets one user may hold open on one node, unless
/// `WS_MAX_CONNECTIONS_PER_USER` says otherwise.
pub const MAX_CONNECTIONS_PER_USER: usize = 20;

/// Bytes tungstenite reads from the socket at a time. Its default (128 KiB)
/// is reserved per connection and dominates an idle socket's memory; our
/// messages are small (at most [`MAX_MESSAGE_BYTES`], usually < 1 KiB), and a
/// larger message is simply read in several chunks.
pub const READ_BUFFER_BYTES: usize = 1024;
/// Bytes buffered before a write reaches the socket: 0 writes each frame at
/// once (axum flushes every frame anyway), so no 128 KiB buffer is kept.
pub const WRITE_BUFFER_BYTES: usize = 0;
/// Unsent bytes a slow reader may leave queued before sends fail; the
/// per-connection outgoing queue in `connection.rs` bounds it further.
pub const MAX_WRITE_BUFFER_BYTES: usize = 1024 * 1024;

/// Open sockets per user on this node, for the per-user cap.
pub struct UserConnections {
    counts: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    cap: usize,
}

impl Default for UserConnections {
    fn default() -> Self {
        Self::with_cap(MAX_CONNECTIONS_PER_USER)
    }
}

impl UserConnections {
    /// A counter that lets each user hold at most `cap` sockets.
    pub fn with_cap(cap: usize) -> Self {
        UserConnections {
            counts: std::sync::Mutex::default(),
            cap: cap.max(1),
        }
    }

    /// Counts one more socket of the user, unless they are at the cap.
    pub fn try_open(&self, user_id: &str) -> bool {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(user_id.to_owned()).or_insert(0);
        if *count >= self.cap {
            return false;
        }
        *count += 1;
        true
    }

    pub fn close(&self, user_id: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
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
        .max_frame_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES);
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
