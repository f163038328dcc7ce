//! Reading PostgreSQL rows into the shared row shapes of `simpul_store::rows`.
//!
//! The shared shapes hold plain strings and `i64`s; PostgreSQL decodes strictly by type, so
//! the narrower `INTEGER` columns are read as `i32` and widened here, in one place.

use simpul_store::rows::{FamilyRow, RegionRow, ResidentRow, parse_journal_data};
use simpul_store::{JournalEntry, StoreError};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// The family columns in the order every query here selects them.
pub(crate) const FAMILY_COLUMNS: &str = "no_kk, street, rt, rw, kelurahan, head_nik";

/// The region columns in the order every query here selects them.
pub(crate) const REGION_COLUMNS: &str = "code, parent, level, name, name_search";

/// The journal columns; `data` is JSONB, read as text and parsed by serde_json, so sqlx
/// needs no `json` feature.
pub(crate) const JOURNAL_COLUMNS: &str =
    "sequence, event_type, subject, recorded_at, data::text AS data";

pub(crate) fn resident_row(row: &PgRow) -> Result<ResidentRow, sqlx::Error> {
    Ok(ResidentRow {
        nik: row.try_get("nik")?,
        no_kk: row.try_get("no_kk")?,
        full_name: row.try_get("full_name")?,
        sex: row.try_get("sex")?,
        birth_place: row.try_get("birth_place")?,
        birth_date: row.try_get("birth_date")?,
        religion: row.try_get("religion")?,
        marital_status: row.try_get("marital_status")?,
        relationship: row.try_get("relationship")?,
        education: row.try_get("education")?,
        occupation: row.try_get("occupation")?,
        father_name: row.try_get("father_name")?,
        mother_name: row.try_get("mother_name")?,
        citizenship: row.try_get("citizenship")?,
        status: row.try_get("status")?,
        kelurahan: row.try_get("kelurahan")?,
        kecamatan: row.try_get("kecamatan")?,
        position: i64::from(row.try_get::<i32, _>("position")?),
    })
}

pub(crate) fn family_row(row: &PgRow) -> Result<FamilyRow, sqlx::Error> {
    Ok(FamilyRow {
        no_kk: row.try_get("no_kk")?,
        street: row.try_get("street")?,
        rt: i64::from(row.try_get::<i32, _>("rt")?),
        rw: i64::from(row.try_get::<i32, _>("rw")?),
        kelurahan: row.try_get("kelurahan")?,
        head_nik: row.try_get("head_nik")?,
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

pub(crate) fn journal_entry(row: &PgRow) -> Result<JournalEntry, StoreError> {
    let get = |e: sqlx::Error| StoreError::unavailable(e);
    let data: String = row.try_get("data").map_err(get)?;
    let sequence: i64 = row.try_get("sequence").map_err(get)?;
    Ok(JournalEntry {
        sequence: u64::try_from(sequence)
            .map_err(|_| StoreError::Corrupt("negative journal sequence".into()))?,
        event_type: row.try_get("event_type").map_err(get)?,
        subject: row.try_get("subject").map_err(get)?,
        recorded_at: row.try_get("recorded_at").map_err(get)?,
        data: parse_journal_data(&data)?,
    })
}
