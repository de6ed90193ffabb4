//! `MessageStore` on SQLite. Each change runs in one writer transaction
//! that takes the conversation's next seq and appends the event, so the
//! log has no gaps even with many concurrent senders.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Savepoint, params};

use super::codec::{self, EVENT_COLUMNS, MESSAGE_COLUMNS, REACTION_COLUMNS, id_list};
use super::{SqliteStore, to_millis};
use crate::error::{AppError, AppResult};
use crate::store::device_keys::sealing_mismatch;
use crate::store::{
    MessageChange, MessageEventKind, MessageEventRecord, MessageRecord, MessageStore, NewMessage,
    ReactionRecord, Sealed,
};

fn load_message(tx: &Connection, id: &str) -> rusqlite::Result<Option<MessageRecord>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
    tx.query_row(&sql, [id], codec::message).optional()
}

/// Takes the conversation's next seq and appends an event with it.
fn append_event(
    tx: &Connection,
    conversation_id: &str,
    kind: MessageEventKind,
    message_id: &str,
    now: DateTime<Utc>,
) -> AppResult<MessageEventRecord> {
    let seq: i64 = tx
        .query_row(
            "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
            [conversation_id],
            |row| row.get(0),
        )
        .optional()?
        .ok_or_else(|| AppError::not_found("conversation not found"))?;
    tx.execute(
        "INSERT INTO message_events (conversation_id, seq, kind, message_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![conversation_id, seq, kind, message_id, to_millis(now)],
    )?;
    Ok(MessageEventRecord {
        conversation_id: conversation_id.to_owned(),
        seq,
        kind,
        message_id: message_id.to_owned(),
        created_at: now,
    })
}

/// Reloads a message after a change and commits.
fn finish(
    tx: Savepoint<'_>,
    message_id: &str,
    event: MessageEventRecord,
) -> AppResult<Option<MessageChange>> {
    let message = load_message(&tx, message_id)?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("message vanished mid-transaction")))?;
    tx.commit()?;
    Ok(Some(MessageChange {
        message,
        event: Some(event),
    }))
}

fn unchanged(message: MessageRecord) -> AppResult<Option<MessageChange>> {
    Ok(Some(MessageChange {
        message,
        event: None,
    }))
}

/// Plain words as an FTS5 query: each word a quoted phrase (so operators
/// and punctuation in user input are literal), all required, the last one
/// as a prefix so results appear while typing.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query = rest.join(" ");
    if !query.is_empty() {
        query.push(' ');
    }
    query.push_str(last);
    query.push('*');
    Some(query)
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn create_message(&self, message: NewMessage) -> AppResult<MessageChange> {
        self.write("create_message", move |conn| {
            let tx = conn.savepoint()?;
            if let Some(client_id) = &message.client_id {
                let sql = format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE author_id = ?1 AND client_id = ?2"
                );
                let existing = tx
                    .query_row(&sql, [&message.author_id, client_id], codec::message)
                    .optional()?;
                if let Some(existing) = existing {
                    return Ok(MessageChange {
                        message: existing,
                        event: None,
                    });
                }
            }
            let encrypted: Option<bool> = tx
                .query_row(
                    "SELECT encrypted_at IS NOT NULL FROM conversations WHERE id = ?1",
                    [&message.conversation_id],
                    |row| row.get(0),
                )
                .optional()?;
            if encrypted.is_some_and(|encrypted| encrypted != message.sealed.is_some()) {
                return Err(sealing_mismatch(encrypted == Some(true)));
            }
            let sealed = message.sealed.as_ref().map(Sealed::to_json);
            let event = append_event(
                &tx,
                &message.conversation_id,
                MessageEventKind::Created,
                &message.id,
                message.created_at,
            )?;
            let created_at = to_millis(message.created_at);
            let attached_rows = message.attachment_ids.len();
            tx.execute(
                "INSERT INTO messages
                     (id, conversation_id, seq, author_id, body, reply_to_id, client_id, created_at,
                      sealed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    message.id,
                    message.conversation_id,
                    event.seq,
                    message.author_id,
                    message.body,
                    message.reply_to_id,
                    message.client_id,
                    created_at,
                    sealed
                ],
            )?;
            if attached_rows > 0 {
                let attached = tx.execute(
                    "UPDATE attachments SET message_id = ?1
                     WHERE id IN (SELECT value FROM json_each(?2))
                       AND uploader_id = ?3 AND message_id IS NULL AND used_as_avatar = 0",
                    params![message.id, id_list(&message.attachment_ids), message.author_id],
                )?;
                if attached != attached_rows {
                    // Dropping the transaction rolls the whole send back.
                    return Err(AppError::bad_input(
                        "attachmentIds",
                        "each attachment must be your own upload, not yet sent",
                    ));
                }
            }
            tx.execute(
                "UPDATE conversations SET last_activity_at = ?2, last_message_id = ?3 WHERE id = ?1",
                params![message.conversation_id, created_at, message.id],
            )?;
            tx.commit()?;
            Ok(MessageChange {
                message: MessageRecord {
                    id: message.id,
                    conversation_id: message.conversation_id,
                    seq: event.seq,
                    author_id: message.author_id,
                    body: message.body,
                    reply_to_id: message.reply_to_id,
                    client_id: message.client_id,
                    created_at: message.created_at,
                    edited_at: None,
                    deleted: false,
                    sealed: message.sealed,
                },
                event: Some(event),
            })
        })
        .await
    }

    async fn message_by_id(&self, id: &str) -> AppResult<Option<MessageRecord>> {
        let id = id.to_owned();
        self.read("message_by_id", move |conn| {
            let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([id], codec::message)
                .optional()?)
        })
        .await
    }

    async fn messages_by_ids(&self, ids: &[String]) -> AppResult<Vec<MessageRecord>> {
        let ids = id_list(ids);
        self.read("messages_by_ids", move |conn| {
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN (SELECT value FROM json_each(?1))"
            );
            let messages = conn
                .prepare_cached(&sql)?
                .query_map([ids], codec::message)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(messages)
        })
        .await
    }

    async fn messages_before(
        &self,
        conversation_id: &str,
        before_seq: Option<i64>,
        limit: usize,
    ) -> AppResult<Vec<MessageRecord>> {
        let conversation_id = conversation_id.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read("messages_before", move |conn| {
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE conversation_id = ?1 AND (?2 IS NULL OR seq < ?2)
                 ORDER BY seq DESC LIMIT ?3"
            );
            let mut messages = conn
                .prepare_cached(&sql)?
                .query_map(params![conversation_id, before_seq, limit], codec::message)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            messages.reverse();
            Ok(messages)
        })
        .await
    }

    async fn search_messages(
        &self,
        user_id: &str,
        query: &str,
        conversation_id: Option<&str>,
        limit: usize,
    ) -> AppResult<Vec<MessageRecord>> {
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let user_id = user_id.to_owned();
        let conversation_id = conversation_id.map(str::to_owned);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read("search_messages", move |conn| {
            let columns = MESSAGE_COLUMNS
                .split(", ")
                .map(|column| format!("m.{column}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT {columns} FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid
                 WHERE messages_fts MATCH ?1
                   AND m.deleted_at IS NULL
                   AND m.sealed IS NULL
                   AND m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = ?2)
                   AND (?3 IS NULL OR m.conversation_id = ?3)
                 ORDER BY messages_fts.rank, m.created_at DESC
                 LIMIT ?4"
            );
            let messages = conn
                .prepare_cached(&sql)?
                .query_map(
                    params![fts, user_id, conversation_id, limit],
                    codec::message,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(messages)
        })
        .await
    }

    async fn events_after(
        &self,
        conversation_id: &str,
        after_seq: i64,
        limit: usize,
    ) -> AppResult<Vec<MessageEventRecord>> {
        let conversation_id = conversation_id.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read("events_after", move |conn| {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM message_events
                 WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            );
            let events = conn
                .prepare_cached(&sql)?
                .query_map(params![conversation_id, after_seq, limit], codec::event)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(events)
        })
        .await
    }

    async fn edit_message(
        &self,
        id: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>> {
        let (id, body) = (id.to_owned(), body.to_owned());
        self.write("edit_message", move |conn| {
            let tx = conn.savepoint()?;
            let Some(message) = load_message(&tx, &id)? else {
                return Ok(None);
            };
            if message.deleted {
                return unchanged(message);
            }
            let event = append_event(
                &tx,
                &message.conversation_id,
                MessageEventKind::Edited,
                &id,
                now,
            )?;
            tx.execute(
                "UPDATE messages SET body = ?2, edited_at = ?3 WHERE id = ?1",
                params![id, body, to_millis(now)],
            )?;
            finish(tx, &id, event)
        })
        .await
    }

    async fn add_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        max_distinct: usize,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>> {
        let (message_id, user_id, emoji) =
            (message_id.to_owned(), user_id.to_owned(), emoji.to_owned());
        self.write("add_reaction", move |conn| {
            let tx = conn.savepoint()?;
            let Some(message) = load_message(&tx, &message_id)? else {
                return Ok(None);
            };
            if message.deleted {
                return unchanged(message);
            }
            let (distinct, emoji_present, mine): (i64, bool, bool) = tx.query_row(
                "SELECT COUNT(DISTINCT emoji),
                        COALESCE(MAX(emoji = ?2), 0),
                        COALESCE(MAX(emoji = ?2 AND user_id = ?3), 0)
                 FROM reactions WHERE message_id = ?1",
                params![message_id, emoji, user_id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )?;
            if mine {
                return unchanged(message);
            }
            if !emoji_present && usize::try_from(distinct).unwrap_or(usize::MAX) >= max_distinct {
                return Err(AppError::bad_input(
                    "emoji",
                    format!("a message can carry at most {max_distinct} different reactions"),
                ));
            }
            tx.execute(
                "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![message_id, emoji, user_id, to_millis(now)],
            )?;
            let event = append_event(
                &tx,
                &message.conversation_id,
                MessageEventKind::ReactionsChanged,
                &message_id,
                now,
            )?;
            finish(tx, &message_id, event)
        })
        .await
    }

    async fn remove_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>> {
        let (message_id, user_id, emoji) =
            (message_id.to_owned(), user_id.to_owned(), emoji.to_owned());
        self.write("remove_reaction", move |conn| {
            let tx = conn.savepoint()?;
            let Some(message) = load_message(&tx, &message_id)? else {
                return Ok(None);
            };
            let removed = tx.execute(
                "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3",
                params![message_id, emoji, user_id],
            )?;
            if removed == 0 {
                return unchanged(message);
            }
            let event = append_event(
                &tx,
                &message.conversation_id,
                MessageEventKind::ReactionsChanged,
                &message_id,
                now,
            )?;
            finish(tx, &message_id, event)
        })
        .await
    }

    async fn reactions_for(&self, message_ids: &[String]) -> AppResult<Vec<ReactionRecord>> {
        let ids = id_list(message_ids);
        self.read("reactions_for", move |conn| {
            let sql = format!(
                "SELECT {REACTION_COLUMNS} FROM reactions
                 WHERE message_id IN (SELECT value FROM json_each(?1))
                 ORDER BY created_at, emoji, user_id"
            );
            let reactions = conn
                .prepare_cached(&sql)?
                .query_map([ids], codec::reaction)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(reactions)
        })
        .await
    }

    async fn delete_message(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>> {
        let id = id.to_owned();
        self.write("delete_message", move |conn| {
            let tx = conn.savepoint()?;
            let Some(message) = load_message(&tx, &id)? else {
                return Ok(None);
            };
            if message.deleted {
                return unchanged(message);
            }
            let event = append_event(
                &tx,
                &message.conversation_id,
                MessageEventKind::Deleted,
                &id,
                now,
            )?;
            tx.execute(
                "UPDATE messages SET body = '', sealed = NULL, deleted_at = ?2 WHERE id = ?1",
                params![id, to_millis(now)],
            )?;
            tx.execute("DELETE FROM reactions WHERE message_id = ?1", [&id])?;
            tx.execute(
                "UPDATE attachments SET message_id = NULL WHERE message_id = ?1",
                [&id],
            )?;
            finish(tx, &id, event)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn user_text_becomes_literal_phrases_with_a_prefix_last() {
        assert_eq!(
            fts_query("hello wor").as_deref(),
            Some("\"hello\" \"wor\"*")
        );
        assert_eq!(fts_query("a\"b OR").as_deref(), Some("\"a\"\"b\" \"OR\"*"));
        assert_eq!(fts_query("   "), None);
    }
}
