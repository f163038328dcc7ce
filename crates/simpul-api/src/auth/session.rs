//! `/api/v1/sesi`: operators sign in with a password, then a TOTP code (enrolled on the
//! first sign-in, with ten recovery codes shown once), and sign out.
//!
//! The password step opens a *pending* session that can do nothing but finish signing in;
//! the second factor replaces it with a new session (a new token, so a token seen before
//! the second factor is worth nothing after it). Failed attempts count on the account's
//! throttle (back-off, then a temporary lock-out) and feed the suspicious-access rules.
//! Cookies are `HttpOnly`, `SameSite=Strict`, `Secure`; changes made with a cookie carry
//! the session's CSRF token in `X-CSRF-Token`.

use std::net::{IpAddr, Ipv4Addr};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use simpul_identity::{
    LoginThrottle, PasswordHash, RecoveryCodeSet, SessionTimes, SessionToken, ThrottleDecision,
    Totp, TotpSecret,
};
use simpul_store::{AccessRecord, AccountRecord, SessionRecord};
use simpul_watch::{LoginEvent, LoginOutcome};
use utoipa::ToSchema;

use super::{CSRF_HEADER, Peer, RequestId, SESSION_COOKIE, SecretText};
use crate::extract::Json;
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// `POST /api/v1/sesi` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub nama_pengguna: String,
    #[schema(value_type = String)]
    pub kata_sandi: SecretText,
}

/// Where a sign-in stands, and the CSRF token for the session's changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionState {
    pub nama_pengguna: String,
    pub peran: String,
    pub wilayah: Option<String>,
    /// `daftar_totp` (enrol first), `totp` (enter a code) or `masuk` (signed in).
    pub tahap: &'static str,
    /// Send back as `X-CSRF-Token` with every change made with this session.
    pub csrf_token: String,
    /// Recovery codes, shown once, right after enrolment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kode_pemulihan: Option<Vec<String>>,
}

/// `POST /api/v1/sesi/totp` body: a TOTP code or a recovery code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactor {
    #[schema(value_type = Option<String>)]
    pub kode: Option<SecretText>,
    #[schema(value_type = Option<String>)]
    pub kode_pemulihan: Option<SecretText>,
}

/// TOTP enrolment: scan the QR code (or type the URI) into an authenticator app.
#[derive(Serialize, ToSchema)]
pub struct Enrolment {
    pub otpauth_uri: String,
    /// The same URI as an SVG QR code.
    pub qr_svg: String,
}

fn stage(account: &AccountRecord, done: bool) -> &'static str {
    match (done, account.totp_enrolled) {
        (true, _) => "masuk",
        (false, true) => "totp",
        (false, false) => "daftar_totp",
    }
}

/// The answer to a sign-in step: the new session's cookie and where the sign-in stands.
fn session_answer(
    state: &AppState,
    jar: CookieJar,
    account: &AccountRecord,
    token: &SessionToken,
    csrf_token: String,
    second_factor_done: bool,
    kode_pemulihan: Option<Vec<String>>,
) -> Response {
    let body = SessionState {
        nama_pengguna: account.username.clone(),
        peran: account.role.clone(),
        wilayah: account.scope.clone(),
        tahap: stage(account, second_factor_done),
        csrf_token,
        kode_pemulihan,
    };
    (jar.add(session_cookie(state, token)), axum::Json(body)).into_response()
}

fn session_cookie(state: &AppState, token: &SessionToken) -> Cookie<'static> {
    let mut cookie = Cookie::new(SESSION_COOKIE, token.to_cookie_value().to_string());
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Strict);
    cookie.set_secure(state.security.cookie_secure);
    cookie.set_path("/");
    // No Max-Age: the cookie ends with the browser, and the server ends the session at
    // its idle or absolute timeout whatever the browser keeps.
    cookie
}

/// Checks the CSRF header against the session's stored hash.
pub fn check_csrf(headers: &HeaderMap, csrf_hash: &str) -> Result<(), ApiError> {
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| SessionToken::from_cookie_value(v).ok());
    match sent {
        Some(token) if token.hash().to_hex() == csrf_hash => Ok(()),
        _ => Err(ApiError::new(
            ProblemCode::CsrfFailed,
            "kirim token CSRF sesi ini di header X-CSRF-Token",
        )),
    }
}

/// A new session row and the secrets that go to the browser (cookie token, CSRF token).
fn new_session(
    username: &str,
    second_factor_done: bool,
    now: DateTime<Utc>,
) -> (SessionRecord, SessionToken, String) {
    let mut rng = rand::rng();
    let token = SessionToken::generate(&mut rng);
    let csrf = SessionToken::generate(&mut rng);
    let record = SessionRecord {
        token_hash: token.hash().to_hex(),
        username: username.to_owned(),
        csrf_hash: csrf.hash().to_hex(),
        second_factor_done,
        created_at: now,
        last_seen_at: now,
    };
    (record, token, csrf.to_cookie_value().to_string())
}

fn throttle_of(account: &AccountRecord) -> LoginThrottle {
    serde_json::from_str(&account.throttle).unwrap_or_default()
}

fn set_throttle(account: &mut AccountRecord, throttle: &LoginThrottle) -> Result<(), ApiError> {
    account.throttle = serde_json::to_string(throttle).map_err(ApiError::internal)?;
    Ok(())
}

fn locked(decision: ThrottleDecision, now: DateTime<Utc>) -> Option<ApiError> {
    let seconds = match decision {
        ThrottleDecision::Allowed => return None,
        ThrottleDecision::RetryAfter { seconds } => seconds,
        ThrottleDecision::LockedUntil { until } => {
            u64::try_from((until - now).num_seconds()).unwrap_or(1)
        }
    };
    Some(
        ApiError::new(
            ProblemCode::AccountLocked,
            "terlalu banyak percobaan gagal; coba lagi nanti",
        )
        .retry_after(seconds),
    )
}

impl AppState {
    /// Writes a sign-in attempt to the access log and runs the login rules over it.
    async fn log_sign_in(
        &self,
        username: Option<&str>,
        submitted: &str,
        peer: Peer,
        request_id: &str,
        outcome: LoginOutcome,
    ) -> Result<(), ApiError> {
        let at = simpul_store::now();
        let network = peer.0.map(|ip| simpul_watch::Network::of(ip).to_string());
        let record = AccessRecord {
            at,
            actor_kind: "akun".into(),
            // A name that matches no account is not logged: it is often a password typed
            // into the wrong field.
            actor: username.unwrap_or("-").to_owned(),
            role: "-".into(),
            action: "sign_in".into(),
            purpose: None,
            residents: Vec::new(),
            fields: Vec::new(),
            outcome: if outcome == LoginOutcome::Success {
                "allowed"
            } else {
                "denied"
            }
            .into(),
            reason: (outcome != LoginOutcome::Success).then(|| outcome.code().to_owned()),
            network,
            request_id: request_id.to_owned(),
        };
        self.access_log.append(vec![record]).await?;
        let alerts = self.gate.observe_login(&LoginEvent {
            at,
            account: submitted.to_owned(),
            network: peer.0.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            outcome,
        });
        self.raise(alerts).await
    }

    /// Counts a failed step on the account and answers why.
    async fn fail_sign_in(
        &self,
        mut account: AccountRecord,
        peer: Peer,
        request_id: &str,
        outcome: LoginOutcome,
        error: ApiError,
    ) -> ApiError {
        let now = simpul_store::now();
        let mut throttle = throttle_of(&account);
        let decision = throttle.record_failure(&self.security.throttle, now);
        if let Err(e) = set_throttle(&mut account, &throttle) {
            return e;
        }
        if let Err(e) = self.store.save_account(&account).await {
            return e.into();
        }
        let username = account.username.clone();
        if let Err(e) = self
            .log_sign_in(Some(&username), &username, peer, request_id, outcome)
            .await
        {
            return e;
        }
        locked(decision, now).unwrap_or(error)
    }

    /// The pending or full session behind the cookie, with its (enabled) account; an
    /// expired one is deleted. Both sign-in steps and every signed-in request start here.
    pub(crate) async fn current_session(
        &self,
        jar: &CookieJar,
    ) -> Result<(SessionRecord, AccountRecord), ApiError> {
        let expired = || ApiError::new(ProblemCode::SessionExpired, "silakan masuk kembali");
        let cookie = jar
            .get(SESSION_COOKIE)
            .ok_or_else(|| ApiError::new(ProblemCode::Unauthenticated, "masuk terlebih dahulu"))?;
        let token = SessionToken::from_cookie_value(cookie.value()).map_err(|_| expired())?;
        let session = self
            .store
            .session(&token.hash().to_hex())
            .await?
            .ok_or_else(expired)?;
        let times = SessionTimes {
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
        };
        if times.check(&self.security.sessions, Utc::now()).is_err() {
            self.store.delete_session(&session.token_hash).await?;
            return Err(expired());
        }
        let account = self
            .store
            .account(&session.username)
            .await?
            .filter(|a| !a.disabled)
            .ok_or_else(expired)?;
        Ok((session, account))
    }
}

/// `POST /api/v1/sesi`: the password step.
#[utoipa::path(post, path = "/api/v1/sesi", tag = "sesi", request_body = SignIn,
    responses((status = 200, body = SessionState), (status = 401, body = crate::problem::Problem), (status = 429, body = crate::problem::Problem)))]
pub async fn sign_in(
    State(state): State<AppState>,
    peer: Peer,
    RequestId(request_id): RequestId,
    jar: CookieJar,
    Json(form): Json<SignIn>,
) -> Result<Response, ApiError> {
    let now = simpul_store::now();
    let wrong = || {
        ApiError::new(
            ProblemCode::InvalidCredentials,
            "nama pengguna atau kata sandi salah",
        )
    };
    let account = state
        .store
        .account(&form.nama_pengguna)
        .await?
        .filter(|a| !a.disabled);
    let Some(account) = account else {
        let hasher = state.security.hasher.clone();
        let password = form.kata_sandi.to_zeroizing();
        // Spend the time a real verification takes, so timing does not tell which user
        // names exist.
        let _ = tokio::task::spawn_blocking(move || hasher.verify_dummy(&password)).await;
        state
            .log_sign_in(
                None,
                &form.nama_pengguna,
                peer,
                &request_id,
                LoginOutcome::UnknownAccount,
            )
            .await?;
        return Err(wrong());
    };
    if let Some(refusal) = locked(
        throttle_of(&account).check(&state.security.throttle, now),
        now,
    ) {
        state
            .log_sign_in(
                Some(&account.username),
                &account.username,
                peer,
                &request_id,
                LoginOutcome::Locked,
            )
            .await?;
        return Err(refusal);
    }
    let stored = PasswordHash::parse(&account.password_hash).map_err(ApiError::internal)?;
    let hasher = state.security.hasher.clone();
    let password = form.kata_sandi.to_zeroizing();
    let matches = tokio::task::spawn_blocking(move || hasher.verify(&password, &stored))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    if !matches {
        return Err(state
            .fail_sign_in(
                account,
                peer,
                &request_id,
                LoginOutcome::BadPassword,
                wrong(),
            )
            .await);
    }
    // The password step alone does not reset the throttle: the second factor is still due.
    let (record, token, csrf) = new_session(&account.username, false, now);
    state.store.create_session(&record).await?;
    if let Some(old) = jar.get(SESSION_COOKIE)
        && let Ok(old) = SessionToken::from_cookie_value(old.value())
    {
        state.store.delete_session(&old.hash().to_hex()).await?;
    }
    Ok(session_answer(
        &state, jar, &account, &token, csrf, false, None,
    ))
}

/// `POST /api/v1/sesi/totp/daftar`: starts TOTP enrolment (pending session, not enrolled).
#[utoipa::path(post, path = "/api/v1/sesi/totp/daftar", tag = "sesi",
    responses((status = 200, body = Enrolment), (status = 401, body = crate::problem::Problem)))]
pub async fn enrol(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<axum::Json<Enrolment>, ApiError> {
    let (session, mut account) = state.current_session(&jar).await?;
    check_csrf(&headers, &session.csrf_hash)?;
    if account.totp_enrolled {
        return Err(ApiError::new(
            ProblemCode::AlreadyExists,
            "TOTP sudah terdaftar untuk akun ini",
        ));
    }
    let secret = TotpSecret::generate(&mut rand::rng());
    let totp = Totp::new(&secret, &account.username).map_err(ApiError::internal)?;
    account.totp_secret = Some(secret.to_base32());
    state.store.save_account(&account).await?;
    Ok(axum::Json(Enrolment {
        otpauth_uri: totp
            .enrolment_uri()
            .map_err(ApiError::internal)?
            .to_string(),
        qr_svg: totp
            .enrolment_qr_svg()
            .map_err(ApiError::internal)?
            .to_string(),
    }))
}

/// `POST /api/v1/sesi/totp`: the second factor; completes enrolment on first use.
#[utoipa::path(post, path = "/api/v1/sesi/totp", tag = "sesi", request_body = SecondFactor,
    responses((status = 200, body = SessionState), (status = 401, body = crate::problem::Problem), (status = 429, body = crate::problem::Problem)))]
pub async fn second_factor(
    State(state): State<AppState>,
    peer: Peer,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    jar: CookieJar,
    Json(form): Json<SecondFactor>,
) -> Result<Response, ApiError> {
    let (session, mut account) = state.current_session(&jar).await?;
    check_csrf(&headers, &session.csrf_hash)?;
    let now = simpul_store::now();
    if let Some(refusal) = locked(
        throttle_of(&account).check(&state.security.throttle, now),
        now,
    ) {
        return Err(refusal);
    }
    let wrong = || ApiError::new(ProblemCode::InvalidSecondFactor, "kode verifikasi salah");
    let secret = account
        .totp_secret
        .as_deref()
        .and_then(|s| TotpSecret::from_base32(s).ok())
        .ok_or_else(|| {
            ApiError::new(
                ProblemCode::SecondFactorRequired,
                "mulai pendaftaran TOTP di /api/v1/sesi/totp/daftar",
            )
        })?;
    let mut recovery_shown = None;
    let accepted = match (&form.kode, &form.kode_pemulihan) {
        (Some(code), None) => {
            let totp = Totp::new(&secret, &account.username).map_err(ApiError::internal)?;
            let last = account.totp_last_step.and_then(|s| u64::try_from(s).ok());
            match totp.verify(code, now, last) {
                Ok(step) => {
                    account.totp_last_step = i64::try_from(step).ok();
                    true
                }
                Err(_) => false,
            }
        }
        (None, Some(code)) if account.totp_enrolled => {
            let mut set: RecoveryCodeSet = account
                .recovery_codes
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .ok_or_else(wrong)?;
            match set.consume(code, now) {
                Ok(_) => {
                    account.recovery_codes =
                        Some(serde_json::to_string(&set).map_err(ApiError::internal)?);
                    true
                }
                Err(_) => false,
            }
        }
        _ => {
            return Err(ApiError::new(
                ProblemCode::InvalidBody,
                "kirim tepat satu: kode atau kode_pemulihan",
            ));
        }
    };
    if !accepted {
        return Err(state
            .fail_sign_in(
                account,
                peer,
                &request_id,
                LoginOutcome::BadSecondFactor,
                wrong(),
            )
            .await);
    }
    if !account.totp_enrolled {
        account.totp_enrolled = true;
        let (set, codes) = RecoveryCodeSet::generate(&mut rand::rng());
        account.recovery_codes = Some(serde_json::to_string(&set).map_err(ApiError::internal)?);
        recovery_shown = Some(codes.iter().map(|c| c.as_str().to_owned()).collect());
    }
    let mut throttle = throttle_of(&account);
    throttle.record_success();
    set_throttle(&mut account, &throttle)?;
    // Saved with its version: of two requests racing with one code, one loses here.
    state.store.save_account(&account).await?;
    state.store.delete_session(&session.token_hash).await?;
    let (record, token, csrf) = new_session(&account.username, true, now);
    state.store.create_session(&record).await?;
    state
        .log_sign_in(
            Some(&account.username),
            &account.username,
            peer,
            &request_id,
            LoginOutcome::Success,
        )
        .await?;
    Ok(session_answer(
        &state,
        jar,
        &account,
        &token,
        csrf,
        true,
        recovery_shown,
    ))
}

/// `DELETE /api/v1/sesi`: signs out (ends the session on the server, clears the cookie).
#[utoipa::path(delete, path = "/api/v1/sesi", tag = "sesi", responses((status = 204)))]
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    if let Ok((session, _)) = state.current_session(&jar).await {
        check_csrf(&headers, &session.csrf_hash)?;
        state.store.delete_session(&session.token_hash).await?;
    }
    let mut gone = Cookie::from(SESSION_COOKIE);
    gone.set_path("/");
    Ok((jar.remove(gone), axum::http::StatusCode::NO_CONTENT).into_response())
}
