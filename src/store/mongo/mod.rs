//! STUB so this branch compiles; the real MongoDB engine replaces this file.

use std::sync::Arc;

use crate::store::Store;

pub async fn connect(uri: &str) -> anyhow::Result<Arc<dyn Store>> {
    let _ = uri;
    anyhow::bail!("MongoDB engine not in this build")
}

pub async fn drop_database(uri: &str) -> anyhow::Result<()> {
    let _ = uri;
    anyhow::bail!("MongoDB engine not in this build")
}
