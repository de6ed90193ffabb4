//! The event log of messages: taking a conversation's next seq and
//! appending the event, loading and reloading a message inside a
//! transaction, and the send that starts a message's log. Shared by the
//! `MessageStore` changes in `messages.rs`.

use chrono::{DateTime, Utc};
use mongodb::bson::{Document, doc};
use mongodb::options::ReturnDocument;
use mongodb::{ClientSession, Collection, Database};

use super::codec::{self, Fields as _, date, id_list};
use super::coll;
use super::indexes::{ATTACHMENTS, CONVERSATIONS, MESSAGE_EVENTS, MESSAGES};
use crate::error::{AppError, AppResult};
use crate::store::device_keys::sealing_mismatch;
use crate::store::{
    MessageChange, MessageEventKind, MessageEventRecord, MessageRecord, NewMessage,
};

/// The message an author already sent with this client id. States the
/// partial index's condition so the planner can use it.
pub(super) fn by_client_id(author_id: &str, client_id: &str) -> Document {
    doc! { "authorId": author_id, "clientId": { "$eq": client_id, "$type": "string" } }
}

/// Takes the conversation's next seq and appends an event with it;
/// `None` when the conversation does not exist.
pub(super) async fn append_event(
    db: &Database,
    tx: &mut ClientSession,
    conversation_id: &str,
    kind: MessageEventKind,
    message_id: &str,
    now: DateTime<Utc>,
) -> mongodb::error::Result<Option<AppResult<MessageEventRecord>>> {
    let counter = coll(db, CONVERSATIONS)
        .find_one_and_update(
            doc! { "_id": conversation_id },
            doc! { "$inc": { "lastSeq": 1_i64 } },
        )
        .projection(doc! { "lastSeq": 1 })
        .return_document(ReturnDocument::After)
        .session(&mut *tx)
        .await?;
    let Some(counter) = counter else {
        return Ok(None);
    };
    let seq = match counter.int("lastSeq") {
        Ok(seq) => seq,
        Err(error) => return Ok(Some(Err(error))),
    };
    let event = MessageEventRecord {
        conversation_id: conversation_id.to_owned(),
        seq,
        kind,
        message_id: message_id.to_owned(),
        created_at: now,
    };
    coll(db, MESSAGE_EVENTS)
        .insert_one(codec::event_document(&event))
        .session(&mut *tx)
        .await?;
    Ok(Some(Ok(event)))
}

pub(super) async fn load(
    messages: &Collection<Document>,
    tx: &mut ClientSession,
    id: &str,
) -> mongodb::error::Result<Option<AppResult<MessageRecord>>> {
    let found = messages
        .find_one(doc! { "_id": id })
        .session(&mut *tx)
        .await?;
    Ok(found.as_ref().map(codec::message))
}

pub(super) fn unchanged(message: MessageRecord) -> AppResult<Option<MessageChange>> {
    Ok(Some(MessageChange {
        message,
        event: None,
    }))
}

/// Reloads a message after a change, with its event.
pub(super) async fn finish(
    messages: &Collection<Document>,
    tx: &mut ClientSession,
    id: &str,
    event: MessageEventRecord,
) -> mongodb::error::Result<AppResult<Option<MessageChange>>> {
    let message = match load(messages, tx, id).await? {
        Some(Ok(message)) => message,
        Some(Err(error)) => return super::reject(tx, error).await,
        None => {
            let error = AppError::internal(anyhow::anyhow!("message vanished mid-transaction"));
            return super::reject(tx, error).await;
        }
    };
    Ok(Ok(Some(MessageChange {
        message,
        event: Some(event),
    })))
}

/// Stores a new message with its CREATED event, or finds the author's
/// earlier one with the same client id (then no event).
pub(super) async fn insert_message(
    db: &Database,
    tx: &mut ClientSession,
    message: &NewMessage,
) -> mongodb::error::Result<AppResult<MessageChange>> {
    let messages = coll(db, MESSAGES);
    if let Some(client_id) = &message.client_id {
        let existing = messages
            .find_one(by_client_id(&message.author_id, client_id))
            .session(&mut *tx)
            .await?;
        if let Some(existing) = existing {
            let existing = or_reject!(tx, codec::message(&existing));
            return Ok(Ok(MessageChange {
                message: existing,
                event: None,
            }));
        }
    }
    // Read inside the transaction that also bumps the conversation's seq:
    // a concurrent `encrypt_conversation` is a write conflict, and the
    // driver retries this body, so the check holds at commit.
    let conversation = coll(db, CONVERSATIONS)
        .find_one(doc! { "_id": &message.conversation_id })
        .projection(doc! { "encryptedAt": 1 })
        .session(&mut *tx)
        .await?;
    if let Some(conversation) = conversation {
        let encrypted = or_reject!(tx, conversation.opt_time("encryptedAt")).is_some();
        if encrypted != message.sealed.is_some() {
            return super::reject(tx, sealing_mismatch(encrypted)).await;
        }
    }
    let appended = append_event(
        db,
        tx,
        &message.conversation_id,
        MessageEventKind::Created,
        &message.id,
        message.created_at,
    )
    .await?;
    let event = match appended {
        Some(event) => or_reject!(tx, event),
        None => {
            let error = AppError::not_found("conversation not found");
            return super::reject(tx, error).await;
        }
    };
    let record = MessageRecord {
        id: message.id.clone(),
        conversation_id: message.conversation_id.clone(),
        seq: event.seq,
        author_id: message.author_id.clone(),
        body: message.body.clone(),
        reply_to_id: message.reply_to_id.clone(),
        client_id: message.client_id.clone(),
        created_at: message.created_at,
        edited_at: None,
        deleted: false,
        sealed: message.sealed.clone(),
    };
    messages
        .insert_one(codec::message_document(&record, None))
        .session(&mut *tx)
        .await?;
    if !message.attachment_ids.is_empty() {
        let attached = coll(db, ATTACHMENTS)
            .update_many(
                doc! {
                    "_id": { "$in": id_list(&message.attachment_ids) },
                    "uploaderId": &message.author_id,
                    "messageId": null,
                    "usedAsAvatar": false,
                },
                doc! { "$set": { "messageId": &message.id } },
            )
            .session(&mut *tx)
            .await?;
        if usize::try_from(attached.modified_count).ok() != Some(message.attachment_ids.len()) {
            let error = AppError::bad_input(
                "attachmentIds",
                "each attachment must be your own upload, not yet sent",
            );
            return super::reject(tx, error).await;
        }
    }
    coll(db, CONVERSATIONS)
        .update_one(
            doc! { "_id": &message.conversation_id },
            doc! { "$set": {
                "lastActivityAt": date(message.created_at),
                "lastMessageId": &message.id,
            } },
        )
        .session(&mut *tx)
        .await?;
    Ok(Ok(MessageChange {
        message: record,
        event: Some(event),
    }))
}
