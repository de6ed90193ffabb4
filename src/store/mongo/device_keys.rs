//! `DeviceKeyStore` on MongoDB.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::FutureExt as _;
use mongodb::bson::{Document, doc};
use mongodb::{ClientSession, Database};

use super::codec::{self, date, id_list};
use super::indexes::{DEVICE_KEYS, USERS};
use super::{MongoStore, coll, collect};
use crate::error::AppResult;
use crate::store::device_keys::{device_key_revoked, too_many_device_keys};
use crate::store::{DeviceKeyRecord, DeviceKeyStore};
use crate::telemetry::StoreTimer;

/// The same key again, or the cap checked and the key inserted. Bumping a
/// counter on the user's document first makes two concurrent registrations
/// of one user a write conflict, so the count cannot be raced past the cap.
async fn register_in(
    db: &Database,
    tx: &mut ClientSession,
    key: &DeviceKeyRecord,
    max_active: usize,
) -> mongodb::error::Result<AppResult<DeviceKeyRecord>> {
    coll(db, USERS)
        .update_one(
            doc! { "_id": &key.user_id },
            doc! { "$inc": { "deviceKeySerial": 1_i64 } },
        )
        .session(&mut *tx)
        .await?;
    let keys = coll(db, DEVICE_KEYS);
    let existing = keys
        .find_one(doc! { "userId": &key.user_id, "encryptionKey": &key.encryption_key })
        .session(&mut *tx)
        .await?;
    if let Some(existing) = existing {
        let existing = or_reject!(tx, codec::device_key(&existing));
        if existing.revoked_at.is_some() {
            return super::reject(tx, device_key_revoked()).await;
        }
        return Ok(Ok(existing));
    }
    let active = keys
        .count_documents(doc! { "userId": &key.user_id, "revokedAt": null })
        .session(&mut *tx)
        .await?;
    if usize::try_from(active).unwrap_or(usize::MAX) >= max_active {
        return super::reject(tx, too_many_device_keys(max_active)).await;
    }
    keys.insert_one(codec::device_key_document(key))
        .session(&mut *tx)
        .await?;
    Ok(Ok(key.clone()))
}

#[async_trait]
impl DeviceKeyStore for MongoStore {
    async fn create_device_key(
        &self,
        key: DeviceKeyRecord,
        max_active: usize,
    ) -> AppResult<DeviceKeyRecord> {
        let context = (self.db.clone(), key);
        self.transaction("create_device_key", context, move |tx, (db, key)| {
            async move { register_in(db, tx, key, max_active).await }.boxed()
        })
        .await?
    }

    async fn active_device_keys(&self, user_ids: &[String]) -> AppResult<Vec<DeviceKeyRecord>> {
        let _timer = StoreTimer::start("active_device_keys");
        let cursor = self
            .collection(DEVICE_KEYS)
            .find(doc! { "userId": { "$in": id_list(user_ids) }, "revokedAt": null })
            .sort(doc! { "createdAt": 1, "_id": 1 })
            .await?;
        collect(cursor, codec::device_key).await
    }

    async fn device_keys_by_ids(&self, ids: &[String]) -> AppResult<Vec<DeviceKeyRecord>> {
        let _timer = StoreTimer::start("device_keys_by_ids");
        let cursor = self
            .collection(DEVICE_KEYS)
            .find(doc! { "_id": { "$in": id_list(ids) } })
            .await?;
        collect(cursor, codec::device_key).await
    }

    async fn revoke_device_keys(
        &self,
        user_id: &str,
        id: Option<&str>,
        at: DateTime<Utc>,
    ) -> AppResult<usize> {
        let _timer = StoreTimer::start("revoke_device_keys");
        let mut filter: Document = doc! { "userId": user_id, "revokedAt": null };
        if let Some(id) = id {
            filter.insert("_id", id);
        }
        let revoked = self
            .collection(DEVICE_KEYS)
            .update_many(filter, doc! { "$set": { "revokedAt": date(at) } })
            .await?;
        Ok(usize::try_from(revoked.modified_count).unwrap_or(usize::MAX))
    }
}
