//! The load generator's quick mode as a smoke test: real server processes
//! (and a real `redis-server`), real sockets, a few seconds of fan-out. It
//! asserts correctness only — every message reaches every subscriber
//! exactly once, on one node and across two nodes through Redis — never
//! speed. The generator exits 1 on any lost or duplicated delivery.

use std::path::PathBuf;
use std::process::Command;

/// The server binary cargo built beside the generator (`cargo test
/// --workspace` builds it for the server's own integration tests).
fn server_binary() -> PathBuf {
    let generator = PathBuf::from(env!("CARGO_BIN_EXE_realtalk-load"));
    let server = generator.with_file_name("realtalk");
    assert!(
        server.exists(),
        "no server binary at {}: run `cargo build --workspace` (or `cargo test --workspace`) first",
        server.display()
    );
    server
}

fn run_quick(scenario: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_realtalk-load"))
        .args([scenario, "--quick", "--server-bin"])
        .arg(server_binary())
        .output()
        .expect("the load generator runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "realtalk-load {scenario} --quick failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let results: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("RESULT "))
        .collect();
    assert!(!results.is_empty(), "no RESULT line in:\n{stdout}");
    for line in results {
        let result: serde_json::Value =
            serde_json::from_str(&line["RESULT ".len()..]).expect("RESULT is JSON");
        let figures = &result["figures"];
        assert_eq!(result["failures"], serde_json::json!([]), "{line}");
        assert_eq!(figures["missing"], 0, "{line}");
        assert_eq!(figures["duplicates"], 0, "{line}");
        let expected = figures["sent_ok"].as_u64().expect("sent_ok")
            * figures["plan"]["members"].as_u64().expect("members");
        assert!(expected > 0, "nothing was sent: {line}");
        assert_eq!(
            figures["deliveries"].as_u64(),
            Some(expected),
            "every message to every member once: {line}"
        );
    }
}

#[test]
fn one_node_delivers_every_message_exactly_once() {
    run_quick("fanout");
}

#[test]
fn two_nodes_through_redis_deliver_every_message_exactly_once() {
    run_quick("cluster");
}
