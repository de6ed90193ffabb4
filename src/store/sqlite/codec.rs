//! How records are laid out in SQLite rows: enums as upper-case text (the
//! names the API uses), timestamps as Unix milliseconds, column lists next
//! to the functions that read them.

use rusqlite::Row;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use super::from_millis;
use crate::store::{
    AccountTokenPurpose, AttachmentRecord, ConversationKind, ConversationRecord, DeviceKeyRecord,
    FriendRequestRecord, FriendRequestStatus, MemberRecord, MemberRole, MessageEventKind,
    MessageEventRecord, MessageRecord, ReactionRecord, Sealed,
};

/// Stores a fieldless enum as fixed text.
macro_rules! text_enum {
    ($type:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl ToSql for $type {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(match self {
                    $($type::$variant => $text),+
                }))
            }
        }

        impl FromSql for $type {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                match value.as_str()? {
                    $($text => Ok($type::$variant),)+
                    other => Err(FromSqlError::Other(
                        format!("unknown {} {other:?}", stringify!($type)).into(),
                    )),
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

pub const FRIEND_REQUEST_COLUMNS: &str =
    "id, from_user_id, to_user_id, status, created_at, responded_at";

pub fn friend_request(row: &Row<'_>) -> rusqlite::Result<FriendRequestRecord> {
    Ok(FriendRequestRecord {
        id: row.get(0)?,
        from_user_id: row.get(1)?,
        to_user_id: row.get(2)?,
        status: row.get(3)?,
        created_at: from_millis(row.get(4)?),
        responded_at: row.get::<_, Option<i64>>(5)?.map(from_millis),
    })
}

pub const CONVERSATION_COLUMNS: &str =
    "id, kind, title, created_at, last_seq, last_activity_at, last_message_id, encrypted_at";

pub fn conversation(row: &Row<'_>) -> rusqlite::Result<ConversationRecord> {
    Ok(ConversationRecord {
        id: row.get(0)?,
        kind: row.get(1)?,
        title: row.get(2)?,
        created_at: from_millis(row.get(3)?),
        last_seq: row.get(4)?,
        last_activity_at: from_millis(row.get(5)?),
        last_message_id: row.get(6)?,
        encrypted_at: row.get::<_, Option<i64>>(7)?.map(from_millis),
    })
}

pub const MEMBER_COLUMNS: &str = "conversation_id, user_id, role, joined_at, last_read_seq";

pub fn member(row: &Row<'_>) -> rusqlite::Result<MemberRecord> {
    Ok(MemberRecord {
        conversation_id: row.get(0)?,
        user_id: row.get(1)?,
        role: row.get(2)?,
        joined_at: from_millis(row.get(3)?),
        last_read_seq: row.get(4)?,
    })
}

pub const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, author_id, body, reply_to_id, \
     client_id, created_at, edited_at, deleted_at, sealed";

pub fn message(row: &Row<'_>) -> rusqlite::Result<MessageRecord> {
    Ok(MessageRecord {
        id: row.get(0)?,
        conversation_id: row.get(1)?,
        seq: row.get(2)?,
        author_id: row.get(3)?,
        body: row.get(4)?,
        reply_to_id: row.get(5)?,
        client_id: row.get(6)?,
        created_at: from_millis(row.get(7)?),
        edited_at: row.get::<_, Option<i64>>(8)?.map(from_millis),
        deleted: row.get::<_, Option<i64>>(9)?.is_some(),
        sealed: row
            .get::<_, Option<String>>(10)?
            .map(|text| Sealed::from_json(&text))
            .transpose()
            .map_err(|error| {
                rusqlite::Error::FromSqlConversionFailure(
                    10,
                    rusqlite::types::Type::Text,
                    error.into(),
                )
            })?,
    })
}

pub const DEVICE_KEY_COLUMNS: &str =
    "id, user_id, identity_key, encryption_key, signature, label, created_at, revoked_at";

pub fn device_key(row: &Row<'_>) -> rusqlite::Result<DeviceKeyRecord> {
    Ok(DeviceKeyRecord {
        id: row.get(0)?,
        user_id: row.get(1)?,
        identity_key: row.get(2)?,
        encryption_key: row.get(3)?,
        signature: row.get(4)?,
        label: row.get(5)?,
        created_at: from_millis(row.get(6)?),
        revoked_at: row.get::<_, Option<i64>>(7)?.map(from_millis),
    })
}

pub const EVENT_COLUMNS: &str = "conversation_id, seq, kind, message_id, created_at";

pub fn event(row: &Row<'_>) -> rusqlite::Result<MessageEventRecord> {
    Ok(MessageEventRecord {
        conversation_id: row.get(0)?,
        seq: row.get(1)?,
        kind: row.get(2)?,
        message_id: row.get(3)?,
        created_at: from_millis(row.get(4)?),
    })
}

pub const ATTACHMENT_COLUMNS: &str = "id, uploader_id, sha256, file_name, content_type, size, \
     width, height, thumbnail_sha256, created_at, message_id, used_as_avatar";

pub fn attachment(row: &Row<'_>) -> rusqlite::Result<AttachmentRecord> {
    Ok(AttachmentRecord {
        id: row.get(0)?,
        uploader_id: row.get(1)?,
        sha256: row.get(2)?,
        file_name: row.get(3)?,
        content_type: row.get(4)?,
        size: row.get(5)?,
        width: row.get(6)?,
        height: row.get(7)?,
        thumbnail_sha256: row.get(8)?,
        created_at: from_millis(row.get(9)?),
        message_id: row.get(10)?,
        used_as_avatar: row.get(11)?,
    })
}

pub const REACTION_COLUMNS: &str = "message_id, emoji, user_id, created_at";

pub fn reaction(row: &Row<'_>) -> rusqlite::Result<ReactionRecord> {
    Ok(ReactionRecord {
        message_id: row.get(0)?,
        emoji: row.get(1)?,
        user_id: row.get(2)?,
        created_at: from_millis(row.get(3)?),
    })
}

/// A list of ids as one JSON parameter, for `IN (SELECT value FROM json_each(?))`.
pub fn id_list(ids: &[String]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned())
}

/// The two ids of a pair in a fixed order, so a pair is stored once.
pub fn ordered_pair<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a < b { (a, b) } else { (b, a) }
}
