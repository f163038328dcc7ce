//! `/api/v1/lampid`: e-LAMPID submissions (kelahiran, kematian, pindah, datang) moving from
//! the kelurahan through the kecamatan to Dukcapil; `/api/v1/lacak/{kode}`: a citizen's
//! view of where a submission stands.
//!
//! Every step asks the gate first (role and jurisdiction, on the submission's kelurahan),
//! then the store, which checks the workflow and the registry in one transaction.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use simpul_domain::access::{Action, Resource};
use simpul_domain::lampid::{LampidPayload, TrackingCode, Transition};
use simpul_domain::{KodeWilayah, Nik};
use simpul_store::{LampidCommand, QueueItem, QueueQuery, SubmissionRecord};
use utoipa::{IntoParams, ToSchema};

use super::parse_region;
use crate::auth::Caller;
use crate::auth::gate::Outcome;
use crate::extract::{Json, Path, Query};
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// The personal fields a submission discloses, as the access log names them.
const REPORT_FIELDS: &[&str] = &["laporan"];

/// Longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 100;

/// Body of `POST /api/v1/lampid`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// The submitting kelurahan; an operator's own kelurahan when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "35.77.01.1001")]
    pub kelurahan: Option<KodeWilayah>,
    pub laporan: LampidPayload,
    /// Submit at once (`true`, the default) or keep as a draft.
    #[serde(default = "yes")]
    pub ajukan: bool,
}

fn yes() -> bool {
    true
}

/// Body of `PUT /api/v1/lampid/{kode}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendRequest {
    pub laporan: LampidPayload,
    /// The version the operator read.
    pub versi: u64,
}

/// Body of `POST /api/v1/lampid/{kode}/langkah`: `{"aksi": "verifikasi", "versi": 2}`, or
/// `{"aksi": "tolak", "alasan": "...", "versi": 2}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StepRequest {
    #[serde(flatten)]
    pub langkah: Transition,
    /// The version the caller read.
    pub versi: u64,
}

/// `POST /api/v1/lampid`: a kelurahan operator enters a report (and submits it). A retry
/// with the same `Idempotency-Key` returns the first submission (200) instead of a second.
#[utoipa::path(post, path = "/api/v1/lampid", tag = "lampid", request_body = CreateRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Kunci unik per permintaan, maks. 100 karakter")),
    responses((status = 201, body = SubmissionRecord), (status = 200, body = SubmissionRecord, description = "Ulangan dengan kunci yang sama"),
        (status = 422, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(request): Json<CreateRequest>,
) -> Result<Response, ApiError> {
    let idempotency_key = idempotency_key(&headers)?;
    let kelurahan = match request.kelurahan {
        Some(kelurahan) => kelurahan,
        None => state.home_region(&caller).await?.ok_or_else(|| {
            ApiError::new(ProblemCode::InvalidBody, "kelurahan pengaju wajib diisi")
                .field("kelurahan")
        })?,
    };
    if kelurahan.level() != simpul_domain::RegionLevel::KelurahanDesa {
        return Err(ApiError::new(
            ProblemCode::InvalidBody,
            "laporan diajukan oleh kelurahan/desa",
        )
        .field("kelurahan"));
    }
    state
        .authorize(&caller, Action::SubmitLampid, Resource::Region(&kelurahan))
        .await?;
    let people = named(&request.laporan);
    let outcome = state
        .store
        .lampid(LampidCommand::Create {
            kelurahan,
            payload: request.laporan,
            actor: caller.actor.id.as_str().to_owned(),
            idempotency_key,
            submit: request.ajukan,
        })
        .await?;
    log_read(&state, &caller, Action::SubmitLampid, &people).await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_location(status, outcome.submission))
}

/// `GET /api/v1/lampid/{kode}`: the whole submission, for staff of its region.
#[utoipa::path(get, path = "/api/v1/lampid/{kode}", tag = "lampid",
    params(("kode" = String, Path, description = "Kode lacak")),
    responses((status = 200, body = SubmissionRecord), (status = 404, body = crate::problem::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<SubmissionRecord>, ApiError> {
    let record = load_authorized(&state, &caller, &code, Action::ReadLampid).await?;
    let people = named(record.submission.payload());
    log_read(&state, &caller, Action::ReadLampid, &people).await?;
    Ok(Json(record))
}

/// `PUT /api/v1/lampid/{kode}`: the operator corrects a draft or a rejected report.
#[utoipa::path(put, path = "/api/v1/lampid/{kode}", tag = "lampid", request_body = AmendRequest,
    params(("kode" = String, Path, description = "Kode lacak")),
    responses((status = 200, body = SubmissionRecord), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn amend(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(request): Json<AmendRequest>,
) -> Result<Json<SubmissionRecord>, ApiError> {
    let current = load_authorized(&state, &caller, &code, Action::SubmitLampid).await?;
    let people = named(&request.laporan);
    let outcome = state
        .store
        .lampid(LampidCommand::Amend {
            tracking_code: current.submission.tracking_code().clone(),
            payload: request.laporan,
            version: request.versi,
            actor: caller.actor.id.as_str().to_owned(),
            role: caller.actor.role.kind(),
        })
        .await?;
    log_read(&state, &caller, Action::SubmitLampid, &people).await?;
    Ok(Json(outcome.submission))
}

/// `POST /api/v1/lampid/{kode}/langkah`: submit, verify, register, reject or resubmit.
#[utoipa::path(post, path = "/api/v1/lampid/{kode}/langkah", tag = "lampid", request_body = StepRequest,
    params(("kode" = String, Path, description = "Kode lacak")),
    responses((status = 200, body = SubmissionRecord), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn step(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(request): Json<StepRequest>,
) -> Result<Json<SubmissionRecord>, ApiError> {
    let action = request.langkah.action();
    let current = load_authorized(&state, &caller, &code, action).await?;
    let outcome = state
        .store
        .lampid(LampidCommand::Step {
            tracking_code: current.submission.tracking_code().clone(),
            transition: request.langkah,
            version: request.versi,
            actor: caller.actor.id.as_str().to_owned(),
            role: caller.actor.role.kind(),
        })
        .await?;
    let people = named(outcome.submission.submission.payload());
    log_read(&state, &caller, action, &people).await?;
    Ok(Json(outcome.submission))
}

/// Query of `GET /api/v1/lampid`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    /// `diajukan` (the kecamatan's queue, the default), `diverifikasi` (Dukcapil's),
    /// `ditolak` or `draf` (the kelurahan's).
    pub status: Option<String>,
    /// Region to list (any level); the caller's own region when absent.
    pub wilayah: Option<String>,
    /// Most items (1 to the page limit; default 50).
    pub batas: Option<u32>,
}

/// One queue line with its age.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueLine {
    #[serde(flatten)]
    pub item: QueueItem,
    /// Seconds in the current state.
    pub umur_detik: i64,
    /// First submitted longer ago than the end-to-end service-level target.
    pub terlambat: bool,
}

/// The queue answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueAnswer {
    pub status: String,
    pub wilayah: Option<String>,
    pub target_menit: u32,
    pub item: Vec<QueueLine>,
}

/// `GET /api/v1/lampid`: the pending items of one level, oldest first, with their age.
#[utoipa::path(get, path = "/api/v1/lampid", tag = "lampid", params(QueueParams),
    responses((status = 200, body = QueueAnswer), (status = 400, body = crate::problem::Problem)))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<QueueParams>,
) -> Result<Json<QueueAnswer>, ApiError> {
    let status = params.status.unwrap_or_else(|| "diajukan".to_owned());
    if !["draf", "diajukan", "diverifikasi", "ditolak", "tercatat"].contains(&status.as_str()) {
        return Err(
            ApiError::new(ProblemCode::InvalidQuery, "status antrean tidak dikenal")
                .field("status"),
        );
    }
    let region = match &params.wilayah {
        Some(code) => Some(parse_region("wilayah", code)?),
        None => state.home_region(&caller).await?,
    };
    let limit = params.batas.unwrap_or(50);
    if limit == 0 || limit > state.limits.max_page_size {
        return Err(ApiError::new(
            ProblemCode::InvalidQuery,
            format!("batas harus 1 sampai {}", state.limits.max_page_size),
        )
        .field("batas"));
    }
    let resource = match &region {
        Some(region) => Resource::Region(region),
        None => Resource::Hub,
    };
    state
        .authorize(&caller, Action::ReadLampid, resource)
        .await?;
    let items = state
        .store
        .queue(&QueueQuery {
            state: status.clone(),
            region: region.clone(),
            limit,
        })
        .await?;
    let now = simpul_store::now();
    let target = state.limits.service_target();
    Ok(Json(QueueAnswer {
        status,
        wilayah: region.map(String::from),
        target_menit: state.limits.service_target_minutes,
        item: items
            .into_iter()
            .map(|item| QueueLine {
                umur_detik: (now - item.status_sejak).num_seconds(),
                terlambat: item
                    .diajukan
                    .is_some_and(|at| now - at > target && item.status != "tercatat"),
                item,
            })
            .collect(),
    }))
}

/// What anyone with the tracking code may see: the kind and where it stands, nothing about
/// the person (a rejection's reason stays with staff).
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicStatus {
    pub kode_lacak: String,
    pub jenis: String,
    pub status: String,
    pub status_sejak: DateTime<Utc>,
    pub tercatat: bool,
}

/// `GET /api/v1/lacak/{kode}`: a citizen follows a submission by its tracking code.
#[utoipa::path(get, path = "/api/v1/lacak/{kode}", tag = "lampid",
    params(("kode" = String, Path, description = "Kode lacak, mis. 7K3M-Q9XZ-4B2T")),
    responses((status = 200, body = PublicStatus), (status = 400, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn track(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<PublicStatus>, ApiError> {
    let record = load(&state, &code).await?;
    let submission = &record.submission;
    Ok(Json(PublicStatus {
        kode_lacak: submission.tracking_code().to_string(),
        jenis: submission.payload().kind().to_owned(),
        status: submission.state().code().to_owned(),
        status_sejak: record.times.state_since,
        tercatat: record.times.registered.is_some(),
    }))
}

fn parse_code(input: &str) -> Result<TrackingCode, ApiError> {
    TrackingCode::parse(input).map_err(|e| {
        ApiError::new(ProblemCode::InvalidTrackingCode, e.to_string())
            .field("kode")
            .reason(e.code())
    })
}

async fn load(state: &AppState, code: &str) -> Result<SubmissionRecord, ApiError> {
    let code = parse_code(code)?;
    state.store.submission(&code).await?.ok_or_else(|| {
        ApiError::new(
            ProblemCode::SubmissionNotFound,
            "tidak ada laporan dengan kode lacak ini",
        )
        .field("kode")
    })
}

/// The submission, once the gate lets `caller` take `action` in its kelurahan.
async fn load_authorized(
    state: &AppState,
    caller: &Caller,
    code: &str,
    action: Action,
) -> Result<SubmissionRecord, ApiError> {
    let record = load(state, code).await?;
    state
        .authorize(
            caller,
            action,
            Resource::Region(record.submission.kelurahan()),
        )
        .await?;
    Ok(record)
}

/// The people a report names, as the access log records them.
fn named(payload: &LampidPayload) -> Vec<Nik> {
    payload.referenced_niks().into_iter().cloned().collect()
}

async fn log_read(
    state: &AppState,
    caller: &Caller,
    action: Action,
    named: &[Nik],
) -> Result<(), ApiError> {
    let named: Vec<&Nik> = named.iter().collect();
    state
        .record_read(caller, action, &named, REPORT_FIELDS, Outcome::Allowed)
        .await
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bad = || {
        ApiError::new(
            ProblemCode::InvalidBody,
            format!(
                "Idempotency-Key harus 1 sampai {MAX_IDEMPOTENCY_KEY} karakter huruf, angka, - atau _"
            ),
        )
        .field("Idempotency-Key")
    };
    let key = value.to_str().map_err(|_| bad())?;
    let valid = !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(Some(key.to_owned()))
    } else {
        Err(bad())
    }
}

fn with_location(status: StatusCode, record: SubmissionRecord) -> Response {
    let location = format!(
        "/api/v1/lampid/{}",
        record.submission.tracking_code().as_str()
    );
    let mut response = (status, Json(record)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}
