//! Reading submissions, queues, service-level samples and statistics counters.

use chrono::{DateTime, Utc};
use simpul_domain::KodeWilayah;
use simpul_domain::statistics::Dimension;
use simpul_store::lampid::SUBMISSION_COLUMNS;
use simpul_store::{CounterValue, PendingCount, QueueItem, QueueQuery, ServiceSample, StoreError};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::unavailable;

/// A queue line as selected: code, kelurahan, kind, state, version, state since, submitted.
type QueueRow = (
    String,
    String,
    String,
    String,
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

pub(crate) async fn queue(
    pool: &SqlitePool,
    query: &QueueQuery,
) -> Result<Vec<QueueItem>, StoreError> {
    let mut sql = QueryBuilder::<Sqlite>::new(
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
    sql.push(" ORDER BY state_since, tracking_code LIMIT ")
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
    pool: &SqlitePool,
    overdue_before: DateTime<Utc>,
) -> Result<Vec<PendingCount>, StoreError> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT state, kecamatan, COUNT(*), \
         COALESCE(SUM(submitted_at IS NOT NULL AND submitted_at < $1), 0) \
         FROM submissions WHERE state IN ('diajukan', 'diverifikasi') \
         GROUP BY state, kecamatan ORDER BY state, kecamatan",
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
    pool: &SqlitePool,
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

fn parent_of(region: &KodeWilayah) -> String {
    region.parent().map(String::from).unwrap_or_default()
}

pub(crate) async fn counters(
    pool: &SqlitePool,
    parent: String,
    region: Option<&KodeWilayah>,
    dimension: Dimension,
) -> Result<Vec<CounterValue>, StoreError> {
    // One JSON value for all rows: sqlx hands SQLite rows across threads one at a time,
    // which cost more than the query for the thousands of age counters of a city.
    let mut sql = QueryBuilder::<Sqlite>::new(
        "SELECT json_group_array(json_array(region, key, count)) FROM (\
         SELECT region, key, count FROM counters WHERE count <> 0 AND parent = ",
    );
    sql.push_bind(parent)
        .push(" AND dimension = ")
        .push_bind(dimension.code());
    if let Some(region) = region {
        sql.push(" AND region = ")
            .push_bind(region.as_str().to_owned());
    }
    sql.push(" ORDER BY region, key)");
    let packed: String = sql
        .build_query_scalar()
        .fetch_one(pool)
        .await
        .map_err(unavailable)?;
    let rows: Vec<(String, String, i64)> = serde_json::from_str(&packed)
        .map_err(|e| StoreError::Corrupt(format!("counters: {:?}", e.classify())))?;
    Ok(rows
        .into_iter()
        .map(|(region, key, count)| CounterValue { region, key, count })
        .collect())
}

pub(crate) async fn own_counters(
    pool: &SqlitePool,
    region: &KodeWilayah,
    dimension: Dimension,
) -> Result<Vec<CounterValue>, StoreError> {
    counters(pool, parent_of(region), Some(region), dimension).await
}

pub(crate) fn submission_select() -> String {
    format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE tracking_code = $1")
}
