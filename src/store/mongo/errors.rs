//! Driver errors as [`AppError`]s.
//!
//! Almost every driver error is an internal error (logged with its cause,
//! never shown). The exception is a duplicate key (server code 11000): the
//! unique indexes are how uniqueness holds under concurrency, so each
//! aggregate maps the index that fired to the CONFLICT its contract names.
//! The server names the index in the error message
//! (`E11000 duplicate key error collection: db.users index: users_email_key dup key: …`),
//! which is why every unique index has an explicit name (see `indexes.rs`).

use mongodb::bson::document::ValueAccessError;
use mongodb::error::{Error, ErrorKind, WriteFailure};

use crate::error::AppError;

/// The server's error code for a unique index violation.
pub const DUPLICATE_KEY: i32 = 11000;

impl From<Error> for AppError {
    #[track_caller]
    fn from(error: Error) -> Self {
        AppError::internal(explain(error))
    }
}

impl From<ValueAccessError> for AppError {
    #[track_caller]
    fn from(error: ValueAccessError) -> Self {
        AppError::internal(anyhow::anyhow!("malformed MongoDB document: {error}"))
    }
}

/// Adds the one hint an operator needs when transactions are refused: the
/// server is not a replica set member.
fn explain(error: Error) -> anyhow::Error {
    let hint = match &*error.kind {
        ErrorKind::Transaction { message, .. } => transaction_hint(message),
        _ => None,
    };
    match hint {
        Some(hint) => anyhow::Error::new(error).context(hint),
        None => anyhow::Error::new(error),
    }
}

/// What to tell an operator about a transaction error with this message.
fn transaction_hint(message: &str) -> Option<&'static str> {
    message
        .contains("not supported by this deployment")
        .then_some(
            "MongoDB refused a transaction: RealTalk needs a replica set (a single-node one is \
         enough): start mongod with --replSet and add ?replicaSet=NAME to DATABASE_URL",
        )
}

/// The code and message of a failed write, wherever the driver put them:
/// single writes, `insert_many`, and commands such as `findAndModify`.
fn write_failure(error: &Error) -> Option<(i32, &str)> {
    match &*error.kind {
        ErrorKind::Write(WriteFailure::WriteError(write)) => Some((write.code, &write.message)),
        ErrorKind::InsertMany(insert) => insert
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first())
            .map(|write| (write.code, write.message.as_str())),
        ErrorKind::Command(command) => Some((command.code, &command.message)),
        _ => None,
    }
}

/// The name of the unique index a duplicate-key error is about, if `error` is one.
pub fn duplicate_key_index(error: &Error) -> Option<&str> {
    let (code, message) = write_failure(error)?;
    if code != DUPLICATE_KEY {
        return None;
    }
    let after = message.split_once(" index: ")?.1;
    Some(after.split_whitespace().next().unwrap_or(""))
}

/// Whether `error` is any duplicate-key error.
pub fn is_duplicate_key(error: &Error) -> bool {
    write_failure(error).is_some_and(|(code, _)| code == DUPLICATE_KEY)
}

/// Maps a duplicate key on one of `conflicts` (index name, field, message)
/// to that CONFLICT; anything else is internal.
#[track_caller]
pub fn conflict_or_internal(
    error: Error,
    conflicts: &[(&str, &'static str, &'static str)],
) -> AppError {
    let conflict = duplicate_key_index(&error).and_then(|index| {
        conflicts
            .iter()
            .find(|(name, _, _)| *name == index)
            .map(|(_, field, message)| AppError::conflict(field, *message))
    });
    conflict.unwrap_or_else(|| AppError::from(error))
}

#[cfg(test)]
pub mod tests {
    use mongodb::bson::{self, doc};
    use mongodb::error::{CommandError, Error, ErrorKind, WriteError, WriteFailure};

    use super::*;
    use crate::error::ErrorKind as AppKind;

    /// A write error as the server reports it (the driver's types are not
    /// constructible, but they deserialize from the server's reply).
    pub fn write_error(code: i32, message: &str) -> Error {
        let write: WriteError = bson::from_document(doc! { "code": code, "errmsg": message })
            .expect("a write error deserializes");
        Error::from(ErrorKind::Write(WriteFailure::WriteError(write)))
    }

    fn command_error(code: i32, message: &str) -> Error {
        let command: CommandError =
            bson::from_document(doc! { "code": code, "codeName": "X", "errmsg": message })
                .expect("a command error deserializes");
        Error::from(ErrorKind::Command(command))
    }

    const USERNAME_TAKEN: &str = "E11000 duplicate key error collection: realtalk.users \
         index: users_username_key dup key: { usernameKey: \"bob\" }";

    #[test]
    fn a_duplicate_key_names_its_index() {
        assert_eq!(
            duplicate_key_index(&write_error(11000, USERNAME_TAKEN)),
            Some("users_username_key")
        );
        assert_eq!(
            duplicate_key_index(&command_error(11000, USERNAME_TAKEN)),
            Some("users_username_key")
        );
        assert!(is_duplicate_key(&write_error(
            11000,
            "E11000 without an index name"
        )));
        assert_eq!(duplicate_key_index(&write_error(121, USERNAME_TAKEN)), None);
        assert!(!is_duplicate_key(&write_error(112, "WriteConflict")));
    }

    #[test]
    fn duplicate_key_11000_on_a_known_index_is_a_conflict_on_its_field() {
        let conflicts = [
            ("users_username_key", "username", "this username is taken"),
            (
                "users_email_key",
                "email",
                "an account with this email exists",
            ),
        ];
        let error = conflict_or_internal(write_error(11000, USERNAME_TAKEN), &conflicts);
        assert_eq!(error.kind, AppKind::Conflict);
        assert_eq!(error.field, Some("username"));
        assert_eq!(error.message, "this username is taken");
    }

    #[test]
    fn other_write_errors_are_internal_and_keep_their_cause() {
        let conflicts = [("users_username_key", "username", "taken")];
        let other_index = USERNAME_TAKEN.replace("users_username_key", "_id_");
        for error in [
            write_error(11000, &other_index),
            write_error(121, "Document failed validation"),
        ] {
            let mapped = conflict_or_internal(error, &conflicts);
            assert_eq!(mapped.kind, AppKind::Internal);
            assert!(mapped.source.is_some());
            assert_eq!(mapped.message, "internal server error");
        }
    }

    #[test]
    fn a_refused_transaction_says_a_replica_set_is_needed() {
        // The driver's wording when the deployment is a standalone server.
        let hint =
            transaction_hint("Transactions are not supported by this deployment").expect("a hint");
        assert!(hint.contains("replica set"), "{hint}");
        assert!(hint.contains("replicaSet="), "{hint}");
        assert_eq!(transaction_hint("transaction already in progress"), None);
    }
}
