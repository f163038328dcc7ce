//! Reading SQLite rows into the shared row shapes of `simpul_store::rows`.

use simpul_store::rows::{FamilyRow, RegionRow, ResidentRow, parse_journal_data};
use simpul_store::{JournalEntry, StoreError};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

pub(crate) fn resident_row(row: &SqliteRow) -> Result<ResidentRow, sqlx::Error> {
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
        position: row.try_get("position")?,
    })
}

pub(crate) fn family_row(row: &SqliteRow) -> Result<FamilyRow, sqlx::Error> {
    Ok(FamilyRow {
        no_kk: row.try_get("no_kk")?,
        street: row.try_get("street")?,
        rt: row.try_get("rt")?,
        rw: row.try_get("rw")?,
        kelurahan: row.try_get("kelurahan")?,
        head_nik: row.try_get("head_nik")?,
    })
}

pub(crate) fn region_row(row: &SqliteRow) -> Result<RegionRow, sqlx::Error> {
    Ok(RegionRow {
        code: row.try_get("code")?,
        parent: row.try_get("parent")?,
        level: row.try_get("level")?,
        name: row.try_get("name")?,
        name_search: row.try_get("name_search")?,
    })
}

pub(crate) fn journal_entry(row: &SqliteRow) -> Result<JournalEntry, StoreError> {
    let get = |e: sqlx::Error| StoreError::unavailable(e);
    let data: String = row.try_get("data").map_err(get)?;
    Ok(JournalEntry {
        sequence: row.try_get::<i64, _>("sequence").map_err(get)? as u64,
        event_type: row.try_get("event_type").map_err(get)?,
        subject: row.try_get("subject").map_err(get)?,
        recorded_at: row.try_get("recorded_at").map_err(get)?,
        data: parse_journal_data(&data)?,
    })
}
