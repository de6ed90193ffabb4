//! Friends: requests, friendships and blocks.
//!
//! A blocked user is never told about the block: their requests and
//! messages to the blocker fail with the same neutral error as for anyone
//! the rules do not allow.

use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use super::auth::Viewer;
use crate::bus::{Bus, BusEvent, NotificationKind};
use crate::error::{AppError, AppResult};
use crate::store::{FriendRequestRecord, FriendRequestStatus, Store, UserRecord};

/// The neutral refusal for a request the other side does not accept.
const NOT_ACCEPTING: &str = "this user is not accepting friend requests from you";

pub struct FriendService {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
}

impl FriendService {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> Self {
        FriendService { store, bus }
    }

    /// Tells one user about a request that concerns them.
    async fn notify(
        &self,
        recipient_id: &str,
        kind: NotificationKind,
        request: &FriendRequestRecord,
    ) {
        self.bus
            .publish(BusEvent::Notification {
                recipient_id: recipient_id.to_owned(),
                kind,
                friend_request_id: Some(request.id.clone()),
                conversation_id: None,
                user_id: None,
                at: Utc::now(),
            })
            .await;
    }

    /// Asks `to_user_id` to be friends. If they already asked the viewer,
    /// this accepts their request instead.
    pub async fn send_request(
        &self,
        viewer: &Viewer,
        to_user_id: &str,
    ) -> AppResult<FriendRequestRecord> {
        let other = self.other_user(viewer, to_user_id, "userId").await?;
        if self.store.is_blocked(&viewer.user_id, &other.id).await? {
            return Err(AppError::forbidden("unblock this user first"));
        }
        if self.store.is_blocked(&other.id, &viewer.user_id).await? {
            return Err(AppError::forbidden(NOT_ACCEPTING));
        }
        if self.store.are_friends(&viewer.user_id, &other.id).await? {
            return Err(AppError::conflict("userId", "you are already friends"));
        }
        if let Some(pending) = self.accept_theirs_or_conflict(viewer, &other.id).await? {
            return Ok(pending);
        }
        let created = self
            .store
            .create_friend_request(FriendRequestRecord {
                id: Uuid::now_v7().to_string(),
                from_user_id: viewer.user_id.clone(),
                to_user_id: other.id.clone(),
                status: FriendRequestStatus::Pending,
                created_at: Utc::now(),
                responded_at: None,
            })
            .await;
        match created {
            Ok(request) => {
                self.notify(
                    &request.to_user_id,
                    NotificationKind::FriendRequestReceived,
                    &request,
                )
                .await;
                Ok(request)
            }
            // They asked at the very same moment: theirs won, so accept it.
            Err(error) if error.kind == crate::error::ErrorKind::Conflict => self
                .accept_theirs_or_conflict(viewer, &other.id)
                .await?
                .ok_or(error),
            Err(error) => Err(error),
        }
    }

    /// With a pending request between the two: accepts it when it is the
    /// other's, CONFLICT when it is the viewer's own. `None` when there is none.
    async fn accept_theirs_or_conflict(
        &self,
        viewer: &Viewer,
        other_id: &str,
    ) -> AppResult<Option<FriendRequestRecord>> {
        let Some(pending) = self
            .store
            .pending_request_between(&viewer.user_id, other_id)
            .await?
        else {
            return Ok(None);
        };
        if pending.from_user_id == viewer.user_id {
            return Err(AppError::conflict("userId", "you already sent a request"));
        }
        self.resolve(&pending.id, FriendRequestStatus::Accepted)
            .await
            .map(Some)
    }

    /// Recipient only.
    pub async fn accept(
        &self,
        viewer: &Viewer,
        request_id: &str,
    ) -> AppResult<FriendRequestRecord> {
        let request = self.request_for_recipient(viewer, request_id).await?;
        self.resolve(&request.id, FriendRequestStatus::Accepted)
            .await
    }

    /// Recipient only.
    pub async fn decline(
        &self,
        viewer: &Viewer,
        request_id: &str,
    ) -> AppResult<FriendRequestRecord> {
        let request = self.request_for_recipient(viewer, request_id).await?;
        self.resolve(&request.id, FriendRequestStatus::Declined)
            .await
    }

    /// Sender only.
    pub async fn cancel(
        &self,
        viewer: &Viewer,
        request_id: &str,
    ) -> AppResult<FriendRequestRecord> {
        let request = self.visible_request(viewer, request_id).await?;
        if request.from_user_id != viewer.user_id {
            return Err(AppError::forbidden("only the sender can cancel a request"));
        }
        self.resolve(&request.id, FriendRequestStatus::Cancelled)
            .await
    }

    /// Ends a friendship; `false` when there was none.
    /// Ends a friendship; both sides' apps hear of it (FRIEND_REMOVED, with
    /// the other person as `user`), so lists and presence stop showing it.
    pub async fn remove_friend(&self, viewer: &Viewer, user_id: &str) -> AppResult<bool> {
        let other = self.other_user(viewer, user_id, "userId").await?;
        let removed = self
            .store
            .remove_friendship(&viewer.user_id, &other.id)
            .await?;
        if removed {
            for (recipient, about) in [(&other.id, &viewer.user_id), (&viewer.user_id, &other.id)] {
                self.bus
                    .publish(BusEvent::Notification {
                        recipient_id: recipient.clone(),
                        kind: NotificationKind::FriendRemoved,
                        friend_request_id: None,
                        conversation_id: None,
                        user_id: Some(about.clone()),
                        at: Utc::now(),
                    })
                    .await;
            }
        }
        Ok(removed)
    }

    /// Blocks a user: ends the friendship and pending requests between them.
    pub async fn block(&self, viewer: &Viewer, user_id: &str) -> AppResult<bool> {
        let other = self.other_user(viewer, user_id, "userId").await?;
        self.store
            .block_user(&viewer.user_id, &other.id, Utc::now())
            .await?;
        Ok(true)
    }

    /// Lifts a block; `false` when there was none.
    pub async fn unblock(&self, viewer: &Viewer, user_id: &str) -> AppResult<bool> {
        let other = self.other_user(viewer, user_id, "userId").await?;
        self.store.unblock_user(&viewer.user_id, &other.id).await
    }

    /// The viewer's friends, by display name.
    pub async fn friends(&self, viewer: &Viewer) -> AppResult<Vec<UserRecord>> {
        let ids = self.store.friend_ids(&viewer.user_id).await?;
        let mut friends = self.store.users_by_ids(&ids).await?;
        friends.sort_by_cached_key(|user| (user.display_name.to_lowercase(), user.id.clone()));
        Ok(friends)
    }

    /// Pending requests to (`incoming`) or from the viewer.
    pub async fn requests(
        &self,
        viewer: &Viewer,
        incoming: bool,
    ) -> AppResult<Vec<FriendRequestRecord>> {
        self.store.pending_requests(&viewer.user_id, incoming).await
    }

    /// Whether the two are friends (for other services' rules).
    pub async fn are_friends(&self, user_a: &str, user_b: &str) -> AppResult<bool> {
        self.store.are_friends(user_a, user_b).await
    }

    /// Whether either of the two has blocked the other.
    pub async fn block_between(&self, user_a: &str, user_b: &str) -> AppResult<bool> {
        Ok(self.store.is_blocked(user_a, user_b).await?
            || self.store.is_blocked(user_b, user_a).await?)
    }

    async fn resolve(
        &self,
        request_id: &str,
        status: FriendRequestStatus,
    ) -> AppResult<FriendRequestRecord> {
        let request = self
            .store
            .resolve_friend_request(request_id, status, Utc::now())
            .await?
            .ok_or_else(|| AppError::conflict("id", "this request is no longer pending"))?;
        if status == FriendRequestStatus::Accepted {
            self.notify(
                &request.from_user_id,
                NotificationKind::FriendRequestAccepted,
                &request,
            )
            .await;
        }
        Ok(request)
    }

    /// A request the viewer sent or received; NOT_FOUND for anyone else.
    async fn visible_request(&self, viewer: &Viewer, id: &str) -> AppResult<FriendRequestRecord> {
        match self.store.friend_request_by_id(id).await? {
            Some(request)
                if request.from_user_id == viewer.user_id
                    || request.to_user_id == viewer.user_id =>
            {
                Ok(request)
            }
            _ => Err(AppError::not_found("friend request not found")),
        }
    }

    async fn request_for_recipient(
        &self,
        viewer: &Viewer,
        id: &str,
    ) -> AppResult<FriendRequestRecord> {
        let request = self.visible_request(viewer, id).await?;
        if request.to_user_id != viewer.user_id {
            return Err(AppError::forbidden(
                "only the recipient can answer a request",
            ));
        }
        Ok(request)
    }

    /// Another existing user; BAD_USER_INPUT for oneself, NOT_FOUND for nobody.
    async fn other_user(
        &self,
        viewer: &Viewer,
        user_id: &str,
        field: &'static str,
    ) -> AppResult<UserRecord> {
        if user_id == viewer.user_id {
            return Err(AppError::bad_input(field, "that is you"));
        }
        self.store
            .user_by_id(user_id)
            .await?
            .ok_or_else(|| AppError::not_found("user not found"))
    }
}
