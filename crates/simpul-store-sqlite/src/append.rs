//! The write path: check events against facts read in the transaction, journal them, and
//! apply them to the read models, all in one commit.

use chrono::Utc;
use simpul_domain::{EventFacts, RegistryEvent};
use simpul_store::decide::{FactLookup, check_in_order, journal_rows, read_model_rows, receipt};
use simpul_store::rows::{FAMILY_COLUMNS, FamilyRow, RESIDENT_COLUMNS, ResidentRow};
use simpul_store::{AppendReceipt, StoreError, Vault};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::{INSERT_CHUNK, unavailable};

pub(crate) async fn append(
    pool: &SqlitePool,
    vault: &Vault,
    events: &[RegistryEvent],
) -> Result<AppendReceipt, StoreError> {
    if events.is_empty() {
        return Ok(receipt(1, 0));
    }
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(unavailable)?;
    let facts = read_facts(&mut tx, events, vault).await?;
    check_in_order(events, facts, simpul_domain::today())?;
    let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(sequence), 0) + 1 FROM journal")
        .fetch_one(&mut *tx)
        .await
        .map_err(unavailable)?;
    write_journal(&mut tx, first, events, vault).await?;
    apply(&mut tx, events, vault).await?;
    tx.commit().await.map_err(unavailable)?;
    Ok(receipt(first as u64, events.len()))
}

pub(crate) fn json_list<'a>(keys: impl Iterator<Item = &'a str>) -> Result<String, StoreError> {
    serde_json::to_string(&keys.collect::<Vec<_>>()).map_err(|e| StoreError::Corrupt(e.to_string()))
}

async fn read_facts(
    conn: &mut SqliteConnection,
    events: &[RegistryEvent],
    vault: &Vault,
) -> Result<EventFacts, StoreError> {
    let lookup = FactLookup::for_events(events, vault);
    let living: Vec<String> = sqlx::query_scalar(
        "SELECT nik_index FROM residents WHERE status = 'hidup' \
         AND nik_index IN (SELECT value FROM json_each($1))",
    )
    .bind(json_list(lookup.nik_indexes.iter().map(String::as_str))?)
    .fetch_all(&mut *conn)
    .await
    .map_err(unavailable)?;
    let existing: Vec<String> = sqlx::query_scalar(
        "SELECT no_kk_index FROM families WHERE no_kk_index IN (SELECT value FROM json_each($1))",
    )
    .bind(json_list(lookup.no_kk_indexes.iter().map(String::as_str))?)
    .fetch_all(&mut *conn)
    .await
    .map_err(unavailable)?;
    lookup.facts(&living, &existing)
}

async fn write_journal(
    conn: &mut SqliteConnection,
    first: i64,
    events: &[RegistryEvent],
    vault: &Vault,
) -> Result<(), StoreError> {
    let recorded_at = Utc::now();
    let rows = journal_rows(first, events, vault)?;
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO journal (sequence, event_type, subject, recorded_at, data) ",
        );
        insert.push_values(chunk, |mut b, row| {
            b.push_bind(row.sequence)
                .push_bind(row.event_type)
                .push_bind(&row.subject)
                .push_bind(recorded_at)
                .push_bind(&row.data);
        });
        insert
            .build()
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

async fn apply(
    conn: &mut SqliteConnection,
    events: &[RegistryEvent],
    vault: &Vault,
) -> Result<(), StoreError> {
    let rows = read_model_rows(events, vault)?;
    insert_families(conn, &rows.families).await?;
    insert_residents(conn, &rows.residents).await?;
    insert_name_tokens(conn, &rows.name_tokens).await
}

async fn insert_families(
    conn: &mut SqliteConnection,
    families: &[FamilyRow],
) -> Result<(), StoreError> {
    for chunk in families.chunks(INSERT_CHUNK) {
        let mut insert =
            QueryBuilder::<Sqlite>::new(format!("INSERT INTO families ({FAMILY_COLUMNS}) "));
        insert.push_values(chunk, |mut b, f| {
            b.push_bind(&f.no_kk_index)
                .push_bind(&f.pii)
                .push_bind(f.rt)
                .push_bind(f.rw)
                .push_bind(&f.kelurahan)
                .push_bind(&f.head_nik_index);
        });
        insert
            .build()
            .execute(&mut *conn)
            .await
            .map_err(constraint_or_unavailable)?;
    }
    Ok(())
}

async fn insert_residents(
    conn: &mut SqliteConnection,
    residents: &[ResidentRow],
) -> Result<(), StoreError> {
    // 14 columns a row keeps each statement under SQLite's bound-parameter limit.
    for chunk in residents.chunks(INSERT_CHUNK) {
        let mut insert =
            QueryBuilder::<Sqlite>::new(format!("INSERT INTO residents ({RESIDENT_COLUMNS}) "));
        insert.push_values(chunk, |mut b, r| {
            b.push_bind(&r.nik_index)
                .push_bind(&r.no_kk_index)
                .push_bind(&r.pii)
                .push_bind(&r.sex)
                .push_bind(&r.religion)
                .push_bind(&r.marital_status)
                .push_bind(&r.relationship)
                .push_bind(&r.education)
                .push_bind(&r.citizenship)
                .push_bind(&r.status)
                .push_bind(&r.kelurahan)
                .push_bind(&r.kecamatan)
                .push_bind(r.position)
                .push_bind(&r.birth_date_index);
        });
        insert
            .build()
            .execute(&mut *conn)
            .await
            .map_err(constraint_or_unavailable)?;
    }
    Ok(())
}

async fn insert_name_tokens(
    conn: &mut SqliteConnection,
    tokens: &[(String, String)],
) -> Result<(), StoreError> {
    for chunk in tokens.chunks(INSERT_CHUNK) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO resident_name_tokens (token_index, nik_index) ",
        );
        insert.push_values(chunk, |mut b, (token, nik)| {
            b.push_bind(token).push_bind(nik);
        });
        insert
            .build()
            .execute(&mut *conn)
            .await
            .map_err(constraint_or_unavailable)?;
    }
    Ok(())
}

/// A unique-key failure after the rules passed means another writer got there first.
pub(crate) fn constraint_or_unavailable(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        _ => unavailable(error),
    }
}
