//! Operations endpoints: liveness, readiness, Prometheus metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::problem::ApiError;
use crate::state::AppState;

/// `GET /`: the API documentation is the hub's front page until the console exists.
pub async fn home() -> axum::response::Redirect {
    axum::response::Redirect::temporary("/docs/")
}

/// `GET /healthz`: the process answers. Also the ceiling in benchmarks: the cheapest
/// request this server can serve.
#[utoipa::path(get, path = "/healthz", tag = "operasi", responses((status = 200, body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the store answers a round trip.
#[utoipa::path(get, path = "/readyz", tag = "operasi",
    responses((status = 200, body = String), (status = 503, body = crate::problem::Problem)))]
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.store.ping().await?;
    Ok("ready")
}

/// `GET /metrics`: request counts and latency histograms by route and status.
#[utoipa::path(get, path = "/metrics", tag = "operasi", responses((status = 200, body = String)))]
pub async fn metrics() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
}
