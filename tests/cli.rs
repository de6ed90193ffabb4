//! The binary: configuration errors, `schema`, a generated secret, and
//! graceful shutdown on SIGTERM.

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_realtalk");

/// Runs the binary with `env` and returns (exit code, stderr).
fn run_with(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(BIN)
        .env_clear()
        .env("DATA_DIR", dir.path())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_value_exits_2_with_one_line_naming_the_variable() {
    let cases = [
        ("PORT", "eighty", "PORT"),
        ("PORT", "70000", "PORT"),
        ("HOST", "not-an-ip", "HOST"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT"),
        ("JWT_SECRET", "short", "JWT_SECRET"),
        ("DATABASE_URL", "postgres://db", "DATABASE_URL"),
        ("REDIS_URL", "http://cache", "REDIS_URL"),
        ("CORS_ORIGINS", "evil", "CORS_ORIGINS"),
        ("RUST_LOG", "realtalk=loud", "RUST_LOG"),
        ("RATE_LIMIT_BURST", "0", "RATE_LIMIT_BURST"),
    ];
    for (variable, value, named) in cases {
        let (code, stderr) = run_with(&[(variable, value)]);
        assert_eq!(code, Some(2), "{variable}={value}: {stderr}");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{variable}={value}: one line, got {stderr:?}"
        );
        assert!(
            stderr.contains(named),
            "{variable}={value}: {stderr:?} should name {named}"
        );
    }
}

#[test]
fn schema_prints_the_sdl() {
    let output = Command::new(BIN)
        .arg("schema")
        .env_clear()
        .output()
        .expect("runs");
    assert!(output.status.success());
    let sdl = String::from_utf8_lossy(&output.stdout);
    assert_eq!(sdl, realtalk::graphql::sdl());
    assert!(sdl.contains("type Query"));
}

#[test]
fn serve_generates_a_private_secret_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        listener.local_addr().expect("addr").port()
    };
    let mut child = Command::new(BIN)
        .env_clear()
        .env("DATA_DIR", dir.path())
        .env("PORT", port.to_string())
        .env("LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");

    let health = format!("http://127.0.0.1:{port}/health");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let up = runtime.block_on(async {
        // Wait for the listener: poll until it answers (bounded).
        for _ in 0..200 {
            if let Ok(response) = reqwest::get(&health).await {
                return response.status().is_success();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    });
    assert!(up, "server answered /health");

    let secret = dir.path().join("jwt_secret");
    let mode = std::fs::metadata(&secret)
        .expect("secret written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the generated secret is private");
    assert!(std::fs::read(&secret).expect("readable").len() >= 32);

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("server exits");
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean shutdown");
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read as _;
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(
        stderr.contains("JWT_SECRET is not set"),
        "a warning is logged: {stderr}"
    );
    assert!(stderr.contains("shutting down"), "{stderr}");
}
