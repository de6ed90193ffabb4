//! The `realtalk` binary: `serve` (default), `schema` or `migrate`.

use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind as ClapErrorKind;
use realtalk::config::{Cli, Command};

/// mimalloc rather than glibc's malloc: a request allocates hundreds of
/// small short-lived objects (async-graphql's values and futures, JSON), and
/// glibc's malloc and free were a third of a 50-message page's instructions
/// and a fifth of a live delivery's CPU (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code for a configuration value that cannot be used.
const EXIT_BAD_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error)
            if matches!(
                error.kind(),
                ClapErrorKind::DisplayHelp | ClapErrorKind::DisplayVersion
            ) =>
        {
            error.exit()
        }
        Err(error) => {
            // One line: clap's first line names the flag and its variable.
            let rendered = error.render().to_string();
            let line = rendered.lines().next().unwrap_or("invalid configuration");
            eprintln!("realtalk: {}", line.trim_start_matches("error: "));
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    if let Err(error) = cli.config.validate() {
        eprintln!("realtalk: {error}");
        return ExitCode::from(EXIT_BAD_CONFIG);
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => {
            print!("{}", realtalk::graphql::sdl());
            ExitCode::SUCCESS
        }
        Command::Serve => serve(cli.config),
        Command::Migrate { from, to } => migrate(&from, &to),
    }
}

/// Runs `realtalk migrate` and prints the rows copied per table.
fn migrate(from: &str, to: &str) -> ExitCode {
    use realtalk::migrate::MigrateError;
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("realtalk: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(realtalk::migrate::run(from, to)) {
        Ok(counts) => {
            println!("migrated {from} -> {to}");
            for (table, count) in &counts {
                println!("  {:<20} {count:>10}", table.name());
            }
            let total: u64 = counts.iter().map(|(_, count)| count).sum();
            println!("  {:<20} {total:>10}", "total rows");
            ExitCode::SUCCESS
        }
        Err(MigrateError::BadEndpoint(problem)) => {
            eprintln!("realtalk migrate: {problem}");
            ExitCode::from(EXIT_BAD_CONFIG)
        }
        Err(MigrateError::Failed(error)) => {
            eprintln!("realtalk migrate: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: realtalk::config::Config) -> ExitCode {
    return_large_blocks_to_the_os();
    let _sentry_guard = realtalk::telemetry::init_sentry(&config);
    let _log_guard = realtalk::telemetry::init(&config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("realtalk: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let server = match realtalk::app::start(config).await {
            Ok(server) => server,
            Err(error) => {
                tracing::error!("cannot start: {error:#}");
                eprintln!("realtalk: {error:#}");
                return ExitCode::from(EXIT_BAD_CONFIG);
            }
        };
        let shutdown = server.shutdown_token();
        tokio::spawn(async move {
            realtalk::app::shutdown_signal().await;
            shutdown.cancel();
        });
        match server.wait().await {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(error) => {
                tracing::error!("server failed: {error:#}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Argon2id takes a 19 MiB block per hash. Once glibc has freed one such
/// mapping it raises its adaptive mmap threshold and serves the next blocks
/// from the hashing thread's own arena, which keeps them: with the blocking
/// pool's many threads, a few hundred logins left the server at ~1 GB RSS
/// (`realtalk-load idle`, BENCHMARKS.md). A fixed threshold keeps every
/// large block its own mapping, handed back to the OS when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_os() {
    const LARGE_BLOCK_BYTES: libc::c_int = 1024 * 1024;
    // SAFETY: mallopt only tunes the allocator; it is called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_os() {}
