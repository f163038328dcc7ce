//! `/api/v1/penduduk`: one resident by NIK, and search by name, birth date and region.

use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use simpul_domain::name;
use simpul_domain::resident::MAX_NAME_LEN;
use simpul_store::{ResidentQuery, ResidentRecord, ResidentSummary};
use utoipa::{IntoParams, ToSchema};

use simpul_domain::access::{Action, Resource};

use super::{not_found_in_home_region, parse_nik, parse_region};
use crate::auth::Caller;
use crate::auth::gate::Outcome;
use crate::extract::{Json, Path, Query};
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// `GET /api/v1/penduduk/{nik}`
#[utoipa::path(get, path = "/api/v1/penduduk/{nik}", tag = "registri",
    params(("nik" = String, Path, description = "NIK, 16 digit")),
    responses((status = 200, body = ResidentRecord), (status = 400, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(nik): Path<String>,
) -> Result<Json<ResidentRecord>, ApiError> {
    let nik = parse_nik("nik", &nik)?;
    let Some(record) = state.store.resident(&nik).await? else {
        not_found_in_home_region(&state, &caller, Action::ReadResident).await?;
        return Err(
            ApiError::new(ProblemCode::ResidentNotFound, "NIK tidak terdaftar").field("nik"),
        );
    };
    state
        .authorize(
            &caller,
            Action::ReadResident,
            Resource::Region(&record.address.kelurahan),
        )
        .await?;
    state
        .record_read(
            &caller,
            Action::ReadResident,
            &[&nik],
            RESIDENT_FIELDS,
            Outcome::Allowed,
        )
        .await?;
    Ok(Json(record))
}

/// The personal fields a resident record discloses, as the access log names them.
const RESIDENT_FIELDS: &[&str] = &[
    "nik",
    "no_kk",
    "nama_lengkap",
    "tempat_lahir",
    "tanggal_lahir",
    "pekerjaan",
    "nama_ayah",
    "nama_ibu",
    "alamat",
];

/// The personal fields a search result line discloses.
const SUMMARY_FIELDS: &[&str] = &["nik", "no_kk", "nama_lengkap", "tanggal_lahir"];

/// Search criteria; at least one of `nama`, `tanggal_lahir`, `kelurahan`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words of the name, in any case and spacing; all must appear.
    pub nama: Option<String>,
    /// Birth date, `YYYY-MM-DD`.
    pub tanggal_lahir: Option<NaiveDate>,
    /// A kelurahan, kecamatan or city code; residents living inside it.
    pub kelurahan: Option<String>,
    /// Page number from 1.
    pub halaman: Option<u32>,
    /// Results per page, at most 100 (default 20).
    pub per_halaman: Option<u32>,
}

/// One page of search results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    pub total: u64,
    pub halaman: u32,
    pub per_halaman: u32,
    pub data: Vec<ResidentSummary>,
}

const DEFAULT_PAGE_SIZE: u32 = 20;

/// `GET /api/v1/penduduk?nama=&tanggal_lahir=&kelurahan=`
#[utoipa::path(get, path = "/api/v1/penduduk", tag = "registri", params(SearchParams),
    responses((status = 200, body = SearchPage), (status = 400, body = crate::problem::Problem)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchPage>, ApiError> {
    let name_tokens = match params.nama.as_deref() {
        Some(nama) => search_tokens(nama)?,
        None => Vec::new(),
    };
    let region = params
        .kelurahan
        .as_deref()
        .map(|k| parse_region("kelurahan", k))
        .transpose()?;
    if name_tokens.is_empty() && params.tanggal_lahir.is_none() && region.is_none() {
        return Err(ApiError::new(
            ProblemCode::InvalidQuery,
            "isi minimal satu kriteria: nama, tanggal_lahir atau kelurahan",
        ));
    }
    let halaman = params.halaman.unwrap_or(1);
    let per_halaman = params.per_halaman.unwrap_or(DEFAULT_PAGE_SIZE);
    if halaman == 0 {
        return Err(
            ApiError::new(ProblemCode::InvalidQuery, "halaman dimulai dari 1").field("halaman"),
        );
    }
    if !(1..=state.limits.max_page_size).contains(&per_halaman) {
        return Err(ApiError::new(
            ProblemCode::InvalidQuery,
            format!("per_halaman harus 1 sampai {}", state.limits.max_page_size),
        )
        .field("per_halaman"));
    }
    // A search naming no region is a search of the caller's own region.
    let region = match region {
        Some(region) => Some(region),
        None => state.home_region(&caller).await?,
    };
    let resource = match &region {
        Some(region) => Resource::Region(region),
        None => Resource::Hub,
    };
    state
        .authorize(&caller, Action::SearchResidents, resource)
        .await?;
    let query = ResidentQuery {
        name_tokens,
        birth_date: params.tanggal_lahir,
        region,
        offset: u64::from(halaman - 1) * u64::from(per_halaman),
        limit: per_halaman,
    };
    let page = state.store.search_residents(&query).await?;
    let found: Vec<_> = page.items.iter().map(|r| &r.nik).collect();
    state
        .record_read(
            &caller,
            Action::SearchResidents,
            &found,
            SUMMARY_FIELDS,
            Outcome::Allowed,
        )
        .await?;
    Ok(Json(SearchPage {
        total: page.total,
        halaman,
        per_halaman,
        data: page.items,
    }))
}

/// The distinct normalised words of a searched name. The store requires every token to
/// match a distinct indexed word, so a repeated word would match nobody; and a name
/// longer than any family card prints would only make a huge query.
fn search_tokens(nama: &str) -> Result<Vec<String>, ApiError> {
    if nama.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::new(
            ProblemCode::InvalidQuery,
            format!("nama paling banyak {MAX_NAME_LEN} karakter"),
        )
        .field("nama"));
    }
    let mut tokens = name::tokens(nama);
    tokens.sort_unstable();
    tokens.dedup();
    if tokens.is_empty() {
        return Err(
            ApiError::new(ProblemCode::InvalidQuery, "nama tidak berisi huruf").field("nama"),
        );
    }
    Ok(tokens)
}
