//! Operations: every metric a Grafana dashboard queries exists after some
//! traffic, with bounded labels; secrets and message bodies never reach the
//! logs; the compose stack and its configs parse.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use common::process::free_port;
use common::ws::WsClient;
use common::{TestServer, assert_no_errors};
use serde_json::{Value, json};

/// Metric names used in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut current = String::new();
    for c in expr.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            current.push(c);
        } else {
            if (current.starts_with("realtalk_") || current.starts_with("process_"))
                && !names.contains(&current)
            {
                names.push(current.clone());
            }
            current.clear();
        }
    }
    names
}

fn dashboard_metrics() -> BTreeSet<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/grafana/dashboards");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir)
        .expect("dashboards")
        .filter_map(Result::ok)
    {
        let dashboard: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("read"))
                .expect("dashboard JSON");
        for panel in dashboard["panels"].as_array().expect("panels") {
            for target in panel["targets"].as_array().into_iter().flatten() {
                names.extend(metric_names(target["expr"].as_str().unwrap_or_default()));
            }
        }
    }
    names
}

#[tokio::test]
async fn every_metric_in_the_dashboards_exists_after_traffic() {
    let server = TestServer::start().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;
    let mut socket = WsClient::connect(server.addr).await;
    socket.init(&amy.access_token).await;
    socket
        .subscribe(
            "m",
            "subscription($c: ID) { messageEvents(conversationId: $c) { seq } }",
            json!({ "c": conversation }),
        )
        .await;
    socket.settle("q").await;
    server.send_ok(&bea, &conversation, "measured").await;
    socket.next_payload("m").await;
    common::assert_code(
        &server.gql(None, "{ me { id } }", json!({})).await,
        "UNAUTHENTICATED",
    );

    let exposition = server.get("/metrics").await.text().await.expect("text");
    let exposed: BTreeSet<&str> = exposition
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split(['{', ' ']).next())
        .collect();
    let wanted = dashboard_metrics();
    assert!(
        wanted.len() >= 10,
        "the dashboard queries the main metrics: {wanted:?}"
    );
    for name in &wanted {
        let base = name.trim_end_matches("_bucket");
        let present = exposed.contains(name.as_str())
            || exposed.contains(format!("{base}_bucket").as_str())
            || exposed.contains(base);
        assert!(present, "{name} is queried by a dashboard but not exposed");
    }
    // Bounded labels: no user or conversation ids anywhere in the labels.
    for id in [&amy.id, &bea.id, &conversation] {
        assert!(
            !exposition.contains(id.as_str()),
            "an id leaked into metric labels"
        );
    }
    assert!(
        exposition.contains("operation=\"sendMessage\""),
        "operations are named by their root field"
    );
}

#[tokio::test]
async fn secrets_and_message_bodies_never_reach_the_logs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_realtalk"))
        .env_clear()
        .env("PORT", port.to_string())
        .env("DATA_DIR", dir.path())
        .env("LOG_DIR", &logs)
        .env("LOG_FORMAT", "json")
        .env(
            "RUST_LOG",
            "trace,hyper=info,h2=info,tokio=info,runtime=info",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("stderr file"))
        .spawn()
        .expect("server starts");
    let server = TestServer::attach(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    let mut up = false;
    for _ in 0..200 {
        if server
            .client
            .get(server.url("/health"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(up, "server started");

    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;
    let body = "the-secret-plan-4711";
    server.send_ok(&amy, &conversation, body).await;
    let refreshed = server.refresh(&amy.refresh_token).await;
    assert_no_errors(&refreshed);
    let new_refresh = refreshed["data"]["refreshToken"]["refreshToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    server.refresh(&amy.refresh_token).await; // reuse: logged as a warning, without the token
    common::assert_code(
        &server.login("amy", "wrong-password-9876").await,
        "UNAUTHENTICATED",
    );
    server
        .gql(Some(&bea.access_token), "mutation { logout }", json!({}))
        .await;

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let _ = child.wait();

    let mut text = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
    for entry in std::fs::read_dir(&logs)
        .expect("LOG_DIR has files")
        .filter_map(Result::ok)
    {
        text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    assert!(
        text.contains("account registered"),
        "the logs were captured"
    );
    assert!(text.contains("request_id"), "lines carry a request id");
    let secrets = [
        common::PASSWORD.to_owned(),
        "wrong-password-9876".to_owned(),
        amy.access_token.clone(),
        amy.refresh_token.clone(),
        new_refresh,
        bea.access_token.clone(),
        body.to_owned(),
    ];
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret or body reached the logs: {secret}"
        );
    }
}
