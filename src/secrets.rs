//! The access-token secret: from `JWT_SECRET`, or generated once and kept in
//! `DATA_DIR/jwt_secret` (mode 0600) so tokens survive restarts.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;

use crate::config::{Config, MIN_JWT_SECRET_BYTES};

const SECRET_FILE: &str = "jwt_secret";

pub fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.as_bytes().to_vec());
    }
    let path = config.data_dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(stored) => {
            let secret = stored.trim().as_bytes().to_vec();
            anyhow::ensure!(
                secret.len() >= MIN_JWT_SECRET_BYTES,
                "{} holds fewer than {MIN_JWT_SECRET_BYTES} bytes; delete it to generate a new one",
                path.display()
            );
            Ok(secret)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => generate(&path),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

fn generate(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(secret.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "JWT_SECRET is not set: generated one and stored it; set JWT_SECRET when running more than one node"
    );
    Ok(secret.into_bytes())
}
