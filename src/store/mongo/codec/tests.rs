//! Every record survives the trip to a document and back, and documents
//! that are not what we wrote fail with an error naming the field.

use chrono::{DateTime, TimeZone as _, Utc};
use mongodb::bson::{Bson, doc};

use super::*;
use crate::error::ErrorKind;

pub fn at(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .expect("valid time")
}

pub fn sample_user() -> UserRecord {
    UserRecord {
        id: "0190a1b2-0000-7000-8000-000000000001".into(),
        username: "ann.lee".into(),
        email: "Ann@Example.com".into(),
        display_name: "Ann Lee".into(),
        password_hash: "$argon2id$v=19$...".into(),
        avatar_attachment_id: Some("a1".into()),
        created_at: at(1_700_000_000_123),
        last_seen_at: None,
        email_verified_at: Some(at(1_700_000_100_000)),
        deleted_at: None,
    }
}

#[test]
fn users_round_trip_with_case_folded_keys() {
    let user = sample_user();
    let document = user_document(&user);
    assert_eq!(document.get_str("usernameKey").expect("key"), "ann.lee");
    assert_eq!(
        document.get_str("emailKey").expect("key"),
        "ann@example.com"
    );
    assert_eq!(document.get("lastSeenAt"), Some(&Bson::Null));
    assert_eq!(super::user(&document).expect("decodes"), user);
}

#[test]
fn sessions_friend_requests_and_reactions_round_trip() {
    let session = SessionRecord {
        id: "s".into(),
        user_id: "u".into(),
        created_at: at(1),
        refreshed_at: at(2),
        expires_at: at(3),
        revoked_at: Some(at(4)),
    };
    assert_eq!(
        super::session(&session_document(&session)).expect("session"),
        session
    );

    let request = FriendRequestRecord {
        id: "r".into(),
        from_user_id: "zed".into(),
        to_user_id: "amy".into(),
        status: FriendRequestStatus::Declined,
        created_at: at(10),
        responded_at: Some(at(11)),
    };
    let document = friend_request_document(&request);
    assert_eq!(document.get_str("pairKey").expect("pair"), "amy:zed");
    assert_eq!(document.get_str("status").expect("status"), "DECLINED");
    assert_eq!(super::friend_request(&document).expect("request"), request);

    let reaction = ReactionRecord {
        message_id: "m".into(),
        emoji: "👍".into(),
        user_id: "u".into(),
        created_at: at(5),
    };
    assert_eq!(
        super::reaction(&reaction_document(&reaction)).expect("reaction"),
        reaction
    );
}

#[test]
fn conversations_keep_a_direct_key_only_when_direct() {
    let direct = ConversationRecord {
        id: "c".into(),
        kind: ConversationKind::Direct,
        title: None,
        created_at: at(1),
        last_seq: 7,
        last_activity_at: at(2),
        last_message_id: Some("m".into()),
        encrypted_at: Some(at(2)),
    };
    let document = conversation_document(&direct, Some("a:b"));
    assert_eq!(document.get_str("directKey").expect("key"), "a:b");
    assert_eq!(document.get_i64("memberSerial").expect("serial"), 0);
    assert_eq!(super::conversation(&document).expect("decodes"), direct);

    let group = ConversationRecord {
        kind: ConversationKind::Group,
        title: Some("Team".into()),
        encrypted_at: None,
        ..direct
    };
    let document = conversation_document(&group, None);
    assert!(
        !document.contains_key("directKey"),
        "absent, not null: the index is sparse"
    );
    assert_eq!(super::conversation(&document).expect("decodes"), group);
}

#[test]
fn members_messages_events_and_attachments_round_trip() {
    let member = MemberRecord {
        conversation_id: "c".into(),
        user_id: "u".into(),
        role: MemberRole::Owner,
        joined_at: at(3),
        last_read_seq: 12,
    };
    let document = member_document(&member, 4);
    assert_eq!(document.get_i64("position").expect("position"), 4);
    assert_eq!(super::member(&document).expect("member"), member);

    let message = MessageRecord {
        id: "m".into(),
        conversation_id: "c".into(),
        seq: 3,
        author_id: "u".into(),
        body: "Hello, Wörld".into(),
        reply_to_id: None,
        client_id: Some("k1".into()),
        created_at: at(5),
        edited_at: Some(at(6)),
        deleted: false,
        sealed: None,
    };
    let document = message_document(&message, None);
    assert_eq!(
        document.get_array("searchTerms").expect("terms"),
        &vec![Bson::from("hello"), Bson::from("world")]
    );
    assert_eq!(super::message(&document).expect("message"), message);
    let sealed = MessageRecord {
        body: String::new(),
        sealed: Some(crate::store::Sealed {
            sender_device_key_id: "d1".into(),
            envelopes: vec![crate::store::Envelope {
                device_key_id: "d2".into(),
                ciphertext: "AAEC".into(),
            }],
        }),
        ..message.clone()
    };
    let document = message_document(&sealed, None);
    assert!(
        document.get_str("sealed").is_ok(),
        "kept as opaque JSON text"
    );
    assert_eq!(super::message(&document).expect("sealed message"), sealed);
    let tombstone = message_document(
        &MessageRecord {
            body: String::new(),
            ..message.clone()
        },
        Some(at(9)),
    );
    assert!(super::message(&tombstone).expect("tombstone").deleted);

    let event = MessageEventRecord {
        conversation_id: "c".into(),
        seq: 3,
        kind: MessageEventKind::ReactionsChanged,
        message_id: "m".into(),
        created_at: at(7),
    };
    assert_eq!(super::event(&event_document(&event)).expect("event"), event);

    let attachment = AttachmentRecord {
        id: "a".into(),
        uploader_id: "u".into(),
        sha256: "ab".repeat(32),
        file_name: "cat.png".into(),
        content_type: "image/png".into(),
        size: 1234,
        width: Some(64),
        height: Some(48),
        thumbnail_sha256: None,
        created_at: at(8),
        message_id: Some("m".into()),
        used_as_avatar: true,
    };
    assert_eq!(
        super::attachment(&attachment_document(&attachment)).expect("attachment"),
        attachment
    );
}

#[test]
fn every_enum_value_round_trips_through_its_text() {
    for status in [
        FriendRequestStatus::Pending,
        FriendRequestStatus::Accepted,
        FriendRequestStatus::Declined,
        FriendRequestStatus::Cancelled,
    ] {
        assert_eq!(
            FriendRequestStatus::from_text(status.as_text()),
            Some(status)
        );
    }
    for role in [MemberRole::Owner, MemberRole::Admin, MemberRole::Member] {
        assert_eq!(MemberRole::from_text(role.as_text()), Some(role));
    }
    for purpose in [
        AccountTokenPurpose::VerifyEmail,
        AccountTokenPurpose::ResetPassword,
    ] {
        assert_eq!(
            AccountTokenPurpose::from_text(purpose.as_text()),
            Some(purpose)
        );
    }
    assert_eq!(MemberRole::from_text("owner"), None);
}

#[test]
fn readers_accept_what_the_server_may_store_and_name_bad_fields() {
    // $inc by a 32-bit literal, or an old document without the field.
    let document = doc! { "lastSeq": 5_i32, "title": null };
    assert_eq!(document.int("lastSeq").expect("int32"), 5);
    assert_eq!(document.opt_text("title").expect("null"), None);
    assert_eq!(document.opt_text("missing").expect("missing"), None);
    assert!(
        !document
            .flag("usedAsAvatar")
            .expect("missing flag is false")
    );

    let error = doc! { "seq": "seven" }
        .int("seq")
        .expect_err("not an integer");
    assert_eq!(error.kind, ErrorKind::Internal);
    let cause = format!("{:#}", error.source.expect("a cause"));
    assert!(cause.contains("\"seq\""), "{cause}");

    let error = doc! { "role": "KING" }
        .text_enum::<MemberRole>("role")
        .expect_err("unknown");
    assert!(format!("{:#}", error.source.expect("a cause")).contains("KING"));
    assert!(doc! {}.time("createdAt").is_err());
}

#[test]
fn timestamps_keep_millisecond_precision() {
    let moment = at(1_712_345_678_901);
    assert_eq!(to_chrono(date(moment)), moment);
    assert_eq!(opt_date(None), Bson::Null);
}
