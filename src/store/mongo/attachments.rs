//! `AttachmentStore` on MongoDB.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::doc;

use super::codec::{self, date, id_list};
use super::indexes::ATTACHMENTS;
use super::{MongoStore, collect, limit};
use crate::error::AppResult;
use crate::store::{AttachmentRecord, AttachmentStore};
use crate::telemetry::StoreTimer;

#[async_trait]
impl AttachmentStore for MongoStore {
    async fn create_attachment(&self, attachment: AttachmentRecord) -> AppResult<AttachmentRecord> {
        let _timer = StoreTimer::start("create_attachment");
        // A new upload belongs to no message and is no avatar yet, whatever
        // the record says (as SQLite's insert leaves those to their defaults).
        let stored = AttachmentRecord {
            message_id: None,
            used_as_avatar: false,
            ..attachment.clone()
        };
        self.collection(ATTACHMENTS)
            .insert_one(codec::attachment_document(&stored))
            .await?;
        Ok(attachment)
    }

    async fn attachment_by_id(&self, id: &str) -> AppResult<Option<AttachmentRecord>> {
        let _timer = StoreTimer::start("attachment_by_id");
        let found = self
            .collection(ATTACHMENTS)
            .find_one(doc! { "_id": id })
            .await?;
        found.as_ref().map(codec::attachment).transpose()
    }

    async fn attachments_of_messages(
        &self,
        message_ids: &[String],
    ) -> AppResult<Vec<AttachmentRecord>> {
        let _timer = StoreTimer::start("attachments_of_messages");
        let cursor = self
            .collection(ATTACHMENTS)
            .find(doc! { "messageId": { "$in": id_list(message_ids) } })
            .sort(doc! { "createdAt": 1, "_id": 1 })
            .await?;
        collect(cursor, codec::attachment).await
    }

    async fn unused_attachments(
        &self,
        before: DateTime<Utc>,
        limit_to: usize,
    ) -> AppResult<Vec<AttachmentRecord>> {
        let _timer = StoreTimer::start("unused_attachments");
        let cursor = self
            .collection(ATTACHMENTS)
            .find(doc! {
                "usedAsAvatar": false,
                "messageId": null,
                "createdAt": { "$lt": date(before) },
            })
            .sort(doc! { "createdAt": 1 })
            .limit(limit(limit_to))
            .await?;
        collect(cursor, codec::attachment).await
    }

    async fn content_in_use(&self, sha256: &str) -> AppResult<bool> {
        let _timer = StoreTimer::start("content_in_use");
        let found = self
            .collection(ATTACHMENTS)
            .find_one(doc! { "$or": [{ "sha256": sha256 }, { "thumbnailSha256": sha256 }] })
            .projection(doc! { "_id": 1 })
            .await?;
        Ok(found.is_some())
    }

    async fn use_as_avatar(&self, id: &str, uploader_id: &str) -> AppResult<bool> {
        let _timer = StoreTimer::start("use_as_avatar");
        // `matched`, not `modified`: marking an avatar twice still succeeds.
        let result = self
            .collection(ATTACHMENTS)
            .update_one(
                doc! { "_id": id, "uploaderId": uploader_id, "width": { "$ne": null } },
                doc! { "$set": { "usedAsAvatar": true } },
            )
            .await?;
        Ok(result.matched_count > 0)
    }

    async fn delete_attachment(&self, id: &str) -> AppResult<()> {
        let _timer = StoreTimer::start("delete_attachment");
        self.collection(ATTACHMENTS)
            .delete_one(doc! { "_id": id })
            .await?;
        Ok(())
    }
}
