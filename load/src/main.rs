//! `realtalk-load`: drives real RealTalk processes over real HTTP and
//! graphql-transport-ws and reports what they cost. See BENCHMARKS.md for
//! the scenarios, the figures and how to read them.
//!
//! ```sh
//! cargo build --release --workspace
//! target/release/realtalk-load all            # every scenario, full size
//! target/release/realtalk-load fanout --quick # seconds, small N
//! ```
//!
//! Exit code 1 when any message was lost or duplicated or a scenario
//! failed; speed never fails a run.

mod api;
mod procfs;
mod report;
mod scenarios;
mod server;
mod ws;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use report::Report;
use scenarios::fanout::Plan;
use server::{Source, Target};

#[derive(Debug, Parser)]
#[command(name = "realtalk-load", about = "Load generator for RealTalk")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
    /// Seconds and small N: a correctness smoke test, not a measurement.
    #[arg(long, global = true)]
    quick: bool,
    /// Server binary to start (default: `realtalk` beside this binary).
    #[arg(long, global = true)]
    server_bin: Option<PathBuf>,
    /// Drive a running server instead (`http://IP:PORT`); single-node
    /// scenarios only, and its limits are then yours to raise.
    #[arg(long, global = true)]
    url: Option<String>,
    /// With `--url`: the server's pid, for CPU and RSS figures.
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// Spread client sockets over 127.0.0.1..=N source addresses.
    #[arg(long, global = true, default_value_t = 8)]
    source_addrs: u8,
}

#[derive(Debug, Clone, Args)]
struct FanoutArgs {
    /// Messages per second, all groups together (default 500; quick 40).
    #[arg(long)]
    rate: Option<f64>,
    /// Groups (default 100; quick 4).
    #[arg(long)]
    groups: Option<usize>,
    /// Members per group, the sender included (default 100; quick 5).
    #[arg(long)]
    members: Option<usize>,
    /// Length of the send phase (default 20 s; quick 2 s).
    #[arg(long)]
    seconds: Option<f64>,
    /// Subscribe without `author` in the selection (cost comparison).
    #[arg(long)]
    lean: bool,
}

#[derive(Debug, Clone, Subcommand)]
enum Scenario {
    /// Launch to ready, and memory at rest.
    Startup,
    /// N connections, each holding one subscription, left idle.
    Idle {
        /// Default 19000 (this box's 20000-descriptor limit); quick 50.
        #[arg(long)]
        connections: Option<usize>,
        /// Idle window over which CPU is measured (default 20 s; quick 1 s).
        #[arg(long)]
        seconds: Option<f64>,
        /// Sockets per registered user (20 for a server with the default cap).
        #[arg(long, default_value_t = scenarios::idle::SOCKETS_PER_USER)]
        sockets_per_user: usize,
    },
    /// R messages/s into G groups of M members; one node, SQLite, Redis bus.
    Fanout {
        #[command(flatten)]
        plan: FanoutArgs,
        /// Deliver through the in-process bus instead of Redis.
        #[arg(long)]
        local_bus: bool,
    },
    /// `me` and a 50-message page at fixed concurrency.
    Queries {
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Per operation (default 10 s; quick 1 s).
        #[arg(long)]
        seconds: Option<f64>,
    },
    /// Logins back to back, alone and during a fan-out.
    Login {
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[command(flatten)]
        plan: FanoutArgs,
    },
    /// Two nodes + Redis versus one node, the same fan-out on each.
    Cluster {
        #[command(flatten)]
        plan: FanoutArgs,
    },
    /// SQLite versus MongoDB, where a MongoDB is available.
    Mongo {
        #[arg(long, env = "MONGODB_URL")]
        mongo_url: Option<String>,
        #[command(flatten)]
        plan: FanoutArgs,
    },
    /// Every scenario in turn, at its defaults.
    All,
}

impl FanoutArgs {
    fn plan(&self, quick: bool) -> Plan {
        let pick = |value: Option<f64>, full: f64, small: f64| {
            value.unwrap_or(if quick { small } else { full })
        };
        Plan {
            rate: pick(self.rate, 500.0, 40.0),
            groups: self.groups.unwrap_or(if quick { 4 } else { 100 }),
            members: self.members.unwrap_or(if quick { 5 } else { 100 }),
            duration: Duration::from_secs_f64(pick(self.seconds, 20.0, 2.0)),
            lean: self.lean,
        }
    }

    fn defaults() -> Self {
        FanoutArgs {
            rate: None,
            groups: None,
            members: None,
            seconds: None,
            lean: false,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            eprintln!("realtalk-load: open-file limit {limit} (started servers inherit it)")
        }
        Err(error) => eprintln!("realtalk-load: cannot raise the open-file limit: {error}"),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("realtalk-load: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(reports) if reports.iter().all(|report| report.failures.is_empty()) => ExitCode::SUCCESS,
        Ok(_) => {
            eprintln!("realtalk-load: FAILED: see the !!! lines above");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("realtalk-load: FAILED: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: &Cli) -> anyhow::Result<Vec<Report>> {
    let source = match &cli.url {
        Some(url) => Source::Running {
            url: url.clone(),
            pid: cli.server_pid,
        },
        None => Source::Binary(server_binary(cli)?),
    };
    let scenarios = match &cli.scenario {
        Scenario::All => vec![
            Scenario::Startup,
            Scenario::Idle {
                connections: None,
                seconds: None,
                sockets_per_user: scenarios::idle::SOCKETS_PER_USER,
            },
            Scenario::Fanout {
                plan: FanoutArgs::defaults(),
                local_bus: false,
            },
            Scenario::Queries {
                concurrency: 64,
                seconds: None,
            },
            Scenario::Login {
                concurrency: 32,
                plan: FanoutArgs::defaults(),
            },
            Scenario::Cluster {
                plan: FanoutArgs::defaults(),
            },
            Scenario::Mongo {
                mongo_url: std::env::var("MONGODB_URL").ok(),
                plan: FanoutArgs::defaults(),
            },
        ],
        one => vec![one.clone()],
    };
    let mut reports = Vec::new();
    for scenario in scenarios {
        for report in run_one(cli, &source, &scenario).await? {
            report.print();
            reports.push(report);
        }
    }
    Ok(reports)
}

async fn run_one(cli: &Cli, source: &Source, scenario: &Scenario) -> anyhow::Result<Vec<Report>> {
    let quick = cli.quick;
    let seconds = |value: Option<f64>, full: f64, small: f64| {
        Duration::from_secs_f64(value.unwrap_or(if quick { small } else { full }))
    };
    let sources = cli.source_addrs;
    Ok(match scenario {
        Scenario::Startup => vec![startup(source)?],
        Scenario::Idle {
            connections,
            seconds: hold,
            sockets_per_user,
        } => {
            let target = Target::launch(source, 1, false, None)?;
            let connections = connections.unwrap_or(if quick { 50 } else { 19_000 });
            vec![
                scenarios::idle::run(
                    &target,
                    connections,
                    *sockets_per_user,
                    seconds(*hold, 20.0, 1.0),
                    sources,
                )
                .await?,
            ]
        }
        Scenario::Fanout { plan, local_bus } => {
            let with_redis = !local_bus && matches!(source, Source::Binary(_));
            let target = Target::launch(source, 1, with_redis, None)?;
            // A server given by `--url` runs whichever bus it was started
            // with; the name must not claim one.
            let name = match (with_redis, local_bus) {
                (true, _) => "fanout (1 node, Redis bus)",
                (false, true) => "fanout (1 node, local bus)",
                (false, false) => "fanout (1 node, the server's own bus)",
            };
            vec![scenarios::fanout::run(name, &target, plan.plan(quick), sources, None).await?]
        }
        Scenario::Queries {
            concurrency,
            seconds: length,
        } => {
            let target = Target::launch(source, 1, false, None)?;
            let concurrency = if quick {
                (*concurrency).min(8)
            } else {
                *concurrency
            };
            vec![scenarios::queries::run(&target, concurrency, seconds(*length, 10.0, 1.0)).await?]
        }
        Scenario::Login { concurrency, plan } => {
            let target = Target::launch(source, 1, false, None)?;
            let plan = plan.plan(quick);
            let concurrency = if quick {
                (*concurrency).min(4)
            } else {
                *concurrency
            };
            scenarios::login::run(&target, concurrency, plan.duration, plan, sources).await?
        }
        Scenario::Cluster { plan } => {
            let plan = plan.plan(quick);
            let two = Target::launch(source, 2, true, None)?;
            let mut reports = vec![
                scenarios::fanout::run("cluster (2 nodes + Redis)", &two, plan, sources, None)
                    .await?,
            ];
            drop(two);
            let one = Target::launch(source, 1, false, None)?;
            reports.push(
                scenarios::fanout::run(
                    "cluster baseline (1 node, local bus)",
                    &one,
                    plan,
                    sources,
                    None,
                )
                .await?,
            );
            reports
        }
        Scenario::Mongo { mongo_url, plan } => {
            let Some(mongo_url) = mongo_url else {
                println!(
                    "\n!!! SKIPPED mongo: no MongoDB available: set MONGODB_URL=mongodb://… to compare SQLite with MongoDB"
                );
                let mut skipped = Report::new("mongo");
                skipped.set("skipped", "no MongoDB available (MONGODB_URL unset)");
                return Ok(vec![skipped]);
            };
            let plan = plan.plan(quick);
            let sqlite = Target::launch(source, 1, false, None)?;
            let mut reports = vec![
                scenarios::fanout::run("mongo baseline (SQLite)", &sqlite, plan, sources, None)
                    .await?,
            ];
            drop(sqlite);
            let mongo = Target::launch(source, 1, false, Some(mongo_url.clone()))?;
            reports.push(
                scenarios::fanout::run("mongo (MongoDB)", &mongo, plan, sources, None).await?,
            );
            reports.push(
                scenarios::queries::run(
                    &mongo,
                    if quick { 8 } else { 64 },
                    seconds(None, 10.0, 1.0),
                )
                .await?,
            );
            reports
        }
        Scenario::All => Vec::new(),
    })
}

/// Launch to the first answered `/health`, and resident memory then.
fn startup(source: &Source) -> anyhow::Result<Report> {
    let mut report = Report::new("startup");
    if matches!(source, Source::Running { .. }) {
        report.set("skipped", "a running server (--url) was not launched here");
        return Ok(report);
    }
    let target = Target::launch(source, 1, false, None)?;
    let ready = target.ready_after.first().copied().unwrap_or_default();
    report.set("ready_ms", report::round3(ready.as_secs_f64() * 1000.0));
    if let Some(pid) = target.pids.first() {
        let at_ready = procfs::sample(procfs::Pid::Of(*pid))?;
        report.set("rss_at_ready_mib", report::mib(at_ready.rss_bytes));
        std::thread::sleep(Duration::from_secs(1));
        let settled = procfs::sample(procfs::Pid::Of(*pid))?;
        report.set("rss_idle_after_1s_mib", report::mib(settled.rss_bytes));
    }
    Ok(report)
}

fn server_binary(cli: &Cli) -> anyhow::Result<PathBuf> {
    if let Some(binary) = &cli.server_bin {
        return Ok(binary.clone());
    }
    let me = std::env::current_exe().context("locating this binary")?;
    let beside = me.with_file_name("realtalk");
    if beside.exists() {
        Ok(beside)
    } else {
        anyhow::bail!(
            "no server binary at {}: build it (cargo build --release --workspace) or pass --server-bin",
            beside.display()
        )
    }
}
