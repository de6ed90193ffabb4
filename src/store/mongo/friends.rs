//! `FriendStore` on MongoDB.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::FutureExt as _;
use mongodb::bson::{Document, doc};
use mongodb::options::ReturnDocument;

use super::codec::{self, Fields as _, TextEnum as _, date, id_list, ordered_pair};
use super::errors::conflict_or_internal;
use super::indexes::{BLOCKS, FRIEND_REQUESTS, FRIEND_REQUESTS_PENDING_PAIR, FRIENDSHIPS};
use super::{MongoStore, collect};
use crate::error::AppResult;
use crate::store::{FriendRequestRecord, FriendRequestStatus, FriendStore, Relationship};
use crate::telemetry::StoreTimer;

/// The pending requests between `a` and `b`, either way.
fn pending_between(a: &str, b: &str) -> Document {
    doc! {
        "status": FriendRequestStatus::Pending.as_text(),
        "pairKey": codec::pair_key(a, b),
    }
}

/// The friendship row of a pair.
fn friendship(a: &str, b: &str) -> Document {
    let (low, high) = ordered_pair(a, b);
    doc! { "userLow": low, "userHigh": high }
}

/// How `viewer` stands to `other`, from the facts gathered for a batch;
/// the strongest relation wins (a block hides everything else).
fn relation(blocked: bool, friends: bool, sent: bool, received: bool) -> Relationship {
    if blocked {
        Relationship::Blocked
    } else if friends {
        Relationship::Friends
    } else if sent {
        Relationship::RequestSent
    } else if received {
        Relationship::RequestReceived
    } else {
        Relationship::None
    }
}

#[async_trait]
impl FriendStore for MongoStore {
    async fn create_friend_request(
        &self,
        request: FriendRequestRecord,
    ) -> AppResult<FriendRequestRecord> {
        let _timer = StoreTimer::start("create_friend_request");
        let pending = FriendRequestRecord {
            status: FriendRequestStatus::Pending,
            responded_at: None,
            ..request
        };
        self.collection(FRIEND_REQUESTS)
            .insert_one(codec::friend_request_document(&pending))
            .await
            .map_err(|error| {
                conflict_or_internal(
                    error,
                    &[(
                        FRIEND_REQUESTS_PENDING_PAIR,
                        "userId",
                        "a friend request between you is already pending",
                    )],
                )
            })?;
        Ok(pending)
    }

    async fn friend_request_by_id(&self, id: &str) -> AppResult<Option<FriendRequestRecord>> {
        let _timer = StoreTimer::start("friend_request_by_id");
        let found = self
            .collection(FRIEND_REQUESTS)
            .find_one(doc! { "_id": id })
            .await?;
        found.as_ref().map(codec::friend_request).transpose()
    }

    async fn pending_request_between(
        &self,
        user_a: &str,
        user_b: &str,
    ) -> AppResult<Option<FriendRequestRecord>> {
        let _timer = StoreTimer::start("pending_request_between");
        let found = self
            .collection(FRIEND_REQUESTS)
            .find_one(pending_between(user_a, user_b))
            .await?;
        found.as_ref().map(codec::friend_request).transpose()
    }

    async fn pending_requests(
        &self,
        user_id: &str,
        incoming: bool,
    ) -> AppResult<Vec<FriendRequestRecord>> {
        let _timer = StoreTimer::start("pending_requests");
        let field = if incoming { "toUserId" } else { "fromUserId" };
        let cursor = self
            .collection(FRIEND_REQUESTS)
            .find(doc! { field: user_id, "status": FriendRequestStatus::Pending.as_text() })
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .await?;
        collect(cursor, codec::friend_request).await
    }

    async fn are_friends(&self, user_a: &str, user_b: &str) -> AppResult<bool> {
        let _timer = StoreTimer::start("are_friends");
        let found = self
            .collection(FRIENDSHIPS)
            .find_one(friendship(user_a, user_b))
            .await?;
        Ok(found.is_some())
    }

    async fn friend_ids(&self, user_id: &str) -> AppResult<Vec<String>> {
        let _timer = StoreTimer::start("friend_ids");
        let cursor = self
            .collection(FRIENDSHIPS)
            .find(doc! { "$or": [{ "userLow": user_id }, { "userHigh": user_id }] })
            .await?;
        let rows = collect(cursor, |row| {
            let (low, high) = (row.text("userLow")?, row.text("userHigh")?);
            Ok((low, high))
        })
        .await?;
        Ok(rows
            .into_iter()
            .map(|(low, high)| if low == user_id { high } else { low })
            .collect())
    }

    async fn relationships(
        &self,
        viewer_id: &str,
        other_ids: &[String],
    ) -> AppResult<HashMap<String, Relationship>> {
        let _timer = StoreTimer::start("relationships");
        let others = id_list(other_ids);
        let blocked = self
            .collection(BLOCKS)
            .distinct(
                "blockedId",
                doc! { "blockerId": viewer_id, "blockedId": { "$in": &others } },
            )
            .await?;
        let friendships = self
            .collection(FRIENDSHIPS)
            .find(doc! { "$or": [
                { "userLow": viewer_id, "userHigh": { "$in": &others } },
                { "userHigh": viewer_id, "userLow": { "$in": &others } },
            ] })
            .await?;
        let friendships = collect(friendships, |row| {
            Ok((row.text("userLow")?, row.text("userHigh")?))
        })
        .await?;
        let pending = self
            .collection(FRIEND_REQUESTS)
            .find(doc! {
                "status": FriendRequestStatus::Pending.as_text(),
                "$or": [
                    { "fromUserId": viewer_id, "toUserId": { "$in": &others } },
                    { "toUserId": viewer_id, "fromUserId": { "$in": &others } },
                ],
            })
            .await?;
        let pending = collect(pending, codec::friend_request).await?;
        let has = |other: &str| {
            let is_blocked = blocked.iter().any(|id| id.as_str() == Some(other));
            let is_friend = friendships
                .iter()
                .any(|(low, high)| low == other || high == other);
            let sent = pending.iter().any(|r| r.to_user_id == other);
            let received = pending.iter().any(|r| r.from_user_id == other);
            relation(is_blocked, is_friend, sent, received)
        };
        // SQLite returns only ids with some relation; `None` is left out too.
        Ok(other_ids
            .iter()
            .filter(|other| other.as_str() != viewer_id)
            .map(|other| (other.clone(), has(other)))
            .filter(|(_, relation)| *relation != Relationship::None)
            .collect())
    }

    async fn is_blocked(&self, blocker_id: &str, blocked_id: &str) -> AppResult<bool> {
        let _timer = StoreTimer::start("is_blocked");
        let found = self
            .collection(BLOCKS)
            .find_one(doc! { "blockerId": blocker_id, "blockedId": blocked_id })
            .await?;
        Ok(found.is_some())
    }

    async fn resolve_friend_request(
        &self,
        id: &str,
        status: FriendRequestStatus,
        now: DateTime<Utc>,
    ) -> AppResult<Option<FriendRequestRecord>> {
        let context = (
            self.collection(FRIEND_REQUESTS),
            self.collection(FRIENDSHIPS),
            id.to_owned(),
        );
        self.transaction(
            "resolve_friend_request",
            context,
            move |tx, (requests, friendships, id)| {
                async move {
                    let updated = requests
                        .find_one_and_update(
                            doc! {
                                "_id": &*id,
                                "status": FriendRequestStatus::Pending.as_text(),
                            },
                            doc! { "$set": {
                                "status": status.as_text(),
                                "respondedAt": date(now),
                            } },
                        )
                        .return_document(ReturnDocument::After)
                        .session(&mut *tx)
                        .await?;
                    let Some(updated) = updated else {
                        return Ok(Ok(None));
                    };
                    let request = match codec::friend_request(&updated) {
                        Ok(request) => request,
                        Err(error) => return Ok(Err(error)),
                    };
                    if status == FriendRequestStatus::Accepted {
                        // Upsert: "insert or ignore" when they are friends already.
                        friendships
                            .update_one(
                                friendship(&request.from_user_id, &request.to_user_id),
                                doc! { "$setOnInsert": { "createdAt": date(now) } },
                            )
                            .upsert(true)
                            .session(&mut *tx)
                            .await?;
                    }
                    Ok(Ok(Some(request)))
                }
                .boxed()
            },
        )
        .await?
    }

    async fn remove_friendship(&self, user_a: &str, user_b: &str) -> AppResult<bool> {
        let _timer = StoreTimer::start("remove_friendship");
        let result = self
            .collection(FRIENDSHIPS)
            .delete_one(friendship(user_a, user_b))
            .await?;
        Ok(result.deleted_count > 0)
    }

    async fn block_user(
        &self,
        blocker_id: &str,
        blocked_id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let context = (
            self.collection(BLOCKS),
            self.collection(FRIENDSHIPS),
            self.collection(FRIEND_REQUESTS),
            blocker_id.to_owned(),
            blocked_id.to_owned(),
        );
        self.transaction(
            "block_user",
            context,
            move |tx, (blocks, friendships, requests, blocker, blocked)| {
                async move {
                    blocks
                        .update_one(
                            doc! { "blockerId": &*blocker, "blockedId": &*blocked },
                            doc! { "$setOnInsert": { "createdAt": date(now) } },
                        )
                        .upsert(true)
                        .session(&mut *tx)
                        .await?;
                    friendships
                        .delete_one(friendship(blocker, blocked))
                        .session(&mut *tx)
                        .await?;
                    requests
                        .update_many(
                            pending_between(blocker, blocked),
                            doc! { "$set": {
                                "status": FriendRequestStatus::Cancelled.as_text(),
                                "respondedAt": date(now),
                            } },
                        )
                        .session(&mut *tx)
                        .await?;
                    Ok(Ok(()))
                }
                .boxed()
            },
        )
        .await?
    }

    async fn unblock_user(&self, blocker_id: &str, blocked_id: &str) -> AppResult<bool> {
        let _timer = StoreTimer::start("unblock_user");
        let result = self
            .collection(BLOCKS)
            .delete_one(doc! { "blockerId": blocker_id, "blockedId": blocked_id })
            .await?;
        Ok(result.deleted_count > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_the_same_whichever_way_round() {
        assert_eq!(friendship("b", "a"), friendship("a", "b"));
        assert_eq!(
            friendship("a", "b"),
            doc! { "userLow": "a", "userHigh": "b" }
        );
        assert_eq!(pending_between("y", "x"), pending_between("x", "y"));
        assert_eq!(
            pending_between("y", "x"),
            doc! { "status": "PENDING", "pairKey": "x:y" }
        );
    }

    #[test]
    fn the_strongest_relation_wins() {
        assert_eq!(relation(true, true, true, true), Relationship::Blocked);
        assert_eq!(relation(false, true, true, false), Relationship::Friends);
        assert_eq!(
            relation(false, false, true, true),
            Relationship::RequestSent
        );
        assert_eq!(
            relation(false, false, false, true),
            Relationship::RequestReceived
        );
        assert_eq!(relation(false, false, false, false), Relationship::None);
    }
}
