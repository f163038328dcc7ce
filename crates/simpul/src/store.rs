//! Opens the store a database URL names: SQLite for `sqlite:`, PostgreSQL for `postgres:`.
//!
//! Any other scheme is refused, so a typo never quietly creates a fresh, empty database.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use simpul_store::Store;
use simpul_store_postgres::PostgresStore;
use simpul_store_sqlite::SqliteStore;

/// Opens and migrates the store at `url`. For SQLite the file's directory is created.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("membuat direktori data {}", dir.display()))?;
        }
        let store = SqliteStore::connect(url)
            .await
            .with_context(|| format!("membuka SQLite {path}"))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::connect(url)
            .await
            .context("membuka PostgreSQL")?;
        return Ok(Arc::new(store));
    }
    let scheme = url.split(':').next().unwrap_or_default();
    bail!("skema basis data {scheme:?} tidak dikenal: gunakan sqlite:// atau postgres://")
}
