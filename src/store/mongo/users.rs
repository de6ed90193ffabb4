//! `UserStore` on MongoDB.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{Document, doc};
use mongodb::options::ReturnDocument;

use super::codec::{self, date, fold, id_list};
use super::errors::conflict_or_internal;
use super::indexes::{USERS, USERS_EMAIL, USERS_USERNAME};
use super::{MongoStore, collect, limit};
use crate::error::AppResult;
use crate::store::{NewUser, ProfileChanges, UserRecord, UserStore};
use crate::telemetry::StoreTimer;

/// The CONFLICTs a user write can raise, by unique index.
pub(super) const USER_CONFLICTS: [(&str, &str, &str); 2] = [
    (USERS_USERNAME, "username", "this username is taken"),
    (USERS_EMAIL, "email", "an account with this email exists"),
];

/// The aggregation stages of a user search: `query` (lower-cased) as a
/// substring of the username or display name, prefix matches first, then
/// by username. `$indexOfCP` compares code points, so nothing in the query
/// is a pattern; `$toLower` folds ASCII only, like SQLite's `LIKE`.
fn search_pipeline(query: &str, limit: i64) -> Vec<Document> {
    let query = query.to_ascii_lowercase();
    let position = |field: &str| doc! { "$indexOfCP": [{ "$toLower": field }, &query] };
    let (in_username, in_display_name) = (position("$username"), position("$displayName"));
    vec![
        doc! { "$addFields": {
            "_inUsername": in_username,
            "_inDisplayName": in_display_name,
        } },
        doc! { "$match": { "$or": [
            { "_inUsername": { "$gte": 0 } },
            { "_inDisplayName": { "$gte": 0 } },
        ] } },
        doc! { "$addFields": { "_prefix": { "$or": [
            { "$eq": ["$_inUsername", 0] },
            { "$eq": ["$_inDisplayName", 0] },
        ] } } },
        doc! { "$sort": { "_prefix": -1, "username": 1 } },
        doc! { "$limit": limit },
        doc! { "$project": { "_inUsername": 0, "_inDisplayName": 0, "_prefix": 0 } },
    ]
}

/// The `$set` of a profile change; `None` fields are left as they are.
fn profile_update(changes: &ProfileChanges) -> Document {
    let mut set = Document::new();
    if let Some(display_name) = &changes.display_name {
        set.insert("displayName", display_name);
    }
    if let Some(avatar) = &changes.avatar_attachment_id {
        set.insert("avatarAttachmentId", avatar);
    }
    set
}

#[async_trait]
impl UserStore for MongoStore {
    async fn create_user(&self, user: NewUser) -> AppResult<UserRecord> {
        let _timer = StoreTimer::start("create_user");
        let record = UserRecord {
            id: user.id,
            username: user.username,
            email: user.email,
            display_name: user.display_name,
            password_hash: user.password_hash,
            avatar_attachment_id: None,
            created_at: user.created_at,
            last_seen_at: None,
            email_verified_at: None,
            deleted_at: None,
        };
        self.collection(USERS)
            .insert_one(codec::user_document(&record))
            .await
            .map_err(|error| conflict_or_internal(error, &USER_CONFLICTS))?;
        Ok(record)
    }

    async fn user_by_id(&self, id: &str) -> AppResult<Option<UserRecord>> {
        let _timer = StoreTimer::start("user_by_id");
        let found = self.collection(USERS).find_one(doc! { "_id": id }).await?;
        found.as_ref().map(codec::user).transpose()
    }

    async fn users_by_ids(&self, ids: &[String]) -> AppResult<Vec<UserRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let _timer = StoreTimer::start("users_by_ids");
        let cursor = self
            .collection(USERS)
            .find(doc! { "_id": { "$in": id_list(ids) } })
            .await?;
        collect(cursor, codec::user).await
    }

    async fn user_by_login(&self, login: &str) -> AppResult<Option<UserRecord>> {
        let _timer = StoreTimer::start("user_by_login");
        let key = fold(login);
        let found = self
            .collection(USERS)
            .find_one(doc! { "$or": [{ "usernameKey": &key }, { "emailKey": &key }] })
            .await?;
        found.as_ref().map(codec::user).transpose()
    }

    async fn search_users(&self, query: &str, limit_to: usize) -> AppResult<Vec<UserRecord>> {
        let _timer = StoreTimer::start("search_users");
        let cursor = self
            .collection(USERS)
            .aggregate(search_pipeline(query, limit(limit_to)))
            .await?;
        collect(cursor, codec::user).await
    }

    async fn touch_last_seen(&self, id: &str, at: DateTime<Utc>) -> AppResult<()> {
        let _timer = StoreTimer::start("touch_last_seen");
        // $max never moves it back; a null field counts as lower than any date.
        self.collection(USERS)
            .update_one(
                doc! { "_id": id },
                doc! { "$max": { "lastSeenAt": date(at) } },
            )
            .await?;
        Ok(())
    }

    async fn update_profile(
        &self,
        id: &str,
        changes: ProfileChanges,
    ) -> AppResult<Option<UserRecord>> {
        let _timer = StoreTimer::start("update_profile");
        let set = profile_update(&changes);
        let users = self.collection(USERS);
        let found = if set.is_empty() {
            users.find_one(doc! { "_id": id }).await?
        } else {
            users
                .find_one_and_update(doc! { "_id": id }, doc! { "$set": set })
                .return_document(ReturnDocument::After)
                .await?
        };
        found.as_ref().map(codec::user).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_a_case_folded_substring_with_prefixes_first() {
        let pipeline = search_pipeline("Bo$b.*", 10);
        let added = pipeline[0].get_document("$addFields").expect("stage");
        assert_eq!(
            added.get_document("_inUsername").expect("position"),
            &doc! { "$indexOfCP": [{ "$toLower": "$username" }, "bo$b.*"] }
        );
        assert_eq!(
            pipeline[3],
            doc! { "$sort": { "_prefix": -1, "username": 1 } }
        );
        assert_eq!(pipeline[4], doc! { "$limit": 10_i64 });
        // The helper fields do not leak into records.
        assert!(pipeline[5].get_document("$project").is_ok());
    }

    #[test]
    fn profile_changes_set_only_what_is_given() {
        assert!(profile_update(&ProfileChanges::default()).is_empty());
        let changes = ProfileChanges {
            display_name: Some("Ann".into()),
            avatar_attachment_id: None,
        };
        assert_eq!(profile_update(&changes), doc! { "displayName": "Ann" });
    }
}
