//! The subscriber side: a graphql-transport-ws client over tokio-tungstenite,
//! each socket bound to one of several 127.0.0.x source addresses so that
//! many sockets fit past the ~28k ephemeral ports one address offers.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub type Socket = WebSocketStream<TcpStream>;

/// Source addresses handed out in turn.
pub struct SourceAddrs {
    addrs: Vec<IpAddr>,
    next: AtomicUsize,
}

impl SourceAddrs {
    /// 127.0.0.1 … 127.0.0.`count` for a loopback server; otherwise the
    /// kernel's choice (one address).
    pub fn new(server: SocketAddr, count: u8) -> Self {
        let addrs = if server.ip().is_loopback() && server.is_ipv4() {
            (1..=count.max(1))
                .map(|last| IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
                .collect()
        } else {
            Vec::new()
        };
        SourceAddrs {
            addrs,
            next: AtomicUsize::new(0),
        }
    }

    fn pick(&self) -> Option<IpAddr> {
        if self.addrs.is_empty() {
            return None;
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.addrs.len();
        Some(self.addrs[index])
    }
}

/// Small buffers on the generator's side too: its memory per socket is
/// reported, and 10k sockets at tungstenite's 128 KiB defaults would cost
/// gigabytes here.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
}

/// Opens `ws://server/graphql`, authenticates in `connection_init` and waits
/// for the ack.
pub async fn connect(
    server: SocketAddr,
    sources: &SourceAddrs,
    token: &str,
) -> anyhow::Result<Socket> {
    let socket = TcpSocket::new_v4().context("creating a TCP socket")?;
    if let Some(source) = sources.pick() {
        socket
            .bind(SocketAddr::new(source, 0))
            .with_context(|| format!("binding {source}"))?;
    }
    let stream = socket
        .connect(server)
        .await
        .with_context(|| format!("connecting to {server}"))?;
    stream.set_nodelay(true).context("TCP_NODELAY")?;
    let mut request = format!("ws://{server}/graphql")
        .into_client_request()
        .context("WebSocket request")?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config()))
            .await
            .context("WebSocket handshake")?;
    send(&mut socket, &json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })).await?;
    loop {
        let frame = socket
            .next()
            .await
            .context("closed before connection_ack")?
            .context("reading connection_ack")?;
        match frame {
            Message::Text(text) if text.contains("\"connection_ack\"") => return Ok(socket),
            Message::Text(text) if text.contains("\"ping\"") => {}
            Message::Ping(_) | Message::Pong(_) => {}
            other => bail!("expected connection_ack, got {other:?}"),
        }
    }
}

/// Starts subscription `id`; the server answers with `next` messages.
pub async fn subscribe(
    socket: &mut Socket,
    id: &str,
    query: &str,
    variables: Value,
) -> anyhow::Result<()> {
    send(socket, &json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } })).await
}

pub async fn send(socket: &mut Socket, message: &Value) -> anyhow::Result<()> {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .context("sending on the WebSocket")
}

/// What one text frame from the server means to a subscriber.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A `next` payload (its raw text, for the caller to pick fields from).
    Next(&'a str),
    /// The server's keep-alive `ping`: answer with `pong`.
    Ping,
    /// `error` or `complete`: the subscription ended.
    Ended(&'a str),
    Other,
}

/// Classifies a frame by its `type` without parsing all of it: the
/// generator shares the server's cores and parses 50k frames a second.
pub fn classify(text: &str) -> Incoming<'_> {
    if text.contains("\"type\":\"next\"") {
        Incoming::Next(text)
    } else if text.contains("\"type\":\"ping\"") {
        Incoming::Ping
    } else if text.contains("\"type\":\"error\"") || text.contains("\"type\":\"complete\"") {
        Incoming::Ended(text)
    } else {
        Incoming::Other
    }
}
