//! Reading PostgreSQL rows into the shared row shapes of `simpul_store::rows`.
//!
//! The shared shapes hold plain strings and `i64`s; PostgreSQL decodes strictly by type, so
//! the narrower `INTEGER` columns are read as `i32` and widened here, in one place.

use simpul_store::lampid::SubmissionRow;
use simpul_store::rows::{FamilyRow, RegionRow, ResidentRow, open_journal_data};
use simpul_store::{JournalEntry, StoreError, Vault};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// The region columns in the order every query here selects them.
pub(crate) const REGION_COLUMNS: &str = "code, parent, level, name, name_search";

/// The journal columns; `data` is the sealed event, stored as text.
pub(crate) const JOURNAL_COLUMNS: &str = "sequence, event_type, subject, recorded_at, data";

fn widened(row: &PgRow, column: &str) -> Result<i64, sqlx::Error> {
    Ok(i64::from(row.try_get::<i32, _>(column)?))
}

pub(crate) fn resident_row(row: &PgRow) -> Result<ResidentRow, sqlx::Error> {
    Ok(ResidentRow {
        nik_index: row.try_get("nik_index")?,
        no_kk_index: row.try_get("no_kk_index")?,
        pii: row.try_get("pii")?,
        sex: row.try_get("sex")?,
        religion: row.try_get("religion")?,
        marital_status: row.try_get("marital_status")?,
        relationship: row.try_get("relationship")?,
        education: row.try_get("education")?,
        citizenship: row.try_get("citizenship")?,
        status: row.try_get("status")?,
        kelurahan: row.try_get("kelurahan")?,
        kecamatan: row.try_get("kecamatan")?,
        position: widened(row, "position")?,
        birth_date_index: row.try_get("birth_date_index")?,
    })
}

pub(crate) fn family_row(row: &PgRow) -> Result<FamilyRow, sqlx::Error> {
    Ok(FamilyRow {
        no_kk_index: row.try_get("no_kk_index")?,
        pii: row.try_get("pii")?,
        rt: widened(row, "rt")?,
        rw: widened(row, "rw")?,
        kelurahan: row.try_get("kelurahan")?,
        head_nik_index: row.try_get("head_nik_index")?,
    })
}

pub(crate) fn region_row(row: &PgRow) -> Result<RegionRow, sqlx::Error> {
    Ok(RegionRow {
        code: row.try_get("code")?,
        parent: row.try_get("parent")?,
        level: row.try_get("level")?,
        name: row.try_get("name")?,
        name_search: row.try_get("name_search")?,
    })
}

/// One journal row, its sealed event opened with `vault`.
pub(crate) fn journal_entry(row: &PgRow, vault: &Vault) -> Result<JournalEntry, StoreError> {
    let get = |e: sqlx::Error| StoreError::unavailable(e);
    let data: String = row.try_get("data").map_err(get)?;
    let sequence: i64 = row.try_get("sequence").map_err(get)?;
    Ok(JournalEntry {
        sequence: u64::try_from(sequence)
            .map_err(|_| StoreError::Corrupt("negative journal sequence".into()))?,
        event_type: row.try_get("event_type").map_err(get)?,
        subject: row.try_get("subject").map_err(get)?,
        recorded_at: row.try_get("recorded_at").map_err(get)?,
        data: open_journal_data(sequence, &data, vault)?,
    })
}

/// One `submissions` row. A value that does not decode is [`StoreError::Corrupt`], named by
/// column only: the decoder's message could quote the stored value.
pub(crate) fn submission_row(row: &PgRow) -> Result<SubmissionRow, StoreError> {
    fn get<'r, T>(row: &'r PgRow, name: &str) -> Result<T, StoreError>
    where
        T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        row.try_get(name).map_err(|e| match e {
            sqlx::Error::ColumnDecode { .. } => {
                StoreError::Corrupt(format!("submissions.{name} does not decode"))
            }
            other => StoreError::unavailable(other),
        })
    }
    Ok(SubmissionRow {
        tracking_code: get(row, "tracking_code")?,
        kelurahan: get(row, "kelurahan")?,
        kecamatan: get(row, "kecamatan")?,
        kind: get(row, "kind")?,
        state: get(row, "state")?,
        version: get(row, "version")?,
        sealed: get(row, "sealed")?,
        idempotency_key: get(row, "idempotency_key")?,
        created_at: get(row, "created_at")?,
        state_since: get(row, "state_since")?,
        submitted_at: get(row, "submitted_at")?,
        verified_at: get(row, "verified_at")?,
        registered_at: get(row, "registered_at")?,
        document: get(row, "document")?,
    })
}
