//! Key rotation on PostgreSQL: one batch of rows, read in key order after a cursor, sealed
//! again under the active data key, and written back in one short statement.
//!
//! The write is conditional per row (`WHERE key = .. AND sealed = old`): a row an append or
//! another rotation changed since it was read keeps the newer value and is simply not
//! counted, so rotation never needs a lock that would stall the hub's writers.

use simpul_store::{ResealBatch, SealedTable, StoreError, Vault};
use sqlx::{PgPool, Postgres, QueryBuilder};

use crate::unavailable;

pub(crate) async fn reseal(
    pool: &PgPool,
    vault: &Vault,
    table: SealedTable,
    after: Option<String>,
    limit: u32,
) -> Result<ResealBatch, StoreError> {
    let (name, key, sealed) = (table.name(), table.key_column(), table.sealed_column());
    // Rows without a sealed value (an account not yet enrolled) have nothing to rotate.
    let mut select = QueryBuilder::<Postgres>::new(format!(
        "SELECT {key}::text, {sealed} FROM {name} WHERE {sealed} IS NOT NULL"
    ));
    match (&after, table.integer_key()) {
        (None, _) => &mut select,
        // The journal's key compares as a number: "10" sorts after "9".
        (Some(after), true) => select
            .push(format!(" AND {key} > "))
            .push_bind(parse_sequence(after)?),
        (Some(after), false) => select
            .push(format!(" AND {key} > "))
            .push_bind(after.clone()),
    };
    select
        .push(format!(" ORDER BY {key} LIMIT "))
        .push_bind(i64::from(limit));
    let rows: Vec<(String, String)> = select
        .build_query_as()
        .fetch_all(pool)
        .await
        .map_err(unavailable)?;
    let mut keys = Vec::new();
    let mut olds = Vec::new();
    let mut news = Vec::new();
    for (row_key, value) in &rows {
        if vault.needs_rotation(name, sealed, value)? {
            news.push(vault.reseal(name, sealed, row_key, value)?);
            keys.push(row_key.as_str());
            olds.push(value.as_str());
        }
    }
    let mut resealed = 0;
    if !keys.is_empty() {
        // One statement for the batch, so it commits (or not) as a whole. Keys travel as
        // text and are cast back to the column's type, keeping its index usable.
        let cast = if table.integer_key() { "::bigint" } else { "" };
        let update = format!(
            "UPDATE {name} AS t SET {sealed} = u.new \
             FROM UNNEST($1::text[], $2::text[], $3::text[]) AS u(key, old, new) \
             WHERE t.{key} = u.key{cast} AND t.{sealed} = u.old"
        );
        resealed = sqlx::query(&update)
            .bind(&keys)
            .bind(&olds)
            .bind(&news)
            .execute(pool)
            .await
            .map_err(unavailable)?
            .rows_affected();
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
