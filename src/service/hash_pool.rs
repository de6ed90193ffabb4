//! Threads for password hashing, at a lower CPU priority than the rest of
//! the server.
//!
//! An argon2id hash is tens of ms of pure CPU. On tokio's blocking pool a
//! login storm ran one hash per core and live delivery waited behind them
//! (fan-out p99 0.8–9 s during a storm, BENCHMARKS.md); limiting hashing to
//! half the cores kept delivery responsive but halved logins per second.
//! Here hashing gets every core that is otherwise idle: its threads run
//! under Linux's `SCHED_IDLE` policy, so the kernel prefers the async
//! workers whenever they have work, and a worker that wakes takes the core
//! from a hash at once. Nice 10, used before, left that wake-up waiting for
//! the hash's time slice: during a login storm at 50k deliveries/s the
//! fan-out's p50 went to 2.9 s under nice 10 and 0.23 s under `SCHED_IDLE`,
//! and the storm alone is as fast (BENCHMARKS.md). Should `SCHED_IDLE` be
//! refused, the threads take nice [`NICE`]; where the priority cannot be
//! lowered at all (not Linux), the pool keeps to half the cores instead.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::error::{AppError, AppResult};

/// The hashing threads' nice value where `SCHED_IDLE` is refused (0 is
/// normal, 19 the lowest priority).
pub const NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

pub struct HashPool {
    jobs: Mutex<mpsc::Sender<Job>>,
    /// Jobs sent and not yet taken by a thread.
    waiting: Arc<AtomicUsize>,
}

/// Threads for a machine with `cores` cores: all of them when hashing can
/// yield to the server, else half (at least one).
pub fn threads_for(cores: usize, lowered_priority: bool) -> usize {
    if lowered_priority {
        cores.max(1)
    } else {
        (cores / 2).max(1)
    }
}

impl HashPool {
    /// Starts the pool's threads (they wait, costing no CPU, until a hash
    /// is asked for).
    pub fn start() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = threads_for(cores, cfg!(target_os = "linux"));
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let waiting = Arc::new(AtomicUsize::new(0));
        for index in 0..threads {
            let queue = queue.clone();
            let waiting = waiting.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = {
                            let queue = queue.lock().unwrap_or_else(|p| p.into_inner());
                            match queue.recv() {
                                Ok(job) => job,
                                Err(_) => return,
                            }
                        };
                        waiting.fetch_sub(1, Ordering::SeqCst);
                        // A panicking hash fails its request, not the thread.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                        if waiting.load(Ordering::SeqCst) == 0 {
                            // Nothing queued: this hash's block goes back to
                            // the OS (during a storm it is reused instead).
                            crate::allocator::release_freed_memory();
                        }
                    }
                })
                .map_err(|error| anyhow::anyhow!("starting a hashing thread: {error}"))?;
        }
        Ok(HashPool {
            jobs: Mutex::new(jobs),
            waiting,
        })
    }

    /// Runs `work` on a hashing thread, queueing behind earlier hashes.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| AppError::internal(anyhow::anyhow!("the hashing pool has stopped")))?;
        result
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("a password hash failed")))
    }
}

/// Lowers the calling thread's priority (Linux applies both the policy
/// and nice per thread). Lowering needs no privilege.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let idle = libc::sched_param { sched_priority: 0 };
        // SAFETY: sched_setscheduler only reads `idle`, which outlives the
        // call; pid 0 is the calling thread.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &idle) } == 0 {
            return;
        }
        tracing::warn!(
            error = %std::io::Error::last_os_error(),
            "SCHED_IDLE refused for the hashing threads; using nice {NICE}"
        );
        // SAFETY: setpriority only reads its arguments; who = 0 is the
        // calling thread on Linux.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, NICE) };
        if result != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "could not lower the hashing threads' priority"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_cores_when_hashing_yields_else_half() {
        assert_eq!(threads_for(2, true), 2);
        assert_eq!(threads_for(2, false), 1);
        assert_eq!(threads_for(1, false), 1);
        assert_eq!(threads_for(8, false), 4);
    }

    /// Hashing must run below the async workers, or a login storm stalls
    /// live delivery.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_under_sched_idle() {
        let pool = HashPool::start().expect("pool");
        // SAFETY: sched_getscheduler only reads the calling thread's policy.
        let policy = pool
            .run(|| unsafe { libc::sched_getscheduler(0) })
            .await
            .expect("ran");
        assert_eq!(policy, libc::SCHED_IDLE);
    }

    #[tokio::test]
    async fn work_runs_and_a_panic_fails_only_its_own_job() {
        let pool = HashPool::start().expect("pool");
        assert_eq!(pool.run(|| 2 + 2).await.expect("ran"), 4);
        assert!(pool.run(|| panic!("boom")).await.is_err());
        assert_eq!(pool.run(|| "still here").await.expect("ran"), "still here");
    }
}
