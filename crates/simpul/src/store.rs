//! Opens the store a database URL names: SQLite for `sqlite:`, PostgreSQL for `postgres:`.
//!
//! Any other scheme is refused, so a typo never quietly creates a fresh, empty database.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use simpul_store::{Store, Vault};
use simpul_store_postgres::PostgresStore;
use simpul_store_sqlite::SqliteStore;

/// Refuses a URL whose scheme names no store, before anything (key files, directories)
/// is created for it.
pub fn check_scheme(url: &str) -> anyhow::Result<()> {
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if known.iter().any(|prefix| url.starts_with(prefix)) {
        return Ok(());
    }
    let scheme = url.split(':').next().unwrap_or_default();
    bail!("skema basis data {scheme:?} tidak dikenal: gunakan sqlite:// atau postgres://")
}

/// Opens and migrates the store at `url`, sealing with `vault`. For SQLite the file's
/// directory is created.
pub async fn open(url: &str, vault: Arc<Vault>) -> anyhow::Result<Arc<dyn Store>> {
    check_scheme(url)?;
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
        let store = SqliteStore::connect(url, vault)
            .await
            .with_context(|| format!("membuka SQLite {path}"))?;
        return Ok(Arc::new(store));
    }
    let store = PostgresStore::connect(url, vault)
        .await
        .context("membuka PostgreSQL")?;
    Ok(Arc::new(store))
}
