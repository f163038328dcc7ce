//! One module per resource; each handler parses its input into domain values, asks the
//! store, and shapes the answer. No handler builds an error body itself.

pub mod admin;
pub mod keluarga;
pub mod lampid;
pub mod ledger;
pub mod ops;
pub mod penduduk;
pub mod statistik;
pub mod verifikasi;
pub mod wilayah;

use simpul_domain::{IdNumberError, KodeWilayah, Nik, NoKk};

use crate::auth::Caller;
use crate::auth::gate::Outcome;
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// Before answering "not found": the caller must hold `action` in its own region (so a
/// caller without it learns nothing), and the miss is logged like any read.
pub(crate) async fn not_found_in_home_region(
    state: &AppState,
    caller: &Caller,
    action: simpul_domain::access::Action,
) -> Result<(), ApiError> {
    let home = state.home_region(caller).await?;
    let resource = match &home {
        Some(region) => simpul_domain::access::Resource::Region(region),
        None => simpul_domain::access::Resource::Hub,
    };
    state.authorize(caller, action, resource).await?;
    state
        .record_read(caller, action, &[], &[], Outcome::NotFound)
        .await
}

/// Parses a NIK at the boundary; a refusal is `invalid_nik` with the rule as `reason`.
pub(crate) fn parse_nik(field: &str, input: &str) -> Result<Nik, ApiError> {
    Nik::parse(
        input,
        simpul_domain::wilayah::embedded(),
        simpul_domain::today(),
    )
    .map_err(|e| ApiError::invalid_nik(field, &e))
}

/// Parses a KK number; a refusal is `invalid_no_kk` with the rule as `reason`.
pub(crate) fn parse_no_kk(input: &str) -> Result<NoKk, ApiError> {
    NoKk::parse(
        input,
        simpul_domain::wilayah::embedded(),
        simpul_domain::today(),
    )
    .map_err(|e: IdNumberError| {
        ApiError::new(ProblemCode::InvalidNoKk, format!("nomor KK {e}"))
            .field("no_kk")
            .reason(e.kind())
    })
}

/// Parses a dotted or undotted region code; a refusal is `invalid_region_code`.
pub(crate) fn parse_region(field: &str, input: &str) -> Result<KodeWilayah, ApiError> {
    KodeWilayah::parse(input)
        .map_err(|e| ApiError::new(ProblemCode::InvalidRegionCode, e.to_string()).field(field))
}
