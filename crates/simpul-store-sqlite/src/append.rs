//! The write path's row reads and writes on SQLite ([`RegistryTx`] over the writer's open
//! transaction). What an event means is decided in `simpul_store::write`; this file only
//! moves rows.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use simpul_store::StoreError;
use simpul_store::decide::JournalRow;
use simpul_store::lampid::{CounterRow, DocumentRow, SUBMISSION_COLUMNS, SubmissionRow};
use simpul_store::rows::{FAMILY_COLUMNS, FamilyRow, RESIDENT_COLUMNS, ResidentRow};
use simpul_store::write::RegistryTx;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::{INSERT_CHUNK, rows, unavailable};

/// The writer's open transaction, as the shared write path sees it.
pub(crate) struct SqliteTx<'c>(pub(crate) &'c mut SqliteConnection);

pub(crate) fn json_list<'a>(keys: impl Iterator<Item = &'a str>) -> Result<String, StoreError> {
    serde_json::to_string(&keys.collect::<Vec<_>>()).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn keys(list: &[String]) -> Result<String, StoreError> {
    json_list(list.iter().map(String::as_str))
}

#[async_trait]
impl RegistryTx for SqliteTx<'_> {
    async fn residents(&mut self, nik_indexes: &[String]) -> Result<Vec<ResidentRow>, StoreError> {
        let sql = format!(
            "SELECT {RESIDENT_COLUMNS} FROM residents \
             WHERE nik_index IN (SELECT value FROM json_each($1))"
        );
        sqlx::query(&sql)
            .bind(keys(nik_indexes)?)
            .fetch_all(&mut *self.0)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|r| rows::resident_row(r).map_err(unavailable))
            .collect()
    }

    async fn families(&mut self, no_kk_indexes: &[String]) -> Result<Vec<FamilyRow>, StoreError> {
        let sql = format!(
            "SELECT {FAMILY_COLUMNS} FROM families \
             WHERE no_kk_index IN (SELECT value FROM json_each($1))"
        );
        sqlx::query(&sql)
            .bind(keys(no_kk_indexes)?)
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
        let sql = format!(
            "SELECT {RESIDENT_COLUMNS} FROM residents \
             WHERE no_kk_index IN (SELECT value FROM json_each($1)) AND status = 'hidup' \
             ORDER BY no_kk_index, position"
        );
        sqlx::query(&sql)
            .bind(keys(no_kk_indexes)?)
            .fetch_all(&mut *self.0)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|r| rows::resident_row(r).map_err(unavailable))
            .collect()
    }

    async fn known_regions(&mut self, codes: &[String]) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT code FROM regions WHERE code IN (SELECT value FROM json_each($1))",
        )
        .bind(keys(codes)?)
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
                .execute(&mut *self.0)
                .await
                .map_err(constraint_or_unavailable)?;
        }
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
        for chunk in families.chunks(INSERT_CHUNK) {
            let mut insert = QueryBuilder::<Sqlite>::new(format!(
                "INSERT OR REPLACE INTO families ({FAMILY_COLUMNS}) "
            ));
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
                .execute(&mut *self.0)
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    async fn put_residents(&mut self, residents: &[ResidentRow]) -> Result<(), StoreError> {
        // 14 columns a row keeps each statement under SQLite's bound-parameter limit.
        for chunk in residents.chunks(INSERT_CHUNK) {
            let mut insert = QueryBuilder::<Sqlite>::new(format!(
                "INSERT OR REPLACE INTO residents ({RESIDENT_COLUMNS}) "
            ));
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
                .execute(&mut *self.0)
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    async fn add_name_tokens(&mut self, pairs: &[(String, String)]) -> Result<(), StoreError> {
        for chunk in pairs.chunks(INSERT_CHUNK) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT OR IGNORE INTO resident_name_tokens (token_index, nik_index) ",
            );
            insert.push_values(chunk, |mut b, (token, nik)| {
                b.push_bind(token).push_bind(nik);
            });
            insert
                .build()
                .execute(&mut *self.0)
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    async fn add_counters(&mut self, counters: &[CounterRow]) -> Result<(), StoreError> {
        for chunk in counters.chunks(INSERT_CHUNK) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO counters (parent, dimension, region, key, count) ",
            );
            insert.push_values(chunk, |mut b, c| {
                b.push_bind(&c.parent)
                    .push_bind(c.dimension)
                    .push_bind(&c.region)
                    .push_bind(&c.key)
                    .push_bind(c.delta);
            });
            insert.push(
                " ON CONFLICT (parent, dimension, region, key) \
                 DO UPDATE SET count = count + excluded.count",
            );
            insert
                .build()
                .execute(&mut *self.0)
                .await
                .map_err(unavailable)?;
        }
        // A counter that falls to zero stays (readers skip it): deleting it would cost a
        // scan or a second statement per counter on every append.
        Ok(())
    }

    async fn submission(
        &mut self,
        tracking_code: &str,
    ) -> Result<Option<SubmissionRow>, StoreError> {
        let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE tracking_code = $1");
        sqlx::query(&sql)
            .bind(tracking_code)
            .fetch_optional(&mut *self.0)
            .await
            .map_err(unavailable)?
            .map(|r| rows::submission_row(&r))
            .transpose()
    }

    async fn submission_by_key(
        &mut self,
        idempotency_key: &str,
    ) -> Result<Option<SubmissionRow>, StoreError> {
        let sql =
            format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE idempotency_key = $1");
        sqlx::query(&sql)
            .bind(idempotency_key)
            .fetch_optional(&mut *self.0)
            .await
            .map_err(unavailable)?
            .map(|r| rows::submission_row(&r))
            .transpose()
    }

    async fn put_submission(&mut self, row: &SubmissionRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT OR REPLACE INTO submissions ({SUBMISSION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
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
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM documents WHERE number = $1")
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
            "INSERT INTO documents (number, kind, tracking_code, issued_at) VALUES ($1, $2, $3, $4)",
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

/// A unique-key failure after the rules passed means another writer got there first.
pub(crate) fn constraint_or_unavailable(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        _ => unavailable(error),
    }
}
