//! Short-lived signed media URLs, so `<img src>` works without headers:
//! `/media/{id}[/thumbnail]?exp=<unix seconds>&sig=<HMAC-SHA256>`. Only code
//! that already checked the viewer may see an attachment mints them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};

/// How long a signed URL works.
pub const URL_TTL_SECONDS: i64 = 30 * 60;

/// The full file or its thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Thumbnail => "thumbnail",
        }
    }
}

#[derive(Clone)]
pub struct UrlSigner {
    key: Vec<u8>,
}

impl UrlSigner {
    /// A key derived from the server secret, distinct from the token key.
    pub fn new(secret: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"realtalk media url v1:");
        hasher.update(secret);
        UrlSigner {
            key: hasher.finalize().to_vec(),
        }
    }

    fn mac(&self, id: &str, variant: Variant, expires: i64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(format!("{id}:{}:{expires}", variant.label()).as_bytes());
        mac
    }

    /// A URL valid for [`URL_TTL_SECONDS`] from now. Expiry is rounded up
    /// to the next minute so repeated reads give cacheable, equal URLs.
    pub fn url(&self, id: &str, variant: Variant) -> String {
        let expires = (Utc::now().timestamp() + URL_TTL_SECONDS).div_euclid(60) * 60 + 60;
        self.url_expiring_at(id, variant, expires)
    }

    /// A URL that stops working at `expires` (Unix seconds).
    pub fn url_expiring_at(&self, id: &str, variant: Variant, expires: i64) -> String {
        let signature =
            URL_SAFE_NO_PAD.encode(self.mac(id, variant, expires).finalize().into_bytes());
        let path = match variant {
            Variant::Original => format!("/media/{id}"),
            Variant::Thumbnail => format!("/media/{id}/thumbnail"),
        };
        format!("{path}?exp={expires}&sig={signature}")
    }

    /// Whether a signature is ours and not expired (constant-time compare).
    pub fn verify(&self, id: &str, variant: Variant, expires: i64, signature: &str) -> bool {
        if expires < Utc::now().timestamp() {
            return false;
        }
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        self.mac(id, variant, expires)
            .verify_slice(&signature)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (i64, String) {
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let mut expires = 0;
        let mut signature = String::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("exp", value)) => expires = value.parse().unwrap_or(0),
                Some(("sig", value)) => signature = value.to_owned(),
                _ => {}
            }
        }
        (expires, signature)
    }

    #[test]
    fn signatures_bind_id_variant_and_expiry() {
        let signer = UrlSigner::new(b"secret");
        let (expires, signature) = parts(&signer.url("a1", Variant::Original));
        assert!(signer.verify("a1", Variant::Original, expires, &signature));
        assert!(!signer.verify("a2", Variant::Original, expires, &signature));
        assert!(!signer.verify("a1", Variant::Thumbnail, expires, &signature));
        assert!(!signer.verify("a1", Variant::Original, expires + 60, &signature));
        assert!(!UrlSigner::new(b"other").verify("a1", Variant::Original, expires, &signature));
        assert!(
            !signer.verify("a1", Variant::Original, 1, &signature),
            "expired"
        );
    }
}
