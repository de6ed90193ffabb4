//! The web app is served at `/` by the server itself: the embedded files
//! with the strict CSP and correct types, revalidated by ETag, never
//! shadowing the API; FRONTEND_DIR serves a directory from disk instead.

mod common;

use common::TestServer;

#[tokio::test]
async fn root_serves_the_app_under_the_strict_csp() {
    let server = TestServer::start().await;
    let page = server.get("/").await;
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/html"),
        "{headers:?}"
    );
    assert_eq!(headers["cache-control"], "no-cache");
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(
        csp.contains("script-src 'self';") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let html = page.text().await.expect("body");
    assert!(
        html.contains(r#"<script type="module" src="/js/main.js"></script>"#),
        "the page loads its code as a module file: {html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("onload=") && !html.contains("onclick="),
        "no inline script or handlers: {html}"
    );
}

#[tokio::test]
async fn modules_are_javascript_and_revalidate_by_etag() {
    let server = TestServer::start().await;
    let module = server.get("/js/main.js").await;
    assert_eq!(module.status(), 200);
    let content_type = module.headers()["content-type"].to_str().expect("type");
    assert!(
        content_type.starts_with("text/javascript")
            || content_type.starts_with("application/javascript"),
        "{content_type}"
    );
    let etag = module.headers()["etag"].clone();
    let again = server
        .client
        .get(server.url("/js/main.js"))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("conditional GET");
    assert_eq!(again.status(), 304);
    let css = server.get("/css/app.css").await;
    assert!(
        css.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn unknown_files_are_404_and_the_api_is_not_shadowed() {
    let server = TestServer::start().await;
    let missing = server.get("/js/no-such-module.js").await;
    assert_eq!(missing.status(), 404);
    let health = server.get("/health").await;
    assert_eq!(health.status(), 200);
    assert!(
        health
            .headers()
            .get("content-type")
            .is_some_and(|value| value.to_str().is_ok_and(|t| t.contains("json")))
    );
    let body = server
        .gql(None, "{ __typename }", serde_json::json!({}))
        .await;
    assert_eq!(body["data"]["__typename"], "Query");
    let post = server
        .client
        .post(server.url("/index.html"))
        .send()
        .await
        .expect("POST page");
    assert_eq!(post.status(), 405);
}

#[tokio::test]
async fn frontend_dir_serves_files_from_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><p>from disk</p>",
    )
    .expect("write index");
    std::fs::create_dir(dir.path().join("js")).expect("mkdir");
    std::fs::write(dir.path().join("js/extra.js"), "export const x = 1;\n").expect("write js");
    let path = dir.path().to_string_lossy().into_owned();
    let server = TestServer::start_with(&["--frontend-dir", &path]).await;

    let page = server.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(page.headers().contains_key("content-security-policy"));
    assert_eq!(
        page.text().await.expect("body"),
        "<!doctype html><p>from disk</p>"
    );
    let module = server.get("/js/extra.js").await;
    assert_eq!(module.status(), 200);
    assert!(
        module.headers()["content-type"]
            .to_str()
            .expect("type")
            .contains("javascript")
    );
    let missing = server.get("/js/main.js").await;
    assert_eq!(missing.status(), 404, "the embedded copy is not mixed in");
}

#[test]
fn frontend_dir_without_an_index_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_string_lossy().into_owned();
    let parsed = <realtalk::config::Cli as clap::Parser>::try_parse_from([
        "realtalk",
        "--frontend-dir",
        path.as_str(),
    ])
    .expect("flags parse");
    let error = parsed.config.validate().expect_err("no index.html");
    assert_eq!(error.variable, "FRONTEND_DIR");
}

/// The page's own origin may open the live socket with CORS_ORIGINS unset,
/// whether the browser calls the host 127.0.0.1 or localhost.
#[tokio::test]
async fn a_same_origin_page_may_open_the_websocket() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let server = TestServer::start().await;
    let port = server.addr.port();
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let mut request = format!("ws://{}/graphql", server.addr)
            .into_client_request()
            .expect("request");
        let headers = request.headers_mut();
        headers.insert("host", host.parse().expect("host"));
        headers.insert("origin", format!("http://{host}").parse().expect("origin"));
        headers.insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("protocol"),
        );
        let connected = tokio_tungstenite::connect_async(request).await;
        assert!(
            connected.is_ok(),
            "origin http://{host} refused: {:?}",
            connected.err()
        );
    }
}
