//! `/api/v1/wilayah`: region master data with parent chains, children and name search.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use simpul_domain::wilayah::{Region, RegionLevel};
use utoipa::{IntoParams, ToSchema};

use super::parse_region;
use crate::extract::{Json, Path, Query};
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// Shortest name fragment worth searching 90,000 regions for.
const MIN_QUERY_CHARS: usize = 3;
/// Longer than any region name in the master data; longer input is not a name.
const MAX_QUERY_CHARS: usize = 100;
/// Matches returned at most; a search is for picking one region, not for export.
const SEARCH_LIMIT: u32 = 50;

/// A region without its relatives.
#[derive(Debug, Serialize, ToSchema)]
pub struct WilayahRingkas {
    /// Dotted Kemendagri code.
    #[schema(example = "35.77")]
    pub kode: String,
    /// Official name.
    #[schema(example = "Kota Madiun")]
    pub nama: String,
    /// Administrative level.
    pub tingkat: RegionLevel,
}

impl From<Region> for WilayahRingkas {
    fn from(region: Region) -> Self {
        Self {
            kode: region.code.to_string(),
            nama: region.name,
            tingkat: region.level,
        }
    }
}

/// A region with its parent chain (from the province down) and its children.
#[derive(Debug, Serialize, ToSchema)]
pub struct Wilayah {
    /// The region itself.
    #[serde(flatten)]
    pub wilayah: WilayahRingkas,
    /// Parents from the province down to the direct parent.
    pub induk: Vec<WilayahRingkas>,
    /// Regions one level below.
    pub anak: Vec<WilayahRingkas>,
}

/// `GET /api/v1/wilayah/{kode}`
#[utoipa::path(get, path = "/api/v1/wilayah/{kode}", tag = "wilayah",
    params(("kode" = String, Path, description = "Kode wilayah bertitik, mis. 35.77")),
    responses((status = 200, body = Wilayah), (status = 400, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    Path(kode): Path<String>,
) -> Result<Json<Wilayah>, ApiError> {
    let code = parse_region("kode", &kode)?;
    let region = state
        .store
        .region(&code)
        .await?
        .ok_or_else(|| not_found(&code))?;
    let mut induk = Vec::new();
    let mut parent = code.parent();
    while let Some(code) = parent {
        if let Some(region) = state.store.region(&code).await? {
            induk.push(region.into());
        }
        parent = code.parent();
    }
    induk.reverse();
    let anak = state
        .store
        .region_children(&code)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(Wilayah {
        wilayah: region.into(),
        induk,
        anak,
    }))
}

/// `GET /api/v1/wilayah/{kode}/anak`
#[utoipa::path(get, path = "/api/v1/wilayah/{kode}/anak", tag = "wilayah",
    params(("kode" = String, Path, description = "Kode wilayah bertitik")),
    responses((status = 200, body = Vec<WilayahRingkas>), (status = 400, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn children(
    State(state): State<AppState>,
    Path(kode): Path<String>,
) -> Result<Json<Vec<WilayahRingkas>>, ApiError> {
    let code = parse_region("kode", &kode)?;
    if state.store.region(&code).await?.is_none() {
        return Err(not_found(&code));
    }
    let children = state.store.region_children(&code).await?;
    Ok(Json(children.into_iter().map(Into::into).collect()))
}

/// Region search criteria.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Part of the region's name, at least three letters.
    pub q: String,
}

/// `GET /api/v1/wilayah?q=nama`
#[utoipa::path(get, path = "/api/v1/wilayah", tag = "wilayah", params(SearchParams),
    responses((status = 200, body = Vec<WilayahRingkas>), (status = 400, body = crate::problem::Problem)))]
pub async fn search(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<Json<Vec<WilayahRingkas>>, ApiError> {
    let q = params.q.trim();
    if !(MIN_QUERY_CHARS..=MAX_QUERY_CHARS).contains(&q.chars().count()) {
        return Err(ApiError::new(
            ProblemCode::InvalidQuery,
            format!("q harus {MIN_QUERY_CHARS} sampai {MAX_QUERY_CHARS} karakter"),
        )
        .field("q"));
    }
    let found = state.store.search_regions(q, SEARCH_LIMIT).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

fn not_found(code: &simpul_domain::KodeWilayah) -> ApiError {
    ApiError::new(
        ProblemCode::RegionNotFound,
        format!("tidak ada wilayah dengan kode {code}"),
    )
    .field("kode")
}
