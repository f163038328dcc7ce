//! Batch verification: many claims sent as large batches, a few in flight, timed end to end.
//!
//! Every answer is checked: its `hasil` must have one verdict per claim sent, and the
//! server's own totals (`ringkasan`) are compared with what the claim mix should produce.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use hyper::body::Bytes;
use hyper::{Method, StatusCode};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::claims::{ClaimKind, ClaimPool};
use super::http::{Conn, VERIFY_BATCH, request};
use super::stats::{LatencySummary, Tally, histogram, record};
use super::target::Target;

/// How long one batch may take: 10,000 claims take well under a second on a laptop, so this
/// only ends a hung run.
const BATCH_TIMEOUT: Duration = Duration::from_secs(120);
/// No new batch starts after this long, so a slow server cannot keep the run going for hours.
const BATCH_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// After this many failed batches the rest are skipped: the figure is lost anyway.
const MAX_FAILED_BATCHES: u64 = 10;

/// The batch run's shape.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BatchPlan {
    pub claims: u64,
    pub batch_size: u64,
    pub concurrency: usize,
}

/// Totals, as the server reports them in `ringkasan` or as the mix predicts them.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct VerdictCounts {
    pub jumlah: u64,
    pub sesuai_semua: u64,
    pub tidak_terdaftar: u64,
    #[serde(default)]
    pub tidak_valid: u64,
}

impl VerdictCounts {
    fn add(&mut self, other: &VerdictCounts) {
        self.jumlah += other.jumlah;
        self.sesuai_semua += other.sesuai_semua;
        self.tidak_terdaftar += other.tidak_terdaftar;
        self.tidak_valid += other.tidak_valid;
    }
}

#[derive(Deserialize)]
struct BatchReply {
    ringkasan: VerdictCounts,
    hasil: Vec<IgnoredAny>,
}

/// The result of the batch run.
#[derive(Debug, Clone, Serialize)]
pub struct BatchRun {
    pub plan: BatchPlan,
    pub batches_sent: u64,
    /// Batches never sent (deadline or too many failures).
    pub batches_skipped: u64,
    /// Claims in batches answered with 200.
    pub claims_verified: u64,
    pub wall_secs: f64,
    pub claims_per_sec: f64,
    /// Time per batch request, 200 answers only.
    pub batch_latency: LatencySummary,
    /// 200 answers whose `hasil` did not have one verdict per claim, or did not parse.
    pub bad_replies: u64,
    pub tally: Tally,
    /// The server's totals over all answered batches.
    pub reported: VerdictCounts,
    /// What the claim mix predicts for the same batches.
    pub expected: VerdictCounts,
}

/// Global claim indices of batch `b`: `[start, end)`.
fn batch_range(plan: &BatchPlan, b: u64) -> (u64, u64) {
    let start = b * plan.batch_size;
    (start, (start + plan.batch_size).min(plan.claims))
}

/// The body of one batch: claims `[start, end)` of the run, cycling through the pool.
fn batch_body(pool: &ClaimPool, start: u64, end: u64) -> Bytes {
    let n = pool.bodies.len() as u64;
    let mut body = Vec::with_capacity(16 + (end - start) as usize * 120);
    body.extend_from_slice(b"{\"klaim\":[");
    for g in start..end {
        if g > start {
            body.push(b',');
        }
        body.extend_from_slice(&pool.bodies[(g % n) as usize]);
    }
    body.extend_from_slice(b"]}");
    Bytes::from(body)
}

/// What the mix predicts for claims `[start, end)`: exact and reformatted claims match on
/// every field, unknown NIKs are not registered.
fn expected_counts(pool: &ClaimPool, start: u64, end: u64) -> VerdictCounts {
    let n = pool.claims.len() as u64;
    let mut counts = VerdictCounts {
        jumlah: end - start,
        ..VerdictCounts::default()
    };
    for g in start..end {
        match pool.claims[(g % n) as usize].kind {
            ClaimKind::Exact | ClaimKind::Reformatted => counts.sesuai_semua += 1,
            ClaimKind::UnknownNik => counts.tidak_terdaftar += 1,
            ClaimKind::WrongName | ClaimKind::WrongDate => {}
        }
    }
    counts
}

/// What one worker gathered.
struct Gathered {
    tally: Tally,
    latency: Histogram<u64>,
    bad_replies: u64,
    sent: u64,
    claims_verified: u64,
    reported: VerdictCounts,
    expected: VerdictCounts,
}

/// Shared between the workers: the next batch to take, and the failures so far.
struct Queue {
    next: AtomicU64,
    failed: AtomicU64,
    batches: u64,
    deadline: Instant,
}

impl Queue {
    fn take(&self) -> Option<u64> {
        if Instant::now() >= self.deadline
            || self.failed.load(Ordering::Relaxed) >= MAX_FAILED_BATCHES
        {
            return None;
        }
        let b = self.next.fetch_add(1, Ordering::Relaxed);
        (b < self.batches).then_some(b)
    }
}

/// Sends `plan.claims` claims in batches of `plan.batch_size`, `plan.concurrency` at a time.
pub async fn run_batches(
    target: &Target,
    pool: Arc<ClaimPool>,
    plan: BatchPlan,
) -> anyhow::Result<BatchRun> {
    anyhow::ensure!(!pool.bodies.is_empty(), "no claims to send");
    let batches = plan.claims.div_ceil(plan.batch_size.max(1));
    let started = Instant::now();
    let queue = Arc::new(Queue {
        next: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        batches,
        deadline: started + BATCH_DEADLINE,
    });
    let workers: Vec<_> = (0..plan.concurrency)
        .map(|_| {
            let (target, pool, queue) = (target.clone(), Arc::clone(&pool), Arc::clone(&queue));
            tokio::spawn(async move { worker(&target, &pool, &queue, plan).await })
        })
        .collect();
    let mut total = Gathered {
        tally: Tally::default(),
        latency: histogram()?,
        bad_replies: 0,
        sent: 0,
        claims_verified: 0,
        reported: VerdictCounts::default(),
        expected: VerdictCounts::default(),
    };
    for worker in workers {
        let part = worker.await??;
        total.tally.merge(&part.tally);
        total.latency.add(&part.latency)?;
        total.bad_replies += part.bad_replies;
        total.sent += part.sent;
        total.claims_verified += part.claims_verified;
        total.reported.add(&part.reported);
        total.expected.add(&part.expected);
    }
    let wall_secs = started.elapsed().as_secs_f64();
    Ok(BatchRun {
        plan,
        batches_sent: total.sent,
        batches_skipped: batches - total.sent,
        claims_verified: total.claims_verified,
        wall_secs,
        claims_per_sec: total.claims_verified as f64 / wall_secs,
        batch_latency: LatencySummary::of(&total.latency),
        bad_replies: total.bad_replies,
        tally: total.tally,
        reported: total.reported,
        expected: total.expected,
    })
}

async fn worker(
    target: &Target,
    pool: &ClaimPool,
    queue: &Queue,
    plan: BatchPlan,
) -> anyhow::Result<Gathered> {
    let mut got = Gathered {
        tally: Tally::default(),
        latency: histogram()?,
        bad_replies: 0,
        sent: 0,
        claims_verified: 0,
        reported: VerdictCounts::default(),
        expected: VerdictCounts::default(),
    };
    let mut conn: Option<Conn> = None;
    while let Some(b) = queue.take() {
        let (start, end) = batch_range(&plan, b);
        let req = request(
            Method::POST,
            VERIFY_BATCH,
            &target.host_header,
            batch_body(pool, start, end),
        );
        got.sent += 1;
        let began = Instant::now();
        let result = match conn.as_mut() {
            Some(open) => open.send_within(req, BATCH_TIMEOUT).await,
            None => match Conn::open(target.addr).await {
                Ok(opened) => conn.insert(opened).send_within(req, BATCH_TIMEOUT).await,
                Err(error) => Err(error),
            },
        };
        let (status, body) = match result {
            Ok(answer) => answer,
            Err(_) => {
                got.tally.errors += 1;
                queue.failed.fetch_add(1, Ordering::Relaxed);
                conn = None;
                continue;
            }
        };
        got.tally.answer(status, true);
        if status != StatusCode::OK {
            queue.failed.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        record(&mut got.latency, began.elapsed());
        got.claims_verified += end - start;
        got.expected.add(&expected_counts(pool, start, end));
        match serde_json::from_slice::<BatchReply>(&body) {
            Ok(reply) if reply.hasil.len() as u64 == end - start => {
                got.reported.add(&reply.ringkasan)
            }
            _ => got.bad_replies += 1,
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::bench::claims::Claim;

    fn pool(kinds: &[ClaimKind]) -> anyhow::Result<ClaimPool> {
        let claims = kinds
            .iter()
            .enumerate()
            .map(|(i, kind)| Claim {
                kind: *kind,
                nik: format!("35770101019000{i:02}"),
                nama: format!("Nama {i}"),
                tanggal_lahir: NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default(),
            })
            .collect();
        ClaimPool::new(claims)
    }

    #[test]
    fn batches_cover_every_claim_once() {
        let plan = BatchPlan {
            claims: 25,
            batch_size: 10,
            concurrency: 2,
        };
        let ranges: Vec<_> = (0..plan.claims.div_ceil(plan.batch_size))
            .map(|b| batch_range(&plan, b))
            .collect();
        assert_eq!(ranges, vec![(0, 10), (10, 20), (20, 25)]);
    }

    #[test]
    fn a_batch_body_is_the_api_request_cycling_the_pool() -> anyhow::Result<()> {
        let pool = pool(&[
            ClaimKind::Exact,
            ClaimKind::UnknownNik,
            ClaimKind::WrongName,
        ])?;
        let body = batch_body(&pool, 2, 7);
        let parsed: serde_json::Value = serde_json::from_slice(&body)?;
        let niks: Vec<&str> = parsed["klaim"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["nik"].as_str()).collect())
            .unwrap_or_default();
        // Claims 2..7 of a pool of 3: indices 2, 0, 1, 2, 0.
        assert_eq!(
            niks,
            [
                "3577010101900002",
                "3577010101900000",
                "3577010101900001",
                "3577010101900002",
                "3577010101900000"
            ]
        );
        let expected = expected_counts(&pool, 2, 7);
        assert_eq!(
            expected,
            VerdictCounts {
                jumlah: 5,
                sesuai_semua: 2,
                tidak_terdaftar: 1,
                tidak_valid: 0
            }
        );
        Ok(())
    }

    #[tokio::test]
    async fn failures_are_counted_and_stop_the_run() -> anyhow::Result<()> {
        // The fake server answers every POST with 500: after MAX_FAILED_BATCHES the rest
        // are skipped instead of hammering on.
        let addr = crate::bench::http::tests::fake_server(crate::bench::http::tests::Fake {
            post_status: 500,
            delay: Duration::ZERO,
        })
        .await?;
        let target = Target::resolve(&format!("http://{addr}")).await?;
        let pool = Arc::new(pool(&[ClaimKind::Exact])?);
        let plan = BatchPlan {
            claims: 1000,
            batch_size: 10,
            concurrency: 2,
        };
        let run = run_batches(&target, pool, plan).await?;
        assert_eq!(run.claims_verified, 0);
        assert!(
            run.tally
                .statuses
                .get(&500)
                .is_some_and(|&n| n >= MAX_FAILED_BATCHES)
        );
        assert!(
            run.batches_skipped >= 100 - MAX_FAILED_BATCHES - 2,
            "{}",
            run.batches_skipped
        );
        assert_eq!(run.batches_sent + run.batches_skipped, 100);
        Ok(())
    }
}
