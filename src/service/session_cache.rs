//! A short-lived memory of which sessions were active, so that requests
//! carrying a valid access token need not read the store each time.
//!
//! Every request used to authenticate with `session_by_id` on the blocking
//! pool: most of the cost of a small query under load. Revocation must still
//! take effect at once, so an entry is trusted only while
//!
//! - it is younger than [`TTL`] (a bound for revocations this node never
//!   hears of, e.g. while Redis is unreachable), and
//! - no revocation has reached this node since the session was read: every
//!   revocation (logout, logout-all, refresh-token reuse, password change,
//!   account deletion) is published as `SessionsRevoked`, and the bus counts
//!   them synchronously as it dispatches them — for this node's own
//!   publishes before `publish` returns, for other nodes' as they arrive —
//!   and also counts every Redis resubscription (events may have been
//!   missed). Revocations are rare, so any of them simply forgets everything.
//!
//! A store read that races with a revocation is remembered under the count
//! taken *before* the read, so it is already stale when the count moves.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// How long a store answer is trusted at most.
pub const TTL: Duration = Duration::from_secs(1);
/// Sessions remembered at most; past this, the memory starts afresh.
const CAPACITY: usize = 65_536;

struct Entry {
    user_id: String,
    expires_at: DateTime<Utc>,
    read_at: Instant,
    revocations: u64,
}

#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl SessionCache {
    /// Whether `session_id` of `user_id` is known to be active, given the
    /// bus's current revocation count.
    pub fn is_active(&self, session_id: &str, user_id: &str, revocations: u64) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(session_id).is_some_and(|entry| {
            entry.revocations == revocations
                && entry.user_id == user_id
                && entry.read_at.elapsed() < TTL
                && entry.expires_at > Utc::now()
        })
    }

    /// Remembers a session the store said was active, read when the bus's
    /// revocation count was `revocations`.
    pub fn remember(
        &self,
        session_id: &str,
        user_id: &str,
        expires_at: DateTime<Utc>,
        revocations: u64,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            session_id.to_owned(),
            Entry {
                user_id: user_id.to_owned(),
                expires_at,
                read_at: Instant::now(),
                revocations,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_holds_until_a_revocation_is_counted() {
        let cache = SessionCache::default();
        let later = Utc::now() + chrono::Duration::hours(1);
        assert!(!cache.is_active("s", "u", 0));
        cache.remember("s", "u", later, 0);
        assert!(cache.is_active("s", "u", 0));
        assert!(!cache.is_active("s", "other user", 0));
        assert!(!cache.is_active("s", "u", 1), "a revocation forgets it");
    }

    #[test]
    fn an_expired_session_is_not_active() {
        let cache = SessionCache::default();
        cache.remember("s", "u", Utc::now() - chrono::Duration::seconds(1), 0);
        assert!(!cache.is_active("s", "u", 0));
    }
}
