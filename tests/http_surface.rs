//! The HTTP surface of /graphql: methods, CSRF, headers, CORS, limits.

mod common;

use common::{PASSWORD, TestServer, assert_code, assert_no_errors};
use serde_json::{Value, json};

#[tokio::test]
async fn browsers_get_graphiql_and_health_answers() {
    let server = TestServer::start().await;
    let page = server
        .client
        .get(server.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("GET /graphql");
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(page.text().await.unwrap_or_default().contains("graphiql"));

    let health: Value = server.get("/health").await.json().await.expect("JSON");
    assert_eq!(health["status"], "ok");
    let status = server.get("/status").await;
    assert_eq!(status.status(), 200);
    let status: Value = status.json().await.expect("JSON");
    assert_eq!(status["checks"]["store"]["engine"], "sqlite");
    assert_eq!(status["checks"]["store"]["ok"], true);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let query = server
        .client
        .get(server.url("/graphql"))
        .query(&[("query", "{ me { username } }")])
        .bearer_auth(&alice.access_token)
        .send()
        .await
        .expect("GET query");
    assert_eq!(query.status(), 200);
    let body: Value = query.json().await.expect("JSON");
    assert_eq!(body["data"]["me"]["username"], "alice");

    for (document, operation) in [
        ("mutation { logout }", None),
        ("query A { me { id } } mutation B { logout }", Some("B")),
    ] {
        let mut params = vec![("query", document)];
        if let Some(name) = operation {
            params.push(("operationName", name));
        }
        let refused = server
            .client
            .get(server.url("/graphql"))
            .query(&params)
            .bearer_auth(&alice.access_token)
            .send()
            .await
            .expect("GET mutation");
        assert_eq!(refused.status(), 405);
        assert_eq!(refused.headers()["allow"], "POST");
    }
    // The session was not ended by the refused GETs.
    assert_no_errors(&server.me(&alice.access_token).await);
}

#[tokio::test]
async fn simple_cross_site_posts_are_refused() {
    let server = TestServer::start().await;
    let body = r#"{"query":"mutation { register(input: {username: \"eve\", email: \"eve@example.com\", password: \"password123\"}) { accessToken } }"}"#;
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let response = server
            .client
            .post(server.url("/graphql"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), 400, "{content_type}");
    }
    // Nothing was created by the refused requests.
    assert_code(&server.login("eve", "password123").await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let server = TestServer::start().await;
    let response = server
        .client
        .post(server.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("POST");
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let csp = headers["content-security-policy"]
        .to_str()
        .unwrap_or_default();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(
        headers.contains_key("x-request-id"),
        "a request id is returned"
    );
}

#[tokio::test]
async fn cors_answers_only_configured_origins() {
    let server = TestServer::start_with(&["--cors-origins", "https://chat.example.com"]).await;
    let preflight = |origin: &'static str| {
        server
            .client
            .request(reqwest::Method::OPTIONS, server.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let allowed = preflight("https://chat.example.com")
        .await
        .expect("preflight");
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://chat.example.com"
    );
    let denied = preflight("https://evil.example").await.expect("preflight");
    assert!(!denied.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_any_work() {
    let server = TestServer::start().await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let response = server
        .client
        .post(server.url("/graphql"))
        .json(&json!({ "query": "mutation($p: String!) { login(input: {login: \"a\", password: $p}) { accessToken } }",
                       "variables": { "p": huge } }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn malformed_and_abusive_queries_get_validation_codes() {
    let server = TestServer::start().await;
    let syntax = server.gql(None, "{ me { id ", json!({})).await;
    assert_code(&syntax, "GRAPHQL_VALIDATION_FAILED");
    let unknown = server.gql(None, "{ nope }", json!({})).await;
    assert_code(&unknown, "GRAPHQL_VALIDATION_FAILED");
    // 16 levels: __schema → types → fields → type → ofType × 12 → __typename.
    let nested = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}__typename{} }} }} }} }} }}",
        "ofType { ".repeat(12),
        " }".repeat(12)
    );
    let deep = server.gql(None, &nested, json!({})).await;
    assert_code(&deep, "GRAPHQL_VALIDATION_FAILED");
    assert!(
        deep["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nested too deep"),
        "{deep:#}"
    );
    let batch = server
        .client
        .post(server.url("/graphql"))
        .json(&json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]))
        .send()
        .await
        .expect("POST batch");
    assert_eq!(batch.status(), 400, "batched requests are off");
}

#[tokio::test]
async fn too_many_requests_from_one_ip_get_429_with_retry_after() {
    let server =
        TestServer::start_with(&["--rate-limit-per-second", "1", "--rate-limit-burst", "3"]).await;
    let mut statuses = Vec::new();
    let mut refused = None;
    for _ in 0..6 {
        let response = server
            .client
            .post(server.url("/graphql"))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .expect("POST");
        statuses.push(response.status().as_u16());
        if response.status() == 429 && refused.is_none() {
            let retry_after = response.headers()["retry-after"]
                .to_str()
                .unwrap_or_default()
                .to_owned();
            refused = Some((retry_after, response.json::<Value>().await.expect("JSON")));
        }
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    let (retry_after, body) = refused.expect("a request beyond the burst is refused");
    assert!(
        retry_after.parse::<u64>().is_ok_and(|s| s >= 1),
        "{retry_after}"
    );
    assert_code(&body, "RATE_LIMITED");
    assert!(
        body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .is_some_and(|s| s >= 1)
    );
    // Health checks are not limited.
    let health = server.get("/health").await;
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn login_limits_count_operations_so_aliases_do_not_help() {
    let server = TestServer::start_with(&["--auth-rate-limit-per-minute", "3"]).await;
    let aliased: String = (0..5)
        .map(|i| format!("a{i}: login(input: {{login: \"x{i}\", password: \"wrong-password\"}}) {{ accessToken }} "))
        .collect();
    let body = server
        .gql(None, &format!("mutation {{ {aliased} }}"), json!({}))
        .await;
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|error| error["extensions"]["code"].as_str())
        .collect();
    assert_eq!(
        codes
            .iter()
            .filter(|code| **code == "UNAUTHENTICATED")
            .count(),
        3,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|code| **code == "RATE_LIMITED").count(),
        2,
        "{codes:?}"
    );
    let next = server.login("x9", PASSWORD).await;
    assert_code(&next, "RATE_LIMITED");
    assert!(
        next["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .is_some_and(|s| s >= 1)
    );
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_account_with_growing_delays() {
    let server = TestServer::start_with(&["--login-failures-before-delay", "3"]).await;
    server.register("ursula").await;
    for _ in 0..3 {
        assert_code(
            &server.login("ursula", "wrong password").await,
            "UNAUTHENTICATED",
        );
    }
    // Locked now, even for the right password and even via the email address.
    for login in ["ursula", "URSULA"] {
        let locked = server.login(login, PASSWORD).await;
        assert_code(&locked, "RATE_LIMITED");
        assert!(
            locked["errors"][0]["extensions"]["retryAfterSeconds"]
                .as_u64()
                .is_some_and(|s| s >= 1)
        );
    }
    // Another account is unaffected.
    server.register("victor").await;
    assert_no_errors(&server.login("victor", PASSWORD).await);
}
