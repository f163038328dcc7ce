//! Latency in an open loop: requests are sent on a fixed schedule whatever the server does,
//! and each latency is measured from the time the request was *meant* to be sent.
//!
//! A closed loop hides a stall: while the server is stuck, its clients wait instead of
//! sending, so only one slow request is recorded (coordinated omission). Here the schedule
//! does not wait. Request `g` of the run is due at `g / rate`; connection `g mod N` sends it.
//! When a connection is still waiting for an earlier answer, the request goes out late and
//! its lateness is part of its latency, as it would be for a real caller.
//!
//! The tokio timer wakes on millisecond ticks, so a request leaves up to about a millisecond
//! after its due time even on an idle machine. That lag is included in the latency (the
//! conservative side) and reported on its own as the send lag; the ceiling run at the same
//! rate carries the same lag, which is what makes the two comparable.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::ensure;
use hdrhistogram::Histogram;
use hyper::StatusCode;
use serde::Serialize;

use super::http::{Conn, Endpoint, REQUEST_TIMEOUT, Workload};
use super::load::{Plan, Window, ensure_open, open_connections, sleep_until};
use super::stats::{CpuBusy, CpuMeter, LatencySummary, Tally, histogram, record};
use super::target::Target;

/// When each request of an open-loop run is due.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Requests per second offered, over all connections.
    pub rate: f64,
    pub connections: usize,
}

impl Schedule {
    /// The global sequence number of connection `conn`'s `k`-th request.
    pub fn seq(&self, conn: usize, k: u64) -> u64 {
        k * self.connections as u64 + conn as u64
    }

    /// When connection `conn`'s `k`-th request is due, from the start of the run.
    pub fn due(&self, conn: usize, k: u64) -> Duration {
        Duration::from_secs_f64(self.seq(conn, k) as f64 / self.rate)
    }
}

/// One open-loop run.
#[derive(Debug, Clone, Serialize)]
pub struct OpenRun {
    pub endpoint: Endpoint,
    pub connections: usize,
    /// Requests per second offered.
    pub offered_per_sec: f64,
    /// 200 answers completed in the measured window, per second. Below saturation it
    /// matches the offered rate; when it falls short, the server did not keep up.
    pub achieved_per_sec: f64,
    /// From due time to the end of the answer, 200 answers only.
    pub latency: LatencySummary,
    /// From due time to the moment the request was handed to the socket.
    pub send_lag: LatencySummary,
    /// Requests due in the window that could not be sent before the run's hard stop.
    pub missed: u64,
    pub tally: Tally,
    pub cpu: CpuBusy,
}

/// Histograms shared by a run's connections. One lock for both, held for two
/// `record` calls and never across an await; a histogram per connection would cost
/// about 150 KB each, 75 MB for 500 connections.
struct Recorder {
    latency: Histogram<u64>,
    send_lag: Histogram<u64>,
}

/// Offers `rate` requests per second of `workload` over `plan.connections` connections.
pub async fn hold_rate(
    target: &Target,
    workload: &Workload,
    plan: &Plan,
    rate: f64,
    server_pid: Option<u32>,
) -> anyhow::Result<OpenRun> {
    ensure!(
        rate.is_finite() && rate > 0.0,
        "an open-loop rate must be positive, got {rate}"
    );
    let schedule = Schedule {
        rate,
        connections: plan.connections,
    };
    let recorder = Arc::new(Mutex::new(Recorder {
        latency: histogram()?,
        send_lag: histogram()?,
    }));
    let (conns, mut tally) = open_connections(target.addr, plan.connections).await;
    let window = Window::starting_now(plan);
    let workers: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, conn)| {
            let ctx = WorkerContext {
                addr: target.addr,
                workload: workload.clone(),
                schedule,
                window,
                recorder: Arc::clone(&recorder),
            };
            tokio::spawn(worker(conn, i, ctx))
        })
        .collect();
    sleep_until(window.measure_from).await;
    let meter = CpuMeter::start(server_pid);
    sleep_until(window.end).await;
    let cpu = meter.stop();
    let mut missed = 0;
    for worker in workers {
        let (worker_tally, worker_missed) = worker.await?;
        tally.merge(&worker_tally);
        missed += worker_missed;
    }
    let recorder = recorder
        .lock()
        .map_err(|_| anyhow::anyhow!("a load worker panicked while recording"))?;
    Ok(OpenRun {
        endpoint: workload.endpoint,
        connections: plan.connections,
        offered_per_sec: rate,
        achieved_per_sec: tally.ok_measured as f64 / plan.duration.as_secs_f64(),
        latency: LatencySummary::of(&recorder.latency),
        send_lag: LatencySummary::of(&recorder.send_lag),
        missed,
        tally,
        cpu,
    })
}

struct WorkerContext {
    addr: SocketAddr,
    workload: Workload,
    schedule: Schedule,
    window: Window,
    recorder: Arc<Mutex<Recorder>>,
}

/// Connection `index`'s loop: each due request in turn, until the window ends. Returns the
/// tally and the number of measured requests it never got to send.
async fn worker(mut conn: Option<Conn>, index: usize, ctx: WorkerContext) -> (Tally, u64) {
    let WorkerContext {
        addr,
        workload,
        schedule,
        window,
        recorder,
    } = ctx;
    // Past this, an overloaded run gives up on its backlog rather than running on.
    let hard_stop = window.end + REQUEST_TIMEOUT;
    let mut tally = Tally::default();
    let mut k = 0u64;
    loop {
        let due = window.start + schedule.due(index, k);
        if due >= window.end {
            return (tally, 0);
        }
        if Instant::now() >= hard_stop {
            return (tally, unsent_measured(&schedule, index, k, &window));
        }
        sleep_until(due).await;
        let measured = due >= window.measure_from;
        k += 1;
        if !ensure_open(&mut conn, addr, &mut tally).await {
            continue;
        }
        let Some(open) = conn.as_mut() else { continue };
        let sent = Instant::now();
        let result = open
            .send_within(
                workload.request(schedule.seq(index, k - 1)),
                REQUEST_TIMEOUT,
            )
            .await;
        let done = Instant::now();
        match result {
            Ok((status, _)) => {
                tally.answer(status, window.measures(done));
                if measured
                    && status == StatusCode::OK
                    && let Ok(mut hists) = recorder.lock()
                {
                    record(&mut hists.latency, done - due);
                    record(&mut hists.send_lag, sent - due);
                }
            }
            Err(_) => {
                tally.errors += 1;
                conn = None;
            }
        }
    }
}

/// How many of connection `index`'s requests from `k` on are due inside the measured window.
fn unsent_measured(schedule: &Schedule, index: usize, mut k: u64, window: &Window) -> u64 {
    let mut unsent = 0;
    loop {
        let due = window.start + schedule.due(index, k);
        if due >= window.end {
            return unsent;
        }
        unsent += u64::from(due >= window.measure_from);
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::http::tests::{Fake, fake_server};

    #[test]
    fn the_schedule_spreads_requests_evenly_over_connections() {
        let schedule = Schedule {
            rate: 1000.0,
            connections: 7,
        };
        let mut due: Vec<Duration> = (0..7)
            .flat_map(|conn| (0..200).map(move |k| schedule.due(conn, k)))
            .filter(|d| *d < Duration::from_secs(1))
            .collect();
        due.sort();
        assert_eq!(due.len(), 1000);
        for (g, d) in due.iter().enumerate() {
            let want = g as f64 / 1000.0;
            assert!(
                (d.as_secs_f64() - want).abs() < 1e-9,
                "request {g} due at {d:?}"
            );
        }
        // Every sequence number is used once: the claim mix is walked in order.
        let mut seqs: Vec<u64> = (0..7)
            .flat_map(|c| (0..3).map(move |k| schedule.seq(c, k)))
            .collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (0..21).collect::<Vec<_>>());
    }

    #[test]
    fn unsent_counts_only_the_measured_part() {
        let start = Instant::now();
        let window = Window {
            start,
            measure_from: start + Duration::from_secs(1),
            end: start + Duration::from_secs(3),
        };
        let schedule = Schedule {
            rate: 10.0,
            connections: 2,
        };
        // Connection 0 sends 0, 0.2, 0.4, ... s: ten of them fall in [1, 3).
        assert_eq!(unsent_measured(&schedule, 0, 0, &window), 10);
        assert_eq!(unsent_measured(&schedule, 1, 0, &window), 10);
        assert_eq!(unsent_measured(&schedule, 0, 10, &window), 5);
    }

    #[tokio::test]
    async fn a_stall_shows_in_every_request_queued_behind_it() -> anyhow::Result<()> {
        // One connection, a request due every 5 ms, and a server that takes 50 ms each time:
        // the server can serve 20/s of the 200/s offered, so the backlog grows for the whole
        // window. A coordinated-omission-prone loop would report ~50 ms for everything;
        // measured from due time, the n-th request waits 50 + 45 n ms.
        let addr = fake_server(Fake {
            post_status: 200,
            delay: Duration::from_millis(50),
        })
        .await?;
        let target = Target::resolve(&format!("http://{addr}")).await?;
        let plan = Plan {
            connections: 1,
            warmup: Duration::ZERO,
            duration: Duration::from_millis(100),
        };
        let workload = Workload::ceiling(target.host_header.clone());
        let run = hold_rate(&target, &workload, &plan, 200.0, None).await?;
        assert_eq!(run.tally.failures(), 0);
        assert_eq!(run.missed, 0);
        // 20 requests due; all answered, the last after about 900 ms.
        assert_eq!(run.latency.count, 20, "{:?}", run.latency);
        assert!(run.latency.max_ms > 850.0, "{:?}", run.latency);
        assert!(run.latency.p50_ms > 400.0, "{:?}", run.latency);
        assert!(run.send_lag.max_ms > 800.0, "{:?}", run.send_lag);
        // Two answers fit in the 100 ms window: far below the 200/s offered.
        assert!(run.achieved_per_sec <= 30.0, "{}", run.achieved_per_sec);
        Ok(())
    }

    #[tokio::test]
    async fn below_capacity_the_offered_rate_is_achieved() -> anyhow::Result<()> {
        let addr = fake_server(Fake {
            post_status: 200,
            delay: Duration::ZERO,
        })
        .await?;
        let target = Target::resolve(&format!("http://{addr}")).await?;
        let plan = Plan {
            connections: 5,
            warmup: Duration::from_millis(100),
            duration: Duration::from_millis(500),
        };
        let workload = Workload::ceiling(target.host_header.clone());
        let run = hold_rate(&target, &workload, &plan, 400.0, None).await?;
        assert_eq!(run.tally.failures(), 0);
        assert_eq!(run.missed, 0);
        // 400/s for 0.5 s: exactly 200 requests due in the window. Their answers may land
        // just past its end on a busy machine, hence the tolerance on the achieved rate.
        assert_eq!(run.latency.count, 200);
        assert!(
            (300.0..=440.0).contains(&run.achieved_per_sec),
            "{}",
            run.achieved_per_sec
        );
        assert!(run.latency.p50_ms < 50.0, "{:?}", run.latency);
        Ok(())
    }
}
