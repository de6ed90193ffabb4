//! Rows and documents agree: what the codecs write exports to SQLite's
//! columns, and importing that row gives the same document back.

use mongodb::bson::{Bson, Document};
use serde_json::json;

use super::*;
use crate::store::mongo::codec::{self, tests::at, tests::sample_user};
use crate::store::{
    AttachmentRecord, ConversationKind, ConversationRecord, DeviceKeyRecord, Envelope,
    MemberRecord, MemberRole, MessageRecord, Sealed,
};

/// `document` without the fields an import adds later or generates.
fn comparable(mut document: Document) -> Document {
    for field in ["position", "memberSerial"] {
        document.remove(field);
    }
    document
}

fn round_trip(table: Table, document: Document) -> Row {
    let row = document_to_row(table, &document).expect("exports");
    let back = row_to_document(table, &row).expect("imports");
    assert_eq!(comparable(back), comparable(document), "{}", table.name());
    row
}

#[test]
fn users_export_to_sqlite_columns_and_come_back() {
    let row = round_trip(Table::Users, codec::user_document(&sample_user()));
    assert_eq!(row["created_at"], json!(1_700_000_000_123_i64));
    assert_eq!(row["last_seen_at"], json!(null));
    assert_eq!(row["display_name"], json!("Ann Lee"));
    let names: Vec<&str> = row.keys().map(String::as_str).collect();
    let expected: Vec<&str> = columns(Table::Users)
        .iter()
        .map(|column| column.0)
        .collect();
    let (mut names, mut expected) = (names, expected);
    names.sort_unstable();
    expected.sort_unstable();
    assert_eq!(names, expected, "exactly the SQLite columns");
}

#[test]
fn conversations_members_messages_and_attachments_round_trip() {
    let group = ConversationRecord {
        id: "c".into(),
        kind: ConversationKind::Group,
        title: Some("Team".into()),
        created_at: at(1),
        last_seq: 4,
        last_activity_at: at(2),
        last_message_id: None,
        encrypted_at: None,
    };
    let row = round_trip(
        Table::Conversations,
        codec::conversation_document(&group, None),
    );
    assert_eq!(row["direct_key"], json!(null));
    let direct = ConversationRecord {
        kind: ConversationKind::Direct,
        title: None,
        encrypted_at: Some(at(3)),
        ..group
    };
    let row = round_trip(
        Table::Conversations,
        codec::conversation_document(&direct, Some("a:b")),
    );
    assert_eq!(row["direct_key"], json!("a:b"));
    assert_eq!(row["encrypted_at"], json!(at(3).timestamp_millis()));

    let member = MemberRecord {
        conversation_id: "c".into(),
        user_id: "u".into(),
        role: MemberRole::Admin,
        joined_at: at(3),
        last_read_seq: 2,
    };
    round_trip(Table::Members, codec::member_document(&member, 0));

    let message = MessageRecord {
        id: "m".into(),
        conversation_id: "c".into(),
        seq: 1,
        author_id: "u".into(),
        body: "café au lait".into(),
        reply_to_id: Some("m0".into()),
        client_id: None,
        created_at: at(4),
        edited_at: None,
        deleted: false,
        sealed: None,
    };
    let row = round_trip(Table::Messages, codec::message_document(&message, None));
    assert_eq!(row["deleted_at"], json!(null));
    let sealed = MessageRecord {
        body: String::new(),
        sealed: Some(Sealed {
            sender_device_key_id: "d1".into(),
            envelopes: vec![Envelope {
                device_key_id: "d2".into(),
                ciphertext: "AAEC".into(),
            }],
        }),
        ..message
    };
    let row = round_trip(Table::Messages, codec::message_document(&sealed, None));
    assert_eq!(
        row["sealed"],
        json!(sealed.sealed.as_ref().map(Sealed::to_json)),
        "the same JSON text SQLite keeps"
    );

    let key = DeviceKeyRecord {
        id: "d1".into(),
        user_id: "u".into(),
        identity_key: "aWQ=".into(),
        encryption_key: "ZWs=".into(),
        signature: "c2ln".into(),
        label: None,
        created_at: at(6),
        revoked_at: Some(at(7)),
    };
    let row = round_trip(Table::DeviceKeys, codec::device_key_document(&key));
    assert_eq!(row["revoked_at"], json!(at(7).timestamp_millis()));

    let attachment = AttachmentRecord {
        id: "a".into(),
        uploader_id: "u".into(),
        sha256: "00".repeat(32),
        file_name: "f.bin".into(),
        content_type: "application/octet-stream".into(),
        size: 9,
        width: None,
        height: None,
        thumbnail_sha256: None,
        created_at: at(5),
        message_id: None,
        used_as_avatar: true,
    };
    let row = round_trip(Table::Attachments, codec::attachment_document(&attachment));
    assert_eq!(row["used_as_avatar"], json!(1), "SQLite's 0/1");
}

#[test]
fn imports_derive_what_mongodb_keeps_beyond_the_columns() {
    let row = |value: serde_json::Value| value.as_object().expect("object").clone();
    let user = row_to_document(
        Table::Users,
        &row(json!({
            "id": "u", "username": "Bob", "email": "BOB@x.io", "display_name": "B",
            "password_hash": "h", "created_at": 5
        })),
    )
    .expect("imports");
    assert_eq!(user.get_str("usernameKey").expect("key"), "bob");
    assert_eq!(user.get_str("emailKey").expect("key"), "bob@x.io");
    assert_eq!(
        user.get("deletedAt"),
        Some(&Bson::Null),
        "missing columns are null"
    );

    let released = row_to_document(
        Table::ReleasedUsernames,
        &row(json!({ "username": "Bob", "available_at": 9 })),
    )
    .expect("imports");
    assert_eq!(released.get_str("_id").expect("id"), "bob");

    let request = row_to_document(
        Table::FriendRequests,
        &row(json!({
            "id": "r", "from_user_id": "z", "to_user_id": "a", "status": "PENDING",
            "created_at": 1, "responded_at": null
        })),
    )
    .expect("imports");
    assert_eq!(request.get_str("pairKey").expect("pair"), "a:z");

    let message = row_to_document(
        Table::Messages,
        &row(json!({
            "id": "m", "conversation_id": "c", "seq": 1, "author_id": "u",
            "body": "Hi there", "created_at": 1
        })),
    )
    .expect("imports");
    assert_eq!(
        message.get_array("searchTerms").expect("terms"),
        &vec![Bson::from("hi"), Bson::from("there")]
    );
}

#[test]
fn malformed_rows_are_bad_input_naming_table_and_column() {
    let row = |value: serde_json::Value| value.as_object().expect("object").clone();
    let cases = [
        (
            Table::Sessions,
            json!({ "id": "s", "user_id": "u", "created_at": "yesterday" }),
            "sessions.created_at",
        ),
        (
            Table::Messages,
            json!({ "id": "m", "seq": 1.5, "body": "" }),
            "messages.seq",
        ),
        (Table::Users, json!({ "username": "x" }), "users.id"),
    ];
    for (table, value, named) in cases {
        let error = row_to_document(table, &row(value)).expect_err(named);
        assert_eq!(error.kind, crate::error::ErrorKind::BadUserInput, "{named}");
        assert!(error.message.contains(named), "{}: {named}", error.message);
    }
}

#[test]
fn every_table_has_columns_and_an_export_order() {
    for table in Table::ALL {
        assert!(!columns(table).is_empty(), "{}", table.name());
        assert!(!primary_key(table).is_empty(), "{}", table.name());
        let fields: Vec<&str> = columns(table).iter().map(|column| column.1).collect();
        // `position` is derived on import (it orders equal join times).
        for key in primary_key(table).keys().filter(|key| *key != "position") {
            assert!(
                fields.contains(&key.as_str()),
                "{}: sorts by {key}",
                table.name()
            );
        }
    }
}
