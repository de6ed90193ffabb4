//! Login storm: `concurrency` clients logging in back to back (argon2id on
//! the server's bounded hashing pool). Measured alone, then alongside a
//! fan-out to show whether the storm pushes delivery latency up.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::FutureExt as _;
use serde_json::{Value, json};

use super::fanout::{self, Plan};
use crate::api::{Account, Api};
use crate::procfs;
use crate::report::{self, Report, round3};
use crate::server::Target;

pub async fn run(
    target: &Target,
    concurrency: usize,
    duration: Duration,
    fanout_plan: Plan,
    sources: u8,
) -> anyhow::Result<Vec<Report>> {
    let api = Api::new(&target.bases[0])?;
    let accounts = api
        .register_many(&crate::api::run_prefix("li"), concurrency.max(1))
        .await?;
    let mut alone = Report::new("login");
    alone.set("concurrency", concurrency as u64);
    alone.set(
        "storm",
        storm(api.clone(), accounts.clone(), duration, target.pids.clone()).await,
    );
    let during = storm(api, accounts, fanout_plan.duration, target.pids.clone()).boxed();
    let with_fanout =
        fanout::run("login+fanout", target, fanout_plan, sources, Some(during)).await?;
    Ok(vec![alone, with_fanout])
}

/// Logs every account in over and over until `duration` has passed.
async fn storm(api: Api, accounts: Vec<Account>, duration: Duration, pids: Vec<u32>) -> Value {
    let deadline = Instant::now() + duration;
    let server_before = procfs::sample_all(&pids).ok();
    let mut workers = tokio::task::JoinSet::new();
    for account in accounts {
        let api = api.clone();
        workers.spawn(async move {
            let mut histogram = report::histogram();
            let (mut ok, mut errors, mut first_error) = (0u64, 0u64, None);
            while Instant::now() < deadline {
                let started = Instant::now();
                match api.login(&account.username).await {
                    Ok(_) => {
                        ok += 1;
                        report::record(&mut histogram, started.elapsed());
                    }
                    Err(error) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{error:#}"));
                    }
                }
            }
            (histogram, ok, errors, first_error)
        });
    }
    let started = Instant::now();
    let mut merged = report::histogram();
    let (mut ok, mut errors, mut first_error) = (0u64, 0u64, None);
    while let Some(result) = workers.join_next().await {
        let Ok((histogram, worker_ok, worker_errors, worker_error)) =
            result.context("a login worker")
        else {
            errors += 1;
            continue;
        };
        let _ = merged.add(&histogram);
        ok += worker_ok;
        errors += worker_errors;
        first_error = first_error.or(worker_error);
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut figures = json!({
        "logins_per_s": round3(ok as f64 / seconds),
        "errors": errors,
        "latency": report::latency(&merged),
    });
    if let Some(error) = first_error {
        figures["first_error"] = json!(error);
    }
    if let (Some(before), Some(after)) = (server_before, procfs::sample_all(&pids).ok()) {
        figures["server_cpu_cores"] = json!(round3(procfs::cores(&before, &after)));
    }
    figures
}
