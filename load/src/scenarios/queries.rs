//! Queries: `me` and a 50-message page, each from `concurrency` workers on
//! their own keep-alive connection (closed loop at fixed concurrency).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::api::Api;
use crate::procfs;
use crate::report::{self, Report, round3};
use crate::server::Target;

const ME: &str = "{ me { id username displayName } }";
const PAGE: &str = "query($c: ID!) { messages(conversationId: $c, last: 50) { nodes { id seq body createdAt author { id username displayName } } pageInfo { hasPreviousPage startCursor } } }";
/// Requests before the clock starts (connections, caches, allocator).
const WARM_UP: Duration = Duration::from_millis(500);

pub async fn run(
    target: &Target,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    let mut report = Report::new("queries");
    let api = Api::new(&target.bases[0])?;
    let prefix = crate::api::run_prefix("q");
    let mut users = api.register_many(&prefix, 2).await?;
    let (reader, friend) = (users.remove(0), users.remove(0));
    api.befriend(&reader, &friend).await?;
    let group = api
        .create_group(&reader, "page", std::slice::from_ref(&friend))
        .await?;
    for index in 0..60 {
        api.send_message(
            &reader,
            &group,
            &format!("message {index} of the page scenario, about this long"),
        )
        .await?;
    }
    report.set("concurrency", concurrency as u64);
    let me = measure(target, concurrency, duration, &reader.token, ME, json!({})).await?;
    report.set("me", me);
    let page = measure(
        target,
        concurrency,
        duration,
        &reader.token,
        PAGE,
        json!({ "c": group }),
    )
    .await?;
    report.set("messages_page_50", page);
    Ok(report)
}

/// Runs one operation as fast as `concurrency` workers can.
async fn measure(
    target: &Target,
    concurrency: usize,
    duration: Duration,
    token: &str,
    query: &'static str,
    variables: Value,
) -> anyhow::Result<Value> {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let endpoint = format!("{}/graphql", target.bases[0]);
    let clock_starts = Instant::now() + WARM_UP;
    let deadline = clock_starts + duration;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()
            .context("HTTP client")?;
        let (body, endpoint, token) = (body.clone(), endpoint.clone(), token.to_owned());
        workers.spawn(async move {
            let mut histogram = report::histogram();
            let (mut ok, mut errors) = (0u64, 0u64);
            loop {
                let started = Instant::now();
                if started >= deadline {
                    break;
                }
                let response = client
                    .post(&endpoint)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let good = match response {
                    Ok(response) if response.status().is_success() => response
                        .bytes()
                        .await
                        .is_ok_and(|bytes| !bytes.windows(9).any(|w| w == b"\"errors\":")),
                    _ => false,
                };
                if started >= clock_starts {
                    if good {
                        ok += 1;
                        report::record(&mut histogram, started.elapsed());
                    } else {
                        errors += 1;
                    }
                }
            }
            (histogram, ok, errors)
        });
    }
    tokio::time::sleep_until(clock_starts.into()).await;
    let server_before = procfs::sample_all(&target.pids).ok();
    let generator_before = procfs::sample(procfs::Pid::Myself)?;
    let mut merged = report::histogram();
    let (mut ok, mut errors) = (0u64, 0u64);
    while let Some(result) = workers.join_next().await {
        let (histogram, worker_ok, worker_errors) = result.context("a query worker")?;
        let _ = merged.add(&histogram);
        ok += worker_ok;
        errors += worker_errors;
    }
    let server_after = procfs::sample_all(&target.pids).ok();
    let generator_after = procfs::sample(procfs::Pid::Myself)?;
    let seconds = duration.as_secs_f64();
    let mut figures = json!({
        "requests_per_s": round3(ok as f64 / seconds),
        "errors": errors,
        "latency": report::latency(&merged),
        "generator_cpu_cores": round3(procfs::cores(&generator_before, &generator_after)),
    });
    if let (Some(before), Some(after)) = (server_before, server_after) {
        figures["server_cpu_cores"] = json!(round3(procfs::cores(&before, &after)));
        figures["server_cpu_us_per_request"] = json!(round3(
            (after.cpu_seconds - before.cpu_seconds) * 1e6 / ok.max(1) as f64
        ));
    }
    Ok(figures)
}
