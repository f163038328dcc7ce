//! Creating accounts, machine clients and agency agreements: the one implementation behind the admin API and
//! `simpul admin`, so both check the same rules.

use simpul_domain::access::{Action, ActorId, AgencyId, Role, RoleKind};
use simpul_identity::{ClientId, ClientSecret, PasswordHasher, Scope, check_password};
use simpul_store::{AccountRecord, AgreementRecord, ClientRecord, Store, StoreError};
use zeroize::Zeroizing;

use crate::problem::{ApiError, ProblemCode};

/// A new operator account, as an administrator describes it.
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope: Option<String>,
    pub password: Zeroizing<String>,
}

/// A new machine client.
pub struct NewClient {
    pub client_id: String,
    pub name: String,
    pub agency: String,
    pub scopes: String,
    pub rate_limit_per_minute: Option<u32>,
}

fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(ProblemCode::InvalidBody, detail).field(field)
}

fn conflict(error: StoreError, what: &str) -> ApiError {
    match error {
        StoreError::Conflict => {
            ApiError::new(ProblemCode::AlreadyExists, format!("{what} sudah ada"))
        }
        other => other.into(),
    }
}

/// Checks and stores a new account. TOTP is enrolled at its first sign-in.
pub async fn create_account(
    store: &dyn Store,
    hasher: &PasswordHasher,
    new: NewAccount,
) -> Result<AccountRecord, ApiError> {
    ActorId::parse(&new.username).map_err(|e| invalid("nama_pengguna", e.to_string()))?;
    let kind = RoleKind::from_code(&new.role).ok_or_else(|| {
        invalid(
            "peran",
            "peran: operator, supervisor, registrar, agency_analyst, auditor, administrator",
        )
    })?;
    Role::from_parts(kind, new.scope.as_deref()).map_err(|e| invalid("wilayah", e.to_string()))?;
    check_password(&new.password, &new.username).map_err(|violation| {
        ApiError::new(ProblemCode::PasswordRejected, violation.to_string())
            .field("kata_sandi")
            .reason(match violation {
                simpul_identity::PolicyViolation::TooShort { .. } => "too_short",
                simpul_identity::PolicyViolation::TooLong { .. } => "too_long",
                simpul_identity::PolicyViolation::SameAsUsername => "same_as_username",
                simpul_identity::PolicyViolation::Common => "too_common",
            })
    })?;
    let hasher = hasher.clone();
    let password = new.password.clone();
    let hash = tokio::task::spawn_blocking(move || hasher.hash(&password, &mut rand::rng()))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let account = AccountRecord {
        username: new.username,
        display_name: new.display_name,
        role: kind.code().to_owned(),
        scope: new.scope,
        password_hash: hash.as_str().to_owned(),
        totp_secret: None,
        totp_enrolled: false,
        totp_last_step: None,
        recovery_codes: None,
        throttle: "{}".to_owned(),
        disabled: false,
        created_at: simpul_store::now(),
        version: 0,
    };
    store
        .create_account(&account)
        .await
        .map_err(|e| conflict(e, "akun"))?;
    Ok(account)
}

/// Checks and stores a new client; returns it with its secret, shown this once.
pub async fn create_client(
    store: &dyn Store,
    new: NewClient,
) -> Result<(ClientRecord, Zeroizing<String>), ApiError> {
    let id = ClientId::parse(&new.client_id).map_err(|e| invalid("client_id", e.to_string()))?;
    AgencyId::parse(&new.agency).map_err(|e| invalid("instansi", e.to_string()))?;
    let scope = Scope::parse(&new.scopes).map_err(|e| invalid("cakupan", e.to_string()))?;
    if let Some(unknown) = scope.iter().find(|s| Action::from_code(s).is_none()) {
        return Err(invalid(
            "cakupan",
            format!("cakupan tidak dikenal: {unknown}"),
        ));
    }
    let secret = ClientSecret::generate(&mut rand::rng());
    let client = ClientRecord {
        client_id: id.as_str().to_owned(),
        name: new.name,
        agency: new.agency,
        secret_hash: secret.hash().to_hex(),
        scopes: scope.to_string(),
        rate_limit_per_minute: new.rate_limit_per_minute,
        created_at: simpul_store::now(),
        revoked_at: None,
    };
    store
        .create_client(&client)
        .await
        .map_err(|e| conflict(e, "klien"))?;
    Ok((client, secret.to_text()))
}

/// An agreement names a real agency id, known actions and a region code.
fn check_agreement(agreement: &AgreementRecord) -> Result<(), ApiError> {
    let invalid = |field: &str, detail: String| {
        ApiError::new(ProblemCode::InvalidBody, detail).field(field.to_owned())
    };
    AgencyId::parse(&agreement.agency).map_err(|e| invalid("agency", e.to_string()))?;
    simpul_domain::KodeWilayah::parse(&agreement.region)
        .map_err(|e| invalid("region", e.to_string()))?;
    if agreement.actions.is_empty() {
        return Err(invalid("actions", "sebutkan minimal satu tindakan".into()));
    }
    if let Some(unknown) = agreement
        .actions
        .iter()
        .find(|a| Action::from_code(a).is_none())
    {
        return Err(invalid(
            "actions",
            format!("tindakan tidak dikenal: {unknown}"),
        ));
    }
    Ok(())
}

/// Checks and stores (adds or replaces) an agency agreement.
pub async fn put_agreement(store: &dyn Store, agreement: &AgreementRecord) -> Result<(), ApiError> {
    check_agreement(agreement)?;
    store.put_agreement(agreement).await?;
    Ok(())
}
