//! Real processes for multi-node tests: `redis-server` on a free port and
//! RealTalk nodes started from the built binary.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// Waits (bounded) until something accepts TCP connections on `port`.
fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// `redis-server`, which the test command installs. Its absence is a
/// failure, not a skip: the multi-node behaviour must be exercised.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
}

impl Redis {
    pub fn start() -> Self {
        let mut redis = Redis {
            port: free_port(),
            child: None,
        };
        redis.spawn();
        redis
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/test.sh installs it)");
        self.child = Some(child);
        wait_for_port(self.port, "redis-server");
    }

    /// A client connection, retried while the server finishes starting.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(self.url()).expect("client");
        let mut attempts = 0;
        loop {
            match client.get_multiplexed_async_connection().await {
                Ok(connection) => return connection,
                Err(error) => {
                    attempts += 1;
                    assert!(attempts < 100, "cannot connect to redis-server: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One RealTalk node process.
pub struct Node {
    pub addr: SocketAddr,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Node {
    /// Starts a node on `database` (shared SQLite file) and `redis_url`.
    pub fn start(data_dir: &Path, database: &Path, redis_url: &str) -> Self {
        let port = free_port();
        std::fs::create_dir_all(data_dir).expect("node data dir");
        let log = data_dir.join(format!("node-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_realtalk"))
            .env_clear()
            .env("PORT", port.to_string())
            .env("DATA_DIR", data_dir)
            .env("DATABASE_URL", format!("sqlite://{}", database.display()))
            .env("REDIS_URL", redis_url)
            .env("JWT_SECRET", super::JWT_SECRET)
            .env("PRESENCE_TTL_SECONDS", "3")
            .env("PRESENCE_GRACE_SECONDS", "1")
            .env("RATE_LIMIT_PER_SECOND", "100000")
            .env("RATE_LIMIT_BURST", "100000")
            .env("AUTH_RATE_LIMIT_PER_MINUTE", "100000")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("node starts");
        wait_for_port(port, "a RealTalk node");
        Node {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child: Some(child),
            log,
        }
    }

    /// `kill -9`: no goodbye to anyone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}
