//! One WebSocket connection: the subprotocol state machine.
//!
//! A reader loop owns the state (awaiting init → ready) and each operation
//! runs in its own task; whoever produces a frame writes it (`writer.rs`).
//! The connection closes with the spec's codes: 4400 garbage, 4401 an
//! operation before the ack, 4403 a refused, expired or revoked token, 4408
//! no `connection_init` in time, 4409 a duplicate operation id, 4429 a
//! second `connection_init`, 1001 when the server shuts down.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use chrono::Utc;
use futures_util::StreamExt as _;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::protocol::{self, ClientMessage, OperationPayload, Protocol, close};
use super::shared_frames::{SubscriberSink, Template};
use super::writer::Writer;
use crate::bus::{BusEvent, Topic};
use crate::graphql::errors::VALIDATION_FAILED;
use crate::graphql::event_delivery::DeliverTo;
use crate::graphql::shared_selection::SharedSelection;
use crate::graphql::{Loaders, RequestContext, execution};
use crate::http::AppState;
use crate::service::Viewer;

/// How long a client has to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Open connections on this node (for `/status`).
pub static OPEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How long to wait for the client's reply to our Close.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(2);

/// Messages a client may send per second, sustained (bursts of twice that).
pub const MESSAGES_PER_SECOND: u32 = 50;

/// Operations one connection may run at once.
pub const MAX_OPERATIONS: usize = 100;

/// Why the reader loop stopped.
struct Closing(u16, &'static str);

struct Ready {
    viewer: Viewer,
    expires_at: Instant,
    revocations: tokio::sync::broadcast::Receiver<std::sync::Arc<BusEvent>>,
}

pub async fn run(socket: WebSocket, protocol: Protocol, state: AppState, client_ip: IpAddr) {
    metrics::gauge!("realtalk_websocket_connections").increment(1.0);
    OPEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (sink, mut incoming) = socket.split();
    let writer = Arc::new(Writer::new(sink));

    let mut connection = Connection {
        protocol,
        state: state.clone(),
        client_ip,
        writer: writer.clone(),
        operations: HashMap::new(),
        ready: None,
        inited: false,
    };
    let (finished_tx, mut finished) = mpsc::unbounded_channel::<String>();
    let init_deadline = Instant::now() + INIT_TIMEOUT;
    // The server pings every interval; a peer silent for two is dropped.
    let keep_alive_every = state.ws_keep_alive;
    let mut keep_alive =
        tokio::time::interval_at(Instant::now() + keep_alive_every, keep_alive_every);
    let mut last_heard = Instant::now();
    let shutdown = state.shutdown.clone();
    let message_rate = governor::RateLimiter::direct(
        governor::Quota::per_second(
            std::num::NonZeroU32::new(MESSAGES_PER_SECOND).unwrap_or(std::num::NonZeroU32::MIN),
        )
        .allow_burst(
            std::num::NonZeroU32::new(MESSAGES_PER_SECOND * 2).unwrap_or(std::num::NonZeroU32::MIN),
        ),
    );

    let closing = loop {
        let expiry = connection.ready.as_ref().map(|ready| ready.expires_at);
        tokio::select! {
            frame = incoming.next() => {
                last_heard = Instant::now();
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        if message_rate.check().is_err() {
                            break Some(Closing(close::POLICY_VIOLATION, "too many messages"));
                        }
                        if let Err(closing) = connection.handle(text.as_str(), &finished_tx).await {
                            break Some(closing);
                        }
                    }
                    Some(Ok(Message::Binary(_))) => break Some(Closing(close::BAD_REQUEST, "binary messages are not part of the protocol")),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(error)) => {
                        let too_big = error.to_string().to_ascii_lowercase().contains("too long")
                            || error.to_string().to_ascii_lowercase().contains("too big");
                        break too_big.then_some(Closing(close::MESSAGE_TOO_BIG, "message too big"));
                    }
                }
            }
            () = tokio::time::sleep_until(init_deadline), if !connection.inited => {
                break Some(Closing(close::INIT_TIMEOUT, "Connection initialisation timeout"));
            }
            () = sleep_until(expiry) => {
                break Some(Closing(close::FORBIDDEN, "Forbidden: access token expired"));
            }
            revoked = revocation(&mut connection.ready) => {
                if revoked {
                    break Some(Closing(close::FORBIDDEN, "Forbidden: session ended"));
                }
            }
            Some(id) = finished.recv() => {
                connection.operations.remove(&id);
                metrics::gauge!("realtalk_active_subscriptions").decrement(1.0);
            }
            _ = keep_alive.tick() => {
                if last_heard.elapsed() > keep_alive_every * 2 {
                    tracing::debug!("dropping a silent WebSocket peer");
                    break None;
                }
                // A peer that does not take a ping within an interval is
                // not reading: dropped too, rather than holding this loop.
                let pinged = tokio::time::timeout(keep_alive_every, async {
                    writer.ping().await
                        && (!connection.inited
                            || writer.text(protocol::keep_alive(protocol)).await)
                })
                .await;
                if !matches!(pinged, Ok(true)) {
                    tracing::debug!("dropping a WebSocket peer that does not read");
                    break None;
                }
            }
            () = shutdown.cancelled() => break Some(Closing(close::GOING_AWAY, "server shutting down")),
        }
    };

    for (_, task) in connection.operations.drain() {
        task.abort();
        metrics::gauge!("realtalk_active_subscriptions").decrement(1.0);
    }
    let closed_by_us = closing.is_some();
    // Bounded: a peer that does not read must not hold the connection open.
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
        match closing {
            Some(Closing(code, reason)) => writer.close(code, reason).await,
            None => writer.finish().await,
        }
    })
    .await;
    if closed_by_us {
        // Finish the close handshake: read (and drop) what the client still
        // sends until its Close arrives, so the kernel does not answer unread
        // data with a reset that would hide our close code.
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
            while let Some(Ok(frame)) = incoming.next().await {
                if matches!(frame, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    if let Some(ready) = connection.ready {
        state.user_connections.close(&ready.viewer.user_id);
        state.services.presence.disconnected(ready.viewer.user_id);
    }
    metrics::gauge!("realtalk_websocket_connections").decrement(1.0);
    OPEN.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

struct Connection {
    protocol: Protocol,
    state: AppState,
    client_ip: IpAddr,
    writer: Arc<Writer>,
    operations: HashMap<String, JoinHandle<()>>,
    ready: Option<Ready>,
    inited: bool,
}

impl Connection {
    async fn send(&self, text: String) {
        let _ = self.writer.text(text).await;
    }

    async fn handle(
        &mut self,
        text: &str,
        finished: &mpsc::UnboundedSender<String>,
    ) -> Result<(), Closing> {
        let message: ClientMessage = serde_json::from_str(text)
            .map_err(|_| Closing(close::BAD_REQUEST, "Invalid message received"))?;
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload.as_ref()).await,
            ClientMessage::Ping { payload } => {
                self.send(protocol::pong(payload)).await;
                Ok(())
            }
            ClientMessage::Pong { .. } => Ok(()),
            ClientMessage::Subscribe { id, payload } | ClientMessage::Start { id, payload } => {
                self.start(id, payload, finished).await
            }
            ClientMessage::Complete { id } | ClientMessage::Stop { id } => {
                if let Some(task) = self.operations.remove(&id) {
                    task.abort();
                    metrics::gauge!("realtalk_active_subscriptions").decrement(1.0);
                }
                Ok(())
            }
            ClientMessage::ConnectionTerminate => Err(Closing(close::NORMAL, "terminated")),
        }
    }

    async fn init(&mut self, payload: Option<&Value>) -> Result<(), Closing> {
        if self.inited {
            return Err(Closing(
                close::TOO_MANY_INITS,
                "Too many initialisation requests",
            ));
        }
        self.inited = true;
        let refused = |reason: &'static str| Closing(close::FORBIDDEN, reason);
        let Some(token) = protocol::init_token(payload) else {
            self.refuse_legacy("an access token is required").await;
            return Err(refused("Forbidden: no access token"));
        };
        let authenticated = self.state.services.auth.authenticate_until(&token).await;
        let (viewer, expires_at) = match authenticated {
            Ok(found) => found,
            Err(_) => {
                self.refuse_legacy("invalid or expired access token").await;
                return Err(refused("Forbidden: invalid or expired access token"));
            }
        };
        if !self.state.user_connections.try_open(&viewer.user_id) {
            return Err(Closing(
                close::POLICY_VIOLATION,
                "too many connections for this user",
            ));
        }
        let remaining = (expires_at - Utc::now()).to_std().unwrap_or_default();
        let revocations = self
            .state
            .services
            .bus
            .subscribe(Topic::User(viewer.user_id.clone()));
        self.send(protocol::ack()).await;
        if self.protocol == Protocol::LegacyWs {
            self.send(protocol::keep_alive(self.protocol)).await;
        }
        self.state
            .services
            .presence
            .connected(&viewer.user_id)
            .await;
        self.ready = Some(Ready {
            viewer,
            expires_at: Instant::now() + remaining,
            revocations,
        });
        Ok(())
    }

    async fn refuse_legacy(&self, message: &str) {
        if self.protocol == Protocol::LegacyWs {
            self.send(protocol::connection_error(message)).await;
        }
    }

    async fn start(
        &mut self,
        id: String,
        payload: OperationPayload,
        finished: &mpsc::UnboundedSender<String>,
    ) -> Result<(), Closing> {
        let Some(ready) = &self.ready else {
            return Err(Closing(close::UNAUTHORIZED, "Unauthorized"));
        };
        if self.operations.contains_key(&id) {
            return Err(Closing(
                close::DUPLICATE_ID,
                "Subscriber for this id already exists",
            ));
        }
        if self.operations.len() >= MAX_OPERATIONS {
            let errors = serde_json::json!([{
                "message": format!("at most {MAX_OPERATIONS} operations per connection"),
                "extensions": { "code": "RATE_LIMITED", "retryAfterSeconds": 1 }
            }]);
            self.send(protocol::error(self.protocol, &id, errors)).await;
            return Ok(());
        }
        let mut request = async_graphql::Request::new(payload.query.clone());
        if let Some(variables) = payload.variables.clone() {
            request = request.variables(async_graphql::Variables::from_json(variables));
        }
        if let Some(name) = payload.operation_name.clone() {
            request = request.operation_name(name);
        }
        let _ = payload.extensions;
        let mut request = request
            .data(RequestContext::authenticated(
                self.client_ip,
                ready.viewer.clone(),
            ))
            .data(Loaders::new(&self.state.services));
        // `messageEvents`: the stream hands its events to a sink that shares
        // one render per event and query (see `shared_frames.rs`).
        if let Some(selection) = SharedSelection::analyse(
            &payload.query,
            payload.operation_name.as_deref(),
            payload.variables.as_ref(),
            &ready.viewer,
        ) {
            request.set_parsed_query(selection.document.clone());
            let frames = self.state.shared_frames.clone();
            let template = frames.template(Template {
                key: selection.key,
                document: selection.document,
                query: payload.query,
                operation_name: payload.operation_name,
            });
            let sink = SubscriberSink {
                frames,
                template,
                variables: payload.variables,
                schema: self.state.schema.clone(),
                services: self.state.services.clone(),
                client_ip: self.client_ip,
                protocol: self.protocol,
                operation_id: id.clone(),
                writer: self.writer.clone(),
            };
            request = request.data(DeliverTo(std::sync::Arc::new(sink)));
        } else if let Some(document) = crate::graphql::documents::parse(&payload.query) {
            request.set_parsed_query(document);
        }
        let schema = self.state.schema.clone();
        let protocol = self.protocol;
        let writer = self.writer.clone();
        let finished = finished.clone();
        let operation_id = id.clone();
        let task = tokio::spawn(async move {
            let mut responses = execution::execute_stream(&schema, request);
            let mut first = true;
            while let Some(response) = responses.next().await {
                let refused_before_running = first
                    && response.data == async_graphql::Value::Null
                    && !response.errors.is_empty()
                    && response.errors.iter().all(|error| {
                        error
                            .extensions
                            .as_ref()
                            .and_then(|extensions| extensions.get("code"))
                            .is_some_and(|code| {
                                *code == async_graphql::Value::from(VALIDATION_FAILED)
                            })
                    });
                first = false;
                let payload = serde_json::to_value(&response).unwrap_or(Value::Null);
                let text = if refused_before_running {
                    let errors = payload.get("errors").cloned().unwrap_or(Value::Null);
                    let _ = writer
                        .text(protocol::error(protocol, &operation_id, errors))
                        .await;
                    let _ = finished.send(operation_id);
                    return;
                } else {
                    protocol::next(protocol, &operation_id, payload)
                };
                if !writer.text(text).await {
                    return;
                }
            }
            let _ = writer.text(protocol::complete(&operation_id)).await;
            let _ = finished.send(operation_id);
        });
        metrics::gauge!("realtalk_active_subscriptions").increment(1.0);
        self.operations.insert(id, task);
        Ok(())
    }
}

/// Resolves `true` when the connection's session is revoked; never
/// resolves before the connection is ready.
async fn revocation(ready: &mut Option<Ready>) -> bool {
    let Some(ready) = ready else {
        return std::future::pending().await;
    };
    loop {
        match ready.revocations.recv().await {
            Ok(event) => {
                if let BusEvent::SessionsRevoked {
                    user_id,
                    session_id,
                } = event.as_ref()
                    && *user_id == ready.viewer.user_id
                    && session_id
                        .as_ref()
                        .is_none_or(|id| *id == ready.viewer.session_id)
                {
                    return true;
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                return std::future::pending().await;
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
