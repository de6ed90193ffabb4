//! `ConversationStore` on MongoDB. Members are documents of their own
//! (like SQLite rows), each with a `position` in join order taken from the
//! conversation's `memberSerial` counter in the same transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::FutureExt as _;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;

use super::codec::{self, Fields as _, TextEnum as _, date, id_list, pair_key};
use super::indexes::{CONVERSATIONS, MEMBERS, MESSAGES};
use super::membership::{add_members_in, conversation_ids_of, join_order, leave_in, new_member};
use super::{MongoStore, coll, collect, limit};
use crate::error::{AppError, AppResult};
use crate::store::{
    ConversationCursor, ConversationKind, ConversationRecord, ConversationStore, LeaveOutcome,
    MemberRecord, MemberRole,
};
use crate::telemetry::StoreTimer;

/// Conversations strictly after `after` in the list order (last activity,
/// then id, both descending).
fn after_cursor(after: &ConversationCursor) -> Document {
    let at = date(after.last_activity_at);
    doc! { "$or": [
        { "lastActivityAt": { "$lt": at } },
        { "lastActivityAt": at, "_id": { "$lt": &after.id } },
    ] }
}

/// Counts, per conversation, messages by others above the read marker.
/// `markers` are (conversation id, last read seq) of the user's memberships.
fn unread_pipeline(user_id: &str, markers: &[(String, i64)]) -> Vec<Document> {
    let above: Vec<Bson> = markers
        .iter()
        .map(|(conversation_id, seq)| {
            Bson::Document(doc! { "conversationId": conversation_id, "seq": { "$gt": seq } })
        })
        .collect();
    vec![
        doc! { "$match": {
            "$or": above,
            "authorId": { "$ne": user_id },
            "deletedAt": null,
        } },
        doc! { "$group": { "_id": "$conversationId", "count": { "$sum": 1 } } },
    ]
}

#[async_trait]
impl ConversationStore for MongoStore {
    async fn open_direct_conversation(
        &self,
        id: &str,
        user_a: &str,
        user_b: &str,
        now: DateTime<Utc>,
    ) -> AppResult<ConversationRecord> {
        let (low, high) = codec::ordered_pair(user_a, user_b);
        let key = pair_key(low, high);
        let fresh = ConversationRecord {
            id: id.to_owned(),
            kind: ConversationKind::Direct,
            title: None,
            created_at: now,
            last_seq: 0,
            last_activity_at: now,
            last_message_id: None,
            encrypted_at: None,
        };
        let mut on_insert = codec::conversation_document(&fresh, Some(&key));
        on_insert.insert("memberSerial", 2_i64);
        let members = vec![
            new_member(id, low, MemberRole::Member, now, 0),
            new_member(id, high, MemberRole::Member, now, 1),
        ];
        let context = (self.db.clone(), key, on_insert, members);
        self.transaction(
            "open_direct_conversation",
            context,
            |tx, (db, key, on_insert, members)| {
                async move {
                    let conversations = coll(db, CONVERSATIONS);
                    // Upsert on the unique key: of concurrent first calls one
                    // inserts, the others hit a write conflict and retry.
                    let before = conversations
                        .find_one_and_update(
                            doc! { "directKey": &*key },
                            doc! { "$setOnInsert": on_insert.clone() },
                        )
                        .upsert(true)
                        .return_document(ReturnDocument::Before)
                        .session(&mut *tx)
                        .await?;
                    if before.is_none() {
                        coll(db, MEMBERS)
                            .insert_many(members.iter())
                            .session(&mut *tx)
                            .await?;
                    }
                    let stored = conversations
                        .find_one(doc! { "directKey": &*key })
                        .session(&mut *tx)
                        .await?;
                    Ok(match stored {
                        Some(stored) => codec::conversation(&stored),
                        None => Err(AppError::internal(anyhow::anyhow!(
                            "direct conversation vanished mid-transaction"
                        ))),
                    })
                }
                .boxed()
            },
        )
        .await?
    }

    async fn create_group(
        &self,
        conversation: ConversationRecord,
        members: Vec<(String, MemberRole)>,
    ) -> AppResult<ConversationRecord> {
        let stored = ConversationRecord {
            kind: ConversationKind::Group,
            last_seq: 0,
            last_activity_at: conversation.created_at,
            last_message_id: None,
            ..conversation.clone()
        };
        let mut row = codec::conversation_document(&stored, None);
        row.insert("memberSerial", limit(members.len()));
        let member_rows: Vec<Document> = members
            .iter()
            .zip(0_i64..)
            .map(|((user_id, role), position)| {
                new_member(&stored.id, user_id, *role, stored.created_at, position)
            })
            .collect();
        let context = (self.db.clone(), row, member_rows);
        self.transaction("create_group", context, |tx, (db, row, member_rows)| {
            async move {
                coll(db, CONVERSATIONS)
                    .insert_one(&*row)
                    .session(&mut *tx)
                    .await?;
                if !member_rows.is_empty() {
                    coll(db, MEMBERS)
                        .insert_many(member_rows.iter())
                        .session(&mut *tx)
                        .await?;
                }
                Ok(Ok(()))
            }
            .boxed()
        })
        .await??;
        Ok(conversation)
    }

    async fn conversation_by_id(&self, id: &str) -> AppResult<Option<ConversationRecord>> {
        let _timer = StoreTimer::start("conversation_by_id");
        let found = self
            .collection(CONVERSATIONS)
            .find_one(doc! { "_id": id })
            .await?;
        found.as_ref().map(codec::conversation).transpose()
    }

    async fn conversations_by_ids(&self, ids: &[String]) -> AppResult<Vec<ConversationRecord>> {
        let _timer = StoreTimer::start("conversations_by_ids");
        let cursor = self
            .collection(CONVERSATIONS)
            .find(doc! { "_id": { "$in": id_list(ids) } })
            .await?;
        collect(cursor, codec::conversation).await
    }

    async fn conversations_of_user(
        &self,
        user_id: &str,
        after: Option<ConversationCursor>,
        limit_to: usize,
    ) -> AppResult<Vec<ConversationRecord>> {
        let _timer = StoreTimer::start("conversations_of_user");
        let ids = conversation_ids_of(&self.db, user_id).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut filter = doc! { "_id": { "$in": ids } };
        if let Some(after) = &after {
            filter.extend(after_cursor(after));
        }
        let cursor = self
            .collection(CONVERSATIONS)
            .find(filter)
            .sort(doc! { "lastActivityAt": -1, "_id": -1 })
            .limit(limit(limit_to))
            .await?;
        collect(cursor, codec::conversation).await
    }

    async fn peer_ids(&self, user_id: &str) -> AppResult<Vec<String>> {
        let _timer = StoreTimer::start("peer_ids");
        let ids = conversation_ids_of(&self.db, user_id).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let peers = self
            .collection(MEMBERS)
            .distinct(
                "userId",
                doc! { "conversationId": { "$in": ids }, "userId": { "$ne": user_id } },
            )
            .await?;
        Ok(peers
            .into_iter()
            .filter_map(|peer| match peer {
                Bson::String(id) => Some(id),
                _ => None,
            })
            .collect())
    }

    async fn member(
        &self,
        conversation_id: &str,
        user_id: &str,
    ) -> AppResult<Option<MemberRecord>> {
        let _timer = StoreTimer::start("member");
        let found = self
            .collection(MEMBERS)
            .find_one(doc! { "conversationId": conversation_id, "userId": user_id })
            .await?;
        found.as_ref().map(codec::member).transpose()
    }

    async fn members_of(&self, conversation_ids: &[String]) -> AppResult<Vec<MemberRecord>> {
        let _timer = StoreTimer::start("members_of");
        let mut order = doc! { "conversationId": 1 };
        order.extend(join_order());
        let cursor = self
            .collection(MEMBERS)
            .find(doc! { "conversationId": { "$in": id_list(conversation_ids) } })
            .sort(order)
            .await?;
        collect(cursor, codec::member).await
    }

    async fn member_count(&self, conversation_id: &str) -> AppResult<usize> {
        let _timer = StoreTimer::start("member_count");
        let count = self
            .collection(MEMBERS)
            .count_documents(doc! { "conversationId": conversation_id })
            .await?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    async fn unread_counts(
        &self,
        user_id: &str,
        conversation_ids: &[String],
    ) -> AppResult<HashMap<String, i64>> {
        let _timer = StoreTimer::start("unread_counts");
        let memberships = self
            .collection(MEMBERS)
            .find(
                doc! { "userId": user_id, "conversationId": { "$in": id_list(conversation_ids) } },
            )
            .projection(doc! { "conversationId": 1, "lastReadSeq": 1 })
            .await?;
        let markers = collect(memberships, |row| {
            Ok((row.text("conversationId")?, row.int("lastReadSeq")?))
        })
        .await?;
        if markers.is_empty() {
            return Ok(HashMap::new());
        }
        let mut counts: HashMap<String, i64> =
            markers.iter().map(|(id, _)| (id.clone(), 0)).collect();
        let cursor = self
            .collection(MESSAGES)
            .aggregate(unread_pipeline(user_id, &markers))
            .await?;
        let totals = collect(cursor, |row| Ok((row.text("_id")?, row.int("count")?))).await?;
        counts.extend(totals);
        Ok(counts)
    }

    async fn rename_group(&self, id: &str, title: &str) -> AppResult<Option<ConversationRecord>> {
        let _timer = StoreTimer::start("rename_group");
        let found = self
            .collection(CONVERSATIONS)
            .find_one_and_update(
                doc! { "_id": id, "kind": ConversationKind::Group.as_text() },
                doc! { "$set": { "title": title } },
            )
            .return_document(ReturnDocument::After)
            .await?;
        found.as_ref().map(codec::conversation).transpose()
    }

    async fn encrypt_conversation(
        &self,
        id: &str,
        at: DateTime<Utc>,
    ) -> AppResult<Option<ConversationRecord>> {
        let _timer = StoreTimer::start("encrypt_conversation");
        let conversations = self.collection(CONVERSATIONS);
        // Only the first switch sets the time; later ones find it set.
        conversations
            .update_one(
                doc! { "_id": id, "encryptedAt": null },
                doc! { "$set": { "encryptedAt": codec::date(at) } },
            )
            .await?;
        let found = conversations.find_one(doc! { "_id": id }).await?;
        found.as_ref().map(codec::conversation).transpose()
    }

    async fn add_members(
        &self,
        conversation_id: &str,
        user_ids: &[String],
        max_members: usize,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<String>> {
        let context = (
            self.db.clone(),
            conversation_id.to_owned(),
            user_ids.to_vec(),
        );
        self.transaction(
            "add_members",
            context,
            move |tx, (db, conversation_id, user_ids)| {
                async move {
                    add_members_in(db, tx, conversation_id, user_ids, max_members, now).await
                }
                .boxed()
            },
        )
        .await?
    }

    async fn set_member_role(
        &self,
        conversation_id: &str,
        user_id: &str,
        role: MemberRole,
    ) -> AppResult<Option<MemberRecord>> {
        let _timer = StoreTimer::start("set_member_role");
        let found = self
            .collection(MEMBERS)
            .find_one_and_update(
                doc! { "conversationId": conversation_id, "userId": user_id },
                doc! { "$set": { "role": role.as_text() } },
            )
            .return_document(ReturnDocument::After)
            .await?;
        found.as_ref().map(codec::member).transpose()
    }

    async fn transfer_ownership(
        &self,
        conversation_id: &str,
        old_owner: &str,
        new_owner: &str,
    ) -> AppResult<()> {
        let context = (
            self.collection(MEMBERS),
            conversation_id.to_owned(),
            old_owner.to_owned(),
            new_owner.to_owned(),
        );
        self.transaction(
            "transfer_ownership",
            context,
            |tx, (members, conversation_id, old_owner, new_owner)| {
                async move {
                    for (user_id, role) in [
                        (&*old_owner, MemberRole::Admin),
                        (&*new_owner, MemberRole::Owner),
                    ] {
                        members
                            .update_one(
                                doc! { "conversationId": &*conversation_id, "userId": user_id },
                                doc! { "$set": { "role": role.as_text() } },
                            )
                            .session(&mut *tx)
                            .await?;
                    }
                    Ok(Ok(()))
                }
                .boxed()
            },
        )
        .await?
    }

    async fn mark_read(
        &self,
        conversation_id: &str,
        user_id: &str,
        seq: i64,
    ) -> AppResult<Option<MemberRecord>> {
        let _timer = StoreTimer::start("mark_read");
        // The clamp needs the conversation's last seq. It only grows, so
        // reading it first and then moving the marker with $max (never
        // backward) is safe without a transaction.
        let conversation = self
            .collection(CONVERSATIONS)
            .find_one(doc! { "_id": conversation_id })
            .projection(doc! { "lastSeq": 1 })
            .await?;
        let last_seq = match &conversation {
            Some(conversation) => conversation.int("lastSeq")?,
            None => 0,
        };
        let found = self
            .collection(MEMBERS)
            .find_one_and_update(
                doc! { "conversationId": conversation_id, "userId": user_id },
                doc! { "$max": { "lastReadSeq": seq.min(last_seq) } },
            )
            .return_document(ReturnDocument::After)
            .await?;
        found.as_ref().map(codec::member).transpose()
    }

    async fn remove_member(&self, conversation_id: &str, user_id: &str) -> AppResult<bool> {
        let _timer = StoreTimer::start("remove_member");
        let result = self
            .collection(MEMBERS)
            .delete_one(doc! { "conversationId": conversation_id, "userId": user_id })
            .await?;
        Ok(result.deleted_count > 0)
    }

    async fn leave_group(&self, conversation_id: &str, user_id: &str) -> AppResult<LeaveOutcome> {
        let context = (
            self.db.clone(),
            conversation_id.to_owned(),
            user_id.to_owned(),
        );
        self.transaction(
            "leave_group",
            context,
            |tx, (db, conversation_id, user_id)| {
                async move { leave_in(db, tx, conversation_id, user_id).await }.boxed()
            },
        )
        .await?
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn the_list_cursor_compares_activity_then_id() {
        let at = Utc
            .timestamp_millis_opt(1_700_000_000_000)
            .single()
            .expect("time");
        let cursor = ConversationCursor {
            last_activity_at: at,
            id: "c5".into(),
        };
        let bson_at = date(at);
        assert_eq!(
            after_cursor(&cursor),
            doc! { "$or": [
                { "lastActivityAt": { "$lt": bson_at } },
                { "lastActivityAt": bson_at, "_id": { "$lt": "c5" } },
            ] }
        );
    }

    #[test]
    fn unread_counts_messages_by_others_above_each_marker_not_deleted() {
        let markers = vec![("c1".to_owned(), 4), ("c2".to_owned(), 0)];
        let pipeline = unread_pipeline("me", &markers);
        assert_eq!(
            pipeline[0],
            doc! { "$match": {
                "$or": [
                    { "conversationId": "c1", "seq": { "$gt": 4_i64 } },
                    { "conversationId": "c2", "seq": { "$gt": 0_i64 } },
                ],
                "authorId": { "$ne": "me" },
                "deletedAt": null,
            } }
        );
        assert_eq!(
            pipeline[1],
            doc! { "$group": { "_id": "$conversationId", "count": { "$sum": 1 } } }
        );
    }
}
