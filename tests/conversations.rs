//! Direct conversations, groups, roles, the conversation list and unread counts.

mod common;

use common::{Account, TestServer, assert_code, assert_no_errors, error_field};
use serde_json::{Value, json};

const CONVERSATION: &str = "query($id: ID!) { conversation(id: $id) {
    id kind title lastSeq unreadCount
    members { role lastReadSeq user { username } } } }";

async fn conversation(server: &TestServer, viewer: &Account, id: &str) -> Value {
    let body = server
        .gql(
            Some(&viewer.access_token),
            CONVERSATION,
            json!({ "id": id }),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["conversation"].clone()
}

/// (username, role) of each member, in join order.
async fn roles(server: &TestServer, viewer: &Account, id: &str) -> Vec<(String, String)> {
    conversation(server, viewer, id).await["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["user"]["username"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                m["role"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn mutate(server: &TestServer, who: &Account, query: &str, variables: Value) -> Value {
    server.gql(Some(&who.access_token), query, variables).await
}

const RENAME: &str =
    "mutation($c: ID!, $t: String!) { renameGroup(conversationId: $c, title: $t) { title } }";
const ADD: &str =
    "mutation($c: ID!, $u: [ID!]!) { addGroupMembers(conversationId: $c, userIds: $u) { id } }";
const REMOVE: &str =
    "mutation($c: ID!, $u: ID!) { removeGroupMember(conversationId: $c, userId: $u) { id } }";
const SET_ROLE: &str = "mutation($c: ID!, $u: ID!, $r: MemberRole!) { setMemberRole(conversationId: $c, userId: $u, role: $r) { id } }";
const LEAVE: &str = "mutation($c: ID!) { leaveGroup(conversationId: $c) }";

#[tokio::test]
async fn direct_conversations_are_between_friends_and_unique_per_pair() {
    let server = TestServer::start().await;
    let (amy, bob, cy) = (
        server.register("amy").await,
        server.register("bob").await,
        server.register("cyd").await,
    );
    let stranger = mutate(
        &server,
        &amy,
        "mutation($id: ID!) { openDirectConversation(userId: $id) { id } }",
        json!({ "id": bob.id }),
    )
    .await;
    assert_code(&stranger, "FORBIDDEN");
    server.befriend(&amy, &bob).await;
    let first = server.open_direct(&amy, &bob).await;
    assert_eq!(
        server.open_direct(&bob, &amy).await,
        first,
        "the same conversation from both sides"
    );
    let direct = conversation(&server, &amy, &first).await;
    assert_eq!(direct["kind"], "DIRECT");
    assert!(direct["title"].is_null());
    assert_eq!(direct["members"].as_array().map(Vec::len), Some(2));
    let to_self = mutate(
        &server,
        &amy,
        "mutation($id: ID!) { openDirectConversation(userId: $id) { id } }",
        json!({ "id": amy.id }),
    )
    .await;
    assert_code(&to_self, "BAD_USER_INPUT");
    let outsider = server
        .gql(Some(&cy.access_token), CONVERSATION, json!({ "id": first }))
        .await;
    assert!(
        outsider["data"]["conversation"].is_null(),
        "an outsider sees nothing"
    );
    let rename = mutate(&server, &amy, RENAME, json!({ "c": first, "t": "x" })).await;
    assert_code(&rename, "BAD_USER_INPUT");
}

#[tokio::test]
async fn groups_are_created_with_friends_and_an_owner() {
    let server = TestServer::start().await;
    let (own, fr, nf) = (
        server.register("own").await,
        server.register("fri").await,
        server.register("nfr").await,
    );
    server.befriend(&own, &fr).await;
    let create = |title: Value, members: Vec<&str>| {
        server.gql(
            Some(&own.access_token),
            "mutation($input: CreateGroupInput!) { createGroup(input: $input) { id title kind } }",
            json!({ "input": { "title": title, "memberIds": members } }),
        )
    };
    let not_friend = create(json!("team"), vec![&fr.id, &nf.id]).await;
    assert_code(&not_friend, "BAD_USER_INPUT");
    assert_eq!(error_field(&not_friend), Some("memberIds"));
    for bad_title in [json!("   "), json!("t".repeat(101))] {
        let body = create(bad_title, vec![&fr.id]).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(error_field(&body), Some("title"));
    }
    let none_created = server
        .gql(
            Some(&own.access_token),
            "{ conversations { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(none_created["data"]["conversations"]["nodes"], json!([]));

    let created = create(json!("  Team  "), vec![&fr.id, &fr.id, &own.id]).await;
    assert_no_errors(&created);
    assert_eq!(created["data"]["createGroup"]["title"], "Team");
    assert_eq!(created["data"]["createGroup"]["kind"], "GROUP");
    let id = created["data"]["createGroup"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        roles(&server, &own, &id).await,
        vec![
            ("own".into(), "OWNER".into()),
            ("fri".into(), "MEMBER".into())
        ]
    );
}

#[tokio::test]
async fn admins_rename_and_add_members_only_owners_change_roles() {
    let server = TestServer::start().await;
    let (owner, members, group) = server.group_of("g1", 2).await;
    let (admin, member) = (&members[0], &members[1]);
    let newcomer = server.register("g1_new").await;
    server.befriend(admin, &newcomer).await;

    assert_code(
        &mutate(&server, member, RENAME, json!({ "c": group, "t": "Mine" })).await,
        "FORBIDDEN",
    );
    assert_code(
        &mutate(
            &server,
            admin,
            SET_ROLE,
            json!({ "c": group, "u": member.id, "r": "ADMIN" }),
        )
        .await,
        "FORBIDDEN",
    );
    assert_no_errors(
        &mutate(
            &server,
            &owner,
            SET_ROLE,
            json!({ "c": group, "u": admin.id, "r": "ADMIN" }),
        )
        .await,
    );

    let renamed = mutate(
        &server,
        admin,
        RENAME,
        json!({ "c": group, "t": "Renamed" }),
    )
    .await;
    assert_eq!(renamed["data"]["renameGroup"]["title"], "Renamed");
    assert_code(
        &mutate(
            &server,
            member,
            ADD,
            json!({ "c": group, "u": [newcomer.id] }),
        )
        .await,
        "FORBIDDEN",
    );
    let not_admins_friend = mutate(
        &server,
        &owner,
        ADD,
        json!({ "c": group, "u": [newcomer.id] }),
    )
    .await;
    assert_code(&not_admins_friend, "BAD_USER_INPUT");
    assert_no_errors(
        &mutate(
            &server,
            admin,
            ADD,
            json!({ "c": group, "u": [newcomer.id, member.id] }),
        )
        .await,
    );
    assert_eq!(
        roles(&server, &owner, &group).await,
        vec![
            ("g1_owner".into(), "OWNER".into()),
            ("g1_0".into(), "ADMIN".into()),
            ("g1_1".into(), "MEMBER".into()),
            ("g1_new".into(), "MEMBER".into()),
        ]
    );
}

#[tokio::test]
async fn owners_remove_anyone_admins_remove_members_only() {
    let server = TestServer::start().await;
    let (owner, members, group) = server.group_of("g2", 3).await;
    let (admin, admin2, member) = (&members[0], &members[1], &members[2]);
    for promoted in [admin, admin2] {
        assert_no_errors(
            &mutate(
                &server,
                &owner,
                SET_ROLE,
                json!({ "c": group, "u": promoted.id, "r": "ADMIN" }),
            )
            .await,
        );
    }
    assert_code(
        &mutate(
            &server,
            member,
            REMOVE,
            json!({ "c": group, "u": admin.id }),
        )
        .await,
        "FORBIDDEN",
    );
    assert_code(
        &mutate(
            &server,
            admin,
            REMOVE,
            json!({ "c": group, "u": admin2.id }),
        )
        .await,
        "FORBIDDEN",
    );
    assert_code(
        &mutate(&server, admin, REMOVE, json!({ "c": group, "u": owner.id })).await,
        "FORBIDDEN",
    );
    assert_no_errors(
        &mutate(
            &server,
            admin,
            REMOVE,
            json!({ "c": group, "u": member.id }),
        )
        .await,
    );
    assert_no_errors(
        &mutate(
            &server,
            &owner,
            REMOVE,
            json!({ "c": group, "u": admin2.id }),
        )
        .await,
    );
    let gone = server
        .gql(
            Some(&member.access_token),
            CONVERSATION,
            json!({ "id": group }),
        )
        .await;
    assert!(
        gone["data"]["conversation"].is_null(),
        "a removed member sees nothing"
    );
    assert_code(
        &server.send(member, &group, "still here?").await,
        "NOT_FOUND",
    );
    assert_code(
        &mutate(
            &server,
            &owner,
            REMOVE,
            json!({ "c": group, "u": member.id }),
        )
        .await,
        "NOT_FOUND",
    );
}

#[tokio::test]
async fn making_someone_owner_hands_ownership_over() {
    let server = TestServer::start().await;
    let (owner, members, group) = server.group_of("g3", 1).await;
    let heir = &members[0];
    assert_no_errors(
        &mutate(
            &server,
            &owner,
            SET_ROLE,
            json!({ "c": group, "u": heir.id, "r": "OWNER" }),
        )
        .await,
    );
    assert_eq!(
        roles(&server, heir, &group).await,
        vec![
            ("g3_owner".into(), "ADMIN".into()),
            ("g3_0".into(), "OWNER".into())
        ]
    );
    assert_code(
        &mutate(
            &server,
            &owner,
            SET_ROLE,
            json!({ "c": group, "u": heir.id, "r": "MEMBER" }),
        )
        .await,
        "FORBIDDEN",
    );
}

#[tokio::test]
async fn an_owner_leaving_hands_over_and_the_last_one_out_deletes_the_group() {
    let server = TestServer::start().await;
    let (owner, members, group) = server.group_of("g4", 3).await;
    // members[2] becomes ADMIN: the longest-standing ADMIN beats older MEMBERs.
    assert_no_errors(
        &mutate(
            &server,
            &owner,
            SET_ROLE,
            json!({ "c": group, "u": members[2].id, "r": "ADMIN" }),
        )
        .await,
    );
    let left = mutate(&server, &owner, LEAVE, json!({ "c": group })).await;
    assert_eq!(left["data"]["leaveGroup"], true);
    assert_eq!(
        roles(&server, &members[0], &group).await,
        vec![
            ("g4_0".into(), "MEMBER".into()),
            ("g4_1".into(), "MEMBER".into()),
            ("g4_2".into(), "OWNER".into()),
        ]
    );
    assert_code(
        &mutate(&server, &owner, LEAVE, json!({ "c": group })).await,
        "NOT_FOUND",
    );
    // With no admin left, the longest-standing member inherits.
    assert_no_errors(&mutate(&server, &members[2], LEAVE, json!({ "c": group })).await);
    assert_eq!(
        roles(&server, &members[0], &group).await,
        vec![
            ("g4_0".into(), "OWNER".into()),
            ("g4_1".into(), "MEMBER".into())
        ]
    );
    for member in &members[..2] {
        assert_no_errors(&mutate(&server, member, LEAVE, json!({ "c": group })).await);
    }
    let db = rusqlite::Connection::open(server.data_path().join("realtalk.db")).expect("db");
    let remaining: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM conversations WHERE id = ?1",
            [&group],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(remaining, 0, "the last one out deleted the group");
}

#[tokio::test]
async fn the_list_is_most_recent_first_with_cursor_pagination() {
    let server = TestServer::start().await;
    let me = server.register("lister").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let friend = server.register(&format!("pal{i}")).await;
        server.befriend(&me, &friend).await;
        let conversation = server.open_direct(&me, &friend).await;
        server
            .send_ok(&friend, &conversation, &format!("hello {i}"))
            .await;
        ids.push(conversation);
    }
    // Activity moves the oldest one to the top.
    server.send_ok(&me, &ids[0], "bump").await;
    let expected: Vec<&str> = [0, 4, 3, 2, 1].iter().map(|&i| ids[i].as_str()).collect();

    let query = "query($after: String) { conversations(first: 2, after: $after) {
        edges { cursor node { id lastMessage { body } } }
        pageInfo { hasNextPage hasPreviousPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    for page in 0.. {
        let body = server
            .gql(Some(&me.access_token), query, json!({ "after": after }))
            .await;
        assert_no_errors(&body);
        let connection = &body["data"]["conversations"];
        for edge in connection["edges"].as_array().expect("edges") {
            seen.push(edge["node"]["id"].as_str().unwrap_or_default().to_owned());
        }
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], page > 0);
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, expected);
    let first = server
        .gql(
            Some(&me.access_token),
            "{ conversations(first: 1) { nodes { lastMessage { body } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        first["data"]["conversations"]["nodes"][0]["lastMessage"]["body"],
        "bump"
    );
    for bad in [
        json!({ "first": 0 }),
        json!({ "first": 101 }),
        json!({ "after": "garbage" }),
    ] {
        let body = server
            .gql(
                Some(&me.access_token),
                "query($first: Int, $after: String) { conversations(first: $first, after: $after) { nodes { id } } }",
                bad,
            )
            .await;
        assert_code(&body, "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn unread_counts_others_messages_after_the_read_marker_which_only_moves_forward() {
    let server = TestServer::start().await;
    let (una, vic) = (server.register("una").await, server.register("vic").await);
    server.befriend(&una, &vic).await;
    let id = server.open_direct(&una, &vic).await;
    server.send_ok(&una, &id, "mine").await;
    let mut last_seq = 0;
    for i in 0..3 {
        last_seq = server.send_ok(&vic, &id, &format!("theirs {i}")).await["seq"]
            .as_i64()
            .unwrap_or(0);
    }
    let seen = conversation(&server, &una, &id).await;
    assert_eq!(seen["unreadCount"], 3, "own messages are not unread");
    assert_eq!(seen["lastSeq"], last_seq);
    assert_eq!(conversation(&server, &vic, &id).await["unreadCount"], 1);

    let mark = "mutation($c: ID!, $s: Int!) { markRead(conversationId: $c, seq: $s) { unreadCount members { user { username } lastReadSeq } } }";
    let marked = mutate(&server, &una, mark, json!({ "c": id, "s": last_seq - 1 })).await;
    assert_eq!(marked["data"]["markRead"]["unreadCount"], 1);
    let back = mutate(&server, &una, mark, json!({ "c": id, "s": 1 })).await;
    assert_eq!(
        back["data"]["markRead"]["unreadCount"], 1,
        "markers never move backward"
    );
    let beyond = mutate(&server, &una, mark, json!({ "c": id, "s": 10_000 })).await;
    assert_eq!(beyond["data"]["markRead"]["unreadCount"], 0);
    let members = beyond["data"]["markRead"]["members"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let una_marker = members
        .iter()
        .find(|m| m["user"]["username"] == "una")
        .map(|m| m["lastReadSeq"].clone());
    assert_eq!(una_marker, Some(json!(last_seq)), "clamped to the last seq");
    assert_code(
        &mutate(&server, &una, mark, json!({ "c": id, "s": -1 })).await,
        "BAD_USER_INPUT",
    );
}
