//! How the loops keep time and what they count: the run window, latency histograms and
//! their percentiles, the spread over rounds, this process's CPU time, and the disk's own
//! rate of durable writes.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// A run's time line: it starts, measuring begins after the warm-up, and work ends.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub measure_from: Instant,
    pub end: Instant,
}

impl Window {
    /// A window starting now.
    pub fn starting_now(warmup: Duration, duration: Duration) -> Self {
        let start = Instant::now();
        let measure_from = start + warmup;
        Self {
            start,
            measure_from,
            end: measure_from + duration,
        }
    }

    /// Whether `at` falls in the measured part.
    pub fn measures(&self, at: Instant) -> bool {
        at >= self.measure_from && at < self.end
    }

    /// Seconds measured.
    pub fn measured_secs(&self) -> f64 {
        (self.end - self.measure_from).as_secs_f64()
    }
}

/// Sleeps until `at` (no-op when it has passed).
pub async fn sleep_until(at: Instant) {
    tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
}

/// Highest latency a histogram tracks, in microseconds; larger values are clamped to it.
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
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
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
            max_ms: ms(hist.max()),
        }
    }
}

// One spread and one CPU-time reader for every benchmark: `simpul bench`'s.
pub use crate::bench::stats::Spread;

fn own_cpu_time() -> Option<f64> {
    crate::bench::stats::cpu_time(None)
}

/// CPU time of this process over an interval. Store and load generator share the
/// process, so this is their sum (and, for PostgreSQL, excludes the server).
pub struct CpuMeter {
    at: Instant,
    before: Option<f64>,
}

impl CpuMeter {
    pub fn start() -> Self {
        Self {
            at: Instant::now(),
            before: own_cpu_time(),
        }
    }

    /// Percent of one core used since [`CpuMeter::start`].
    pub fn stop(&self) -> Option<f64> {
        let wall = self.at.elapsed().as_secs_f64();
        match (self.before, own_cpu_time()) {
            (Some(b), Some(a)) if wall > 0.0 => Some(100.0 * (a - b) / wall),
            _ => None,
        }
    }
}

/// Small writes each followed by `fdatasync`, for `duration`, in a scratch file in `dir`:
/// how many durable commits per second this disk allows a single writer that waits for
/// each (SQLite WAL with `synchronous = FULL` syncs the log once per commit). The file is
/// removed afterwards.
pub fn fsyncs_per_sec(dir: &Path, duration: Duration) -> anyhow::Result<f64> {
    let path = dir.join(format!(".bench-lampid-fsync-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&path)?;
        let block = [0u8; 4096];
        let started = Instant::now();
        let mut syncs = 0u64;
        while started.elapsed() < duration {
            file.write_all(&block)?;
            file.sync_data()?;
            syncs += 1;
        }
        Ok::<_, std::io::Error>(syncs as f64 / started.elapsed().as_secs_f64())
    })();
    let _ = std::fs::remove_file(&path);
    Ok(result?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_histogram() -> anyhow::Result<()> {
        let mut hist = histogram()?;
        for ms in 1..=1000u64 {
            record(&mut hist, Duration::from_millis(ms));
        }
        let summary = LatencySummary::of(&hist);
        assert_eq!(summary.count, 1000);
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.002;
        assert!(close(summary.p50_ms, 500.0), "{summary:?}");
        assert!(close(summary.p90_ms, 900.0), "{summary:?}");
        assert!(close(summary.p99_ms, 990.0), "{summary:?}");
        assert!(close(summary.max_ms, 1000.0), "{summary:?}");
        assert_eq!(LatencySummary::of(&histogram()?).count, 0);
        Ok(())
    }

    #[test]
    fn zero_and_huge_latencies_are_kept() -> anyhow::Result<()> {
        let mut hist = histogram()?;
        record(&mut hist, Duration::ZERO);
        record(&mut hist, Duration::from_secs(3600));
        assert_eq!(hist.len(), 2);
        assert_eq!(hist.min(), 1);
        assert!(hist.max() >= HISTOGRAM_MAX_MICROS);
        Ok(())
    }

    #[test]
    fn window_measures_only_after_the_warmup() {
        let w = Window::starting_now(Duration::from_secs(2), Duration::from_secs(5));
        assert!(!w.measures(w.start));
        assert!(w.measures(w.measure_from));
        assert!(w.measures(w.start + Duration::from_secs(6)));
        assert!(!w.measures(w.end));
        assert!((w.measured_secs() - 5.0).abs() < 1e-9);
    }

    #[test]
    fn the_fsync_probe_counts_and_cleans_up() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let rate = fsyncs_per_sec(dir.path(), Duration::from_millis(20))?;
        assert!(rate > 0.0);
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
        Ok(())
    }
}
