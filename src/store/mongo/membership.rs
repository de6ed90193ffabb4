//! Memberships: join order, adding members under a cap, leaving a group
//! (with ownership passing on, or the group going when the last one
//! leaves). The transaction bodies of `ConversationStore`'s multi-document
//! membership changes live here so `conversations.rs` stays readable.

use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use mongodb::{ClientSession, Database};

use super::codec::{self, Fields as _, TextEnum as _};
use super::indexes::{ATTACHMENTS, CONVERSATIONS, MEMBERS, MESSAGE_EVENTS, MESSAGES, REACTIONS};
use super::{coll, collect_in, limit, reject};
use crate::error::{AppError, AppResult};
use crate::store::{LeaveOutcome, MemberRecord, MemberRole};

/// Members in join order: the longest-standing first.
pub(super) fn join_order() -> Document {
    doc! { "joinedAt": 1, "position": 1 }
}

/// A new member's document.
pub(super) fn new_member(
    conversation_id: &str,
    user_id: &str,
    role: MemberRole,
    joined_at: DateTime<Utc>,
    position: i64,
) -> Document {
    let member = MemberRecord {
        conversation_id: conversation_id.to_owned(),
        user_id: user_id.to_owned(),
        role,
        joined_at,
        last_read_seq: 0,
    };
    codec::member_document(&member, position)
}

/// The conversation ids a user is a member of.
pub(super) async fn conversation_ids_of(
    db: &Database,
    user_id: &str,
) -> mongodb::error::Result<Vec<Bson>> {
    coll(db, MEMBERS)
        .distinct("conversationId", doc! { "userId": user_id })
        .await
}

/// Deletes a conversation and everything in it, as SQLite's cascades do:
/// members, messages, their reactions, the event log; attachments stay
/// but no longer belong to a message.
async fn delete_conversation(
    db: &Database,
    tx: &mut ClientSession,
    conversation_id: &str,
) -> mongodb::error::Result<()> {
    let in_conversation = doc! { "conversationId": conversation_id };
    let message_ids = coll(db, MESSAGES)
        .distinct("_id", in_conversation.clone())
        .session(&mut *tx)
        .await?;
    if !message_ids.is_empty() {
        coll(db, REACTIONS)
            .delete_many(doc! { "messageId": { "$in": &message_ids } })
            .session(&mut *tx)
            .await?;
        coll(db, ATTACHMENTS)
            .update_many(
                doc! { "messageId": { "$in": &message_ids } },
                doc! { "$set": { "messageId": null } },
            )
            .session(&mut *tx)
            .await?;
    }
    for name in [MESSAGES, MESSAGE_EVENTS, MEMBERS] {
        coll(db, name)
            .delete_many(in_conversation.clone())
            .session(&mut *tx)
            .await?;
    }
    coll(db, CONVERSATIONS)
        .delete_one(doc! { "_id": conversation_id })
        .session(&mut *tx)
        .await?;
    Ok(())
}

/// Adds the users not yet members, unless the group would pass `max_members`.
pub(super) async fn add_members_in(
    db: &Database,
    tx: &mut ClientSession,
    conversation_id: &str,
    user_ids: &[String],
    max_members: usize,
    now: DateTime<Utc>,
) -> mongodb::error::Result<AppResult<Vec<String>>> {
    let members = coll(db, MEMBERS);
    let existing = members
        .distinct("userId", doc! { "conversationId": conversation_id })
        .session(&mut *tx)
        .await?;
    let mut added: Vec<String> = Vec::new();
    for user_id in user_ids.iter() {
        let present = existing.iter().any(|id| id.as_str() == Some(user_id));
        if !present && !added.contains(user_id) {
            added.push(user_id.clone());
        }
    }
    if existing.len() + added.len() > max_members {
        let error = AppError::bad_input(
            "userIds",
            format!("a group has at most {max_members} members"),
        );
        return reject(tx, error).await;
    }
    if added.is_empty() {
        return Ok(Ok(added));
    }
    // Taking the positions also serialises concurrent adds
    // (both write this document), so the cap holds.
    let before = coll(db, CONVERSATIONS)
        .find_one_and_update(
            doc! { "_id": conversation_id },
            doc! { "$inc": { "memberSerial": limit(added.len()) } },
        )
        .return_document(ReturnDocument::Before)
        .session(&mut *tx)
        .await?;
    let Some(before) = before else {
        return reject(tx, AppError::not_found("conversation not found")).await;
    };
    let first = match before.opt_int("memberSerial") {
        Ok(serial) => serial.unwrap_or(0),
        Err(error) => return reject(tx, error).await,
    };
    let rows: Vec<Document> = added
        .iter()
        .zip(first..)
        .map(|(user_id, position)| {
            new_member(conversation_id, user_id, MemberRole::Member, now, position)
        })
        .collect();
    members.insert_many(rows).session(&mut *tx).await?;
    Ok(Ok(added))
}

/// Removes the member; passes ownership on or deletes the emptied group.
pub(super) async fn leave_in(
    db: &Database,
    tx: &mut ClientSession,
    conversation_id: &str,
    user_id: &str,
) -> mongodb::error::Result<AppResult<LeaveOutcome>> {
    let members = coll(db, MEMBERS);
    let in_conversation = doc! { "conversationId": conversation_id };
    let left = members
        .find_one_and_delete(doc! { "conversationId": conversation_id, "userId": user_id })
        .session(&mut *tx)
        .await?;
    let Some(left) = left else {
        return Ok(Ok(LeaveOutcome::NotMember));
    };
    let role: MemberRole = match left.text_enum("role") {
        Ok(role) => role,
        Err(error) => return reject(tx, error).await,
    };
    let remaining = members
        .count_documents(in_conversation.clone())
        .session(&mut *tx)
        .await?;
    if remaining == 0 {
        delete_conversation(db, tx, conversation_id).await?;
        return Ok(Ok(LeaveOutcome::Deleted));
    }
    if role != MemberRole::Owner {
        return Ok(Ok(LeaveOutcome::Left { new_owner: None }));
    }
    // The longest-standing ADMIN, else the longest-standing member.
    let mut admins = in_conversation.clone();
    admins.insert("role", MemberRole::Admin.as_text());
    let mut successor = None;
    for filter in [admins, in_conversation] {
        let cursor = members
            .find(filter)
            .sort(join_order())
            .limit(1)
            .session(&mut *tx)
            .await?;
        if let Some(first) = collect_in(cursor, tx).await?.into_iter().next() {
            successor = Some(first);
            break;
        }
    }
    let successor = match successor.as_ref().map(|member| member.text("userId")) {
        Some(Ok(id)) => id,
        Some(Err(error)) => return reject(tx, error).await,
        None => {
            let error = AppError::internal(anyhow::anyhow!("members vanished"));
            return reject(tx, error).await;
        }
    };
    members
        .update_one(
            doc! { "conversationId": conversation_id, "userId": &successor },
            doc! { "$set": { "role": MemberRole::Owner.as_text() } },
        )
        .session(&mut *tx)
        .await?;
    Ok(Ok(LeaveOutcome::Left {
        new_owner: Some(successor),
    }))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn new_members_start_unread_at_zero_in_their_place() {
        let at = Utc.timestamp_millis_opt(5).single().expect("time");
        let row = new_member("c", "u", MemberRole::Admin, at, 3);
        assert_eq!(row.get_i64("position").expect("position"), 3);
        assert_eq!(row.get_i64("lastReadSeq").expect("marker"), 0);
        assert_eq!(row.get_str("role").expect("role"), "ADMIN");
    }
}
