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
//! - [`append`]: the row reads and writes of the shared write path (`simpul_store::write`).
//! - [`lampid`]: reading submissions, queues, service levels and statistics counters.
//! - [`reseal`]: key rotation, one batch of rows at a time.
//! - [`rows`]: reading rows into the shared row shapes.
//! - [`identity`]: accounts (TOTP secret sealed), sessions, clients, revoked tokens,
//!   agreements.
//! - [`audit`]: the access log with its per-resident index, and alerts.
//! - [`ledger`]: the ledger's leaves, nodes, checkpoints and cosignatures.

mod append;
mod audit;
mod identity;
mod lampid;
mod ledger;
mod reseal;
mod rows;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use simpul_domain::lampid::TrackingCode;
use simpul_domain::statistics::Dimension;
use simpul_domain::verification::VerificationRecord;
use simpul_domain::wilayah::{Region, RegionLevel};
use simpul_domain::{Family, KodeWilayah, Nik, NoKk, RegistryEvent};
use simpul_store::rows::{
    FAMILY_COLUMNS, RESIDENT_COLUMNS, RegionRow, VERIFICATION_COLUMNS, VerificationRow,
    nik_indexes, region_search_key, verification_map,
};
use simpul_store::{
    AppendReceipt, CounterValue, JournalEntry, LampidCommand, LampidOutcome, Page, PendingCount,
    QueueItem, QueueQuery, RegistryCounts, ResealBatch, ResidentQuery, ResidentRecord,
    ResidentSummary, SealedTable, ServiceSample, Store, StoreError, SubmissionRecord, Vault,
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
    /// Moves the WAL into the database file, off the writer's path.
    checkpoint: SqlitePool,
    vault: Arc<Vault>,
}

/// How often the WAL is checkpointed.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints the WAL (PASSIVE: never waits for, nor blocks, readers or the writer) until
/// the pool is closed.
async fn checkpoint_every(pool: SqlitePool, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(%error, "WAL checkpoint failed; retrying");
        }
    }
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::unavailable(error)
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite:` URL, runs migrations, and
    /// checks that `vault`'s blind key is the one that built the database's indexes.
    pub async fn connect(url: &str, vault: Arc<Vault>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(unavailable)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            // After a burst, a WAL that was reset is cut back to 64 MiB rather than kept at
            // its largest size.
            .pragma("journal_size_limit", "67108864")
            .pragma("temp_store", "memory");
        // The writer never checkpoints: a checkpoint copies WAL pages into the database and
        // syncs it, and on the writer that stall would hold up every commit (the access
        // log commits several times a second). A separate connection checkpoints instead.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().pragma("wal_autocheckpoint", "0"))
            .await
            .map_err(unavailable)?;
        sqlx::migrate!("./migrations")
            .run(&write)
            .await
            .map_err(StoreError::unavailable)?;
        check_blind_key(&write, &vault).await?;
        rebuild_if_outdated(&write, &vault).await?;
        let checkpoint = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(unavailable)?;
        tokio::spawn(checkpoint_every(checkpoint.clone(), CHECKPOINT_EVERY));
        let read = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .connect_with(options.read_only(true))
            .await
            .map_err(unavailable)?;
        Ok(Self {
            read,
            write,
            checkpoint,
            vault,
        })
    }

    /// Closes the pools, checkpointing the WAL.
    pub async fn close(&self) {
        self.read.close().await;
        self.checkpoint.close().await;
        self.write.close().await;
    }
}

/// Stamps a new database with the vault's blind key, or refuses one built with another.
async fn check_blind_key(pool: &SqlitePool, vault: &Vault) -> Result<(), StoreError> {
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(unavailable)?;
    let recorded: Vec<(String, String)> = sqlx::query_as(
        "SELECT key, value FROM store_meta WHERE key IN ('blind_key_id', 'blind_key_check') \
         ORDER BY key",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(unavailable)?;
    let get = |name: &str| {
        recorded
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    vault.verify_recorded(get("blind_key_id"), get("blind_key_check"))?;
    if recorded.is_empty() {
        sqlx::query("INSERT INTO store_meta (key, value) VALUES ('blind_key_id', $1), ('blind_key_check', $2)")
            .bind(vault.blind_key_id())
            .bind(vault.blind_key_check())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
    }
    tx.commit().await.map_err(unavailable)
}

/// The read models' layout version: a store whose read models an older version built has
/// them rebuilt from the journal once, when it opens.
const READ_MODELS: &str = "4";

async fn rebuild_if_outdated(pool: &SqlitePool, vault: &Vault) -> Result<(), StoreError> {
    let recorded: Option<String> =
        sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'read_models'")
            .fetch_optional(pool)
            .await
            .map_err(unavailable)?;
    if recorded.as_deref() == Some(READ_MODELS) {
        return Ok(());
    }
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(unavailable)?;
    let replayed = simpul_store::write::rebuild(&mut append::SqliteTx(&mut tx), vault).await?;
    sqlx::query(
        "INSERT INTO store_meta (key, value) VALUES ('read_models', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(READ_MODELS)
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)?;
    if replayed > 0 {
        tracing::info!(
            replayed,
            "read models rebuilt from the journal for this version"
        );
    }
    Ok(())
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
        let mut tx = self
            .write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(unavailable)?;
        let receipt = simpul_store::write::append(
            &mut append::SqliteTx(&mut tx),
            &self.vault,
            events,
            simpul_domain::today(),
        )
        .await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(receipt)
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
        rows.iter()
            .map(|row| rows::journal_entry(row, &self.vault))
            .collect()
    }

    async fn resident(&self, nik: &Nik) -> Result<Option<ResidentRecord>, StoreError> {
        let sql = format!("SELECT {RESIDENT_COLUMNS} FROM residents WHERE nik_index = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(self.vault.nik_index(nik))
            .fetch_optional(&self.read)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let row = rows::resident_row(&row).map_err(unavailable)?;
        let family_index = row.no_kk_index.clone();
        let resident = row.into_resident(&self.vault)?;
        let sql = format!("SELECT {FAMILY_COLUMNS} FROM families WHERE no_kk_index = $1");
        let family = sqlx::query(&sql)
            .bind(family_index)
            .fetch_optional(&self.read)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| StoreError::Corrupt("resident without family".into()))?;
        let address = rows::family_row(&family)
            .map_err(unavailable)?
            .into_address(&self.vault)?;
        Ok(Some(ResidentRecord { resident, address }))
    }

    async fn family(&self, no_kk: &NoKk) -> Result<Option<Family>, StoreError> {
        let index = self.vault.no_kk_index(no_kk);
        let sql = format!("SELECT {FAMILY_COLUMNS} FROM families WHERE no_kk_index = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(&index)
            .fetch_optional(&self.read)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let address = rows::family_row(&row)
            .map_err(unavailable)?
            .into_address(&self.vault)?;
        let sql = format!(
            "SELECT {RESIDENT_COLUMNS} FROM residents \
             WHERE no_kk_index = $1 AND status = 'hidup' ORDER BY position"
        );
        let members = sqlx::query(&sql)
            .bind(&index)
            .fetch_all(&self.read)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|row| {
                rows::resident_row(row)
                    .map_err(unavailable)?
                    .into_resident(&self.vault)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if members.is_empty() {
            return Ok(None);
        }
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
        let tokens = self.vault.name_token_indexes(&query.name_tokens);
        let birth_date = query.birth_date.map(|d| self.vault.birth_date_index(d));
        let filtered = |select: &str| {
            let mut builder = QueryBuilder::<Sqlite>::new(select);
            builder.push(" FROM residents WHERE 1 = 1");
            if !tokens.is_empty() {
                builder.push(
                    " AND nik_index IN (SELECT nik_index FROM resident_name_tokens \
                     WHERE token_index IN (",
                );
                let mut list = builder.separated(", ");
                for token in &tokens {
                    list.push_bind(token.clone());
                }
                builder
                    .push(") GROUP BY nik_index HAVING COUNT(*) = ")
                    .push_bind(tokens.len() as i64)
                    .push(")");
            }
            if let Some(date) = &birth_date {
                builder
                    .push(" AND birth_date_index = ")
                    .push_bind(date.clone());
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
        // The blind index orders pages stably without revealing anything about the order.
        select
            .push(" ORDER BY nik_index LIMIT ")
            .push_bind(i64::from(query.limit))
            .push(" OFFSET ")
            .push_bind(query.offset as i64);
        let items = select
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|row| {
                rows::resident_row(row)
                    .map_err(unavailable)?
                    .into_summary(&self.vault)
            })
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
        let indexes = nik_indexes(niks, &self.vault);
        let keys = append::json_list(indexes.iter().map(String::as_str))?;
        // One JSON value for the whole batch: sqlx hands SQLite rows across threads one at a
        // time, which dominated the cost of a 10,000-claim batch.
        let sql = format!(
            "SELECT json_group_array(json_array({VERIFICATION_COLUMNS})) FROM residents \
             WHERE nik_index IN (SELECT value FROM json_each($1))"
        );
        let packed: String = sqlx::query_scalar(&sql)
            .bind(keys)
            .fetch_one(&self.read)
            .await
            .map_err(unavailable)?;
        let rows: Vec<VerificationRow> = serde_json::from_str(&packed)
            .map_err(|e| StoreError::Corrupt(format!("{:?}", e.classify())))?;
        verification_map(niks, &indexes, rows, &self.vault)
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

    async fn reseal(
        &self,
        table: SealedTable,
        after: Option<String>,
        limit: u32,
    ) -> Result<ResealBatch, StoreError> {
        reseal::reseal(&self.write, &self.vault, table, after, limit).await
    }

    async fn lampid(&self, command: LampidCommand) -> Result<LampidOutcome, StoreError> {
        // A drawn tracking code that is taken (55 random bits: rare) is drawn again.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut tx = self
                .write
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(unavailable)?;
            let outcome = simpul_store::write::run_lampid(
                &mut append::SqliteTx(&mut tx),
                &self.vault,
                command.clone(),
            )
            .await;
            match outcome {
                Ok(outcome) => {
                    tx.commit().await.map_err(unavailable)?;
                    return Ok(outcome);
                }
                Err(StoreError::Conflict) if attempts < 3 => continue,
                Err(error) => return Err(error),
            }
        }
    }

    async fn submission(
        &self,
        tracking_code: &TrackingCode,
    ) -> Result<Option<SubmissionRecord>, StoreError> {
        sqlx::query(&lampid::submission_select())
            .bind(tracking_code.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(unavailable)?
            .map(|row| rows::submission_row(&row)?.into_record(&self.vault))
            .transpose()
    }

    async fn queue(&self, query: &QueueQuery) -> Result<Vec<QueueItem>, StoreError> {
        lampid::queue(&self.read, query).await
    }

    async fn pending(
        &self,
        overdue_before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<PendingCount>, StoreError> {
        lampid::pending(&self.read, overdue_before).await
    }

    async fn service_samples(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ServiceSample>, StoreError> {
        lampid::service_samples(&self.read, since).await
    }

    async fn counters(
        &self,
        region: &KodeWilayah,
        dimension: Dimension,
    ) -> Result<Vec<CounterValue>, StoreError> {
        lampid::own_counters(&self.read, region, dimension).await
    }

    async fn child_counters(
        &self,
        region: &KodeWilayah,
        dimension: Dimension,
    ) -> Result<Vec<CounterValue>, StoreError> {
        lampid::counters(&self.read, region.as_str().to_owned(), None, dimension).await
    }

    async fn rebuild(&self) -> Result<u64, StoreError> {
        let mut tx = self
            .write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(unavailable)?;
        let replayed =
            simpul_store::write::rebuild(&mut append::SqliteTx(&mut tx), &self.vault).await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(replayed)
    }
}
