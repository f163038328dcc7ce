//! `simpul bench-lampid`: e-LAMPID write throughput and statistics latency against the
//! configured store, measured the way `BENCHMARKING.md` asks.
//!
//! In one process, at the store level (the `Store` trait, no HTTP), against the database
//! `SIMPUL_DATA_DIR` / `SIMPUL_DATABASE_URL` name, with a seeded city in it:
//! 1. statistics: each query's saturation rate in a short closed loop, then its latency in
//!    an open loop at a fixed rate below saturation, from the intended send time; simpul's
//!    answer from counters next to a plain SQL `GROUP BY` over the resident table (the
//!    status quo), alternating over rounds;
//! 2. throughput: births taken from report to registration by concurrent workers in a
//!    closed loop, alternating over rounds with the ceiling (one-event appends through the
//!    same durable write path), with the journal's growth checked against the commits;
//!
//! and prints a Markdown section ready for `BENCHMARKS.md` (optionally the raw results as
//! JSON). The run writes births and draft reports into the store: point it at a scratch
//! copy, as `scripts/bench-lampid.sh` does.
//!
//! # Layout
//! - `births`: mothers, the birth and ceiling workloads, the closed loop.
//! - `statistics`: the statistics queries, the status quo's pool, the closed and open loops.
//! - `measure`: run windows, histograms, spreads, CPU time, the disk's fsync rate.
//! - `report`: machine facts and the Markdown.

mod births;
mod measure;
pub(crate) mod report;
mod statistics;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use anyhow::{Context, ensure};
use simpul_domain::KodeWilayah;

use self::births::{BirthDays, Shared, Workload};
use self::measure::Window;
use self::report::{Latency, Machine, Report, Throughput, redact_url};
use self::statistics::{Queries, Query, StatusQuo};
use crate::settings::Settings;
use crate::{keys, store};
use simpul_api::ledger::SealerTask;
use simpul_store::ledger_seal::Sealer;

/// Seed of the workers' choices (birth dates, sexes); fixed so runs are alike.
const SEED: u64 = 0x6c61_6d70_6964_0001;

/// Longest birth-date window: births older than 60 days are late reports (UU 24/2013).
const MAX_BIRTH_DAYS: u32 = 60;

/// Options of `simpul bench-lampid`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Region whose residents give birth and whose statistics are read (default: the demo
    /// region from the settings).
    #[arg(long)]
    pub region: Option<String>,
    /// Concurrent workers in the throughput loops, each running births back to back.
    #[arg(long, default_value_t = 16)]
    pub workers: usize,
    /// Seconds measured per throughput run.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of warm-up before each throughput run's measurement.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// Rounds, each one run of every workload (births and ceiling; every statistics query).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Statistics queries per second offered in the open loop (lowered to half a query's
    /// saturation rate when that is less).
    #[arg(long, default_value_t = 200.0)]
    pub stat_rate: f64,
    /// Seconds measured per open-loop run.
    #[arg(long, default_value_t = 10)]
    pub stat_duration: u64,
    /// Seconds of warm-up before each open-loop run's measurement.
    #[arg(long, default_value_t = 1)]
    pub stat_warmup: u64,
    /// Seconds of each statistics query's saturation run (after a 1 s warm-up).
    #[arg(long, default_value_t = 3)]
    pub saturation_secs: u64,
    /// Concurrent tasks in the statistics saturation loop.
    #[arg(long, default_value_t = 8)]
    pub stat_workers: usize,
    /// Most mothers to take from the region (spread evenly over its kelurahan).
    #[arg(long, default_value_t = 50_000)]
    pub mothers: usize,
    /// Births fall on the last this many days (at most 60: older ones are late reports).
    #[arg(long, default_value_t = 30)]
    pub birth_days: u32,
    /// Skip the statistics latency phase.
    #[arg(long)]
    pub skip_statistics: bool,
    /// Skip the throughput phase.
    #[arg(long)]
    pub skip_throughput: bool,
    /// Also write the raw results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// The command line to print in the report (a wrapper script passes its own).
    #[arg(long)]
    pub command: Option<String>,
    /// The commit the binary was built from, to print in the report (a wrapper script
    /// passes what it built; by default the checkout's commit when the run starts).
    #[arg(long)]
    pub commit: Option<String>,
}

impl Args {
    /// Refuses options that cannot make a measurement.
    fn check(&self) -> anyhow::Result<()> {
        ensure!(self.workers > 0, "--workers must be at least 1");
        ensure!(self.stat_workers > 0, "--stat-workers must be at least 1");
        ensure!(self.rounds > 0, "--rounds must be at least 1");
        ensure!(self.duration > 0, "--duration must be at least 1 s");
        ensure!(
            self.stat_duration > 0,
            "--stat-duration must be at least 1 s"
        );
        ensure!(
            self.saturation_secs > 0,
            "--saturation-secs must be at least 1 s"
        );
        ensure!(
            self.stat_rate.is_finite() && self.stat_rate > 0.0,
            "--stat-rate must be a positive number, got {}",
            self.stat_rate
        );
        ensure!(self.mothers > 0, "--mothers must be at least 1");
        ensure!(
            (1..=MAX_BIRTH_DAYS).contains(&self.birth_days),
            "--birth-days must be 1 to {MAX_BIRTH_DAYS}, got {}",
            self.birth_days
        );
        ensure!(
            !(self.skip_statistics && self.skip_throughput),
            "--skip-statistics and --skip-throughput together leave nothing to measure"
        );
        Ok(())
    }
}

pub async fn run(settings: Settings, args: Args) -> anyhow::Result<()> {
    args.check()?;
    let url = settings.database_url();
    let vault = keys::vault(&settings, false)?;
    let store = store::open(&url, vault).await?;
    let region_code = args.region.as_deref().unwrap_or(&settings.demo.region);
    let region =
        KodeWilayah::parse(region_code).with_context(|| format!("region code {region_code:?}"))?;
    let region_name = store
        .region(&region)
        .await?
        .with_context(|| {
            format!("region {region} is not in the store; seed it with `simpul demo`")
        })?
        .name;
    let counts_before = store.counts().await?;
    ensure!(
        counts_before.residents > 0,
        "the store holds no residents; seed it with `simpul demo` first"
    );
    let machine = Machine::gather(args.command.clone(), args.commit.clone());
    let status_quo = StatusQuo::connect(&url).await?;
    let postgres = matches!(status_quo, StatusQuo::Postgres(_));
    let durability = status_quo.durability().await;
    eprintln!(
        "bench-lampid: {} {region} {region_name}: {} residents, {} journal entries",
        if postgres { "PostgreSQL" } else { "SQLite" },
        counts_before.residents,
        counts_before.journal
    );
    let queries = Arc::new(Queries {
        store: Arc::clone(&store),
        status_quo,
        region: region.clone(),
    });
    let latency = if args.skip_statistics {
        None
    } else {
        Some(measure_statistics(&queries, &args).await?)
    };
    let throughput = if args.skip_throughput {
        None
    } else {
        let data_dir = sqlite_dir(&url).unwrap_or(&settings.data_dir);
        Some(measure_throughput(&store, &region, &args, data_dir, &settings).await?)
    };
    queries.status_quo.close().await;
    let report = Report {
        machine,
        backend: if postgres { "PostgreSQL" } else { "SQLite" },
        database: redact_url(&url),
        durability,
        region: region.to_string(),
        region_name,
        counts_before,
        counts_after: store.counts().await?,
        latency,
        throughput,
    };
    print!("{}", report.markdown());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The directory of a SQLite database file, where its WAL is synced.
fn sqlite_dir(url: &str) -> Option<&Path> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Path::new(path.split('?').next().unwrap_or(path)).parent()
}

async fn measure_statistics(queries: &Arc<Queries>, args: &Args) -> anyhow::Result<Latency> {
    let mut answers = Vec::new();
    for query in Query::ALL {
        answers.push((query, queries.run(query).await?));
    }
    if answers
        .windows(2)
        .any(|w| w[0].1.residents != w[1].1.residents)
    {
        eprintln!("bench-lampid: warning: the queries count different residents: {answers:?}");
    }
    let mut saturation = Vec::new();
    for query in Query::ALL {
        let window = Window::starting_now(
            Duration::from_secs(1),
            Duration::from_secs(args.saturation_secs),
        );
        let rate = statistics::saturate(queries, query, args.stat_workers, window).await?;
        eprintln!(
            "bench-lampid: saturation of {query:?}: {} req/s",
            report::per_sec(rate)
        );
        saturation.push((query, rate));
    }
    let mut rounds = Vec::new();
    for round in 0..args.rounds {
        let mut runs = Vec::new();
        for (query, saturated) in &saturation {
            let Some((rate, _)) = statistics::offered_rate(args.stat_rate, *saturated) else {
                eprintln!(
                    "bench-lampid: no saturation rate for {query:?}; its open loop is skipped"
                );
                continue;
            };
            let window = Window::starting_now(
                Duration::from_secs(args.stat_warmup),
                Duration::from_secs(args.stat_duration),
            );
            let run = statistics::hold_rate(queries, *query, rate, window).await?;
            eprintln!(
                "bench-lampid: round {} {query:?} at {} req/s: p99 {:.2} ms",
                round + 1,
                report::per_sec(rate),
                run.latency.p99_ms
            );
            runs.push(run);
        }
        rounds.push(runs);
    }
    Ok(Latency {
        workers: args.stat_workers,
        saturation_secs: args.saturation_secs,
        asked_rate: args.stat_rate,
        warmup_secs: args.stat_warmup,
        duration_secs: args.stat_duration,
        saturation,
        answers,
        rounds,
    })
}

async fn measure_throughput(
    store: &Arc<dyn simpul_store::Store>,
    region: &KodeWilayah,
    args: &Args,
    data_dir: &Path,
    settings: &Settings,
) -> anyhow::Result<Throughput> {
    let days = BirthDays {
        today: simpul_domain::today(),
        days: args.birth_days,
    };
    eprintln!(
        "bench-lampid: looking for up to {} mothers in {region}",
        args.mothers
    );
    let mothers = births::gather_mothers(store.as_ref(), region, args.mothers, days).await?;
    ensure!(
        !mothers.is_empty(),
        "no living woman aged 16-44 with a family card in {region}"
    );
    eprintln!("bench-lampid: {} mothers", mothers.len());
    let shared = Arc::new(Shared {
        store: Arc::clone(store),
        mothers: Arc::new(mothers),
        days,
        next: Arc::new(AtomicUsize::new(0)),
    });
    births::preflight(&shared).await?;
    // Seal what the store already holds (the seeded city), so the sealed runs measure
    // keeping up, as a hub in service does, not a first backlog.
    let ledger_origin = settings.ledger.origin.clone();
    let ledger_signer = crate::keys::ledger_signer(settings, true)?;
    let mut backlog = Sealer::new(ledger_origin.clone(), ledger_signer.clone());
    while simpul_api::ledger::seal_round(store.as_ref(), &mut backlog).await? > 0 {}
    let journal_before = store.counts().await?.journal;
    let mut rounds = Vec::new();
    for round in 0..args.rounds {
        // Alternating which goes first keeps a drift over the run from favouring one.
        let mut order = [Workload::Births, Workload::BirthsSealed, Workload::Ceiling];
        let first = round % order.len();
        order.rotate_left(first);
        let mut runs = Vec::new();
        for workload in order {
            let window = Window::starting_now(
                Duration::from_secs(args.warmup),
                Duration::from_secs(args.duration),
            );
            let seed = SEED.wrapping_add(round as u64 * 1_000);
            let sealer = (workload == Workload::BirthsSealed).then(|| {
                SealerTask::start(
                    Arc::clone(store),
                    Sealer::new(ledger_origin.clone(), ledger_signer.clone()),
                    simpul_api::ledger::SEAL_EVERY,
                )
            });
            let run = births::saturate(&shared, workload, args.workers, window, seed).await?;
            if let Some(sealer) = sealer {
                sealer.stop().await;
            }
            eprintln!(
                "bench-lampid: round {} {workload:?}: {:.0} ops/s, {:.0} transactions/s, {} errors",
                round + 1,
                run.operations_per_sec,
                run.transactions_per_sec,
                run.tally.error_count()
            );
            runs.push(run);
        }
        runs.sort_by_key(|r| r.workload);
        rounds.push(runs);
    }
    let journal_added = store.counts().await?.journal - journal_before;
    let journal_expected = rounds.iter().flatten().map(|r| r.tally.events_total).sum();
    let fsyncs_per_sec = measure::fsyncs_per_sec(data_dir, Duration::from_secs(2))
        .map_err(|e| eprintln!("bench-lampid: fsync probe in {}: {e:#}", data_dir.display()))
        .ok();
    Ok(Throughput {
        workers: args.workers,
        warmup_secs: args.warmup,
        duration_secs: args.duration,
        mothers: shared.mothers.len(),
        birth_days: args.birth_days,
        rounds,
        journal_added,
        journal_expected,
        fsyncs_per_sec,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(flags: &[&str]) -> anyhow::Result<Args> {
        let argv = std::iter::once("bench-lampid").chain(flags.iter().copied());
        Ok(Cli::try_parse_from(argv)?.args)
    }

    #[test]
    fn the_defaults_are_the_documented_plan() -> anyhow::Result<()> {
        let args = parse(&[])?;
        args.check()?;
        assert_eq!(
            (args.workers, args.duration, args.warmup, args.rounds),
            (16, 10, 3, 3)
        );
        assert!((args.stat_rate - 200.0).abs() < f64::EPSILON);
        assert_eq!(args.birth_days, 30);
        Ok(())
    }

    #[test]
    fn options_that_measure_nothing_are_refused() -> anyhow::Result<()> {
        for flags in [
            &["--workers", "0"][..],
            &["--rounds", "0"],
            &["--duration", "0"],
            &["--stat-rate", "0"],
            &["--stat-rate", "NaN"],
            &["--birth-days", "0"],
            &["--birth-days", "61"],
            &["--mothers", "0"],
            &["--skip-statistics", "--skip-throughput"],
        ] {
            assert!(parse(flags)?.check().is_err(), "{flags:?} accepted");
        }
        parse(&["--birth-days", "60", "--skip-throughput"])?.check()?;
        Ok(())
    }

    #[test]
    fn the_wal_is_synced_next_to_the_database_file() {
        assert_eq!(
            sqlite_dir("sqlite:///tmp/bench/simpul.db?mode=rwc"),
            Some(Path::new("/tmp/bench"))
        );
        assert_eq!(sqlite_dir("sqlite:data/simpul.db"), Some(Path::new("data")));
        assert_eq!(sqlite_dir("postgres://postgres@127.0.0.1/db"), None);
    }
}
