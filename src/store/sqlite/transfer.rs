//! `TransferStore` on SQLite: rows out and in exactly as the tables hold
//! them, since the SQLite schema is the reference layout of a row.
//!
//! Export pages with `LIMIT/OFFSET` over a fixed order per table. Import
//! inserts each page in one writer transaction; the `messages_fts` triggers
//! index every imported message as it goes in, so search works on the copy
//! without a separate rebuild, and `conversations.last_seq` (the seq
//! counter) is a column, so it comes across with its conversation.

use async_trait::async_trait;
use rusqlite::ToSql;
use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::Value as JsonValue;

use super::SqliteStore;
use crate::error::{AppError, AppResult};
use crate::store::TransferStore;
use crate::store::transfer::{Row, Table};

/// The columns of a table (as in the migrations) and the order it is paged in.
struct Layout {
    columns: &'static [&'static str],
    order_by: &'static str,
}

fn layout(table: Table) -> Layout {
    let (columns, order_by): (&'static [&'static str], &'static str) = match table {
        Table::Users => (
            &[
                "id",
                "username",
                "email",
                "display_name",
                "password_hash",
                "avatar_attachment_id",
                "created_at",
                "last_seen_at",
                "email_verified_at",
                "deleted_at",
            ],
            "id",
        ),
        Table::DeviceKeys => (
            &[
                "id",
                "user_id",
                "identity_key",
                "encryption_key",
                "signature",
                "label",
                "created_at",
                "revoked_at",
            ],
            "id",
        ),
        Table::ReleasedUsernames => (&["username", "available_at"], "username"),
        Table::Sessions => (
            &[
                "id",
                "user_id",
                "created_at",
                "refreshed_at",
                "expires_at",
                "revoked_at",
            ],
            "id",
        ),
        Table::RefreshTokens => (
            &["token_hash", "session_id", "issued_at", "spent_at"],
            "token_hash",
        ),
        Table::AccountTokens => (
            &[
                "token_hash",
                "user_id",
                "purpose",
                "email",
                "created_at",
                "expires_at",
                "used_at",
            ],
            "token_hash",
        ),
        Table::FriendRequests => (
            &[
                "id",
                "from_user_id",
                "to_user_id",
                "status",
                "created_at",
                "responded_at",
            ],
            "id",
        ),
        Table::Friendships => (
            &["user_low", "user_high", "created_at"],
            "user_low, user_high",
        ),
        Table::Blocks => (
            &["blocker_id", "blocked_id", "created_at"],
            "blocker_id, blocked_id",
        ),
        Table::Conversations => (
            &[
                "id",
                "kind",
                "title",
                "direct_key",
                "created_at",
                "last_seq",
                "last_activity_at",
                "last_message_id",
                "encrypted_at",
            ],
            "id",
        ),
        // Rowid order is join order, which breaks ties of `joined_at` when
        // ownership passes on; importing in this order keeps it.
        Table::Members => (
            &[
                "conversation_id",
                "user_id",
                "role",
                "joined_at",
                "last_read_seq",
            ],
            "rowid",
        ),
        Table::Messages => (
            &[
                "id",
                "conversation_id",
                "seq",
                "author_id",
                "body",
                "reply_to_id",
                "client_id",
                "created_at",
                "edited_at",
                "deleted_at",
                "sealed",
            ],
            "id",
        ),
        Table::Reactions => (
            &["message_id", "emoji", "user_id", "created_at"],
            "message_id, emoji, user_id",
        ),
        Table::MessageEvents => (
            &["conversation_id", "seq", "kind", "message_id", "created_at"],
            "conversation_id, seq",
        ),
        Table::Attachments => (
            &[
                "id",
                "uploader_id",
                "sha256",
                "file_name",
                "content_type",
                "size",
                "width",
                "height",
                "thumbnail_sha256",
                "created_at",
                "message_id",
                "used_as_avatar",
            ],
            "id",
        ),
    };
    Layout { columns, order_by }
}

fn to_json(value: ValueRef<'_>) -> AppResult<JsonValue> {
    Ok(match value {
        ValueRef::Null => JsonValue::Null,
        ValueRef::Integer(number) => JsonValue::from(number),
        ValueRef::Real(number) => JsonValue::from(number),
        ValueRef::Text(text) => JsonValue::from(String::from_utf8_lossy(text).into_owned()),
        ValueRef::Blob(_) => {
            return Err(AppError::internal(anyhow::anyhow!(
                "a BLOB in a table that holds none"
            )));
        }
    })
}

fn to_sql(table: Table, column: &str, value: &JsonValue) -> AppResult<SqlValue> {
    Ok(match value {
        JsonValue::Null => SqlValue::Null,
        JsonValue::Bool(flag) => SqlValue::Integer(i64::from(*flag)),
        JsonValue::Number(number) => match number.as_i64() {
            Some(integer) => SqlValue::Integer(integer),
            None => SqlValue::Real(number.as_f64().unwrap_or(f64::NAN)),
        },
        JsonValue::String(text) => SqlValue::Text(text.clone()),
        JsonValue::Array(_) | JsonValue::Object(_) => {
            return Err(AppError::bad_input(
                "row",
                format!(
                    "{}.{column}: a row value must be text, a number or null",
                    table.name()
                ),
            ));
        }
    })
}

/// An insert that failed on a constraint says which row was wrong; the
/// rest are internal.
fn import_error(table: Table, error: rusqlite::Error) -> AppError {
    use rusqlite::ffi;
    let rusqlite::Error::SqliteFailure(code, message) = &error else {
        return AppError::internal(error);
    };
    let detail = message.clone().unwrap_or_default();
    match code.extended_code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => AppError::conflict(
            "row",
            format!(
                "{}: the target already has this row ({detail})",
                table.name()
            ),
        ),
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY
        | ffi::SQLITE_CONSTRAINT_NOTNULL
        | ffi::SQLITE_CONSTRAINT_CHECK
        | ffi::SQLITE_CONSTRAINT_DATATYPE => AppError::bad_input(
            "row",
            format!("{}: a row does not fit the table ({detail})", table.name()),
        ),
        _ => AppError::internal(error),
    }
}

#[async_trait]
impl TransferStore for SqliteStore {
    async fn export_rows(&self, table: Table, offset: u64, limit: usize) -> AppResult<Vec<Row>> {
        let Layout { columns, order_by } = layout(table);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read("export_rows", move |conn| {
            let sql = format!(
                "SELECT {} FROM {} ORDER BY {order_by} LIMIT ?1 OFFSET ?2",
                columns.join(", "),
                table.name()
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let mut rows = statement.query([limit, offset])?;
            let mut page = Vec::new();
            while let Some(row) = rows.next()? {
                let mut out = Row::new();
                for (index, column) in columns.iter().enumerate() {
                    out.insert((*column).to_owned(), to_json(row.get_ref(index)?)?);
                }
                page.push(out);
            }
            Ok(page)
        })
        .await
    }

    async fn import_rows(&self, table: Table, rows: Vec<Row>) -> AppResult<()> {
        let Layout { columns, .. } = layout(table);
        // Check every row before touching the database.
        let mut inserts = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut names = Vec::with_capacity(row.len());
            let mut values = Vec::with_capacity(row.len());
            for (column, value) in row {
                let Some(known) = columns.iter().find(|known| **known == column) else {
                    return Err(AppError::bad_input(
                        "row",
                        format!("{} has no column {column:?}", table.name()),
                    ));
                };
                names.push(*known);
                values.push(to_sql(table, column, value)?);
            }
            inserts.push((names, values));
        }
        self.write("import_rows", move |conn| {
            let tx = conn.savepoint()?;
            for (names, values) in inserts {
                let placeholders = vec!["?"; names.len()].join(", ");
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES ({placeholders})",
                    table.name(),
                    names.join(", ")
                );
                let params: Vec<&dyn ToSql> =
                    values.iter().map(|value| value as &dyn ToSql).collect();
                tx.prepare_cached(&sql)?
                    .execute(params.as_slice())
                    .map_err(|error| import_error(table, error))?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}
