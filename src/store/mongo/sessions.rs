//! `SessionStore` on MongoDB. Refresh tokens live in their own collection
//! keyed by hash; spent ones stay so that reuse can be detected.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::FutureExt as _;
use mongodb::bson::doc;

use super::codec::{self, Fields as _, date};
use super::indexes::{REFRESH_TOKENS, SESSIONS};
use super::{MongoStore, collect_in};
use crate::error::AppResult;
use crate::store::{NewSession, RefreshOutcome, SessionRecord, SessionStore};
use crate::telemetry::StoreTimer;

#[async_trait]
impl SessionStore for MongoStore {
    async fn create_session(&self, new: NewSession) -> AppResult<SessionRecord> {
        let session = SessionRecord {
            id: new.id.clone(),
            user_id: new.user_id.clone(),
            created_at: new.created_at,
            refreshed_at: new.created_at,
            expires_at: new.expires_at,
            revoked_at: None,
        };
        let context = (
            self.collection(SESSIONS),
            self.collection(REFRESH_TOKENS),
            codec::session_document(&session),
            doc! {
                "_id": &new.refresh_token_hash,
                "sessionId": &new.id,
                "issuedAt": date(new.created_at),
                "spentAt": null,
            },
        );
        self.transaction(
            "create_session",
            context,
            |tx, (sessions, tokens, row, token)| {
                async move {
                    sessions.insert_one(&*row).session(&mut *tx).await?;
                    tokens.insert_one(&*token).session(&mut *tx).await?;
                    Ok(Ok(()))
                }
                .boxed()
            },
        )
        .await??;
        Ok(session)
    }

    async fn session_by_id(&self, id: &str) -> AppResult<Option<SessionRecord>> {
        let _timer = StoreTimer::start("session_by_id");
        let found = self
            .collection(SESSIONS)
            .find_one(doc! { "_id": id })
            .await?;
        found.as_ref().map(codec::session).transpose()
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> AppResult<RefreshOutcome> {
        let context = (
            self.collection(SESSIONS),
            self.collection(REFRESH_TOKENS),
            presented_hash.to_owned(),
            next_hash.to_owned(),
        );
        self.transaction(
            "rotate_refresh_token",
            context,
            move |tx, (sessions, tokens, presented, next)| {
                async move {
                    let Some(token) = tokens
                        .find_one(doc! { "_id": &*presented })
                        .session(&mut *tx)
                        .await?
                    else {
                        return Ok(Ok(RefreshOutcome::Invalid));
                    };
                    let (session_id, spent) =
                        match (token.text("sessionId"), token.opt_time("spentAt")) {
                            (Ok(id), Ok(spent)) => (id, spent.is_some()),
                            (Err(error), _) | (_, Err(error)) => return Ok(Err(error)),
                        };
                    let Some(found) = sessions
                        .find_one(doc! { "_id": &session_id })
                        .session(&mut *tx)
                        .await?
                    else {
                        return Ok(Ok(RefreshOutcome::Invalid));
                    };
                    let mut session = match codec::session(&found) {
                        Ok(session) => session,
                        Err(error) => return Ok(Err(error)),
                    };
                    if !session.is_active(now) {
                        return Ok(Ok(RefreshOutcome::Invalid));
                    }
                    if spent {
                        sessions
                            .update_one(
                                doc! { "_id": &session_id },
                                doc! { "$set": { "revokedAt": date(now) } },
                            )
                            .session(&mut *tx)
                            .await?;
                        session.revoked_at = Some(now);
                        return Ok(Ok(RefreshOutcome::Reused(session)));
                    }
                    tokens
                        .update_one(
                            doc! { "_id": &*presented },
                            doc! { "$set": { "spentAt": date(now) } },
                        )
                        .session(&mut *tx)
                        .await?;
                    tokens
                        .insert_one(doc! {
                            "_id": &*next,
                            "sessionId": &session_id,
                            "issuedAt": date(now),
                            "spentAt": null,
                        })
                        .session(&mut *tx)
                        .await?;
                    sessions
                        .update_one(
                            doc! { "_id": &session_id },
                            doc! { "$set": {
                                "refreshedAt": date(now),
                                "expiresAt": date(expires_at),
                            } },
                        )
                        .session(&mut *tx)
                        .await?;
                    session.refreshed_at = now;
                    session.expires_at = expires_at;
                    Ok(Ok(RefreshOutcome::Rotated(session)))
                }
                .boxed()
            },
        )
        .await?
    }

    async fn count_active_sessions(&self, now: DateTime<Utc>) -> AppResult<u64> {
        let _timer = StoreTimer::start("count_active_sessions");
        Ok(self
            .collection(SESSIONS)
            .count_documents(doc! { "revokedAt": null, "expiresAt": { "$gt": date(now) } })
            .await?)
    }

    async fn revoke_session(&self, id: &str, now: DateTime<Utc>) -> AppResult<bool> {
        let _timer = StoreTimer::start("revoke_session");
        let result = self
            .collection(SESSIONS)
            .update_one(
                doc! { "_id": id, "revokedAt": null },
                doc! { "$set": { "revokedAt": date(now) } },
            )
            .await?;
        Ok(result.modified_count > 0)
    }

    async fn revoke_user_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AppResult<u64> {
        let _timer = StoreTimer::start("revoke_user_sessions");
        let result = self
            .collection(SESSIONS)
            .update_many(
                doc! { "userId": user_id, "revokedAt": null },
                doc! { "$set": { "revokedAt": date(now) } },
            )
            .await?;
        Ok(result.modified_count)
    }
}

/// The ids of a user's active sessions but `keep`, read in a transaction.
pub(super) async fn active_session_ids(
    sessions: &mongodb::Collection<mongodb::bson::Document>,
    tx: &mut mongodb::ClientSession,
    user_id: &str,
    keep: Option<&str>,
) -> mongodb::error::Result<Vec<String>> {
    let mut filter = doc! { "userId": user_id, "revokedAt": null };
    if let Some(keep) = keep {
        filter.insert("_id", doc! { "$ne": keep });
    }
    let cursor = sessions
        .find(filter)
        .projection(doc! { "_id": 1 })
        .session(&mut *tx)
        .await?;
    let documents = collect_in(cursor, tx).await?;
    Ok(documents
        .iter()
        .filter_map(|document| document.get_str("_id").ok().map(str::to_owned))
        .collect())
}
