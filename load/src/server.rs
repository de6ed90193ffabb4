//! The processes a scenario runs against: RealTalk nodes started from the
//! built binary (temporary data directory, per-IP limits raised, sockets per
//! user raised) and, for several nodes, a `redis-server` on a free port. Or
//! an already running server (`--url`), which is then the caller's to tune.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// The secret every node started here shares (nodes of one cluster must).
const JWT_SECRET: &str = "realtalk-load-secret-realtalk-load-secret";
/// How long a node or Redis may take to start before the run gives up.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the server under test comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Start this binary for every scenario.
    Binary(PathBuf),
    /// Use a running server; `pid` (when given) is read for CPU and RSS.
    Running { url: String, pid: Option<u32> },
}

/// Which storage and bus a started node uses.
#[derive(Debug, Clone, Default)]
pub struct NodeOptions {
    pub redis_url: Option<String>,
    /// `DATABASE_URL`; unset: SQLite in the data directory.
    pub database_url: Option<String>,
}

/// One started RealTalk process.
pub struct Node {
    pub base: String,
    pub addr: SocketAddr,
    pub pid: u32,
    /// Launch to the first `200` from `/health`.
    pub ready_after: Duration,
    child: Child,
}

impl Node {
    pub fn start(binary: &Path, data_dir: &Path, options: &NodeOptions) -> anyhow::Result<Node> {
        let port = free_port()?;
        std::fs::create_dir_all(data_dir).context("creating the node's data dir")?;
        let log = std::fs::File::create(data_dir.join(format!("node-{port}.log")))
            .context("creating the node log")?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PORT", port.to_string())
            .env("DATA_DIR", data_dir)
            .env("JWT_SECRET", JWT_SECRET)
            // One generator host stands for many clients: lift the per-IP
            // limits so they measure the server, not the limiter.
            .env("RATE_LIMIT_PER_SECOND", "10000000")
            .env("RATE_LIMIT_BURST", "10000000")
            .env("AUTH_RATE_LIMIT_PER_MINUTE", "10000000")
            .env("WS_MAX_CONNECTIONS_PER_USER", "1000000")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(url) = &options.redis_url {
            command.env("REDIS_URL", url);
        }
        if let Some(url) = &options.database_url {
            command.env("DATABASE_URL", url);
        }
        let launched = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut node = Node {
            base: format!("http://{addr}"),
            addr,
            pid: child.id(),
            ready_after: Duration::ZERO,
            child,
        };
        node.ready_after = node.wait_ready(launched)?;
        Ok(node)
    }

    /// Polls `/health` over plain TCP (no client set-up cost in the figure).
    fn wait_ready(&mut self, launched: Instant) -> anyhow::Result<Duration> {
        use std::io::{Read as _, Write as _};
        while launched.elapsed() < START_TIMEOUT {
            if let Some(status) = self.child.try_wait().context("checking the node")? {
                bail!("the node exited during start-up ({status}); see its log in the data dir");
            }
            if let Ok(mut stream) = std::net::TcpStream::connect(self.addr) {
                let request = format!(
                    "GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                    self.addr
                );
                let mut answer = String::new();
                if stream.write_all(request.as_bytes()).is_ok()
                    && stream.read_to_string(&mut answer).is_ok()
                    && answer.starts_with("HTTP/1.1 200")
                {
                    return Ok(launched.elapsed());
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        bail!("the node did not answer /health within {START_TIMEOUT:?}")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `redis-server` without persistence on a free port.
pub struct Redis {
    pub url: String,
    child: Child,
}

impl Redis {
    pub fn start() -> anyhow::Result<Redis> {
        let port = free_port()?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting redis-server (is it installed? scripts/test.sh installs it)")?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > START_TIMEOUT {
                bail!("redis-server did not listen on {port}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(Redis {
            url: format!("redis://127.0.0.1:{port}"),
            child,
        })
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The servers one scenario talks to, kept alive as long as it runs.
pub struct Target {
    /// `http://host:port` of each node.
    pub bases: Vec<String>,
    /// Socket address of each node, for WebSocket connections.
    pub addrs: Vec<SocketAddr>,
    /// Processes whose CPU and RSS are reported (may be empty with `--url`).
    pub pids: Vec<u32>,
    /// Launch-to-ready of each started node.
    pub ready_after: Vec<Duration>,
    _nodes: Vec<Node>,
    _redis: Option<Redis>,
    _data: Option<tempfile::TempDir>,
}

impl Target {
    /// `nodes` nodes sharing one SQLite file, with Redis when more than one
    /// or when `with_redis` asks for it.
    pub fn launch(
        source: &Source,
        nodes: usize,
        with_redis: bool,
        database_url: Option<String>,
    ) -> anyhow::Result<Target> {
        let binary = match source {
            Source::Binary(binary) => binary,
            Source::Running { url, pid } => {
                if nodes > 1 || with_redis {
                    bail!("--url runs single-node scenarios only; several nodes need --server-bin");
                }
                let addr = url
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .parse::<SocketAddr>()
                    .with_context(|| format!("--url {url} must be http://IP:PORT"))?;
                return Ok(Target {
                    bases: vec![url.trim_end_matches('/').to_owned()],
                    addrs: vec![addr],
                    pids: pid.iter().copied().collect(),
                    ready_after: Vec::new(),
                    _nodes: Vec::new(),
                    _redis: None,
                    _data: None,
                });
            }
        };
        let data = tempfile::tempdir().context("a temporary data dir")?;
        let redis = if nodes > 1 || with_redis {
            Some(Redis::start()?)
        } else {
            None
        };
        let database_url = database_url.or_else(|| {
            Some(format!(
                "sqlite://{}",
                data.path().join("realtalk.db").display()
            ))
        });
        let options = NodeOptions {
            redis_url: redis.as_ref().map(|redis| redis.url.clone()),
            database_url,
        };
        let mut started = Vec::new();
        for index in 0..nodes.max(1) {
            started.push(Node::start(
                binary,
                &data.path().join(format!("node{index}")),
                &options,
            )?);
        }
        Ok(Target {
            bases: started.iter().map(|node| node.base.clone()).collect(),
            addrs: started.iter().map(|node| node.addr).collect(),
            pids: started.iter().map(|node| node.pid).collect(),
            ready_after: started.iter().map(|node| node.ready_after).collect(),
            _nodes: started,
            _redis: redis,
            _data: Some(data),
        })
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}
