//! `DeviceKeyStore` on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::codec::{self, DEVICE_KEY_COLUMNS, id_list};
use super::{SqliteStore, to_millis};
use crate::error::AppResult;
use crate::store::device_keys::{device_key_revoked, too_many_device_keys};
use crate::store::{DeviceKeyRecord, DeviceKeyStore};

#[async_trait]
impl DeviceKeyStore for SqliteStore {
    async fn create_device_key(
        &self,
        key: DeviceKeyRecord,
        max_active: usize,
    ) -> AppResult<DeviceKeyRecord> {
        self.write("create_device_key", move |conn| {
            let tx = conn.savepoint()?;
            let sql = format!(
                "SELECT {DEVICE_KEY_COLUMNS} FROM device_keys
                 WHERE user_id = ?1 AND encryption_key = ?2"
            );
            let existing = tx
                .query_row(&sql, [&key.user_id, &key.encryption_key], codec::device_key)
                .optional()?;
            if let Some(existing) = existing {
                return match existing.revoked_at {
                    None => Ok(existing),
                    Some(_) => Err(device_key_revoked()),
                };
            }
            let active: i64 = tx.query_row(
                "SELECT count(*) FROM device_keys WHERE user_id = ?1 AND revoked_at IS NULL",
                [&key.user_id],
                |row| row.get(0),
            )?;
            if usize::try_from(active).unwrap_or(usize::MAX) >= max_active {
                return Err(too_many_device_keys(max_active));
            }
            tx.execute(
                "INSERT INTO device_keys
                     (id, user_id, identity_key, encryption_key, signature, label, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    key.id,
                    key.user_id,
                    key.identity_key,
                    key.encryption_key,
                    key.signature,
                    key.label,
                    to_millis(key.created_at)
                ],
            )?;
            tx.commit()?;
            Ok(key)
        })
        .await
    }

    async fn active_device_keys(&self, user_ids: &[String]) -> AppResult<Vec<DeviceKeyRecord>> {
        let user_ids = id_list(user_ids);
        self.read("active_device_keys", move |conn| {
            let sql = format!(
                "SELECT {DEVICE_KEY_COLUMNS} FROM device_keys
                 WHERE user_id IN (SELECT value FROM json_each(?1)) AND revoked_at IS NULL
                 ORDER BY created_at, id"
            );
            let keys = conn
                .prepare_cached(&sql)?
                .query_map([user_ids], codec::device_key)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(keys)
        })
        .await
    }

    async fn device_keys_by_ids(&self, ids: &[String]) -> AppResult<Vec<DeviceKeyRecord>> {
        let ids = id_list(ids);
        self.read("device_keys_by_ids", move |conn| {
            let sql = format!(
                "SELECT {DEVICE_KEY_COLUMNS} FROM device_keys
                 WHERE id IN (SELECT value FROM json_each(?1))"
            );
            let keys = conn
                .prepare_cached(&sql)?
                .query_map([ids], codec::device_key)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(keys)
        })
        .await
    }

    async fn revoke_device_keys(
        &self,
        user_id: &str,
        id: Option<&str>,
        at: DateTime<Utc>,
    ) -> AppResult<usize> {
        let (user_id, id) = (user_id.to_owned(), id.map(str::to_owned));
        self.write("revoke_device_keys", move |conn| {
            Ok(conn.execute(
                "UPDATE device_keys SET revoked_at = ?3
                 WHERE user_id = ?1 AND (?2 IS NULL OR id = ?2) AND revoked_at IS NULL",
                params![user_id, id, to_millis(at)],
            )?)
        })
        .await
    }
}
