//! How records are laid out in MongoDB documents.
//!
//! Field names are camelCase; an entity's id is `_id`. Enums are stored as
//! the upper-case names the API uses (as in SQLite), timestamps as BSON
//! dates (millisecond precision, like SQLite's Unix milliseconds). Absent
//! optional values are stored as explicit `null`, so `{field: null}`
//! filters and the indexes that serve them see every document the same way.
//! Readers accept a missing field as `null` too, so documents written by an
//! older layout still load.

use chrono::{DateTime, TimeZone, Utc};
use mongodb::bson::{Bson, DateTime as BsonDateTime, Document, doc};

use crate::error::{AppError, AppResult};
use crate::store::{
    AccountTokenPurpose, AttachmentRecord, ConversationKind, ConversationRecord, DeviceKeyRecord,
    FriendRequestRecord, FriendRequestStatus, MemberRecord, MemberRole, MessageEventKind,
    MessageEventRecord, MessageRecord, ReactionRecord, Sealed, SessionRecord, UserRecord,
};

/// A fieldless enum stored as fixed text.
pub trait TextEnum: Sized + Copy {
    fn as_text(self) -> &'static str;
    fn from_text(text: &str) -> Option<Self>;
}

macro_rules! text_enum {
    ($type:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl TextEnum for $type {
            fn as_text(self) -> &'static str {
                match self {
                    $($type::$variant => $text),+
                }
            }

            fn from_text(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($type::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

text_enum!(FriendRequestStatus {
    Pending => "PENDING",
    Accepted => "ACCEPTED",
    Declined => "DECLINED",
    Cancelled => "CANCELLED",
});
text_enum!(ConversationKind { Direct => "DIRECT", Group => "GROUP" });
text_enum!(AccountTokenPurpose {
    VerifyEmail => "VERIFY_EMAIL",
    ResetPassword => "RESET_PASSWORD",
});
text_enum!(MemberRole { Owner => "OWNER", Admin => "ADMIN", Member => "MEMBER" });
text_enum!(MessageEventKind {
    Created => "CREATED",
    Edited => "EDITED",
    Deleted => "DELETED",
    ReactionsChanged => "REACTIONS_CHANGED",
});

/// A timestamp as a BSON date.
pub fn date(at: DateTime<Utc>) -> BsonDateTime {
    BsonDateTime::from_millis(at.timestamp_millis())
}

/// An optional timestamp as a BSON date or `null`.
pub fn opt_date(at: Option<DateTime<Utc>>) -> Bson {
    at.map_or(Bson::Null, |at| Bson::DateTime(date(at)))
}

pub fn to_chrono(at: BsonDateTime) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(at.timestamp_millis())
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `value` or `null`.
pub fn opt_text(value: Option<&str>) -> Bson {
    value.map_or(Bson::Null, |value| Bson::String(value.to_owned()))
}

pub fn opt_int(value: Option<i64>) -> Bson {
    value.map_or(Bson::Null, Bson::Int64)
}

#[track_caller]
fn malformed(field: &str, problem: &str) -> AppError {
    AppError::internal(anyhow::anyhow!(
        "malformed MongoDB document: field {field:?} {problem}"
    ))
}

/// Reading typed fields out of a document with errors that name the field.
pub trait Fields {
    fn text(&self, field: &str) -> AppResult<String>;
    fn opt_text(&self, field: &str) -> AppResult<Option<String>>;
    fn int(&self, field: &str) -> AppResult<i64>;
    fn opt_int(&self, field: &str) -> AppResult<Option<i64>>;
    fn time(&self, field: &str) -> AppResult<DateTime<Utc>>;
    fn opt_time(&self, field: &str) -> AppResult<Option<DateTime<Utc>>>;
    fn flag(&self, field: &str) -> AppResult<bool>;
    fn text_enum<E: TextEnum>(&self, field: &str) -> AppResult<E>;
}

impl Fields for Document {
    fn text(&self, field: &str) -> AppResult<String> {
        self.opt_text(field)?
            .ok_or_else(|| malformed(field, "is missing"))
    }

    fn opt_text(&self, field: &str) -> AppResult<Option<String>> {
        match self.get(field) {
            None | Some(Bson::Null) => Ok(None),
            Some(Bson::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(malformed(field, "is not a string")),
        }
    }

    fn int(&self, field: &str) -> AppResult<i64> {
        self.opt_int(field)?
            .ok_or_else(|| malformed(field, "is missing"))
    }

    /// Accepts 32- and 64-bit integers: `$inc` by a literal 1 may store either.
    fn opt_int(&self, field: &str) -> AppResult<Option<i64>> {
        match self.get(field) {
            None | Some(Bson::Null) => Ok(None),
            Some(Bson::Int64(value)) => Ok(Some(*value)),
            Some(Bson::Int32(value)) => Ok(Some(i64::from(*value))),
            Some(_) => Err(malformed(field, "is not an integer")),
        }
    }

    fn time(&self, field: &str) -> AppResult<DateTime<Utc>> {
        self.opt_time(field)?
            .ok_or_else(|| malformed(field, "is missing"))
    }

    fn opt_time(&self, field: &str) -> AppResult<Option<DateTime<Utc>>> {
        match self.get(field) {
            None | Some(Bson::Null) => Ok(None),
            Some(Bson::DateTime(at)) => Ok(Some(to_chrono(*at))),
            Some(_) => Err(malformed(field, "is not a date")),
        }
    }

    fn flag(&self, field: &str) -> AppResult<bool> {
        match self.get(field) {
            None | Some(Bson::Null) => Ok(false),
            Some(Bson::Boolean(value)) => Ok(*value),
            Some(_) => Err(malformed(field, "is not a boolean")),
        }
    }

    fn text_enum<E: TextEnum>(&self, field: &str) -> AppResult<E> {
        let text = self.text(field)?;
        E::from_text(&text).ok_or_else(|| malformed(field, &format!("has unknown value {text:?}")))
    }
}

/// The key that makes a username or email unique regardless of case.
/// Usernames and emails arrive normalised already; folding again here
/// keeps uniqueness case-insensitive even if that rule ever loosens (as
/// `COLLATE NOCASE` does in SQLite).
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// The two ids of a pair in a fixed order, so a pair is stored once.
pub fn ordered_pair<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a < b { (a, b) } else { (b, a) }
}

/// `low:high`: one key per unordered pair (direct conversations, pending
/// friend requests). Ids are UUIDs, which never contain `:`.
pub fn pair_key(a: &str, b: &str) -> String {
    let (low, high) = ordered_pair(a, b);
    format!("{low}:{high}")
}

/// A list of ids for `$in`.
pub fn id_list(ids: &[String]) -> Vec<Bson> {
    ids.iter().map(|id| Bson::String(id.clone())).collect()
}

pub fn user_document(user: &UserRecord) -> Document {
    doc! {
        "_id": &user.id,
        "username": &user.username,
        "usernameKey": fold(&user.username),
        "email": &user.email,
        "emailKey": fold(&user.email),
        "displayName": &user.display_name,
        "passwordHash": &user.password_hash,
        "avatarAttachmentId": opt_text(user.avatar_attachment_id.as_deref()),
        "createdAt": date(user.created_at),
        "lastSeenAt": opt_date(user.last_seen_at),
        "emailVerifiedAt": opt_date(user.email_verified_at),
        "deletedAt": opt_date(user.deleted_at),
    }
}

pub fn user(doc: &Document) -> AppResult<UserRecord> {
    Ok(UserRecord {
        id: doc.text("_id")?,
        username: doc.text("username")?,
        email: doc.text("email")?,
        display_name: doc.text("displayName")?,
        password_hash: doc.text("passwordHash")?,
        avatar_attachment_id: doc.opt_text("avatarAttachmentId")?,
        created_at: doc.time("createdAt")?,
        last_seen_at: doc.opt_time("lastSeenAt")?,
        email_verified_at: doc.opt_time("emailVerifiedAt")?,
        deleted_at: doc.opt_time("deletedAt")?,
    })
}

pub fn session_document(session: &SessionRecord) -> Document {
    doc! {
        "_id": &session.id,
        "userId": &session.user_id,
        "createdAt": date(session.created_at),
        "refreshedAt": date(session.refreshed_at),
        "expiresAt": date(session.expires_at),
        "revokedAt": opt_date(session.revoked_at),
    }
}

pub fn session(doc: &Document) -> AppResult<SessionRecord> {
    Ok(SessionRecord {
        id: doc.text("_id")?,
        user_id: doc.text("userId")?,
        created_at: doc.time("createdAt")?,
        refreshed_at: doc.time("refreshedAt")?,
        expires_at: doc.time("expiresAt")?,
        revoked_at: doc.opt_time("revokedAt")?,
    })
}

pub fn friend_request_document(request: &FriendRequestRecord) -> Document {
    doc! {
        "_id": &request.id,
        "fromUserId": &request.from_user_id,
        "toUserId": &request.to_user_id,
        "pairKey": pair_key(&request.from_user_id, &request.to_user_id),
        "status": request.status.as_text(),
        "createdAt": date(request.created_at),
        "respondedAt": opt_date(request.responded_at),
    }
}

pub fn friend_request(doc: &Document) -> AppResult<FriendRequestRecord> {
    Ok(FriendRequestRecord {
        id: doc.text("_id")?,
        from_user_id: doc.text("fromUserId")?,
        to_user_id: doc.text("toUserId")?,
        status: doc.text_enum("status")?,
        created_at: doc.time("createdAt")?,
        responded_at: doc.opt_time("respondedAt")?,
    })
}

/// A conversation; `direct_key` is the pair key for DIRECT, `None` for groups.
/// Its counters start from the record (`lastSeq`) and 0 (`memberSerial`).
pub fn conversation_document(
    conversation: &ConversationRecord,
    direct_key: Option<&str>,
) -> Document {
    let mut document = doc! {
        "_id": &conversation.id,
        "kind": conversation.kind.as_text(),
        "title": opt_text(conversation.title.as_deref()),
        "createdAt": date(conversation.created_at),
        "lastSeq": conversation.last_seq,
        "lastActivityAt": date(conversation.last_activity_at),
        "lastMessageId": opt_text(conversation.last_message_id.as_deref()),
        "encryptedAt": opt_date(conversation.encrypted_at),
        // How many members ever joined: the next member's place in join order.
        "memberSerial": 0_i64,
    };
    // Absent (not null) for groups: the unique index on it is sparse.
    if let Some(key) = direct_key {
        document.insert("directKey", key);
    }
    document
}

pub fn conversation(doc: &Document) -> AppResult<ConversationRecord> {
    Ok(ConversationRecord {
        id: doc.text("_id")?,
        kind: doc.text_enum("kind")?,
        title: doc.opt_text("title")?,
        created_at: doc.time("createdAt")?,
        last_seq: doc.int("lastSeq")?,
        last_activity_at: doc.time("lastActivityAt")?,
        last_message_id: doc.opt_text("lastMessageId")?,
        encrypted_at: doc.opt_time("encryptedAt")?,
    })
}

/// A membership. `position` is its place in the conversation's join order
/// (SQLite's rowid plays that part there): ties of `joinedAt` break by it.
pub fn member_document(member: &MemberRecord, position: i64) -> Document {
    doc! {
        "conversationId": &member.conversation_id,
        "userId": &member.user_id,
        "role": member.role.as_text(),
        "joinedAt": date(member.joined_at),
        "position": position,
        "lastReadSeq": member.last_read_seq,
    }
}

pub fn member(doc: &Document) -> AppResult<MemberRecord> {
    Ok(MemberRecord {
        conversation_id: doc.text("conversationId")?,
        user_id: doc.text("userId")?,
        role: doc.text_enum("role")?,
        joined_at: doc.time("joinedAt")?,
        last_read_seq: doc.int("lastReadSeq")?,
    })
}

/// A message; `searchTerms` is derived from the body (see `search.rs`).
pub fn message_document(message: &MessageRecord, deleted_at: Option<DateTime<Utc>>) -> Document {
    doc! {
        "_id": &message.id,
        "conversationId": &message.conversation_id,
        "seq": message.seq,
        "authorId": &message.author_id,
        "body": &message.body,
        "searchTerms": super::search::terms(&message.body),
        "replyToId": opt_text(message.reply_to_id.as_deref()),
        "clientId": opt_text(message.client_id.as_deref()),
        "createdAt": date(message.created_at),
        "editedAt": opt_date(message.edited_at),
        "deletedAt": opt_date(deleted_at),
        // The same JSON text as SQLite's column: opaque to the database.
        "sealed": opt_text(message.sealed.as_ref().map(Sealed::to_json).as_deref()),
    }
}

pub fn message(doc: &Document) -> AppResult<MessageRecord> {
    Ok(MessageRecord {
        id: doc.text("_id")?,
        conversation_id: doc.text("conversationId")?,
        seq: doc.int("seq")?,
        author_id: doc.text("authorId")?,
        body: doc.text("body")?,
        reply_to_id: doc.opt_text("replyToId")?,
        client_id: doc.opt_text("clientId")?,
        created_at: doc.time("createdAt")?,
        edited_at: doc.opt_time("editedAt")?,
        deleted: doc.opt_time("deletedAt")?.is_some(),
        sealed: doc
            .opt_text("sealed")?
            .map(|text| Sealed::from_json(&text))
            .transpose()
            .map_err(|error| malformed("sealed", &error.to_string()))?,
    })
}

pub fn device_key_document(key: &DeviceKeyRecord) -> Document {
    doc! {
        "_id": &key.id,
        "userId": &key.user_id,
        "identityKey": &key.identity_key,
        "encryptionKey": &key.encryption_key,
        "signature": &key.signature,
        "label": opt_text(key.label.as_deref()),
        "createdAt": date(key.created_at),
        "revokedAt": opt_date(key.revoked_at),
    }
}

pub fn device_key(doc: &Document) -> AppResult<DeviceKeyRecord> {
    Ok(DeviceKeyRecord {
        id: doc.text("_id")?,
        user_id: doc.text("userId")?,
        identity_key: doc.text("identityKey")?,
        encryption_key: doc.text("encryptionKey")?,
        signature: doc.text("signature")?,
        label: doc.opt_text("label")?,
        created_at: doc.time("createdAt")?,
        revoked_at: doc.opt_time("revokedAt")?,
    })
}

pub fn event_document(event: &MessageEventRecord) -> Document {
    doc! {
        "conversationId": &event.conversation_id,
        "seq": event.seq,
        "kind": event.kind.as_text(),
        "messageId": &event.message_id,
        "createdAt": date(event.created_at),
    }
}

pub fn event(doc: &Document) -> AppResult<MessageEventRecord> {
    Ok(MessageEventRecord {
        conversation_id: doc.text("conversationId")?,
        seq: doc.int("seq")?,
        kind: doc.text_enum("kind")?,
        message_id: doc.text("messageId")?,
        created_at: doc.time("createdAt")?,
    })
}

pub fn reaction_document(reaction: &ReactionRecord) -> Document {
    doc! {
        "messageId": &reaction.message_id,
        "emoji": &reaction.emoji,
        "userId": &reaction.user_id,
        "createdAt": date(reaction.created_at),
    }
}

pub fn reaction(doc: &Document) -> AppResult<ReactionRecord> {
    Ok(ReactionRecord {
        message_id: doc.text("messageId")?,
        emoji: doc.text("emoji")?,
        user_id: doc.text("userId")?,
        created_at: doc.time("createdAt")?,
    })
}

pub fn attachment_document(attachment: &AttachmentRecord) -> Document {
    doc! {
        "_id": &attachment.id,
        "uploaderId": &attachment.uploader_id,
        "sha256": &attachment.sha256,
        "fileName": &attachment.file_name,
        "contentType": &attachment.content_type,
        "size": attachment.size,
        "width": opt_int(attachment.width),
        "height": opt_int(attachment.height),
        "thumbnailSha256": opt_text(attachment.thumbnail_sha256.as_deref()),
        "createdAt": date(attachment.created_at),
        "messageId": opt_text(attachment.message_id.as_deref()),
        "usedAsAvatar": attachment.used_as_avatar,
    }
}

pub fn attachment(doc: &Document) -> AppResult<AttachmentRecord> {
    Ok(AttachmentRecord {
        id: doc.text("_id")?,
        uploader_id: doc.text("uploaderId")?,
        sha256: doc.text("sha256")?,
        file_name: doc.text("fileName")?,
        content_type: doc.text("contentType")?,
        size: doc.int("size")?,
        width: doc.opt_int("width")?,
        height: doc.opt_int("height")?,
        thumbnail_sha256: doc.opt_text("thumbnailSha256")?,
        created_at: doc.time("createdAt")?,
        message_id: doc.opt_text("messageId")?,
        used_as_avatar: doc.flag("usedAsAvatar")?,
    })
}

#[cfg(test)]
pub mod tests;
