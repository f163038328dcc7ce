//! What the ledger's tables take on disk, and what the database promises about durability,
//! read from the database itself beside the store (SQLite's `dbstat`, PostgreSQL's size
//! functions and `SHOW`).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

/// Bytes of the ledger's tables (whole pages, free space in them included).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LedgerBytes {
    /// `ledger_leaves` itself.
    pub leaves: f64,
    /// The indexes on `ledger_leaves` (SQLite: the `(kind, sequence)` one; its leaf index is
    /// the rowid. PostgreSQL: that one and the primary key).
    pub leaf_indexes: f64,
    pub nodes: f64,
    pub checkpoints: f64,
}

impl LedgerBytes {
    pub fn total(&self) -> f64 {
        self.leaves + self.leaf_indexes + self.nodes + self.checkpoints
    }

    pub fn minus(&self, before: &Self) -> Self {
        Self {
            leaves: self.leaves - before.leaves,
            leaf_indexes: self.leaf_indexes - before.leaf_indexes,
            nodes: self.nodes - before.nodes,
            checkpoints: self.checkpoints - before.checkpoints,
        }
    }

    pub fn per(&self, leaves: u64) -> Self {
        let n = leaves.max(1) as f64;
        Self {
            leaves: self.leaves / n,
            leaf_indexes: self.leaf_indexes / n,
            nodes: self.nodes / n,
            checkpoints: self.checkpoints / n,
        }
    }
}

/// A connection beside the store's, for size and settings queries.
pub enum Storage {
    /// The pool, and the database file's path.
    Sqlite(SqlitePool, PathBuf),
    Postgres(PgPool),
}

impl Storage {
    /// A connection to the SQLite file at `path` (which the store created).
    pub async fn sqlite(path: &Path) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            // A full checkpoint waits for the store's own checkpointer to finish its pass.
            .busy_timeout(Duration::from_secs(60));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(Self::Sqlite(pool, path.to_owned()))
    }

    pub async fn postgres(url: &str) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
        Ok(Self::Postgres(pool))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(..) => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }

    /// The ledger tables' sizes; `None` when this SQLite build has no `dbstat`.
    pub async fn ledger_bytes(&self) -> anyhow::Result<Option<LedgerBytes>> {
        match self {
            Self::Sqlite(pool, _) => {
                let rows: Result<Vec<(String, i64)>, _> = sqlx::query_as(
                    "SELECT name, SUM(pgsize) FROM dbstat WHERE name IN \
                     ('ledger_leaves', 'ledger_leaves_source', 'ledger_nodes', 'ledger_checkpoints') \
                     GROUP BY name",
                )
                .fetch_all(pool)
                .await;
                let Ok(rows) = rows else {
                    return Ok(None);
                };
                let mut bytes = LedgerBytes::default();
                for (name, size) in rows {
                    let size = size as f64;
                    match name.as_str() {
                        "ledger_leaves" => bytes.leaves = size,
                        "ledger_leaves_source" => bytes.leaf_indexes = size,
                        "ledger_nodes" => bytes.nodes = size,
                        _ => bytes.checkpoints = size,
                    }
                }
                Ok(Some(bytes))
            }
            Self::Postgres(pool) => {
                let (leaves, leaf_indexes, nodes, checkpoints): (i64, i64, i64, i64) =
                    sqlx::query_as(
                        "SELECT pg_table_size('ledger_leaves'), pg_indexes_size('ledger_leaves'), \
                     pg_total_relation_size('ledger_nodes'), \
                     pg_total_relation_size('ledger_checkpoints')",
                    )
                    .fetch_one(pool)
                    .await?;
                Ok(Some(LedgerBytes {
                    leaves: leaves as f64,
                    leaf_indexes: leaf_indexes as f64,
                    nodes: nodes as f64,
                    checkpoints: checkpoints as f64,
                }))
            }
        }
    }

    /// Moves everything written so far from the log into the database (SQLite:
    /// `wal_checkpoint(TRUNCATE)`; PostgreSQL: `CHECKPOINT`, which needs a superuser), so a
    /// timed phase does not pay for copying what an untimed one wrote. Returns what was done.
    pub async fn settle(&self) -> String {
        match self {
            Self::Sqlite(pool, _) => {
                match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
                    .fetch_one(pool)
                    .await
                {
                    Ok((0, _, _)) => "WAL checkpointed and truncated".into(),
                    Ok(_) => "WAL checkpoint incomplete (busy)".into(),
                    Err(error) => format!("WAL checkpoint failed: {error}"),
                }
            }
            Self::Postgres(pool) => match sqlx::query("CHECKPOINT").execute(pool).await {
                Ok(_) => "CHECKPOINT".into(),
                Err(error) => format!("CHECKPOINT failed: {error}"),
            },
        }
    }

    /// The size of SQLite's WAL file now (`None` for PostgreSQL).
    pub fn wal_bytes(&self) -> Option<u64> {
        let Self::Sqlite(_, path) = self else {
            return None;
        };
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        Some(std::fs::metadata(PathBuf::from(wal)).map_or(0, |m| m.len()))
    }

    /// The durability a write acknowledged by the store has.
    pub async fn durability(&self) -> String {
        match self {
            Self::Sqlite(pool, _) => {
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(pool)
                    .await
                    .unwrap_or_else(|_| "?".into());
                format!(
                    "journal_mode = {mode} (read from the file), synchronous = FULL (set by the \
                     store on its connections: the WAL is synced at every commit)"
                )
            }
            Self::Postgres(pool) => {
                let mut settings = Vec::new();
                for name in ["fsync", "synchronous_commit", "wal_sync_method"] {
                    let value: String = sqlx::query_scalar(&format!("SHOW {name}"))
                        .fetch_one(pool)
                        .await
                        .unwrap_or_else(|_| "?".into());
                    settings.push(format!("{name} = {value}"));
                }
                format!("{} (read from the server with SHOW)", settings.join(", "))
            }
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool, _) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}
