//! What the closed and open loops share: the run plan, its time window, and the connections.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;

use super::http::Conn;
use super::stats::Tally;

/// Connections opened at once before a run. Loopback accepts fast; the limit only keeps a
/// burst of 500 SYNs from overflowing a small accept backlog.
const CONNECT_CONCURRENCY: usize = 64;

/// Pause after a failed reconnect, so a dead server costs a few hundred attempts a second
/// at most rather than a busy loop.
const RECONNECT_PAUSE: Duration = Duration::from_millis(10);

/// How one run is shaped.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Concurrent connections.
    pub connections: usize,
    /// Time before measuring, to fill caches and reach steady state.
    pub warmup: Duration,
    /// Time measured.
    pub duration: Duration,
}

/// The run's time line: it starts, measuring begins after the warm-up, and sending ends.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub measure_from: Instant,
    pub end: Instant,
}

impl Window {
    /// A window starting now.
    pub fn starting_now(plan: &Plan) -> Self {
        let start = Instant::now();
        let measure_from = start + plan.warmup;
        Self {
            start,
            measure_from,
            end: measure_from + plan.duration,
        }
    }

    /// Whether `at` falls in the measured part.
    pub fn measures(&self, at: Instant) -> bool {
        at >= self.measure_from && at < self.end
    }
}

/// Opens `count` connections; a connection that fails to open is `None` (its worker retries)
/// and is counted in the returned tally's errors.
pub async fn open_connections(addr: SocketAddr, count: usize) -> (Vec<Option<Conn>>, Tally) {
    let conns: Vec<Option<Conn>> = futures::stream::iter(0..count)
        .map(|_| async move { Conn::open(addr).await.ok() })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let tally = Tally {
        errors: conns.iter().filter(|c| c.is_none()).count() as u64,
        ..Tally::default()
    };
    (conns, tally)
}

/// Makes sure `conn` is open, reconnecting if needed. On failure counts an error, pauses
/// briefly, and returns `false`.
pub async fn ensure_open(conn: &mut Option<Conn>, addr: SocketAddr, tally: &mut Tally) -> bool {
    if conn.is_some() {
        return true;
    }
    match Conn::open(addr).await {
        Ok(opened) => {
            *conn = Some(opened);
            true
        }
        Err(_) => {
            tally.errors += 1;
            tokio::time::sleep(RECONNECT_PAUSE).await;
            false
        }
    }
}

/// Sleeps until `at` (no-op when it has passed).
pub async fn sleep_until(at: Instant) {
    tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
}
