//! Prometheus metrics: one process-wide recorder, rendered at `/metrics`.
//!
//! The `metrics` facade has one global recorder per process, so it is installed once and
//! shared by every router built in the process (tests build many).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds: fine below 5 ms, where the NIK-check target sits.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Requests served, by route template, method and status.
pub const REQUESTS: &str = "simpul_http_requests_total";
/// Request latency histogram, with the same labels.
pub const LATENCY: &str = "simpul_http_request_duration_seconds";
/// How often recorded histogram samples are folded into buckets. Without it they pile up
/// in memory between scrapes, without bound if nobody scrapes.
const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(LATENCY.into()), LATENCY_BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the recorder if it is not yet (call before serving).
pub fn install() {
    let _ = handle();
}

/// The current metrics in Prometheus text format.
pub fn render() -> String {
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

/// Folds histogram samples into their buckets forever; [`crate::serve`] runs it beside
/// the server and stops it on shutdown.
pub async fn upkeep() {
    let Some(handle) = handle() else { return };
    let mut interval = tokio::time::interval(UPKEEP_INTERVAL);
    loop {
        interval.tick().await;
        handle.run_upkeep();
    }
}

/// Records one finished request.
pub fn record_request(route: &str, method: &str, status: u16, seconds: f64) {
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(LATENCY, &labels).record(seconds);
}
