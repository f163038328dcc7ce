//! The results of a run: the machine facts, and the Markdown section for `BENCHMARKS.md`
//! (raw numbers next to ratios, spreads over rounds, the exact command).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::batch::BatchRun;
use super::claims::ClaimKind;
use super::closed::ClosedRun;
use super::http::Endpoint;
use super::open::OpenRun;
use super::sample::KindCheck;
use super::stats::{CpuBusy, Spread, Tally};

/// Facts about the machine and the run that make a figure reproducible.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Processors the machine has (`processor` lines in `/proc/cpuinfo`).
    pub cpus: usize,
    /// Processors this load generator may run on (`Cpus_allowed_list`), as set by taskset.
    pub client_cpus: String,
    /// Processors the server was pinned to, as the caller told us (`--server-cpus`).
    pub server_cpus: Option<String>,
    pub cpu_model: String,
    pub memory_gib: f64,
    /// Local date and time, RFC 3339.
    pub date: String,
    /// `git describe` of the working directory, when it is a checkout.
    pub commit: Option<String>,
    /// The command line, as run.
    pub command: String,
}

impl Machine {
    /// Reads the facts from `/proc` and the environment; `command` replaces this process's
    /// own command line when given.
    pub fn gather(server_cpus: Option<String>, command: Option<String>) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cpus: cpuinfo
                .lines()
                .filter(|l| l.starts_with("processor"))
                .count(),
            client_cpus: proc_field(&status, "Cpus_allowed_list")
                .unwrap_or("?")
                .to_owned(),
            server_cpus,
            cpu_model: proc_field(&cpuinfo, "model name")
                .unwrap_or("unknown")
                .to_owned(),
            memory_gib: proc_field(&meminfo, "MemTotal")
                .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
                .map_or(0.0, |kib| kib / 1024.0 / 1024.0),
            date: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            commit: git_describe(),
            command: command.unwrap_or_else(|| std::env::args().collect::<Vec<_>>().join(" ")),
        }
    }
}

/// The value of the first `key: value` line of a `/proc` file.
pub(crate) fn proc_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// The commit of the current directory's checkout (read-only; `-dirty` when modified).
fn git_describe() -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

/// Everything one `simpul bench` measured; also the `--json` output.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub target: String,
    pub connections: usize,
    pub warmup_secs: u64,
    pub duration_secs: u64,
    /// Residents sampled, and the claims of each kind built from them.
    pub sample: usize,
    pub mix: Vec<(ClaimKind, usize)>,
    pub preflight: BTreeMap<ClaimKind, KindCheck>,
    /// Closed-loop runs, per round in the order run.
    pub rounds: Vec<Vec<ClosedRun>>,
    /// Open-loop runs, per fraction of saturation: verification then ceiling.
    pub open: Vec<(f64, Vec<OpenRun>)>,
    pub batch: Option<BatchRun>,
}

impl Report {
    fn throughput(&self, endpoint: Endpoint) -> Vec<f64> {
        self.rounds
            .iter()
            .flatten()
            .filter(|r| r.endpoint == endpoint)
            .map(|r| r.requests_per_sec)
            .collect()
    }

    /// Per-round verification / ceiling ratios.
    pub fn ratios(&self) -> Vec<f64> {
        let ceiling = self.throughput(Endpoint::Ceiling);
        let verification = self.throughput(Endpoint::Verification);
        ceiling
            .iter()
            .zip(&verification)
            .map(|(c, v)| if *c > 0.0 { v / c } else { f64::NAN })
            .collect()
    }

    /// Verification throughput at saturation, median over rounds.
    pub fn verification_saturation(&self) -> Option<f64> {
        Spread::of(&self.throughput(Endpoint::Verification)).map(|s| s.median)
    }

    /// Every run's failures, with where they happened.
    fn failures(&self) -> Vec<(String, &Tally)> {
        let mut all = Vec::new();
        for (i, round) in self.rounds.iter().enumerate() {
            for run in round {
                all.push((
                    format!("round {} {}", i + 1, short(run.endpoint)),
                    &run.tally,
                ));
            }
        }
        for (fraction, runs) in &self.open {
            for run in runs {
                all.push((
                    format!("open loop {:.0}% {}", fraction * 100.0, short(run.endpoint)),
                    &run.tally,
                ));
            }
        }
        if let Some(batch) = &self.batch {
            all.push(("batch".to_owned(), &batch.tally));
        }
        all.retain(|(_, t)| t.failures() > 0);
        all
    }

    /// The Markdown section.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        self.write_header(&mut out);
        self.write_throughput(&mut out);
        self.write_latency(&mut out);
        self.write_batch(&mut out);
        out
    }

    fn write_header(&self, out: &mut String) {
        let m = &self.machine;
        let _ = writeln!(out, "## NIK verification over HTTP (`simpul bench`)\n");
        let _ = writeln!(out, "Command: `{}`\n", m.command);
        let _ = writeln!(
            out,
            "- Machine: {} × {}, {:.1} GiB RAM; load generator on CPU {}, server on CPU {}",
            m.cpus,
            m.cpu_model,
            m.memory_gib,
            m.client_cpus,
            m.server_cpus
                .as_deref()
                .unwrap_or("(not pinned by this command)")
        );
        let _ = writeln!(
            out,
            "- Date: {}; commit: {}",
            m.date,
            m.commit.as_deref().unwrap_or("unknown")
        );
        let _ = writeln!(
            out,
            "- Target {} over loopback, HTTP/1.1 keep-alive, {} connections, warm-up {} s, measured {} s per run",
            self.target, self.connections, self.warmup_secs, self.duration_secs
        );
        let mix: Vec<String> = self
            .mix
            .iter()
            .map(|(k, n)| format!("{n} {}", kind_label(*k)))
            .collect();
        let _ = writeln!(
            out,
            "- Claims from {} sampled residents: {}",
            self.sample,
            mix.join(", ")
        );
        let checks: Vec<String> = self
            .preflight
            .iter()
            .map(|(k, c)| format!("{} {}/{}", kind_label(*k), c.as_expected, c.checked))
            .collect();
        let _ = writeln!(
            out,
            "- Pre-flight verdicts as expected: {}",
            checks.join(", ")
        );
        let failures = self.failures();
        if failures.is_empty() {
            let _ = writeln!(out, "- Errors: none (every request answered 200)");
        } else {
            let _ = writeln!(out, "- **This run had errors:**");
            for (place, tally) in failures {
                let _ = writeln!(out, "  - {place}: {}", failure_text(tally));
            }
        }
    }

    fn write_throughput(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n### Throughput at saturation (closed loop, {} connections)\n",
            self.connections
        );
        let _ = writeln!(
            out,
            "| Round | Run | req/s | non-200 | errors | load gen CPU | server CPU |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|");
        for (i, round) in self.rounds.iter().enumerate() {
            for run in round {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.0} | {} | {} | {} |",
                    i + 1,
                    short(run.endpoint),
                    run.requests_per_sec,
                    run.tally.non_ok(),
                    run.tally.errors,
                    cpu_cells(&run.cpu)
                );
            }
        }
        let _ = writeln!(out, "\n| | min | **median** | max |");
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for endpoint in [Endpoint::Ceiling, Endpoint::Verification] {
            if let Some(s) = Spread::of(&self.throughput(endpoint)) {
                let _ = writeln!(
                    out,
                    "| {} req/s | {:.0} | **{:.0}** | {:.0} |",
                    endpoint.label(),
                    s.min,
                    s.median,
                    s.max
                );
            }
        }
        if let Some(s) = Spread::of(&self.ratios()) {
            let _ = writeln!(
                out,
                "| verification / ceiling (per round) | {:.3} | **{:.3}** | {:.3} |",
                s.min, s.median, s.max
            );
        }
    }

    fn write_latency(&self, out: &mut String) {
        if self.open.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "\n### Latency at fixed offered rates (open loop, {} connections, from intended send time)\n",
            self.connections
        );
        let _ = writeln!(
            out,
            "| Offered | Run | offered req/s | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | send lag p99 ms | missed | non-200 + errors | load gen CPU | server CPU |"
        );
        let _ = writeln!(
            out,
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for (fraction, runs) in &self.open {
            for run in runs {
                let l = &run.latency;
                let _ = writeln!(
                    out,
                    "| {:.0}% of verification saturation | {} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
                    fraction * 100.0,
                    short(run.endpoint),
                    run.offered_per_sec,
                    run.achieved_per_sec,
                    l.p50_ms,
                    l.p90_ms,
                    l.p99_ms,
                    l.p999_ms,
                    l.max_ms,
                    run.send_lag.p99_ms,
                    run.missed,
                    run.tally.failures(),
                    cpu_cells(&run.cpu)
                );
            }
        }
        let _ = writeln!(
            out,
            "\nSend lag: how late the load generator handed requests to the socket (timer ticks \
             of 1 ms, and its own CPU); it is included in the latencies above, for both rows alike."
        );
    }

    fn write_batch(&self, out: &mut String) {
        let Some(batch) = &self.batch else { return };
        let plan = &batch.plan;
        let _ = writeln!(
            out,
            "\n### Batch verification (`POST /api/v1/nik/verifikasi/batch`)\n\n\
             | claims | batch size | in flight | wall s | claims/s | batch p50 ms | batch max ms | bad replies | non-200 + errors | skipped batches |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2} | {:.0} | {:.1} | {:.1} | {} | {} | {} |",
            batch.claims_verified,
            plan.batch_size,
            plan.concurrency,
            batch.wall_secs,
            batch.claims_per_sec,
            batch.batch_latency.p50_ms,
            batch.batch_latency.max_ms,
            batch.bad_replies,
            batch.tally.failures(),
            batch.batches_skipped
        );
        if let Some(single) = self.verification_saturation().filter(|s| *s > 0.0) {
            let _ = writeln!(
                out,
                "\nBatch claims/s ÷ single-claim verification req/s (median): **{:.2}**",
                batch.claims_per_sec / single
            );
        }
        let (r, e) = (&batch.reported, &batch.expected);
        let _ = writeln!(
            out,
            "\nServer totals vs the mix: all fields match {} (expected {}), not registered {} \
             (expected {}), invalid {} (expected 0).",
            r.sesuai_semua, e.sesuai_semua, r.tidak_terdaftar, e.tidak_terdaftar, r.tidak_valid
        );
    }
}

fn short(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Ceiling => "ceiling",
        Endpoint::Verification => "verification",
    }
}

fn kind_label(kind: ClaimKind) -> &'static str {
    match kind {
        ClaimKind::Exact => "exact",
        ClaimKind::Reformatted => "case/spacing changed",
        ClaimKind::WrongName => "wrong name",
        ClaimKind::WrongDate => "wrong birth date",
        ClaimKind::UnknownNik => "unknown NIK",
    }
}

fn failure_text(tally: &Tally) -> String {
    let mut parts: Vec<String> = tally
        .statuses
        .iter()
        .map(|(s, n)| format!("{n} × HTTP {s}"))
        .collect();
    if tally.errors > 0 {
        parts.push(format!("{} without answer", tally.errors));
    }
    parts.join(", ")
}

fn cpu_cells(cpu: &CpuBusy) -> String {
    let pct = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.0}%"));
    format!("{} | {}", pct(cpu.client_pct), pct(cpu.server_pct))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::stats::LatencySummary;

    fn closed(endpoint: Endpoint, rps: f64, tally: Tally) -> ClosedRun {
        ClosedRun {
            endpoint,
            connections: 500,
            requests_per_sec: rps,
            window_secs: 10.0,
            tally,
            cpu: CpuBusy {
                client_pct: Some(99.0),
                server_pct: None,
            },
        }
    }

    fn report() -> Report {
        let broken = Tally {
            statuses: BTreeMap::from([(503, 4)]),
            errors: 1,
            ..Tally::default()
        };
        Report {
            machine: Machine {
                cpus: 2,
                client_cpus: "1".into(),
                server_cpus: Some("0".into()),
                cpu_model: "Test CPU".into(),
                memory_gib: 8.0,
                date: "2026-01-01T00:00:00+07:00".into(),
                commit: Some("abc".into()),
                command: "simpul bench".into(),
            },
            target: "http://127.0.0.1:18080".into(),
            connections: 500,
            warmup_secs: 3,
            duration_secs: 10,
            sample: 100,
            mix: vec![(ClaimKind::Exact, 70)],
            preflight: BTreeMap::from([(
                ClaimKind::Exact,
                KindCheck {
                    checked: 40,
                    as_expected: 40,
                },
            )]),
            rounds: vec![
                vec![
                    closed(Endpoint::Ceiling, 20_000.0, Tally::default()),
                    closed(Endpoint::Verification, 10_000.0, Tally::default()),
                ],
                vec![
                    closed(Endpoint::Verification, 12_000.0, broken),
                    closed(Endpoint::Ceiling, 20_000.0, Tally::default()),
                ],
                vec![
                    closed(Endpoint::Ceiling, 10_000.0, Tally::default()),
                    closed(Endpoint::Verification, 9_000.0, Tally::default()),
                ],
            ],
            open: vec![(
                0.5,
                vec![OpenRun {
                    endpoint: Endpoint::Verification,
                    connections: 500,
                    offered_per_sec: 5000.0,
                    achieved_per_sec: 4999.0,
                    latency: LatencySummary {
                        count: 50_000,
                        p50_ms: 0.8,
                        p90_ms: 1.5,
                        p99_ms: 3.25,
                        p999_ms: 7.0,
                        max_ms: 12.0,
                        mean_ms: 1.0,
                    },
                    send_lag: LatencySummary::default(),
                    missed: 0,
                    tally: Tally::default(),
                    cpu: CpuBusy::default(),
                }],
            )],
            batch: None,
        }
    }

    #[test]
    fn ratios_pair_each_round_whatever_the_order() {
        let report = report();
        assert_eq!(report.ratios(), vec![0.5, 0.6, 0.9]);
        assert_eq!(report.verification_saturation(), Some(10_000.0));
    }

    #[test]
    fn the_table_carries_raw_numbers_ratios_and_errors() {
        let text = report().markdown();
        assert!(
            text.contains("| 2 | verification | 12000 | 4 | 1 | 99% | – |"),
            "{text}"
        );
        assert!(
            text.contains("| verification / ceiling (per round) | 0.500 | **0.600** | 0.900 |"),
            "{text}"
        );
        assert!(
            text.contains("req/s | 10000 | **20000** | 20000 |"),
            "{text}"
        );
        assert!(text.contains("**This run had errors:**"), "{text}");
        assert!(
            text.contains("round 2 verification: 4 × HTTP 503, 1 without answer"),
            "{text}"
        );
        assert!(text.contains("| 50% of verification saturation | verification | 5000 | 4999 | 0.80 | 1.50 | 3.25 | 7.00 | 12.00 |"), "{text}");
        assert!(
            text.contains("2 × Test CPU, 8.0 GiB RAM; load generator on CPU 1, server on CPU 0"),
            "{text}"
        );
    }

    #[test]
    fn reads_proc_fields() {
        let text = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nMemTotal:       24683568 kB\n";
        assert_eq!(proc_field(text, "model name"), Some("AMD EPYC 7B13"));
        assert_eq!(proc_field(text, "MemTotal"), Some("24683568 kB"));
        assert_eq!(proc_field(text, "missing"), None);
    }
}
