//! `AccountStore` on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, from_millis, to_millis, unique_violation};
use crate::error::{AppError, AppResult};
use crate::store::{AccountStore, AccountTokenPurpose, AccountTokenRecord};

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account_token(&self, token: AccountTokenRecord) -> AppResult<()> {
        self.write("create_account_token", move |conn| {
            conn.execute(
                "INSERT INTO account_tokens (token_hash, user_id, purpose, email, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    token.token_hash,
                    token.user_id,
                    token.purpose,
                    token.email,
                    to_millis(token.created_at),
                    to_millis(token.expires_at)
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn consume_account_token(
        &self,
        token_hash: &str,
        purpose: AccountTokenPurpose,
        now: DateTime<Utc>,
    ) -> AppResult<Option<AccountTokenRecord>> {
        let token_hash = token_hash.to_owned();
        self.write("consume_account_token", move |conn| {
            Ok(conn
                .query_row(
                    "UPDATE account_tokens SET used_at = ?3
                     WHERE token_hash = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3
                     RETURNING token_hash, user_id, purpose, email, created_at, expires_at",
                    params![token_hash, purpose, to_millis(now)],
                    |row| {
                        Ok(AccountTokenRecord {
                            token_hash: row.get(0)?,
                            user_id: row.get(1)?,
                            purpose: row.get(2)?,
                            email: row.get(3)?,
                            created_at: from_millis(row.get(4)?),
                            expires_at: from_millis(row.get(5)?),
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn username_available_at(&self, username: &str) -> AppResult<Option<DateTime<Utc>>> {
        let username = username.to_owned();
        self.read("username_available_at", move |conn| {
            Ok(conn
                .prepare_cached("SELECT available_at FROM released_usernames WHERE username = ?1")?
                .query_row([username], |row| row.get::<_, i64>(0))
                .optional()?
                .map(from_millis))
        })
        .await
    }

    async fn verify_email(&self, user_id: &str, email: &str, now: DateTime<Utc>) -> AppResult<()> {
        let (user_id, email) = (user_id.to_owned(), email.to_owned());
        self.write("verify_email", move |conn| {
            let updated = conn.execute(
                "UPDATE users SET email = ?2, email_verified_at = ?3
                 WHERE id = ?1 AND deleted_at IS NULL",
                params![user_id, email, to_millis(now)],
            );
            match updated {
                Ok(_) => Ok(()),
                Err(error) if unique_violation(&error).is_some() => Err(AppError::conflict(
                    "email",
                    "another account uses this email now",
                )),
                Err(error) => Err(error.into()),
            }
        })
        .await
    }

    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> AppResult<()> {
        let (user_id, password_hash) = (user_id.to_owned(), password_hash.to_owned());
        self.write("set_password_hash", move |conn| {
            let tx = conn.savepoint()?;
            tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                [&user_id, &password_hash],
            )?;
            tx.execute(
                "UPDATE account_tokens SET used_at = ?2
                 WHERE user_id = ?1 AND purpose = 'RESET_PASSWORD' AND used_at IS NULL",
                params![user_id, to_millis(Utc::now())],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn revoke_other_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<String>> {
        let (user_id, keep) = (user_id.to_owned(), keep.map(str::to_owned));
        self.write("revoke_other_sessions", move |conn| {
            let ids = conn
                .prepare_cached(
                    "UPDATE sessions SET revoked_at = ?3
                     WHERE user_id = ?1 AND revoked_at IS NULL AND (?2 IS NULL OR id != ?2)
                     RETURNING id",
                )?
                .query_map(params![user_id, keep, to_millis(now)], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(ids)
        })
        .await
    }

    async fn delete_account(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
        username_free_at: DateTime<Utc>,
    ) -> AppResult<Vec<String>> {
        let user_id = user_id.to_owned();
        self.write("delete_account", move |conn| {
            let tx = conn.savepoint()?;
            let now_ms = to_millis(now);
            let username: String = tx.query_row(
                "SELECT username FROM users WHERE id = ?1",
                [&user_id],
                |row| row.get(0),
            )?;
            tx.execute(
                "INSERT INTO released_usernames (username, available_at) VALUES (?1, ?2)
                 ON CONFLICT (username) DO UPDATE SET available_at = excluded.available_at",
                params![username, to_millis(username_free_at)],
            )?;
            let placeholder = format!("deleted.{}", user_id.replace('-', ""));
            tx.execute(
                "UPDATE users SET username = ?2, email = ?3, display_name = 'Deleted user',
                        password_hash = '!', avatar_attachment_id = NULL, deleted_at = ?4
                 WHERE id = ?1",
                params![
                    user_id,
                    placeholder,
                    format!("{placeholder}@deleted.invalid"),
                    now_ms
                ],
            )?;
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                params![user_id, now_ms],
            )?;
            tx.execute(
                "DELETE FROM friendships WHERE user_low = ?1 OR user_high = ?1",
                [&user_id],
            )?;
            tx.execute(
                "DELETE FROM blocks WHERE blocker_id = ?1 OR blocked_id = ?1",
                [&user_id],
            )?;
            tx.execute(
                "UPDATE friend_requests SET status = 'CANCELLED', responded_at = ?2
                 WHERE status = 'PENDING' AND (from_user_id = ?1 OR to_user_id = ?1)",
                params![user_id, now_ms],
            )?;
            tx.execute("DELETE FROM account_tokens WHERE user_id = ?1", [&user_id])?;
            let hashes = tx
                .prepare(
                    "DELETE FROM attachments WHERE uploader_id = ?1
                     RETURNING sha256, thumbnail_sha256",
                )?
                .query_map([&user_id], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            tx.commit()?;
            Ok(hashes
                .into_iter()
                .flat_map(|(sha, thumbnail)| std::iter::once(sha).chain(thumbnail))
                .collect())
        })
        .await
    }
}
