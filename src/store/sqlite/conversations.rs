//! `ConversationStore` on SQLite.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::codec::{self, CONVERSATION_COLUMNS, MEMBER_COLUMNS, id_list, ordered_pair};
use super::{SqliteStore, to_millis};
use crate::error::{AppError, AppResult};
use crate::store::{
    ConversationCursor, ConversationKind, ConversationRecord, ConversationStore, LeaveOutcome,
    MemberRecord, MemberRole,
};

/// Members of a conversation in join order: the longest-standing first.
const JOIN_ORDER: &str = "joined_at, rowid";

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn open_direct_conversation(
        &self,
        id: &str,
        user_a: &str,
        user_b: &str,
        now: DateTime<Utc>,
    ) -> AppResult<ConversationRecord> {
        let (low, high) = ordered_pair(user_a, user_b);
        let (id, low, high) = (id.to_owned(), low.to_owned(), high.to_owned());
        self.write("open_direct_conversation", move |conn| {
            let tx = conn.savepoint()?;
            let direct_key = format!("{low}:{high}");
            let now = to_millis(now);
            let created = tx.execute(
                "INSERT INTO conversations (id, kind, direct_key, created_at, last_activity_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (direct_key) DO NOTHING",
                params![id, ConversationKind::Direct, direct_key, now],
            )?;
            if created > 0 {
                for user_id in [&low, &high] {
                    tx.execute(
                        "INSERT INTO members (conversation_id, user_id, role, joined_at)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![id, user_id, MemberRole::Member, now],
                    )?;
                }
            }
            let sql =
                format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE direct_key = ?1");
            let conversation = tx.query_row(&sql, [&direct_key], codec::conversation)?;
            tx.commit()?;
            Ok(conversation)
        })
        .await
    }

    async fn create_group(
        &self,
        conversation: ConversationRecord,
        members: Vec<(String, MemberRole)>,
    ) -> AppResult<ConversationRecord> {
        self.write("create_group", move |conn| {
            let tx = conn.savepoint()?;
            let created_at = to_millis(conversation.created_at);
            tx.execute(
                "INSERT INTO conversations (id, kind, title, created_at, last_activity_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![
                    conversation.id,
                    ConversationKind::Group,
                    conversation.title,
                    created_at
                ],
            )?;
            for (user_id, role) in &members {
                tx.execute(
                    "INSERT INTO members (conversation_id, user_id, role, joined_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![conversation.id, user_id, role, created_at],
                )?;
            }
            tx.commit()?;
            Ok(conversation)
        })
        .await
    }

    async fn conversation_by_id(&self, id: &str) -> AppResult<Option<ConversationRecord>> {
        let id = id.to_owned();
        self.read("conversation_by_id", move |conn| {
            let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([id], codec::conversation)
                .optional()?)
        })
        .await
    }

    async fn conversations_by_ids(&self, ids: &[String]) -> AppResult<Vec<ConversationRecord>> {
        let ids = id_list(ids);
        self.read("conversations_by_ids", move |conn| {
            let sql = format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations
                 WHERE id IN (SELECT value FROM json_each(?1))"
            );
            let conversations = conn
                .prepare_cached(&sql)?
                .query_map([ids], codec::conversation)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(conversations)
        })
        .await
    }

    async fn conversations_of_user(
        &self,
        user_id: &str,
        after: Option<ConversationCursor>,
        limit: usize,
    ) -> AppResult<Vec<ConversationRecord>> {
        let user_id = user_id.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read("conversations_of_user", move |conn| {
            let columns = CONVERSATION_COLUMNS
                .split(", ")
                .map(|column| format!("c.{column}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT {columns} FROM members m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.user_id = ?1
                   AND (?2 IS NULL OR (c.last_activity_at, c.id) < (?2, ?3))
                 ORDER BY c.last_activity_at DESC, c.id DESC
                 LIMIT ?4"
            );
            let (after_at, after_id) = match after {
                Some(cursor) => (Some(to_millis(cursor.last_activity_at)), Some(cursor.id)),
                None => (None, None),
            };
            let conversations = conn
                .prepare_cached(&sql)?
                .query_map(
                    params![user_id, after_at, after_id, limit],
                    codec::conversation,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(conversations)
        })
        .await
    }

    async fn peer_ids(&self, user_id: &str) -> AppResult<Vec<String>> {
        let user_id = user_id.to_owned();
        self.read("peer_ids", move |conn| {
            let ids = conn
                .prepare_cached(
                    "SELECT DISTINCT other.user_id FROM members mine
                     JOIN members other ON other.conversation_id = mine.conversation_id
                     WHERE mine.user_id = ?1 AND other.user_id != ?1",
                )?
                .query_map([user_id], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(ids)
        })
        .await
    }

    async fn member(
        &self,
        conversation_id: &str,
        user_id: &str,
    ) -> AppResult<Option<MemberRecord>> {
        let (conversation_id, user_id) = (conversation_id.to_owned(), user_id.to_owned());
        self.read("member", move |conn| {
            let sql = format!(
                "SELECT {MEMBER_COLUMNS} FROM members WHERE conversation_id = ?1 AND user_id = ?2"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([conversation_id, user_id], codec::member)
                .optional()?)
        })
        .await
    }

    async fn members_of(&self, conversation_ids: &[String]) -> AppResult<Vec<MemberRecord>> {
        let ids = id_list(conversation_ids);
        self.read("members_of", move |conn| {
            let sql = format!(
                "SELECT {MEMBER_COLUMNS} FROM members
                 WHERE conversation_id IN (SELECT value FROM json_each(?1))
                 ORDER BY conversation_id, {JOIN_ORDER}"
            );
            let members = conn
                .prepare_cached(&sql)?
                .query_map([ids], codec::member)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(members)
        })
        .await
    }

    async fn member_count(&self, conversation_id: &str) -> AppResult<usize> {
        let conversation_id = conversation_id.to_owned();
        self.read("member_count", move |conn| {
            let count: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM members WHERE conversation_id = ?1")?
                .query_row([conversation_id], |row| row.get(0))?;
            Ok(usize::try_from(count).unwrap_or(0))
        })
        .await
    }

    async fn unread_counts(
        &self,
        user_id: &str,
        conversation_ids: &[String],
    ) -> AppResult<HashMap<String, i64>> {
        let user_id = user_id.to_owned();
        let ids = id_list(conversation_ids);
        self.read("unread_counts", move |conn| {
            let counts = conn
                .prepare_cached(
                    "SELECT mb.conversation_id,
                            (SELECT COUNT(*) FROM messages m
                              WHERE m.conversation_id = mb.conversation_id
                                AND m.seq > mb.last_read_seq
                                AND m.author_id != mb.user_id
                                AND m.deleted_at IS NULL)
                     FROM members mb
                     WHERE mb.user_id = ?1
                       AND mb.conversation_id IN (SELECT value FROM json_each(?2))",
                )?
                .query_map([user_id, ids], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<HashMap<String, i64>>>()?;
            Ok(counts)
        })
        .await
    }

    async fn rename_group(&self, id: &str, title: &str) -> AppResult<Option<ConversationRecord>> {
        let (id, title) = (id.to_owned(), title.to_owned());
        self.write("rename_group", move |conn| {
            let sql = format!(
                "UPDATE conversations SET title = ?2 WHERE id = ?1 AND kind = 'GROUP'
                 RETURNING {CONVERSATION_COLUMNS}"
            );
            Ok(conn
                .query_row(&sql, [id, title], codec::conversation)
                .optional()?)
        })
        .await
    }

    async fn encrypt_conversation(
        &self,
        id: &str,
        at: DateTime<Utc>,
    ) -> AppResult<Option<ConversationRecord>> {
        let id = id.to_owned();
        self.write("encrypt_conversation", move |conn| {
            let sql = format!(
                "UPDATE conversations SET encrypted_at = coalesce(encrypted_at, ?2) WHERE id = ?1
                 RETURNING {CONVERSATION_COLUMNS}"
            );
            Ok(conn
                .query_row(&sql, params![id, to_millis(at)], codec::conversation)
                .optional()?)
        })
        .await
    }

    async fn add_members(
        &self,
        conversation_id: &str,
        user_ids: &[String],
        max_members: usize,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<String>> {
        let conversation_id = conversation_id.to_owned();
        let user_ids = user_ids.to_vec();
        self.write("add_members", move |conn| {
            let tx = conn.savepoint()?;
            let existing: HashSet<String> = tx
                .prepare_cached("SELECT user_id FROM members WHERE conversation_id = ?1")?
                .query_map([&conversation_id], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut added = Vec::new();
            for user_id in user_ids {
                if !existing.contains(&user_id) && !added.contains(&user_id) {
                    added.push(user_id);
                }
            }
            if existing.len() + added.len() > max_members {
                return Err(AppError::bad_input(
                    "userIds",
                    format!("a group has at most {max_members} members"),
                ));
            }
            for user_id in &added {
                tx.execute(
                    "INSERT INTO members (conversation_id, user_id, role, joined_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![conversation_id, user_id, MemberRole::Member, to_millis(now)],
                )?;
            }
            tx.commit()?;
            Ok(added)
        })
        .await
    }

    async fn set_member_role(
        &self,
        conversation_id: &str,
        user_id: &str,
        role: MemberRole,
    ) -> AppResult<Option<MemberRecord>> {
        let (conversation_id, user_id) = (conversation_id.to_owned(), user_id.to_owned());
        self.write("set_member_role", move |conn| {
            let sql = format!(
                "UPDATE members SET role = ?3 WHERE conversation_id = ?1 AND user_id = ?2
                 RETURNING {MEMBER_COLUMNS}"
            );
            Ok(conn
                .query_row(&sql, params![conversation_id, user_id, role], codec::member)
                .optional()?)
        })
        .await
    }

    async fn transfer_ownership(
        &self,
        conversation_id: &str,
        old_owner: &str,
        new_owner: &str,
    ) -> AppResult<()> {
        let (conversation_id, old_owner, new_owner) = (
            conversation_id.to_owned(),
            old_owner.to_owned(),
            new_owner.to_owned(),
        );
        self.write("transfer_ownership", move |conn| {
            let tx = conn.savepoint()?;
            tx.execute(
                "UPDATE members SET role = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
                params![conversation_id, old_owner, MemberRole::Admin],
            )?;
            tx.execute(
                "UPDATE members SET role = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
                params![conversation_id, new_owner, MemberRole::Owner],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn mark_read(
        &self,
        conversation_id: &str,
        user_id: &str,
        seq: i64,
    ) -> AppResult<Option<MemberRecord>> {
        let (conversation_id, user_id) = (conversation_id.to_owned(), user_id.to_owned());
        self.write("mark_read", move |conn| {
            let sql = format!(
                "UPDATE members SET last_read_seq = MAX(last_read_seq,
                        MIN(?3, (SELECT last_seq FROM conversations WHERE id = ?1)))
                 WHERE conversation_id = ?1 AND user_id = ?2
                 RETURNING {MEMBER_COLUMNS}"
            );
            Ok(conn
                .query_row(&sql, params![conversation_id, user_id, seq], codec::member)
                .optional()?)
        })
        .await
    }

    async fn remove_member(&self, conversation_id: &str, user_id: &str) -> AppResult<bool> {
        let (conversation_id, user_id) = (conversation_id.to_owned(), user_id.to_owned());
        self.write("remove_member", move |conn| {
            let removed = conn.execute(
                "DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2",
                [conversation_id, user_id],
            )?;
            Ok(removed > 0)
        })
        .await
    }

    async fn leave_group(&self, conversation_id: &str, user_id: &str) -> AppResult<LeaveOutcome> {
        let (conversation_id, user_id) = (conversation_id.to_owned(), user_id.to_owned());
        self.write("leave_group", move |conn| {
            let tx = conn.savepoint()?;
            let role: Option<MemberRole> = tx
                .query_row(
                    "DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2 RETURNING role",
                    [&conversation_id, &user_id],
                    |row| row.get(0),
                )
                .optional()?;
            let Some(role) = role else {
                return Ok(LeaveOutcome::NotMember);
            };
            let remaining: i64 = tx.query_row(
                "SELECT COUNT(*) FROM members WHERE conversation_id = ?1",
                [&conversation_id],
                |row| row.get(0),
            )?;
            if remaining == 0 {
                tx.execute("DELETE FROM conversations WHERE id = ?1", [&conversation_id])?;
                tx.commit()?;
                return Ok(LeaveOutcome::Deleted);
            }
            let mut new_owner = None;
            if role == MemberRole::Owner {
                let sql = format!(
                    "SELECT user_id FROM members WHERE conversation_id = ?1
                     ORDER BY CASE role WHEN 'ADMIN' THEN 0 ELSE 1 END, {JOIN_ORDER}
                     LIMIT 1"
                );
                let successor: String = tx.query_row(&sql, [&conversation_id], |row| row.get(0))?;
                tx.execute(
                    "UPDATE members SET role = 'OWNER' WHERE conversation_id = ?1 AND user_id = ?2",
                    [&conversation_id, &successor],
                )?;
                new_owner = Some(successor);
            }
            tx.commit()?;
            Ok(LeaveOutcome::Left { new_owner })
        })
        .await
    }
}
