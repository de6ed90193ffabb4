//! The one mapping from [`AppError`] to GraphQL errors with `extensions.code`,
//! and [`with_codes`], which gives a code to the errors async-graphql raises
//! itself (parse, validation, limits), so every error a client sees has one
//! (applied to every response in `execution.rs`).

use std::sync::Arc;

use async_graphql::{ErrorExtensions as _, Response};
use uuid::Uuid;

use crate::error::{AppError, ErrorKind};

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        let code = error.kind.code();
        if matches!(error.kind, ErrorKind::Internal | ErrorKind::Unavailable) {
            // The client gets an id to quote; the cause stays in the log.
            let error_id = Uuid::now_v7().to_string();
            let retryable = error.kind == ErrorKind::Unavailable;
            if retryable {
                tracing::warn!(
                    error_id = %error_id,
                    location = %error.location,
                    cause = ?error.source,
                    "dependency unavailable"
                );
            } else {
                tracing::error!(
                    error_id = %error_id,
                    location = %error.location,
                    cause = ?error.source,
                    "internal error"
                );
            }
            // Unavailable messages are ours and safe to show; internal ones
            // might carry details, so the client gets a generic sentence.
            let message = if retryable {
                error.message
            } else {
                "internal server error".to_owned()
            };
            return async_graphql::Error::new(format!("{message} (error id {error_id})"))
                .extend_with(|_, extensions| {
                    extensions.set("code", code);
                    extensions.set("errorId", error_id.clone());
                    if retryable {
                        extensions.set("retryable", true);
                    }
                });
        }
        async_graphql::Error::new(error.message).extend_with(|_, extensions| {
            extensions.set("code", code);
            if let Some(field) = error.field {
                extensions.set("field", field);
            }
            if let ErrorKind::RateLimited {
                retry_after_seconds,
            } = error.kind
            {
                extensions.set("retryAfterSeconds", retry_after_seconds);
            }
        })
    }
}

/// Code for request-level errors raised before execution (parse, validation,
/// depth and complexity limits), as Apollo Server names them.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";

/// Gives every error without a code one: request-level errors (no data) are
/// validation failures; field errors without a code come from argument
/// coercion and are bad input. Counts errors by code.
pub fn with_codes(mut response: Response) -> Response {
    let fallback = if response.data == async_graphql::Value::Null {
        VALIDATION_FAILED
    } else {
        ErrorKind::BadUserInput.code()
    };
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", fallback);
        }
        let code = match extensions.get("code") {
            Some(async_graphql::Value::String(code)) => code.clone(),
            _ => fallback.to_owned(),
        };
        metrics::counter!("realtalk_graphql_errors_total", "code" => code).increment(1);
    }
    response
}

/// A loader's shared error as a GraphQL error (with its code).
pub fn shared(error: Arc<AppError>) -> async_graphql::Error {
    match Arc::try_unwrap(error) {
        Ok(error) => error.into(),
        Err(shared) => AppError {
            kind: shared.kind,
            message: shared.message.clone(),
            field: shared.field,
            source: Some(anyhow::anyhow!("{:?}", shared.source)),
            location: shared.location,
        }
        .into(),
    }
}
