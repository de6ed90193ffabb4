//! Small builders shared by the contract modules: ids, times at the
//! stores' millisecond precision, and users, conversations and messages
//! made through the store itself.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone as _, Utc};
pub use realtalk::error::{AppError, AppResult, ErrorKind};
pub use realtalk::store::{
    AccountStore, AttachmentStore, ConversationStore, FriendStore, MessageStore, SessionStore,
    Store, TransferStore, UserStore,
};
pub use realtalk::store::{
    AccountTokenPurpose, AccountTokenRecord, AttachmentRecord, ConversationKind,
    ConversationRecord, FriendRequestRecord, FriendRequestStatus, LeaveOutcome, MemberRole,
    MessageEventKind, MessageRecord, NewMessage, NewSession, NewUser, ProfileChanges,
    RefreshOutcome, Relationship, UserRecord,
};

pub type Db = Arc<dyn Store>;

/// A new time-ordered id, as the services make them.
pub fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Now, truncated to what the stores keep (milliseconds), so records read
/// back compare equal to what was written.
pub fn now() -> DateTime<Utc> {
    at_millis(Utc::now().timestamp_millis())
}

pub fn at_millis(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .expect("a valid time")
}

pub fn seconds(count: i64) -> Duration {
    Duration::seconds(count)
}

/// The error kind of a result that must have failed.
#[track_caller]
pub fn error_kind<T: std::fmt::Debug>(result: AppResult<T>) -> ErrorKind {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error.kind,
    }
}

/// The error of a result that must have failed.
#[track_caller]
pub fn error_of<T: std::fmt::Debug>(result: AppResult<T>) -> AppError {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error,
    }
}

pub fn new_user(username: &str) -> NewUser {
    NewUser {
        id: id(),
        username: username.to_owned(),
        email: format!("{username}@example.com"),
        display_name: format!("{username} display"),
        password_hash: format!("$argon2id$hash-of-{username}"),
        created_at: now(),
    }
}

pub async fn user(store: &Db, username: &str) -> UserRecord {
    store
        .create_user(new_user(username))
        .await
        .expect("user is created")
}

pub async fn direct(store: &Db, a: &UserRecord, b: &UserRecord) -> ConversationRecord {
    store
        .open_direct_conversation(&id(), &a.id, &b.id, now())
        .await
        .expect("direct conversation opens")
}

/// A group created at `created_at` with `owner` as OWNER and the others as MEMBER.
pub async fn group_at(
    store: &Db,
    title: &str,
    owner: &UserRecord,
    members: &[&UserRecord],
    created_at: DateTime<Utc>,
) -> ConversationRecord {
    let record = ConversationRecord {
        id: id(),
        kind: ConversationKind::Group,
        title: Some(title.to_owned()),
        created_at,
        last_seq: 0,
        last_activity_at: created_at,
        last_message_id: None,
        encrypted_at: None,
    };
    let mut roles = vec![(owner.id.clone(), MemberRole::Owner)];
    roles.extend(
        members
            .iter()
            .map(|member| (member.id.clone(), MemberRole::Member)),
    );
    store
        .create_group(record, roles)
        .await
        .expect("group is created")
}

pub async fn group(
    store: &Db,
    title: &str,
    owner: &UserRecord,
    members: &[&UserRecord],
) -> ConversationRecord {
    group_at(store, title, owner, members, now()).await
}

pub fn new_message(conversation_id: &str, author_id: &str, body: &str) -> NewMessage {
    NewMessage {
        id: id(),
        conversation_id: conversation_id.to_owned(),
        author_id: author_id.to_owned(),
        body: body.to_owned(),
        attachment_ids: Vec::new(),
        reply_to_id: None,
        client_id: None,
        created_at: now(),
        sealed: None,
    }
}

/// Sends a message that must be stored with an event; returns it.
pub async fn send(
    store: &Db,
    conversation_id: &str,
    author: &UserRecord,
    body: &str,
) -> MessageRecord {
    let change = store
        .create_message(new_message(conversation_id, &author.id, body))
        .await
        .expect("message is stored");
    assert!(change.event.is_some(), "a new message has a CREATED event");
    change.message
}

/// The seqs of a conversation's whole event log, in order.
pub async fn logged_seqs(store: &Db, conversation_id: &str) -> Vec<i64> {
    store
        .events_after(conversation_id, 0, 10_000)
        .await
        .expect("events")
        .into_iter()
        .map(|event| event.seq)
        .collect()
}

pub fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// A direct conversation of two fresh users: (amy, bea, conversation id).
pub async fn chat(store: &Db) -> (UserRecord, UserRecord, String) {
    let (amy, bea) = (user(store, "amy").await, user(store, "bea").await);
    let conversation = direct(store, &amy, &bea).await;
    (amy, bea, conversation.id)
}
