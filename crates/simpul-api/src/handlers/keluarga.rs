//! `/api/v1/keluarga/{no_kk}`: a family card with its living members.

use axum::extract::State;
use simpul_domain::Family;

use super::parse_no_kk;
use crate::extract::{Json, Path};
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// `GET /api/v1/keluarga/{no_kk}`
#[utoipa::path(get, path = "/api/v1/keluarga/{no_kk}", tag = "registri",
    params(("no_kk" = String, Path, description = "Nomor KK, 16 digit")),
    responses((status = 200, body = Family), (status = 400, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    Path(no_kk): Path<String>,
) -> Result<Json<Family>, ApiError> {
    let no_kk = parse_no_kk(&no_kk)?;
    let family = state.store.family(&no_kk).await?.ok_or_else(|| {
        ApiError::new(ProblemCode::FamilyNotFound, "nomor KK tidak terdaftar").field("no_kk")
    })?;
    Ok(Json(family))
}
