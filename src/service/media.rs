//! Uploads: staged, inspected from their bytes, stored by hash, handed out
//! through short-lived signed URLs, and collected when never used.

use std::fs::File;
use std::sync::Arc;

use chrono::{Duration, Utc};
use uuid::Uuid;

use super::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::media::inspect::{self, ImageFacts, Staged};
use crate::media::signing::{UrlSigner, Variant};
use crate::media::{MediaLocation, MediaStore, Stored};
use crate::store::{AttachmentRecord, Store};

/// Uploads never sent nor used as an avatar are deleted after this long.
pub const UNUSED_UPLOAD_TTL: Duration = Duration::hours(24);

/// The type of every encrypted upload, and only of those: the inspector
/// never gives it to a plain file, so it marks an attachment as encrypted.
pub const ENCRYPTED_CONTENT_TYPE: &str = "application/octet-stream";
/// The name every encrypted upload is stored under.
pub const ENCRYPTED_FILE_NAME: &str = "encrypted.bin";

/// A file ready to be served.
#[derive(Debug)]
pub struct ServedFile {
    pub location: MediaLocation,
    pub content_type: String,
    pub file_name: String,
    /// The content hash: a perfect strong ETag.
    pub sha256: String,
    pub is_image: bool,
}

pub struct MediaService {
    store: Arc<dyn Store>,
    media: Arc<dyn MediaStore>,
    signer: UrlSigner,
    max_upload_bytes: u64,
}

impl MediaService {
    pub fn new(
        store: Arc<dyn Store>,
        media: Arc<dyn MediaStore>,
        signer: UrlSigner,
        max_upload_bytes: u64,
    ) -> Self {
        MediaService {
            store,
            media,
            signer,
            max_upload_bytes,
        }
    }

    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_bytes
    }

    /// Stores an upload of the viewer. Every refusal is BAD_USER_INPUT
    /// naming the reason, and leaves nothing behind.
    ///
    /// An `encrypted` upload is ciphertext made in the browser: it is kept
    /// as opaque bytes, never inspected or thumbnailed, under a neutral name
    /// (the real one travels inside the sealed message).
    pub async fn upload(
        &self,
        viewer: &Viewer,
        file_name: &str,
        mut content: File,
        encrypted: bool,
    ) -> AppResult<AttachmentRecord> {
        let file_name = if encrypted {
            ENCRYPTED_FILE_NAME.to_owned()
        } else {
            inspect::sanitize_file_name(file_name)
        };
        let staged_path = self.media.staging_dir().join(Uuid::now_v7().to_string());
        let max = self.max_upload_bytes;
        let (path, name) = (staged_path.clone(), file_name.clone());
        let inspected = tokio::task::spawn_blocking(
            move || -> AppResult<(Staged, &'static str, Option<ImageFacts>)> {
                let result = (|| {
                    let staged = inspect::stage(&mut content, &path, max)?;
                    if encrypted {
                        return Ok((staged, ENCRYPTED_CONTENT_TYPE, None));
                    }
                    let content_type = inspect::detect_type(&path, &name)?;
                    let image = if content_type.starts_with("image/") {
                        Some(inspect::image_facts(&path, content_type)?)
                    } else {
                        None
                    };
                    Ok((staged, content_type, image))
                })();
                if result.is_err() {
                    let _ = std::fs::remove_file(&path);
                }
                result
            },
        )
        .await?;
        let (staged, content_type, image) = inspected?;
        let original = match self.media.commit(&staged_path, &staged.sha256).await {
            Ok(stored) => stored,
            Err(error) => {
                let _ = tokio::fs::remove_file(&staged_path).await;
                return Err(error);
            }
        };
        // From here on a failure (disk full writing the thumbnail, database
        // busy) removes the bytes this upload added, so nothing is left
        // half-written: no file without its attachment row.
        let mut added = Vec::new();
        if original == Stored::New {
            added.push(staged.sha256.clone());
        }
        let (width, height, thumbnail_sha256) = match image {
            Some(image) => {
                let thumbnail = self
                    .media
                    .put_bytes(image.thumbnail, &image.thumbnail_sha256)
                    .await;
                match thumbnail {
                    Ok(Stored::New) => added.push(image.thumbnail_sha256.clone()),
                    Ok(Stored::Existing) => {}
                    Err(error) => return Err(self.undo(&added, error).await),
                }
                (
                    Some(i64::from(image.width)),
                    Some(i64::from(image.height)),
                    Some(image.thumbnail_sha256),
                )
            }
            None => (None, None, None),
        };
        let created = self
            .store
            .create_attachment(AttachmentRecord {
                id: Uuid::now_v7().to_string(),
                uploader_id: viewer.user_id.clone(),
                sha256: staged.sha256,
                file_name,
                content_type: content_type.to_owned(),
                size: i64::try_from(staged.size).unwrap_or(i64::MAX),
                width,
                height,
                thumbnail_sha256,
                created_at: Utc::now(),
                message_id: None,
                used_as_avatar: false,
            })
            .await;
        let attachment = match created {
            Ok(attachment) => attachment,
            Err(error) => return Err(self.undo(&added, error).await),
        };
        tracing::info!(attachment_id = %attachment.id, size = attachment.size, content_type = %attachment.content_type, "upload stored");
        Ok(attachment)
    }

    /// Removes the bytes a failed upload added and hands back its error.
    async fn undo(&self, added: &[String], error: AppError) -> AppError {
        for sha256 in added {
            if let Err(undo_error) = self.media.delete(sha256).await {
                tracing::warn!(cause = ?undo_error.source, "could not remove the bytes of a failed upload");
            }
        }
        error
    }

    /// A signed URL of the file. Callers show attachments only to viewers
    /// allowed to see them (the uploader, members of the conversation).
    pub fn url(&self, attachment: &AttachmentRecord) -> String {
        self.signer.url(&attachment.id, Variant::Original)
    }

    pub fn thumbnail_url(&self, attachment: &AttachmentRecord) -> Option<String> {
        attachment
            .thumbnail_sha256
            .as_ref()
            .map(|_| self.signer.url(&attachment.id, Variant::Thumbnail))
    }

    /// Avatars are public to signed-in users: any viewer gets a URL.
    pub fn avatar_url(&self, avatar_attachment_id: &str) -> String {
        self.signer.url(avatar_attachment_id, Variant::Thumbnail)
    }

    /// The file behind a signed URL; `None` for a bad or expired signature
    /// or an unknown file, which the HTTP layer answers alike (404).
    pub async fn open(
        &self,
        id: &str,
        variant: Variant,
        expires: i64,
        signature: &str,
    ) -> AppResult<Option<ServedFile>> {
        if !self.signer.verify(id, variant, expires, signature) {
            return Ok(None);
        }
        let Some(attachment) = self.store.attachment_by_id(id).await? else {
            return Ok(None);
        };
        let served = match variant {
            Variant::Original => ServedFile {
                location: self.media.locate(&attachment.sha256),
                is_image: attachment.content_type.starts_with("image/"),
                content_type: attachment.content_type,
                file_name: attachment.file_name,
                sha256: attachment.sha256,
            },
            Variant::Thumbnail => {
                let Some(sha256) = attachment.thumbnail_sha256 else {
                    return Ok(None);
                };
                let bytes_type = match self.media.locate(&sha256) {
                    MediaLocation::File(path) => {
                        let head = tokio::fs::read(&path).await.unwrap_or_default();
                        inspect::thumbnail_type(&head)
                    }
                    MediaLocation::Redirect(_) => "image/jpeg",
                };
                ServedFile {
                    location: self.media.locate(&sha256),
                    content_type: bytes_type.to_owned(),
                    file_name: format!("thumbnail-{}", attachment.file_name),
                    sha256,
                    is_image: true,
                }
            }
        };
        Ok(Some(served))
    }

    /// Deletes uploads never used within [`UNUSED_UPLOAD_TTL`], and their
    /// bytes once nothing else refers to them. Returns how many went.
    pub async fn collect_garbage(&self) -> AppResult<usize> {
        let stale = self
            .store
            .unused_attachments(Utc::now() - UNUSED_UPLOAD_TTL, 500)
            .await?;
        for attachment in &stale {
            self.store.delete_attachment(&attachment.id).await?;
            let hashes =
                std::iter::once(&attachment.sha256).chain(attachment.thumbnail_sha256.as_ref());
            for sha256 in hashes {
                if !self.store.content_in_use(sha256).await? {
                    self.media.delete(sha256).await?;
                }
            }
        }
        if !stale.is_empty() {
            tracing::info!(count = stale.len(), "unused uploads deleted");
        }
        Ok(stale.len())
    }

    /// Deletes stored bytes that no attachment refers to any more.
    pub async fn forget_content(&self, hashes: &[String]) -> AppResult<()> {
        for sha256 in hashes {
            if !self.store.content_in_use(sha256).await? {
                self.media.delete(sha256).await?;
            }
        }
        Ok(())
    }

    /// Makes an image the viewer uploaded their avatar.
    pub async fn claim_avatar(&self, viewer: &Viewer, attachment_id: &str) -> AppResult<()> {
        if self
            .store
            .use_as_avatar(attachment_id, &viewer.user_id)
            .await?
        {
            Ok(())
        } else {
            Err(AppError::bad_input(
                "avatarAttachmentId",
                "the avatar must be an image you uploaded",
            ))
        }
    }
}
