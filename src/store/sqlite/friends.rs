//! `FriendStore` on SQLite.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::codec::{self, FRIEND_REQUEST_COLUMNS, id_list, ordered_pair};
use super::{SqliteStore, to_millis, unique_violation};
use crate::error::{AppError, AppResult};
use crate::store::{FriendRequestRecord, FriendRequestStatus, FriendStore, Relationship};

#[async_trait]
impl FriendStore for SqliteStore {
    async fn create_friend_request(
        &self,
        request: FriendRequestRecord,
    ) -> AppResult<FriendRequestRecord> {
        self.write("create_friend_request", move |conn| {
            let inserted = conn.execute(
                "INSERT INTO friend_requests (id, from_user_id, to_user_id, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    request.id,
                    request.from_user_id,
                    request.to_user_id,
                    FriendRequestStatus::Pending,
                    to_millis(request.created_at)
                ],
            );
            match inserted {
                Ok(_) => Ok(request),
                Err(error) if unique_violation(&error).is_some() => Err(AppError::conflict(
                    "userId",
                    "a friend request between you is already pending",
                )),
                Err(error) => Err(error.into()),
            }
        })
        .await
    }

    async fn friend_request_by_id(&self, id: &str) -> AppResult<Option<FriendRequestRecord>> {
        let id = id.to_owned();
        self.read("friend_request_by_id", move |conn| {
            let sql = format!("SELECT {FRIEND_REQUEST_COLUMNS} FROM friend_requests WHERE id = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([id], codec::friend_request)
                .optional()?)
        })
        .await
    }

    async fn pending_request_between(
        &self,
        user_a: &str,
        user_b: &str,
    ) -> AppResult<Option<FriendRequestRecord>> {
        let (a, b) = (user_a.to_owned(), user_b.to_owned());
        self.read("pending_request_between", move |conn| {
            let sql = format!(
                "SELECT {FRIEND_REQUEST_COLUMNS} FROM friend_requests
                 WHERE status = 'PENDING'
                   AND ((from_user_id = ?1 AND to_user_id = ?2)
                     OR (from_user_id = ?2 AND to_user_id = ?1))"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([a, b], codec::friend_request)
                .optional()?)
        })
        .await
    }

    async fn pending_requests(
        &self,
        user_id: &str,
        incoming: bool,
    ) -> AppResult<Vec<FriendRequestRecord>> {
        let user_id = user_id.to_owned();
        self.read("pending_requests", move |conn| {
            let column = if incoming {
                "to_user_id"
            } else {
                "from_user_id"
            };
            let sql = format!(
                "SELECT {FRIEND_REQUEST_COLUMNS} FROM friend_requests
                 WHERE {column} = ?1 AND status = 'PENDING'
                 ORDER BY created_at DESC, id DESC"
            );
            let requests = conn
                .prepare_cached(&sql)?
                .query_map([user_id], codec::friend_request)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(requests)
        })
        .await
    }

    async fn are_friends(&self, user_a: &str, user_b: &str) -> AppResult<bool> {
        let (low, high) = ordered_pair(user_a, user_b);
        let (low, high) = (low.to_owned(), high.to_owned());
        self.read("are_friends", move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM friendships WHERE user_low = ?1 AND user_high = ?2)",
                )?
                .query_row([low, high], |row| row.get(0))?)
        })
        .await
    }

    async fn friend_ids(&self, user_id: &str) -> AppResult<Vec<String>> {
        let user_id = user_id.to_owned();
        self.read("friend_ids", move |conn| {
            let ids = conn
                .prepare_cached(
                    "SELECT user_high FROM friendships WHERE user_low = ?1
                     UNION ALL
                     SELECT user_low FROM friendships WHERE user_high = ?1",
                )?
                .query_map([user_id], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(ids)
        })
        .await
    }

    async fn relationships(
        &self,
        viewer_id: &str,
        other_ids: &[String],
    ) -> AppResult<HashMap<String, Relationship>> {
        let viewer_id = viewer_id.to_owned();
        let others = id_list(other_ids);
        self.read("relationships", move |conn| {
            // Strongest relation wins: a block hides everything else.
            let sql = "
                WITH others(other_id) AS (SELECT value FROM json_each(?2))
                SELECT other_id, 4 FROM others
                 WHERE EXISTS (SELECT 1 FROM blocks
                               WHERE blocker_id = ?1 AND blocked_id = other_id)
                UNION ALL
                SELECT other_id, 3 FROM others
                 WHERE EXISTS (SELECT 1 FROM friendships
                               WHERE (user_low = ?1 AND user_high = other_id)
                                  OR (user_low = other_id AND user_high = ?1))
                UNION ALL
                SELECT other_id, 2 FROM others
                 WHERE EXISTS (SELECT 1 FROM friend_requests
                               WHERE status = 'PENDING'
                                 AND from_user_id = ?1 AND to_user_id = other_id)
                UNION ALL
                SELECT other_id, 1 FROM others
                 WHERE EXISTS (SELECT 1 FROM friend_requests
                               WHERE status = 'PENDING'
                                 AND from_user_id = other_id AND to_user_id = ?1)";
            let mut relations: HashMap<String, (i64, Relationship)> = HashMap::new();
            let rows = conn
                .prepare_cached(sql)?
                .query_map(params![viewer_id, others], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (id, strength) in rows {
                let relation = match strength {
                    4 => Relationship::Blocked,
                    3 => Relationship::Friends,
                    2 => Relationship::RequestSent,
                    _ => Relationship::RequestReceived,
                };
                let entry = relations.entry(id).or_insert((strength, relation));
                if strength > entry.0 {
                    *entry = (strength, relation);
                }
            }
            Ok(relations
                .into_iter()
                .map(|(id, (_, relation))| (id, relation))
                .collect())
        })
        .await
    }

    async fn is_blocked(&self, blocker_id: &str, blocked_id: &str) -> AppResult<bool> {
        let (blocker, blocked) = (blocker_id.to_owned(), blocked_id.to_owned());
        self.read("is_blocked", move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2)",
                )?
                .query_row([blocker, blocked], |row| row.get(0))?)
        })
        .await
    }

    async fn resolve_friend_request(
        &self,
        id: &str,
        status: FriendRequestStatus,
        now: DateTime<Utc>,
    ) -> AppResult<Option<FriendRequestRecord>> {
        let id = id.to_owned();
        self.write("resolve_friend_request", move |conn| {
            let tx = conn.savepoint()?;
            let sql = format!(
                "UPDATE friend_requests SET status = ?2, responded_at = ?3
                 WHERE id = ?1 AND status = 'PENDING'
                 RETURNING {FRIEND_REQUEST_COLUMNS}"
            );
            let Some(request) = tx
                .query_row(
                    &sql,
                    params![id, status, to_millis(now)],
                    codec::friend_request,
                )
                .optional()?
            else {
                return Ok(None);
            };
            if status == FriendRequestStatus::Accepted {
                let (low, high) = ordered_pair(&request.from_user_id, &request.to_user_id);
                tx.execute(
                    "INSERT OR IGNORE INTO friendships (user_low, user_high, created_at)
                     VALUES (?1, ?2, ?3)",
                    params![low, high, to_millis(now)],
                )?;
            }
            tx.commit()?;
            Ok(Some(request))
        })
        .await
    }

    async fn remove_friendship(&self, user_a: &str, user_b: &str) -> AppResult<bool> {
        let (low, high) = ordered_pair(user_a, user_b);
        let (low, high) = (low.to_owned(), high.to_owned());
        self.write("remove_friendship", move |conn| {
            let removed = conn.execute(
                "DELETE FROM friendships WHERE user_low = ?1 AND user_high = ?2",
                [low, high],
            )?;
            Ok(removed > 0)
        })
        .await
    }

    async fn block_user(
        &self,
        blocker_id: &str,
        blocked_id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let (blocker, blocked) = (blocker_id.to_owned(), blocked_id.to_owned());
        self.write("block_user", move |conn| {
            let tx = conn.savepoint()?;
            let now = to_millis(now);
            tx.execute(
                "INSERT OR IGNORE INTO blocks (blocker_id, blocked_id, created_at) VALUES (?1, ?2, ?3)",
                params![blocker, blocked, now],
            )?;
            let (low, high) = ordered_pair(&blocker, &blocked);
            tx.execute(
                "DELETE FROM friendships WHERE user_low = ?1 AND user_high = ?2",
                [low, high],
            )?;
            tx.execute(
                "UPDATE friend_requests SET status = 'CANCELLED', responded_at = ?3
                 WHERE status = 'PENDING'
                   AND ((from_user_id = ?1 AND to_user_id = ?2)
                     OR (from_user_id = ?2 AND to_user_id = ?1))",
                params![blocker, blocked, now],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn unblock_user(&self, blocker_id: &str, blocked_id: &str) -> AppResult<bool> {
        let (blocker, blocked) = (blocker_id.to_owned(), blocked_id.to_owned());
        self.write("unblock_user", move |conn| {
            let removed = conn.execute(
                "DELETE FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2",
                [blocker, blocked],
            )?;
            Ok(removed > 0)
        })
        .await
    }
}
