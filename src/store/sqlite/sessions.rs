//! `SessionStore` on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, from_millis, to_millis};
use crate::error::AppResult;
use crate::store::{NewSession, RefreshOutcome, SessionRecord, SessionStore};

const SESSION_COLUMNS: &str = "id, user_id, created_at, refreshed_at, expires_at, revoked_at";

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        id: row.get(0)?,
        user_id: row.get(1)?,
        created_at: from_millis(row.get(2)?),
        refreshed_at: from_millis(row.get(3)?),
        expires_at: from_millis(row.get(4)?),
        revoked_at: row.get::<_, Option<i64>>(5)?.map(from_millis),
    })
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, session: NewSession) -> AppResult<SessionRecord> {
        self.write("create_session", move |conn| {
            let tx = conn.savepoint()?;
            let created_at = to_millis(session.created_at);
            tx.execute(
                "INSERT INTO sessions (id, user_id, created_at, refreshed_at, expires_at)
                 VALUES (?1, ?2, ?3, ?3, ?4)",
                params![
                    session.id,
                    session.user_id,
                    created_at,
                    to_millis(session.expires_at)
                ],
            )?;
            tx.execute(
                "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES (?1, ?2, ?3)",
                params![session.refresh_token_hash, session.id, created_at],
            )?;
            tx.commit()?;
            Ok(SessionRecord {
                id: session.id,
                user_id: session.user_id,
                created_at: session.created_at,
                refreshed_at: session.created_at,
                expires_at: session.expires_at,
                revoked_at: None,
            })
        })
        .await
    }

    async fn session_by_id(&self, id: &str) -> AppResult<Option<SessionRecord>> {
        let id = id.to_owned();
        self.read("session_by_id", move |conn| {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([id], session_from_row)
                .optional()?)
        })
        .await
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> AppResult<RefreshOutcome> {
        let presented_hash = presented_hash.to_owned();
        let next_hash = next_hash.to_owned();
        self.write("rotate_refresh_token", move |conn| {
            let tx = conn.savepoint()?;
            let found = tx
                .query_row(
                    "SELECT session_id, spent_at FROM refresh_tokens WHERE token_hash = ?1",
                    [&presented_hash],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<i64>>(1)?)),
                )
                .optional()?;
            let Some((session_id, spent_at)) = found else {
                return Ok(RefreshOutcome::Invalid);
            };
            let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
            let Some(mut session) = tx
                .query_row(&sql, [&session_id], session_from_row)
                .optional()?
            else {
                return Ok(RefreshOutcome::Invalid);
            };
            if !session.is_active(now) {
                return Ok(RefreshOutcome::Invalid);
            }
            let now_millis = to_millis(now);
            if spent_at.is_some() {
                tx.execute(
                    "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1",
                    params![session_id, now_millis],
                )?;
                tx.commit()?;
                session.revoked_at = Some(now);
                return Ok(RefreshOutcome::Reused(session));
            }
            tx.execute(
                "UPDATE refresh_tokens SET spent_at = ?2 WHERE token_hash = ?1",
                params![presented_hash, now_millis],
            )?;
            tx.execute(
                "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES (?1, ?2, ?3)",
                params![next_hash, session_id, now_millis],
            )?;
            tx.execute(
                "UPDATE sessions SET refreshed_at = ?2, expires_at = ?3 WHERE id = ?1",
                params![session_id, now_millis, to_millis(expires_at)],
            )?;
            tx.commit()?;
            session.refreshed_at = now;
            session.expires_at = expires_at;
            Ok(RefreshOutcome::Rotated(session))
        })
        .await
    }

    async fn count_active_sessions(&self, now: DateTime<Utc>) -> AppResult<u64> {
        self.read("count_active_sessions", move |conn| {
            let count: i64 = conn
                .prepare_cached(
                    "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?1",
                )?
                .query_row([to_millis(now)], |row| row.get(0))?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
        .await
    }

    async fn revoke_session(&self, id: &str, now: DateTime<Utc>) -> AppResult<bool> {
        let id = id.to_owned();
        self.write("revoke_session", move |conn| {
            let changed = conn.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, to_millis(now)],
            )?;
            Ok(changed > 0)
        })
        .await
    }

    async fn revoke_user_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AppResult<u64> {
        let user_id = user_id.to_owned();
        self.write("revoke_user_sessions", move |conn| {
            let changed = conn.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                params![user_id, to_millis(now)],
            )?;
            Ok(changed as u64)
        })
        .await
    }
}
