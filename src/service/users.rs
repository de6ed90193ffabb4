//! Profiles: looking users up, searching them, editing one's own.

use std::sync::Arc;

use super::auth::Viewer;
use super::media::MediaService;
use super::validation;
use crate::error::{AppError, AppResult};
use crate::store::{ProfileChanges, Store, UserRecord};

/// The most results one search returns.
pub const MAX_SEARCH_RESULTS: usize = 100;
const MAX_QUERY_CHARS: usize = 64;

pub struct UserService {
    store: Arc<dyn Store>,
    media: Arc<MediaService>,
}

impl UserService {
    pub fn new(store: Arc<dyn Store>, media: Arc<MediaService>) -> Self {
        UserService { store, media }
    }

    /// The viewer's own account.
    pub async fn me(&self, viewer: &Viewer) -> AppResult<UserRecord> {
        self.store
            .user_by_id(&viewer.user_id)
            .await?
            .ok_or_else(|| AppError::unauthenticated("account no longer exists"))
    }

    pub async fn user(&self, id: &str) -> AppResult<Option<UserRecord>> {
        self.store.user_by_id(id).await
    }

    pub async fn users_by_ids(&self, ids: &[String]) -> AppResult<Vec<UserRecord>> {
        self.store.users_by_ids(ids).await
    }

    /// Users matching `query` by username or display name; `first` is 1–100.
    pub async fn search(&self, query: &str, first: i32) -> AppResult<Vec<UserRecord>> {
        let limit = usize::try_from(first)
            .ok()
            .filter(|n| (1..=MAX_SEARCH_RESULTS).contains(n))
            .ok_or_else(|| {
                AppError::bad_input("first", format!("first must be 1–{MAX_SEARCH_RESULTS}"))
            })?;
        let query = query.trim();
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::bad_input(
                "query",
                format!("query must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        if query.is_empty() {
            return Ok(Vec::new());
        }
        self.store.search_users(query, limit).await
    }

    /// Changes the viewer's display name (and, once uploads exist, avatar).
    pub async fn update_profile(
        &self,
        viewer: &Viewer,
        display_name: Option<&str>,
        avatar_attachment_id: Option<&str>,
    ) -> AppResult<UserRecord> {
        let display_name = display_name.map(validation::display_name).transpose()?;
        if let Some(attachment_id) = avatar_attachment_id {
            self.media.claim_avatar(viewer, attachment_id).await?;
        }
        self.store
            .update_profile(
                &viewer.user_id,
                ProfileChanges {
                    display_name,
                    avatar_attachment_id: avatar_attachment_id.map(str::to_owned),
                },
            )
            .await?
            .ok_or_else(|| AppError::unauthenticated("account no longer exists"))
    }
}
