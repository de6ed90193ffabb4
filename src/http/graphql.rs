//! `/graphql` over HTTP: POST runs any operation, GET runs queries only (and
//! serves GraphiQL to browsers), so a link or `<img>` can never mutate.

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::client_ip::ClientIp;
use crate::graphql::{Loaders, RequestContext};

/// GraphiQL loads its scripts and styles from a CDN, so its page gets its own policy.
const GRAPHIQL_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; \
     style-src 'self' 'unsafe-inline' https://unpkg.com; img-src 'self' data: https:; \
     font-src 'self' data: https:; connect-src 'self' ws: wss:; frame-ancestors 'none'";

pub async fn post(
    State(state): State<AppState>,
    Extension(ClientIp(client_ip)): Extension<ClientIp>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    if let Some(refusal) = csrf_refusal(&headers) {
        return refusal;
    }
    let request = request
        .into_inner()
        .data(RequestContext::new(client_ip, bearer_token(&headers)))
        .data(Loaders::new(&state.services));
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

pub async fn get(
    State(state): State<AppState>,
    Extension(ClientIp(client_ip)): Extension<ClientIp>,
    headers: HeaderMap,
    uri: Uri,
    websocket: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Ok(websocket) = websocket {
        return super::ws::upgrade(websocket, state, &headers, client_ip);
    }
    let query_string = uri.query().unwrap_or_default();
    if query_string.is_empty() && accepts_html(&headers) {
        let page = GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .title("RealTalk GraphiQL")
            .finish();
        return (
            [(header::CONTENT_SECURITY_POLICY, GRAPHIQL_CSP)],
            Html(page),
        )
            .into_response();
    }
    let request = match async_graphql::http::parse_query_string(query_string) {
        Ok(request) => request,
        Err(error) => {
            return bad_request(&format!("invalid GraphQL GET request: {error}"));
        }
    };
    if is_mutation(&request.query, request.operation_name.as_deref()) {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            axum::Json(serde_json::json!({
                "errors": [{
                    "message": "mutations must be sent with POST",
                    "extensions": { "code": "METHOD_NOT_ALLOWED" }
                }]
            })),
        )
            .into_response();
    }
    let request = request
        .data(RequestContext::new(client_ip, bearer_token(&headers)))
        .data(Loaders::new(&state.services));
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

/// `Bearer <token>` from the Authorization header.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|token| !token.is_empty())
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Whether the operation this request would run is a mutation. Unparsable
/// documents are left to the executor, which reports them properly.
fn is_mutation(query: &str, operation_name: Option<&str>) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    match &document.operations {
        DocumentOperations::Single(operation) => operation.node.ty == OperationType::Mutation,
        DocumentOperations::Multiple(operations) => match operation_name {
            Some(name) => operations
                .iter()
                .any(|(key, op)| key.as_str() == name && op.node.ty == OperationType::Mutation),
            None => operations
                .values()
                .any(|op| op.node.ty == OperationType::Mutation),
        },
    }
}

/// Browsers send cross-site "simple" requests (form posts, text/plain,
/// multipart) without a preflight. A JSON body, or one of the headers that
/// force a preflight, proves the request was not forged by another site.
fn csrf_refusal(headers: &HeaderMap) -> Option<Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let json = content_type.starts_with("application/json")
        || content_type.starts_with("application/graphql-response+json");
    let preflight_header = headers.contains_key("apollo-require-preflight")
        || headers.contains_key("x-requested-with");
    if json || preflight_header {
        None
    } else {
        Some(bad_request(
            "send application/json, or set an Apollo-Require-Preflight or X-Requested-With header",
        ))
    }
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({
            "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }]
        })),
    )
        .into_response()
}
