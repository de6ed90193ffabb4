//! `UserStore` on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, from_millis, to_millis, unique_violation};
use crate::error::{AppError, AppResult};
use crate::store::{NewUser, ProfileChanges, UserRecord, UserStore};

pub(super) const USER_COLUMNS: &str = "id, username, email, display_name, password_hash, \
     avatar_attachment_id, created_at, last_seen_at, email_verified_at, deleted_at";

pub(super) fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: row.get(0)?,
        username: row.get(1)?,
        email: row.get(2)?,
        display_name: row.get(3)?,
        password_hash: row.get(4)?,
        avatar_attachment_id: row.get(5)?,
        created_at: from_millis(row.get(6)?),
        last_seen_at: row.get::<_, Option<i64>>(7)?.map(from_millis),
        email_verified_at: row.get::<_, Option<i64>>(8)?.map(from_millis),
        deleted_at: row.get::<_, Option<i64>>(9)?.map(from_millis),
    })
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: NewUser) -> AppResult<UserRecord> {
        self.write("create_user", move |conn| {
            let inserted = conn.execute(
                "INSERT INTO users (id, username, email, display_name, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    user.id,
                    user.username,
                    user.email,
                    user.display_name,
                    user.password_hash,
                    to_millis(user.created_at)
                ],
            );
            match inserted {
                Ok(_) => Ok(UserRecord {
                    id: user.id,
                    username: user.username,
                    email: user.email,
                    display_name: user.display_name,
                    password_hash: user.password_hash,
                    avatar_attachment_id: None,
                    created_at: user.created_at,
                    last_seen_at: None,
                    email_verified_at: None,
                    deleted_at: None,
                }),
                Err(error) => Err(match unique_violation(&error) {
                    Some("users.username") => {
                        AppError::conflict("username", "this username is taken")
                    }
                    Some("users.email") => {
                        AppError::conflict("email", "an account with this email exists")
                    }
                    _ => AppError::internal(error),
                }),
            }
        })
        .await
    }

    async fn user_by_id(&self, id: &str) -> AppResult<Option<UserRecord>> {
        let id = id.to_owned();
        self.read("user_by_id", move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([id], user_from_row)
                .optional()?)
        })
        .await
    }

    async fn users_by_ids(&self, ids: &[String]) -> AppResult<Vec<UserRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids_json = serde_json::to_string(ids).map_err(AppError::internal)?;
        self.read("users_by_ids", move |conn| {
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id IN (SELECT value FROM json_each(?1))"
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let users = statement
                .query_map([ids_json], user_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(users)
        })
        .await
    }

    async fn user_by_login(&self, login: &str) -> AppResult<Option<UserRecord>> {
        let login = login.to_owned();
        self.read("user_by_login", move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1 OR email = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([login], user_from_row)
                .optional()?)
        })
        .await
    }

    async fn search_users(&self, query: &str, limit: usize) -> AppResult<Vec<UserRecord>> {
        let contains = format!("%{}%", like_escape(query));
        let prefix = format!("{}%", like_escape(query));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read("search_users", move |conn| {
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM users
                 WHERE username LIKE ?1 ESCAPE '\\' OR display_name LIKE ?1 ESCAPE '\\'
                 ORDER BY (username LIKE ?2 ESCAPE '\\' OR display_name LIKE ?2 ESCAPE '\\') DESC,
                          username
                 LIMIT ?3"
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let users = statement
                .query_map(params![contains, prefix, limit], user_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(users)
        })
        .await
    }

    async fn touch_last_seen(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> AppResult<()> {
        let id = id.to_owned();
        self.write("touch_last_seen", move |conn| {
            conn.execute(
                "UPDATE users SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?2) WHERE id = ?1",
                params![id, to_millis(at)],
            )?;
            Ok(())
        })
        .await
    }

    async fn update_profile(
        &self,
        id: &str,
        changes: ProfileChanges,
    ) -> AppResult<Option<UserRecord>> {
        let id = id.to_owned();
        self.write("update_profile", move |conn| {
            let sql = format!(
                "UPDATE users SET
                     display_name = COALESCE(?2, display_name),
                     avatar_attachment_id = COALESCE(?3, avatar_attachment_id)
                 WHERE id = ?1
                 RETURNING {USER_COLUMNS}"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row(
                    params![id, changes.display_name, changes.avatar_attachment_id],
                    user_from_row,
                )
                .optional()?)
        })
        .await
    }
}
