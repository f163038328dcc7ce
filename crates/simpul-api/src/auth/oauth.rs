//! OAuth 2.0 for agency systems: the client-credentials grant (RFC 6749 §4.4) at
//! `/oauth/token`, token revocation (RFC 7009) at `/oauth/revoke`, and the signing keys at
//! `/.well-known/jwks.json`.
//!
//! These endpoints answer in OAuth's own error format (RFC 6749 §5.2: `error`,
//! `error_description`), which OAuth client libraries parse, rather than problem+json.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64ct::Encoding;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use simpul_identity::{AccessClaims, ClientId, ClientSecretHash, Scope};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::SecretText;
use crate::state::AppState;

/// `POST /oauth/token` form.
#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    pub grant_type: String,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<SecretText>,
}

/// RFC 6749 §5.1.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

/// RFC 6749 §5.2.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    pub error: &'static str,
    pub error_description: String,
}

fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> Response {
    let mut response = (
        status,
        axum::Json(OAuthError {
            error,
            error_description: description.to_owned(),
        }),
    )
        .into_response();
    no_store(&mut response);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"simpul\""),
        );
    }
    response
}

fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A form that cannot be read (wrong media type, a required or repeated parameter, too
/// large) is RFC 6749 §5.2 `invalid_request`, in OAuth's format like every other refusal
/// here, rather than axum's plain-text rejection. The rejection's text is not sent or
/// logged: serde's messages may quote a submitted value, such as a secret.
fn unreadable_form(rejection: &FormRejection) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return crate::problem::ApiError::new(
            crate::problem::ProblemCode::PayloadTooLarge,
            "isi permintaan terlalu besar",
        )
        .into_response();
    }
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "send an application/x-www-form-urlencoded form with each required parameter once",
    )
}

/// The client's credentials from HTTP Basic (preferred, RFC 6749 §2.3.1) or the form.
fn credentials(
    headers: &HeaderMap,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Option<(String, Zeroizing<String>)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = Zeroizing::new(base64ct::Base64::decode_vec(basic.trim()).ok()?);
        let text = std::str::from_utf8(&decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        return Some((id.to_owned(), Zeroizing::new(secret.to_owned())));
    }
    Some((form_id?.to_owned(), Zeroizing::new(form_secret?.to_owned())))
}

impl AppState {
    /// The live client these credentials prove, or the OAuth error to answer.
    async fn authenticate_client(
        &self,
        credentials: Option<(String, Zeroizing<String>)>,
    ) -> Result<(ClientId, simpul_store::ClientRecord), Response> {
        let invalid = || {
            oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            )
        };
        let Some((id, secret)) = credentials else {
            return Err(invalid());
        };
        let id = ClientId::parse(&id).map_err(|_| invalid())?;
        let client = match self.store.client(id.as_str()).await {
            Ok(Some(client)) if client.revoked_at.is_none() => client,
            Ok(_) => return Err(invalid()),
            Err(error) => return Err(crate::problem::ApiError::from(error).into_response()),
        };
        let hash = ClientSecretHash::from_hex(&client.secret_hash).ok_or_else(invalid)?;
        hash.verify(&secret).map_err(|_| invalid())?;
        Ok((id, client))
    }
}

/// `POST /oauth/token`: client credentials → a signed access token.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = TokenResponse), (status = 400, body = OAuthError), (status = 401, body = OAuthError)))]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return unreadable_form(&rejection),
    };
    if form.grant_type != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    let given = credentials(
        &headers,
        form.client_id.as_deref(),
        form.client_secret.as_ref().map(SecretText::expose),
    );
    let (id, client) = match state.authenticate_client(given).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(granted) = Scope::parse(&client.scopes) else {
        return crate::problem::ApiError::internal("stored client scopes do not parse")
            .into_response();
    };
    let scope = match granted.grant(form.scope.as_deref()) {
        Ok(scope) => scope,
        Err(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "the requested scope exceeds the client's grant",
            );
        }
    };
    if let Err(error) = state.quotas.check(
        id.as_str(),
        client
            .rate_limit_per_minute
            .unwrap_or(state.security.default_quota),
    ) {
        return error.into_response();
    }
    let security = &state.security;
    let claims = AccessClaims::new(
        security.issuer.clone(),
        security.audience.clone(),
        id,
        scope,
        Utc::now(),
        security.token_lifetime,
        &mut rand::rng(),
    );
    let access_token = security.signer().issue(&claims);
    let mut response = axum::Json(TokenResponse {
        access_token: access_token.to_string(),
        token_type: "Bearer",
        expires_in: security.token_lifetime.num_seconds(),
        scope: claims.scope.to_string(),
    })
    .into_response();
    no_store(&mut response);
    response
}

/// `POST /oauth/revoke` form (RFC 7009).
#[derive(Deserialize, ToSchema)]
pub struct RevokeRequest {
    #[schema(value_type = String)]
    pub token: SecretText,
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<SecretText>,
}

/// `POST /oauth/revoke`: a client revokes one of its own access tokens. Answers 200 for any
/// token it does not recognise, as RFC 7009 §2.2 asks.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200), (status = 401, body = OAuthError)))]
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<RevokeRequest>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return unreadable_form(&rejection),
    };
    let given = credentials(
        &headers,
        form.client_id.as_deref(),
        form.client_secret.as_ref().map(SecretText::expose),
    );
    let (id, _) = match state.authenticate_client(given).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let security = &state.security;
    // An expired token needs no revocation; one signed for another client is not this
    // client's to revoke.
    if let Ok(claims) = security.signer().verify(
        form.token.expose(),
        Utc::now(),
        &security.issuer,
        &security.audience,
    ) && claims.client_id == id
        && let Err(error) = state
            .store
            .revoke_token(&claims.token_id, claims.expires_at)
            .await
    {
        return crate::problem::ApiError::from(error).into_response();
    }
    state.tokens.clear();
    let mut response = StatusCode::OK.into_response();
    no_store(&mut response);
    response
}

/// `GET /.well-known/jwks.json`: the public keys access tokens are signed with.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "oauth", responses((status = 200)))]
pub async fn jwks(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(state.security.signer().jwks())
}
