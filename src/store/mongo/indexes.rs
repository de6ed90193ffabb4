//! Collections and their indexes, created at start.
//!
//! Collections are named like the SQLite tables, so a transfer `Table`
//! names its collection too. `createIndexes` is idempotent for an index
//! that already exists with the same keys and options, so every start
//! simply asks for all of them. Unique indexes carry explicit names because
//! duplicate-key errors are mapped to CONFLICTs by index name (`errors.rs`).

use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

pub const USERS: &str = "users";
pub const DEVICE_KEYS: &str = "device_keys";
pub const RELEASED_USERNAMES: &str = "released_usernames";
pub const SESSIONS: &str = "sessions";
pub const REFRESH_TOKENS: &str = "refresh_tokens";
pub const ACCOUNT_TOKENS: &str = "account_tokens";
pub const FRIEND_REQUESTS: &str = "friend_requests";
pub const FRIENDSHIPS: &str = "friendships";
pub const BLOCKS: &str = "blocks";
pub const CONVERSATIONS: &str = "conversations";
pub const MEMBERS: &str = "members";
pub const MESSAGES: &str = "messages";
pub const REACTIONS: &str = "reactions";
pub const MESSAGE_EVENTS: &str = "message_events";
pub const ATTACHMENTS: &str = "attachments";

pub const USERS_USERNAME: &str = "users_username_key";
pub const USERS_EMAIL: &str = "users_email_key";
pub const DEVICE_KEYS_USER_KEY: &str = "device_keys_user_encryption_key";
pub const FRIEND_REQUESTS_PENDING_PAIR: &str = "friend_requests_pending_pair";
pub const FRIENDSHIPS_PAIR: &str = "friendships_pair";
pub const BLOCKS_PAIR: &str = "blocks_pair";
pub const CONVERSATIONS_DIRECT_PAIR: &str = "conversations_direct_pair";
pub const MEMBERS_PAIR: &str = "members_conversation_user";
pub const MESSAGES_SEQ: &str = "messages_conversation_seq";
pub const MESSAGES_AUTHOR_CLIENT_ID: &str = "messages_author_client_id";
pub const REACTIONS_KEY: &str = "reactions_message_emoji_user";
pub const EVENTS_SEQ: &str = "message_events_conversation_seq";

/// One index: collection, name, keys, unique, partial filter.
pub struct IndexSpec {
    pub collection: &'static str,
    pub name: &'static str,
    pub keys: Document,
    pub unique: bool,
    /// Leaves out documents without the field (groups have no `directKey`).
    pub sparse: bool,
    /// Leaves out documents not matching it; queries that should use the
    /// index must state the same condition.
    pub partial: Option<Document>,
}

fn index(collection: &'static str, name: &'static str, keys: Document) -> IndexSpec {
    IndexSpec {
        collection,
        name,
        keys,
        unique: false,
        sparse: false,
        partial: None,
    }
}

fn unique(collection: &'static str, name: &'static str, keys: Document) -> IndexSpec {
    IndexSpec {
        unique: true,
        ..index(collection, name, keys)
    }
}

/// Every index, with the query it serves. `_id` (each entity's id, a
/// token's hash, a released username) is indexed by MongoDB itself.
pub fn all() -> Vec<IndexSpec> {
    vec![
        // Case-folded uniqueness of usernames and emails (CONFLICT on
        // `username` / `email`), and sign-in by either.
        unique(USERS, USERS_USERNAME, doc! { "usernameKey": 1 }),
        unique(USERS, USERS_EMAIL, doc! { "emailKey": 1 }),
        // Registering a device key is idempotent per (user, encryption key).
        unique(
            DEVICE_KEYS,
            DEVICE_KEYS_USER_KEY,
            doc! { "userId": 1, "encryptionKey": 1 },
        ),
        // A user's active keys, oldest first (revokedAt null sorts first).
        index(
            DEVICE_KEYS,
            "device_keys_active",
            doc! { "userId": 1, "revokedAt": 1, "createdAt": 1 },
        ),
        // logoutAll, account deletion: a user's sessions.
        index(SESSIONS, "sessions_user", doc! { "userId": 1 }),
        // The active-sessions gauge: revokedAt null, expiresAt after now.
        index(
            SESSIONS,
            "sessions_active",
            doc! { "revokedAt": 1, "expiresAt": 1 },
        ),
        index(
            REFRESH_TOKENS,
            "refresh_tokens_session",
            doc! { "sessionId": 1 },
        ),
        // Spending a user's outstanding reset tokens; account deletion.
        index(
            ACCOUNT_TOKENS,
            "account_tokens_user",
            doc! { "userId": 1, "purpose": 1 },
        ),
        // At most one pending request per pair, whichever way it points:
        // of two people asking each other at once, one gets CONFLICT.
        IndexSpec {
            partial: Some(doc! { "status": "PENDING" }),
            ..unique(
                FRIEND_REQUESTS,
                FRIEND_REQUESTS_PENDING_PAIR,
                doc! { "pairKey": 1 },
            )
        },
        // Incoming and outgoing pending requests, newest first.
        index(
            FRIEND_REQUESTS,
            "friend_requests_to",
            doc! { "toUserId": 1, "status": 1, "createdAt": -1 },
        ),
        index(
            FRIEND_REQUESTS,
            "friend_requests_from",
            doc! { "fromUserId": 1, "status": 1, "createdAt": -1 },
        ),
        // One friendship per pair (stored low, high); its prefix answers
        // "friends of u" from the low side, the second index the high side.
        unique(
            FRIENDSHIPS,
            FRIENDSHIPS_PAIR,
            doc! { "userLow": 1, "userHigh": 1 },
        ),
        index(FRIENDSHIPS, "friendships_high", doc! { "userHigh": 1 }),
        unique(BLOCKS, BLOCKS_PAIR, doc! { "blockerId": 1, "blockedId": 1 }),
        index(BLOCKS, "blocks_blocked", doc! { "blockedId": 1 }),
        // One direct conversation per pair; groups have no key field and
        // are left out of the index because it is sparse.
        IndexSpec {
            sparse: true,
            ..unique(
                CONVERSATIONS,
                CONVERSATIONS_DIRECT_PAIR,
                doc! { "directKey": 1 },
            )
        },
        // One membership per user and conversation; its prefix lists a
        // conversation's members.
        unique(
            MEMBERS,
            MEMBERS_PAIR,
            doc! { "conversationId": 1, "userId": 1 },
        ),
        // A user's conversations (the conversation list, peers, search scope).
        index(
            MEMBERS,
            "members_user",
            doc! { "userId": 1, "conversationId": 1 },
        ),
        // Members in join order (who inherits a group's ownership).
        index(
            MEMBERS,
            "members_join_order",
            doc! { "conversationId": 1, "joinedAt": 1, "position": 1 },
        ),
        // History pages by seq and unread counts (seq above a read marker).
        unique(
            MESSAGES,
            MESSAGES_SEQ,
            doc! { "conversationId": 1, "seq": 1 },
        ),
        // Idempotent sends: one message per (author, clientId); messages
        // without a clientId are not indexed.
        IndexSpec {
            partial: Some(doc! { "clientId": { "$type": "string" } }),
            ..unique(
                MESSAGES,
                MESSAGES_AUTHOR_CLIENT_ID,
                doc! { "authorId": 1, "clientId": 1 },
            )
        },
        // Search: each word is an equality (or, the last, a range) on this
        // multikey index; see `search.rs`.
        index(
            MESSAGES,
            "messages_search_terms",
            doc! { "searchTerms": 1, "conversationId": 1 },
        ),
        // One reaction per (message, emoji, user); its prefix lists a
        // message's reactions.
        unique(
            REACTIONS,
            REACTIONS_KEY,
            doc! { "messageId": 1, "emoji": 1, "userId": 1 },
        ),
        // The event log: gap-free seqs are unique per conversation, and
        // replay reads them in order after a seq.
        unique(
            MESSAGE_EVENTS,
            EVENTS_SEQ,
            doc! { "conversationId": 1, "seq": 1 },
        ),
        // A message's attachments; detaching them when it is deleted.
        index(ATTACHMENTS, "attachments_message", doc! { "messageId": 1 }),
        // The clean-up of uploads never used: two equalities, then a range.
        index(
            ATTACHMENTS,
            "attachments_unused",
            doc! { "usedAsAvatar": 1, "messageId": 1, "createdAt": 1 },
        ),
        // Whether some other attachment still needs the same bytes.
        index(ATTACHMENTS, "attachments_sha256", doc! { "sha256": 1 }),
        index(
            ATTACHMENTS,
            "attachments_thumbnail_sha256",
            doc! { "thumbnailSha256": 1 },
        ),
        // Account deletion removes a user's uploads.
        index(
            ATTACHMENTS,
            "attachments_uploader",
            doc! { "uploaderId": 1 },
        ),
    ]
}

fn model(spec: IndexSpec) -> IndexModel {
    let options = IndexOptions::builder()
        .name(spec.name.to_owned())
        .unique(spec.unique.then_some(true))
        .sparse(spec.sparse.then_some(true))
        .partial_filter_expression(spec.partial)
        .build();
    IndexModel::builder()
        .keys(spec.keys)
        .options(options)
        .build()
}

/// Creates every index (a no-op for those that exist).
pub async fn ensure(db: &Database) -> mongodb::error::Result<()> {
    let mut by_collection: Vec<(&'static str, Vec<IndexModel>)> = Vec::new();
    for spec in all() {
        let collection = spec.collection;
        match by_collection
            .iter_mut()
            .find(|(name, _)| *name == collection)
        {
            Some((_, models)) => models.push(model(spec)),
            None => by_collection.push((collection, vec![model(spec)])),
        }
    }
    for (collection, models) in by_collection {
        db.collection::<Document>(collection)
            .create_indexes(models)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn index_names_are_unique_and_fit_the_server_limit() {
        let specs = all();
        let names: HashSet<&str> = specs.iter().map(|spec| spec.name).collect();
        assert_eq!(names.len(), specs.len());
        assert!(specs.iter().all(|spec| spec.name.len() <= 127));
    }

    #[test]
    fn every_uniqueness_the_contract_relies_on_has_a_unique_index() {
        let specs = all();
        for name in [
            USERS_USERNAME,
            USERS_EMAIL,
            FRIEND_REQUESTS_PENDING_PAIR,
            FRIENDSHIPS_PAIR,
            BLOCKS_PAIR,
            CONVERSATIONS_DIRECT_PAIR,
            MEMBERS_PAIR,
            MESSAGES_SEQ,
            MESSAGES_AUTHOR_CLIENT_ID,
            REACTIONS_KEY,
            EVENTS_SEQ,
        ] {
            let spec = specs.iter().find(|spec| spec.name == name).expect(name);
            assert!(spec.unique, "{name} must be unique");
        }
        let partial = |name: &str| {
            specs
                .iter()
                .find(|spec| spec.name == name)
                .and_then(|spec| spec.partial.clone())
        };
        assert_eq!(
            partial(FRIEND_REQUESTS_PENDING_PAIR),
            Some(doc! { "status": "PENDING" })
        );
        assert_eq!(
            partial(MESSAGES_AUTHOR_CLIENT_ID),
            Some(doc! { "clientId": { "$type": "string" } })
        );
    }

    #[test]
    fn models_carry_name_uniqueness_and_filter() {
        let spec = all()
            .into_iter()
            .find(|spec| spec.name == CONVERSATIONS_DIRECT_PAIR)
            .expect("direct pair index");
        let model = model(spec);
        let options = model.options.expect("options");
        assert_eq!(options.name.as_deref(), Some(CONVERSATIONS_DIRECT_PAIR));
        assert_eq!(options.unique, Some(true));
        assert_eq!(options.sparse, Some(true));
        let plain = model_named("sessions_user");
        assert_eq!(plain.options.and_then(|options| options.unique), None);
    }

    fn model_named(name: &str) -> IndexModel {
        model(
            all()
                .into_iter()
                .find(|spec| spec.name == name)
                .expect(name),
        )
    }
}
