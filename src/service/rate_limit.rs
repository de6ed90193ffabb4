//! Per-key rate limits for costly actions, as one enum of actions each mapped
//! to a bucket (GCRA, via `governor`). The HTTP layer limits whole requests
//! per IP; these limit *operations*, which matters because every GraphQL
//! operation shares one path and one request may hold many aliased fields.

use std::collections::HashMap;
use std::num::NonZeroU32;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{AppError, AppResult};

/// An action whose rate is limited, and by what key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `login` attempts per client IP.
    Login,
    /// `register` attempts per client IP.
    Register,
    /// `refreshToken` attempts per client IP.
    RefreshToken,
    /// `setTyping` calls per user.
    Typing,
    /// Password-reset mails, per address and per IP.
    PasswordReset,
    /// Verification and email-change mails, per user.
    AccountMail,
}

impl Action {
    const ALL: [Action; 6] = [
        Action::Login,
        Action::Register,
        Action::RefreshToken,
        Action::Typing,
        Action::PasswordReset,
        Action::AccountMail,
    ];
}

/// The configured size of each bucket.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitConfig {
    pub auth_per_minute: u32,
}

impl RateLimitConfig {
    fn quota(&self, action: Action) -> Quota {
        let per_minute = NonZeroU32::new(self.auth_per_minute).unwrap_or(NonZeroU32::MIN);
        match action {
            Action::Login | Action::Register => Quota::per_minute(per_minute),
            // Clients refresh on a timer; allow more headroom than for logins.
            Action::RefreshToken => Quota::per_minute(
                per_minute.saturating_mul(NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN)),
            ),
            // A client renews typing every few seconds; allow bursts for
            // several open conversations, refuse floods.
            Action::Typing => Quota::per_second(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN)),
            // Mail costs the recipient attention: a few per hour.
            Action::PasswordReset | Action::AccountMail => {
                Quota::per_hour(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN))
            }
        }
    }
}

pub struct RateLimits {
    buckets: HashMap<Action, DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl RateLimits {
    pub fn new(config: RateLimitConfig) -> Self {
        let buckets = Action::ALL
            .into_iter()
            .map(|action| (action, RateLimiter::keyed(config.quota(action))))
            .collect();
        RateLimits {
            buckets,
            clock: DefaultClock::default(),
        }
    }

    /// Takes one unit for `key` from the bucket of `action`, or says how long to wait.
    pub fn check(&self, action: Action, key: &str) -> AppResult<()> {
        let Some(bucket) = self.buckets.get(&action) else {
            return Ok(());
        };
        bucket.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            tracing::info!(?action, "rate limited");
            AppError::rate_limited(wait.as_secs() + 1)
        })
    }

    /// Forgets keys whose buckets are full again, bounding memory.
    pub fn prune(&self) {
        for bucket in self.buckets.values() {
            bucket.retain_recent();
            bucket.shrink_to_fit();
        }
    }
}
