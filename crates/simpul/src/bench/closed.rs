//! Throughput at saturation: a closed loop where each connection sends its next request as
//! soon as the previous answer arrives.
//!
//! Only 200 answers completed inside the measured window count; everything else is tallied
//! over the whole run (warm-up included) so a run with errors says so.

use std::net::SocketAddr;
use std::time::Instant;

use serde::Serialize;

use super::http::{Conn, Endpoint, REQUEST_TIMEOUT, Workload};
use super::load::{Plan, Window, ensure_open, open_connections, sleep_until};
use super::stats::{CpuBusy, CpuMeter, Tally};
use super::target::Target;

/// One closed-loop run.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedRun {
    pub endpoint: Endpoint,
    pub connections: usize,
    /// 200 answers per second of measured window.
    pub requests_per_sec: f64,
    pub window_secs: f64,
    pub tally: Tally,
    /// CPU use of both sides over the measured window.
    pub cpu: CpuBusy,
}

/// Runs `workload` at saturation over `plan.connections` connections.
pub async fn saturate(
    target: &Target,
    workload: &Workload,
    plan: &Plan,
    server_pid: Option<u32>,
) -> anyhow::Result<ClosedRun> {
    let (conns, mut tally) = open_connections(target.addr, plan.connections).await;
    let window = Window::starting_now(plan);
    let stride = plan.connections as u64;
    let workers: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, conn)| {
            tokio::spawn(worker(
                conn,
                target.addr,
                workload.clone(),
                i as u64,
                stride,
                window,
            ))
        })
        .collect();
    sleep_until(window.measure_from).await;
    let meter = CpuMeter::start(server_pid);
    sleep_until(window.end).await;
    let cpu = meter.stop();
    for worker in workers {
        tally.merge(&worker.await?);
    }
    let window_secs = plan.duration.as_secs_f64();
    Ok(ClosedRun {
        endpoint: workload.endpoint,
        connections: plan.connections,
        requests_per_sec: tally.ok_measured as f64 / window_secs,
        window_secs,
        tally,
        cpu,
    })
}

/// One connection's loop: request after request until the window ends. Requests in flight
/// at the end finish (bounded by [`REQUEST_TIMEOUT`]) but no longer count.
async fn worker(
    mut conn: Option<Conn>,
    addr: SocketAddr,
    workload: Workload,
    first_seq: u64,
    stride: u64,
    window: Window,
) -> Tally {
    let mut tally = Tally::default();
    let mut seq = first_seq;
    while Instant::now() < window.end {
        if !ensure_open(&mut conn, addr, &mut tally).await {
            continue;
        }
        let Some(open) = conn.as_mut() else { continue };
        let result = open
            .send_within(workload.request(seq), REQUEST_TIMEOUT)
            .await;
        seq += stride;
        match result {
            Ok((status, _)) => tally.answer(status, window.measures(Instant::now())),
            Err(_) => {
                tally.errors += 1;
                conn = None;
            }
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use hyper::body::Bytes;

    use super::*;
    use crate::bench::http::tests::{Fake, fake_server};

    async fn target(fake: Fake) -> anyhow::Result<Target> {
        let addr = fake_server(fake).await?;
        Target::resolve(&format!("http://{addr}")).await
    }

    #[tokio::test]
    async fn counts_only_the_measured_window_and_every_failure() -> anyhow::Result<()> {
        let target = target(Fake {
            post_status: 503,
            delay: Duration::from_millis(2),
        })
        .await?;
        let plan = Plan {
            connections: 4,
            warmup: Duration::from_millis(200),
            duration: Duration::from_millis(400),
        };
        let ceiling = saturate(
            &target,
            &Workload::ceiling(target.host_header.clone()),
            &plan,
            None,
        )
        .await?;
        assert_eq!(ceiling.tally.failures(), 0);
        assert!(ceiling.tally.ok_measured > 0);
        assert!(
            ceiling.tally.ok_measured < ceiling.tally.ok_total,
            "warm-up answers must not count"
        );
        // 4 connections, each answer delayed 2 ms: at most 2,000 answers/s.
        assert!(
            ceiling.requests_per_sec <= 2_000.0,
            "{}",
            ceiling.requests_per_sec
        );
        assert!(ceiling.requests_per_sec == ceiling.tally.ok_measured as f64 / 0.4);

        let bodies: Arc<[Bytes]> = Arc::from(vec![Bytes::from_static(b"{}")]);
        let failing = Workload::verification(target.host_header.clone(), bodies);
        let run = saturate(&target, &failing, &plan, None).await?;
        assert_eq!(run.requests_per_sec, 0.0);
        assert_eq!(run.tally.ok_total, 0);
        assert!(
            run.tally.statuses.get(&503).is_some_and(|&n| n > 10),
            "{:?}",
            run.tally
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_dead_server_is_errors_not_a_hang() -> anyhow::Result<()> {
        // Bind then drop a listener: nothing answers on that port.
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        drop(listener);
        let target = Target::resolve(&format!("http://{addr}")).await?;
        let plan = Plan {
            connections: 2,
            warmup: Duration::from_millis(50),
            duration: Duration::from_millis(100),
        };
        let started = Instant::now();
        let run = saturate(
            &target,
            &Workload::ceiling(target.host_header.clone()),
            &plan,
            None,
        )
        .await?;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(run.tally.errors >= 2);
        assert_eq!(run.tally.ok_total, 0);
        Ok(())
    }
}
