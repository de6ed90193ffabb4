//! Friend requests, friendships and blocks.

mod common;

use common::{Account, TestServer, assert_code, assert_no_errors};
use serde_json::{Value, json};

async fn request(server: &TestServer, from: &Account, to: &Account) -> Value {
    server
        .gql(
            Some(&from.access_token),
            "mutation($id: ID!) { sendFriendRequest(userId: $id) { id status from { id } to { id } } }",
            json!({ "id": to.id }),
        )
        .await
}

async fn answer(server: &TestServer, who: &Account, mutation: &str, id: &Value) -> Value {
    server
        .gql(
            Some(&who.access_token),
            &format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ id status }} }}"),
            json!({ "id": id }),
        )
        .await
}

async fn friendship(server: &TestServer, viewer: &Account, other: &Account) -> String {
    let body = server
        .gql(
            Some(&viewer.access_token),
            "query($id: ID!) { user(id: $id) { friendship } }",
            json!({ "id": other.id }),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["user"]["friendship"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn friend_names(server: &TestServer, viewer: &Account) -> Vec<String> {
    let body = server
        .gql(
            Some(&viewer.access_token),
            "{ friends { username } }",
            json!({}),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["friends"]
        .as_array()
        .expect("list")
        .iter()
        .map(|user| user["username"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_request_accepted_makes_friends_both_ways() {
    let server = TestServer::start().await;
    let (ann, ben) = (server.register("ann").await, server.register("ben").await);
    let sent = request(&server, &ann, &ben).await;
    assert_no_errors(&sent);
    let id = &sent["data"]["sendFriendRequest"]["id"];
    assert_eq!(sent["data"]["sendFriendRequest"]["status"], "PENDING");
    assert_eq!(friendship(&server, &ann, &ben).await, "REQUEST_SENT");
    assert_eq!(friendship(&server, &ben, &ann).await, "REQUEST_RECEIVED");

    let incoming = server
        .gql(
            Some(&ben.access_token),
            "{ friendRequests { id from { username } } }",
            json!({}),
        )
        .await;
    assert_eq!(incoming["data"]["friendRequests"][0]["id"], *id);
    let outgoing = server
        .gql(
            Some(&ann.access_token),
            "{ friendRequests(incoming: false) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(outgoing["data"]["friendRequests"][0]["id"], *id);

    assert_code(
        &answer(&server, &ann, "acceptFriendRequest", id).await,
        "FORBIDDEN",
    );
    let accepted = answer(&server, &ben, "acceptFriendRequest", id).await;
    assert_no_errors(&accepted);
    assert_eq!(
        accepted["data"]["acceptFriendRequest"]["status"],
        "ACCEPTED"
    );
    assert_eq!(friend_names(&server, &ann).await, vec!["ben"]);
    assert_eq!(friend_names(&server, &ben).await, vec!["ann"]);
    assert_eq!(friendship(&server, &ann, &ben).await, "FRIENDS");
    assert_code(
        &answer(&server, &ben, "acceptFriendRequest", id).await,
        "CONFLICT",
    );
    let pending = server
        .gql(
            Some(&ben.access_token),
            "{ friendRequests { id } }",
            json!({}),
        )
        .await;
    assert_eq!(pending["data"]["friendRequests"], json!([]));
}

#[tokio::test]
async fn requests_to_self_twice_or_to_friends_are_refused() {
    let server = TestServer::start().await;
    let (cat, dan) = (server.register("cat").await, server.register("dan").await);
    let to_self = request(&server, &cat, &cat).await;
    assert_code(&to_self, "BAD_USER_INPUT");
    assert_no_errors(&request(&server, &cat, &dan).await);
    assert_code(&request(&server, &cat, &dan).await, "CONFLICT");
    let unknown = server
        .gql(
            Some(&cat.access_token),
            "mutation { sendFriendRequest(userId: \"nobody\") { id } }",
            json!({}),
        )
        .await;
    assert_code(&unknown, "NOT_FOUND");
    // The other side asking back accepts instead of piling up a second request.
    let back = request(&server, &dan, &cat).await;
    assert_no_errors(&back);
    assert_eq!(back["data"]["sendFriendRequest"]["status"], "ACCEPTED");
    assert_eq!(friendship(&server, &cat, &dan).await, "FRIENDS");
    assert_code(&request(&server, &cat, &dan).await, "CONFLICT");
}

#[tokio::test]
async fn decline_and_cancel_are_for_recipient_and_sender() {
    let server = TestServer::start().await;
    let (eve, fay, gus) = (
        server.register("eve").await,
        server.register("fay").await,
        server.register("gus").await,
    );
    let first = request(&server, &eve, &fay).await;
    let id = &first["data"]["sendFriendRequest"]["id"];
    assert_code(
        &answer(&server, &eve, "declineFriendRequest", id).await,
        "FORBIDDEN",
    );
    assert_code(
        &answer(&server, &fay, "cancelFriendRequest", id).await,
        "FORBIDDEN",
    );
    assert_code(
        &answer(&server, &gus, "declineFriendRequest", id).await,
        "NOT_FOUND",
    );
    let declined = answer(&server, &fay, "declineFriendRequest", id).await;
    assert_eq!(
        declined["data"]["declineFriendRequest"]["status"],
        "DECLINED"
    );
    assert_eq!(friendship(&server, &eve, &fay).await, "NONE");

    let second = request(&server, &eve, &fay).await;
    assert_no_errors(&second);
    let id = &second["data"]["sendFriendRequest"]["id"];
    let cancelled = answer(&server, &eve, "cancelFriendRequest", id).await;
    assert_eq!(
        cancelled["data"]["cancelFriendRequest"]["status"],
        "CANCELLED"
    );
    assert_code(
        &answer(&server, &fay, "acceptFriendRequest", id).await,
        "CONFLICT",
    );
    assert_eq!(friend_names(&server, &fay).await, Vec::<String>::new());
}

#[tokio::test]
async fn removing_a_friend_ends_it_for_both() {
    let server = TestServer::start().await;
    let (hal, ivy) = (server.register("hal").await, server.register("ivy").await);
    server.befriend(&hal, &ivy).await;
    let removed = server
        .gql(
            Some(&ivy.access_token),
            "mutation($id: ID!) { removeFriend(userId: $id) }",
            json!({ "id": hal.id }),
        )
        .await;
    assert_eq!(removed["data"]["removeFriend"], true);
    assert_eq!(friend_names(&server, &hal).await, Vec::<String>::new());
    let again = server
        .gql(
            Some(&ivy.access_token),
            "mutation($id: ID!) { removeFriend(userId: $id) }",
            json!({ "id": hal.id }),
        )
        .await;
    assert_eq!(again["data"]["removeFriend"], false);
}

#[tokio::test]
async fn blocking_ends_the_friendship_and_the_blocked_user_cannot_tell() {
    let server = TestServer::start().await;
    let (jon, kay, leo) = (
        server.register("jon").await,
        server.register("kay").await,
        server.register("leo").await,
    );
    server.befriend(&jon, &kay).await;
    let conversation = server.open_direct(&jon, &kay).await;
    assert_no_errors(&request(&server, &leo, &jon).await);

    for target in [&kay, &leo] {
        let blocked = server
            .gql(
                Some(&jon.access_token),
                "mutation($id: ID!) { blockUser(userId: $id) }",
                json!({ "id": target.id }),
            )
            .await;
        assert_eq!(blocked["data"]["blockUser"], true);
    }
    assert_eq!(
        friend_names(&server, &jon).await,
        Vec::<String>::new(),
        "friendship ended"
    );
    let pending = server
        .gql(
            Some(&jon.access_token),
            "{ friendRequests { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        pending["data"]["friendRequests"],
        json!([]),
        "pending requests ended"
    );
    assert_eq!(friendship(&server, &jon, &kay).await, "BLOCKED");
    assert_eq!(
        friendship(&server, &kay, &jon).await,
        "NONE",
        "the block is not shown"
    );

    let from_blocked = request(&server, &kay, &jon).await;
    let from_stranger_who_is_blocked = request(&server, &leo, &jon).await;
    assert_code(&from_blocked, "FORBIDDEN");
    let message = &from_blocked["errors"][0]["message"];
    assert!(
        !message.as_str().unwrap_or_default().contains("block"),
        "{message}"
    );
    assert_eq!(
        from_stranger_who_is_blocked["errors"][0]["message"],
        *message
    );

    let sent = server.send(&kay, &conversation, "hello?").await;
    assert_code(&sent, "FORBIDDEN");
    assert!(
        !sent["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("block")
    );
    assert_code(&server.send(&jon, &conversation, "hi").await, "FORBIDDEN");

    let unblocked = server
        .gql(
            Some(&jon.access_token),
            "mutation($id: ID!) { unblockUser(userId: $id) }",
            json!({ "id": kay.id }),
        )
        .await;
    assert_eq!(unblocked["data"]["unblockUser"], true);
    assert_eq!(friendship(&server, &jon, &kay).await, "NONE");
    server.send_ok(&kay, &conversation, "hello again").await;
    assert_no_errors(&request(&server, &kay, &jon).await);
}
