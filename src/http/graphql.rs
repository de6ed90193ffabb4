//! `/graphql` over HTTP: POST runs any operation, GET runs queries only (and
//! serves GraphiQL to browsers), so a link or `<img>` can never mutate.

use async_graphql::ParseRequestError;
use async_graphql::http::GraphiQLSource;
use async_graphql::http::MultipartOptions;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql_axum::GraphQLResponse;
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use futures_util::TryStreamExt as _;
use http_body_util::Limited;
use tokio_util::compat::TokioAsyncReadCompatExt as _;
use tokio_util::io::StreamReader;

use super::AppState;
use super::client_ip::ClientIp;
use crate::config::Config;
use crate::graphql::{Loaders, RequestContext, execution};

/// GraphiQL loads its scripts and styles from a CDN, so its page gets its own policy.
const GRAPHIQL_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; \
     style-src 'self' 'unsafe-inline' https://unpkg.com; img-src 'self' data: https:; \
     font-src 'self' data: https:; connect-src 'self' ws: wss:; frame-ancestors 'none'";

/// Room for the multipart envelope around the largest upload.
const MULTIPART_OVERHEAD: usize = 1024 * 1024;

/// The largest body any `/graphql` request may have.
pub fn body_ceiling(config: &Config) -> usize {
    let uploads = usize::try_from(config.max_upload_bytes).unwrap_or(usize::MAX);
    config
        .max_body_bytes
        .max(uploads.saturating_add(MULTIPART_OVERHEAD))
}

/// POST: JSON, or a multipart upload (GraphQL multipart request spec).
/// JSON bodies get `MAX_BODY_BYTES`; multipart bodies the upload limit. The
/// body is read as a stream and cut off as soon as it passes its limit.
pub async fn post(
    State(state): State<AppState>,
    Extension(ClientIp(client_ip)): Extension<ClientIp>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(refusal) = csrf_refusal(&headers) {
        return refusal;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let multipart = content_type
        .as_deref()
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    let max_upload = usize::try_from(state.services.media.max_upload_bytes()).unwrap_or(usize::MAX);
    let limit = if multipart {
        max_upload.saturating_add(MULTIPART_OVERHEAD)
    } else {
        state.max_body_bytes
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return payload_too_large();
    }
    let stream = Body::new(Limited::new(body, limit))
        .into_data_stream()
        .map_err(std::io::Error::other);
    let reader = StreamReader::new(stream).compat();
    let options = MultipartOptions::default()
        .max_file_size(max_upload)
        .max_num_files(1);
    let request = match async_graphql::http::receive_body(content_type, reader, options).await {
        Ok(request) => request,
        Err(ParseRequestError::PayloadTooLarge) => return payload_too_large(),
        Err(ParseRequestError::Io(error)) if error.to_string().contains("length limit") => {
            return payload_too_large();
        }
        Err(error) => return bad_request(&format!("invalid GraphQL request: {error}")),
    };
    let request = request
        .data(RequestContext::new(client_ip, bearer_token(&headers)))
        .data(Loaders::new(&state.services));
    GraphQLResponse::from(execution::execute(&state.schema, request).await).into_response()
}

fn payload_too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        axum::Json(serde_json::json!({
            "errors": [{ "message": "request body too large", "extensions": { "code": "BAD_USER_INPUT" } }]
        })),
    )
        .into_response()
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
    GraphQLResponse::from(execution::execute(&state.schema, request).await).into_response()
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
    let Some(document) = crate::graphql::documents::parse(query) else {
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
