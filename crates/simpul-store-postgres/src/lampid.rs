//! Reading submissions, queues, service-level samples and statistics counters.
//!
//! Text is ordered `COLLATE "C"` (byte order, as SQLite orders it), so lists come out in
//! the same order whatever collation the database was created with.

use chrono::{DateTime, Utc};
use simpul_domain::KodeWilayah;
use simpul_domain::statistics::Dimension;
use simpul_store::lampid::SUBMISSION_COLUMNS;
use simpul_store::{CounterValue, PendingCount, QueueItem, QueueQuery, ServiceSample, StoreError};
use sqlx::{PgPool, Postgres, QueryBuilder};

use crate::unavailable;

type QueueRow = (
    String,
    String,
    String,
    String,
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

pub(crate) async fn queue(pool: &PgPool, query: &QueueQuery) -> Result<Vec<QueueItem>, StoreError> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT tracking_code, kelurahan, kind, state, version, state_since, submitted_at \
         FROM submissions WHERE state = ",
    );
    sql.push_bind(query.state.clone());
    if let Some(region) = &query.region {
        sql.push(" AND (kelurahan = ")
            .push_bind(region.as_str().to_owned())
            .push(" OR kelurahan LIKE ")
            .push_bind(format!("{region}.%"))
            .push(")");
    }
    sql.push(" ORDER BY state_since, tracking_code COLLATE \"C\" LIMIT ")
        .push_bind(i64::from(query.limit));
    let rows: Vec<QueueRow> = sql
        .build_query_as()
        .fetch_all(pool)
        .await
        .map_err(unavailable)?;
    Ok(rows
        .into_iter()
        .map(
            |(kode_lacak, kelurahan, jenis, status, versi, status_sejak, diajukan)| QueueItem {
                kode_lacak,
                kelurahan,
                jenis,
                status,
                versi,
                status_sejak,
                diajukan,
            },
        )
        .collect())
}

pub(crate) async fn pending(
    pool: &PgPool,
    overdue_before: DateTime<Utc>,
) -> Result<Vec<PendingCount>, StoreError> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT state, kecamatan, COUNT(*), COUNT(*) FILTER (WHERE submitted_at < $1) \
         FROM submissions WHERE state IN ('diajukan', 'diverifikasi') \
         GROUP BY state, kecamatan ORDER BY state COLLATE \"C\", kecamatan COLLATE \"C\"",
    )
    .bind(overdue_before)
    .fetch_all(pool)
    .await
    .map_err(unavailable)?;
    Ok(rows
        .into_iter()
        .map(|(status, kecamatan, jumlah, terlambat)| PendingCount {
            status,
            kecamatan,
            jumlah,
            terlambat,
        })
        .collect())
}

pub(crate) async fn service_samples(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> Result<Vec<ServiceSample>, StoreError> {
    let rows: Vec<(DateTime<Utc>, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT submitted_at, verified_at, registered_at FROM submissions \
         WHERE registered_at IS NOT NULL AND registered_at >= $1 \
         AND submitted_at IS NOT NULL AND verified_at IS NOT NULL",
    )
    .bind(since)
    .fetch_all(pool)
    .await
    .map_err(unavailable)?;
    Ok(rows
        .into_iter()
        .map(|(submitted_at, verified_at, registered_at)| ServiceSample {
            submitted_at,
            verified_at,
            registered_at,
        })
        .collect())
}

/// The non-zero counters of one dimension under `parent`, or of `region` alone.
pub(crate) async fn counters(
    pool: &PgPool,
    parent: String,
    region: Option<&KodeWilayah>,
    dimension: Dimension,
) -> Result<Vec<CounterValue>, StoreError> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT region, key, count FROM counters WHERE count <> 0 AND parent = ",
    );
    sql.push_bind(parent)
        .push(" AND dimension = ")
        .push_bind(dimension.code());
    if let Some(region) = region {
        sql.push(" AND region = ")
            .push_bind(region.as_str().to_owned());
    }
    sql.push(" ORDER BY region COLLATE \"C\", key COLLATE \"C\"");
    let rows: Vec<(String, String, i64)> = sql
        .build_query_as()
        .fetch_all(pool)
        .await
        .map_err(unavailable)?;
    Ok(rows
        .into_iter()
        .map(|(region, key, count)| CounterValue { region, key, count })
        .collect())
}

/// A region's own counters: its row under its parent (empty for a province).
pub(crate) async fn own_counters(
    pool: &PgPool,
    region: &KodeWilayah,
    dimension: Dimension,
) -> Result<Vec<CounterValue>, StoreError> {
    let parent = region.parent().map(String::from).unwrap_or_default();
    counters(pool, parent, Some(region), dimension).await
}

pub(crate) fn submission_select() -> String {
    format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE tracking_code = $1")
}
