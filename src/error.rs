//! The one error type of RealTalk.
//!
//! Every layer below GraphQL returns [`AppError`]; the GraphQL layer maps it
//! once to `extensions.code` (see `graphql::errors`). It carries its kind, a
//! client-safe message, optionally the offending input field, and — for
//! internal errors only — the underlying cause and the place it arose, which
//! are logged but never sent to clients.

use std::panic::Location;

/// What went wrong, as the API contract names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    /// Too many attempts; the client may retry after this many seconds.
    RateLimited {
        retry_after_seconds: u64,
    },
    Internal,
    /// A dependency cannot serve right now (database busy or locked, storage
    /// full). Reported as INTERNAL_SERVER_ERROR, the contract's code for
    /// server-side failures, but with a message that says what happened and
    /// `extensions.retryable`, so clients can tell "try again" from a bug.
    Unavailable,
}

impl ErrorKind {
    /// The contract's `extensions.code` for this kind.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Unauthenticated => "UNAUTHENTICATED",
            ErrorKind::Forbidden => "FORBIDDEN",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::BadUserInput => "BAD_USER_INPUT",
            ErrorKind::Conflict => "CONFLICT",
            ErrorKind::RateLimited { .. } => "RATE_LIMITED",
            ErrorKind::Internal | ErrorKind::Unavailable => "INTERNAL_SERVER_ERROR",
        }
    }
}

/// An error with its kind, a message safe to show a client, and where it arose.
///
/// Deliberately not `std::error::Error`/`Display`: async-graphql converts any
/// `Display` type into an error *without* a code, and we want the compiler to
/// route every `AppError` through the one mapping that sets `extensions.code`.
#[derive(Debug)]
pub struct AppError {
    pub kind: ErrorKind,
    /// Client-facing message. For internal errors this is generic.
    pub message: String,
    /// The input field the error is about, when there is one.
    pub field: Option<&'static str>,
    /// The cause of an internal error; logged, never shown.
    pub source: Option<anyhow::Error>,
    /// Where the error was constructed.
    pub location: &'static Location<'static>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    #[track_caller]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AppError {
            kind,
            message: message.into(),
            field: None,
            source: None,
            location: Location::caller(),
        }
    }

    #[track_caller]
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, message)
    }

    #[track_caller]
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    #[track_caller]
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// Bad input in one named field (the name the client used, e.g. `username`).
    #[track_caller]
    pub fn bad_input(field: &'static str, message: impl Into<String>) -> Self {
        AppError {
            field: Some(field),
            ..Self::new(ErrorKind::BadUserInput, message)
        }
    }

    /// A uniqueness conflict on one named field.
    #[track_caller]
    pub fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        AppError {
            field: Some(field),
            ..Self::new(ErrorKind::Conflict, message)
        }
    }

    #[track_caller]
    pub fn rate_limited(retry_after_seconds: u64) -> Self {
        let retry_after_seconds = retry_after_seconds.max(1);
        Self::new(
            ErrorKind::RateLimited {
                retry_after_seconds,
            },
            format!("too many attempts; retry in {retry_after_seconds} s"),
        )
    }

    /// An unexpected failure. The cause is kept for the log only.
    #[track_caller]
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        AppError {
            source: Some(source.into()),
            ..Self::new(ErrorKind::Internal, "internal server error")
        }
    }

    /// A dependency that cannot serve right now; `message` says which and is
    /// shown to the client, the cause is kept for the log only.
    #[track_caller]
    pub fn unavailable(message: impl Into<String>, source: impl Into<anyhow::Error>) -> Self {
        AppError {
            source: Some(source.into()),
            ..Self::new(ErrorKind::Unavailable, message)
        }
    }
}

/// What clients are told when the disk (or a quota) is full.
pub const STORAGE_FULL: &str = "the server's storage is full; nothing was stored, try again later";

/// What clients are told when the database is locked by someone else.
pub const DATABASE_BUSY: &str = "the database is busy; nothing was changed, try again shortly";

impl From<rusqlite::Error> for AppError {
    #[track_caller]
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                AppError::unavailable(DATABASE_BUSY, error)
            }
            Some(ErrorCode::DiskFull) => AppError::unavailable(STORAGE_FULL, error),
            _ => AppError::internal(error),
        }
    }
}

impl From<std::io::Error> for AppError {
    #[track_caller]
    fn from(error: std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::StorageFull
            | std::io::ErrorKind::QuotaExceeded
            | std::io::ErrorKind::FileTooLarge => AppError::unavailable(STORAGE_FULL, error),
            _ => AppError::internal(error),
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    #[track_caller]
    fn from(error: tokio::task::JoinError) -> Self {
        AppError::internal(error)
    }
}
