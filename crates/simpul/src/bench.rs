//! `simpul bench`: the load generator for NIK verification, measured the way
//! `BENCHMARKING.md` asks.
//!
//! Against a running hub with the demo city, one run:
//! 1. samples real residents and builds a realistic claim mix, then checks the server's
//!    verdicts on a few claims of each kind (pre-flight);
//! 2. measures throughput at saturation in a closed loop, for the ceiling (`GET /healthz`)
//!    and for single-claim verification, alternating for several rounds;
//! 3. measures latency in an open loop at fixed fractions of the verification saturation,
//!    from the intended send time, for verification and for the ceiling at the same rate;
//! 4. times batch verification;
//!
//! and prints a Markdown section ready for `BENCHMARKS.md` (optionally the raw results as JSON).
//! Load goes to loopback only: the target is checked before anything is sent.
//!
//! # Layout
//! - `target`: the target URL and the loopback-only rule.
//! - `http`: one hyper HTTP/1.1 connection, and the requests each workload sends.
//! - `claims`: the claim mix built from sampled residents; `sample`: fetching the sample and
//!   the pre-flight check.
//! - `load`: run plan, time window and connections shared by the loops; `closed`: the
//!   saturation loop; `open`: the fixed-rate loop, free of coordinated omission.
//! - `batch`: the batch run; `stats`: tallies, histograms, spreads, CPU use; `report`: the
//!   machine facts and the Markdown.

mod batch;
mod claims;
mod closed;
mod http;
mod load;
mod open;
pub(crate) mod report;
mod sample;
pub(crate) mod stats;
mod target;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, ensure};

use self::batch::BatchPlan;
use self::claims::ClaimPool;
use self::closed::ClosedRun;
use self::http::{Endpoint, Workload};
use self::load::Plan;
use self::open::OpenRun;
use self::report::{Machine, Report};
use self::target::Target;

/// Seed of the claim mix: fixed, so that runs against the same city send the same claims.
const MIX_SEED: u64 = 0x5151_7075_6c00_0001;

/// Options of `simpul bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Base URL of a running `simpul serve` with the demo city. Loopback only
    /// (127.0.0.0/8, ::1 or localhost): load on any other address is refused.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub target: String,
    /// Concurrent keep-alive connections for the closed and open loops.
    #[arg(long, default_value_t = 500)]
    pub connections: usize,
    /// Seconds measured per run.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of warm-up before each run's measurement.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// Offered rates for the open-loop latency runs, as fractions of the verification
    /// throughput at saturation (each in (0, 1]).
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.8")]
    pub rates: Vec<f64>,
    /// Claims sent in the batch run (0 skips it).
    #[arg(long, default_value_t = 1_000_000)]
    pub batch_claims: u64,
    /// Claims per batch request (the API accepts at most 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub batch_size: u64,
    /// Batch requests in flight at once.
    #[arg(long, default_value_t = 2)]
    pub batch_concurrency: usize,
    /// Residents to sample for the claim mix.
    #[arg(long, default_value_t = 20_000)]
    pub sample: usize,
    /// Rounds of the closed-loop pair (ceiling, verification); the order alternates so
    /// drift hits both alike. Spreads are reported over rounds.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Also write the raw results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Region whose residents are sampled (the demo city, Kota Madiun).
    #[arg(long, default_value = "35.77")]
    pub wilayah: String,
    /// Server's process id, to report its CPU use next to each figure.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// CPUs the server is pinned to, for the report (the script passes what it used).
    #[arg(long)]
    pub server_cpus: Option<String>,
    /// Machine client the load runs as (needs `search_residents verify_nik
    /// verify_nik_batch` and an agreement over the region; `scripts/bench-nik.sh` makes one).
    #[arg(long, env = "SIMPUL_BENCH_CLIENT_ID")]
    pub client_id: Option<String>,
    /// That client's secret.
    #[arg(long, env = "SIMPUL_BENCH_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// The command to print as the one that reproduces this run; the script passes its own
    /// command line, since this process's arguments include a pid.
    #[arg(long, hide = true)]
    pub command: Option<String>,
}

impl BenchArgs {
    /// Refuses options that would make a meaningless or unbounded run.
    fn check(&self) -> anyhow::Result<()> {
        ensure!(
            (1..=10_000).contains(&self.connections),
            "--connections must be 1 to 10000"
        );
        ensure!(
            (1..=3600).contains(&self.duration),
            "--duration must be 1 to 3600 seconds"
        );
        ensure!(self.warmup <= 600, "--warmup must be at most 600 seconds");
        ensure!(
            self.rates.iter().all(|r| *r > 0.0 && *r <= 1.0),
            "--rates are fractions of saturation, each in (0, 1]"
        );
        ensure!(
            (1..=10_000).contains(&self.batch_size),
            "--batch-size must be 1 to 10000"
        );
        ensure!(
            self.batch_claims <= 100_000_000,
            "--batch-claims must be at most 100000000"
        );
        ensure!(
            (1..=64).contains(&self.batch_concurrency),
            "--batch-concurrency must be 1 to 64"
        );
        ensure!(
            (1..=1_000_000).contains(&self.sample),
            "--sample must be 1 to 1000000"
        );
        ensure!((1..=50).contains(&self.rounds), "--rounds must be 1 to 50");
        Ok(())
    }
}

/// Runs the whole benchmark and prints the Markdown report on stdout (progress on stderr).
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    args.check()?;
    let target = Target::resolve(&args.target).await?;
    let (Some(client_id), Some(client_secret)) = (&args.client_id, &args.client_secret) else {
        anyhow::bail!(
            "give the machine client the load runs as: --client-id and --client-secret \
             (scripts/bench-nik.sh creates one)"
        );
    };
    http::authorize(&target, client_id, client_secret).await?;
    let machine = Machine::gather(args.server_cpus.clone(), args.command.clone());

    eprintln!(
        "bench: sampling up to {} residents of {}",
        args.sample, args.wilayah
    );
    let residents = sample::fetch_sample(&target, &args.wilayah, args.sample).await?;
    let pool = Arc::new(ClaimPool::new(claims::mix(&residents, MIX_SEED))?);
    let preflight = sample::preflight(&target, &pool).await?;
    for (kind, check) in &preflight {
        eprintln!(
            "bench: pre-flight {kind:?}: {}/{} as expected",
            check.as_expected, check.checked
        );
    }

    let loads = Loads {
        target: target.clone(),
        ceiling: Workload::ceiling(target.host_header.clone()),
        verification: Workload::verification(
            target.host_header.clone(),
            Arc::from(pool.bodies.clone()),
        ),
        plan: Plan {
            connections: args.connections,
            warmup: Duration::from_secs(args.warmup),
            duration: Duration::from_secs(args.duration),
        },
        server_pid: args.server_pid,
    };
    let mut report = Report {
        machine,
        target: args.target.clone(),
        connections: args.connections,
        warmup_secs: args.warmup,
        duration_secs: args.duration,
        sample: residents.len(),
        mix: pool.counts(),
        preflight,
        rounds: loads.saturation_rounds(args.rounds).await?,
        open: Vec::new(),
        batch: None,
    };
    match report.verification_saturation().filter(|s| *s > 0.0) {
        Some(saturation) => report.open = loads.latency_runs(saturation, &args.rates).await?,
        None => eprintln!(
            "bench: verification never answered 200 at saturation; skipping the open loop"
        ),
    }

    if args.batch_claims > 0 {
        let batch_plan = BatchPlan {
            claims: args.batch_claims,
            batch_size: args.batch_size,
            concurrency: args.batch_concurrency,
        };
        let run = batch::run_batches(&target, Arc::clone(&pool), batch_plan).await?;
        eprintln!(
            "bench: batch: {} claims in {:.2} s, {:.0} claims/s",
            run.claims_verified, run.wall_secs, run.claims_per_sec
        );
        report.batch = Some(run);
    }

    println!("{}", report.markdown());
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&report).context("serialising the results")?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The two workloads and how to load them: what the closed and open phases share.
struct Loads {
    target: Target,
    ceiling: Workload,
    verification: Workload,
    plan: Plan,
    server_pid: Option<u32>,
}

impl Loads {
    fn workload(&self, endpoint: Endpoint) -> &Workload {
        match endpoint {
            Endpoint::Ceiling => &self.ceiling,
            Endpoint::Verification => &self.verification,
        }
    }

    /// Closed-loop saturation of both endpoints, `rounds` times.
    async fn saturation_rounds(&self, rounds: usize) -> anyhow::Result<Vec<Vec<ClosedRun>>> {
        let mut all = Vec::with_capacity(rounds);
        for round in 0..rounds {
            // ABBA order: a slow drift of the machine's speed hits both endpoints alike.
            let order = if round % 2 == 0 {
                [Endpoint::Ceiling, Endpoint::Verification]
            } else {
                [Endpoint::Verification, Endpoint::Ceiling]
            };
            let mut runs = Vec::with_capacity(2);
            for endpoint in order {
                let run = closed::saturate(
                    &self.target,
                    self.workload(endpoint),
                    &self.plan,
                    self.server_pid,
                )
                .await?;
                eprintln!(
                    "bench: round {}/{rounds} {endpoint:?}: {:.0} req/s, {} failures",
                    round + 1,
                    run.requests_per_sec,
                    run.tally.failures()
                );
                runs.push(run);
            }
            all.push(runs);
        }
        Ok(all)
    }

    /// Open-loop latency of verification, then of the ceiling at the same offered rate, for
    /// each fraction of `saturation`.
    async fn latency_runs(
        &self,
        saturation: f64,
        fractions: &[f64],
    ) -> anyhow::Result<Vec<(f64, Vec<OpenRun>)>> {
        let mut all = Vec::with_capacity(fractions.len());
        for &fraction in fractions {
            let rate = saturation * fraction;
            let mut runs = Vec::with_capacity(2);
            for endpoint in [Endpoint::Verification, Endpoint::Ceiling] {
                let run = open::hold_rate(
                    &self.target,
                    self.workload(endpoint),
                    &self.plan,
                    rate,
                    self.server_pid,
                )
                .await?;
                eprintln!(
                    "bench: open loop {rate:.0} req/s {endpoint:?}: p50 {:.2} ms, p99 {:.2} ms, {} failures",
                    run.latency.p50_ms,
                    run.latency.p99_ms,
                    run.tally.failures()
                );
                runs.push(run);
            }
            all.push((fraction, runs));
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    #[test]
    fn defaults_match_the_documented_interface() -> anyhow::Result<()> {
        let args = Cli::try_parse_from(["bench"])?.bench;
        assert_eq!(args.target, "http://127.0.0.1:8080");
        assert_eq!(
            (args.connections, args.duration, args.warmup, args.rounds),
            (500, 10, 3, 3)
        );
        assert_eq!(args.rates, vec![0.5, 0.8]);
        assert_eq!(
            (
                args.batch_claims,
                args.batch_size,
                args.batch_concurrency,
                args.sample
            ),
            (1_000_000, 10_000, 2, 20_000)
        );
        args.check()
    }

    #[test]
    fn refuses_unbounded_or_meaningless_options() -> anyhow::Result<()> {
        for bad in [
            &["bench", "--rates", "0.5,1.5"][..],
            &["bench", "--rates", "0"],
            &["bench", "--connections", "0"],
            &["bench", "--duration", "0"],
            &["bench", "--batch-size", "10001"],
            &["bench", "--rounds", "0"],
        ] {
            let args = Cli::try_parse_from(bad)?.bench;
            assert!(args.check().is_err(), "{bad:?}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn refuses_a_remote_target_before_sending_anything() -> anyhow::Result<()> {
        let args = Cli::try_parse_from(["bench", "--target", "http://10.1.2.3:8080"])?.bench;
        let error = run(args)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("refused"), "{error}");
        Ok(())
    }
}
