//! What the load loops count and how it is summarised: outcome tallies, latency histograms
//! and their percentiles, the spread over rounds, and CPU time of both processes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use hyper::StatusCode;
use serde::Serialize;

/// Outcomes of the requests one loop sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// 200 answers that count towards the figure (inside the measured window).
    pub ok_measured: u64,
    /// 200 answers over the whole run, warm-up included.
    pub ok_total: u64,
    /// Answers other than 200, by status, over the whole run.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests with no answer (connect failure, reset, timeout), over the whole run.
    pub errors: u64,
}

impl Tally {
    /// Records one answer.
    pub fn answer(&mut self, status: StatusCode, measured: bool) {
        if status == StatusCode::OK {
            self.ok_total += 1;
            self.ok_measured += u64::from(measured);
        } else {
            *self.statuses.entry(status.as_u16()).or_default() += 1;
        }
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Tally) {
        self.ok_measured += other.ok_measured;
        self.ok_total += other.ok_total;
        self.errors += other.errors;
        for (status, n) in &other.statuses {
            *self.statuses.entry(*status).or_default() += n;
        }
    }

    /// Answers other than 200.
    pub fn non_ok(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Everything that was not a 200.
    pub fn failures(&self) -> u64 {
        self.non_ok() + self.errors
    }
}

/// Highest latency a histogram tracks, in microseconds; larger values are clamped to it.
/// A minute is far beyond any request timeout plus schedule lag.
const HISTOGRAM_MAX_MICROS: u64 = 60_000_000;

/// A latency histogram in microseconds, 3 significant digits (0.1% resolution).
pub fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, HISTOGRAM_MAX_MICROS, 3)?)
}

/// Records `latency` in `hist`, in microseconds, rounded up so that nothing is 0.
pub fn record(hist: &mut Histogram<u64>, latency: Duration) {
    let micros = u64::try_from(latency.as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    hist.saturating_record(micros);
}

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl LatencySummary {
    /// Reads the percentiles of `hist` (microseconds).
    pub fn of(hist: &Histogram<u64>) -> Self {
        if hist.is_empty() {
            return Self::default();
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Self {
            count: hist.len(),
            p50_ms: ms(hist.value_at_quantile(0.50)),
            p90_ms: ms(hist.value_at_quantile(0.90)),
            p99_ms: ms(hist.value_at_quantile(0.99)),
            p999_ms: ms(hist.value_at_quantile(0.999)),
            max_ms: ms(hist.max()),
            mean_ms: hist.mean() / 1000.0,
        }
    }
}

/// Minimum, median and maximum of a set of figures (several rounds of one measurement).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when there are none. NaN values are ignored.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        sorted.sort_by(f64::total_cmp);
        let (first, last) = (sorted.first()?, sorted.last()?);
        let mid = sorted.len() / 2;
        let median = if sorted.len().is_multiple_of(2) {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        } else {
            sorted[mid]
        };
        Some(Self {
            min: *first,
            median,
            max: *last,
        })
    }
}

/// Kernel clock ticks per second in `/proc/<pid>/stat`. `USER_HZ` is fixed at 100 in the
/// Linux user-space ABI on every architecture we run on; reading `sysconf` would need libc.
const USER_HZ: f64 = 100.0;

/// CPU time used so far by process `pid` (this process when `None`), from
/// `/proc/<pid>/stat`; `None` off Linux or when the process is gone.
pub(crate) fn cpu_time(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    cpu_seconds(&stat)
}

/// `utime + stime` in seconds from the text of a `stat` file. The command name (field 2)
/// may contain spaces and parentheses, so fields are counted after the last `)`.
fn cpu_seconds(stat: &str) -> Option<f64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / USER_HZ)
}

/// How busy the load generator and the server were over an interval.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CpuBusy {
    /// CPU time of the load generator over wall time, in percent (100 = one core).
    pub client_pct: Option<f64>,
    /// The same for the server, when its pid is known.
    pub server_pct: Option<f64>,
}

/// A CPU-time reading of both processes, to subtract from a later one.
pub struct CpuMeter {
    server_pid: Option<u32>,
    at: Instant,
    client: Option<f64>,
    server: Option<f64>,
}

impl CpuMeter {
    /// Reads both processes' CPU time now.
    pub fn start(server_pid: Option<u32>) -> Self {
        Self {
            server_pid,
            at: Instant::now(),
            client: cpu_time(None),
            server: server_pid.and_then(|pid| cpu_time(Some(pid))),
        }
    }

    /// Busy percentages since [`CpuMeter::start`].
    pub fn stop(&self) -> CpuBusy {
        let wall = self.at.elapsed().as_secs_f64();
        let pct = |before: Option<f64>, after: Option<f64>| match (before, after) {
            (Some(b), Some(a)) if wall > 0.0 => Some(100.0 * (a - b) / wall),
            _ => None,
        };
        CpuBusy {
            client_pct: pct(self.client, cpu_time(None)),
            server_pct: pct(
                self.server,
                self.server_pid.and_then(|pid| cpu_time(Some(pid))),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_histogram() -> anyhow::Result<()> {
        let mut hist = histogram()?;
        // 1..=1000 ms, one each.
        for ms in 1..=1000u64 {
            record(&mut hist, Duration::from_millis(ms));
        }
        let summary = LatencySummary::of(&hist);
        assert_eq!(summary.count, 1000);
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.002;
        assert!(close(summary.p50_ms, 500.0), "{summary:?}");
        assert!(close(summary.p90_ms, 900.0), "{summary:?}");
        assert!(close(summary.p99_ms, 990.0), "{summary:?}");
        assert!(close(summary.p999_ms, 999.0), "{summary:?}");
        assert!(close(summary.max_ms, 1000.0), "{summary:?}");
        assert!(close(summary.mean_ms, 500.5), "{summary:?}");
        Ok(())
    }

    #[test]
    fn tiny_and_huge_latencies_are_kept_not_dropped() -> anyhow::Result<()> {
        let mut hist = histogram()?;
        record(&mut hist, Duration::ZERO);
        record(&mut hist, Duration::from_secs(3600));
        assert_eq!(hist.len(), 2);
        assert_eq!(hist.min(), 1);
        assert!(hist.max() >= HISTOGRAM_MAX_MICROS);
        assert_eq!(LatencySummary::of(&histogram()?).count, 0);
        Ok(())
    }

    #[test]
    fn tallies_split_measured_ok_from_failures() {
        let mut a = Tally::default();
        a.answer(StatusCode::OK, true);
        a.answer(StatusCode::OK, false);
        a.answer(StatusCode::SERVICE_UNAVAILABLE, true);
        a.errors += 1;
        let mut b = Tally::default();
        b.answer(StatusCode::SERVICE_UNAVAILABLE, false);
        b.answer(StatusCode::BAD_REQUEST, true);
        b.merge(&a);
        assert_eq!(b.ok_measured, 1);
        assert_eq!(b.ok_total, 2);
        assert_eq!(b.statuses, BTreeMap::from([(400, 1), (503, 2)]));
        assert_eq!(b.non_ok(), 3);
        assert_eq!(b.failures(), 4);
    }

    #[test]
    fn spread_takes_the_true_median() {
        let odd = Spread::of(&[3.0, 1.0, 2.0]).map(|s| (s.min, s.median, s.max));
        assert_eq!(odd, Some((1.0, 2.0, 3.0)));
        let even = Spread::of(&[4.0, 1.0, 3.0, 2.0]).map(|s| s.median);
        assert_eq!(even, Some(2.5));
        assert!(Spread::of(&[]).is_none());
        assert!(Spread::of(&[f64::NAN]).is_none());
    }

    #[test]
    fn reads_cpu_time_from_stat_text() {
        // A command name with spaces and a parenthesis, as the kernel may report.
        let stat = "4242 (simpul (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(cpu_seconds(stat), Some(3.0));
        assert_eq!(cpu_seconds("garbage"), None);
        assert!(cpu_time(None).is_some_and(|s| s >= 0.0));
    }
}
