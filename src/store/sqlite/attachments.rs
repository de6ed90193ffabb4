//! `AttachmentStore` on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::codec::{self, ATTACHMENT_COLUMNS, id_list};
use super::{SqliteStore, to_millis};
use crate::error::AppResult;
use crate::store::{AttachmentRecord, AttachmentStore};

#[async_trait]
impl AttachmentStore for SqliteStore {
    async fn create_attachment(&self, attachment: AttachmentRecord) -> AppResult<AttachmentRecord> {
        self.write("create_attachment", move |conn| {
            conn.execute(
                "INSERT INTO attachments (id, uploader_id, sha256, file_name, content_type, size,
                                          width, height, thumbnail_sha256, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    attachment.id,
                    attachment.uploader_id,
                    attachment.sha256,
                    attachment.file_name,
                    attachment.content_type,
                    attachment.size,
                    attachment.width,
                    attachment.height,
                    attachment.thumbnail_sha256,
                    to_millis(attachment.created_at)
                ],
            )?;
            Ok(attachment)
        })
        .await
    }

    async fn attachment_by_id(&self, id: &str) -> AppResult<Option<AttachmentRecord>> {
        let id = id.to_owned();
        self.read("attachment_by_id", move |conn| {
            let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([id], codec::attachment)
                .optional()?)
        })
        .await
    }

    async fn attachments_of_messages(
        &self,
        message_ids: &[String],
    ) -> AppResult<Vec<AttachmentRecord>> {
        let ids = id_list(message_ids);
        self.read("attachments_of_messages", move |conn| {
            let sql = format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments
                 WHERE message_id IN (SELECT value FROM json_each(?1))
                 ORDER BY created_at, id"
            );
            let attachments = conn
                .prepare_cached(&sql)?
                .query_map([ids], codec::attachment)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(attachments)
        })
        .await
    }

    async fn unused_attachments(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> AppResult<Vec<AttachmentRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read("unused_attachments", move |conn| {
            let sql = format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments
                 WHERE message_id IS NULL AND used_as_avatar = 0 AND created_at < ?1
                 ORDER BY created_at LIMIT ?2"
            );
            let attachments = conn
                .prepare_cached(&sql)?
                .query_map(params![to_millis(before), limit], codec::attachment)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(attachments)
        })
        .await
    }

    async fn content_in_use(&self, sha256: &str) -> AppResult<bool> {
        let sha256 = sha256.to_owned();
        self.read("content_in_use", move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)
                         OR EXISTS (SELECT 1 FROM attachments WHERE thumbnail_sha256 = ?1)",
                )?
                .query_row([sha256], |row| row.get(0))?)
        })
        .await
    }

    async fn use_as_avatar(&self, id: &str, uploader_id: &str) -> AppResult<bool> {
        let (id, uploader_id) = (id.to_owned(), uploader_id.to_owned());
        self.write("use_as_avatar", move |conn| {
            let changed = conn.execute(
                "UPDATE attachments SET used_as_avatar = 1
                 WHERE id = ?1 AND uploader_id = ?2 AND width IS NOT NULL",
                [id, uploader_id],
            )?;
            Ok(changed > 0)
        })
        .await
    }

    async fn delete_attachment(&self, id: &str) -> AppResult<()> {
        let id = id.to_owned();
        self.write("delete_attachment", move |conn| {
            conn.execute("DELETE FROM attachments WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }
}
