//! Password hashing with Argon2id at OWASP's parameters (m = 19 MiB, t = 2, p = 1).
//!
//! Hashing is deliberately slow, so it runs on tokio's blocking pool, and a
//! semaphore bounds how many hashes run at once: a login storm queues here
//! instead of stalling the runtime or spawning hundreds of 19 MiB threads.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when a login names no
    /// account, so that case costs the same time as a wrong password.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    pub fn new() -> anyhow::Result<Self> {
        let params = Params::new(19 * 1024, 2, 1, None)
            .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(b"no account has this password", &salt)
            .map_err(|error| anyhow::anyhow!("argon2 self-test: {error}"))?
            .to_string();
        Ok(PasswordHasher {
            argon2,
            permits: Arc::new(Semaphore::new(parallel * 2)),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes a password into a PHC string (algorithm, parameters, salt, hash).
    pub async fn hash(&self, password: String) -> AppResult<String> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let argon2 = self.argon2.clone();
        tokio::task::spawn_blocking(move || {
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
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let argon2 = self.argon2.clone();
        let known = stored_hash.is_some();
        let hash = stored_hash.unwrap_or_else(|| self.dummy_hash.to_string());
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|error| AppError::internal(anyhow::anyhow!("stored hash: {error}")))?;
            let matches = argon2.verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(known && matches)
        })
        .await?
    }
}
