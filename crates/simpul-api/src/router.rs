//! The route table, reading like an API index, and the layers every request passes.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{oauth, session};
use crate::handlers::{
    admin, keluarga, lampid, ledger, ops, penduduk, statistik, verifikasi, wilayah,
};
use crate::openapi::ApiDoc;
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// Builds the whole application; tests call it without a socket. Also installs the
/// process-wide metrics recorder that `/metrics` renders.
pub fn router(state: AppState) -> Router {
    crate::metrics::install();
    let body_limit = DefaultBodyLimit::max(state.limits.max_body_bytes);
    Router::new()
        .route("/", get(ops::home))
        .route("/api/v1/wilayah", get(wilayah::search))
        .route("/api/v1/wilayah/{kode}", get(wilayah::show))
        .route("/api/v1/wilayah/{kode}/anak", get(wilayah::children))
        .route("/api/v1/penduduk", get(penduduk::search))
        .route("/api/v1/penduduk/{nik}", get(penduduk::show))
        .route("/api/v1/keluarga/{no_kk}", get(keluarga::show))
        .route("/api/v1/lampid", get(lampid::queue).post(lampid::create))
        .route(
            "/api/v1/lampid/{kode}",
            get(lampid::show).put(lampid::amend),
        )
        .route("/api/v1/lampid/{kode}/langkah", post(lampid::step))
        .route("/api/v1/lacak/{kode}", get(lampid::track))
        .route("/api/v1/statistik/penduduk", get(statistik::population))
        .route("/api/v1/statistik/agama", get(statistik::religion))
        .route(
            "/api/v1/statistik/perkawinan",
            get(statistik::marital_status),
        )
        .route("/api/v1/statistik/peristiwa", get(statistik::events))
        .route("/api/v1/statistik/layanan", get(statistik::service_levels))
        .route("/api/v1/nik/verifikasi", post(verifikasi::single))
        .route("/api/v1/nik/verifikasi/batch", post(verifikasi::batch))
        .route(
            "/api/v1/sesi",
            post(session::sign_in).delete(session::sign_out),
        )
        .route("/api/v1/sesi/totp/daftar", post(session::enrol))
        .route("/api/v1/sesi/totp", post(session::second_factor))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/.well-known/jwks.json", get(oauth::jwks))
        .route(
            "/api/v1/admin/akun",
            get(admin::accounts).post(admin::create_account),
        )
        .route(
            "/api/v1/admin/klien",
            get(admin::clients).post(admin::create_client),
        )
        .route(
            "/api/v1/admin/klien/{client_id}/cabut",
            post(admin::revoke_client),
        )
        .route(
            "/api/v1/admin/perjanjian",
            get(admin::agreements).put(admin::put_agreement),
        )
        .route("/api/v1/admin/peringatan", get(admin::alerts))
        .route(
            "/api/v1/admin/peringatan/{id}/akui",
            post(admin::acknowledge),
        )
        .route("/api/v1/audit/akses", get(admin::access_log))
        .route("/api/v1/ledger/key", get(ledger::key))
        .route("/api/v1/ledger/checkpoint", get(ledger::checkpoint))
        .route("/api/v1/ledger/proof/inclusion", get(ledger::inclusion))
        .route("/api/v1/ledger/proof/consistency", get(ledger::consistency))
        .route("/api/v1/ledger/cosignature", post(ledger::cosign))
        .route("/api/v1/ledger/entri", get(ledger::entries))
        .route("/api/v1/ledger/akses", get(ledger::access_history))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .layer(body_limit)
        .with_state(state)
        .merge(docs())
        // Set after the merge: one fallback for the whole application.
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Inside the access log, so a panic is logged and counted as the 500 it becomes.
        .layer(CatchPanicLayer::custom(|_panic| {
            // The payload may quote request data; the route is on the access-log span.
            tracing::error!("handler panicked");
            ApiError::new(ProblemCode::Internal, "terjadi kesalahan pada server").into_response()
        }))
        .layer(axum::middleware::from_fn(crate::access_log::layer))
}

/// The Swagger UI at `/docs` and the document at `/openapi.json`. The UI's files are
/// compiled into the binary (`vendored`), so the page loads nothing from a CDN.
fn docs() -> Router {
    Router::from(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
        .layer(axum::middleware::map_response(docs_problem))
}

/// The Swagger UI answers its own failures outside the table (a missing file is a bare
/// 404, an undecodable path a text 400, a wrong method a bare 405); this maps them in.
async fn docs_problem(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => return route_not_found().await.into_response(),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response.headers().get(header::ALLOW).cloned();
            let mut problem = method_not_allowed().await.into_response();
            if let Some(allow) = allow {
                problem.headers_mut().insert(header::ALLOW, allow);
            }
            return problem;
        }
        status if status.is_client_error() => ApiError::new(
            ProblemCode::InvalidPath,
            "segmen alamat tidak dapat dibaca (harus teks UTF-8 yang sah)",
        ),
        status => ApiError::internal(format!("documentation route answered {status}")),
    };
    error.into_response()
}

async fn route_not_found() -> ApiError {
    ApiError::new(
        ProblemCode::RouteNotFound,
        "lihat /docs untuk daftar alamat API",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ProblemCode::MethodNotAllowed,
        "lihat /docs untuk metode yang didukung",
    )
}
