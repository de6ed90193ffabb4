//! Fan-out: `rate` messages a second, open loop, into `groups` groups of
//! `members` members, every member subscribed to every group on its own
//! socket. Latency runs from the moment a send was *due* (not when it got
//! out, so a late generator cannot hide queueing) to each subscriber's
//! receipt. Every message must reach every subscriber exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::future::BoxFuture;
use futures_util::{StreamExt as _, TryStreamExt as _, stream};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::exactly_once::check_exactly_once;
use super::subscriber::{self, Shared, Tally};
use crate::api::{Account, Api};
use crate::procfs;
use crate::report::{self, Report, round3};
use crate::server::Target;
use crate::ws::{self, SourceAddrs};

/// What to send and to whom.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub rate: f64,
    pub groups: usize,
    pub members: usize,
    pub duration: Duration,
    /// Select only the event's own fields (no `author`), to show what
    /// resolving the author per subscriber costs.
    pub lean: bool,
}

/// Sends still waiting for their reply beyond which the generator stops
/// sending (and counts the skipped sends as errors) rather than melt down.
const MAX_IN_FLIGHT: usize = 5_000;
/// How long deliveries may trail the last send before the rest count as lost.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// Sockets opened at once while subscribing.
const CONNECT_CONCURRENCY: usize = 64;

/// The subscription every socket holds: replay from seq 0, then live, so
/// no message can slip between subscribing and the first send.
const SUBSCRIPTION: &str = "subscription($c: ID!) { messageEvents(conversationId: $c, afterSeq: 0) \
     { seq kind conversationId message { id body createdAt author { id username displayName } } } }";

/// The same without `author`, which every subscriber resolves on its own.
const LEAN_SUBSCRIPTION: &str = "subscription($c: ID!) { messageEvents(conversationId: $c, afterSeq: 0) \
     { seq kind conversationId message { id body createdAt } } }";

/// The accounts and groups a fan-out runs on.
struct World {
    owner: Account,
    members: Vec<Account>,
    groups: Vec<String>,
}

async fn build_world(api: &Api, plan: &Plan) -> anyhow::Result<World> {
    let prefix = crate::api::run_prefix("fo");
    let mut accounts = api.register_many(&prefix, plan.members.max(2)).await?;
    let owner = accounts.remove(0);
    api.befriend_all(&owner, &accounts).await?;
    let groups = stream::iter(0..plan.groups)
        .map(|index| {
            let (api, owner, accounts) = (api.clone(), owner.clone(), accounts.clone());
            async move {
                api.create_group(&owner, &format!("load group {index}"), &accounts)
                    .await
            }
        })
        .buffered(16)
        .try_collect()
        .await?;
    let mut members = vec![owner.clone()];
    members.extend(accounts);
    Ok(World {
        owner,
        members,
        groups,
    })
}

/// Runs the scenario; `during`, when given, runs alongside the send phase
/// (the login storm) and its figures land under `"during"`.
pub async fn run(
    name: &str,
    target: &Target,
    plan: Plan,
    sources: u8,
    during: Option<BoxFuture<'static, Value>>,
) -> anyhow::Result<Report> {
    let mut report = Report::new(name);
    report.set("nodes", target.bases.len() as u64);
    report.set("plan", json!({ "rate_per_s": plan.rate, "groups": plan.groups, "members": plan.members, "seconds": plan.duration.as_secs_f64(), "lean_selection": plan.lean }));
    let apis: Vec<Api> = target
        .bases
        .iter()
        .map(|base| Api::new(base))
        .collect::<Result<_, _>>()?;
    let setup_started = Instant::now();
    let world = build_world(&apis[0], &plan)
        .await
        .context("setting up users and groups")?;
    let members = world.members.len();
    let messages = (plan.rate * plan.duration.as_secs_f64()).round() as usize;
    let per_group = messages.div_ceil(plan.groups.max(1)) + 1;

    // Subscribe: one socket per (group, member), spread over the nodes.
    let shared = Arc::new(Shared::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let source_addrs: Vec<Arc<SourceAddrs>> = target
        .addrs
        .iter()
        .map(|addr| Arc::new(SourceAddrs::new(*addr, sources)))
        .collect();
    let slots: Vec<(usize, usize)> = (0..world.groups.len())
        .flat_map(|g| (0..members).map(move |m| (g, m)))
        .collect();
    let connect_started = Instant::now();
    let subscribers: Vec<tokio::task::JoinHandle<Tally>> = stream::iter(slots.iter().enumerate())
        .map(|(index, &(group, member))| {
            let node = index % target.addrs.len();
            let (addr, sources) = (target.addrs[node], source_addrs[node].clone());
            let token = world.members[member].token.clone();
            let conversation_id = world.groups[group].clone();
            let (shared, stop) = (shared.clone(), stop_rx.clone());
            async move {
                let mut socket = ws::connect(addr, &sources, &token).await?;
                ws::subscribe(
                    &mut socket,
                    "1",
                    if plan.lean {
                        LEAN_SUBSCRIPTION
                    } else {
                        SUBSCRIPTION
                    },
                    json!({ "c": conversation_id }),
                )
                .await?;
                Ok::<_, anyhow::Error>(tokio::spawn(subscriber::run(
                    socket, per_group, shared, index, stop,
                )))
            }
        })
        .buffered(CONNECT_CONCURRENCY)
        .try_collect()
        .await
        .context("opening subscriptions")?;
    let connect_seconds = connect_started.elapsed().as_secs_f64();

    // Warm-up: one message (index 0) per group, received by everyone,
    // proves every subscription is live before the clock starts.
    for group in &world.groups {
        apis[0]
            .send_message(
                &world.owner,
                group,
                &subscriber::marker(0, subscriber::now_nanos()),
            )
            .await?;
    }
    let warm_expected = (world.groups.len() * members) as u64;
    wait_for(&shared.received, warm_expected, DRAIN_TIMEOUT).await;
    let warm_received = shared.received.load(Ordering::Relaxed);
    if warm_received < warm_expected {
        report.fail(format!(
            "warm-up: {warm_received} of {warm_expected} deliveries arrived"
        ));
    }
    shared.reset_latency();
    report.set(
        "setup_seconds",
        round3(setup_started.elapsed().as_secs_f64()),
    );
    report.set("connect_seconds", round3(connect_seconds));
    report.set("subscriptions", slots.len() as u64);

    // Send phase, open loop.
    let server_before = procfs::sample_all(&target.pids).ok();
    let generator_before = procfs::sample(procfs::Pid::Myself)?;
    let background = during.map(tokio::spawn);
    let received_before = shared.received.load(Ordering::Relaxed);
    let sent_ok: Vec<Vec<std::sync::atomic::AtomicBool>> = (0..world.groups.len())
        .map(|_| (0..per_group).map(|_| Default::default()).collect())
        .collect();
    let sent_ok = Arc::new(sent_ok);
    let outcome = send_phase(&apis, &world, &plan, messages, sent_ok.clone()).await;
    let ok_sends = outcome.ok;
    let expected = received_before + ok_sends * members as u64;
    wait_for(&shared.received, expected, DRAIN_TIMEOUT).await;
    let phase_end = Instant::now();
    let server_after = procfs::sample_all(&target.pids).ok();
    let generator_after = procfs::sample(procfs::Pid::Myself)?;
    let deliveries = shared.received.load(Ordering::Relaxed) - received_before;
    let phase_seconds = phase_end.duration_since(outcome.started).as_secs_f64();

    let _ = stop_tx.send(true);
    let mut tallies = Vec::with_capacity(subscribers.len());
    for handle in subscribers {
        tallies.push(handle.await.context("a subscriber task")?);
    }
    check_exactly_once(
        &mut report,
        &slots,
        &tallies,
        &sent_ok,
        outcome.attempted_per_group,
    );

    report.set("sent_ok", ok_sends);
    report.set("send_errors", outcome.errors);
    if let Some(error) = &outcome.first_error {
        report.set("first_send_error", error.as_str());
    }
    report.set("deliveries", deliveries);
    report.set(
        "deliveries_per_s",
        round3(deliveries as f64 / phase_seconds),
    );
    report.set(
        "delivery_latency",
        report::latency(&shared.merged_latency()),
    );
    report.set("send_latency", report::latency(&outcome.send_latency));
    report.set("send_start_lag", report::latency(&outcome.start_lag));
    report.set(
        "scheduler_max_lag_ms",
        round3(outcome.max_lag.as_secs_f64() * 1000.0),
    );
    if let (Some(before), Some(after)) = (server_before, server_after) {
        let cpu = after.cpu_seconds - before.cpu_seconds;
        report.set("server_cpu_cores", round3(procfs::cores(&before, &after)));
        report.set(
            "server_cpu_us_per_delivery",
            round3(cpu * 1e6 / deliveries.max(1) as f64),
        );
        report.set("server_rss_mib", report::mib(after.rss_bytes));
    }
    report.set(
        "generator_cpu_cores",
        round3(procfs::cores(&generator_before, &generator_after)),
    );
    report.set("generator_rss_mib", report::mib(generator_after.rss_bytes));
    if let Some(background) = background {
        report.set("during", background.await.unwrap_or(Value::Null));
    }
    Ok(report)
}

/// What the send phase did.
struct SendOutcome {
    started: Instant,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    send_latency: hdrhistogram::Histogram<u64>,
    /// From each send's scheduled moment to the moment its request was
    /// issued: the generator's own lateness (tokio's timers tick in whole
    /// milliseconds), kept out of the server's delivery latency.
    start_lag: hdrhistogram::Histogram<u64>,
    max_lag: Duration,
    /// Highest index + 1 attempted in each group.
    attempted_per_group: usize,
}

async fn send_phase(
    apis: &[Api],
    world: &World,
    plan: &Plan,
    messages: usize,
    sent_ok: Arc<Vec<Vec<std::sync::atomic::AtomicBool>>>,
) -> SendOutcome {
    let groups = world.groups.len().max(1);
    let interval = Duration::from_secs_f64(1.0 / plan.rate.max(0.001));
    let started = Instant::now();
    let mut outcome = SendOutcome {
        started,
        ok: 0,
        errors: 0,
        first_error: None,
        send_latency: report::histogram(),
        start_lag: report::histogram(),
        max_lag: Duration::ZERO,
        attempted_per_group: messages.div_ceil(groups) + 1,
    };
    let mut in_flight: JoinSet<anyhow::Result<(Duration, Duration)>> = JoinSet::new();
    let absorb = |result: Result<anyhow::Result<(Duration, Duration)>, tokio::task::JoinError>,
                  outcome: &mut SendOutcome| match result {
        Ok(Ok((lag, latency))) => {
            outcome.ok += 1;
            report::record(&mut outcome.start_lag, lag);
            outcome.max_lag = outcome.max_lag.max(lag);
            report::record(&mut outcome.send_latency, latency);
        }
        Ok(Err(error)) => {
            outcome.errors += 1;
            outcome
                .first_error
                .get_or_insert_with(|| format!("{error:#}"));
        }
        Err(error) => {
            outcome.errors += 1;
            outcome.first_error.get_or_insert_with(|| error.to_string());
        }
    };
    for index in 0..messages {
        let due = started + interval.mul_f64(index as f64);
        tokio::time::sleep_until(due.into()).await;
        outcome.max_lag = outcome
            .max_lag
            .max(Instant::now().saturating_duration_since(due));
        while let Some(result) = in_flight.try_join_next() {
            absorb(result, &mut outcome);
        }
        if in_flight.len() >= MAX_IN_FLIGHT {
            outcome.errors += 1;
            outcome.first_error.get_or_insert_with(|| {
                format!("more than {MAX_IN_FLIGHT} sends in flight: skipped")
            });
            continue;
        }
        let (group, local) = (index % groups, index / groups + 1);
        let api = apis[index % apis.len()].clone();
        let (owner, conversation_id, sent_ok) = (
            world.owner.clone(),
            world.groups[group].clone(),
            sent_ok.clone(),
        );
        in_flight.spawn(async move {
            // Latency counts from here, the moment the request is issued;
            // how late that was against the schedule is reported apart.
            let sent = Instant::now();
            let marker = subscriber::marker(local, subscriber::nanos_at(sent));
            api.send_message(&owner, &conversation_id, &marker).await?;
            sent_ok[group][local].store(true, Ordering::Relaxed);
            Ok((sent.saturating_duration_since(due), sent.elapsed()))
        });
    }
    while let Some(result) = in_flight.join_next().await {
        absorb(result, &mut outcome);
    }
    outcome
}

/// Waits until `counter` reaches `target` or `timeout` passes.
async fn wait_for(counter: &AtomicU64, target: u64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while counter.load(Ordering::Relaxed) < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
