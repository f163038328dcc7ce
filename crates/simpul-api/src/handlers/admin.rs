//! `/api/v1/admin/…` and `/api/v1/audit/…`: accounts, machine clients, agreements and
//! alerts for administrators; the access log for auditors. Every route asks the gate.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use simpul_domain::access::{Action, Resource};
use simpul_store::{AccessEntry, AccountSummary, AgreementRecord, AlertRecord};
use utoipa::{IntoParams, ToSchema};

use crate::auth::provision::{self, NewAccount, NewClient};
use crate::auth::{Caller, SecretText};
use crate::extract::{Json, Path, Query};
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// `POST /api/v1/admin/akun` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountForm {
    pub nama_pengguna: String,
    pub nama_tampilan: String,
    /// `operator`, `supervisor`, `registrar`, `agency_analyst`, `auditor`, `administrator`.
    pub peran: String,
    /// The role's kelurahan, kecamatan or city code, or agency id.
    pub wilayah: Option<String>,
    /// The initial password; the operator enrols TOTP at the first sign-in.
    #[schema(value_type = String)]
    pub kata_sandi: SecretText,
}

/// `GET /api/v1/admin/akun`
#[utoipa::path(get, path = "/api/v1/admin/akun", tag = "admin",
    responses((status = 200, body = Vec<AccountSummary>), (status = 403, body = crate::problem::Problem)))]
pub async fn accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AccountSummary>>, ApiError> {
    state
        .authorize(&caller, Action::ManageUsers, Resource::Hub)
        .await?;
    Ok(Json(state.store.accounts().await?))
}

/// `POST /api/v1/admin/akun`
#[utoipa::path(post, path = "/api/v1/admin/akun", tag = "admin", request_body = AccountForm,
    responses((status = 201, body = AccountSummary), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<AccountForm>,
) -> Result<(StatusCode, Json<AccountSummary>), ApiError> {
    state
        .authorize(&caller, Action::ManageUsers, Resource::Hub)
        .await?;
    let account = provision::create_account(
        state.store.as_ref(),
        &state.security.hasher,
        NewAccount {
            username: form.nama_pengguna,
            display_name: form.nama_tampilan,
            role: form.peran,
            scope: form.wilayah,
            password: form.kata_sandi.to_zeroizing(),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(AccountSummary::from(&account))))
}

/// A machine client as listed: never its secret.
#[derive(Serialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub nama: String,
    pub instansi: String,
    pub cakupan: String,
    pub batas_per_menit: Option<u32>,
    pub dibuat: DateTime<Utc>,
    pub dicabut: Option<DateTime<Utc>>,
}

impl From<&simpul_store::ClientRecord> for ClientView {
    fn from(c: &simpul_store::ClientRecord) -> Self {
        Self {
            client_id: c.client_id.clone(),
            nama: c.name.clone(),
            instansi: c.agency.clone(),
            cakupan: c.scopes.clone(),
            batas_per_menit: c.rate_limit_per_minute,
            dibuat: c.created_at,
            dicabut: c.revoked_at,
        }
    }
}

/// `POST /api/v1/admin/klien` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientForm {
    pub client_id: String,
    pub nama: String,
    pub instansi: String,
    /// Space-separated action codes, e.g. `verify_nik verify_nik_batch`.
    pub cakupan: String,
    pub batas_per_menit: Option<u32>,
}

/// A new client with its secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewClientView {
    #[serde(flatten)]
    pub client: ClientView,
    pub client_secret: String,
}

/// `GET /api/v1/admin/klien`
#[utoipa::path(get, path = "/api/v1/admin/klien", tag = "admin",
    responses((status = 200, body = Vec<ClientView>), (status = 403, body = crate::problem::Problem)))]
pub async fn clients(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ClientView>>, ApiError> {
    state
        .authorize(&caller, Action::ManageClients, Resource::Hub)
        .await?;
    let clients = state.store.clients().await?;
    Ok(Json(clients.iter().map(ClientView::from).collect()))
}

/// `POST /api/v1/admin/klien`
#[utoipa::path(post, path = "/api/v1/admin/klien", tag = "admin", request_body = ClientForm,
    responses((status = 201, body = NewClientView), (status = 409, body = crate::problem::Problem)))]
pub async fn create_client(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<ClientForm>,
) -> Result<(StatusCode, Json<NewClientView>), ApiError> {
    state
        .authorize(&caller, Action::ManageClients, Resource::Hub)
        .await?;
    let (client, secret) = provision::create_client(
        state.store.as_ref(),
        NewClient {
            client_id: form.client_id,
            name: form.nama,
            agency: form.instansi,
            scopes: form.cakupan,
            rate_limit_per_minute: form.batas_per_menit,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewClientView {
            client: ClientView::from(&client),
            client_secret: secret.to_string(),
        }),
    ))
}

/// `POST /api/v1/admin/klien/{client_id}/cabut`: revokes a client; its tokens stop working.
#[utoipa::path(post, path = "/api/v1/admin/klien/{client_id}/cabut", tag = "admin",
    params(("client_id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::problem::Problem)))]
pub async fn revoke_client(
    State(state): State<AppState>,
    caller: Caller,
    Path(client_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .authorize(&caller, Action::ManageClients, Resource::Hub)
        .await?;
    if state
        .store
        .revoke_client(&client_id, simpul_store::now())
        .await?
    {
        state.tokens.clear();
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(ProblemCode::NotFound, "klien tidak ada").field("client_id"))
    }
}

/// `GET /api/v1/admin/perjanjian`
#[utoipa::path(get, path = "/api/v1/admin/perjanjian", tag = "admin",
    responses((status = 200, body = Vec<AgreementRecord>)))]
pub async fn agreements(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AgreementRecord>>, ApiError> {
    state
        .authorize(&caller, Action::ManageClients, Resource::Hub)
        .await?;
    Ok(Json(state.store.agreements().await?))
}

/// `PUT /api/v1/admin/perjanjian`: adds or replaces an agreement (by agency and reference).
#[utoipa::path(put, path = "/api/v1/admin/perjanjian", tag = "admin", request_body = AgreementRecord,
    responses((status = 204), (status = 422, body = crate::problem::Problem)))]
pub async fn put_agreement(
    State(state): State<AppState>,
    caller: Caller,
    Json(agreement): Json<AgreementRecord>,
) -> Result<StatusCode, ApiError> {
    state
        .authorize(&caller, Action::ManageClients, Resource::Hub)
        .await?;
    provision::put_agreement(state.store.as_ref(), &agreement).await?;
    state.gate.agreements_changed();
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/peringatan` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    /// Only alerts not yet acknowledged (default true).
    pub terbuka: Option<bool>,
}

/// `GET /api/v1/admin/peringatan`: suspicious-access alerts, newest first.
#[utoipa::path(get, path = "/api/v1/admin/peringatan", tag = "admin", params(AlertParams),
    responses((status = 200, body = Vec<AlertRecord>)))]
pub async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AlertParams>,
) -> Result<Json<Vec<AlertRecord>>, ApiError> {
    state
        .authorize(&caller, Action::ReadAlerts, Resource::Hub)
        .await?;
    Ok(Json(
        state
            .store
            .alerts(params.terbuka.unwrap_or(true), 500)
            .await?,
    ))
}

/// `POST /api/v1/admin/peringatan/{id}/akui`: acknowledges an alert.
#[utoipa::path(post, path = "/api/v1/admin/peringatan/{id}/akui", tag = "admin",
    params(("id" = u64, Path)),
    responses((status = 204), (status = 404, body = crate::problem::Problem)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<StatusCode, ApiError> {
    state
        .authorize(&caller, Action::AcknowledgeAlerts, Resource::Hub)
        .await?;
    if state
        .store
        .acknowledge_alert(id, caller.actor.id.as_str(), simpul_store::now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            ProblemCode::NotFound,
            "peringatan tidak ada atau sudah diakui",
        ))
    }
}

/// `GET /api/v1/audit/akses` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccessParams {
    /// Entries after this sequence number (default 0).
    pub setelah: Option<u64>,
    /// At most this many (default 100, at most 1,000).
    pub batas: Option<u32>,
}

/// `GET /api/v1/audit/akses`: the access log, oldest first, in pages.
#[utoipa::path(get, path = "/api/v1/audit/akses", tag = "audit", params(AccessParams),
    responses((status = 200, body = Vec<AccessEntry>)))]
pub async fn access_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AccessParams>,
) -> Result<Json<Vec<AccessEntry>>, ApiError> {
    state
        .authorize(&caller, Action::ReadAccessLog, Resource::Hub)
        .await?;
    let limit = params.batas.unwrap_or(100).clamp(1, 1_000);
    Ok(Json(
        state
            .store
            .access_after(params.setelah.unwrap_or(0), limit)
            .await?,
    ))
}
