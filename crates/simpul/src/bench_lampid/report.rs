//! The results of a run: the machine facts, and the Markdown section for `BENCHMARKS.md`
//! (raw numbers next to ratios, spreads over rounds, the exact command).

use std::fmt::Write as _;

use serde::Serialize;
use simpul_store::RegistryCounts;

use super::births::{ClosedRun, Workload};
use super::measure::Spread;
use super::statistics::{Answer, MAX_LOAD, OpenRun, Query};
use crate::bench::report::proc_field;

/// Target of issue 4: births taken end to end, per second.
pub const THROUGHPUT_TARGET: f64 = 2_000.0;
/// Target of issue 4: p99 of a statistics query, in milliseconds.
pub const P99_TARGET_MS: f64 = 10.0;

/// Facts about the machine and the run that make a figure reproducible.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Processors the machine has (`processor` lines in `/proc/cpuinfo`).
    pub cpus: usize,
    /// Processors this process may run on (`Cpus_allowed_list`), as taskset set it.
    pub allowed_cpus: String,
    pub cpu_model: String,
    pub memory_gib: f64,
    /// Local date and time, RFC 3339.
    pub date: String,
    /// `git rev-parse --short HEAD` of the working directory (or as the caller said).
    pub commit: Option<String>,
    /// The command line, as run.
    pub command: String,
}

impl Machine {
    /// Reads the facts from `/proc` and git; `command` replaces this process's own command
    /// line and `commit` the checkout's commit when given.
    pub fn gather(command: Option<String>, commit: Option<String>) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cpus: cpuinfo
                .lines()
                .filter(|l| l.starts_with("processor"))
                .count(),
            allowed_cpus: proc_field(&status, "Cpus_allowed_list")
                .unwrap_or("?")
                .to_owned(),
            cpu_model: proc_field(&cpuinfo, "model name")
                .unwrap_or("unknown")
                .to_owned(),
            memory_gib: proc_field(&meminfo, "MemTotal")
                .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
                .map_or(0.0, |kib| kib / 1024.0 / 1024.0),
            date: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            commit: commit.or_else(git_commit),
            command: command.unwrap_or_else(|| {
                std::env::args()
                    .map(|arg| redact_url(&arg))
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        }
    }
}

/// The commit of the current directory's checkout (read-only), marked when tracked files
/// differ from it: the binary measured may then not be that commit.
fn git_commit() -> Option<String> {
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        output.status.success().then(|| text.trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]).filter(|c| !c.is_empty())?;
    let changed = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|status| !status.is_empty());
    Some(if changed {
        format!("{commit} + uncommitted changes")
    } else {
        commit
    })
}

/// A database URL fit to print: any password is replaced.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// The throughput half of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub workers: usize,
    pub warmup_secs: u64,
    pub duration_secs: u64,
    pub mothers: usize,
    pub birth_days: u32,
    /// Closed-loop runs per round, in the order run.
    pub rounds: Vec<Vec<ClosedRun>>,
    /// Journal entries added over the whole phase, and the count the loops' commits imply.
    pub journal_added: u64,
    pub journal_expected: u64,
    /// Durable 4 KiB writes per second one waiting writer gets in the data directory.
    pub fsyncs_per_sec: Option<f64>,
}

impl Throughput {
    fn figure(&self, workload: Workload, pick: impl Fn(&ClosedRun) -> f64) -> Vec<f64> {
        self.rounds
            .iter()
            .flatten()
            .filter(|r| r.workload == workload)
            .map(pick)
            .collect()
    }

    /// Per-round births' transactions/s over the ceiling's.
    pub fn ratios(&self) -> Vec<f64> {
        let births = self.figure(Workload::Births, |r| r.transactions_per_sec);
        let ceiling = self.figure(Workload::Ceiling, |r| r.transactions_per_sec);
        births
            .iter()
            .zip(&ceiling)
            .map(|(b, c)| if *c > 0.0 { b / c } else { f64::NAN })
            .collect()
    }

    /// Per-round births/s with the ledger sealing beside them over births/s without.
    pub fn ledger_ratios(&self) -> Vec<f64> {
        let plain = self.figure(Workload::Births, |r| r.operations_per_sec);
        let sealed = self.figure(Workload::BirthsSealed, |r| r.operations_per_sec);
        sealed
            .iter()
            .zip(&plain)
            .map(|(s, p)| if *p > 0.0 { s / p } else { f64::NAN })
            .collect()
    }

    pub fn births_per_sec(&self) -> Option<Spread> {
        Spread::of(&self.figure(Workload::Births, |r| r.operations_per_sec))
    }
}

/// The statistics half of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Tasks of the saturation loop.
    pub workers: usize,
    pub saturation_secs: u64,
    pub asked_rate: f64,
    pub warmup_secs: u64,
    pub duration_secs: u64,
    /// Queries per second in the closed loop, per query.
    pub saturation: Vec<(Query, f64)>,
    /// What each query answered before the runs (they must agree on the residents).
    pub answers: Vec<(Query, Answer)>,
    /// Open-loop runs per round, in the order run.
    pub rounds: Vec<Vec<OpenRun>>,
}

impl Latency {
    fn p99s(&self, query: Query) -> Vec<f64> {
        self.rounds
            .iter()
            .flatten()
            .filter(|r| r.query == query)
            .map(|r| r.latency.p99_ms)
            .collect()
    }

    pub fn p99(&self, query: Query) -> Option<Spread> {
        Spread::of(&self.p99s(query))
    }
}

/// Everything one `simpul bench-lampid` measured; also the `--json` output.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    /// `SQLite` or `PostgreSQL`.
    pub backend: &'static str,
    pub database: String,
    pub durability: String,
    pub region: String,
    pub region_name: String,
    pub counts_before: RegistryCounts,
    pub counts_after: RegistryCounts,
    pub latency: Option<Latency>,
    pub throughput: Option<Throughput>,
}

fn spread_cells(s: Option<Spread>, digits: usize) -> String {
    match s {
        Some(s) => format!(
            "{:.d$} | **{:.d$}** | {:.d$}",
            s.min,
            s.median,
            s.max,
            d = digits
        ),
        None => "– | – | –".to_owned(),
    }
}

/// A rate per second: whole numbers, but two decimals below 10 (a full scan of a large
/// table runs well under one per second, and "0" would say nothing).
pub fn per_sec(rate: f64) -> String {
    if rate < 10.0 {
        format!("{rate:.2}")
    } else {
        format!("{rate:.0}")
    }
}

fn met(yes: bool) -> &'static str {
    if yes { "**yes**" } else { "**no**" }
}

impl Report {
    /// The Markdown section.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        self.write_header(&mut out);
        self.write_summary(&mut out);
        if let Some(t) = &self.throughput {
            write_throughput(&mut out, t);
        }
        if let Some(l) = &self.latency {
            write_latency(&mut out, l, &self.region);
        }
        out
    }

    fn write_header(&self, out: &mut String) {
        let m = &self.machine;
        let _ = writeln!(
            out,
            "## e-LAMPID throughput and statistics latency ({}, `simpul bench-lampid`)\n",
            self.backend
        );
        let _ = writeln!(out, "Command: `{}`\n", m.command);
        let _ = writeln!(
            out,
            "- Machine: {} × {}, {:.1} GiB RAM; this process (store and load together, \
             in-process) on CPUs {}",
            m.cpus, m.cpu_model, m.memory_gib, m.allowed_cpus
        );
        let _ = writeln!(
            out,
            "- Date: {}; commit: {}",
            m.date,
            m.commit.as_deref().unwrap_or("unknown")
        );
        let _ = writeln!(
            out,
            "- Store: {} (`{}`); durability: {}",
            self.backend, self.database, self.durability
        );
        let c = &self.counts_before;
        let _ = writeln!(
            out,
            "- Data: {} {} — {} residents, {} families, {} journal entries before the run \
             ({} residents, {} journal entries after)",
            self.region,
            self.region_name,
            c.residents,
            c.families,
            c.journal,
            self.counts_after.residents,
            self.counts_after.journal
        );
        if self.backend == "PostgreSQL" {
            let _ = writeln!(
                out,
                "- The PostgreSQL server runs on the same machine, not pinned by this command; \
                 its CPU time is not in the CPU column"
            );
        }
        let _ = writeln!(
            out,
            "- Measured at the store level (`Store` trait calls in one process), no HTTP: no \
             authentication, authorization gate or access log on these paths"
        );
    }

    fn write_summary(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n| workload | target | measured (median) | met? |\n|---|---|---|---|"
        );
        if let Some(t) = &self.throughput {
            let births = t.births_per_sec();
            let events = Spread::of(&t.figure(Workload::Births, |r| r.events_per_sec));
            let births_med = births.map_or(0.0, |s| s.median);
            let _ = writeln!(
                out,
                "| births end to end (submit → verify → register), {} workers | ≥ {:.0} births/s | {:.0} births/s ({:.0} journal events/s) | {} |",
                t.workers,
                THROUGHPUT_TARGET,
                births_med,
                events.map_or(0.0, |s| s.median),
                met(births_med >= THROUGHPUT_TARGET)
            );
        }
        if let Some(l) = &self.latency {
            for query in [Query::Population, Query::PopulationByKecamatan] {
                let rate = l
                    .rounds
                    .iter()
                    .flatten()
                    .find(|r| r.query == query)
                    .map_or(0.0, |r| r.offered_per_sec);
                let p99 = l.p99(query).map_or(f64::NAN, |s| s.median);
                let _ = writeln!(
                    out,
                    "| {}, p99 at {} req/s | < {P99_TARGET_MS:.0} ms | {p99:.2} ms | {} |",
                    query.label(),
                    per_sec(rate),
                    met(p99 < P99_TARGET_MS)
                );
            }
        }
    }
}

/// A figure of a closed-loop run, picked for a row of the spread table.
type Pick = fn(&ClosedRun) -> f64;

fn write_throughput(out: &mut String, t: &Throughput) {
    let _ = writeln!(
        out,
        "\n### Throughput at saturation (closed loop, {} workers, warm-up {} s, measured {} s, {} rounds alternating)\n",
        t.workers,
        t.warmup_secs,
        t.duration_secs,
        t.rounds.len()
    );
    let _ = writeln!(
        out,
        "Births use {} mothers (living women aged 16–44 on every birth date) from every \
         kelurahan, in turn; birth dates spread over the last {} days; each birth is 3 \
         transactions and 5 journal events. The ceiling appends one `laporan.dibuat` event per \
         transaction through the same write path (`Store::append`).\n",
        t.mothers, t.birth_days
    );
    let _ = writeln!(
        out,
        "| Round | Run | births/s | journal events/s | transactions/s | CPU % (process) | errors |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|");
    for (i, round) in t.rounds.iter().enumerate() {
        for run in round {
            let births = if run.workload != Workload::Ceiling {
                format!("{:.0}", run.operations_per_sec)
            } else {
                "–".to_owned()
            };
            let _ = writeln!(
                out,
                "| {} | {} | {births} | {:.0} | {:.0} | {} | {} |",
                i + 1,
                run.workload.label(),
                run.events_per_sec,
                run.transactions_per_sec,
                run.cpu_pct.map_or("?".to_owned(), |c| format!("{c:.0}")),
                run.tally.error_count()
            );
        }
    }
    let _ = writeln!(out, "\n| | min | **median** | max |\n|---|---:|---:|---:|");
    let rows: [(&str, Workload, Pick); 5] = [
        ("births/s", Workload::Births, |r| r.operations_per_sec),
        (
            "births/s with the ledger sealing beside them",
            Workload::BirthsSealed,
            |r| r.operations_per_sec,
        ),
        ("births: journal events/s", Workload::Births, |r| {
            r.events_per_sec
        }),
        ("births: transactions/s", Workload::Births, |r| {
            r.transactions_per_sec
        }),
        (
            "ceiling: transactions/s (= events/s)",
            Workload::Ceiling,
            |r| r.transactions_per_sec,
        ),
    ];
    for (label, workload, pick) in rows {
        let _ = writeln!(
            out,
            "| {label} | {} |",
            spread_cells(Spread::of(&t.figure(workload, pick)), 0)
        );
    }
    let _ = writeln!(
        out,
        "| births' transactions/s ÷ ceiling's (per round) | {} |",
        spread_cells(Spread::of(&t.ratios()), 3)
    );
    let _ = writeln!(
        out,
        "| births/s with the ledger ÷ without (per round): what sealing costs | {} |",
        spread_cells(Spread::of(&t.ledger_ratios()), 3)
    );
    let errors: std::collections::BTreeMap<&str, u64> = t
        .rounds
        .iter()
        .flatten()
        .flat_map(|r| r.tally.errors.iter().map(|(e, n)| (e.as_str(), *n)))
        .fold(Default::default(), |mut all, (e, n)| {
            *all.entry(e).or_default() += n;
            all
        });
    let _ = writeln!(
        out,
        "\n- Journal: {} entries added during the phase; the loops' commits account for {}{}",
        t.journal_added,
        t.journal_expected,
        if t.journal_added == t.journal_expected {
            " (equal)"
        } else {
            " (**they differ**)"
        }
    );
    if let Some(rate) = t.fsyncs_per_sec {
        let _ = writeln!(
            out,
            "- The disk under the data directory: {rate:.0} fsync/s (4 KiB write + `fdatasync`, \
             one writer waiting for each): the order of magnitude of durable commits per second \
             a single writer can make"
        );
    }
    if errors.is_empty() {
        let _ = writeln!(out, "- Errors: none");
    } else {
        let _ = writeln!(out, "- **Errors:**");
        for (error, n) in errors {
            let _ = writeln!(out, "  - {n} × {error}");
        }
    }
}

fn write_latency(out: &mut String, l: &Latency, region: &str) {
    let _ = writeln!(
        out,
        "\n### Statistics queries on {region}\n\n\
         Saturation first (closed loop, {} tasks, {} s each), then latency in an open loop at a \
         fixed rate ({:.0} req/s asked, lowered to {:.0}% of a query's saturation when that is \
         less), warm-up {} s, measured {} s, {} rounds alternating; latency from the intended \
         send time, hdrhistogram.\n",
        l.workers,
        l.saturation_secs,
        l.asked_rate,
        MAX_LOAD * 100.0,
        l.warmup_secs,
        l.duration_secs,
        l.rounds.len()
    );
    let _ = writeln!(
        out,
        "| Query | living residents counted | rows read back | saturation req/s |\n|---|---:|---:|---:|"
    );
    for (query, answer) in &l.answers {
        let saturation = l
            .saturation
            .iter()
            .find(|(q, _)| q == query)
            .map_or(0.0, |(_, s)| *s);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            query.label(),
            answer.residents,
            answer.rows,
            per_sec(saturation)
        );
    }
    let _ = writeln!(
        out,
        "\n| Round | Query | offered req/s | achieved req/s | latencies | p50 ms | p90 ms | p99 ms | max ms | missed | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (i, round) in l.rounds.iter().enumerate() {
        for run in round {
            let s = &run.latency;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |",
                i + 1,
                run.query.label(),
                per_sec(run.offered_per_sec),
                per_sec(run.achieved_per_sec),
                s.count,
                s.p50_ms,
                s.p90_ms,
                s.p99_ms,
                s.max_ms,
                run.missed,
                run.errors
            );
        }
    }
    let _ = writeln!(
        out,
        "\n| p99 ms over rounds | min | **median** | max |\n|---|---:|---:|---:|"
    );
    for query in Query::ALL {
        let _ = writeln!(
            out,
            "| {} | {} |",
            query.label(),
            spread_cells(l.p99(query), 2)
        );
    }
    let status_quo = l.p99(Query::StatusQuo).map(|s| s.median);
    for query in [Query::Population, Query::PopulationByKecamatan] {
        if let (Some(own), Some(peer)) = (l.p99(query).map(|s| s.median), status_quo)
            && peer > 0.0
        {
            let _ = writeln!(
                out,
                "\n{}: p99 ÷ status quo's p99 = {:.3} (medians)",
                query.label(),
                own / peer
            );
        }
    }
    let _ = writeln!(
        out,
        "\nThe status-quo query is a lower bound: it groups by plain columns only. Birth dates \
         are sealed at rest, so a `GROUP BY` cannot produce the age bands simpul answers \
         without reading and decrypting every resident row."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_report() {
        assert_eq!(
            redact_url("postgres://bench:s3cret@127.0.0.1:5432/db"),
            "postgres://bench:***@127.0.0.1:5432/db"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/db"),
            "postgres://postgres@127.0.0.1/db"
        );
        assert_eq!(
            redact_url("sqlite:///tmp/x/simpul.db"),
            "sqlite:///tmp/x/simpul.db"
        );
    }

    fn closed(workload: Workload, ops: f64, tx: f64, events: f64) -> ClosedRun {
        ClosedRun {
            workload,
            workers: 16,
            window_secs: 10.0,
            operations_per_sec: ops,
            events_per_sec: events,
            transactions_per_sec: tx,
            cpu_pct: Some(50.0),
            tally: super::super::births::Tally::default(),
        }
    }

    fn open(query: Query, p99_ms: f64) -> OpenRun {
        OpenRun {
            query,
            offered_per_sec: 200.0,
            achieved_per_sec: 200.0,
            latency: super::super::measure::LatencySummary {
                count: 2000,
                p50_ms: p99_ms / 2.0,
                p90_ms: p99_ms / 1.5,
                p99_ms,
                max_ms: p99_ms * 2.0,
            },
            missed: 0,
            errors: 0,
        }
    }

    fn report() -> Report {
        let rounds = vec![
            vec![
                closed(Workload::Births, 100.0, 300.0, 500.0),
                closed(Workload::Ceiling, 600.0, 600.0, 600.0),
            ],
            vec![
                closed(Workload::Births, 120.0, 360.0, 600.0),
                closed(Workload::Ceiling, 600.0, 600.0, 600.0),
            ],
        ];
        Report {
            machine: Machine::gather(
                Some("scripts/bench-lampid.sh".into()),
                Some("c0ffee1".into()),
            ),
            backend: "SQLite",
            database: "sqlite:///tmp/x/simpul.db".into(),
            durability: "synchronous = FULL".into(),
            region: "35.77".into(),
            region_name: "Kota Madiun".into(),
            counts_before: RegistryCounts::default(),
            counts_after: RegistryCounts::default(),
            latency: Some(Latency {
                workers: 8,
                saturation_secs: 3,
                asked_rate: 200.0,
                warmup_secs: 1,
                duration_secs: 10,
                saturation: vec![(Query::Population, 5000.0)],
                answers: vec![],
                rounds: vec![
                    vec![
                        open(Query::Population, 2.0),
                        open(Query::PopulationByKecamatan, 12.0),
                        open(Query::StatusQuo, 40.0),
                    ],
                    vec![
                        open(Query::Population, 4.0),
                        open(Query::PopulationByKecamatan, 14.0),
                        open(Query::StatusQuo, 40.0),
                    ],
                ],
            }),
            throughput: Some(Throughput {
                workers: 16,
                warmup_secs: 3,
                duration_secs: 10,
                mothers: 1000,
                birth_days: 30,
                rounds,
                journal_added: 11_000,
                journal_expected: 11_000,
                fsyncs_per_sec: Some(360.0),
            }),
        }
    }

    #[test]
    fn ratios_pair_the_runs_of_each_round() {
        let report = report();
        let t = report.throughput.as_ref().map(Throughput::ratios);
        assert_eq!(t, Some(vec![0.5, 0.6]));
        let births = report
            .throughput
            .as_ref()
            .and_then(Throughput::births_per_sec);
        assert_eq!(births.map(|s| s.median), Some(110.0));
    }

    #[test]
    fn the_summary_says_which_targets_are_met() {
        let text = report().markdown();
        assert!(
            text.contains("| ≥ 2000 births/s | 110 births/s (550 journal events/s) | **no** |"),
            "{text}"
        );
        // Medians over rounds: 3.00 ms meets the target, 13.00 ms does not.
        assert!(text.contains("| < 10 ms | 3.00 ms | **yes** |"), "{text}");
        assert!(text.contains("| < 10 ms | 13.00 ms | **no** |"), "{text}");
        assert!(
            text.contains(
                "| births' transactions/s ÷ ceiling's (per round) | 0.500 | **0.550** | 0.600 |"
            ),
            "{text}"
        );
        assert!(text.contains("p99 ÷ status quo's p99 = 0.075"), "{text}");
        assert!(text.contains("commits account for 11000 (equal)"), "{text}");
        assert!(text.contains("commit: c0ffee1\n"), "{text}");
        assert!(
            text.contains("Command: `scripts/bench-lampid.sh`"),
            "{text}"
        );
    }

    #[test]
    fn slow_rates_keep_their_decimals() {
        assert_eq!(per_sec(0.3333), "0.33");
        assert_eq!(per_sec(9.994), "9.99");
        assert_eq!(per_sec(199.6), "200");
    }

    #[test]
    fn reads_proc_fields() {
        let text = "model name\t: AMD EPYC\nMemTotal:       24000000 kB\n";
        assert_eq!(proc_field(text, "model name"), Some("AMD EPYC"));
        assert_eq!(proc_field(text, "MemTotal"), Some("24000000 kB"));
        assert_eq!(proc_field(text, "missing"), None);
    }
}
