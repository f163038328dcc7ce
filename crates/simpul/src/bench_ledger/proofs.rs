//! Inclusion proofs against a stored log, the way the API answers them
//! (`inclusion_proof_nodes`, one `ledger_nodes` query, `inclusion_proof` over the map), and
//! their offline verification.
//!
//! Throughput is read in a closed loop (one task, proof after proof); latency in an open
//! loop at a fixed fraction of that rate, each proof's latency taken from when it was due,
//! so a stall delays and is charged to the proofs behind it (no coordinated omission).
//! Verification is timed per call over the proofs the open loop produced.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use simpul_ledger::{Hash, verify_inclusion};
use simpul_store::LedgerStore;

use super::tree::synthetic_leaf;

/// Longest latency tracked, in nanoseconds (a minute); longer ones are clamped to it.
const HISTOGRAM_MAX_NANOS: u64 = 60_000_000_000;
/// Below this, the open loop's wait is a thread sleep (tens of microseconds late) rather
/// than tokio's timer, which wakes on millisecond ticks, far coarser than the gaps between
/// proofs. Spinning instead would take one of the machine's two cores from the store.
const THREAD_SLEEP_BELOW: Duration = Duration::from_millis(2);

/// A latency histogram in nanoseconds, 3 significant digits.
pub fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, HISTOGRAM_MAX_NANOS, 3)?)
}

fn record(hist: &mut Histogram<u64>, latency: Duration) {
    let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX).max(1);
    hist.saturating_record(nanos);
}

/// Percentiles of a nanosecond histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Micros {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Micros {
    pub fn of(hist: &Histogram<u64>) -> Self {
        if hist.is_empty() {
            return Self::default();
        }
        let us = |nanos: u64| nanos as f64 / 1000.0;
        Self {
            count: hist.len(),
            p50: us(hist.value_at_quantile(0.50)),
            p90: us(hist.value_at_quantile(0.90)),
            p99: us(hist.value_at_quantile(0.99)),
            p999: us(hist.value_at_quantile(0.999)),
            max: us(hist.max()),
            mean: hist.mean() / 1000.0,
        }
    }
}

/// The log the proofs are asked of.
pub struct Log<'a> {
    pub store: &'a dyn LedgerStore,
    pub size: u64,
    /// The root of the signed checkpoint of `size`.
    pub root: Hash,
}

impl Log<'_> {
    /// One inclusion proof, read as the API reads it.
    pub async fn prove(&self, index: u64) -> anyhow::Result<Vec<Hash>> {
        Ok(simpul_store::ledger::inclusion_path(self.store, index, self.size).await?)
    }
}

/// A closed-loop run: proofs back to back from one task.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedRun {
    pub secs: f64,
    pub proofs: u64,
    pub proofs_per_sec: f64,
    /// Each proof's own time (at saturation: service time, no queueing in one task).
    pub latency: Micros,
}

/// Runs `warmup` unrecorded proofs, then proofs for `duration`.
pub async fn saturate(
    log: &Log<'_>,
    rng: &mut StdRng,
    warmup: u64,
    duration: Duration,
) -> anyhow::Result<ClosedRun> {
    for _ in 0..warmup {
        log.prove(rng.random_range(0..log.size)).await?;
    }
    let mut hist = histogram()?;
    let started = Instant::now();
    let mut proofs = 0u64;
    while started.elapsed() < duration {
        let index = rng.random_range(0..log.size);
        let at = Instant::now();
        std::hint::black_box(log.prove(index).await?);
        record(&mut hist, at.elapsed());
        proofs += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(ClosedRun {
        secs,
        proofs,
        proofs_per_sec: proofs as f64 / secs,
        latency: Micros::of(&hist),
    })
}

/// An open-loop run at a fixed offered rate.
#[derive(Debug, Clone, Serialize)]
pub struct OpenRun {
    pub offered_per_sec: f64,
    /// Proofs completed per second over the run; short of the offer when it fell behind.
    pub achieved_per_sec: f64,
    /// From each proof's due time to its end.
    pub latency: Micros,
    /// From each proof's due time to its start.
    pub send_lag: Micros,
    /// Verification of the proofs this run produced, each call timed alone.
    pub verify: Micros,
    /// Hashes per proof (the audit path's length), largest seen.
    pub max_path: usize,
}

/// Offers `count` proofs at `rate` per second, proof `k` due at `k / rate`, then verifies
/// each against the checkpoint's root.
pub async fn hold_rate(
    log: &Log<'_>,
    rng: &mut StdRng,
    rate: f64,
    count: u64,
) -> anyhow::Result<OpenRun> {
    ensure!(rate > 0.0 && count > 0, "nothing to offer");
    let mut latency = histogram()?;
    let mut send_lag = histogram()?;
    let mut proofs = Vec::with_capacity(usize::try_from(count)?);
    let started = Instant::now();
    for k in 0..count {
        let due = started + Duration::from_secs_f64(k as f64 / rate);
        wait_until(due).await;
        let index = rng.random_range(0..log.size);
        let sent = Instant::now();
        let path = log.prove(index).await?;
        let done = Instant::now();
        record(&mut send_lag, sent.saturating_duration_since(due));
        record(&mut latency, done.saturating_duration_since(due));
        proofs.push((index, path));
    }
    let secs = started.elapsed().as_secs_f64();
    let mut verify = histogram()?;
    let mut max_path = 0;
    for (index, path) in &proofs {
        let leaf = synthetic_leaf(*index).leaf_hash();
        let at = Instant::now();
        let outcome = verify_inclusion(&leaf, *index, log.size, path, &log.root);
        record(&mut verify, at.elapsed());
        outcome.with_context(|| format!("the proof of leaf {index} does not verify"))?;
        max_path = max_path.max(path.len());
    }
    Ok(OpenRun {
        offered_per_sec: rate,
        achieved_per_sec: count as f64 / secs,
        latency: Micros::of(&latency),
        send_lag: Micros::of(&send_lag),
        verify: Micros::of(&verify),
        max_path,
    })
}

/// Waits until `due`: tokio's timer while it is far, then a precise thread sleep. Blocking
/// the worker for under 2 ms is harmless here: this loop is the runtime's only busy task.
async fn wait_until(due: Instant) {
    let left = due.saturating_duration_since(Instant::now());
    if left > THREAD_SLEEP_BELOW {
        tokio::time::sleep(left - THREAD_SLEEP_BELOW).await;
    }
    let left = due.saturating_duration_since(Instant::now());
    if !left.is_zero() {
        std::thread::sleep(left);
    }
}

/// The seeded generator of one size's leaf choices.
pub fn rng(seed: u64, size: u64) -> StdRng {
    StdRng::seed_from_u64(seed ^ size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_read_in_microseconds() -> anyhow::Result<()> {
        let mut hist = histogram()?;
        for micros in 1..=1000u64 {
            record(&mut hist, Duration::from_micros(micros));
        }
        record(&mut hist, Duration::ZERO);
        let summary = Micros::of(&hist);
        assert_eq!(summary.count, 1001);
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.002;
        assert!(close(summary.p50, 500.0), "{summary:?}");
        assert!(close(summary.p99, 990.0), "{summary:?}");
        assert!(close(summary.max, 1000.0), "{summary:?}");
        assert_eq!(Micros::of(&histogram()?).count, 0);
        Ok(())
    }
}
