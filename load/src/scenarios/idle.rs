//! Idle: `connections` sockets, each authenticated and holding one
//! `messageEvents` subscription, then left alone. Reports the server's
//! memory per connection and the CPU it spends doing nothing (keep-alive
//! pings every 15 s are part of "nothing").

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::{SinkExt as _, StreamExt as _, TryStreamExt as _, stream};
use serde_json::json;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::api::Api;
use crate::procfs;
use crate::report::{self, Report, round3};
use crate::server::Target;
use crate::ws::{self, SourceAddrs};

/// Sockets per registered user by default (the servers started here raise
/// the per-user cap; registering is argon2-bound, so fewer users is faster).
pub const SOCKETS_PER_USER: usize = 1_000;
const CONNECT_CONCURRENCY: usize = 128;
/// Time for allocators and queues to settle before memory is read.
const SETTLE: Duration = Duration::from_secs(2);

pub async fn run(
    target: &Target,
    connections: usize,
    per_user: usize,
    hold: Duration,
    sources: u8,
) -> anyhow::Result<Report> {
    let per_user = per_user.max(1);
    let mut report = Report::new("idle");
    let api = Api::new(&target.bases[0])?;
    let users = api
        .register_many(
            &crate::api::run_prefix("idle"),
            connections.div_ceil(per_user).max(1),
        )
        .await?;
    tokio::time::sleep(SETTLE).await;
    let pids = &target.pids;
    let before = procfs::sample_all(pids).ok();
    let generator_before = procfs::sample(procfs::Pid::Myself)?;
    let sources = Arc::new(SourceAddrs::new(target.addrs[0], sources));
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    // Two halves, so memory per connection is also read as the slope over
    // the second half: the first connections may reuse memory the server
    // freed after hashing the users' passwords, which hides their cost.
    let half = connections / 2;
    let open = |range: std::ops::Range<usize>| {
        stream::iter(range)
            .map(|index| {
                let (addr, sources) = (target.addrs[0], sources.clone());
                let token = users[index / per_user].token.clone();
                let stop = stop_rx.clone();
                async move {
                    let mut socket = ws::connect(addr, &sources, &token)
                        .await
                        .with_context(|| format!("socket {index}"))?;
                    ws::subscribe(
                        &mut socket,
                        "1",
                        "subscription { messageEvents { seq } }",
                        json!({}),
                    )
                    .await?;
                    Ok::<_, anyhow::Error>(tokio::spawn(hold_open(socket, stop)))
                }
            })
            .buffer_unordered(CONNECT_CONCURRENCY)
            .try_collect::<Vec<tokio::task::JoinHandle<()>>>()
    };
    let mut holders = open(0..half).await.context("opening idle connections")?;
    tokio::time::sleep(SETTLE).await;
    let at_half = procfs::sample_all(pids).ok();
    holders.extend(
        open(half..connections)
            .await
            .context("opening idle connections")?,
    );
    let connect_seconds = started.elapsed().saturating_sub(SETTLE).as_secs_f64();
    report.set("connections", connections as u64);
    report.set("connect_seconds", round3(connect_seconds));
    report.set(
        "connects_per_s",
        round3(connections as f64 / connect_seconds),
    );
    let subscriptions = active_subscriptions(&target.bases[0]).await;
    if let Some(active) = subscriptions {
        report.set("server_active_subscriptions", active);
        if active < connections as u64 {
            report.fail(format!(
                "the server holds {active} subscriptions, expected {connections}"
            ));
        }
    }
    tokio::time::sleep(SETTLE).await;
    let loaded = procfs::sample_all(pids).ok();
    let generator_loaded = procfs::sample(procfs::Pid::Myself)?;
    tokio::time::sleep(hold).await;
    let idle_end = procfs::sample_all(pids).ok();
    if let (Some(before), Some(loaded), Some(idle_end)) = (before, loaded, idle_end) {
        let added = loaded.rss_bytes.saturating_sub(before.rss_bytes);
        report.set("server_rss_before_mib", report::mib(before.rss_bytes));
        report.set("server_rss_mib", report::mib(loaded.rss_bytes));
        report.set(
            "server_kib_per_connection",
            round3(added as f64 / 1024.0 / connections.max(1) as f64),
        );
        if let Some(at_half) = at_half {
            let second_half = loaded.rss_bytes.saturating_sub(at_half.rss_bytes);
            let count = (connections - half).max(1) as f64;
            report.set(
                "server_kib_per_connection_second_half",
                round3(second_half as f64 / 1024.0 / count),
            );
        }
        report.set(
            "server_idle_cpu_cores",
            round3(procfs::cores(&loaded, &idle_end)),
        );
        report.set("idle_window_seconds", hold.as_secs_f64());
    }
    let generator_added = generator_loaded
        .rss_bytes
        .saturating_sub(generator_before.rss_bytes);
    report.set("generator_rss_mib", report::mib(generator_loaded.rss_bytes));
    report.set(
        "generator_kib_per_connection",
        round3(generator_added as f64 / 1024.0 / connections.max(1) as f64),
    );
    let _ = stop_tx.send(true);
    let mut dropped = 0u64;
    for holder in holders {
        if holder.await.is_err() {
            dropped += 1;
        }
    }
    report.set("holder_task_failures", dropped);
    Ok(report)
}

/// Keeps a socket open, answering the server's pings.
async fn hold_open(mut socket: ws::Socket, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) if ws::classify(&text) == ws::Incoming::Ping => {
                    let _ = socket.send(Message::Text(r#"{"type":"pong"}"#.into())).await;
                }
                Some(Ok(_)) => {}
                _ => return,
            },
            _ = stop.changed() => break,
        }
    }
    let _ = socket.close(None).await;
}

/// The server's `realtalk_active_subscriptions` gauge, from `/metrics`.
pub async fn active_subscriptions(base: &str) -> Option<u64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|line| line.starts_with("realtalk_active_subscriptions"))
        .and_then(|line| line.split_whitespace().last())
        .and_then(|value| value.parse::<f64>().ok())
        .map(|value| value as u64)
}
