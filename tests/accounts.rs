//! Accounts and sessions over real HTTP: register, login, refresh, logout.

mod common;

use common::{PASSWORD, TestServer, assert_code, assert_no_errors, error_field};
use serde_json::json;

const REGISTER: &str = "mutation($input: RegisterInput!) {
    register(input: $input) { accessToken refreshToken accessTokenExpiresAt
        user { id username displayName friendship email } } }";

#[tokio::test]
async fn a_new_account_is_signed_in_and_sees_itself() {
    let server = TestServer::start().await;
    let body = server
        .gql(
            None,
            REGISTER,
            json!({ "input": { "username": "Alice", "email": " Alice@Example.COM ",
                    "password": PASSWORD } }),
        )
        .await;
    assert_no_errors(&body);
    let payload = &body["data"]["register"];
    assert_eq!(payload["user"]["username"], "alice", "usernames are folded");
    assert_eq!(
        payload["user"]["displayName"], "alice",
        "displayName defaults to username"
    );
    assert_eq!(
        payload["user"]["email"], "alice@example.com",
        "emails are normalised"
    );
    assert_eq!(payload["user"]["friendship"], "SELF");
    let expires = payload["accessTokenExpiresAt"].as_str().expect("expiry");
    let expires = chrono::DateTime::parse_from_rfc3339(expires).expect("RFC 3339");
    let minutes = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!(
        (14..=15).contains(&minutes),
        "access tokens last 15 minutes, got {minutes}"
    );

    let token = payload["accessToken"].as_str().expect("token");
    let me = server.me(token).await;
    assert_no_errors(&me);
    assert_eq!(me["data"]["me"]["username"], "alice");
}

#[tokio::test]
async fn invalid_registrations_name_the_field_and_store_nothing() {
    let server = TestServer::start().await;
    let cases = [
        ("ab", "ab@example.com", PASSWORD, None, "username"),
        ("has space", "s@example.com", PASSWORD, None, "username"),
        ("dash-ed", "d@example.com", PASSWORD, None, "username"),
        (&"x".repeat(33), "x@example.com", PASSWORD, None, "username"),
        ("carol", "not-an-email", PASSWORD, None, "email"),
        ("carol", "carol@example.com", "short", None, "password"),
        (
            "carol",
            "carol@example.com",
            &"p".repeat(129),
            None,
            "password",
        ),
        (
            "carol",
            "carol@example.com",
            PASSWORD,
            Some("n".repeat(65)),
            "displayName",
        ),
        (
            "carol",
            "carol@example.com",
            PASSWORD,
            Some("   ".to_owned()),
            "displayName",
        ),
    ];
    for (username, email, password, display_name, field) in cases {
        let body = server
            .gql(
                None,
                REGISTER,
                json!({ "input": { "username": username, "email": email,
                        "password": password, "displayName": display_name } }),
            )
            .await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(error_field(&body), Some(field), "{body:#}");
        assert!(
            body["data"].is_null(),
            "no payload for a refused registration"
        );
    }
    // Nothing was stored: the valid form of the last attempt still works.
    server.register("carol").await;
}

#[tokio::test]
async fn usernames_and_emails_are_unique_case_insensitively() {
    let server = TestServer::start().await;
    server.register("dave").await;
    let taken_name = server
        .gql(
            None,
            REGISTER,
            json!({ "input": { "username": "DAVE", "email": "other@example.com",
                    "password": PASSWORD } }),
        )
        .await;
    assert_code(&taken_name, "CONFLICT");
    assert_eq!(error_field(&taken_name), Some("username"));
    let taken_email = server
        .gql(
            None,
            REGISTER,
            json!({ "input": { "username": "dave2", "email": "DAVE@example.com",
                    "password": PASSWORD } }),
        )
        .await;
    assert_code(&taken_email, "CONFLICT");
    assert_eq!(error_field(&taken_email), Some("email"));
}

#[tokio::test]
async fn concurrent_registrations_of_one_name_create_one_account() {
    let server = TestServer::start().await;
    let attempts = (0..8).map(|i| {
        server.gql(
            None,
            REGISTER,
            json!({ "input": { "username": "erin", "email": format!("erin{i}@example.com"),
                    "password": PASSWORD } }),
        )
    });
    let results = futures_util::future::join_all(attempts).await;
    let created = results
        .iter()
        .filter(|body| body.get("errors").is_none())
        .count();
    assert_eq!(created, 1, "{results:#?}");
    assert!(
        results
            .iter()
            .filter(|body| body.get("errors").is_some())
            .all(|body| common::error_code(body) == Some("CONFLICT"))
    );
}

#[tokio::test]
async fn login_by_username_or_email_and_one_error_for_every_failure() {
    let server = TestServer::start().await;
    let frank = server.register("frank").await;
    for login in ["frank", "FRANK", "frank@example.com", " Frank@Example.com "] {
        let body = server.login(login, PASSWORD).await;
        assert_no_errors(&body);
        assert_eq!(body["data"]["login"]["user"]["id"], frank.id.as_str());
    }
    let wrong_password = server.login("frank", "not the password").await;
    let unknown_user = server.login("nobody", PASSWORD).await;
    assert_code(&wrong_password, "UNAUTHENTICATED");
    assert_code(&unknown_user, "UNAUTHENTICATED");
    assert_eq!(
        wrong_password["errors"][0]["message"], unknown_user["errors"][0]["message"],
        "an unknown account is indistinguishable from a wrong password"
    );
}

#[tokio::test]
async fn refreshing_rotates_the_pair_and_reuse_revokes_the_session() {
    let server = TestServer::start().await;
    let grace = server.register("grace").await;

    let first = server.refresh(&grace.refresh_token).await;
    assert_no_errors(&first);
    let rotated = common::account_from(&first["data"]["refreshToken"]);
    assert_ne!(rotated.refresh_token, grace.refresh_token);
    assert_no_errors(&server.me(&rotated.access_token).await);

    // The spent token again: refused, and the whole session is revoked.
    let reuse = server.refresh(&grace.refresh_token).await;
    assert_code(&reuse, "UNAUTHENTICATED");
    assert_code(
        &server.refresh(&rotated.refresh_token).await,
        "UNAUTHENTICATED",
    );
    assert_code(&server.me(&rotated.access_token).await, "UNAUTHENTICATED");
    assert_code(&server.me(&grace.access_token).await, "UNAUTHENTICATED");

    // Other sessions of the same user are untouched.
    let other = server.login("grace", PASSWORD).await;
    assert_no_errors(&other);
    let garbage = server.refresh("not-a-token").await;
    assert_code(&garbage, "UNAUTHENTICATED");
}

#[tokio::test]
async fn of_ten_parallel_refreshes_of_one_token_exactly_one_succeeds() {
    let server = TestServer::start().await;
    let heidi = server.register("heidi").await;
    let attempts = (0..10).map(|_| server.refresh(&heidi.refresh_token));
    let results = futures_util::future::join_all(attempts).await;
    let succeeded = results
        .iter()
        .filter(|body| body.get("errors").is_none())
        .count();
    assert_eq!(succeeded, 1, "{results:#?}");
}

#[tokio::test]
async fn logout_ends_the_session_at_once_and_logout_all_ends_every_session() {
    let server = TestServer::start().await;
    let ivan = server.register("ivan").await;
    let second = common::account_from(&server.login("ivan", PASSWORD).await["data"]["login"]);
    let third = common::account_from(&server.login("ivan", PASSWORD).await["data"]["login"]);

    let body = server
        .gql(Some(&ivan.access_token), "mutation { logout }", json!({}))
        .await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["logout"], true);
    assert_code(&server.me(&ivan.access_token).await, "UNAUTHENTICATED");
    assert_code(
        &server.refresh(&ivan.refresh_token).await,
        "UNAUTHENTICATED",
    );
    assert_no_errors(&server.me(&second.access_token).await);

    let body = server
        .gql(
            Some(&second.access_token),
            "mutation { logoutAll }",
            json!({}),
        )
        .await;
    assert_no_errors(&body);
    for account in [&second, &third] {
        assert_code(&server.me(&account.access_token).await, "UNAUTHENTICATED");
        assert_code(
            &server.refresh(&account.refresh_token).await,
            "UNAUTHENTICATED",
        );
    }
}

/// Requests authenticate from a short-lived memory of active sessions; a
/// session used a moment ago must still be refused right after it ends.
#[tokio::test]
async fn sessions_in_use_are_refused_the_moment_they_end() {
    let server = TestServer::start().await;
    let olga = server.register("olga").await;
    let second = common::account_from(&server.login("olga", PASSWORD).await["data"]["login"]);
    let third = common::account_from(&server.login("olga", PASSWORD).await["data"]["login"]);
    for account in [&olga, &second, &third] {
        for _ in 0..3 {
            assert_no_errors(&server.me(&account.access_token).await);
        }
    }
    // Changing the password ends every other session.
    let changed = server
        .gql(
            Some(&olga.access_token),
            "mutation($old: String!, $new: String!) { changePassword(currentPassword: $old, newPassword: $new) }",
            json!({ "old": PASSWORD, "new": "another long passphrase" }),
        )
        .await;
    assert_no_errors(&changed);
    for account in [&second, &third] {
        assert_code(&server.me(&account.access_token).await, "UNAUTHENTICATED");
    }
    assert_no_errors(&server.me(&olga.access_token).await);
    assert_no_errors(
        &server
            .gql(Some(&olga.access_token), "mutation { logout }", json!({}))
            .await,
    );
    assert_code(&server.me(&olga.access_token).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn anonymous_and_forged_tokens_are_unauthenticated() {
    let server = TestServer::start().await;
    let judy = server.register("judy").await;
    let anonymous = server.gql(None, "{ me { id } }", json!({})).await;
    assert_code(&anonymous, "UNAUTHENTICATED");
    for token in ["garbage", &format!("{}x", judy.access_token)] {
        assert_code(&server.me(token).await, "UNAUTHENTICATED");
    }
    for query in [
        "{ user(id: \"x\") { id } }",
        "{ searchUsers(query: \"j\") { id } }",
        "mutation { logout }",
        "mutation { updateProfile(input: { displayName: \"J\" }) { id } }",
    ] {
        assert_code(&server.gql(None, query, json!({})).await, "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn profiles_can_be_edited_looked_up_and_searched() {
    let server = TestServer::start().await;
    let kim = server.register("kim").await;
    let lee = server.register("lee.k").await;
    server.register("mallory").await;

    let body = server
        .gql(
            Some(&kim.access_token),
            "mutation { updateProfile(input: { displayName: \"  Kim Possible \" }) { displayName } }",
            json!({}),
        )
        .await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["updateProfile"]["displayName"], "Kim Possible");
    let too_long = server
        .gql(
            Some(&kim.access_token),
            "mutation($name: String) { updateProfile(input: { displayName: $name }) { id } }",
            json!({ "name": "k".repeat(65) }),
        )
        .await;
    assert_code(&too_long, "BAD_USER_INPUT");
    assert_eq!(error_field(&too_long), Some("displayName"));

    let body = server
        .gql(
            Some(&lee.access_token),
            "query($id: ID!) { user(id: $id) { username displayName friendship email } }",
            json!({ "id": kim.id }),
        )
        .await;
    assert_no_errors(&body);
    let user = &body["data"]["user"];
    assert_eq!(user["displayName"], "Kim Possible", "the edit was stored");
    assert_eq!(user["friendship"], "NONE");
    assert!(user["email"].is_null(), "emails are private to their owner");
    let missing = server
        .gql(
            Some(&lee.access_token),
            "{ user(id: \"nope\") { id } }",
            json!({}),
        )
        .await;
    assert_no_errors(&missing);
    assert!(missing["data"]["user"].is_null());

    let search = |query: &'static str| {
        server.gql(
            Some(&lee.access_token),
            "query($q: String!) { searchUsers(query: $q) { username } }",
            json!({ "q": query }),
        )
    };
    let names = |body: serde_json::Value| -> Vec<String> {
        body["data"]["searchUsers"]
            .as_array()
            .expect("list")
            .iter()
            .map(|user| user["username"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        names(search("possible").await),
        vec!["kim"],
        "display names match"
    );
    assert_eq!(
        names(search("L").await),
        vec!["lee.k", "kim", "mallory"],
        "prefix matches first, then contains (kim's display name has an l)"
    );
    assert_eq!(
        names(search("%").await),
        Vec::<String>::new(),
        "LIKE wildcards are literal"
    );
    let too_many = server
        .gql(
            Some(&lee.access_token),
            "{ searchUsers(query: \"k\", first: 1000) { id } }",
            json!({}),
        )
        .await;
    assert_code(&too_many, "BAD_USER_INPUT");
}
