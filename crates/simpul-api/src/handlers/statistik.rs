//! `/api/v1/statistik/...`: population and event statistics answered from the counters the
//! journal keeps up to date, and e-LAMPID service levels. Aggregates only: no person is
//! named, so no purpose is asked and no read is logged per resident.

use std::collections::BTreeMap;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use simpul_domain::KodeWilayah;
use simpul_domain::access::{Action, Resource};
use simpul_domain::statistics::{AgeKey, Dimension, band_label, parse_event_key};
use simpul_store::{CounterValue, PendingCount};
use utoipa::{IntoParams, ToSchema};

use super::parse_region;
use crate::auth::Caller;
use crate::extract::{Json, Query};
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// Query of the population statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RegionParams {
    /// Region (any level); the caller's own region when absent.
    pub wilayah: Option<String>,
    /// Also break the figures down by the regions directly below.
    #[serde(default)]
    pub rinci: bool,
}

/// Residents of one age band.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct AgeBand {
    /// `0-4`, `5-9`, …, `75+`.
    pub kelompok: String,
    pub laki_laki: i64,
    pub perempuan: i64,
}

/// Living population of a region by sex and five-year age band.
#[derive(Debug, Serialize, ToSchema)]
pub struct PopulationFigures {
    pub wilayah: String,
    pub jumlah: i64,
    pub laki_laki: i64,
    pub perempuan: i64,
    pub kelompok_umur: Vec<AgeBand>,
}

/// The answer: the region, and with `rinci` each region below it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PopulationAnswer {
    #[serde(flatten)]
    pub total: PopulationFigures,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rincian: Option<Vec<PopulationFigures>>,
}

/// `GET /api/v1/statistik/penduduk`: living residents by sex and five-year age band.
#[utoipa::path(get, path = "/api/v1/statistik/penduduk", tag = "statistik", params(RegionParams),
    responses((status = 200, body = PopulationAnswer), (status = 400, body = crate::problem::Problem)))]
pub async fn population(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<RegionParams>,
) -> Result<Json<PopulationAnswer>, ApiError> {
    let region = region(&state, &caller, params.wilayah.as_deref()).await?;
    let today = simpul_domain::today();
    let own = state.store.counters(&region, Dimension::Usia).await?;
    let total = population_figures(region.as_str(), &own, today);
    let rincian = if params.rinci {
        let below = state.store.child_counters(&region, Dimension::Usia).await?;
        Some(
            by_region(below)
                .into_iter()
                .map(|(code, values)| population_figures(&code, &values, today))
                .collect(),
        )
    } else {
        None
    };
    Ok(Json(PopulationAnswer { total, rincian }))
}

fn population_figures(
    region: &str,
    counters: &[CounterValue],
    today: chrono::NaiveDate,
) -> PopulationFigures {
    let mut bands: BTreeMap<u32, AgeBand> = BTreeMap::new();
    for counter in counters {
        let Some(key) = AgeKey::parse(&counter.key) else {
            continue;
        };
        let lower = key.band_on(today);
        let band = bands.entry(lower).or_insert_with(|| AgeBand {
            kelompok: band_label(lower),
            ..AgeBand::default()
        });
        match key.sex {
            simpul_domain::Sex::LakiLaki => band.laki_laki += counter.count,
            simpul_domain::Sex::Perempuan => band.perempuan += counter.count,
        }
    }
    let laki_laki = bands.values().map(|b| b.laki_laki).sum();
    let perempuan = bands.values().map(|b| b.perempuan).sum();
    PopulationFigures {
        wilayah: region.to_owned(),
        jumlah: laki_laki + perempuan,
        laki_laki,
        perempuan,
        kelompok_umur: bands.into_values().collect(),
    }
}

fn by_region(values: Vec<CounterValue>) -> BTreeMap<String, Vec<CounterValue>> {
    let mut grouped: BTreeMap<String, Vec<CounterValue>> = BTreeMap::new();
    for value in values {
        grouped.entry(value.region.clone()).or_default().push(value);
    }
    grouped
}

/// Counts of one code list (religion or marital status) in a region.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeFigures {
    pub wilayah: String,
    /// Code → living residents.
    pub jumlah: BTreeMap<String, i64>,
}

/// The answer: the region, and with `rinci` each region below it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeAnswer {
    #[serde(flatten)]
    pub total: CodeFigures,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rincian: Option<Vec<CodeFigures>>,
}

/// `GET /api/v1/statistik/agama`: living residents by religion.
#[utoipa::path(get, path = "/api/v1/statistik/agama", tag = "statistik", params(RegionParams),
    responses((status = 200, body = CodeAnswer), (status = 400, body = crate::problem::Problem)))]
pub async fn religion(
    state: State<AppState>,
    caller: Caller,
    params: Query<RegionParams>,
) -> Result<Json<CodeAnswer>, ApiError> {
    code_list(state, caller, params, Dimension::Agama).await
}

/// `GET /api/v1/statistik/perkawinan`: living residents by marital status.
#[utoipa::path(get, path = "/api/v1/statistik/perkawinan", tag = "statistik", params(RegionParams),
    responses((status = 200, body = CodeAnswer), (status = 400, body = crate::problem::Problem)))]
pub async fn marital_status(
    state: State<AppState>,
    caller: Caller,
    params: Query<RegionParams>,
) -> Result<Json<CodeAnswer>, ApiError> {
    code_list(state, caller, params, Dimension::Perkawinan).await
}

async fn code_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<RegionParams>,
    dimension: Dimension,
) -> Result<Json<CodeAnswer>, ApiError> {
    let region = region(&state, &caller, params.wilayah.as_deref()).await?;
    let figures = |code: &str, values: &[CounterValue]| CodeFigures {
        wilayah: code.to_owned(),
        jumlah: values.iter().map(|v| (v.key.clone(), v.count)).collect(),
    };
    let own = state.store.counters(&region, dimension).await?;
    let rincian = if params.rinci {
        let below = state.store.child_counters(&region, dimension).await?;
        Some(
            by_region(below)
                .iter()
                .map(|(code, values)| figures(code, values))
                .collect(),
        )
    } else {
        None
    };
    Ok(Json(CodeAnswer {
        total: figures(region.as_str(), &own),
        rincian,
    }))
}

/// Query of the event statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// Region (any level); the caller's own region when absent.
    pub wilayah: Option<String>,
    /// First month (`YYYY-MM`), inclusive.
    pub dari: Option<String>,
    /// Last month (`YYYY-MM`), inclusive.
    pub sampai: Option<String>,
}

/// Registered events of one month.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct MonthFigures {
    pub bulan: String,
    pub kelahiran: i64,
    pub kematian: i64,
    pub pindah: i64,
    pub datang: i64,
}

/// `GET /api/v1/statistik/peristiwa`: births, deaths, moves out and in per month.
#[utoipa::path(get, path = "/api/v1/statistik/peristiwa", tag = "statistik", params(EventParams),
    responses((status = 200, body = [MonthFigures]), (status = 400, body = crate::problem::Problem)))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<EventParams>,
) -> Result<Json<Vec<MonthFigures>>, ApiError> {
    let region = region(&state, &caller, params.wilayah.as_deref()).await?;
    let from = month_param("dari", params.dari.as_deref())?;
    let to = month_param("sampai", params.sampai.as_deref())?;
    let mut months: BTreeMap<String, MonthFigures> = BTreeMap::new();
    for counter in state.store.counters(&region, Dimension::Peristiwa).await? {
        let Some((kind, month)) = parse_event_key(&counter.key) else {
            continue;
        };
        if from.as_deref().is_some_and(|f| month < f) || to.as_deref().is_some_and(|t| month > t) {
            continue;
        }
        let figures = months
            .entry(month.to_owned())
            .or_insert_with(|| MonthFigures {
                bulan: month.to_owned(),
                ..MonthFigures::default()
            });
        match kind {
            "kelahiran" => figures.kelahiran += counter.count,
            "kematian" => figures.kematian += counter.count,
            "pindah" => figures.pindah += counter.count,
            "datang" => figures.datang += counter.count,
            _ => {}
        }
    }
    Ok(Json(months.into_values().collect()))
}

fn month_param(field: &str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let valid = value.len() == 7
        && chrono::NaiveDate::parse_from_str(&format!("{value}-01"), "%Y-%m-%d").is_ok();
    if valid {
        Ok(Some(value.to_owned()))
    } else {
        Err(ApiError::new(ProblemCode::InvalidQuery, "bulan harus berbentuk YYYY-MM").field(field))
    }
}

/// Processing time of one level over the registered submissions of the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct LevelTimes {
    /// Submissions measured.
    pub n: usize,
    pub median_detik: Option<i64>,
    pub p90_detik: Option<i64>,
}

/// Service levels: what waits where, and how long each level takes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceAnswer {
    /// The end-to-end target, from first submission to registration.
    pub target_menit: u32,
    /// Pending per state (`diajukan`: at the kecamatan, `diverifikasi`: at Dukcapil) and
    /// kecamatan, with how many are over the target.
    pub antrean: Vec<PendingCount>,
    /// Kecamatan: submitted to verified (last round).
    pub kecamatan: LevelTimes,
    /// Dukcapil: verified to registered.
    pub dukcapil: LevelTimes,
    /// First submitted to registered.
    pub total: LevelTimes,
}

/// Query of the service levels.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ServiceParams {
    /// Registered in the last this many days (1 to 366; default 30).
    pub hari: Option<u32>,
}

/// `GET /api/v1/statistik/layanan`: queues and processing time per level (median, p90).
#[utoipa::path(get, path = "/api/v1/statistik/layanan", tag = "statistik", params(ServiceParams),
    responses((status = 200, body = ServiceAnswer), (status = 400, body = crate::problem::Problem)))]
pub async fn service_levels(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ServiceParams>,
) -> Result<Json<ServiceAnswer>, ApiError> {
    let days = params.hari.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(
            ApiError::new(ProblemCode::InvalidQuery, "hari harus 1 sampai 366").field("hari"),
        );
    }
    let home = state.home_region(&caller).await?;
    let resource = home.as_ref().map_or(Resource::Hub, Resource::Region);
    state
        .authorize(&caller, Action::ReadStatistics, resource)
        .await?;
    let now = simpul_store::now();
    let antrean = state
        .store
        .pending(now - state.limits.service_target())
        .await?;
    let samples = state
        .store
        .service_samples(now - chrono::Duration::days(i64::from(days)))
        .await?;
    let level = |durations: Vec<i64>| {
        let mut durations = durations;
        durations.sort_unstable();
        LevelTimes {
            n: durations.len(),
            median_detik: percentile(&durations, 50),
            p90_detik: percentile(&durations, 90),
        }
    };
    Ok(Json(ServiceAnswer {
        target_menit: state.limits.service_target_minutes,
        antrean,
        kecamatan: level(
            samples
                .iter()
                .map(|s| (s.verified_at - s.submitted_at).num_seconds())
                .collect(),
        ),
        dukcapil: level(
            samples
                .iter()
                .map(|s| (s.registered_at - s.verified_at).num_seconds())
                .collect(),
        ),
        total: level(
            samples
                .iter()
                .map(|s| (s.registered_at - s.submitted_at).num_seconds())
                .collect(),
        ),
    }))
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], percent: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// The region asked about (or the caller's own), once the gate allows reading statistics
/// there.
async fn region(
    state: &AppState,
    caller: &Caller,
    asked: Option<&str>,
) -> Result<KodeWilayah, ApiError> {
    let region = match asked {
        Some(code) => parse_region("wilayah", code)?,
        None => state.home_region(caller).await?.ok_or_else(|| {
            ApiError::new(ProblemCode::InvalidQuery, "wilayah wajib diisi").field("wilayah")
        })?,
    };
    state
        .authorize(caller, Action::ReadStatistics, Resource::Region(&region))
        .await?;
    Ok(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&values, 50), Some(5));
        assert_eq!(percentile(&values, 90), Some(9));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn counters_fold_into_bands_by_age_today() {
        let counters = [
            ("laki_laki|2026-01", 3),
            ("perempuan|2021-12", 2),
            ("perempuan|1940-01", 1),
            ("tidak|1990-01", 9),
        ]
        .map(|(key, count)| CounterValue {
            region: "35.77".into(),
            key: key.into(),
            count,
        });
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let figures = population_figures("35.77", &counters, today);
        assert_eq!(
            (figures.jumlah, figures.laki_laki, figures.perempuan),
            (6, 3, 3)
        );
        let bands: Vec<(&str, i64, i64)> = figures
            .kelompok_umur
            .iter()
            .map(|b| (b.kelompok.as_str(), b.laki_laki, b.perempuan))
            .collect();
        assert_eq!(bands, [("0-4", 3, 0), ("5-9", 0, 2), ("75+", 0, 1)]);
    }
}
