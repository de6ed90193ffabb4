//! `AccountStore` on MongoDB.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::FutureExt as _;
use mongodb::bson::{Document, doc};
use mongodb::options::ReturnDocument;

use super::codec::{Fields as _, TextEnum as _, date, fold};
use super::errors::conflict_or_internal;
use super::indexes::{
    ACCOUNT_TOKENS, ATTACHMENTS, BLOCKS, FRIEND_REQUESTS, FRIENDSHIPS, RELEASED_USERNAMES,
    SESSIONS, USERS, USERS_EMAIL,
};
use super::sessions::active_session_ids;
use super::{MongoStore, coll, collect_in};
use crate::error::{AppError, AppResult};
use crate::store::{AccountStore, AccountTokenPurpose, AccountTokenRecord, FriendRequestStatus};
use crate::telemetry::StoreTimer;

pub(super) fn account_token_document(token: &AccountTokenRecord) -> Document {
    doc! {
        "_id": &token.token_hash,
        "userId": &token.user_id,
        "purpose": token.purpose.as_text(),
        "email": &token.email,
        "createdAt": date(token.created_at),
        "expiresAt": date(token.expires_at),
        "usedAt": null,
    }
}

pub(super) fn account_token(doc: &Document) -> AppResult<AccountTokenRecord> {
    Ok(AccountTokenRecord {
        token_hash: doc.text("_id")?,
        user_id: doc.text("userId")?,
        purpose: doc.text_enum("purpose")?,
        email: doc.text("email")?,
        created_at: doc.time("createdAt")?,
        expires_at: doc.time("expiresAt")?,
    })
}

/// The placeholder identity of a deleted account: unique (it embeds the
/// id) and never a valid login (the domain cannot exist).
fn tombstone(user_id: &str, now: DateTime<Utc>) -> Document {
    let placeholder = format!("deleted.{}", user_id.replace('-', ""));
    let email = format!("{placeholder}@deleted.invalid");
    doc! {
        "usernameKey": fold(&placeholder),
        "username": placeholder,
        "emailKey": fold(&email),
        "email": email,
        "displayName": "Deleted user",
        "passwordHash": "!",
        "avatarAttachmentId": null,
        "deletedAt": date(now),
    }
}

#[async_trait]
impl AccountStore for MongoStore {
    async fn create_account_token(&self, token: AccountTokenRecord) -> AppResult<()> {
        let _timer = StoreTimer::start("create_account_token");
        self.collection(ACCOUNT_TOKENS)
            .insert_one(account_token_document(&token))
            .await?;
        Ok(())
    }

    async fn consume_account_token(
        &self,
        token_hash: &str,
        purpose: AccountTokenPurpose,
        now: DateTime<Utc>,
    ) -> AppResult<Option<AccountTokenRecord>> {
        let _timer = StoreTimer::start("consume_account_token");
        // One atomic document update: of concurrent calls, one matches.
        let spent = self
            .collection(ACCOUNT_TOKENS)
            .find_one_and_update(
                doc! {
                    "_id": token_hash,
                    "purpose": purpose.as_text(),
                    "usedAt": null,
                    "expiresAt": { "$gt": date(now) },
                },
                doc! { "$set": { "usedAt": date(now) } },
            )
            .return_document(ReturnDocument::After)
            .await?;
        spent.as_ref().map(account_token).transpose()
    }

    async fn username_available_at(&self, username: &str) -> AppResult<Option<DateTime<Utc>>> {
        let _timer = StoreTimer::start("username_available_at");
        let found = self
            .collection(RELEASED_USERNAMES)
            .find_one(doc! { "_id": fold(username) })
            .await?;
        match found {
            Some(found) => Ok(Some(found.time("availableAt")?)),
            None => Ok(None),
        }
    }

    async fn verify_email(&self, user_id: &str, email: &str, now: DateTime<Utc>) -> AppResult<()> {
        let _timer = StoreTimer::start("verify_email");
        self.collection(USERS)
            .update_one(
                doc! { "_id": user_id, "deletedAt": null },
                doc! { "$set": {
                    "email": email,
                    "emailKey": fold(email),
                    "emailVerifiedAt": date(now),
                } },
            )
            .await
            .map_err(|error| {
                conflict_or_internal(
                    error,
                    &[(USERS_EMAIL, "email", "another account uses this email now")],
                )
            })?;
        Ok(())
    }

    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> AppResult<()> {
        let context = (
            self.db.clone(),
            user_id.to_owned(),
            password_hash.to_owned(),
        );
        self.transaction(
            "set_password_hash",
            context,
            |tx, (db, user_id, password_hash)| {
                async move {
                    coll(db, USERS)
                        .update_one(
                            doc! { "_id": &*user_id },
                            doc! { "$set": { "passwordHash": &*password_hash } },
                        )
                        .session(&mut *tx)
                        .await?;
                    coll(db, ACCOUNT_TOKENS)
                        .update_many(
                            doc! {
                                "userId": &*user_id,
                                "purpose": AccountTokenPurpose::ResetPassword.as_text(),
                                "usedAt": null,
                            },
                            doc! { "$set": { "usedAt": date(Utc::now()) } },
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

    async fn revoke_other_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<String>> {
        let context = (
            self.collection(SESSIONS),
            user_id.to_owned(),
            keep.map(str::to_owned),
        );
        self.transaction(
            "revoke_other_sessions",
            context,
            move |tx, (sessions, user_id, keep)| {
                async move {
                    let ids = active_session_ids(sessions, tx, user_id, keep.as_deref()).await?;
                    if !ids.is_empty() {
                        sessions
                            .update_many(
                                doc! { "_id": { "$in": &ids }, "revokedAt": null },
                                doc! { "$set": { "revokedAt": date(now) } },
                            )
                            .session(&mut *tx)
                            .await?;
                    }
                    Ok(Ok(ids))
                }
                .boxed()
            },
        )
        .await?
    }

    async fn delete_account(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
        username_free_at: DateTime<Utc>,
    ) -> AppResult<Vec<String>> {
        let context = (self.db.clone(), user_id.to_owned());
        self.transaction("delete_account", context, move |tx, (db, user_id)| {
            async move {
                let user_id: &str = user_id;
                let users = coll(db, USERS);
                let user = users
                    .find_one(doc! { "_id": user_id })
                    .projection(doc! { "username": 1 })
                    .session(&mut *tx)
                    .await?;
                let Some(user) = user else {
                    return super::reject(tx, AppError::not_found("user not found")).await;
                };
                let username = or_reject!(tx, user.text("username"));
                coll(db, RELEASED_USERNAMES)
                    .update_one(
                        doc! { "_id": fold(&username) },
                        doc! { "$set": { "availableAt": date(username_free_at) } },
                    )
                    .upsert(true)
                    .session(&mut *tx)
                    .await?;
                users
                    .update_one(
                        doc! { "_id": user_id },
                        doc! { "$set": tombstone(user_id, now) },
                    )
                    .session(&mut *tx)
                    .await?;
                coll(db, SESSIONS)
                    .update_many(
                        doc! { "userId": user_id, "revokedAt": null },
                        doc! { "$set": { "revokedAt": date(now) } },
                    )
                    .session(&mut *tx)
                    .await?;
                coll(db, FRIENDSHIPS)
                    .delete_many(doc! { "$or": [{ "userLow": user_id }, { "userHigh": user_id }] })
                    .session(&mut *tx)
                    .await?;
                coll(db, BLOCKS)
                    .delete_many(
                        doc! { "$or": [{ "blockerId": user_id }, { "blockedId": user_id }] },
                    )
                    .session(&mut *tx)
                    .await?;
                coll(db, FRIEND_REQUESTS)
                    .update_many(
                        doc! {
                            "status": FriendRequestStatus::Pending.as_text(),
                            "$or": [{ "fromUserId": user_id }, { "toUserId": user_id }],
                        },
                        doc! { "$set": {
                            "status": FriendRequestStatus::Cancelled.as_text(),
                            "respondedAt": date(now),
                        } },
                    )
                    .session(&mut *tx)
                    .await?;
                coll(db, ACCOUNT_TOKENS)
                    .delete_many(doc! { "userId": user_id })
                    .session(&mut *tx)
                    .await?;
                let attachments = coll(db, ATTACHMENTS);
                let uploads = attachments
                    .find(doc! { "uploaderId": user_id })
                    .projection(doc! { "sha256": 1, "thumbnailSha256": 1 })
                    .session(&mut *tx)
                    .await?;
                let uploads = collect_in(uploads, tx).await?;
                attachments
                    .delete_many(doc! { "uploaderId": user_id })
                    .session(&mut *tx)
                    .await?;
                let mut hashes = Vec::new();
                for upload in &uploads {
                    hashes.push(or_reject!(tx, upload.text("sha256")));
                    hashes.extend(or_reject!(tx, upload.opt_text("thumbnailSha256")));
                }
                Ok(Ok(hashes))
            }
            .boxed()
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn a_deleted_account_gets_a_unique_unusable_identity() {
        let at = Utc.timestamp_millis_opt(9).single().expect("time");
        let tombstone = tombstone("0190-ab", at);
        assert_eq!(
            tombstone.get_str("username").expect("name"),
            "deleted.0190ab"
        );
        assert_eq!(
            tombstone.get_str("usernameKey").expect("key"),
            "deleted.0190ab"
        );
        assert_eq!(
            tombstone.get_str("email").expect("email"),
            "deleted.0190ab@deleted.invalid"
        );
        assert_eq!(tombstone.get_str("passwordHash").expect("hash"), "!");
        assert_eq!(
            tombstone.get("avatarAttachmentId"),
            Some(&mongodb::bson::Bson::Null)
        );
    }

    #[test]
    fn account_tokens_round_trip() {
        let token = AccountTokenRecord {
            token_hash: "h".into(),
            user_id: "u".into(),
            purpose: AccountTokenPurpose::ResetPassword,
            email: "a@b.c".into(),
            created_at: Utc.timestamp_millis_opt(1).single().expect("time"),
            expires_at: Utc.timestamp_millis_opt(2).single().expect("time"),
        };
        let document = account_token_document(&token);
        assert_eq!(
            document.get_str("purpose").expect("purpose"),
            "RESET_PASSWORD"
        );
        assert_eq!(account_token(&document).expect("decodes"), token);
    }
}
