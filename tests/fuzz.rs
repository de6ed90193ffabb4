//! Fuzzing the two doors clients knock on: `POST /graphql` and the
//! WebSocket message handler, on a real server. Inputs are generated from
//! the schema's own words plus garbage, so most reach the parser, the
//! validator and the resolvers rather than bouncing off JSON decoding.
//!
//! The properties: the server never answers 5xx or INTERNAL_SERVER_ERROR to
//! malformed input, WebSockets only ever close with the protocol's codes,
//! and the server is still healthy afterwards. The run is bounded
//! (`FUZZ_CASES`, default 64 per door) so it fits in the test command; a
//! failing case is shrunk by proptest and printed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::{BaseType, Type};
use common::schema::{Operation, RootField, Schema};
use common::{Account, TestServer, assert_no_errors};
use futures_util::{SinkExt as _, StreamExt as _};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(64)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// The words of the schema: field, argument and type names.
fn schema_words() -> Vec<String> {
    let sdl = realtalk::graphql::sdl();
    let mut words: Vec<String> = sdl
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|word| word.len() > 1 && !word.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// A GraphQL-looking document: schema words, punctuation, literals.
fn document() -> impl Strategy<Value = String> {
    let words = schema_words();
    let token = prop_oneof![
        4 => proptest::sample::select(words),
        3 => proptest::sample::select(vec![
            "{", "}", "(", ")", ":", "$v", "$v: ID!", "...", "... on", "query", "mutation",
            "subscription", "fragment F on Query", "...F", "@include(if: true)", "@skip(if: $v)",
            "[", "]", "=", "!", "null", "true", "first: 100000000000", "last: -1", "id: \"\"",
        ])
        .prop_map(str::to_owned),
        1 => "\"[^\"\\\\]{0,12}\"",
        1 => any::<i64>().prop_map(|number| number.to_string()),
        1 => "\\PC{0,8}",
    ];
    proptest::collection::vec(token, 0..60).prop_map(|tokens| tokens.join(" "))
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|number| json!(number)),
        "\\PC{0,16}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::hash_map("[a-zA-Z]{1,8}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A random value that mostly has the right type for `ty` (so it passes
/// coercion and reaches the resolver) and sometimes any JSON at all.
fn typed_value(schema: &Arc<Schema>, ty: &Type, depth: u32) -> BoxedStrategy<Value> {
    let well_typed: BoxedStrategy<Value> = match &ty.base {
        BaseType::List(inner) => {
            proptest::collection::vec(typed_value(schema, inner, depth + 1), 0..4)
                .prop_map(Value::from)
                .boxed()
        }
        BaseType::Named(name) => match name.as_str() {
            "ID" | "String" => prop_oneof![
                "\\PC{0,24}",
                Just(uuid::Uuid::now_v7().to_string()),
                Just("x".repeat(5000)),
            ]
            .prop_map(Value::from)
            .boxed(),
            "Int" => prop_oneof![
                (-3i64..200).prop_map(Value::from),
                any::<i32>().prop_map(Value::from),
            ]
            .boxed(),
            "Float" => any::<f64>().prop_map(|number| json!(number)).boxed(),
            "Boolean" => any::<bool>().prop_map(Value::from).boxed(),
            other => {
                if let Some(values) = schema.enum_values(other) {
                    proptest::sample::select(values.to_vec())
                        .prop_map(Value::from)
                        .boxed()
                } else if let (Some(fields), true) = (schema.input_fields(other), depth < 4) {
                    let fields: Vec<(String, BoxedStrategy<Value>)> = fields
                        .iter()
                        .map(|field| {
                            (
                                field.name.clone(),
                                typed_value(schema, &field.ty, depth + 1),
                            )
                        })
                        .collect();
                    let (names, values): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
                    values
                        .prop_map(move |values| {
                            Value::Object(names.iter().cloned().zip(values).collect())
                        })
                        .boxed()
                } else {
                    Just(Value::Null).boxed()
                }
            }
        },
    };
    prop_oneof![8 => well_typed, 1 => Just(Value::Null), 1 => json_value()].boxed()
}

/// A real operation of the schema with generated variables.
fn schema_request(schema: Arc<Schema>) -> impl Strategy<Value = String> {
    let fields: Vec<RootField> = schema
        .root_fields()
        .iter()
        .filter(|field| field.operation != Operation::Subscription)
        .cloned()
        .collect();
    proptest::sample::select(fields).prop_flat_map(move |field| {
        let document = schema.document(&field);
        let (names, values): (Vec<String>, Vec<BoxedStrategy<Value>>) = field
            .arguments
            .iter()
            .map(|argument| (argument.name.clone(), typed_value(&schema, &argument.ty, 0)))
            .unzip();
        values.prop_map(move |values| {
            let variables: serde_json::Map<String, Value> =
                names.iter().cloned().zip(values).collect();
            json!({ "query": document, "variables": variables }).to_string()
        })
    })
}

/// One HTTP body: real operations with generated variables, well-formed
/// requests with bad documents, wrongly typed fields, batches, garbage.
#[derive(Debug, Clone)]
struct HttpCase {
    body: String,
    signed_in: bool,
}

fn http_case() -> impl Strategy<Value = HttpCase> {
    let request = (document(), json_value(), proptest::option::of("\\PC{0,10}")).prop_map(
        |(query, variables, name)| {
            json!({ "query": query, "variables": variables, "operationName": name }).to_string()
        },
    );
    let body = prop_oneof![
        6 => schema_request(Arc::new(Schema::load())),
        3 => request,
        1 => (json_value(), json_value())
            .prop_map(|(query, variables)| json!({ "query": query, "variables": variables }).to_string()),
        1 => proptest::collection::vec(document(), 0..4)
            .prop_map(|queries| Value::from(queries.into_iter().map(|query| json!({ "query": query })).collect::<Vec<_>>()).to_string()),
        1 => "\\PC{0,64}",
    ];
    (body, any::<bool>()).prop_map(|(body, signed_in)| HttpCase { body, signed_in })
}

fn internal_error_in(body: &Value) -> bool {
    body.to_string().contains("INTERNAL_SERVER_ERROR")
}

#[test]
fn graphql_over_http_answers_any_input_without_internal_errors() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (server, amy) = runtime.block_on(async {
        let server = TestServer::start().await;
        let amy = server.register("amy").await;
        (server, amy)
    });
    let result = runner().run(&http_case(), |case| {
        runtime.block_on(async {
            let mut request = server
                .client
                .post(server.url("/graphql"))
                .header("content-type", "application/json")
                .body(case.body.clone());
            if case.signed_in {
                request = request.bearer_auth(&amy.access_token);
            }
            let response = request
                .send()
                .await
                .map_err(|error| TestCaseError::fail(format!("no answer: {error}")))?;
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            prop_assert!(!status.is_server_error(), "{status}: {text}");
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            prop_assert!(!internal_error_in(&body), "internal error: {text}");
            Ok(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    runtime.block_on(still_healthy(&server, &amy));
}

/// One WebSocket frame a client might send.
#[derive(Debug, Clone)]
enum Frame {
    Json(Value),
    Text(String),
    Binary(Vec<u8>),
}

fn frame(token: String) -> impl Strategy<Value = Frame> {
    let kind = proptest::sample::select(vec![
        "connection_init",
        "ping",
        "pong",
        "subscribe",
        "start",
        "complete",
        "stop",
        "connection_terminate",
        "next",
        "error",
        "bogus",
    ]);
    let id = proptest::sample::select(vec!["1", "2", "", "x"]);
    let payload = prop_oneof![
        Just(json!({ "authorization": format!("Bearer {token}") })),
        Just(json!({ "query": "subscription { notifications { kind } }" })),
        (document(), json_value())
            .prop_map(|(query, variables)| json!({ "query": query, "variables": variables })),
        json_value(),
    ];
    prop_oneof![
        8 => (kind, id, payload, any::<bool>()).prop_map(|(kind, id, payload, with_id)| {
            let mut message = json!({ "type": kind, "payload": payload });
            if with_id {
                message["id"] = json!(id);
            }
            Frame::Json(message)
        }),
        1 => "\\PC{0,40}".prop_map(Frame::Text),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(Frame::Binary),
    ]
}

/// Close codes a client may see: normal, policy (rate limits), too big,
/// and the graphql-transport-ws codes.
const PROTOCOL_CLOSE_CODES: [u16; 9] = [1000, 1008, 1009, 4400, 4401, 4403, 4408, 4409, 4429];

async fn run_ws_case(
    server: &TestServer,
    legacy: bool,
    frames: &[Frame],
) -> Result<(), TestCaseError> {
    let mut request = format!("ws://{}/graphql", server.addr)
        .into_client_request()
        .map_err(|error| TestCaseError::fail(error.to_string()))?;
    let protocol = if legacy {
        "graphql-ws"
    } else {
        "graphql-transport-ws"
    };
    request
        .headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_static(protocol));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|error| TestCaseError::fail(format!("handshake: {error}")))?;
    for frame in frames {
        let message = match frame {
            Frame::Json(value) => Message::text(value.to_string()),
            Frame::Text(text) => Message::text(text.clone()),
            Frame::Binary(bytes) => Message::binary(bytes.clone()),
        };
        if socket.send(message).await.is_err() {
            break; // the server closed already; read why below
        }
    }
    // Read until the server closes or goes quiet.
    loop {
        let next = tokio::time::timeout(Duration::from_millis(250), socket.next()).await;
        match next {
            Err(_) | Ok(None) => break,
            Ok(Some(Err(_))) => break,
            Ok(Some(Ok(Message::Close(frame)))) => {
                if let Some(frame) = frame {
                    let code = u16::from(frame.code);
                    prop_assert!(
                        PROTOCOL_CLOSE_CODES.contains(&code),
                        "closed with {code} ({})",
                        frame.reason
                    );
                }
                break;
            }
            Ok(Some(Ok(Message::Text(text)))) => {
                prop_assert!(
                    !text.contains("INTERNAL_SERVER_ERROR"),
                    "internal error: {text}"
                );
            }
            Ok(Some(Ok(_))) => {}
        }
    }
    let _ = socket.close(None).await;
    Ok(())
}

#[test]
fn the_websocket_handler_answers_any_frames_with_protocol_codes_only() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (server, amy) = runtime.block_on(async {
        let server = TestServer::start().await;
        let amy = server.register("amy").await;
        (server, amy)
    });
    let strategy = (
        any::<bool>(),
        proptest::collection::vec(frame(amy.access_token.clone()), 1..8),
    );
    let result = runner().run(&strategy, |(legacy, frames)| {
        runtime.block_on(run_ws_case(&server, legacy, &frames))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    runtime.block_on(still_healthy(&server, &amy));
}

/// After the storm: health is fine and a normal request still works.
async fn still_healthy(server: &TestServer, amy: &Account) {
    let health = server.get("/health").await;
    assert!(health.status().is_success());
    let me = server.me(&amy.access_token).await;
    // A fuzzed `logoutAll` may have ended amy's sessions: both are answers.
    if me["errors"].is_array() {
        assert_eq!(common::error_code(&me), Some("UNAUTHENTICATED"), "{me}");
    } else {
        assert_no_errors(&me);
    }
}
