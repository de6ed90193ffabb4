//! GraphQL operation metrics: duration by operation and type, where the
//! operation is named by its first root field (`sendMessage`, `me`) —
//! bounded by the schema, unlike client-chosen operation names. Documents
//! that fail validation are counted as `invalid`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use async_graphql::{Response, ServerResult, Variables};

use super::errors::VALIDATION_FAILED;

pub struct OperationMetrics;

impl ExtensionFactory for OperationMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationMetricsExtension::default())
    }
}

#[derive(Default)]
struct OperationMetricsExtension {
    /// (root field, operation type) of the parsed document.
    operation: Mutex<Option<(String, &'static str)>>,
}

fn describe(document: &ExecutableDocument) -> Option<(String, &'static str)> {
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

#[async_trait::async_trait]
impl Extension for OperationMetricsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Ok(mut operation) = self.operation.lock() {
            *operation = describe(&document);
        }
        Ok(document)
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        let invalid = response.errors.iter().any(|error| {
            error
                .extensions
                .as_ref()
                .and_then(|extensions| extensions.get("code"))
                .is_some_and(|code| *code == async_graphql::Value::from(VALIDATION_FAILED))
        });
        let (operation, kind) = match self.operation.lock().ok().and_then(|o| o.clone()) {
            Some(found) if !invalid => found,
            _ => ("invalid".to_owned(), "unknown"),
        };
        metrics::histogram!(
            "realtalk_graphql_operation_duration_seconds",
            "operation" => operation,
            "type" => kind
        )
        .record(started.elapsed().as_secs_f64());
        response
    }
}
