//! `MessageStore` on MongoDB. Each change is one transaction that takes
//! the conversation's next seq (`findOneAndUpdate $inc lastSeq`) and
//! appends the event; see the module docs of `mongo` for why concurrent
//! changes cannot leave gaps or duplicates.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::FutureExt as _;
use mongodb::bson::{Document, doc};

use super::codec::{self, date, id_list};
use super::errors::duplicate_key_index;
use super::event_log::{append_event, by_client_id, finish, insert_message, load, unchanged};
use super::indexes::{ATTACHMENTS, MESSAGE_EVENTS, MESSAGES, MESSAGES_AUTHOR_CLIENT_ID, REACTIONS};
use super::{MongoStore, coll, collect, collect_in, limit, search};
use crate::error::{AppError, AppResult};
use crate::store::{
    MessageChange, MessageEventKind, MessageEventRecord, MessageRecord, MessageStore, NewMessage,
    ReactionRecord,
};
use crate::telemetry::StoreTimer;

/// Inside a change's transaction: takes the next seq and appends the
/// `kind` event for `message`, or aborts with NOT_FOUND when its
/// conversation is gone. Shared by edit, delete and reactions.
macro_rules! append_or_reject {
    ($db:expr, $tx:expr, $message:expr, $kind:expr, $now:expr) => {{
        let appended = append_event(
            $db,
            $tx,
            &$message.conversation_id,
            $kind,
            &$message.id,
            $now,
        )
        .await?;
        match appended {
            Some(event) => or_reject!($tx, event),
            None => {
                return super::reject($tx, AppError::not_found("conversation not found")).await;
            }
        }
    }};
}

#[async_trait]
impl MessageStore for MongoStore {
    async fn create_message(&self, message: NewMessage) -> AppResult<MessageChange> {
        let context = (self.db.clone(), message.clone());
        let outcome = self
            .transaction("create_message", context, |tx, (db, message)| {
                async move { insert_message(db, tx, message).await }.boxed()
            })
            .await;
        match outcome {
            Ok(change) => change,
            // A concurrent retry with the same clientId committed first:
            // that message is the answer, with no event of ours.
            Err(error) if duplicate_key_index(&error) == Some(MESSAGES_AUTHOR_CLIENT_ID) => {
                let client_id = message.client_id.as_deref().unwrap_or_default();
                let existing = self
                    .collection(MESSAGES)
                    .find_one(by_client_id(&message.author_id, client_id))
                    .await?
                    .ok_or_else(|| AppError::internal(error))?;
                Ok(MessageChange {
                    message: codec::message(&existing)?,
                    event: None,
                })
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn message_by_id(&self, id: &str) -> AppResult<Option<MessageRecord>> {
        let _timer = StoreTimer::start("message_by_id");
        let found = self
            .collection(MESSAGES)
            .find_one(doc! { "_id": id })
            .await?;
        found.as_ref().map(codec::message).transpose()
    }

    async fn messages_by_ids(&self, ids: &[String]) -> AppResult<Vec<MessageRecord>> {
        let _timer = StoreTimer::start("messages_by_ids");
        let cursor = self
            .collection(MESSAGES)
            .find(doc! { "_id": { "$in": id_list(ids) } })
            .await?;
        collect(cursor, codec::message).await
    }

    async fn messages_before(
        &self,
        conversation_id: &str,
        before_seq: Option<i64>,
        limit_to: usize,
    ) -> AppResult<Vec<MessageRecord>> {
        let _timer = StoreTimer::start("messages_before");
        let mut filter = doc! { "conversationId": conversation_id };
        if let Some(before) = before_seq {
            filter.insert("seq", doc! { "$lt": before });
        }
        let cursor = self
            .collection(MESSAGES)
            .find(filter)
            .sort(doc! { "seq": -1 })
            .limit(limit(limit_to))
            .await?;
        let mut messages = collect(cursor, codec::message).await?;
        messages.reverse();
        Ok(messages)
    }

    async fn search_messages(
        &self,
        user_id: &str,
        query: &str,
        conversation_id: Option<&str>,
        limit_to: usize,
    ) -> AppResult<Vec<MessageRecord>> {
        let Some(mut filter) = search::filter(query) else {
            return Ok(Vec::new());
        };
        let _timer = StoreTimer::start("search_messages");
        let mut scope = self
            .collection(super::indexes::MEMBERS)
            .distinct("conversationId", doc! { "userId": user_id })
            .await?;
        if let Some(only) = conversation_id {
            scope.retain(|id| id.as_str() == Some(only));
        }
        if scope.is_empty() {
            return Ok(Vec::new());
        }
        filter.insert("conversationId", doc! { "$in": scope });
        filter.insert("deletedAt", mongodb::bson::Bson::Null);
        filter.insert("sealed", mongodb::bson::Bson::Null);
        let cursor = self
            .collection(MESSAGES)
            .find(filter)
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .limit(limit(limit_to))
            .await?;
        collect(cursor, codec::message).await
    }

    async fn events_after(
        &self,
        conversation_id: &str,
        after_seq: i64,
        limit_to: usize,
    ) -> AppResult<Vec<MessageEventRecord>> {
        let _timer = StoreTimer::start("events_after");
        let cursor = self
            .collection(MESSAGE_EVENTS)
            .find(doc! { "conversationId": conversation_id, "seq": { "$gt": after_seq } })
            .sort(doc! { "seq": 1 })
            .limit(limit(limit_to))
            .await?;
        collect(cursor, codec::event).await
    }

    async fn edit_message(
        &self,
        id: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>> {
        let context = (self.db.clone(), id.to_owned(), body.to_owned());
        self.transaction("edit_message", context, move |tx, (db, id, body)| {
            async move {
                let messages = coll(db, MESSAGES);
                let message = match load(&messages, tx, id).await? {
                    Some(message) => or_reject!(tx, message),
                    None => return Ok(Ok(None)),
                };
                if message.deleted {
                    return Ok(unchanged(message));
                }
                let event = append_or_reject!(db, tx, message, MessageEventKind::Edited, now);
                messages
                    .update_one(
                        doc! { "_id": &*id },
                        doc! { "$set": {
                            "body": &*body,
                            "searchTerms": search::terms(body),
                            "editedAt": date(now),
                        } },
                    )
                    .session(&mut *tx)
                    .await?;
                finish(&messages, tx, id, event).await
            }
            .boxed()
        })
        .await?
    }

    async fn add_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        max_distinct: usize,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>> {
        let context = (
            self.db.clone(),
            message_id.to_owned(),
            user_id.to_owned(),
            emoji.to_owned(),
        );
        self.transaction(
            "add_reaction",
            context,
            move |tx, (db, message_id, user_id, emoji)| {
                async move {
                    let messages = coll(db, MESSAGES);
                    let reactions = coll(db, REACTIONS);
                    let message = match load(&messages, tx, message_id).await? {
                        Some(message) => or_reject!(tx, message),
                        None => return Ok(Ok(None)),
                    };
                    if message.deleted {
                        return Ok(unchanged(message));
                    }
                    let cursor = reactions
                        .find(doc! { "messageId": &*message_id })
                        .projection(doc! { "emoji": 1, "userId": 1 })
                        .session(&mut *tx)
                        .await?;
                    let existing = collect_in(cursor, tx).await?;
                    let is = |row: &Document, field: &str, value: &str| {
                        row.get_str(field).is_ok_and(|text| text == value)
                    };
                    if existing
                        .iter()
                        .any(|row| is(row, "emoji", emoji) && is(row, "userId", user_id))
                    {
                        return Ok(unchanged(message));
                    }
                    let mut distinct: Vec<&str> = existing
                        .iter()
                        .filter_map(|row| row.get_str("emoji").ok())
                        .collect();
                    distinct.sort_unstable();
                    distinct.dedup();
                    if !distinct.contains(&emoji.as_str()) && distinct.len() >= max_distinct {
                        let error = AppError::bad_input(
                            "emoji",
                            format!(
                                "a message can carry at most {max_distinct} different reactions"
                            ),
                        );
                        return super::reject(tx, error).await;
                    }
                    let reaction = ReactionRecord {
                        message_id: message_id.clone(),
                        emoji: emoji.clone(),
                        user_id: user_id.clone(),
                        created_at: now,
                    };
                    reactions
                        .insert_one(codec::reaction_document(&reaction))
                        .session(&mut *tx)
                        .await?;
                    let event =
                        append_or_reject!(db, tx, message, MessageEventKind::ReactionsChanged, now);
                    finish(&messages, tx, message_id, event).await
                }
                .boxed()
            },
        )
        .await?
    }

    async fn remove_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>> {
        let context = (
            self.db.clone(),
            message_id.to_owned(),
            user_id.to_owned(),
            emoji.to_owned(),
        );
        self.transaction(
            "remove_reaction",
            context,
            move |tx, (db, message_id, user_id, emoji)| {
                async move {
                    let messages = coll(db, MESSAGES);
                    let message = match load(&messages, tx, message_id).await? {
                        Some(message) => or_reject!(tx, message),
                        None => return Ok(Ok(None)),
                    };
                    let removed = coll(db, REACTIONS)
                        .delete_one(doc! {
                            "messageId": &*message_id,
                            "emoji": &*emoji,
                            "userId": &*user_id,
                        })
                        .session(&mut *tx)
                        .await?;
                    if removed.deleted_count == 0 {
                        return Ok(unchanged(message));
                    }
                    let event =
                        append_or_reject!(db, tx, message, MessageEventKind::ReactionsChanged, now);
                    finish(&messages, tx, message_id, event).await
                }
                .boxed()
            },
        )
        .await?
    }

    async fn reactions_for(&self, message_ids: &[String]) -> AppResult<Vec<ReactionRecord>> {
        let _timer = StoreTimer::start("reactions_for");
        let cursor = self
            .collection(REACTIONS)
            .find(doc! { "messageId": { "$in": id_list(message_ids) } })
            .sort(doc! { "createdAt": 1, "emoji": 1, "userId": 1 })
            .await?;
        collect(cursor, codec::reaction).await
    }

    async fn delete_message(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>> {
        let context = (self.db.clone(), id.to_owned());
        self.transaction("delete_message", context, move |tx, (db, id)| {
            async move {
                let messages = coll(db, MESSAGES);
                let message = match load(&messages, tx, id).await? {
                    Some(message) => or_reject!(tx, message),
                    None => return Ok(Ok(None)),
                };
                if message.deleted {
                    return Ok(unchanged(message));
                }
                let event = append_or_reject!(db, tx, message, MessageEventKind::Deleted, now);
                messages
                    .update_one(
                        doc! { "_id": &*id },
                        doc! { "$set": {
                            "body": "",
                            "searchTerms": [],
                            "sealed": null,
                            "deletedAt": date(now),
                        } },
                    )
                    .session(&mut *tx)
                    .await?;
                coll(db, REACTIONS)
                    .delete_many(doc! { "messageId": &*id })
                    .session(&mut *tx)
                    .await?;
                coll(db, ATTACHMENTS)
                    .update_many(
                        doc! { "messageId": &*id },
                        doc! { "$set": { "messageId": null } },
                    )
                    .session(&mut *tx)
                    .await?;
                finish(&messages, tx, id, event).await
            }
            .boxed()
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use super::super::codec::TextEnum as _;
    use super::*;

    #[test]
    fn the_client_id_lookup_states_the_partial_index_condition() {
        assert_eq!(
            by_client_id("u1", "c-9"),
            doc! { "authorId": "u1", "clientId": { "$eq": "c-9", "$type": "string" } }
        );
    }

    #[test]
    fn event_kinds_are_stored_by_their_api_names() {
        assert_eq!(
            MessageEventKind::ReactionsChanged.as_text(),
            "REACTIONS_CHANGED"
        );
        assert_eq!(
            MessageEventKind::from_text("CREATED"),
            Some(MessageEventKind::Created)
        );
    }
}
