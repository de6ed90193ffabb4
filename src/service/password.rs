//! Password hashing with Argon2id at OWASP's parameters (m = 19 MiB, t = 2, p = 1).
//!
//! Hashing is deliberately slow, so it runs on the hashing pool
//! (`hash_pool.rs`): a few threads at a lower CPU priority, where a login
//! storm queues instead of stalling the runtime, taking cores from live
//! delivery, or spawning hundreds of 19 MiB threads.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::OnceCell;

use super::hash_pool::HashPool;

use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    pool: Arc<HashPool>,
    /// A hash of a random password, verified against when a login names no
    /// account, so that case costs the same time as a wrong password.
    /// Computed on the first such login, not at start: it is a full hash,
    /// tens of ms of CPU before the server could listen.
    dummy_hash: Arc<OnceCell<String>>,
}

impl PasswordHasher {
    pub fn new() -> anyhow::Result<Self> {
        let params = Params::new(19 * 1024, 2, 1, None)
            .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        Ok(PasswordHasher {
            argon2,
            pool: Arc::new(HashPool::start()?),
            dummy_hash: Arc::default(),
        })
    }

    /// The dummy hash, made on first use (on the pool, like any hash).
    async fn dummy_hash(&self) -> AppResult<String> {
        self.dummy_hash
            .get_or_try_init(|| self.hash("no account has this password".to_owned()))
            .await
            .cloned()
    }

    /// Hashes a password into a PHC string (algorithm, parameters, salt, hash).
    pub async fn hash(&self, password: String) -> AppResult<String> {
        let argon2 = self.argon2.clone();
        self.pool
            .run(move || {
                let salt = SaltString::generate(&mut OsRng);
                argon2
                    .hash_password(password.as_bytes(), &salt)
                    .map(|hash| hash.to_string())
                    .map_err(|error| AppError::internal(anyhow::anyhow!("argon2 hash: {error}")))
            })
            .await?
    }

    /// Checks a password against a stored hash, or against the dummy hash
    /// when there is no account, so both cases take the same time.
    pub async fn verify(&self, password: String, stored_hash: Option<String>) -> AppResult<bool> {
        let known = stored_hash.is_some();
        let hash = match stored_hash {
            Some(hash) => hash,
            None => self.dummy_hash().await?,
        };
        let argon2 = self.argon2.clone();
        self.pool
            .run(move || {
                let parsed = PasswordHash::new(&hash)
                    .map_err(|error| AppError::internal(anyhow::anyhow!("stored hash: {error}")))?;
                let matches = argon2.verify_password(password.as_bytes(), &parsed).is_ok();
                Ok(known && matches)
            })
            .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_account_is_refused_after_a_real_verification() {
        let hasher = PasswordHasher::new().expect("hasher");
        assert!(
            !hasher
                .verify("anything".to_owned(), None)
                .await
                .expect("verified")
        );
        let hash = hasher.hash("secret words".to_owned()).await.expect("hash");
        assert!(
            hasher
                .verify("secret words".to_owned(), Some(hash.clone()))
                .await
                .expect("verified")
        );
        assert!(
            !hasher
                .verify("other words".to_owned(), Some(hash))
                .await
                .expect("verified")
        );
    }
}
