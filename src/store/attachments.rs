//! The attachments aggregate: uploaded files and where they are used.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::model::AttachmentRecord;
use crate::error::AppResult;

#[async_trait]
pub trait AttachmentStore: Send + Sync {
    async fn create_attachment(&self, attachment: AttachmentRecord) -> AppResult<AttachmentRecord>;

    async fn attachment_by_id(&self, id: &str) -> AppResult<Option<AttachmentRecord>>;

    /// Attachments of these messages, in upload order.
    async fn attachments_of_messages(
        &self,
        message_ids: &[String],
    ) -> AppResult<Vec<AttachmentRecord>>;

    /// Uploads never sent nor used as an avatar, created before `before`.
    async fn unused_attachments(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> AppResult<Vec<AttachmentRecord>>;

    /// Whether any attachment still needs the bytes stored under `sha256`
    /// (as its file or as its thumbnail).
    async fn content_in_use(&self, sha256: &str) -> AppResult<bool>;

    /// Marks an image of `uploader_id` as their avatar; `false` when it is
    /// not theirs.
    async fn use_as_avatar(&self, id: &str, uploader_id: &str) -> AppResult<bool>;

    async fn delete_attachment(&self, id: &str) -> AppResult<()>;
}
