//! The local-directory engine: `DATA_DIR/media/ab/cd/<sha256>`, staged in
//! `DATA_DIR/media/staging`, moved into place by rename (atomic on one
//! filesystem).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use async_trait::async_trait;
use uuid::Uuid;

use super::{MediaLocation, MediaStore, Stored};
use crate::error::{AppError, AppResult};

pub struct LocalMediaStore {
    root: PathBuf,
    staging: PathBuf,
}

impl LocalMediaStore {
    /// Creates the directories and clears staging left by a crash.
    pub fn open(root: &Path) -> anyhow::Result<Self> {
        let staging = root.join("staging");
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .with_context(|| format!("clearing {}", staging.display()))?;
        }
        std::fs::create_dir_all(&staging)
            .with_context(|| format!("creating {}", staging.display()))?;
        Ok(LocalMediaStore {
            root: root.to_path_buf(),
            staging,
        })
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        let (a, b) = (
            sha256.get(0..2).unwrap_or("00"),
            sha256.get(2..4).unwrap_or("00"),
        );
        self.root.join(a).join(b).join(sha256)
    }
}

/// Whether `sha256` is a hex digest (so it can never escape the root).
fn valid_key(sha256: &str) -> bool {
    sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())
}

fn place(staged: &Path, target: &Path) -> std::io::Result<Stored> {
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if target.exists() {
        // Same hash, same bytes: keep the one already there.
        std::fs::remove_file(staged)?;
        return Ok(Stored::Existing);
    }
    std::fs::rename(staged, target)?;
    Ok(Stored::New)
}

#[async_trait]
impl MediaStore for LocalMediaStore {
    fn staging_dir(&self) -> &Path {
        &self.staging
    }

    async fn commit(&self, staged: &Path, sha256: &str) -> AppResult<Stored> {
        if !valid_key(sha256) {
            return Err(AppError::internal(anyhow::anyhow!("bad media key")));
        }
        let (staged, target) = (staged.to_path_buf(), self.path_of(sha256));
        tokio::task::spawn_blocking(move || place(&staged, &target))
            .await?
            .map_err(AppError::from)
    }

    async fn put_bytes(&self, bytes: Vec<u8>, sha256: &str) -> AppResult<Stored> {
        if !valid_key(sha256) {
            return Err(AppError::internal(anyhow::anyhow!("bad media key")));
        }
        let staged = self.staging.join(Uuid::now_v7().to_string());
        let target = self.path_of(sha256);
        tokio::task::spawn_blocking(move || -> std::io::Result<Stored> {
            let written = std::fs::File::create(&staged).and_then(|mut file| {
                file.write_all(&bytes)?;
                file.sync_all()
            });
            if let Err(error) = written {
                // A full disk leaves a partial file behind: remove it.
                let _ = std::fs::remove_file(&staged);
                return Err(error);
            }
            place(&staged, &target)
        })
        .await?
        .map_err(AppError::from)
    }

    fn locate(&self, sha256: &str) -> MediaLocation {
        MediaLocation::File(self.path_of(sha256))
    }

    async fn delete(&self, sha256: &str) -> AppResult<()> {
        if !valid_key(sha256) {
            return Ok(());
        }
        match tokio::fs::remove_file(self.path_of(sha256)).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(AppError::internal(error)),
        }
    }
}
