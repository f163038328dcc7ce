//! Who is calling, and whether they may: the one path every request to personal data or
//! to the hub's administration passes.
//!
//! - [`Caller`] is the extractor that authenticates: a bearer JWT (agency machine clients)
//!   or a session cookie (operators, after both factors), with CSRF checked on
//!   cookie-authenticated changes and the caller's request quota on every request.
//! - [`gate`]: asks the domain's authorization gate (`simpul_domain::access::authorize`)
//!   with the agreements in force, records refusals and personal-data reads in the access
//!   log before the response leaves, and feeds the suspicious-access rules.
//! - [`session`]: sign-in with password and TOTP (enrolment, recovery codes), sign-out.
//! - [`oauth`]: the client-credentials token endpoint, revocation, and the JWKS.
//! - [`provision`]: creating accounts and clients (admin API and CLI alike).
//! - [`security`]: the keys, policies and limits above, built once at start-up.
//! - [`quota`]: per-caller request quotas.
//! - [`log_writer`]: group commit of access-log entries.

pub mod gate;
pub mod log_writer;
pub mod oauth;
pub mod provision;
pub mod quota;
pub mod security;
pub mod session;

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use simpul_domain::access::{Actor, ActorId, AgencyId, Role, RoleKind};
use simpul_identity::{ClientId, Scope};

use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "simpul_sesi";
/// The header a cookie-authenticated change carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The header a read of personal data states its purpose in.
pub const PURPOSE_HEADER: &str = "x-tujuan";

pub use simpul_identity::SecretText;

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    /// An operator account, through a session cookie.
    Account,
    /// An agency machine client, through a bearer token, with the scopes it was granted.
    Client { scope: Scope },
}

/// An authenticated caller of a protected route.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub kind: CallerKind,
    /// The purpose the request states (`X-Tujuan`), if any.
    pub purpose: Option<String>,
    /// The client's network, for the access log and the new-network rule.
    pub network: Option<String>,
    /// The id the access-log middleware gave this request.
    pub request_id: String,
}

impl Caller {
    /// `akun` or `klien`, as the access log writes it.
    pub fn kind_code(&self) -> &'static str {
        match self.kind {
            CallerKind::Account => "akun",
            CallerKind::Client { .. } => "klien",
        }
    }
}

/// The request's id, set by the access-log middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The network part of the peer address (`/24` or `/48`), when the server knows it.
pub fn network_of(parts: &Parts) -> Option<String> {
    let peer: IpAddr = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())?;
    Some(simpul_watch::Network::of(peer).to_string())
}

pub fn request_id_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| "-".to_owned())
}

fn purpose_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(PURPOSE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|p| !p.is_empty())
        // A purpose is a short phrase; the bound keeps the log entry small.
        .map(|p| p.chars().take(200).collect())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match authenticate(parts, state).await {
            Ok(caller) => Ok(caller),
            Err(refusal) => {
                log_refused_caller(parts, state, &refusal).await?;
                Err(refusal)
            }
        }
    }
}

/// A request refused before anyone was identified is a denied attempt too: it goes into
/// the access log under the route it tried.
async fn log_refused_caller(
    parts: &Parts,
    state: &AppState,
    refusal: &ApiError,
) -> Result<(), ApiError> {
    // A store that is down gets no second write; a flood is not turned into writes.
    if matches!(
        refusal.code,
        ProblemCode::RateLimited | ProblemCode::StoreUnavailable | ProblemCode::Internal
    ) {
        return Ok(());
    }
    let route = parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "-".to_owned());
    let record = simpul_store::AccessRecord {
        at: simpul_store::now(),
        actor_kind: "anonim".into(),
        actor: "-".into(),
        role: "-".into(),
        action: route,
        purpose: purpose_of(&parts.headers),
        residents: Vec::new(),
        fields: Vec::new(),
        outcome: "denied".into(),
        reason: Some(refusal.code.as_str().to_owned()),
        network: network_of(parts),
        request_id: request_id_of(parts),
    };
    state.access_log.append(vec![record]).await?;
    Ok(())
}

/// Who the request comes from: a bearer token or a session cookie, within its quota.
async fn authenticate(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
    let network = network_of(parts);
    let request_id = request_id_of(parts);
    let purpose = purpose_of(&parts.headers);
    let (actor, kind, quota) = if let Some(token) = bearer(&parts.headers) {
        client_actor(state, token).await?
    } else {
        let jar = CookieJar::from_headers(&parts.headers);
        if jar.get(SESSION_COOKIE).is_none() {
            return Err(ApiError::new(
                ProblemCode::Unauthenticated,
                "masuk dengan sesi atau token akses terlebih dahulu",
            ));
        }
        let actor = session_actor(state, &jar, parts).await?;
        (actor, CallerKind::Account, None)
    };
    state.quotas.check(
        actor.id.as_str(),
        quota.unwrap_or(state.security.default_quota),
    )?;
    Ok(Caller {
        actor,
        kind,
        purpose,
        network,
        request_id,
    })
}

/// Bearer tokens recently found valid, so an agency checking thousands of NIKs with one
/// token pays for the signature check and the two store reads (revocation, client) once
/// every [`TOKEN_CACHE_TTL`], not per request. Revocations through this hub clear it at
/// once; a revocation by another process (`simpul admin revoke-client`) takes effect
/// within the TTL.
#[derive(Default)]
pub struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedClient>>,
}

#[derive(Clone)]
struct CachedClient {
    actor: Actor,
    kind: CallerKind,
    quota: Option<u32>,
    until: std::time::Instant,
}

/// How long a verified token is trusted without looking again.
const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Most tokens remembered; past this the cache starts over (a burst of distinct tokens
/// only costs the lookups it would have cost anyway).
const TOKEN_CACHE_SIZE: usize = 10_000;

impl TokenCache {
    fn get(&self, token: &str) -> Option<CachedClient> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(token)
            .filter(|c| c.until > std::time::Instant::now())
            .cloned()
    }

    fn put(&self, token: &str, entry: CachedClient) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= TOKEN_CACHE_SIZE {
            entries.clear();
        }
        entries.insert(token.to_owned(), entry);
    }

    /// Forgets every token: called when a token or a client is revoked here.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The actor behind a bearer token: a live client of an agency, with its scopes.
async fn client_actor(
    state: &AppState,
    token: &str,
) -> Result<(Actor, CallerKind, Option<u32>), ApiError> {
    if let Some(cached) = state.tokens.get(token) {
        return Ok((cached.actor, cached.kind, cached.quota));
    }
    let security = &state.security;
    let claims = security
        .signer()
        .verify(token, Utc::now(), &security.issuer, &security.audience)
        .map_err(|rejection| {
            ApiError::new(ProblemCode::InvalidToken, "token akses tidak dapat dipakai")
                .reason(rejection.code())
        })?;
    if state.store.token_revoked(&claims.token_id).await? {
        return Err(
            ApiError::new(ProblemCode::InvalidToken, "token akses telah dicabut")
                .reason("token_revoked"),
        );
    }
    let client = state
        .store
        .client(claims.client_id.as_str())
        .await?
        .filter(|c| c.revoked_at.is_none())
        .ok_or_else(|| {
            ApiError::new(ProblemCode::InvalidToken, "klien telah dicabut").reason("client_revoked")
        })?;
    let actor = client_as_actor(&claims.client_id, &client.agency)?;
    let kind = CallerKind::Client {
        scope: claims.scope,
    };
    // Never trusted past the token's own expiry.
    let left = (claims.expires_at - Utc::now())
        .to_std()
        .unwrap_or_default()
        .min(TOKEN_CACHE_TTL);
    state.tokens.put(
        token,
        CachedClient {
            actor: actor.clone(),
            kind: kind.clone(),
            quota: client.rate_limit_per_minute,
            until: std::time::Instant::now() + left,
        },
    );
    Ok((actor, kind, client.rate_limit_per_minute))
}

/// A client acts as an analyst of its agency.
pub fn client_as_actor(client_id: &ClientId, agency: &str) -> Result<Actor, ApiError> {
    let id = ActorId::parse(client_id.as_str())
        .map_err(|_| ApiError::internal("stored client id is not an actor id"))?;
    let agency =
        AgencyId::parse(agency).map_err(|_| ApiError::internal("stored agency id is invalid"))?;
    Ok(Actor {
        id,
        role: Role::AgencyAnalyst { agency },
    })
}

/// The actor behind a session cookie: a fully signed-in, enabled account.
async fn session_actor(
    state: &AppState,
    jar: &CookieJar,
    parts: &Parts,
) -> Result<Actor, ApiError> {
    let (mut session, account) = state.current_session(jar).await?;
    if !session.second_factor_done {
        return Err(ApiError::new(
            ProblemCode::SecondFactorRequired,
            "selesaikan verifikasi dua langkah (TOTP) terlebih dahulu",
        ));
    }
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        session::check_csrf(&parts.headers, &session.csrf_hash)?;
    }
    if !account.totp_enrolled {
        return Err(ApiError::new(
            ProblemCode::SessionExpired,
            "silakan masuk kembali",
        ));
    }
    // Touching on every request would turn each read into a write; a minute's precision
    // is plenty against a 30-minute idle timeout.
    let now = simpul_store::now();
    if now - session.last_seen_at > chrono::TimeDelta::minutes(1) {
        session.last_seen_at = now;
        state.store.update_session(&session).await?;
    }
    account_actor(&account.username, &account.role, account.scope.as_deref())
}

/// The domain actor of a stored account.
pub fn account_actor(username: &str, role: &str, scope: Option<&str>) -> Result<Actor, ApiError> {
    let id = ActorId::parse(username).map_err(|_| ApiError::internal("stored user name"))?;
    let kind = RoleKind::from_code(role).ok_or_else(|| ApiError::internal("stored role"))?;
    let role = Role::from_parts(kind, scope).map_err(|_| ApiError::internal("stored scope"))?;
    Ok(Actor { id, role })
}

/// The peer's address when the server knows it (it does when served with connect info).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

/// The request id as an extractor, for handlers that take no [`Caller`].
impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(request_id_of(parts)))
    }
}
