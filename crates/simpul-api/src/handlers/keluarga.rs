//! `/api/v1/keluarga/{no_kk}`: a family card with its living members.

use axum::extract::State;
use simpul_domain::Family;
use simpul_domain::access::Action;

use super::{not_found_in_home_region, parse_no_kk};
use crate::auth::Caller;
use crate::auth::gate::Outcome;
use crate::extract::{Json, Path};
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// `GET /api/v1/keluarga/{no_kk}`
#[utoipa::path(get, path = "/api/v1/keluarga/{no_kk}", tag = "registri",
    params(("no_kk" = String, Path, description = "Nomor KK, 16 digit")),
    responses((status = 200, body = Family), (status = 400, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(no_kk): Path<String>,
) -> Result<Json<Family>, ApiError> {
    let no_kk = parse_no_kk(&no_kk)?;
    let Some(family) = state.store.family(&no_kk).await? else {
        not_found_in_home_region(&state, &caller, Action::ReadFamily).await?;
        return Err(
            ApiError::new(ProblemCode::FamilyNotFound, "nomor KK tidak terdaftar").field("no_kk"),
        );
    };
    state
        .authorize(
            &caller,
            Action::ReadFamily,
            simpul_domain::access::Resource::Region(&family.address.kelurahan),
        )
        .await?;
    let members: Vec<_> = family.members.iter().map(|m| &m.nik).collect();
    state
        .record_read(
            &caller,
            Action::ReadFamily,
            &members,
            FAMILY_FIELDS,
            Outcome::Allowed,
        )
        .await?;
    Ok(Json(family))
}

/// The personal fields a family card discloses, as the access log names them.
const FAMILY_FIELDS: &[&str] = &[
    "nik",
    "nama_lengkap",
    "tempat_lahir",
    "tanggal_lahir",
    "pekerjaan",
    "nama_ayah",
    "nama_ibu",
    "alamat",
];
