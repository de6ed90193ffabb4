//! A small GraphQL-over-WebSocket client for tests, speaking either
//! subprotocol over a real socket. Waits are bounded: every receive gives
//! up after [`WAIT`] and fails the test.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, http::HeaderValue};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(15);

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    legacy: bool,
}

/// How a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Closed(u16, String),
    Dropped,
}

impl WsClient {
    /// Opens `ws://addr/graphql` with `graphql-transport-ws`.
    pub async fn connect(addr: std::net::SocketAddr) -> Self {
        Self::connect_with(addr, "graphql-transport-ws", None).await
    }

    pub async fn connect_legacy(addr: std::net::SocketAddr) -> Self {
        Self::connect_with(addr, "graphql-ws", None).await
    }

    pub async fn connect_with(
        addr: std::net::SocketAddr,
        protocol: &str,
        origin: Option<&str>,
    ) -> Self {
        let mut request = format!("ws://{addr}/graphql")
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(protocol).expect("header"),
        );
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(origin).expect("header"));
        }
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket handshake");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            protocol,
            "the server speaks the requested subprotocol"
        );
        WsClient {
            socket,
            legacy: protocol == "graphql-ws",
        }
    }

    /// Opens a `graphql-transport-ws` connection whose socket has a tiny
    /// receive buffer (a fixed size also turns off the kernel's growing of
    /// it): a client that stops reading then backs the server up quickly.
    pub async fn connect_small_receive_buffer(addr: std::net::SocketAddr) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let stream = socket.connect(addr).await.expect("connect");
        let mut request = format!("ws://{addr}/graphql")
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
            .await
            .expect("WebSocket handshake");
        WsClient {
            socket,
            legacy: false,
        }
    }

    pub async fn send_json(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
    }

    /// Sends without failing the test when the server already closed.
    pub async fn try_send_json(&mut self, message: Value) -> bool {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .is_ok()
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("send");
    }

    /// Sends `connection_init` with the token and expects the ack.
    pub async fn init(&mut self, token: &str) {
        self.send_json(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
            .await;
        let ack = self.next_message().await.expect("connection_ack");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
    }

    /// Starts an operation (`subscribe` or legacy `start`).
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = if self.legacy { "start" } else { "subscribe" };
        self.send_json(json!({ "type": kind, "id": id, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// Waits until the operations started before on this socket are live
    /// on the server: operations run in order, so once a query sent after
    /// them has answered, they are registered. `id` names that query.
    pub async fn settle(&mut self, id: &str) {
        self.subscribe(id, "{ me { id } }", json!({})).await;
        self.next_payload(id).await;
    }

    /// Stops an operation (`complete` or legacy `stop`).
    pub async fn unsubscribe(&mut self, id: &str) {
        let kind = if self.legacy { "stop" } else { "complete" };
        self.send_json(json!({ "type": kind, "id": id })).await;
    }

    /// The next protocol message, skipping keep-alives (answering pings).
    /// `None` when the connection ended.
    pub async fn next_message(&mut self) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("a message arrives in time")?;
            match frame {
                Ok(Message::Text(text)) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON message");
                    match message["type"].as_str() {
                        Some("ka") | Some("pong") => continue,
                        Some("ping") => {
                            self.send_json(json!({ "type": "pong" })).await;
                            continue;
                        }
                        _ => return Some(message),
                    }
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// The payload of the next `next`/`data` message for `id`.
    pub async fn next_payload(&mut self, id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no result for {id} in time"
            );
            let message = self.next_message().await.expect("connection open");
            if message["id"] == id {
                let kind = message["type"].as_str().unwrap_or_default();
                assert!(
                    kind == "next" || kind == "data",
                    "expected a result for {id}, got {message}"
                );
                return message["payload"].clone();
            }
        }
    }

    /// Waits for the connection to end and says how.
    pub async fn ended(&mut self) -> Ended {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("the connection ends in time");
            match frame {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Ended::Closed(u16::from(frame.code), frame.reason.to_string());
                }
                Some(Ok(Message::Close(None))) => {
                    return Ended::Closed(u16::from(CloseCode::Status), String::new());
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Ended::Dropped,
            }
        }
    }

    /// The close code the connection ended with.
    pub async fn close_code(&mut self) -> Option<u16> {
        match self.ended().await {
            Ended::Closed(code, _) => Some(code),
            Ended::Dropped => None,
        }
    }
}
