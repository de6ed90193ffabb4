//! Per-account failed-login throttling with growing delays.
//!
//! Keyed by the normalised login name (whether or not such an account
//! exists, so the throttle reveals nothing), which means rotating IPs does
//! not help an attacker guessing one account's password. After
//! `free_failures` failures, each further failure locks the key for twice as
//! long as the previous one, up to [`MAX_DELAY`]. A success clears the key.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{AppError, AppResult};

pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures older than this are forgotten.
const MEMORY: Duration = Duration::from_secs(60 * 60);

#[derive(Debug)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
    last_failure: Instant,
}

pub struct LoginThrottle {
    free_failures: u32,
    failures: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    pub fn new(free_failures: u32) -> Self {
        LoginThrottle {
            free_failures,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// RATE_LIMITED while `key` is locked.
    pub fn check(&self, key: &str) -> AppResult<()> {
        let now = Instant::now();
        let failures = self.failures.lock().map_err(|_| poisoned())?;
        match failures.get(key).and_then(|entry| entry.locked_until) {
            Some(until) if until > now => Err(AppError::rate_limited(
                (until - now).as_secs_f64().ceil() as u64,
            )),
            _ => Ok(()),
        }
    }

    /// Counts a failure and, past the free ones, locks the key.
    pub fn record_failure(&self, key: &str) {
        let now = Instant::now();
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        let entry = failures.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            locked_until: None,
            last_failure: now,
        });
        entry.count += 1;
        entry.last_failure = now;
        if entry.count >= self.free_failures {
            let doublings = (entry.count - self.free_failures).min(20);
            let delay = Duration::from_secs(1u64 << doublings).min(MAX_DELAY);
            entry.locked_until = Some(now + delay);
            tracing::warn!(
                failures = entry.count,
                delay_s = delay.as_secs(),
                "repeated failed logins; account throttled"
            );
        }
    }

    pub fn record_success(&self, key: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(key);
        }
    }

    /// Forgets keys with no recent failure.
    pub fn prune(&self) {
        let now = Instant::now();
        if let Ok(mut failures) = self.failures.lock() {
            failures.retain(|_, entry| now.duration_since(entry.last_failure) < MEMORY);
        }
    }
}

fn poisoned() -> AppError {
    AppError::internal(anyhow::anyhow!("login throttle lock poisoned"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_free_ones_lock_with_growing_delays() {
        let throttle = LoginThrottle::new(3);
        for _ in 0..2 {
            throttle.record_failure("alice");
            assert!(throttle.check("alice").is_ok());
        }
        throttle.record_failure("alice");
        let first = throttle
            .check("alice")
            .expect_err("locked after 3 failures");
        throttle.record_failure("alice");
        let second = throttle.check("alice").expect_err("still locked");
        let wait = |e: AppError| match e.kind {
            crate::error::ErrorKind::RateLimited {
                retry_after_seconds,
            } => retry_after_seconds,
            _ => 0,
        };
        assert!(wait(second) > wait(first));
        assert!(
            throttle.check("bob").is_ok(),
            "other accounts are not affected"
        );
        throttle.record_success("alice");
        assert!(throttle.check("alice").is_ok());
    }
}
