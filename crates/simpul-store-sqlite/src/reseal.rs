//! Key rotation on SQLite: one batch of rows, read in key order, sealed again under the
//! active data key, and written back in one short transaction.

use simpul_store::{ResealBatch, SealedTable, StoreError, Vault};
use sqlx::SqlitePool;

use crate::unavailable;

pub(crate) async fn reseal(
    pool: &SqlitePool,
    vault: &Vault,
    table: SealedTable,
    after: Option<String>,
    limit: u32,
) -> Result<ResealBatch, StoreError> {
    let (name, key, sealed) = (table.name(), table.key_column(), table.sealed_column());
    // Rows without a sealed value (an account not yet enrolled) have nothing to rotate.
    let filter = if after.is_some() {
        format!("WHERE {key} > $1 AND {sealed} IS NOT NULL")
    } else {
        format!("WHERE $1 IS NULL AND {sealed} IS NOT NULL")
    };
    let sql = format!(
        "SELECT CAST({key} AS TEXT), {sealed} FROM {name} {filter} ORDER BY {key} LIMIT $2"
    );
    let query = sqlx::query_as::<_, (String, String)>(&sql);
    let query = match (&after, table.integer_key()) {
        (Some(after), true) => query.bind(parse_sequence(after)?),
        (after, _) => query.bind(after.clone()),
    };
    let rows = query
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(unavailable)?;
    let mut changes = Vec::new();
    for (row_key, value) in &rows {
        if vault.needs_rotation(name, sealed, value)? {
            changes.push((row_key, value, vault.reseal(name, sealed, row_key, value)?));
        }
    }
    let mut resealed = 0;
    if !changes.is_empty() {
        let mut tx = pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(unavailable)?;
        let update = format!("UPDATE {name} SET {sealed} = $1 WHERE {key} = $2 AND {sealed} = $3");
        for (row_key, old, new) in &changes {
            let query = sqlx::query(&update).bind(new);
            let query = if table.integer_key() {
                query.bind(parse_sequence(row_key)?)
            } else {
                query.bind(row_key.as_str())
            };
            resealed += query
                .bind(old.as_str())
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?
                .rows_affected();
        }
        tx.commit().await.map_err(unavailable)?;
    }
    Ok(ResealBatch {
        examined: rows.len() as u64,
        resealed,
        last: if rows.len() < limit as usize {
            None
        } else {
            rows.last().map(|(k, _)| k.clone())
        },
    })
}

fn parse_sequence(text: &str) -> Result<i64, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt("journal cursor is not a number".into()))
}
