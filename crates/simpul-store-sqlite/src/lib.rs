//! The embedded store: SQLite in WAL mode, in the hub's data directory.
//!
//! Reads go through a pool of connections that run concurrently with the writer (WAL).
//! Writes go through a pool of exactly one connection: SQLite has one writer at a time
//! anyway, and owning it in-process means a transaction never waits on a lock upgrade.
//! `synchronous = FULL` keeps every acknowledged commit through a power cut, not only a
//! process crash (see `../shared/STYLE.md`, Database).
//!
//! # Layout
//! - this file: connection set-up and the `Store` implementation's read side.
//! - [`append`]: the write path (facts, rules, journal, read models in one transaction).
//! - [`rows`]: reading rows into the shared row shapes.

mod append;
mod rows;

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use simpul_domain::verification::VerificationRecord;
use simpul_domain::wilayah::{Region, RegionLevel};
use simpul_domain::{Family, KodeWilayah, Nik, NoKk, RegistryEvent};
use simpul_store::rows::{
    RESIDENT_COLUMNS, RegionRow, VERIFICATION_COLUMNS, VerificationRow, region_search_key,
    verification_map,
};
use simpul_store::{
    AppendReceipt, JournalEntry, Page, RegistryCounts, ResidentQuery, ResidentRecord,
    ResidentSummary, Store, StoreError,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite};

/// Readers allowed at once. Two cores serve the HTTP side too; more readers only queue.
const READ_CONNECTIONS: u32 = 4;
/// How long a statement waits for another process's lock (a `simpul demo` running
/// beside the hub) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Rows per multi-row INSERT: well under SQLite's 32,766 bound parameters.
pub(crate) const INSERT_CHUNK: usize = 500;

/// The SQLite implementation of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::unavailable(error)
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite:` URL and runs migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(unavailable)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(unavailable)?;
        sqlx::migrate!("./migrations")
            .run(&write)
            .await
            .map_err(StoreError::unavailable)?;
        let read = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .connect_with(options.read_only(true))
            .await
            .map_err(unavailable)?;
        Ok(Self { read, write })
    }

    /// Closes both pools, checkpointing the WAL.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

async fn fetch_regions(
    pool: &SqlitePool,
    mut query: QueryBuilder<'_, Sqlite>,
) -> Result<Vec<Region>, StoreError> {
    let rows = query.build().fetch_all(pool).await.map_err(unavailable)?;
    rows.iter()
        .map(|row| rows::region_row(row).map_err(unavailable)?.into_region())
        .collect()
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn load_regions(&self, regions: &[Region]) -> Result<u64, StoreError> {
        let mut tx = self.write.begin().await.map_err(unavailable)?;
        for chunk in regions.chunks(INSERT_CHUNK) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO regions (code, parent, level, name, name_search) ",
            );
            insert.push_values(chunk.iter().map(RegionRow::from_domain), |mut b, row| {
                b.push_bind(row.code)
                    .push_bind(row.parent)
                    .push_bind(row.level)
                    .push_bind(row.name)
                    .push_bind(row.name_search);
            });
            insert.push(" ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_search = excluded.name_search");
            insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(regions.len() as u64)
    }

    async fn region(&self, code: &KodeWilayah) -> Result<Option<Region>, StoreError> {
        let mut query = QueryBuilder::new(
            "SELECT code, parent, level, name, name_search FROM regions WHERE code = ",
        );
        query.push_bind(code.as_str());
        Ok(fetch_regions(&self.read, query).await?.into_iter().next())
    }

    async fn region_children(&self, code: &KodeWilayah) -> Result<Vec<Region>, StoreError> {
        let mut query = QueryBuilder::new(
            "SELECT code, parent, level, name, name_search FROM regions WHERE parent = ",
        );
        query.push_bind(code.as_str()).push(" ORDER BY code");
        fetch_regions(&self.read, query).await
    }

    async fn search_regions(&self, text: &str, limit: u32) -> Result<Vec<Region>, StoreError> {
        let mut query = QueryBuilder::new(
            "SELECT code, parent, level, name, name_search FROM regions WHERE instr(name_search, ",
        );
        query
            .push_bind(region_search_key(text))
            .push(") > 0 ORDER BY length(code), code LIMIT ")
            .push_bind(i64::from(limit));
        fetch_regions(&self.read, query).await
    }

    async fn append(&self, events: &[RegistryEvent]) -> Result<AppendReceipt, StoreError> {
        append::append(&self.write, events).await
    }

    async fn journal_after(&self, after: u64, limit: u32) -> Result<Vec<JournalEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT sequence, event_type, subject, recorded_at, data FROM journal \
             WHERE sequence > $1 ORDER BY sequence LIMIT $2",
        )
        .bind(after as i64)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(unavailable)?;
        rows.iter().map(rows::journal_entry).collect()
    }

    async fn resident(&self, nik: &Nik) -> Result<Option<ResidentRecord>, StoreError> {
        let sql = format!("SELECT {RESIDENT_COLUMNS} FROM residents WHERE nik = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(nik.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let resident = rows::resident_row(&row)
            .map_err(unavailable)?
            .into_resident()?;
        let family = sqlx::query(
            "SELECT no_kk, street, rt, rw, kelurahan, head_nik FROM families WHERE no_kk = $1",
        )
        .bind(resident.no_kk.as_str())
        .fetch_optional(&self.read)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| StoreError::Corrupt("resident without family".into()))?;
        let address = rows::family_row(&family)
            .map_err(unavailable)?
            .into_address()?;
        Ok(Some(ResidentRecord { resident, address }))
    }

    async fn family(&self, no_kk: &NoKk) -> Result<Option<Family>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT no_kk, street, rt, rw, kelurahan, head_nik FROM families WHERE no_kk = $1",
        )
        .bind(no_kk.as_str())
        .fetch_optional(&self.read)
        .await
        .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let address = rows::family_row(&row)
            .map_err(unavailable)?
            .into_address()?;
        let sql = format!(
            "SELECT {RESIDENT_COLUMNS} FROM residents WHERE no_kk = $1 AND status = 'hidup' ORDER BY position"
        );
        let members = sqlx::query(&sql)
            .bind(no_kk.as_str())
            .fetch_all(&self.read)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|row| {
                rows::resident_row(row)
                    .map_err(unavailable)?
                    .into_resident()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Family {
            no_kk: no_kk.clone(),
            address,
            members,
        }))
    }

    async fn search_residents(
        &self,
        query: &ResidentQuery,
    ) -> Result<Page<ResidentSummary>, StoreError> {
        let filtered = |select: &str| {
            let mut builder = QueryBuilder::<Sqlite>::new(select);
            builder.push(" FROM residents WHERE 1 = 1");
            if !query.name_tokens.is_empty() {
                builder.push(" AND nik IN (SELECT nik FROM resident_name_tokens WHERE token IN (");
                let mut list = builder.separated(", ");
                for token in &query.name_tokens {
                    list.push_bind(token.clone());
                }
                builder
                    .push(") GROUP BY nik HAVING COUNT(*) = ")
                    .push_bind(query.name_tokens.len() as i64)
                    .push(")");
            }
            if let Some(date) = query.birth_date {
                builder.push(" AND birth_date = ").push_bind(date);
            }
            if let Some(region) = &query.region {
                match region.level() {
                    RegionLevel::KelurahanDesa => builder
                        .push(" AND kelurahan = ")
                        .push_bind(region.as_str().to_owned()),
                    RegionLevel::Kecamatan => builder
                        .push(" AND kecamatan = ")
                        .push_bind(region.as_str().to_owned()),
                    _ => builder
                        .push(" AND kecamatan LIKE ")
                        .push_bind(format!("{region}.%")),
                };
            }
            builder
        };
        let total: i64 = filtered("SELECT COUNT(*)")
            .build_query_scalar()
            .fetch_one(&self.read)
            .await
            .map_err(unavailable)?;
        let mut select = filtered(&format!("SELECT {RESIDENT_COLUMNS}"));
        select
            .push(" ORDER BY nik LIMIT ")
            .push_bind(i64::from(query.limit))
            .push(" OFFSET ")
            .push_bind(query.offset as i64);
        let items = select
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|row| rows::resident_row(row).map_err(unavailable)?.into_summary())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            total: total as u64,
            items,
        })
    }

    async fn verification_records(
        &self,
        niks: &[Nik],
    ) -> Result<HashMap<Nik, VerificationRecord>, StoreError> {
        if niks.is_empty() {
            return Ok(HashMap::new());
        }
        let keys = serde_json::to_string(&niks.iter().map(Nik::as_str).collect::<Vec<_>>())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // One JSON value for the whole batch: sqlx hands SQLite rows across threads one at a
        // time, which dominated the cost of a 10,000-claim batch.
        let sql = format!(
            "SELECT json_group_array(json_array({VERIFICATION_COLUMNS})) FROM residents \
             WHERE nik IN (SELECT value FROM json_each($1))"
        );
        let packed: String = sqlx::query_scalar(&sql)
            .bind(keys)
            .fetch_one(&self.read)
            .await
            .map_err(unavailable)?;
        let rows: Vec<VerificationRow> = serde_json::from_str(&packed)
            .map_err(|e| StoreError::Corrupt(format!("{:?}", e.classify())))?;
        verification_map(niks, rows)
    }

    async fn counts(&self) -> Result<RegistryCounts, StoreError> {
        let (regions, residents, families, journal): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM regions), (SELECT COUNT(*) FROM residents), \
             (SELECT COUNT(*) FROM families), (SELECT COALESCE(MAX(sequence), 0) FROM journal)",
        )
        .fetch_one(&self.read)
        .await
        .map_err(unavailable)?;
        Ok(RegistryCounts {
            regions: regions as u64,
            residents: residents as u64,
            families: families as u64,
            journal: journal as u64,
        })
    }
}
