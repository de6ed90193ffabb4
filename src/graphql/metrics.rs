//! GraphQL operation metrics: duration by operation and type, where the
//! operation is named by its first root field (`sendMessage`, `me`) —
//! bounded by the schema, unlike client-chosen operation names. Documents
//! that fail validation are counted as `invalid`.

use std::time::Duration;

use async_graphql::Response;
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};

use super::errors::VALIDATION_FAILED;

/// (root field, operation type) of a parsed document.
pub fn describe(document: &ExecutableDocument) -> Option<(String, &'static str)> {
    let (_, operation) = document.operations.iter().next()?;
    let kind = match operation.node.ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    let root = operation
        .node
        .selection_set
        .node
        .items
        .iter()
        .find_map(|item| match &item.node {
            Selection::Field(field) => Some(field.node.name.node.to_string()),
            _ => None,
        })?;
    Some((root, kind))
}

/// Records one operation's duration, labelled by `operation` (from
/// [`describe`]), or as `invalid` when the document failed validation.
pub fn record(operation: Option<(String, &'static str)>, response: &Response, elapsed: Duration) {
    let invalid = response.errors.iter().any(|error| {
        error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .is_some_and(|code| *code == async_graphql::Value::from(VALIDATION_FAILED))
    });
    let (operation, kind) = match operation {
        Some(found) if !invalid => found,
        _ => ("invalid".to_owned(), "unknown"),
    };
    metrics::histogram!(
        "realtalk_graphql_operation_duration_seconds",
        "operation" => operation,
        "type" => kind
    )
    .record(elapsed.as_secs_f64());
}
