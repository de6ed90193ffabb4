//! Running operations, with the error codes and the operation metrics every
//! response gets.
//!
//! These used to be async-graphql extensions. With any extension installed,
//! async-graphql sends every field (and every list item) of every response
//! through the extension chain: a registry lookup by type and field name
//! (SipHash) and a boxed future per field. For a 50-message page that was
//! a measurable part of each request (callgrind, BENCHMARKS.md); around
//! `execute` the same work happens once per response.

use std::time::Instant;

use async_graphql::{Request, Response};
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;

use super::AppSchema;
use super::documents;
use super::errors::with_codes;
use super::metrics::{describe, record};

/// Runs a query or mutation: codes on every error, duration by operation.
pub async fn execute(schema: &AppSchema, mut request: Request) -> Response {
    // Parsed (or recalled) once here and kept in the request, so execution
    // does not parse again; a parse error is left to `execute` to report.
    if let Some(document) = documents::parse(&request.query) {
        request.set_parsed_query(document);
    }
    let operation = request.parsed_query().ok().and_then(describe);
    let started = Instant::now();
    let response = with_codes(schema.execute(request).await);
    record(operation, &response, started.elapsed());
    response
}

/// Runs a subscription (or any operation over a socket): codes on every
/// error of every response.
pub fn execute_stream(schema: &AppSchema, request: Request) -> BoxStream<'static, Response> {
    schema.execute_stream(request).map(with_codes).boxed()
}
