//! `simpul bench-ledger`: how fast the tamper-evident ledger seals and proves, measured the
//! way `BENCHMARKING.md` asks.
//!
//! In one process, at the store level (no HTTP), on scratch databases it creates and
//! removes (never the hub's own: it writes synthetic access-log entries):
//! 1. sealing with checkpoints: N synthetic access-log entries (filled untimed) sealed by
//!    `seal_round` loops with a signed checkpoint each round, on a fresh SQLite file (and,
//!    with `--postgres`, on that database too), next to the same leaves' raw SHA-256 rate
//!    (the ceiling) and in-memory tree in the same round; the growth of the ledger's
//!    tables per leaf;
//! 2. proofs: a synthetic log of up to 100 million leaves bulk-loaded into a SQLite file's
//!    node table with a signed checkpoint, then inclusion proofs through the store:
//!    saturation in a closed loop, latency in an open loop at a fraction of it, and offline
//!    verification of every proof against the checkpoint's root;
//!
//! and prints a Markdown section for `BENCHMARKS.md` (optionally the raw results as JSON).
//!
//! # Layout
//! - `append`: filling the access log, the timed sealing, the in-memory references.
//! - `tree`: the synthetic log's leaves and the streaming bulk load of its nodes.
//! - `proofs`: proof generation and verification loops, nanosecond histograms.
//! - `storage`: table sizes and durability settings, read beside the store.
//! - `report`: machine facts and the Markdown.

mod append;
mod proofs;
mod report;
mod storage;
mod tree;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, ensure};
use simpul_ledger::{Checkpoint, KeyName, NoteSigner, sign_checkpoint, verify_checkpoint};
use simpul_store::ledger_seal::Sealer;
use simpul_store::{CheckpointRecord, LedgerStore, Store, Vault};
use simpul_store_postgres::PostgresStore;
use simpul_store_sqlite::SqliteStore;

use self::append::AppendRun;
use self::report::{AppendSeries, Build, ProofSeries, Report};
use self::storage::Storage;
use crate::bench_lampid::report::Machine;

/// The synthetic log's origin and signing key name.
const ORIGIN: &str = "bench.simpul.local/ledger";
/// Seed of the synthetic log key (a benchmark key, not a secret) and of the leaf choices.
const SEED: u64 = 0x6c65_6467_6572_0001;

/// Options of `simpul bench-ledger`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Entries sealed per round of the append phase, one size after another.
    #[arg(long, value_delimiter = ',', default_values_t = [100_000u64, 1_000_000])]
    pub append_leaves: Vec<u64>,
    /// Rounds per append size, and open-loop runs per proof size.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Sizes of the synthetic logs proofs are measured on, one after another.
    #[arg(long, value_delimiter = ',', default_values_t = [100_000_000u64])]
    pub proof_leaves: Vec<u64>,
    /// Proofs per open-loop run (each also verified).
    #[arg(long, default_value_t = 20_000)]
    pub proofs: u64,
    /// Unrecorded proofs before the closed loop.
    #[arg(long, default_value_t = 2_000)]
    pub warmup_proofs: u64,
    /// Seconds of the closed loop that finds the proof rate at saturation.
    #[arg(long, default_value_t = 10)]
    pub saturation_secs: u64,
    /// The open loop's offered rate, as a fraction of the saturation rate.
    #[arg(long, default_value_t = 0.5)]
    pub open_fraction: f64,
    /// Also measure the append phase on this PostgreSQL database. It must be dedicated to
    /// the benchmark: synthetic entries are written to its access log and ledger.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Where the scratch directory (SQLite files, level files) is made; about 130 bytes per
    /// proof leaf are needed (13 GB at 100 million). Default: the system's temp directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the scratch directory.
    #[arg(long)]
    pub keep: bool,
    /// Skip the append phase.
    #[arg(long)]
    pub skip_append: bool,
    /// Skip the proof phase.
    #[arg(long)]
    pub skip_proofs: bool,
    /// Also write the raw results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// The command line to print in the report (a wrapper script passes its own).
    #[arg(long)]
    pub command: Option<String>,
    /// The commit the binary was built from, to print in the report.
    #[arg(long)]
    pub commit: Option<String>,
}

impl Args {
    /// Refuses options that cannot make a measurement.
    fn check(&self) -> anyhow::Result<()> {
        ensure!(self.rounds > 0, "--rounds must be at least 1");
        ensure!(
            self.append_leaves.iter().all(|&n| n > 0),
            "--append-leaves sizes must be at least 1"
        );
        ensure!(
            self.proof_leaves.iter().all(|&n| n > 0),
            "--proof-leaves sizes must be at least 1"
        );
        ensure!(self.proofs > 0, "--proofs must be at least 1");
        ensure!(
            self.saturation_secs > 0,
            "--saturation-secs must be at least 1 s"
        );
        ensure!(
            self.open_fraction > 0.0 && self.open_fraction <= 1.0,
            "--open-fraction must be in (0, 1], got {}",
            self.open_fraction
        );
        ensure!(
            !(self.skip_append && self.skip_proofs),
            "--skip-append and --skip-proofs together leave nothing to measure"
        );
        Ok(())
    }
}

/// The scratch directory, removed on drop unless kept.
struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Scratch {
    fn create(parent: Option<&Path>, keep: bool) -> anyhow::Result<Self> {
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let path = parent.join(format!("simpul-bench-ledger-{}", std::process::id()));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("creating scratch directory {}", path.display()))?;
        Ok(Self { path, keep })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("bench-ledger: kept {}", self.path.display());
        } else if let Err(error) = std::fs::remove_dir_all(&self.path) {
            eprintln!("bench-ledger: removing {}: {error}", self.path.display());
        }
    }
}

/// Removes a SQLite file and its WAL and shared-memory files.
fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

fn signer() -> anyhow::Result<NoteSigner> {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&SEED.to_le_bytes());
    Ok(NoteSigner::from_seed(KeyName::new(ORIGIN)?, &seed))
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    args.check()?;
    let machine = Machine::gather(args.command.clone(), args.commit.clone());
    let load_at_start = report::load_average();
    let scratch = Scratch::create(args.dir.as_deref(), args.keep)?;
    eprintln!("bench-ledger: scratch directory {}", scratch.path.display());
    let append = if args.skip_append {
        Vec::new()
    } else {
        measure_append(&args, &scratch).await?
    };
    let proofs = if args.skip_proofs {
        Vec::new()
    } else {
        let mut sizes = args.proof_leaves.clone();
        sizes.sort_unstable();
        sizes.dedup();
        let mut all = Vec::new();
        for size in sizes {
            all.push(measure_proofs(&args, &scratch, size).await?);
        }
        all
    };
    let report = Report {
        machine,
        scratch: scratch.path.display().to_string(),
        rounds: args.rounds,
        seed: SEED,
        load_at_start,
        load_at_end: report::load_average(),
        append,
        proofs,
    };
    print!("{}", report.markdown());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// One store of the append phase, with its size probe.
struct Target {
    store: Arc<dyn Store>,
    storage: Storage,
    sealer: Sealer,
    close: Closer,
}

enum Closer {
    Sqlite(SqliteStore, PathBuf),
    Postgres(PostgresStore),
}

impl Target {
    async fn sqlite(path: &Path) -> anyhow::Result<Self> {
        let store = SqliteStore::connect(&sqlite_url(path), Arc::new(Vault::ephemeral()))
            .await
            .with_context(|| format!("opening SQLite {}", path.display()))?;
        Ok(Self {
            store: Arc::new(store.clone()),
            storage: Storage::sqlite(path).await?,
            sealer: Sealer::new(ORIGIN, signer()?),
            close: Closer::Sqlite(store, path.to_owned()),
        })
    }

    async fn postgres(url: &str) -> anyhow::Result<Self> {
        let store = PostgresStore::connect(url, Arc::new(Vault::ephemeral()))
            .await
            .context("opening PostgreSQL (a dedicated database, new or made by an earlier run)")?;
        Ok(Self {
            store: Arc::new(store.clone()),
            storage: Storage::postgres(url).await?,
            sealer: Sealer::new(ORIGIN, signer()?),
            close: Closer::Postgres(store),
        })
    }

    async fn close(self, keep: bool) {
        self.storage.close().await;
        match self.close {
            Closer::Sqlite(store, path) => {
                store.close().await;
                if !keep {
                    remove_sqlite(&path);
                }
            }
            Closer::Postgres(store) => store.close().await,
        }
    }
}

async fn measure_append(args: &Args, scratch: &Scratch) -> anyhow::Result<Vec<AppendSeries>> {
    let mut postgres = match &args.postgres {
        Some(url) => Some(Target::postgres(url).await?),
        None => None,
    };
    let mut series = Vec::new();
    for &leaves in &args.append_leaves {
        let mut sqlite = Target::sqlite(&scratch.file(&format!("append-{leaves}.db"))).await?;
        let mut targets = vec![&mut sqlite];
        if let Some(pg) = postgres.as_mut() {
            targets.push(pg);
        }
        let mut runs: Vec<Vec<AppendRun>> = targets.iter().map(|_| Vec::new()).collect();
        for round in 1..=args.rounds {
            for (target, runs) in targets.iter_mut().zip(&mut runs) {
                let run = append::run_round(
                    target.store.as_ref(),
                    &target.storage,
                    &mut target.sealer,
                    round,
                    leaves,
                )
                .await
                .with_context(|| format!("{} round {round}", target.storage.backend()))?;
                eprintln!(
                    "bench-ledger: {} {leaves} leaves round {round}: {:.0} leaves/s sealed \
                     ({} checkpoints), leaf_hash {:.0}/s, ratio {:.3}",
                    target.storage.backend(),
                    run.leaves_per_sec,
                    run.checkpoints,
                    run.leaf_hash_per_sec,
                    run.ceiling_ratio()
                );
                runs.push(run);
            }
        }
        for (target, runs) in targets.iter().zip(runs) {
            series.push(AppendSeries {
                backend: target.storage.backend(),
                durability: target.storage.durability().await,
                leaves,
                runs,
            });
        }
        sqlite.close(args.keep).await;
    }
    if let Some(pg) = postgres {
        pg.close(args.keep).await;
    }
    Ok(series)
}

async fn measure_proofs(args: &Args, scratch: &Scratch, size: u64) -> anyhow::Result<ProofSeries> {
    let path = scratch.file(&format!("proofs-{size}.db"));
    let url = sqlite_url(&path);
    // One vault for both openings: the store refuses a file stamped with another blind key.
    let vault = Arc::new(Vault::ephemeral());
    SqliteStore::connect(&url, Arc::clone(&vault))
        .await
        .with_context(|| format!("creating {}", path.display()))?
        .close()
        .await;
    eprintln!(
        "bench-ledger: building a log of {size} leaves in {}",
        path.display()
    );
    let mut conn = tree::open_bulk(&path).await?;
    let built = tree::build_nodes(&mut conn, size, &scratch.file("levels"), tree::CHUNK).await?;
    tree::close_bulk(conn).await?;
    // The load ran without syncs: write it out now, untimed, so that gigabytes of
    // writeback do not stall the proofs measured next.
    let synced = std::time::Instant::now();
    std::fs::File::open(&path)?.sync_all()?;
    eprintln!(
        "bench-ledger: synced the file in {:.1} s",
        synced.elapsed().as_secs_f64()
    );
    let file_bytes = std::fs::metadata(&path)?.len();
    eprintln!(
        "bench-ledger: built {} nodes in {:.1} s ({:.0} leaves/s), {:.1} bytes per leaf",
        built.nodes,
        built.secs,
        size as f64 / built.secs,
        file_bytes as f64 / size as f64
    );

    let store = SqliteStore::connect(&url, vault).await?;
    let signer = signer()?;
    let note = sign_checkpoint(&Checkpoint::new(ORIGIN, size, built.root)?, &signer)?;
    store
        .add_checkpoint(&CheckpointRecord {
            size,
            root: built.root,
            note,
            at: simpul_store::now(),
        })
        .await?;
    // The root proofs are checked against is the one an auditor would take: the stored
    // checkpoint's, after its signature is verified.
    let stored = store
        .latest_checkpoint()
        .await?
        .context("the checkpoint was not stored")?;
    let checkpoint = verify_checkpoint(&stored.note, &[signer.verifier()])?;
    ensure!(checkpoint.size() == size, "the checkpoint's size changed");

    let page_cache = report::PageCache::read(file_bytes);
    let log = proofs::Log {
        store: &store,
        size,
        root: *checkpoint.root(),
    };
    let mut rng = proofs::rng(SEED, size);
    let saturation = proofs::saturate(
        &log,
        &mut rng,
        args.warmup_proofs,
        Duration::from_secs(args.saturation_secs),
    )
    .await?;
    eprintln!(
        "bench-ledger: {size} leaves: {:.0} proofs/s in a closed loop, p99 {:.1} µs",
        saturation.proofs_per_sec, saturation.latency.p99
    );
    let rate = saturation.proofs_per_sec * args.open_fraction;
    let mut open = Vec::new();
    for round in 1..=args.rounds {
        let run = proofs::hold_rate(&log, &mut rng, rate, args.proofs).await?;
        eprintln!(
            "bench-ledger: {size} leaves round {round} at {rate:.0}/s: p50 {:.1} µs, p99 {:.1} µs, \
             verify p99 {:.2} µs",
            run.latency.p50, run.latency.p99, run.verify.p99
        );
        open.push(run);
    }
    store.close().await;
    if !args.keep {
        remove_sqlite(&path);
    }
    Ok(ProofSeries {
        leaves: size,
        build: Build {
            secs: built.secs,
            nodes: built.nodes,
            file_bytes,
            peak_rss_kib: report::peak_rss_kib(),
        },
        page_cache,
        saturation,
        open_fraction: args.open_fraction,
        open,
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
        let argv = std::iter::once("bench-ledger").chain(flags.iter().copied());
        Ok(Cli::try_parse_from(argv)?.args)
    }

    #[test]
    fn sizes_are_lists_and_the_defaults_are_the_issue_plan() -> anyhow::Result<()> {
        let args = parse(&[])?;
        args.check()?;
        assert_eq!(args.append_leaves, [100_000, 1_000_000]);
        assert_eq!(args.proof_leaves, [100_000_000]);
        assert_eq!(args.rounds, 3);
        let args = parse(&["--proof-leaves", "1000000,10000000"])?;
        assert_eq!(args.proof_leaves, [1_000_000, 10_000_000]);
        Ok(())
    }

    #[test]
    fn options_that_measure_nothing_are_refused() -> anyhow::Result<()> {
        for flags in [
            &["--rounds", "0"][..],
            &["--append-leaves", "0"],
            &["--proof-leaves", "10,0"],
            &["--proofs", "0"],
            &["--open-fraction", "0"],
            &["--open-fraction", "1.5"],
            &["--open-fraction", "NaN"],
            &["--skip-append", "--skip-proofs"],
        ] {
            assert!(parse(flags)?.check().is_err(), "{flags:?} accepted");
        }
        Ok(())
    }
}
