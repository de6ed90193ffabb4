//! The two GraphQL-over-WebSocket subprotocols: what clients send, what we
//! answer, and the close codes of the `graphql-transport-ws` spec.

use serde::Deserialize;
use serde_json::{Value, json};

/// Which subprotocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws` (the graphql-ws library, Apollo's GraphQLWsLink).
    TransportWs,
    /// `graphql-ws` (the legacy subscriptions-transport-ws).
    LegacyWs,
}

impl Protocol {
    pub const NAMES: [&'static str; 2] = ["graphql-transport-ws", "graphql-ws"];

    pub fn from_name(name: Option<&str>) -> Self {
        match name {
            Some("graphql-ws") => Protocol::LegacyWs,
            _ => Protocol::TransportWs,
        }
    }
}

/// Close codes (graphql-transport-ws, used for both subprotocols).
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const POLICY_VIOLATION: u16 = 1008;
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    pub const BAD_REQUEST: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const DUPLICATE_ID: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
}

/// A GraphQL request inside `subscribe`/`start`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationPayload {
    pub query: String,
    #[serde(default)]
    pub variables: Option<Value>,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub extensions: Option<Value>,
}

/// Every message a client may send, in either subprotocol.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {
        #[serde(default)]
        #[allow(dead_code)]
        payload: Option<Value>,
    },
    /// transport-ws
    Subscribe {
        id: String,
        payload: OperationPayload,
    },
    /// legacy
    Start {
        id: String,
        payload: OperationPayload,
    },
    /// transport-ws
    Complete { id: String },
    /// legacy
    Stop { id: String },
    /// legacy
    ConnectionTerminate,
}

/// The bearer token from a `connection_init` payload: `authorization` or
/// `Authorization` (with or without `Bearer `), or a bare string payload.
pub fn init_token(payload: Option<&Value>) -> Option<String> {
    let raw = match payload? {
        Value::String(token) => token.as_str(),
        Value::Object(fields) => fields
            .get("authorization")
            .or_else(|| fields.get("Authorization"))
            .and_then(Value::as_str)?,
        _ => return None,
    };
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .unwrap_or(raw)
        .trim();
    (!token.is_empty()).then(|| token.to_owned())
}

pub fn ack() -> String {
    json!({ "type": "connection_ack" }).to_string()
}

pub fn pong(payload: Option<Value>) -> String {
    match payload {
        Some(payload) => json!({ "type": "pong", "payload": payload }),
        None => json!({ "type": "pong" }),
    }
    .to_string()
}

/// The server's keep-alive: `ping` (transport-ws) or `ka` (legacy).
pub fn keep_alive(protocol: Protocol) -> String {
    match protocol {
        Protocol::TransportWs => json!({ "type": "ping" }),
        Protocol::LegacyWs => json!({ "type": "ka" }),
    }
    .to_string()
}

/// A result for one operation: `next` / `data`.
pub fn next(protocol: Protocol, id: &str, payload: Value) -> String {
    let kind = match protocol {
        Protocol::TransportWs => "next",
        Protocol::LegacyWs => "data",
    };
    json!({ "type": kind, "id": id, "payload": payload }).to_string()
}

/// Like [`next`], around a payload that is already JSON text (shared by
/// every subscriber of an event): the payload is copied, not re-encoded.
pub fn next_encoded(protocol: Protocol, id: &str, payload: &str) -> String {
    let kind = match protocol {
        Protocol::TransportWs => "next",
        Protocol::LegacyWs => "data",
    };
    let id = Value::from(id).to_string();
    let mut frame = String::with_capacity(payload.len() + id.len() + 32);
    frame.push_str("{\"type\":\"");
    frame.push_str(kind);
    frame.push_str("\",\"id\":");
    frame.push_str(&id);
    frame.push_str(",\"payload\":");
    frame.push_str(payload);
    frame.push('}');
    frame
}

/// An operation refused before it ran (validation): `error` with a list
/// (transport-ws) or one error object (legacy).
pub fn error(protocol: Protocol, id: &str, errors: Value) -> String {
    let payload = match protocol {
        Protocol::TransportWs => errors,
        Protocol::LegacyWs => errors.get(0).cloned().unwrap_or(Value::Null),
    };
    json!({ "type": "error", "id": id, "payload": payload }).to_string()
}

pub fn complete(id: &str) -> String {
    json!({ "type": "complete", "id": id }).to_string()
}

/// Legacy only: the server refused `connection_init`.
pub fn connection_error(message: &str) -> String {
    json!({ "type": "connection_error", "payload": { "message": message } }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_any_accepted_init_shape() {
        let expected = Some("abc".to_owned());
        assert_eq!(
            init_token(Some(&json!({ "authorization": "Bearer abc" }))),
            expected
        );
        assert_eq!(
            init_token(Some(&json!({ "Authorization": "Bearer abc" }))),
            expected
        );
        assert_eq!(
            init_token(Some(&json!({ "authorization": "abc" }))),
            expected
        );
        assert_eq!(init_token(Some(&json!("abc"))), expected);
        assert_eq!(init_token(Some(&json!({}))), None);
        assert_eq!(init_token(None), None);
    }

    #[test]
    fn an_encoded_next_frame_is_the_same_json_as_a_built_one() {
        let payload = json!({ "data": { "messageEvents": { "seq": 1, "body": "a \"quote\"" } } });
        for protocol in [Protocol::TransportWs, Protocol::LegacyWs] {
            let built: Value =
                serde_json::from_str(&next(protocol, "op\"1", payload.clone())).expect("json");
            let encoded: Value =
                serde_json::from_str(&next_encoded(protocol, "op\"1", &payload.to_string()))
                    .expect("json");
            assert_eq!(built, encoded);
        }
    }

    #[test]
    fn both_subprotocols_parse() {
        let subscribe: ClientMessage = serde_json::from_str(
            r#"{"type":"subscribe","id":"1","payload":{"query":"subscription { presence { online } }"}}"#,
        )
        .expect("parses");
        assert!(matches!(subscribe, ClientMessage::Subscribe { .. }));
        let stop: ClientMessage =
            serde_json::from_str(r#"{"type":"stop","id":"1"}"#).expect("parses");
        assert!(matches!(stop, ClientMessage::Stop { .. }));
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"bogus"}"#).is_err());
    }
}
