//! simpul's HTTP API as a library: build the router, serve it on a bound listener.
//!
//! The API speaks the domain in Indonesian (`/api/v1/penduduk`, `nik`, `no_kk`); every
//! failure is `application/problem+json` from one code table ([`problem`]); one middleware
//! writes the access log and metrics ([`access_log`]).
//!
//! # Layout
//! - [`router`]: the route table, reading like an API index.
//! - [`auth`]: callers (sessions, bearer tokens), the authorization gate, the access log
//!   of personal-data reads, sign-in, OAuth, quotas.
//! - [`handlers`]: one module per resource.
//! - [`problem`]: the problem+json code table.
//! - [`extract`]: JSON and query extractors whose rejections are problems.
//! - [`state`]: the shared store handle and request limits.
//! - [`coalesce`]: concurrent single verifications read from the store together.
//! - [`access_log`], [`metrics`]: the per-request span, log line and Prometheus metrics.
//! - [`openapi`]: the OpenAPI 3.1 document.

pub mod access_log;
pub mod auth;
pub mod coalesce;
pub mod extract;
pub mod handlers;
pub mod ledger;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod router;
pub mod state;

use std::future::Future;

pub use auth::security::Security;
pub use router::router;
pub use state::{AppState, Limits};

/// Serves `router` on an already-bound listener until `shutdown` completes, then lets
/// in-flight requests finish (graceful shutdown). Runs the metrics upkeep meanwhile.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    metrics::install();
    let upkeep = tokio::spawn(metrics::upkeep());
    // Answers are small and written whole: without TCP_NODELAY, Nagle's algorithm can hold
    // one back until the client's delayed ACK (tens of milliseconds on Linux).
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
    });
    // Connect info gives the gate the caller's network (access log, new-network rule).
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    upkeep.abort();
    served
}
