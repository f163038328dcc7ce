//! `/api/v1/nik/verifikasi`: per-field verdicts on an identity claim, no personal data out.

use std::collections::HashMap;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use simpul_domain::verification::{IdentityClaim, NikStatus, VerificationOutcome, verify};
use simpul_domain::{IdNumberError, Nik};
use utoipa::ToSchema;

use simpul_domain::access::{Action, Resource};

use super::{not_found_in_home_region, parse_nik};
use crate::auth::Caller;
use crate::auth::gate::Outcome;
use crate::extract::Json;
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// `POST /api/v1/nik/verifikasi`: one claim. An invalid NIK is a 400 here, since the
/// whole request is about it.
#[utoipa::path(post, path = "/api/v1/nik/verifikasi", tag = "verifikasi", request_body = IdentityClaim,
    responses((status = 200, body = VerificationOutcome), (status = 400, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn single(
    State(state): State<AppState>,
    caller: Caller,
    Json(claim): Json<IdentityClaim>,
) -> Result<Json<VerificationOutcome>, ApiError> {
    let nik = parse_nik("nik", &claim.nik)?;
    let Some(record) = state.verification_reads.read(nik.clone()).await? else {
        not_found_in_home_region(&state, &caller, Action::VerifyNik).await?;
        return Ok(Json(VerificationOutcome::not_found()));
    };
    state
        .authorize(
            &caller,
            Action::VerifyNik,
            Resource::Region(&record.kelurahan),
        )
        .await?;
    state
        .record_read(
            &caller,
            Action::VerifyNik,
            &[&nik],
            VERIFIED_FIELDS,
            Outcome::Allowed,
        )
        .await?;
    Ok(Json(verify(&claim, &record)))
}

/// What a verification discloses: a verdict on each claimed field, never the field.
const VERIFIED_FIELDS: &[&str] = &["status_nik", "kecocokan"];

/// Up to 10,000 claims.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// The claims, answered in the same order.
    pub klaim: Vec<IdentityClaim>,
}

/// One answer per claim, in the order sent, with totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// Totals over the batch.
    pub ringkasan: BatchSummary,
    /// One outcome per claim, in the order sent.
    pub hasil: Vec<VerificationOutcome>,
}

/// Totals over one batch.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BatchSummary {
    /// Claims received.
    pub jumlah: usize,
    /// Claims whose every field matched.
    pub sesuai_semua: usize,
    /// Claims with a well-formed NIK that no record has.
    pub tidak_terdaftar: usize,
    /// Claims whose NIK is not valid.
    pub tidak_valid: usize,
}

/// `POST /api/v1/nik/verifikasi/batch`: an invalid NIK is that claim's verdict
/// (`tidak_valid`), so one typo does not fail a batch of thousands.
#[utoipa::path(post, path = "/api/v1/nik/verifikasi/batch", tag = "verifikasi", request_body = BatchRequest,
    responses((status = 200, body = BatchResponse), (status = 400, body = crate::problem::Problem), (status = 413, body = crate::problem::Problem)))]
pub async fn batch(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    let claims = request.klaim;
    if claims.is_empty() {
        return Err(
            ApiError::new(ProblemCode::BatchEmpty, "kirim minimal satu klaim").field("klaim"),
        );
    }
    if claims.len() > state.limits.max_batch_claims {
        return Err(ApiError::new(
            ProblemCode::BatchTooLarge,
            format!(
                "maksimal {} klaim per permintaan, diterima {}",
                state.limits.max_batch_claims,
                claims.len()
            ),
        )
        .field("klaim"));
    }
    let today = simpul_domain::today();
    let directory = simpul_domain::wilayah::embedded();
    let parsed: Vec<Result<Nik, IdNumberError>> = claims
        .iter()
        .map(|c| Nik::parse(&c.nik, directory, today))
        .collect();
    let valid: Vec<Nik> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok().cloned())
        .collect();
    // The caller must hold batch checks in its own region, and each record found must lie
    // where it may check; one that does not refuses the whole batch.
    let home = state.home_region(&caller).await?;
    state
        .authorize(
            &caller,
            Action::VerifyNikBatch,
            home.as_ref().map_or(Resource::Hub, Resource::Region),
        )
        .await?;
    let records: HashMap<_, _> = state.store.verification_records(&valid).await?;
    let mut regions: Vec<&simpul_domain::KodeWilayah> =
        records.values().map(|r| &r.kelurahan).collect();
    regions.sort();
    regions.dedup();
    for region in regions {
        state
            .authorize(&caller, Action::VerifyNikBatch, Resource::Region(region))
            .await?;
    }
    let found: Vec<&Nik> = records.keys().collect();
    state
        .record_read(
            &caller,
            Action::VerifyNikBatch,
            &found,
            VERIFIED_FIELDS,
            Outcome::Allowed,
        )
        .await?;
    let mut summary = BatchSummary {
        jumlah: claims.len(),
        ..BatchSummary::default()
    };
    let hasil = claims
        .iter()
        .zip(parsed)
        .map(|(claim, nik)| {
            let outcome = match nik {
                Err(error) => VerificationOutcome::invalid_nik(error.kind()),
                Ok(nik) => match records.get(&nik) {
                    Some(record) => verify(claim, record),
                    None => VerificationOutcome::not_found(),
                },
            };
            match outcome.status_nik {
                NikStatus::TidakValid => summary.tidak_valid += 1,
                NikStatus::TidakTerdaftar => summary.tidak_terdaftar += 1,
                NikStatus::Terdaftar if outcome.all_match() => summary.sesuai_semua += 1,
                NikStatus::Terdaftar => {}
            }
            outcome
        })
        .collect();
    Ok(Json(BatchResponse {
        ringkasan: summary,
        hasil,
    }))
}
