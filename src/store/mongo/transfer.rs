//! `TransferStore` on MongoDB: rows keyed by SQLite column names to and
//! from documents.
//!
//! Each table is described once, column by column (SQLite name, document
//! field, value kind), and both directions are driven by that description,
//! so export and import cannot drift apart. What MongoDB keeps beyond the
//! SQLite columns is derived on import: case-folded keys of usernames and
//! emails, pending-pair keys of friend requests, search terms of messages,
//! members' places in join order (within equal join times, the order rows
//! arrive in: SQLite's rowid is not part of a row).

use std::collections::BTreeMap;

use async_trait::async_trait;
use mongodb::bson::{Bson, DateTime as BsonDateTime, Document, doc};
use mongodb::options::ReturnDocument;
use serde_json::Value;

use super::codec::{Fields as _, fold, pair_key};
use super::errors::is_duplicate_key;
use super::indexes::CONVERSATIONS;
use super::{MongoStore, limit, search};
use crate::error::{AppError, AppResult};
use crate::store::transfer::{Row, Table, TransferStore};
use crate::telemetry::StoreTimer;

/// How a column's value is written in a row and stored in a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Text or null.
    Text,
    /// An integer or null.
    Int,
    /// Unix milliseconds in the row, a BSON date in the document.
    Millis,
    /// SQLite's 0/1 in the row, a boolean in the document.
    Flag,
}

/// One column: its SQLite name, its document field, its kind.
type Column = (&'static str, &'static str, Kind);

use Kind::{Flag, Int, Millis, Text};

/// The columns of each table, in SQLite's order.
fn columns(table: Table) -> &'static [Column] {
    match table {
        Table::Users => &[
            ("id", "_id", Text),
            ("username", "username", Text),
            ("email", "email", Text),
            ("display_name", "displayName", Text),
            ("password_hash", "passwordHash", Text),
            ("avatar_attachment_id", "avatarAttachmentId", Text),
            ("created_at", "createdAt", Millis),
            ("last_seen_at", "lastSeenAt", Millis),
            ("email_verified_at", "emailVerifiedAt", Millis),
            ("deleted_at", "deletedAt", Millis),
        ],
        Table::DeviceKeys => &[
            ("id", "_id", Text),
            ("user_id", "userId", Text),
            ("identity_key", "identityKey", Text),
            ("encryption_key", "encryptionKey", Text),
            ("signature", "signature", Text),
            ("label", "label", Text),
            ("created_at", "createdAt", Millis),
            ("revoked_at", "revokedAt", Millis),
        ],
        Table::ReleasedUsernames => &[
            ("username", "_id", Text),
            ("available_at", "availableAt", Millis),
        ],
        Table::Sessions => &[
            ("id", "_id", Text),
            ("user_id", "userId", Text),
            ("created_at", "createdAt", Millis),
            ("refreshed_at", "refreshedAt", Millis),
            ("expires_at", "expiresAt", Millis),
            ("revoked_at", "revokedAt", Millis),
        ],
        Table::RefreshTokens => &[
            ("token_hash", "_id", Text),
            ("session_id", "sessionId", Text),
            ("issued_at", "issuedAt", Millis),
            ("spent_at", "spentAt", Millis),
        ],
        Table::AccountTokens => &[
            ("token_hash", "_id", Text),
            ("user_id", "userId", Text),
            ("purpose", "purpose", Text),
            ("email", "email", Text),
            ("created_at", "createdAt", Millis),
            ("expires_at", "expiresAt", Millis),
            ("used_at", "usedAt", Millis),
        ],
        Table::FriendRequests => &[
            ("id", "_id", Text),
            ("from_user_id", "fromUserId", Text),
            ("to_user_id", "toUserId", Text),
            ("status", "status", Text),
            ("created_at", "createdAt", Millis),
            ("responded_at", "respondedAt", Millis),
        ],
        Table::Friendships => &[
            ("user_low", "userLow", Text),
            ("user_high", "userHigh", Text),
            ("created_at", "createdAt", Millis),
        ],
        Table::Blocks => &[
            ("blocker_id", "blockerId", Text),
            ("blocked_id", "blockedId", Text),
            ("created_at", "createdAt", Millis),
        ],
        Table::Conversations => &[
            ("id", "_id", Text),
            ("kind", "kind", Text),
            ("title", "title", Text),
            ("direct_key", "directKey", Text),
            ("created_at", "createdAt", Millis),
            ("last_seq", "lastSeq", Int),
            ("last_activity_at", "lastActivityAt", Millis),
            ("last_message_id", "lastMessageId", Text),
            ("encrypted_at", "encryptedAt", Millis),
        ],
        Table::Members => &[
            ("conversation_id", "conversationId", Text),
            ("user_id", "userId", Text),
            ("role", "role", Text),
            ("joined_at", "joinedAt", Millis),
            ("last_read_seq", "lastReadSeq", Int),
        ],
        Table::Messages => &[
            ("id", "_id", Text),
            ("conversation_id", "conversationId", Text),
            ("seq", "seq", Int),
            ("author_id", "authorId", Text),
            ("body", "body", Text),
            ("reply_to_id", "replyToId", Text),
            ("client_id", "clientId", Text),
            ("created_at", "createdAt", Millis),
            ("edited_at", "editedAt", Millis),
            ("deleted_at", "deletedAt", Millis),
            ("sealed", "sealed", Text),
        ],
        Table::Reactions => &[
            ("message_id", "messageId", Text),
            ("emoji", "emoji", Text),
            ("user_id", "userId", Text),
            ("created_at", "createdAt", Millis),
        ],
        Table::MessageEvents => &[
            ("conversation_id", "conversationId", Text),
            ("seq", "seq", Int),
            ("kind", "kind", Text),
            ("message_id", "messageId", Text),
            ("created_at", "createdAt", Millis),
        ],
        Table::Attachments => &[
            ("id", "_id", Text),
            ("uploader_id", "uploaderId", Text),
            ("sha256", "sha256", Text),
            ("file_name", "fileName", Text),
            ("content_type", "contentType", Text),
            ("size", "size", Int),
            ("width", "width", Int),
            ("height", "height", Int),
            ("thumbnail_sha256", "thumbnailSha256", Text),
            ("created_at", "createdAt", Millis),
            ("message_id", "messageId", Text),
            ("used_as_avatar", "usedAsAvatar", Flag),
        ],
    }
}

/// The export order: the table's primary key in SQLite, except members,
/// which go in join order (the transfer contract: join order decides who
/// inherits a group, and equal join times are told apart by position).
fn primary_key(table: Table) -> Document {
    match table {
        Table::Friendships => doc! { "userLow": 1, "userHigh": 1 },
        Table::Blocks => doc! { "blockerId": 1, "blockedId": 1 },
        Table::Members => doc! { "conversationId": 1, "joinedAt": 1, "position": 1 },
        Table::Reactions => doc! { "messageId": 1, "emoji": 1, "userId": 1 },
        Table::MessageEvents => doc! { "conversationId": 1, "seq": 1 },
        _ => doc! { "_id": 1 },
    }
}

#[track_caller]
fn bad_row(table: Table, column: &str, problem: &str) -> AppError {
    AppError::bad_input("row", format!("{}.{column}: {problem}", table.name()))
}

/// One document as a row.
fn document_to_row(table: Table, document: &Document) -> AppResult<Row> {
    let mut row = Row::new();
    for &(column, field, kind) in columns(table) {
        let value = match kind {
            Text => document.opt_text(field)?.map_or(Value::Null, Value::from),
            Int => document.opt_int(field)?.map_or(Value::Null, Value::from),
            Millis => document
                .opt_time(field)?
                .map_or(Value::Null, |at| Value::from(at.timestamp_millis())),
            Flag => Value::from(i64::from(document.flag(field)?)),
        };
        row.insert(column.to_owned(), value);
    }
    Ok(row)
}

/// One row as a document, with what MongoDB derives from it.
fn row_to_document(table: Table, row: &Row) -> AppResult<Document> {
    let mut document = Document::new();
    for &(column, field, kind) in columns(table) {
        let value = row.get(column).unwrap_or(&Value::Null);
        let bson = match (kind, value) {
            (_, Value::Null) if kind == Flag => Bson::Boolean(false),
            (_, Value::Null) => Bson::Null,
            (Text, Value::String(text)) => Bson::String(text.clone()),
            (Int, Value::Number(number)) => number
                .as_i64()
                .map(Bson::Int64)
                .ok_or_else(|| bad_row(table, column, "expected an integer"))?,
            (Millis, Value::Number(number)) => number
                .as_i64()
                .map(|millis| Bson::DateTime(BsonDateTime::from_millis(millis)))
                .ok_or_else(|| bad_row(table, column, "expected Unix milliseconds"))?,
            (Flag, Value::Number(number)) => Bson::Boolean(number.as_i64() != Some(0)),
            (Flag, Value::Bool(flag)) => Bson::Boolean(*flag),
            (kind, _) => return Err(bad_row(table, column, &format!("expected {kind:?}"))),
        };
        // `_id` must be given; a group's absent direct key stays absent
        // (the unique index on it is sparse).
        if bson == Bson::Null && (field == "_id" || field == "directKey") {
            if field == "_id" {
                return Err(bad_row(table, column, "is required"));
            }
            continue;
        }
        document.insert(field, bson);
    }
    derive(table, &mut document)?;
    Ok(document)
}

/// Adds the fields MongoDB keeps beyond SQLite's columns.
fn derive(table: Table, document: &mut Document) -> AppResult<()> {
    match table {
        Table::Users => {
            let username_key = fold(&document.text("username")?);
            let email_key = fold(&document.text("email")?);
            document.insert("usernameKey", username_key);
            document.insert("emailKey", email_key);
        }
        Table::ReleasedUsernames => {
            let key = fold(&document.text("_id")?);
            document.insert("_id", key);
        }
        Table::FriendRequests => {
            let key = pair_key(&document.text("fromUserId")?, &document.text("toUserId")?);
            document.insert("pairKey", key);
        }
        Table::Conversations => {
            document.insert("memberSerial", 0_i64);
        }
        Table::Messages => {
            let terms = search::terms(&document.text("body")?);
            document.insert("searchTerms", terms);
        }
        _ => {}
    }
    Ok(())
}

impl MongoStore {
    /// Gives imported members their places in join order: each
    /// conversation's counter moves by its number of rows in this batch.
    async fn place_members(&self, documents: &mut [Document]) -> AppResult<()> {
        let mut per_conversation: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, document) in documents.iter().enumerate() {
            per_conversation
                .entry(document.text("conversationId")?)
                .or_default()
                .push(index);
        }
        for (conversation_id, indexes) in per_conversation {
            let before = self
                .collection(CONVERSATIONS)
                .find_one_and_update(
                    doc! { "_id": &conversation_id },
                    doc! { "$inc": { "memberSerial": limit(indexes.len()) } },
                )
                .return_document(ReturnDocument::Before)
                .await?;
            let first = match before {
                Some(before) => before.opt_int("memberSerial")?.unwrap_or(0),
                None => {
                    return Err(bad_row(
                        Table::Members,
                        "conversation_id",
                        &format!("unknown conversation {conversation_id}"),
                    ));
                }
            };
            for (index, position) in indexes.into_iter().zip(first..) {
                documents[index].insert("position", position);
            }
        }
        Ok(())
    }

    /// Keeps each conversation's counter at least at its highest imported seq.
    async fn raise_counters(&self, documents: &[Document]) -> AppResult<()> {
        let mut highest: BTreeMap<String, i64> = BTreeMap::new();
        for document in documents {
            let seq = document.int("seq")?;
            let entry = highest
                .entry(document.text("conversationId")?)
                .or_insert(seq);
            *entry = (*entry).max(seq);
        }
        for (conversation_id, seq) in highest {
            self.collection(CONVERSATIONS)
                .update_one(
                    doc! { "_id": conversation_id },
                    doc! { "$max": { "lastSeq": seq } },
                )
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl TransferStore for MongoStore {
    async fn export_rows(&self, table: Table, offset: u64, limit_to: usize) -> AppResult<Vec<Row>> {
        let _timer = StoreTimer::start("export_rows");
        let cursor = self
            .collection(table.name())
            .find(doc! {})
            .sort(primary_key(table))
            .skip(offset)
            .limit(limit(limit_to))
            .await?;
        let documents: Vec<Document> = futures_util::TryStreamExt::try_collect(cursor).await?;
        documents
            .iter()
            .map(|document| document_to_row(table, document))
            .collect()
    }

    async fn import_rows(&self, table: Table, rows: Vec<Row>) -> AppResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let _timer = StoreTimer::start("import_rows");
        let mut documents = rows
            .iter()
            .map(|row| row_to_document(table, row))
            .collect::<AppResult<Vec<_>>>()?;
        if table == Table::Members {
            self.place_members(&mut documents).await?;
        }
        let inserted = self.collection(table.name()).insert_many(&documents).await;
        if let Err(error) = inserted {
            return Err(if is_duplicate_key(&error) {
                AppError::conflict(
                    "row",
                    format!("{}: a row being imported already exists", table.name()),
                )
            } else {
                error.into()
            });
        }
        if table == Table::MessageEvents {
            self.raise_counters(&documents).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
