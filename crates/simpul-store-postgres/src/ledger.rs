//! [`LedgerStore`] on PostgreSQL: leaves, Merkle nodes, checkpoints and cosignatures.
//!
//! Appends insert whole batches through `UNNEST` arrays. Two sealers (two hubs on one
//! database) cannot both extend the log: the leaf index is the primary key, so the slower
//! one's insert violates it and becomes `Conflict`.

use std::collections::HashMap;

use async_trait::async_trait;
use simpul_ledger::{Hash, NodeId};
use simpul_store::{
    CheckpointRecord, CosignatureRecord, LeafKind, LeafRecord, LedgerCounts, LedgerStore,
    LedgerTip, StoreError,
};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::{PostgresStore, unavailable};

fn key(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn get<'r, T>(row: &'r PgRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(name).map_err(unavailable)
}

fn count(row: &PgRow, name: &str) -> Result<u64, StoreError> {
    let value: i64 = get(row, name)?;
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("ledger {name} is negative")))
}

fn hash(row: &PgRow, name: &str) -> Result<Hash, StoreError> {
    let bytes: Vec<u8> = get(row, name)?;
    Hash::from_slice(&bytes)
        .map_err(|_| StoreError::Corrupt(format!("ledger {name} is not a 32-byte hash")))
}

fn leaf(row: &PgRow) -> Result<LeafRecord, StoreError> {
    let kind: String = get(row, "kind")?;
    Ok(LeafRecord {
        index: count(row, "leaf_index")?,
        kind: LeafKind::from_code(&kind)
            .ok_or_else(|| StoreError::Corrupt("ledger_leaves.kind is not a leaf kind".into()))?,
        sequence: count(row, "sequence")?,
        digest: hash(row, "digest")?,
    })
}

fn checkpoint(row: &PgRow) -> Result<CheckpointRecord, StoreError> {
    Ok(CheckpointRecord {
        size: count(row, "size")?,
        root: hash(row, "root")?,
        note: get(row, "note")?,
        at: get(row, "at")?,
    })
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("23505"))
}

#[async_trait]
impl LedgerStore for PostgresStore {
    async fn ledger_tip(&self) -> Result<LedgerTip, StoreError> {
        let row = sqlx::query(
            "SELECT \
               (SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger_leaves) AS size, \
               (SELECT COALESCE(MAX(sequence), 0) FROM ledger_leaves WHERE kind = 'journal') AS journal, \
               (SELECT COALESCE(MAX(sequence), 0) FROM ledger_leaves WHERE kind = 'akses') AS access",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(LedgerTip {
            size: count(&row, "size")?,
            journal: count(&row, "journal")?,
            access: count(&row, "access")?,
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
        let conflict = |error: sqlx::Error| {
            if is_unique_violation(&error) {
                StoreError::Conflict
            } else {
                unavailable(error)
            }
        };
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let size: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger_leaves")
                .fetch_one(&mut *tx)
                .await
                .map_err(unavailable)?;
        if size != key(first.index) {
            return Err(StoreError::Conflict);
        }
        sqlx::query(
            "INSERT INTO ledger_leaves (leaf_index, kind, sequence, digest) \
             SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::BIGINT[], $4::BYTEA[])",
        )
        .bind(leaves.iter().map(|l| key(l.index)).collect::<Vec<_>>())
        .bind(leaves.iter().map(|l| l.kind.code()).collect::<Vec<_>>())
        .bind(leaves.iter().map(|l| key(l.sequence)).collect::<Vec<_>>())
        .bind(
            leaves
                .iter()
                .map(|l| l.digest.as_ref().to_vec())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await
        .map_err(conflict)?;
        sqlx::query(
            "INSERT INTO ledger_nodes (level, node_index, hash) \
             SELECT * FROM UNNEST($1::SMALLINT[], $2::BIGINT[], $3::BYTEA[])",
        )
        .bind(
            nodes
                .iter()
                .map(|(id, _)| i16::from(id.level))
                .collect::<Vec<_>>(),
        )
        .bind(
            nodes
                .iter()
                .map(|(id, _)| key(id.index))
                .collect::<Vec<_>>(),
        )
        .bind(
            nodes
                .iter()
                .map(|(_, h)| h.as_ref().to_vec())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await
        .map_err(conflict)?;
        tx.commit().await.map_err(conflict)
    }

    async fn ledger_nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(
            "SELECT n.level, n.node_index, n.hash FROM ledger_nodes n \
             JOIN UNNEST($1::SMALLINT[], $2::BIGINT[]) AS wanted (level, node_index) \
               ON n.level = wanted.level AND n.node_index = wanted.node_index",
        )
        .bind(ids.iter().map(|id| i16::from(id.level)).collect::<Vec<_>>())
        .bind(ids.iter().map(|id| key(id.index)).collect::<Vec<_>>())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in &rows {
            let level: i16 = get(row, "level")?;
            let level = u8::try_from(level)
                .map_err(|_| StoreError::Corrupt("ledger_nodes.level out of range".into()))?;
            found.insert(
                NodeId::new(level, count(row, "node_index")?),
                hash(row, "hash")?,
            );
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
        .fetch_all(&self.pool)
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
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        index
            .map(|i| {
                u64::try_from(i)
                    .map_err(|_| StoreError::Corrupt("ledger leaf index is negative".into()))
            })
            .transpose()
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
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, StoreError> {
        sqlx::query(
            "SELECT size, root, note, at FROM ledger_checkpoints ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
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
        .fetch_all(&self.pool)
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
        .execute(&self.pool)
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
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter()
            .map(|row| {
                Ok(CosignatureRecord {
                    size: count(row, "size")?,
                    witness: get(row, "witness")?,
                    line: get(row, "line")?,
                    at: get(row, "at")?,
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
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(LedgerCounts {
            leaves: count(&row, "leaves")?,
            nodes: count(&row, "nodes")?,
            checkpoints: count(&row, "checkpoints")?,
        })
    }
}
