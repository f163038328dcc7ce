//! Reading SQLite rows into the shared row shapes of `simpul_store::rows`.

use simpul_store::lampid::SubmissionRow;
use simpul_store::rows::{FamilyRow, RegionRow, ResidentRow, open_journal_data};
use simpul_store::{JournalEntry, StoreError, Vault};
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Row, Sqlite, Type};

pub(crate) fn resident_row(row: &SqliteRow) -> Result<ResidentRow, sqlx::Error> {
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
        position: row.try_get("position")?,
        birth_date_index: row.try_get("birth_date_index")?,
    })
}

pub(crate) fn family_row(row: &SqliteRow) -> Result<FamilyRow, sqlx::Error> {
    Ok(FamilyRow {
        no_kk_index: row.try_get("no_kk_index")?,
        pii: row.try_get("pii")?,
        rt: row.try_get("rt")?,
        rw: row.try_get("rw")?,
        kelurahan: row.try_get("kelurahan")?,
        head_nik_index: row.try_get("head_nik_index")?,
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

pub(crate) fn journal_entry(row: &SqliteRow, vault: &Vault) -> Result<JournalEntry, StoreError> {
    let get = |e: sqlx::Error| StoreError::unavailable(e);
    let data: String = row.try_get("data").map_err(get)?;
    let sequence: i64 = row.try_get("sequence").map_err(get)?;
    Ok(JournalEntry {
        sequence: sequence as u64,
        event_type: row.try_get("event_type").map_err(get)?,
        subject: row.try_get("subject").map_err(get)?,
        recorded_at: row.try_get("recorded_at").map_err(get)?,
        data: open_journal_data(sequence, &data, vault)?,
    })
}

/// One column of an identity or audit row. A value that does not decode into `T` (text in
/// an integer column, a timestamp that is not RFC 3339) is [`StoreError::Corrupt`], named
/// by table and column only: the decoder's message could quote the stored value.
pub(crate) fn column<'r, T>(row: &'r SqliteRow, table: &str, name: &str) -> Result<T, StoreError>
where
    T: Decode<'r, Sqlite> + Type<Sqlite>,
{
    row.try_get(name).map_err(|e| match e {
        sqlx::Error::ColumnDecode { .. } => {
            StoreError::Corrupt(format!("{table}.{name} does not decode"))
        }
        other => StoreError::unavailable(other),
    })
}

/// A stored integer that must fit `T` (a sequence number, an id, a rate limit).
pub(crate) fn in_range<T: TryFrom<i64>>(
    value: i64,
    table: &str,
    name: &str,
) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("{table}.{name} is out of range")))
}

pub(crate) fn submission_row(row: &SqliteRow) -> Result<SubmissionRow, StoreError> {
    const T: &str = "submissions";
    Ok(SubmissionRow {
        tracking_code: column(row, T, "tracking_code")?,
        kelurahan: column(row, T, "kelurahan")?,
        kecamatan: column(row, T, "kecamatan")?,
        kind: column(row, T, "kind")?,
        state: column(row, T, "state")?,
        version: column(row, T, "version")?,
        sealed: column(row, T, "sealed")?,
        idempotency_key: column(row, T, "idempotency_key")?,
        created_at: column(row, T, "created_at")?,
        state_since: column(row, T, "state_since")?,
        submitted_at: column(row, T, "submitted_at")?,
        verified_at: column(row, T, "verified_at")?,
        registered_at: column(row, T, "registered_at")?,
        document: column(row, T, "document")?,
    })
}
