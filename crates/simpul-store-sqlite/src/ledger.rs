//! [`LedgerStore`] on SQLite: leaves, Merkle nodes, checkpoints and cosignatures.
//!
//! Appends take the one writer (`BEGIN IMMEDIATE`) and check that the first new leaf
//! continues the log, so a second sealer on the same file fails with `Conflict`.

use std::collections::HashMap;

use async_trait::async_trait;
use simpul_ledger::{Hash, NodeId};
use simpul_store::{
    CheckpointRecord, CosignatureRecord, LeafKind, LeafRecord, LedgerCounts, LedgerStore,
    LedgerTip, StoreError,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::rows::{column, in_range};
use crate::{INSERT_CHUNK, SqliteStore, unavailable};

const LEAVES: &str = "ledger_leaves";
const NODES: &str = "ledger_nodes";
const CHECKPOINTS: &str = "ledger_checkpoints";
const COSIGNATURES: &str = "ledger_cosignatures";

/// Node ids per lookup: two bound parameters each, well under SQLite's limit.
const LOOKUP_CHUNK: usize = 400;

fn key(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn hash(row: &SqliteRow, table: &str, name: &str) -> Result<Hash, StoreError> {
    let bytes: Vec<u8> = column(row, table, name)?;
    Hash::from_slice(&bytes)
        .map_err(|_| StoreError::Corrupt(format!("{table}.{name} is not a 32-byte hash")))
}

fn leaf(row: &SqliteRow) -> Result<LeafRecord, StoreError> {
    let index: i64 = column(row, LEAVES, "leaf_index")?;
    let kind: String = column(row, LEAVES, "kind")?;
    let sequence: i64 = column(row, LEAVES, "sequence")?;
    Ok(LeafRecord {
        index: in_range(index, LEAVES, "leaf_index")?,
        kind: LeafKind::from_code(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("{LEAVES}.kind is not a leaf kind")))?,
        sequence: in_range(sequence, LEAVES, "sequence")?,
        digest: hash(row, LEAVES, "digest")?,
    })
}

fn checkpoint(row: &SqliteRow) -> Result<CheckpointRecord, StoreError> {
    let size: i64 = column(row, CHECKPOINTS, "size")?;
    Ok(CheckpointRecord {
        size: in_range(size, CHECKPOINTS, "size")?,
        root: hash(row, CHECKPOINTS, "root")?,
        note: column(row, CHECKPOINTS, "note")?,
        at: column(row, CHECKPOINTS, "at")?,
    })
}

#[async_trait]
impl LedgerStore for SqliteStore {
    async fn ledger_tip(&self) -> Result<LedgerTip, StoreError> {
        let row = sqlx::query(
            "SELECT \
               (SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger_leaves) AS size, \
               (SELECT COALESCE(MAX(sequence), 0) FROM ledger_leaves WHERE kind = 'journal') AS journal, \
               (SELECT COALESCE(MAX(sequence), 0) FROM ledger_leaves WHERE kind = 'akses') AS access",
        )
        .fetch_one(&self.read)
        .await
        .map_err(unavailable)?;
        let get = |name: &str| -> Result<u64, StoreError> {
            let value: i64 = column(&row, LEAVES, name)?;
            in_range(value, LEAVES, name)
        };
        Ok(LedgerTip {
            size: get("size")?,
            journal: get("journal")?,
            access: get("access")?,
        })
    }

    async fn append_ledger(
        &self,
        leaves: &[LeafRecord],
        nodes: &[(NodeId, Hash)],
    ) -> Result<(), StoreError> {
        let Some(first) = leaves.first() else {
            return Ok(());
        };
        let mut tx = self
            .write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(unavailable)?;
        let size: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger_leaves")
                .fetch_one(&mut *tx)
                .await
                .map_err(unavailable)?;
        if size != key(first.index) {
            return Err(StoreError::Conflict);
        }
        for chunk in leaves.chunks(INSERT_CHUNK) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO ledger_leaves (leaf_index, kind, sequence, digest) ",
            );
            insert.push_values(chunk, |mut b, leaf| {
                b.push_bind(key(leaf.index))
                    .push_bind(leaf.kind.code())
                    .push_bind(key(leaf.sequence))
                    .push_bind(leaf.digest.as_ref().to_vec());
            });
            insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        for chunk in nodes.chunks(INSERT_CHUNK) {
            let mut insert =
                QueryBuilder::<Sqlite>::new("INSERT INTO ledger_nodes (level, node_index, hash) ");
            insert.push_values(chunk, |mut b, (id, hash)| {
                b.push_bind(i64::from(id.level))
                    .push_bind(key(id.index))
                    .push_bind(hash.as_ref().to_vec());
            });
            insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn ledger_nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError> {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let mut select = QueryBuilder::<Sqlite>::new(
                "SELECT level, node_index, hash FROM ledger_nodes WHERE (level, node_index) IN (VALUES ",
            );
            let mut list = select.separated(", ");
            for id in chunk {
                list.push("(")
                    .push_bind_unseparated(i64::from(id.level))
                    .push_unseparated(", ")
                    .push_bind_unseparated(key(id.index))
                    .push_unseparated(")");
            }
            select.push(")");
            let rows = select
                .build()
                .fetch_all(&self.read)
                .await
                .map_err(unavailable)?;
            for row in &rows {
                let level: i64 = column(row, NODES, "level")?;
                let index: i64 = column(row, NODES, "node_index")?;
                let level = u8::try_from(level)
                    .map_err(|_| StoreError::Corrupt(format!("{NODES}.level out of range")))?;
                found.insert(
                    NodeId::new(level, in_range(index, NODES, "node_index")?),
                    hash(row, NODES, "hash")?,
                );
            }
        }
        Ok(found)
    }

    async fn ledger_leaves(&self, from: u64, limit: u32) -> Result<Vec<LeafRecord>, StoreError> {
        sqlx::query(
            "SELECT leaf_index, kind, sequence, digest FROM ledger_leaves \
             WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2",
        )
        .bind(key(from))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(unavailable)?
        .iter()
        .map(leaf)
        .collect()
    }

    async fn ledger_leaf_of(
        &self,
        kind: LeafKind,
        sequence: u64,
    ) -> Result<Option<u64>, StoreError> {
        let index: Option<i64> = sqlx::query_scalar(
            "SELECT leaf_index FROM ledger_leaves WHERE kind = $1 AND sequence = $2",
        )
        .bind(kind.code())
        .bind(key(sequence))
        .fetch_optional(&self.read)
        .await
        .map_err(unavailable)?;
        index.map(|i| in_range(i, LEAVES, "leaf_index")).transpose()
    }

    async fn add_checkpoint(&self, record: &CheckpointRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ledger_checkpoints (size, root, note, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (size) DO NOTHING",
        )
        .bind(key(record.size))
        .bind(record.root.as_ref().to_vec())
        .bind(&record.note)
        .bind(record.at)
        .execute(&self.write)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, StoreError> {
        sqlx::query(
            "SELECT size, root, note, at FROM ledger_checkpoints ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(&self.read)
        .await
        .map_err(unavailable)?
        .as_ref()
        .map(checkpoint)
        .transpose()
    }

    async fn checkpoints(
        &self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<CheckpointRecord>, StoreError> {
        sqlx::query(
            "SELECT size, root, note, at FROM ledger_checkpoints WHERE size > $1 \
             ORDER BY size LIMIT $2",
        )
        .bind(after.map_or(-1, key))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(unavailable)?
        .iter()
        .map(checkpoint)
        .collect()
    }

    async fn add_cosignature(&self, record: &CosignatureRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ledger_cosignatures (size, witness, line, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line, at = excluded.at",
        )
        .bind(key(record.size))
        .bind(&record.witness)
        .bind(&record.line)
        .bind(record.at)
        .execute(&self.write)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn cosignatures(&self, size: u64) -> Result<Vec<CosignatureRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT size, witness, line, at FROM ledger_cosignatures WHERE size = $1 \
             ORDER BY witness",
        )
        .bind(key(size))
        .fetch_all(&self.read)
        .await
        .map_err(unavailable)?;
        rows.iter()
            .map(|row| {
                let size: i64 = column(row, COSIGNATURES, "size")?;
                Ok(CosignatureRecord {
                    size: in_range(size, COSIGNATURES, "size")?,
                    witness: column(row, COSIGNATURES, "witness")?,
                    line: column(row, COSIGNATURES, "line")?,
                    at: column(row, COSIGNATURES, "at")?,
                })
            })
            .collect()
    }

    async fn ledger_counts(&self) -> Result<LedgerCounts, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM ledger_leaves) AS leaves, \
                    (SELECT COUNT(*) FROM ledger_nodes) AS nodes, \
                    (SELECT COUNT(*) FROM ledger_checkpoints) AS checkpoints",
        )
        .fetch_one(&self.read)
        .await
        .map_err(unavailable)?;
        let get = |name: &str| -> Result<u64, StoreError> {
            let value: i64 = row.try_get(name).map_err(unavailable)?;
            in_range(value, LEAVES, name)
        };
        Ok(LedgerCounts {
            leaves: get("leaves")?,
            nodes: get("nodes")?,
            checkpoints: get("checkpoints")?,
        })
    }
}
