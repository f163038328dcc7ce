//! The production store: PostgreSQL, through one `sqlx` connection pool.
//!
//! It holds the same logical schema as the SQLite backend and reads and writes through the
//! shared row shapes of `simpul_store::rows`, so both backends interpret stored data
//! identically; the contract suite in `simpul_store::contract` runs against both.
//! Personal data reaches the database only sealed, and rows are found by blind indexes,
//! both made by the [`Vault`] the store is given (see `simpul_store::vault`).
//! Readers and writers share one pool: PostgreSQL's MVCC lets reads run beside a write,
//! and writes (appends, e-LAMPID commands, rebuilds) serialise among themselves on an
//! advisory lock (see [`append`]).
//! Connections are plain TCP: the project keeps one TLS stack for the whole workspace, and
//! the database is expected on the same host or a private network.
//!
//! # Layout
//! - this file: connection set-up and the `Store` implementation's read side.
//! - [`append`]: the writers' lock and the row reads and writes of the shared write path
//!   (`simpul_store::write`).
//! - [`lampid`]: reading submissions, queues, service levels and statistics counters.
//! - [`reseal`]: key rotation, one batch of rows at a time.
//! - [`identity`]: accounts (TOTP secret sealed), sessions, clients, revoked tokens,
//!   agreements.
//! - [`audit`]: the access log (gap-free sequence under its own advisory lock) and alerts.
//! - [`ledger`]: the ledger's leaves, nodes, checkpoints and cosignatures.
//! - [`rows`]: reading rows into the shared row shapes.

mod append;
mod audit;
mod identity;
mod lampid;
mod ledger;
mod reseal;
mod rows;

use std::collections::HashMap;
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
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder};

use crate::rows::{JOURNAL_COLUMNS, REGION_COLUMNS};

/// Connections in the pool. The hub runs on a couple of cores; a few more connections than
/// cores keep the CPU busy while some wait on I/O, and more would only queue in PostgreSQL.
const MAX_CONNECTIONS: u32 = 8;
/// How long a request waits for a free connection before the store reports itself
/// unavailable, rather than hanging the request indefinitely.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// The advisory lock key the blind-key stamp is taken under ("simpulk" in ASCII): two hubs
/// starting on one new database at once must not both stamp it, each with its own key.
const STAMP_LOCK: i64 = 0x73_696d_7075_6c6b;

/// The PostgreSQL implementation of [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    vault: Arc<Vault>,
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::unavailable(error)
}

/// A unique-key failure is a write that lost a race (or repeats an earlier one): the
/// caller's [`StoreError::Conflict`], not an outage.
fn constraint_or_unavailable(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        _ => unavailable(error),
    }
}

impl PostgresStore {
    /// Connects to a `postgres://` URL, runs the embedded migrations, and checks that
    /// `vault`'s blind key is the one that built the database's indexes (stamping a new
    /// database with it).
    ///
    /// The database must exist; it is never created here, so a mistyped URL fails instead
    /// of silently starting an empty registry.
    pub async fn connect(url: &str, vault: Arc<Vault>) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(unavailable)?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(StoreError::unavailable)?;
        check_blind_key(&pool, &vault).await?;
        rebuild_if_outdated(&pool, &vault).await?;
        Ok(Self { pool, vault })
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Stamps a new database with the vault's blind key, or refuses one built with another.
///
/// The read, the check and the stamp happen under a transaction-scoped advisory lock, so a
/// second hub starting at the same moment waits, then (READ COMMITTED: each statement sees
/// what committed before it) reads the first one's stamp and is checked against it.
async fn check_blind_key(pool: &PgPool, vault: &Vault) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(unavailable)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(STAMP_LOCK)
        .execute(&mut *tx)
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
        sqlx::query(
            "INSERT INTO store_meta (key, value) \
             VALUES ('blind_key_id', $1), ('blind_key_check', $2)",
        )
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

/// Rebuilds the read models if an older layout built them. The version is read again under
/// the writers' lock, so of hubs starting together only the first rebuilds.
async fn rebuild_if_outdated(pool: &PgPool, vault: &Vault) -> Result<(), StoreError> {
    let recorded = || sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'read_models'");
    let current: Option<String> = recorded().fetch_optional(pool).await.map_err(unavailable)?;
    if current.as_deref() == Some(READ_MODELS) {
        return Ok(());
    }
    let mut tx = append::begin(pool).await?;
    let current: Option<String> = recorded()
        .fetch_optional(&mut *tx)
        .await
        .map_err(unavailable)?;
    if current.as_deref() == Some(READ_MODELS) {
        return Ok(());
    }
    let replayed = simpul_store::write::rebuild(&mut append::PgTx(&mut tx), vault).await?;
    sqlx::query(
        "INSERT INTO store_meta (key, value) VALUES ('read_models', $1) \
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
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
    pool: &PgPool,
    mut query: QueryBuilder<'_, Postgres>,
) -> Result<Vec<Region>, StoreError> {
    let rows = query.build().fetch_all(pool).await.map_err(unavailable)?;
    rows.iter()
        .map(|row| rows::region_row(row).map_err(unavailable)?.into_region())
        .collect()
}

/// A resident search as the database sees it: the blind indexes of its name words and
/// birth date (computed once for the count and the page), and its region in clear.
struct BlindQuery<'a> {
    name_tokens: Vec<String>,
    birth_date: Option<String>,
    region: Option<&'a KodeWilayah>,
}

impl<'a> BlindQuery<'a> {
    fn new(query: &'a ResidentQuery, vault: &Vault) -> Self {
        Self {
            name_tokens: vault.name_token_indexes(&query.name_tokens),
            birth_date: query.birth_date.map(|d| vault.birth_date_index(d)),
            region: query.region.as_ref(),
        }
    }
}

/// Appends the filter of a resident search (after `FROM residents`) to `builder`.
fn push_resident_filter(builder: &mut QueryBuilder<'_, Postgres>, blind: &BlindQuery<'_>) {
    builder.push(" WHERE TRUE");
    if !blind.name_tokens.is_empty() {
        // Every token must match: a resident qualifies when it has as many matching token
        // rows as tokens asked for (the primary key makes each (token, nik) unique).
        builder
            .push(
                " AND nik_index IN (SELECT nik_index FROM resident_name_tokens \
                 WHERE token_index = ANY(",
            )
            .push_bind(blind.name_tokens.clone())
            .push(") GROUP BY nik_index HAVING COUNT(*) = ")
            .push_bind(blind.name_tokens.len() as i64)
            .push(")");
    }
    if let Some(date) = &blind.birth_date {
        builder
            .push(" AND birth_date_index = ")
            .push_bind(date.clone());
    }
    if let Some(region) = blind.region {
        match region.level() {
            RegionLevel::KelurahanDesa => builder
                .push(" AND kelurahan = ")
                .push_bind(region.as_str().to_owned()),
            RegionLevel::Kecamatan => builder
                .push(" AND kecamatan = ")
                .push_bind(region.as_str().to_owned()),
            // Codes hold only digits and dots, so the prefix needs no LIKE escaping.
            _ => builder
                .push(" AND kecamatan LIKE ")
                .push_bind(format!("{region}.%")),
        };
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn load_regions(&self, regions: &[Region]) -> Result<u64, StoreError> {
        if regions.is_empty() {
            return Ok(0);
        }
        let rows: Vec<RegionRow> = regions.iter().map(RegionRow::from_domain).collect();
        let text = |field: fn(&RegionRow) -> &String| {
            rows.iter().map(|r| field(r).as_str()).collect::<Vec<_>>()
        };
        // One statement for the whole master list: one array per column.
        sqlx::query(
            "INSERT INTO regions (code, parent, level, name, name_search) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_search = excluded.name_search",
        )
        .bind(text(|r| &r.code))
        .bind(rows.iter().map(|r| r.parent.as_deref()).collect::<Vec<_>>())
        .bind(text(|r| &r.level))
        .bind(text(|r| &r.name))
        .bind(text(|r| &r.name_search))
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(regions.len() as u64)
    }

    async fn region(&self, code: &KodeWilayah) -> Result<Option<Region>, StoreError> {
        let mut query = QueryBuilder::new(format!(
            "SELECT {REGION_COLUMNS} FROM regions WHERE code = "
        ));
        query.push_bind(code.as_str());
        Ok(fetch_regions(&self.pool, query).await?.into_iter().next())
    }

    async fn region_children(&self, code: &KodeWilayah) -> Result<Vec<Region>, StoreError> {
        let mut query = QueryBuilder::new(format!(
            "SELECT {REGION_COLUMNS} FROM regions WHERE parent = "
        ));
        query.push_bind(code.as_str()).push(" ORDER BY code");
        fetch_regions(&self.pool, query).await
    }

    async fn search_regions(&self, text: &str, limit: u32) -> Result<Vec<Region>, StoreError> {
        // strpos, not LIKE: the text is a substring to find, with no wildcards to escape.
        let mut query = QueryBuilder::new(format!(
            "SELECT {REGION_COLUMNS} FROM regions WHERE strpos(name_search, "
        ));
        query
            .push_bind(region_search_key(text))
            .push(") > 0 ORDER BY length(code), code LIMIT ")
            .push_bind(i64::from(limit));
        fetch_regions(&self.pool, query).await
    }

    #[tracing::instrument(skip_all, fields(events = events.len()))]
    async fn append(&self, events: &[RegistryEvent]) -> Result<AppendReceipt, StoreError> {
        let mut tx = append::begin(&self.pool).await?;
        let receipt = simpul_store::write::append(
            &mut append::PgTx(&mut tx),
            &self.vault,
            events,
            simpul_domain::today(),
        )
        .await?;
        tx.commit().await.map_err(constraint_or_unavailable)?;
        Ok(receipt)
    }

    async fn journal_after(&self, after: u64, limit: u32) -> Result<Vec<JournalEntry>, StoreError> {
        // A cursor beyond i64 is beyond every stored sequence: nothing follows it.
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {JOURNAL_COLUMNS} FROM journal WHERE sequence > $1 ORDER BY sequence LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
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
            .fetch_optional(&self.pool)
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
            .fetch_optional(&self.pool)
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
            .fetch_optional(&self.pool)
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
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|row| {
                rows::resident_row(row)
                    .map_err(unavailable)?
                    .into_resident(&self.vault)
            })
            .collect::<Result<Vec<_>, _>>()?;
        // A card whose members all died or left stays (its number remains taken), but, as
        // in the domain's registry, it is no family any more.
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
        let blind = BlindQuery::new(query, &self.vault);
        let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM residents");
        push_resident_filter(&mut count, &blind);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        let mut select =
            QueryBuilder::<Postgres>::new(format!("SELECT {RESIDENT_COLUMNS} FROM residents"));
        push_resident_filter(&mut select, &blind);
        // The blind index orders pages stably without revealing anything about the order.
        select
            .push(" ORDER BY nik_index LIMIT ")
            .push_bind(i64::from(query.limit))
            .push(" OFFSET ")
            // An offset past i64 is past every row: clamp instead of failing.
            .push_bind(i64::try_from(query.offset).unwrap_or(i64::MAX));
        let items = select
            .build()
            .fetch_all(&self.pool)
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
        let sql = format!("SELECT {VERIFICATION_COLUMNS} FROM residents WHERE nik_index = ANY($1)");
        let rows = sqlx::query_as::<_, (String, String, String, String)>(&sql)
            .bind(&indexes)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        verification_map(
            niks,
            &indexes,
            rows.into_iter().map(|(index, status, kelurahan, pii)| {
                VerificationRow(index, status, kelurahan, pii)
            }),
            &self.vault,
        )
    }

    async fn counts(&self) -> Result<RegistryCounts, StoreError> {
        // The journal's size is its last sequence (gap-free), which the primary key answers
        // without a scan.
        let (regions, residents, families, journal): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM regions), (SELECT COUNT(*) FROM residents), \
             (SELECT COUNT(*) FROM families), (SELECT COALESCE(MAX(sequence), 0) FROM journal)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(RegistryCounts {
            regions: regions as u64,
            residents: residents as u64,
            families: families as u64,
            journal: journal as u64,
        })
    }

    #[tracing::instrument(skip_all, fields(table = table.name(), limit))]
    async fn reseal(
        &self,
        table: SealedTable,
        after: Option<String>,
        limit: u32,
    ) -> Result<ResealBatch, StoreError> {
        reseal::reseal(&self.pool, &self.vault, table, after, limit).await
    }

    async fn lampid(&self, command: LampidCommand) -> Result<LampidOutcome, StoreError> {
        // A drawn tracking code that is taken (55 random bits: rare) is drawn again, in a
        // new transaction: a failed statement has aborted this one.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut tx = append::begin(&self.pool).await?;
            let outcome = simpul_store::write::run_lampid(
                &mut append::PgTx(&mut tx),
                &self.vault,
                command.clone(),
            )
            .await;
            match outcome {
                Ok(outcome) => {
                    tx.commit().await.map_err(constraint_or_unavailable)?;
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
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(|row| rows::submission_row(&row)?.into_record(&self.vault))
            .transpose()
    }

    async fn queue(&self, query: &QueueQuery) -> Result<Vec<QueueItem>, StoreError> {
        lampid::queue(&self.pool, query).await
    }

    async fn pending(
        &self,
        overdue_before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<PendingCount>, StoreError> {
        lampid::pending(&self.pool, overdue_before).await
    }

    async fn service_samples(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ServiceSample>, StoreError> {
        lampid::service_samples(&self.pool, since).await
    }

    async fn counters(
        &self,
        region: &KodeWilayah,
        dimension: Dimension,
    ) -> Result<Vec<CounterValue>, StoreError> {
        lampid::own_counters(&self.pool, region, dimension).await
    }

    async fn child_counters(
        &self,
        region: &KodeWilayah,
        dimension: Dimension,
    ) -> Result<Vec<CounterValue>, StoreError> {
        lampid::counters(&self.pool, region.as_str().to_owned(), None, dimension).await
    }

    #[tracing::instrument(skip_all)]
    async fn rebuild(&self) -> Result<u64, StoreError> {
        let mut tx = append::begin(&self.pool).await?;
        let replayed =
            simpul_store::write::rebuild(&mut append::PgTx(&mut tx), &self.vault).await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(replayed)
    }
}
