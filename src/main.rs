//! The `realtalk` binary: `serve` (default), `schema` or `migrate`.

use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind as ClapErrorKind;
use realtalk::config::{Cli, Command};

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
