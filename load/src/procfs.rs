//! CPU time and resident memory of a process, read from `/proc`, so every
//! figure names what it cost the server (and the generator itself).

use std::time::Instant;

use anyhow::Context as _;

/// One reading of a process's counters.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Instant,
    /// User + system CPU time of all threads, in seconds.
    pub cpu_seconds: f64,
    /// Resident set size, in bytes.
    pub rss_bytes: u64,
}

/// Which process to read: a child's pid, or this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pid {
    Of(u32),
    Myself,
}

impl Pid {
    fn dir(self) -> String {
        match self {
            Pid::Of(pid) => format!("/proc/{pid}"),
            Pid::Myself => "/proc/self".to_owned(),
        }
    }
}

pub fn sample(pid: Pid) -> anyhow::Result<Sample> {
    let dir = pid.dir();
    let stat = std::fs::read_to_string(format!("{dir}/stat"))
        .with_context(|| format!("reading {dir}/stat"))?;
    // Fields after the parenthesised command name (which may hold spaces):
    // state is field 3, utime 14 and stime 15 in proc(5)'s numbering.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("malformed stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> anyhow::Result<u64> {
        fields
            .get(index)
            .context("short stat")?
            .parse::<u64>()
            .context("stat field is not a number")
    };
    let cpu_ticks = ticks(11)? + ticks(12)?;
    let status = std::fs::read_to_string(format!("{dir}/status"))
        .with_context(|| format!("reading {dir}/status"))?;
    let rss_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .context("no VmRSS in status")?;
    Ok(Sample {
        at: Instant::now(),
        cpu_seconds: cpu_ticks as f64 / clock_ticks_per_second(),
        rss_bytes: rss_kib * 1024,
    })
}

/// The readings of several processes (the nodes of a cluster) added up.
pub fn sample_all(pids: &[u32]) -> anyhow::Result<Sample> {
    let mut total = Sample {
        at: Instant::now(),
        cpu_seconds: 0.0,
        rss_bytes: 0,
    };
    for pid in pids {
        let one = sample(Pid::Of(*pid))?;
        total.cpu_seconds += one.cpu_seconds;
        total.rss_bytes += one.rss_bytes;
    }
    Ok(total)
}

/// CPU used between two samples, in cores (1.0 = one core busy).
pub fn cores(before: &Sample, after: &Sample) -> f64 {
    let wall = after.at.duration_since(before.at).as_secs_f64();
    if wall <= 0.0 {
        return 0.0;
    }
    (after.cpu_seconds - before.cpu_seconds) / wall
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a constant of the running system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// `uptime`'s three load averages and the online CPU count, recorded beside
/// every figure because this machine is shared.
pub fn machine() -> serde_json::Value {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|value| value.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    serde_json::json!({
        "nproc": std::thread::available_parallelism().map(usize::from).unwrap_or(1),
        "loadavg": load.join(" "),
        "cpu": model,
    })
}
