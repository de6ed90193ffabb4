//! Starting on MongoDB when no server answers: the binary gives up within
//! the URI's server-selection timeout, exits 2, and says why in one line
//! naming DATABASE_URL and the host. (Nothing listens on the port, so this
//! runs without a MongoDB server.)

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_realtalk");

/// A port nothing listens on: bound, read, released.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    listener.local_addr().expect("addr").port()
}

#[test]
fn an_unreachable_mongodb_exits_2_naming_database_url_and_the_host() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let host = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let output = Command::new(BIN)
        .env_clear()
        .env("DATA_DIR", dir.path())
        .env("PORT", free_port().to_string())
        .env("JWT_SECRET", "a-test-secret-that-is-long-enough-000000")
        .env(
            "DATABASE_URL",
            format!("mongodb://{host}/x?serverSelectionTimeoutMS=1000"),
        )
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        elapsed < Duration::from_secs(15),
        "gave up after {elapsed:?}, not within the 1 s selection timeout"
    );
    // The last line is the reason main prints; log lines come before it.
    let reason = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        reason.starts_with("realtalk: DATABASE_URL: cannot reach MongoDB at "),
        "{stderr}"
    );
    assert!(reason.contains(&host), "names the host: {reason}");
    assert!(
        reason.ends_with("no server answered within 1s"),
        "says why, briefly: {reason}"
    );
}

#[test]
fn a_malformed_mongodb_uri_exits_2_naming_database_url() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(BIN)
        .env_clear()
        .env("DATA_DIR", dir.path())
        .env("PORT", free_port().to_string())
        .env("JWT_SECRET", "a-test-secret-that-is-long-enough-000000")
        .env("DATABASE_URL", "mongodb://db:notaport/x")
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let reason = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        reason.starts_with("realtalk: DATABASE_URL: not a usable MongoDB URI"),
        "{stderr}"
    );
}
