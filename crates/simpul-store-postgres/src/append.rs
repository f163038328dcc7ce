//! The write path's row reads and writes on PostgreSQL ([`RegistryTx`] over an open
//! transaction). What an event means is decided in `simpul_store::write`; this file only
//! moves rows.
//!
//! Concurrent writers are serialised by a transaction-scoped advisory lock taken first (see
//! [`begin`]): the facts the rules see, the next journal sequence (`MAX + 1`), the free
//! NIK, KK and document numbers probed, and the writes all happen while no other writer
//! can run, so sequences are gap-free and numbers unique, and the lock is released by the
//! commit or rollback itself, never leaked.
//!
//! Every multi-row insert is one `INSERT ... SELECT FROM UNNEST(arrays)`: one bound array
//! per column, so a batch of any size is one statement, far from PostgreSQL's
//! 65,535-parameter limit.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use simpul_store::StoreError;
use simpul_store::decide::JournalRow;
use simpul_store::lampid::{CounterRow, DocumentRow, SUBMISSION_COLUMNS, SubmissionRow};
use simpul_store::rows::{FAMILY_COLUMNS, FamilyRow, RESIDENT_COLUMNS, ResidentRow};
use simpul_store::write::RegistryTx;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::{constraint_or_unavailable, rows, unavailable};

/// The advisory lock key every write transaction takes ("simpul" in ASCII). Advisory keys
/// are global to the database, so a fixed, recognisable value keeps clear of other users'.
const APPEND_LOCK: i64 = 0x7369_6d70_756c;

/// Begins a write transaction holding the writers' lock.
///
/// Under READ COMMITTED each later statement sees every write that committed before the
/// lock was granted, so what the write path reads is current for as long as it runs.
pub(crate) async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
    let mut tx = pool.begin().await.map_err(unavailable)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPEND_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    Ok(tx)
}

/// A write transaction (begun with [`begin`]), as the shared write path sees it.
pub(crate) struct PgTx<'c>(pub(crate) &'c mut PgConnection);

/// One array per column of `rows`, for binding to `UNNEST`.
fn column<'a, T: 'a, U>(rows: &'a [T], field: impl Fn(&'a T) -> U) -> Vec<U> {
    rows.iter().map(field).collect()
}

impl PgTx<'_> {
    async fn resident_rows(
        &mut self,
        filter: &str,
        keys: &[String],
    ) -> Result<Vec<ResidentRow>, StoreError> {
        let sql = format!("SELECT {RESIDENT_COLUMNS} FROM residents WHERE {filter}");
        sqlx::query(&sql)
            .bind(keys)
            .fetch_all(&mut *self.0)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|r| rows::resident_row(r).map_err(unavailable))
            .collect()
    }

    async fn submission_where(
        &mut self,
        column: &str,
        value: &str,
    ) -> Result<Option<SubmissionRow>, StoreError> {
        let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE {column} = $1");
        sqlx::query(&sql)
            .bind(value)
            .fetch_optional(&mut *self.0)
            .await
            .map_err(unavailable)?
            .map(|r| rows::submission_row(&r))
            .transpose()
    }
}

#[async_trait]
impl RegistryTx for PgTx<'_> {
    async fn residents(&mut self, nik_indexes: &[String]) -> Result<Vec<ResidentRow>, StoreError> {
        self.resident_rows("nik_index = ANY($1)", nik_indexes).await
    }

    async fn families(&mut self, no_kk_indexes: &[String]) -> Result<Vec<FamilyRow>, StoreError> {
        let sql = format!("SELECT {FAMILY_COLUMNS} FROM families WHERE no_kk_index = ANY($1)");
        sqlx::query(&sql)
            .bind(no_kk_indexes)
            .fetch_all(&mut *self.0)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|r| rows::family_row(r).map_err(unavailable))
            .collect()
    }

    async fn living_members(
        &mut self,
        no_kk_indexes: &[String],
    ) -> Result<Vec<ResidentRow>, StoreError> {
        self.resident_rows(
            "no_kk_index = ANY($1) AND status = 'hidup' ORDER BY no_kk_index, position",
            no_kk_indexes,
        )
        .await
    }

    async fn known_regions(&mut self, codes: &[String]) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar("SELECT code FROM regions WHERE code = ANY($1)")
            .bind(codes)
            .fetch_all(&mut *self.0)
            .await
            .map_err(unavailable)
    }

    async fn last_sequence(&mut self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COALESCE(MAX(sequence), 0) FROM journal")
            .fetch_one(&mut *self.0)
            .await
            .map_err(unavailable)
    }

    async fn insert_journal(
        &mut self,
        rows: &[JournalRow],
        recorded_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO journal (sequence, event_type, subject, recorded_at, data) \
             SELECT sequence, event_type, subject, $4, data \
             FROM UNNEST($1::bigint[], $2::text[], $3::text[], $5::text[]) \
               AS e(sequence, event_type, subject, data)",
        )
        .bind(column(rows, |r| r.sequence))
        .bind(column(rows, |r| r.event_type))
        .bind(column(rows, |r| r.subject.as_str()))
        .bind(recorded_at)
        .bind(column(rows, |r| r.data.as_str()))
        .execute(&mut *self.0)
        .await
        .map_err(constraint_or_unavailable)?;
        Ok(())
    }

    async fn journal_batch(
        &mut self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        sqlx::query_as(
            "SELECT sequence, data FROM journal WHERE sequence > $1 ORDER BY sequence LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.0)
        .await
        .map_err(unavailable)
    }

    async fn put_families(&mut self, families: &[FamilyRow]) -> Result<(), StoreError> {
        if families.is_empty() {
            return Ok(());
        }
        // The array types follow FAMILY_COLUMNS' order; bigint RT/RW narrow to the INTEGER
        // columns on assignment, and their CHECKs refuse anything beyond u16.
        let sql = format!(
            "INSERT INTO families ({FAMILY_COLUMNS}) SELECT * FROM UNNEST(\
             $1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[]) \
             ON CONFLICT (no_kk_index) DO UPDATE SET pii = EXCLUDED.pii, rt = EXCLUDED.rt, \
             rw = EXCLUDED.rw, kelurahan = EXCLUDED.kelurahan, \
             head_nik_index = EXCLUDED.head_nik_index"
        );
        sqlx::query(&sql)
            .bind(column(families, |f| f.no_kk_index.as_str()))
            .bind(column(families, |f| f.pii.as_str()))
            .bind(column(families, |f| f.rt))
            .bind(column(families, |f| f.rw))
            .bind(column(families, |f| f.kelurahan.as_str()))
            .bind(column(families, |f| f.head_nik_index.as_str()))
            .execute(&mut *self.0)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn put_residents(&mut self, residents: &[ResidentRow]) -> Result<(), StoreError> {
        if residents.is_empty() {
            return Ok(());
        }
        // The array types follow RESIDENT_COLUMNS' order.
        let sql = format!(
            "INSERT INTO residents ({RESIDENT_COLUMNS}) SELECT * FROM UNNEST(\
             $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
             $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], \
             $13::bigint[], $14::text[]) \
             ON CONFLICT (nik_index) DO UPDATE SET no_kk_index = EXCLUDED.no_kk_index, \
             pii = EXCLUDED.pii, sex = EXCLUDED.sex, religion = EXCLUDED.religion, \
             marital_status = EXCLUDED.marital_status, relationship = EXCLUDED.relationship, \
             education = EXCLUDED.education, citizenship = EXCLUDED.citizenship, \
             status = EXCLUDED.status, kelurahan = EXCLUDED.kelurahan, \
             kecamatan = EXCLUDED.kecamatan, position = EXCLUDED.position, \
             birth_date_index = EXCLUDED.birth_date_index"
        );
        let text =
            |field: fn(&ResidentRow) -> &String| column(residents, move |r| field(r).as_str());
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
            .bind(column(residents, |r| r.position))
            .bind(text(|r| &r.birth_date_index))
            .execute(&mut *self.0)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn add_name_tokens(&mut self, pairs: &[(String, String)]) -> Result<(), StoreError> {
        if pairs.is_empty() {
            return Ok(());
        }
        // DO NOTHING also absorbs a pair repeated within the batch (a name with a word
        // twice), which DO UPDATE would refuse.
        sqlx::query(
            "INSERT INTO resident_name_tokens (token_index, nik_index) \
             SELECT * FROM UNNEST($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
        )
        .bind(column(pairs, |(token, _)| token.as_str()))
        .bind(column(pairs, |(_, nik)| nik.as_str()))
        .execute(&mut *self.0)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn add_counters(&mut self, counters: &[CounterRow]) -> Result<(), StoreError> {
        if counters.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO counters (parent, dimension, region, key, count) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) \
             ON CONFLICT (parent, dimension, region, key) \
             DO UPDATE SET count = counters.count + EXCLUDED.count",
        )
        .bind(column(counters, |c| c.parent.as_str()))
        .bind(column(counters, |c| c.dimension))
        .bind(column(counters, |c| c.region.as_str()))
        .bind(column(counters, |c| c.key.as_str()))
        .bind(column(counters, |c| c.delta))
        .execute(&mut *self.0)
        .await
        .map_err(unavailable)?;
        // A counter that falls to zero stays (readers skip it): deleting it would cost a
        // second statement on every append.
        Ok(())
    }

    async fn submission(
        &mut self,
        tracking_code: &str,
    ) -> Result<Option<SubmissionRow>, StoreError> {
        self.submission_where("tracking_code", tracking_code).await
    }

    async fn submission_by_key(
        &mut self,
        idempotency_key: &str,
    ) -> Result<Option<SubmissionRow>, StoreError> {
        self.submission_where("idempotency_key", idempotency_key)
            .await
    }

    async fn put_submission(&mut self, row: &SubmissionRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO submissions ({SUBMISSION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (tracking_code) DO UPDATE SET kelurahan = EXCLUDED.kelurahan, \
             kecamatan = EXCLUDED.kecamatan, kind = EXCLUDED.kind, state = EXCLUDED.state, \
             version = EXCLUDED.version, sealed = EXCLUDED.sealed, \
             idempotency_key = EXCLUDED.idempotency_key, created_at = EXCLUDED.created_at, \
             state_since = EXCLUDED.state_since, submitted_at = EXCLUDED.submitted_at, \
             verified_at = EXCLUDED.verified_at, registered_at = EXCLUDED.registered_at, \
             document = EXCLUDED.document"
        );
        sqlx::query(&sql)
            .bind(&row.tracking_code)
            .bind(&row.kelurahan)
            .bind(&row.kecamatan)
            .bind(&row.kind)
            .bind(&row.state)
            .bind(row.version)
            .bind(&row.sealed)
            .bind(&row.idempotency_key)
            .bind(row.created_at)
            .bind(row.state_since)
            .bind(row.submitted_at)
            .bind(row.verified_at)
            .bind(row.registered_at)
            .bind(&row.document)
            .execute(&mut *self.0)
            .await
            .map_err(constraint_or_unavailable)?;
        Ok(())
    }

    async fn document_exists(&mut self, number: &str) -> Result<bool, StoreError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1::BIGINT FROM documents WHERE number = $1")
                .bind(number)
                .fetch_optional(&mut *self.0)
                .await
                .map_err(unavailable)?;
        Ok(found.is_some())
    }

    async fn serial_hint(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT serial FROM serial_hints WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *self.0)
            .await
            .map_err(unavailable)
    }

    async fn set_serial_hint(&mut self, key: &str, serial: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO serial_hints (key, serial) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET serial = excluded.serial",
        )
        .bind(key)
        .bind(serial)
        .execute(&mut *self.0)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn insert_document(&mut self, row: &DocumentRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO documents (number, kind, tracking_code, issued_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&row.number)
        .bind(&row.kind)
        .bind(&row.tracking_code)
        .bind(row.issued_at)
        .execute(&mut *self.0)
        .await
        .map_err(constraint_or_unavailable)?;
        Ok(())
    }

    async fn clear_read_models(&mut self) -> Result<(), StoreError> {
        // DELETE rather than TRUNCATE: TRUNCATE would lock readers out until the rebuild
        // commits, while DELETE lets them keep reading the old rows meanwhile (MVCC).
        for table in [
            "resident_name_tokens",
            "residents",
            "families",
            "counters",
            "submissions",
            "documents",
            "serial_hints",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *self.0)
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }
}
