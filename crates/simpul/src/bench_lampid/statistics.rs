//! The read workloads: population statistics as simpul answers them, and as a plain SQL
//! `GROUP BY` over the resident table would; their saturation rate in a closed loop, and
//! their latency in an open loop at a fixed rate below it.
//!
//! simpul reads counters the journal keeps up to date (a few thousand rows per region,
//! whatever the population) and folds the birth-month counters into five-year age bands,
//! as `GET /api/v1/statistik/penduduk` does; with the breakdown (`rinci=true`) it also reads
//! the counters of each region below. The status quo counts the living residents of the
//! region by kelurahan, sex and religion straight from the resident table. It is a lower
//! bound on what the status quo would cost: birth dates are sealed at rest, so no `GROUP
//! BY` can produce age bands at all without reading and decrypting every row.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use serde::Serialize;
use simpul_domain::KodeWilayah;
use simpul_domain::Sex;
use simpul_domain::statistics::{AgeKey, Dimension, band_label};
use simpul_store::{CounterValue, Store};
use sqlx::ConnectOptions as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use super::measure::{LatencySummary, Window, histogram, record, sleep_until};

/// Connections of the status quo's own pool: as many as the store reads with (SQLite's
/// read pool has 4, PostgreSQL's shared pool 8).
const SQLITE_CONNECTIONS: u32 = 4;
const POSTGRES_CONNECTIONS: u32 = 8;

/// The open loop offers at most this fraction of a query's saturation rate: at saturation
/// every queue grows and p99 measures the queue, not the query.
pub const MAX_LOAD: f64 = 0.5;

/// Requests of an open loop still running after which new ones are counted as missed
/// instead of started: an overloaded run must not pile up tasks without bound.
const MAX_IN_FLIGHT: usize = 2_000;

/// Which statistics query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Query {
    /// The region by sex and age band (`/statistik/penduduk`).
    Population,
    /// The same with each kecamatan below (`/statistik/penduduk?rinci=true`).
    PopulationByKecamatan,
    /// `SELECT kelurahan, sex, religion, COUNT(*) … GROUP BY` over the resident table.
    StatusQuo,
}

impl Query {
    pub const ALL: [Self; 3] = [
        Self::Population,
        Self::PopulationByKecamatan,
        Self::StatusQuo,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Population => "simpul: counters → sex × age band (`/statistik/penduduk`)",
            Self::PopulationByKecamatan => {
                "simpul: + per-kecamatan breakdown (`/statistik/penduduk?rinci=true`)"
            }
            Self::StatusQuo => "status quo: `GROUP BY kelurahan, sex, religion` over `residents`",
        }
    }
}

/// Residents of one age band.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgeBand {
    pub label: String,
    pub male: i64,
    pub female: i64,
}

/// A region's living population by sex and five-year age band.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub male: i64,
    pub female: i64,
    /// By the band's lower bound.
    pub bands: BTreeMap<u32, AgeBand>,
}

impl Figures {
    pub fn total(&self) -> i64 {
        self.male + self.female
    }
}

/// Folds birth-month counters into age bands on `today`, as the API's population handler
/// does; keys that are not age keys are skipped.
pub fn fold_bands(counters: &[CounterValue], today: NaiveDate) -> Figures {
    let mut figures = Figures::default();
    for counter in counters {
        let Some(key) = AgeKey::parse(&counter.key) else {
            continue;
        };
        let lower = key.band_on(today);
        let band = figures.bands.entry(lower).or_insert_with(|| AgeBand {
            label: band_label(lower),
            ..AgeBand::default()
        });
        match key.sex {
            Sex::LakiLaki => {
                band.male += counter.count;
                figures.male += counter.count;
            }
            Sex::Perempuan => {
                band.female += counter.count;
                figures.female += counter.count;
            }
        }
    }
    figures
}

/// The status quo's own connection pool on the store's database.
pub enum StatusQuo {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl StatusQuo {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            // Read-only, with the page cache the store's own readers get.
            // Slow statements are the point here, not news: sqlx would warn about each.
            let options = SqliteConnectOptions::from_str(url)?
                .read_only(true)
                .pragma("cache_size", "-65536")
                .disable_statement_logging();
            let pool = SqlitePoolOptions::new()
                .max_connections(SQLITE_CONNECTIONS)
                .connect_with(options)
                .await
                .context("opening SQLite for the status-quo query")?;
            return Ok(Self::Sqlite(pool));
        }
        let options = PgConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_CONNECTIONS)
            .connect_with(options)
            .await
            .context("opening PostgreSQL for the status-quo query")?;
        Ok(Self::Postgres(pool))
    }

    /// Living residents of `region` by kelurahan, sex and religion.
    pub async fn count(
        &self,
        region: &KodeWilayah,
    ) -> anyhow::Result<Vec<(String, String, String, i64)>> {
        let pattern = format!("{region}.%");
        let rows: Vec<(String, String, String, i64)> = match self {
            Self::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT kelurahan, sex, religion, COUNT(*) FROM residents \
                     WHERE status = 'hidup' AND kecamatan LIKE ?1 \
                     GROUP BY kelurahan, sex, religion",
                )
                .bind(pattern)
                .fetch_all(pool)
                .await?
            }
            Self::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT kelurahan, sex, religion, COUNT(*) FROM residents \
                     WHERE status = 'hidup' AND kecamatan LIKE $1 \
                     GROUP BY kelurahan, sex, religion",
                )
                .bind(pattern)
                .fetch_all(pool)
                .await?
            }
        };
        Ok(rows)
    }

    /// What makes a commit durable on this database, as read from it.
    pub async fn durability(&self) -> String {
        match self {
            Self::Sqlite(pool) => {
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(pool)
                    .await
                    .unwrap_or_else(|_| "?".into());
                format!(
                    "journal_mode = {mode} (read from the file), synchronous = FULL (set by the \
                     store on its connections: the WAL is synced at every commit)"
                )
            }
            Self::Postgres(pool) => {
                let mut settings = Vec::new();
                for name in [
                    "fsync",
                    "synchronous_commit",
                    "wal_sync_method",
                    "full_page_writes",
                ] {
                    let value: String = sqlx::query_scalar(&format!("SHOW {name}"))
                        .fetch_one(pool)
                        .await
                        .unwrap_or_else(|_| "?".into());
                    settings.push(format!("{name} = {value}"));
                }
                format!("{} (read from the server with SHOW)", settings.join(", "))
            }
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// What one query answered: the living residents it counted and the rows it read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub residents: i64,
    pub rows: usize,
}

/// Everything a query needs.
pub struct Queries {
    pub store: Arc<dyn Store>,
    pub status_quo: StatusQuo,
    pub region: KodeWilayah,
}

impl Queries {
    pub async fn run(&self, query: Query) -> anyhow::Result<Answer> {
        let today = simpul_domain::today();
        match query {
            Query::Population => {
                let own = self.store.counters(&self.region, Dimension::Usia).await?;
                Ok(Answer {
                    residents: fold_bands(&own, today).total(),
                    rows: own.len(),
                })
            }
            Query::PopulationByKecamatan => {
                let own = self.store.counters(&self.region, Dimension::Usia).await?;
                let below = self
                    .store
                    .child_counters(&self.region, Dimension::Usia)
                    .await?;
                let rows = own.len() + below.len();
                let total = fold_bands(&own, today).total();
                // Grouped as the API's handler groups them: values moved, region cloned.
                let mut by_region: BTreeMap<String, Vec<CounterValue>> = BTreeMap::new();
                for value in below {
                    by_region
                        .entry(value.region.clone())
                        .or_default()
                        .push(value);
                }
                let parts: i64 = by_region
                    .values()
                    .map(|values| fold_bands(values, today).total())
                    .sum();
                if parts != total {
                    bail!(
                        "the regions below {} add up to {parts}, not {total}",
                        self.region
                    );
                }
                Ok(Answer {
                    residents: total,
                    rows,
                })
            }
            Query::StatusQuo => {
                let rows = self.status_quo.count(&self.region).await?;
                Ok(Answer {
                    residents: rows.iter().map(|r| r.3).sum(),
                    rows: rows.len(),
                })
            }
        }
    }
}

/// The rate an open loop offers a query: the one asked for, or [`MAX_LOAD`] of its
/// saturation when that is lower. Returns the rate and whether it was lowered; `None` when
/// no saturation was measured, since no rate is then known to be below it.
pub fn offered_rate(asked: f64, saturation: f64) -> Option<(f64, bool)> {
    if !(saturation.is_finite() && saturation > 0.0) {
        return None;
    }
    let cap = MAX_LOAD * saturation;
    Some(if asked > cap {
        (cap, true)
    } else {
        (asked, false)
    })
}

/// Queries per second in a closed loop of `workers` tasks, each back to back until the
/// window ends. Counts the queries that finish after the warm-up, over the time from the
/// warm-up's end to the last of them: a query slower than the window (a full scan of a
/// large table) still counts, instead of making the rate 0.
pub async fn saturate(
    queries: &Arc<Queries>,
    query: Query,
    workers: usize,
    window: Window,
) -> anyhow::Result<f64> {
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let queries = Arc::clone(queries);
            tokio::spawn(async move {
                let mut done = 0u64;
                let mut last = window.measure_from;
                while Instant::now() < window.end {
                    queries.run(query).await?;
                    let now = Instant::now();
                    if now >= window.measure_from {
                        done += 1;
                        last = last.max(now);
                    }
                }
                Ok::<_, anyhow::Error>((done, last))
            })
        })
        .collect();
    let (mut done, mut last) = (0, window.end);
    for task in tasks {
        let (n, at) = task.await.context("a query worker panicked")??;
        done += n;
        last = last.max(at);
    }
    Ok(done as f64 / (last - window.measure_from).as_secs_f64())
}

/// One open-loop run.
#[derive(Debug, Clone, Serialize)]
pub struct OpenRun {
    pub query: Query,
    pub offered_per_sec: f64,
    /// Answers completed in the measured window, per second; below the offered rate when
    /// the store did not keep up.
    pub achieved_per_sec: f64,
    /// From the intended send time to the answer, for requests due in the window.
    pub latency: LatencySummary,
    /// Requests not started because too many were still running.
    pub missed: u64,
    pub errors: u64,
}

/// Offers `rate` queries per second whatever the store does: request `k` is due at
/// `k / rate` and starts then in a task of its own, so a slow answer never delays the next
/// request, and each latency counts from the due time (no coordinated omission). The tokio
/// timer wakes on millisecond ticks, so a request may start up to about a millisecond late;
/// that lag is in the latency, the conservative side, and the same for every query.
pub async fn hold_rate(
    queries: &Arc<Queries>,
    query: Query,
    rate: f64,
    window: Window,
) -> anyhow::Result<OpenRun> {
    anyhow::ensure!(
        rate.is_finite() && rate > 0.0,
        "rate must be positive, got {rate}"
    );
    let hist = Arc::new(Mutex::new(histogram()?));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    let mut missed = 0;
    for k in 0u64.. {
        let due = window.start + Duration::from_secs_f64(k as f64 / rate);
        if due >= window.end {
            break;
        }
        sleep_until(due).await;
        if in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
            missed += u64::from(window.measures(due));
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let (queries, hist, in_flight) = (
            Arc::clone(queries),
            Arc::clone(&hist),
            Arc::clone(&in_flight),
        );
        let (answered, errors) = (Arc::clone(&answered), Arc::clone(&errors));
        tasks.spawn(async move {
            let outcome = queries.run(query).await;
            let done = Instant::now();
            in_flight.fetch_sub(1, Ordering::Relaxed);
            if outcome.is_err() {
                errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
            if window.measures(done) {
                answered.fetch_add(1, Ordering::Relaxed);
            }
            if window.measures(due)
                && let Ok(mut hist) = hist.lock()
            {
                record(&mut hist, done - due);
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("a query task panicked")?;
    }
    let latency = hist
        .lock()
        .map(|h| LatencySummary::of(&h))
        .map_err(|_| anyhow::anyhow!("a query task panicked while recording"))?;
    Ok(OpenRun {
        query,
        offered_per_sec: rate,
        achieved_per_sec: answered.load(Ordering::Relaxed) as f64 / window.measured_secs(),
        latency,
        missed,
        errors: errors.load(Ordering::Relaxed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(region: &str, key: &str, count: i64) -> CounterValue {
        CounterValue {
            region: region.into(),
            key: key.into(),
            count,
        }
    }

    #[test]
    fn birth_months_fold_into_the_bands_of_the_day() -> anyhow::Result<()> {
        let today = NaiveDate::from_ymd_opt(2026, 3, 10).context("date")?;
        let counters = [
            // 4 years old until 1 March 2026, then 5.
            counter("35.77", "laki_laki|2021-03", 3),
            counter("35.77", "laki_laki|2021-04", 2),
            counter("35.77", "perempuan|2021-04", 7),
            counter("35.77", "perempuan|1930-01", 1),
            counter("35.77", "not an age key", 100),
        ];
        let figures = fold_bands(&counters, today);
        assert_eq!((figures.male, figures.female, figures.total()), (5, 8, 13));
        let bands: Vec<(u32, &str, i64, i64)> = figures
            .bands
            .iter()
            .map(|(lower, b)| (*lower, b.label.as_str(), b.male, b.female))
            .collect();
        assert_eq!(
            bands,
            [(0, "0-4", 2, 7), (5, "5-9", 3, 0), (75, "75+", 0, 1)]
        );
        Ok(())
    }

    #[test]
    fn the_open_loop_rate_stays_below_saturation() {
        assert_eq!(offered_rate(200.0, 10_000.0), Some((200.0, false)));
        assert_eq!(offered_rate(200.0, 400.0), Some((200.0, false)));
        assert_eq!(offered_rate(200.0, 100.0), Some((50.0, true)));
        assert_eq!(offered_rate(200.0, 0.5), Some((0.25, true)));
        // Without a saturation rate no rate is known to be below it.
        assert_eq!(offered_rate(200.0, 0.0), None);
        assert_eq!(offered_rate(200.0, f64::NAN), None);
    }
}
