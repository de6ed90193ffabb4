//! Access tokens (JWT, HS256 pinned) and opaque refresh tokens.
//!
//! An access token says who (`sub`) and which session (`sid`); the session is
//! still checked on every request (`AuthService::authenticate`) so that
//! logout takes effect at once.
//! A refresh token is 256 random bits; only its SHA-256 is ever stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;

use crate::error::{AppError, AppResult};

/// How long an access token is valid.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);
/// How long a session lives without a refresh; each rotation renews it.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);
/// Clock skew tolerated when checking `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;

const ISSUER: &str = "realtalk";
const AUDIENCE: &str = "realtalk-api";
const ACCESS_TYPE: &str = "access";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub sid: String,
    pub iss: String,
    pub aud: String,
    pub typ: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Access tokens whose signature and claims were checked, remembered.
const VERIFIED_CAPACITY: NonZeroUsize = NonZeroUsize::new(4096).expect("non-zero");

/// Mints and checks access tokens with one secret.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Checking a token (base64, HMAC-SHA-256, JSON) was ~55 k instructions,
    /// a sixth of a whole `me` request (callgrind): a client sends the same
    /// token on every request for its 15 minutes. A token's text fixes its
    /// claims and signature, so one that verified once stays valid until
    /// `exp`, which is checked again on every use. Only tokens that verified
    /// are kept, in a bounded LRU.
    verified: Arc<Mutex<LruCache<Box<str>, AccessClaims>>>,
}

impl AccessTokens {
    pub fn new(secret: &[u8]) -> Self {
        // `Validation::new` pins the algorithm list to exactly HS256, so
        // `alg: none` and any RS/ES token (key confusion) are refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        AccessTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: Arc::new(Mutex::new(LruCache::new(VERIFIED_CAPACITY))),
        }
    }

    /// A signed access token for this user and session, and when it expires.
    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<(String, DateTime<Utc>)> {
        let expires_at = now + ACCESS_TOKEN_TTL;
        let claims = AccessClaims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            typ: ACCESS_TYPE.to_owned(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        Ok((token, expires_at))
    }

    /// The claims of a valid access token; UNAUTHENTICATED otherwise.
    pub fn verify(&self, token: &str) -> AppResult<AccessClaims> {
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(claims) = verified.get(token) {
            // The same rule `jsonwebtoken` applies: expired once `exp` is
            // more than the leeway in the past.
            let leeway = i64::try_from(LEEWAY_SECONDS).unwrap_or(i64::MAX);
            if claims.exp.saturating_add(leeway) >= Utc::now().timestamp() {
                return Ok(claims.clone());
            }
            verified.pop(token);
        }
        drop(verified);
        let claims = self.verify_signed(token)?;
        self.verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .put(token.into(), claims.clone());
        Ok(claims)
    }

    /// Checks the signature and every claim.
    fn verify_signed(&self, token: &str) -> AppResult<AccessClaims> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|error| {
                tracing::debug!(%error, "access token refused");
                AppError::unauthenticated("invalid or expired access token")
            })?;
        if data.claims.typ != ACCESS_TYPE {
            return Err(AppError::unauthenticated("not an access token"));
        }
        Ok(data.claims)
    }
}

/// A new refresh token and the hash to store for it.
pub fn new_refresh_token() -> (String, String) {
    new_secret_token()
}

/// 256 random bits, URL-safe, and the SHA-256 (hex) to store instead.
pub fn new_secret_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = refresh_token_hash(&token);
    (token, hash)
}

/// The stored form of a refresh token: SHA-256, hex. A fast hash is right
/// here: the token has 256 bits of entropy, so it cannot be guessed.
pub fn refresh_token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_fresh_token_verifies_and_names_its_session() {
        let tokens = AccessTokens::new(SECRET);
        let (token, _) = tokens.issue("u1", "s1", Utc::now()).expect("issue");
        let claims = tokens.verify(&token).expect("verify");
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("u1", "s1"));
    }

    #[test]
    fn expired_foreign_and_unsigned_tokens_are_refused() {
        let tokens = AccessTokens::new(SECRET);
        let (old, _) = tokens
            .issue("u1", "s1", Utc::now() - Duration::minutes(20))
            .expect("issue");
        assert!(tokens.verify(&old).is_err());
        let other = AccessTokens::new(b"another secret, also 32 bytes long!!");
        let (foreign, _) = other.issue("u1", "s1", Utc::now()).expect("issue");
        assert!(tokens.verify(&foreign).is_err());
        let (good, _) = tokens.issue("u1", "s1", Utc::now()).expect("issue");
        let payload = good.split('.').nth(1).expect("payload");
        let unsigned = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
        );
        assert!(tokens.verify(&unsigned).is_err());
    }

    #[test]
    fn a_remembered_token_is_refused_once_it_expires() {
        let tokens = AccessTokens::new(SECRET);
        let (token, _) = tokens.issue("u1", "s1", Utc::now()).expect("issue");
        assert!(tokens.verify(&token).is_ok());
        assert!(tokens.verify(&token).is_ok(), "again, from memory");
        assert!(
            tokens
                .verified
                .lock()
                .expect("lock")
                .contains(token.as_str())
        );
        // A token that verified 16 minutes ago, still remembered: past
        // `exp` by more than the leeway now.
        let leeway = i64::try_from(LEEWAY_SECONDS).expect("small");
        let issued = Utc::now().timestamp() - 16 * 60;
        let claims = AccessClaims {
            sub: "u1".into(),
            sid: "s1".into(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            typ: ACCESS_TYPE.into(),
            iat: issued,
            nbf: issued,
            exp: Utc::now().timestamp() - leeway - 1,
        };
        let old = sign(
            serde_json::to_value(&claims).expect("claims"),
            Header::new(Algorithm::HS256),
        );
        tokens
            .verified
            .lock()
            .expect("lock")
            .put(old.as_str().into(), claims);
        assert!(tokens.verify(&old).is_err());
        assert!(!tokens.verified.lock().expect("lock").contains(old.as_str()));
        // A tampered copy of a remembered token is checked in full.
        let tampered = format!("{token}x");
        assert!(tokens.verify(&tampered).is_err());
    }

    fn sign(claims: serde_json::Value, header: Header) -> String {
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(SECRET)).expect("sign")
    }

    #[test]
    fn wrong_type_audience_issuer_and_future_nbf_are_refused() {
        let tokens = AccessTokens::new(SECRET);
        let now = Utc::now().timestamp();
        let good = serde_json::json!({ "sub": "u1", "sid": "s1", "iss": ISSUER, "aud": AUDIENCE,
            "typ": "access", "iat": now, "nbf": now, "exp": now + 60 });
        assert!(
            tokens
                .verify(&sign(good.clone(), Header::new(Algorithm::HS256)))
                .is_ok()
        );
        let cases = [
            ("typ", serde_json::json!("refresh")),
            ("aud", serde_json::json!("someone-else")),
            ("iss", serde_json::json!("evil")),
            ("nbf", serde_json::json!(now + 3600)),
            ("exp", serde_json::json!(now - 2 * LEEWAY_SECONDS as i64)),
        ];
        for (claim, value) in cases {
            let mut claims = good.clone();
            claims[claim] = value;
            assert!(
                tokens
                    .verify(&sign(claims, Header::new(Algorithm::HS256)))
                    .is_err(),
                "a token with a bad {claim} was accepted"
            );
        }
        // HS384 with the same secret: the algorithm is pinned to HS256.
        assert!(
            tokens
                .verify(&sign(good.clone(), Header::new(Algorithm::HS384)))
                .is_err()
        );
        // An RS256 header over an HMAC signature (key confusion) is refused.
        let hs = sign(good, Header::new(Algorithm::HS256));
        let mut parts = hs.splitn(2, '.');
        let _ = parts.next();
        let rest = parts.next().unwrap_or_default();
        let forged = format!(
            "{}.{rest}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#)
        );
        assert!(tokens.verify(&forged).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_a, refresh_token_hash(&a));
        assert_eq!(hash_a.len(), 64);
    }
}
