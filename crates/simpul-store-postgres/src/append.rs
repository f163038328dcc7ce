//! The write path: check events against facts read in the transaction, journal them, and
//! apply them to the read models, all in one commit.
//!
//! Concurrent writers are serialised by a transaction-scoped advisory lock taken first:
//! the facts the rules see, the next journal sequence (`MAX + 1`), and the writes all
//! happen while no other append can run, so sequences are gap-free and totally ordered,
//! and the lock is released by the commit or rollback itself, never leaked.
//!
//! Rows arrive sealed and blinded from `simpul_store::decide` (through the [`Vault`]); this
//! module only moves them. Every insert is one `INSERT ... SELECT FROM UNNEST(arrays)`: one
//! bound array per column, so a batch of any size is one statement, far from PostgreSQL's
//! 65,535-parameter limit.

use chrono::{DateTime, Utc};
use simpul_domain::{EventFacts, RegistryEvent};
use simpul_store::decide::{FactLookup, check_in_order, journal_rows, read_model_rows, receipt};
use simpul_store::rows::{FAMILY_COLUMNS, FamilyRow, RESIDENT_COLUMNS, ResidentRow};
use simpul_store::{AppendReceipt, StoreError, Vault};
use sqlx::{PgConnection, PgPool};

// A unique-key failure after the rules passed means another writer got there first (one
// that bypassed the advisory lock, since appends holding it never race each other).
use crate::{constraint_or_unavailable, unavailable};

/// The advisory lock key every append takes ("simpul" in ASCII). Advisory keys are global
/// to the database, so a fixed, recognisable value keeps clear of other users' keys.
const APPEND_LOCK: i64 = 0x7369_6d70_756c;

pub(crate) async fn append(
    pool: &PgPool,
    vault: &Vault,
    events: &[RegistryEvent],
) -> Result<AppendReceipt, StoreError> {
    if events.is_empty() {
        return Ok(receipt(1, 0));
    }
    let mut tx = pool.begin().await.map_err(unavailable)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPEND_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    let facts = read_facts(&mut tx, events, vault).await?;
    check_in_order(events, facts, simpul_domain::today())?;
    // Read after the lock: under READ COMMITTED each statement sees every append that
    // committed before ours took the lock.
    let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(sequence), 0) + 1 FROM journal")
        .fetch_one(&mut *tx)
        .await
        .map_err(unavailable)?;
    write_journal(&mut tx, first, events, vault).await?;
    apply(&mut tx, events, vault).await?;
    tx.commit().await.map_err(constraint_or_unavailable)?;
    let first = u64::try_from(first)
        .map_err(|_| StoreError::Corrupt("negative journal sequence".into()))?;
    Ok(receipt(first, events.len()))
}

async fn read_facts(
    conn: &mut PgConnection,
    events: &[RegistryEvent],
    vault: &Vault,
) -> Result<EventFacts, StoreError> {
    let lookup = FactLookup::for_events(events, vault);
    let living: Vec<String> = sqlx::query_scalar(
        "SELECT nik_index FROM residents WHERE status = 'hidup' AND nik_index = ANY($1)",
    )
    .bind(&lookup.nik_indexes)
    .fetch_all(&mut *conn)
    .await
    .map_err(unavailable)?;
    let existing: Vec<String> =
        sqlx::query_scalar("SELECT no_kk_index FROM families WHERE no_kk_index = ANY($1)")
            .bind(&lookup.no_kk_indexes)
            .fetch_all(&mut *conn)
            .await
            .map_err(unavailable)?;
    lookup.facts(&living, &existing)
}

async fn write_journal(
    conn: &mut PgConnection,
    first: i64,
    events: &[RegistryEvent],
    vault: &Vault,
) -> Result<(), StoreError> {
    let recorded_at: DateTime<Utc> = Utc::now();
    let rows = journal_rows(first, events, vault)?;
    sqlx::query(
        "INSERT INTO journal (sequence, event_type, subject, recorded_at, data) \
         SELECT sequence, event_type, subject, $4, data \
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $5::text[]) \
           AS e(sequence, event_type, subject, data)",
    )
    .bind(column(&rows, |r| r.sequence))
    .bind(column(&rows, |r| r.event_type))
    .bind(column(&rows, |r| r.subject.as_str()))
    .bind(recorded_at)
    .bind(column(&rows, |r| r.data.as_str()))
    .execute(&mut *conn)
    .await
    .map_err(constraint_or_unavailable)?;
    Ok(())
}

async fn apply(
    conn: &mut PgConnection,
    events: &[RegistryEvent],
    vault: &Vault,
) -> Result<(), StoreError> {
    let rows = read_model_rows(events, vault)?;
    insert_families(conn, &rows.families).await?;
    insert_residents(conn, &rows.residents).await?;
    insert_name_tokens(conn, &rows.name_tokens).await
}

/// One array per column of `rows`, for binding to `UNNEST`.
fn column<'a, T: 'a, U>(rows: &'a [T], field: impl Fn(&'a T) -> U) -> Vec<U> {
    rows.iter().map(field).collect()
}

async fn insert_families(conn: &mut PgConnection, rows: &[FamilyRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    // The array types follow FAMILY_COLUMNS' order; bigint RT/RW narrow to the INTEGER
    // columns on assignment, and their CHECKs refuse anything beyond u16.
    let sql = format!(
        "INSERT INTO families ({FAMILY_COLUMNS}) SELECT * FROM UNNEST(\
         $1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[])"
    );
    sqlx::query(&sql)
        .bind(column(rows, |f| f.no_kk_index.as_str()))
        .bind(column(rows, |f| f.pii.as_str()))
        .bind(column(rows, |f| f.rt))
        .bind(column(rows, |f| f.rw))
        .bind(column(rows, |f| f.kelurahan.as_str()))
        .bind(column(rows, |f| f.head_nik_index.as_str()))
        .execute(&mut *conn)
        .await
        .map_err(constraint_or_unavailable)?;
    Ok(())
}

async fn insert_residents(conn: &mut PgConnection, rows: &[ResidentRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    // The array types follow RESIDENT_COLUMNS' order.
    let sql = format!(
        "INSERT INTO residents ({RESIDENT_COLUMNS}) SELECT * FROM UNNEST(\
         $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], \
         $14::text[])"
    );
    let text = |field: fn(&ResidentRow) -> &String| column(rows, move |r| field(r).as_str());
    sqlx::query(&sql)
        .bind(text(|r| &r.nik_index))
        .bind(text(|r| &r.no_kk_index))
        .bind(text(|r| &r.pii))
        .bind(text(|r| &r.sex))
        .bind(text(|r| &r.religion))
        .bind(text(|r| &r.marital_status))
        .bind(text(|r| &r.relationship))
        .bind(text(|r| &r.education))
        .bind(text(|r| &r.citizenship))
        .bind(text(|r| &r.status))
        .bind(text(|r| &r.kelurahan))
        .bind(text(|r| &r.kecamatan))
        .bind(column(rows, |r| r.position))
        .bind(text(|r| &r.birth_date_index))
        .execute(&mut *conn)
        .await
        .map_err(constraint_or_unavailable)?;
    Ok(())
}

/// `tokens` are `(name word index, NIK index)` pairs.
async fn insert_name_tokens(
    conn: &mut PgConnection,
    tokens: &[(String, String)],
) -> Result<(), StoreError> {
    if tokens.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO resident_name_tokens (token_index, nik_index) \
         SELECT * FROM UNNEST($1::text[], $2::text[])",
    )
    .bind(column(tokens, |(token, _)| token.as_str()))
    .bind(column(tokens, |(_, nik)| nik.as_str()))
    .execute(&mut *conn)
    .await
    .map_err(constraint_or_unavailable)?;
    Ok(())
}
