//! The results of a run: machine facts, and the Markdown section for `BENCHMARKS.md`
//! (raw numbers next to ratios, spreads over rounds, the exact command).

use std::fmt::Write as _;

use serde::Serialize;

use super::append::AppendRun;
use super::proofs::{ClosedRun, OpenRun};
use super::storage::LedgerBytes;
use crate::bench::report::proc_field;
use crate::bench::stats::Spread;
use crate::bench_lampid::report::Machine;

/// Target of issue 5: leaves sealed per second, checkpoints included.
pub const APPEND_TARGET: f64 = 50_000.0;
/// Target of issue 5: one inclusion proof's verification, in microseconds.
pub const VERIFY_TARGET_MICROS: f64 = 100.0;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The 1, 5 and 15-minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "?".into())
}

/// A `kB` field of a `/proc` file, in KiB.
fn kib_field(text: &str, key: &str) -> Option<u64> {
    proc_field(text, key)?
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn meminfo_kib(key: &str) -> Option<u64> {
    kib_field(&std::fs::read_to_string("/proc/meminfo").ok()?, key)
}

/// This process's peak resident memory so far (`VmHWM`), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    kib_field(&std::fs::read_to_string("/proc/self/status").ok()?, "VmHWM")
}

/// How much of a database file the OS could be caching when proofs are read.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PageCache {
    pub file_gib: f64,
    /// `Cached` in `/proc/meminfo` (all files) when the proofs started.
    pub cached_gib: Option<f64>,
    pub available_gib: Option<f64>,
}

impl PageCache {
    pub fn read(file_bytes: u64) -> Self {
        let gib = |kib: u64| kib as f64 * 1024.0 / GIB;
        Self {
            file_gib: file_bytes as f64 / GIB,
            cached_gib: meminfo_kib("Cached").map(gib),
            available_gib: meminfo_kib("MemAvailable").map(gib),
        }
    }
}

/// The append phase on one store at one size.
#[derive(Debug, Clone, Serialize)]
pub struct AppendSeries {
    pub backend: &'static str,
    pub durability: String,
    pub leaves: u64,
    pub runs: Vec<AppendRun>,
}

impl AppendSeries {
    fn spread(&self, pick: impl Fn(&AppendRun) -> f64) -> Option<Spread> {
        Spread::of(&self.runs.iter().map(pick).collect::<Vec<_>>())
    }

    fn bytes(&self, pick: impl Fn(&LedgerBytes) -> f64) -> Option<f64> {
        let values: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|r| r.bytes_per_leaf.as_ref().map(&pick))
            .collect();
        Spread::of(&values).map(|s| s.median)
    }
}

/// The bulk load of one synthetic log.
#[derive(Debug, Clone, Serialize)]
pub struct Build {
    pub secs: f64,
    pub nodes: u64,
    pub file_bytes: u64,
    pub peak_rss_kib: Option<u64>,
}

/// Proofs on one synthetic log.
#[derive(Debug, Clone, Serialize)]
pub struct ProofSeries {
    pub leaves: u64,
    pub build: Build,
    pub page_cache: PageCache,
    pub saturation: ClosedRun,
    pub open_fraction: f64,
    pub open: Vec<OpenRun>,
}

impl ProofSeries {
    fn spread(&self, pick: impl Fn(&OpenRun) -> f64) -> Option<Spread> {
        Spread::of(&self.open.iter().map(pick).collect::<Vec<_>>())
    }
}

/// Everything one run measured; also the `--json` output.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    /// `/proc/loadavg` when the run started: other work on the machine.
    pub load_at_start: String,
    pub scratch: String,
    pub rounds: usize,
    pub seed: u64,
    /// `/proc/loadavg` when the run ended.
    pub load_at_end: String,
    pub append: Vec<AppendSeries>,
    pub proofs: Vec<ProofSeries>,
}

/// `1234567.8` as `1,234,568`.
fn grouped(value: f64) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 && digits != "0" {
        out.insert(0, '-');
    }
    out
}

fn median_range(spread: Option<Spread>, fmt: impl Fn(f64) -> String) -> String {
    match spread {
        Some(s) => format!("{} ({}–{})", fmt(s.median), fmt(s.min), fmt(s.max)),
        None => "–".into(),
    }
}

fn median(spread: Option<Spread>, fmt: impl Fn(f64) -> String) -> String {
    spread.map_or_else(|| "–".into(), |s| fmt(s.median))
}

fn micros(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.1}")
    }
}

fn bytes(value: f64) -> String {
    format!("{value:.1}")
}

fn met(yes: bool) -> &'static str {
    if yes { "**yes**" } else { "**no**" }
}

impl Report {
    /// The Markdown section.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        self.write_header(&mut out);
        self.write_append(&mut out);
        self.write_proofs(&mut out);
        out
    }

    fn write_header(&self, out: &mut String) {
        let m = &self.machine;
        let _ = writeln!(
            out,
            "## Ledger: sealing and inclusion proofs (`simpul bench-ledger`)\n"
        );
        let _ = writeln!(out, "Command: `{}`\n", m.command);
        let _ = writeln!(
            out,
            "- Machine: {} × {}, {:.1} GiB RAM; this process (store, sealer and load in one) \
             on CPUs {}",
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
            "- Load average (1, 5, 15 min) at the start: {}; at the end: {} (anything above \
             this process's own share means other work shared the two cores)",
            self.load_at_start, self.load_at_end
        );
        let _ = writeln!(
            out,
            "- Scratch databases under `{}`, removed afterwards; seed {:#x}",
            self.scratch, self.seed
        );
        let _ = writeln!(out);
    }

    fn write_append(&self, out: &mut String) {
        if self.append.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "### Sealing with checkpoints (target: ≥ {} leaves/s)\n",
            grouped(APPEND_TARGET)
        );
        let _ = writeln!(
            out,
            "Each round writes N synthetic access-log entries (untimed, 1,000 per commit; each \
             names one resident by a random, distinct blind index, as NIK verifications of a \
             large city mostly do), then \
             times `seal_round` called back to back until all N are leaves: 5,000 rows per \
             transaction with their leaves and Merkle nodes, and an Ed25519-signed checkpoint \
             stored after every round (at most 0.5 s of sealing each), as the hub's sealer does \
             while it works off a backlog. Rounds follow each other on the same log, so round r \
             seals on top of (r − 1)·N leaves; {} rounds. In the same round, over the same \
             leaves, one thread times the references: `LeafRecord::leaf_hash` alone (SHA-256 \
             of each leaf entry: the **ceiling**), `Frontier::append` (the tree's node hashes) \
             and `access_digest` (canonical JSON + SHA-256 of each entry); *in-memory* is the \
             three in sequence, the sealer's CPU work without the store. The frontier's root is \
             checked against the signed checkpoint's every round. Between filling and the \
             clock, the fill's writes are moved out of the write-ahead log (SQLite \
             `wal_checkpoint(TRUNCATE)`, PostgreSQL `CHECKPOINT`); during the timing the \
             store's own background checkpointing handles the sealer's writes.\n",
            self.rounds
        );
        let _ = writeln!(
            out,
            "| store | leaves per round | sealed leaves/s, median (min–max) | ceiling: leaf_hash \
             leaves/s | sealed / ceiling | Frontier::append leaves/s | in-memory leaves/s | \
             sealed / in-memory | checkpoints per round | ≥ {} |",
            grouped(APPEND_TARGET)
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for s in &self.append {
            let sealed = s.spread(|r| r.leaves_per_sec);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s.backend,
                grouped(s.leaves as f64),
                median_range(sealed, grouped),
                median(s.spread(|r| r.leaf_hash_per_sec), grouped),
                median_range(s.spread(AppendRun::ceiling_ratio), |v| format!("{v:.3}")),
                median(s.spread(|r| r.frontier_per_sec), grouped),
                median(s.spread(|r| r.in_memory_per_sec), grouped),
                median_range(s.spread(AppendRun::in_memory_ratio), |v| format!("{v:.3}")),
                median(s.spread(|r| r.checkpoints as f64), |v| format!("{v:.0}")),
                met(sealed.is_some_and(|s| s.median >= APPEND_TARGET)),
            );
        }
        let _ = writeln!(out);
        let mut backends: Vec<(&str, &str)> = self
            .append
            .iter()
            .map(|s| (s.backend, s.durability.as_str()))
            .collect();
        backends.sort_by_key(|(backend, _)| *backend);
        backends.dedup_by_key(|(backend, _)| *backend);
        for (backend, durability) in backends {
            let _ = writeln!(out, "- Durability, {backend}: {durability}");
        }
        for series in &self.append {
            let mut settled: Vec<&str> = series.runs.iter().map(|r| r.settled.as_str()).collect();
            settled.sort_unstable();
            settled.dedup();
            let wal = Spread::of(
                &series
                    .runs
                    .iter()
                    .filter_map(|r| r.wal_bytes_after)
                    .map(|b| b as f64 / (1024.0 * 1024.0))
                    .collect::<Vec<_>>(),
            );
            let rounds: Vec<String> = series
                .runs
                .iter()
                .map(|r| {
                    format!(
                        "{} (on {})",
                        grouped(r.leaves_per_sec),
                        grouped(r.size_before as f64)
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "- {} {} leaves: sealed leaves/s by round, in order (on a log of that many \
                 leaves): {}; before sealing, {}{}",
                series.backend,
                grouped(series.leaves as f64),
                rounds.join(", "),
                settled.join("; "),
                wal.map_or_else(String::new, |w| format!(
                    "; WAL file when the timed sealing ended: {:.0} MiB median ({:.0}–{:.0})",
                    w.median, w.min, w.max
                )),
            );
        }
        let _ = writeln!(
            out,
            "\nStorage per sealed leaf: what the ledger's tables grew by over a round, divided \
             by N (SQLite: `dbstat`, whole pages; PostgreSQL: `pg_table_size`, \
             `pg_indexes_size`, `pg_total_relation_size`), median over rounds. The access log's \
             own rows are not counted.\n"
        );
        let _ = writeln!(
            out,
            "| store | leaves per round | ledger_leaves | its indexes | ledger_nodes | \
             ledger_checkpoints | **total bytes per leaf** |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        for s in &self.append {
            let cell = |v: Option<f64>| v.map_or_else(|| "–".into(), bytes);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | **{}** |",
                s.backend,
                grouped(s.leaves as f64),
                cell(s.bytes(|b| b.leaves)),
                cell(s.bytes(|b| b.leaf_indexes)),
                cell(s.bytes(|b| b.nodes)),
                cell(s.bytes(|b| b.checkpoints)),
                cell(s.bytes(LedgerBytes::total)),
            );
        }
        let _ = writeln!(out);
    }

    fn write_proofs(&self, out: &mut String) {
        if self.proofs.is_empty() {
            return;
        }
        let _ = writeln!(out, "### Inclusion proofs on a synthetic log\n");
        let _ = writeln!(
            out,
            "The log's nodes (every complete Merkle node, leaves at level 0, as the sealer \
             stores them) are bulk-loaded straight into a fresh SQLite file's `ledger_nodes` \
             (hashing on one thread, writing on another, no journal and no syncs during the \
             load), then a signed checkpoint of the full size is stored through the store, and \
             the file is reopened by `SqliteStore` (WAL). Leaf `i` is an access entry with \
             sequence `i + 1` and a synthetic digest; `ledger_leaves` rows are not written \
             (proofs do not read them), so the file is the node table alone. The file is \
             synced to disk before the proofs start, so the kernel's writeback of the load \
             does not compete with them.\n"
        );
        let _ = writeln!(
            out,
            "| leaves | node rows | build time | build leaves/s | file size | file bytes per leaf \
             (nodes only) | peak RSS of the process |"
        );
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|");
        for p in &self.proofs {
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} s | {} | {:.2} GiB | {:.1} | {} |",
                grouped(p.leaves as f64),
                grouped(p.build.nodes as f64),
                p.build.secs,
                grouped(p.leaves as f64 / p.build.secs),
                p.build.file_bytes as f64 / GIB,
                p.build.file_bytes as f64 / p.leaves as f64,
                p.build
                    .peak_rss_kib
                    .map_or_else(|| "?".into(), |kib| format!("{} MiB", kib / 1024)),
            );
        }
        let fraction = self.proofs.first().map_or(0.5, |p| p.open_fraction);
        let runs = self.proofs.first().map_or(0, |p| p.open.len());
        let count = self
            .proofs
            .first()
            .and_then(|p| p.open.first())
            .map_or(0, |r| r.latency.count);
        let _ = writeln!(
            out,
            "\nProof generation through the store, as the API answers \
             `GET /api/v1/ledger/proof/inclusion`: `inclusion_proof_nodes`, one \
             `ledger_nodes` query for them, `inclusion_proof` over the result; uniformly random \
             leaves (seeded). Saturation: one task, proofs back to back for the set time after \
             a warm-up. Latency: an open loop offering {:.0}% of that rate from one task, each \
             proof's latency taken from its due time (so a stall is charged to the proofs \
             queued behind it); {runs} runs of {} proofs, percentiles are medians over runs \
             (p99 with its min–max), in µs.\n",
            fraction * 100.0,
            grouped(count as f64),
        );
        let _ = writeln!(
            out,
            "| leaves | saturation proofs/s (closed loop, 1 task) | closed-loop p50 / p99 µs | \
             offered proofs/s | achieved proofs/s | p50 | p99 (min–max) | p99.9 | max | send \
             lag p99 |"
        );
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for p in &self.proofs {
            let s = &p.saturation;
            let _ = writeln!(
                out,
                "| {} | {} | {} / {} | {} | {} | {} | {} | {} | {} | {} |",
                grouped(p.leaves as f64),
                grouped(s.proofs_per_sec),
                micros(s.latency.p50),
                micros(s.latency.p99),
                median(p.spread(|r| r.offered_per_sec), grouped),
                median(p.spread(|r| r.achieved_per_sec), grouped),
                median(p.spread(|r| r.latency.p50), micros),
                median_range(p.spread(|r| r.latency.p99), micros),
                median(p.spread(|r| r.latency.p999), micros),
                median(p.spread(|r| r.latency.max), micros),
                median(p.spread(|r| r.send_lag.p99), micros),
            );
        }
        let _ = writeln!(
            out,
            "\nVerification: `verify_inclusion` of each of those proofs against the root of \
             the stored checkpoint (whose signature is verified first), each call timed alone; \
             the leaf hash is recomputed from its index outside the timing. Medians over runs, \
             in µs.\n"
        );
        let _ = writeln!(
            out,
            "| leaves | hashes per proof (max) | p50 | p99 | p99.9 | max | p99 < {:.0} µs |",
            VERIFY_TARGET_MICROS
        );
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---|");
        for p in &self.proofs {
            let p99 = p.spread(|r| r.verify.p99);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                grouped(p.leaves as f64),
                p.open.iter().map(|r| r.max_path).max().unwrap_or(0),
                median(p.spread(|r| r.verify.p50), micros),
                median_range(p99, micros),
                median(p.spread(|r| r.verify.p999), micros),
                median(p.spread(|r| r.verify.max), micros),
                met(p99.is_some_and(|s| s.median < VERIFY_TARGET_MICROS)),
            );
        }
        let _ = writeln!(out);
        for p in &self.proofs {
            let c = &p.page_cache;
            let _ = writeln!(
                out,
                "- {} leaves: the file ({:.2} GiB) had just been written and reopened; when the \
                 proofs started the OS page cache held {} of file data and {} was available, so \
                 {}.",
                grouped(p.leaves as f64),
                c.file_gib,
                c.cached_gib
                    .map_or_else(|| "?".into(), |g| format!("{g:.1} GiB")),
                c.available_gib
                    .map_or_else(|| "?".into(), |g| format!("{g:.1} GiB")),
                if c.available_gib.is_some_and(|g| g >= c.file_gib) {
                    "it fits in available memory and was likely resident: warm-cache figures"
                } else {
                    "it does not fit in available memory: part of the reads went to disk"
                }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_figures_are_grouped_by_thousands() {
        assert_eq!(grouped(0.4), "0");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(1_000.0), "1,000");
        assert_eq!(grouped(1_234_567.8), "1,234,568");
        assert_eq!(grouped(-12_345.0), "-12,345");
        assert_eq!(grouped(f64::NAN), "–");
    }

    #[test]
    fn kib_fields_are_read_from_proc_text() {
        let status = "Name:\tsimpul\nVmHWM:\t  123456 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(kib_field(status, "VmHWM"), Some(123_456));
        assert_eq!(kib_field(status, "VmSwap"), None);
    }
}
