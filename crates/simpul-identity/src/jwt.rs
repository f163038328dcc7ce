//! Short-lived access tokens for machine clients: JWTs in the RFC 9068 profile, signed with
//! EdDSA over Ed25519 (RFC 8037 §3.1), their verification, and the JWKS that publishes the
//! verifying keys (RFC 8037 §2). The signing keys and their key-file text live in [`keys`].
//!
//! # Token format
//!
//! A compact JWS (RFC 7515 §7.1): `BASE64URL(header) "." BASE64URL(payload) "."
//! BASE64URL(signature)`, base64url without padding, the signature taken over the first two
//! parts as they appear in the token.
//!
//! - Header (RFC 9068 §2.1): `alg` `EdDSA`, `typ` `at+jwt`, and `kid`, the id of the
//!   signing key. Member order carries no meaning; the signature covers the bytes as sent.
//! - Payload (RFC 9068 §2.2): `iss`, `sub` (the client id: a client-credentials token acts
//!   for the client itself), `aud`, `iat`, `exp` (seconds since the epoch), `jti` (128
//!   random bits in hex), `client_id`, and `scope` (space-separated, RFC 9068 §2.2.3).
//!
//! # Verification
//!
//! Strict, because the only tokens it has to accept are the ones [`AccessTokenSigner::issue`]
//! wrote. In order: at most [`MAX_TOKEN_BYTES`]; three parts; a header that is a JSON object
//! with no member we do not write (so no `crit`, `jku`, `jwk` or `x5u`), none twice;
//! `alg` exactly `EdDSA` (so `none` and every HMAC or RSA algorithm is refused before any key
//! is touched, the classic algorithm-confusion attacks); `typ` `at+jwt`, as RFC 9068 §4
//! requires; a `kid` in the ring; the signature, checked with ed25519-dalek's
//! `verify_strict` (no small-order points, no malleable signatures); only then the payload,
//! which must hold exactly our claims; issuer and audience; and the times.
//!
//! Times allow [`CLOCK_LEEWAY_SECS`] of difference between the clock that issued a token
//! and the one checking it: a token is accepted while `now < exp + 30 s` and once
//! `iat <= now + 30 s`. Within one hub both are the same clock, and the leeway costs at
//! most 30 seconds of extra life for a token.
//!
//! A JWT cannot be revoked once issued: its lifetime is the bound on what a leaked token can
//! do, so keep it short ([`DEFAULT_TOKEN_LIFETIME_SECS`]). Every rejection is answered with
//! `401` and `invalid_token` (RFC 6750 §3.1); [`TokenRejection::code`] says which, for logs
//! and metrics only.
//!
//! # Why not the `jsonwebtoken` crate
//!
//! `jsonwebtoken` (10.3 to 12.0, as published on docs.rs) does EdDSA only through a crypto
//! back-end feature. `rust_crypto` switches on ed25519-dalek 2 (with curve25519-dalek 4), sha2 0.10,
//! hmac 0.12, p256, p384, rsa and rand 0.8 together: a second RustCrypto generation beside
//! the ed25519-dalek 3 and sha2 0.11 this workspace settled on, plus RSA and NIST-curve code
//! we never call. `aws_lc_rs` brings aws-lc, a C crypto library and rustls's other provider.
//! Either way a second crypto stack for one algorithm. A compact JWS with one fixed
//! algorithm is a few dozen lines over ed25519-dalek, `base64ct` (constant-time, canonical
//! base64url) and serde_json, and writing it lets verification refuse everything above
//! outright rather than by configuration.

pub mod keys;

use base64ct::{Base64UrlUnpadded, Encoding};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use ed25519_dalek::{Signature, Signer as _};
use rand::CryptoRng;
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::client::{ClientId, Scope};

pub use keys::{
    AccessTokenSigner, Position, RotationError, SIGNING_KEY_ID_MAX_LEN, SigningKeyId,
    SigningKeyIdError, SigningKeysError,
};

/// Longest token accepted, in bytes: 4 KiB. Our tokens are about 400 bytes; the bound keeps
/// a hostile `Authorization` header from costing more than a small decode, and matches the
/// header size that common proxies pass through.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// Clock difference tolerated when checking `exp` and `iat`, in seconds. 30 s covers clocks
/// kept by NTP several times over, and adds at most that much to a token's life.
pub const CLOCK_LEEWAY_SECS: i64 = 30;

/// The token lifetime the hub uses unless settings say otherwise: 10 minutes. Long enough
/// that a batch job asks for a token a few times an hour rather than per request; short,
/// because a JWT cannot be revoked and its lifetime is all that limits a leaked one. Keys
/// must stay in the ring for this long (plus the leeway) after a rotation.
pub const DEFAULT_TOKEN_LIFETIME_SECS: i64 = 600;

/// The only signing algorithm issued or accepted (RFC 8037 §3.1).
const ALG: &str = "EdDSA";
/// The header `typ` of an access token (RFC 9068 §2.1).
const TYP: &str = "at+jwt";
/// Random bytes in a token id: 128 bits, so ids never collide by chance.
const TOKEN_ID_BYTES: usize = 16;

/// What an access token says: who issued it, for which resource server, to which client,
/// with which scope, and when it is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// `iss`: the hub's issuer identifier (its base URL).
    pub issuer: String,
    /// `aud`: the resource server the token is for.
    pub audience: String,
    /// `sub` and `client_id`: the client the token was issued to (both claims hold it).
    pub client_id: ClientId,
    /// `scope`: what the token allows.
    pub scope: Scope,
    /// `iat`: when the token was issued, in whole seconds.
    pub issued_at: DateTime<Utc>,
    /// `exp`: when the token stops being valid, in whole seconds.
    pub expires_at: DateTime<Utc>,
    /// `jti`: a unique token id, for logs and any replay list a resource server keeps.
    pub token_id: String,
}

impl AccessClaims {
    /// The claims of a token issued at `now` that lives for `lifetime`, with a fresh random
    /// `jti`. Times are truncated to whole seconds, the resolution of the JWT claims, so the
    /// claims [`AccessTokenSigner::verify`] returns equal these.
    pub fn new<R: CryptoRng + ?Sized>(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        client_id: ClientId,
        scope: Scope,
        now: DateTime<Utc>,
        lifetime: TimeDelta,
        rng: &mut R,
    ) -> Self {
        let issued_at = now.trunc_subsecs(0);
        let expires_at = issued_at
            .checked_add_signed(lifetime)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
            .trunc_subsecs(0);
        let mut id = [0u8; TOKEN_ID_BYTES];
        rng.fill_bytes(&mut id);
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            client_id,
            scope,
            issued_at,
            expires_at,
            token_id: crate::hex::encode(&id),
        }
    }

    /// The JWT payload.
    fn to_json(&self) -> Value {
        json!({
            "iss": self.issuer,
            "sub": self.client_id.as_str(),
            "aud": self.audience,
            "iat": self.issued_at.timestamp(),
            "exp": self.expires_at.timestamp(),
            "jti": self.token_id,
            "scope": self.scope.to_string(),
            "client_id": self.client_id.as_str(),
        })
    }
}

/// Why an access token was refused. Every variant is answered `401 invalid_token`
/// ([`TokenRejection::oauth_error`]); [`TokenRejection::code`] is for logs and metrics.
/// Messages never quote the token or any part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    /// Longer than [`MAX_TOKEN_BYTES`]; nothing of it was decoded.
    #[error("access token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    /// Not three base64url parts, or a header or payload that is not exactly our JSON.
    #[error("access token is not well-formed")]
    Malformed,
    /// A header `alg` other than `EdDSA`, including `none`.
    #[error("access token is not signed with EdDSA")]
    UnsupportedAlgorithm,
    /// A header `typ` other than `at+jwt`, or none: some other kind of JWT.
    #[error("token is not an access token (typ at+jwt)")]
    WrongType,
    /// No `kid`, or one not in the ring (perhaps a retired key).
    #[error("access token names no known signing key")]
    UnknownKey,
    /// The signature does not verify under the key the header names.
    #[error("access token signature does not verify")]
    BadSignature,
    /// `exp` is past, beyond the leeway.
    #[error("access token has expired")]
    Expired,
    /// `iat` is in the future, beyond the leeway.
    #[error("access token is not valid yet")]
    NotYetValid,
    /// `iss` is not this hub.
    #[error("access token was issued by another issuer")]
    WrongIssuer,
    /// `aud` is not this resource server.
    #[error("access token is meant for another audience")]
    WrongAudience,
}

impl TokenRejection {
    /// A stable snake_case code per variant, for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge => "token_too_large",
            Self::Malformed => "token_malformed",
            Self::UnsupportedAlgorithm => "token_algorithm_unsupported",
            Self::WrongType => "token_type_wrong",
            Self::UnknownKey => "token_key_unknown",
            Self::BadSignature => "token_signature_invalid",
            Self::Expired => "token_expired",
            Self::NotYetValid => "token_not_yet_valid",
            Self::WrongIssuer => "token_issuer_wrong",
            Self::WrongAudience => "token_audience_wrong",
        }
    }

    /// The error code of the `WWW-Authenticate` answer, the same for every variant
    /// (RFC 6750 §3.1), so a client learns nothing about which check failed.
    pub fn oauth_error(&self) -> &'static str {
        "invalid_token"
    }
}

/// A token header, as verification reads it: exactly the members [`AccessTokenSigner::issue`]
/// writes. Unknown members (`crit`, `jku`, `jwk`, ...) and repeated ones are malformed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
}

/// A token payload, as verification reads it: exactly our claims.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    iss: String,
    sub: ClientId,
    aud: String,
    iat: i64,
    exp: i64,
    jti: String,
    scope: Scope,
    client_id: ClientId,
}

impl AccessTokenSigner {
    /// Signs `claims` with the active key into a compact JWS. The token is a bearer
    /// credential, so it is wiped when dropped. Claims are the hub's own short values; a
    /// token longer than [`MAX_TOKEN_BYTES`] would be refused by [`AccessTokenSigner::verify`].
    pub fn issue(&self, claims: &AccessClaims) -> Zeroizing<String> {
        let header = json!({ "alg": ALG, "typ": TYP, "kid": self.active_id().as_str() });
        let mut token = Zeroizing::new(Base64UrlUnpadded::encode_string(
            header.to_string().as_bytes(),
        ));
        token.push('.');
        token.push_str(&Base64UrlUnpadded::encode_string(
            claims.to_json().to_string().as_bytes(),
        ));
        let signature = self.active_key().sign(token.as_bytes());
        token.push('.');
        token.push_str(&Base64UrlUnpadded::encode_string(&signature.to_bytes()));
        token
    }

    /// Checks a token as described in the module docs and returns its claims.
    pub fn verify(
        &self,
        token: &str,
        now: DateTime<Utc>,
        expected_issuer: &str,
        expected_audience: &str,
    ) -> Result<AccessClaims, TokenRejection> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenRejection::TooLarge);
        }
        let mut parts = token.split('.');
        let (Some(header_part), Some(payload_part), Some(signature_part), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenRejection::Malformed);
        };

        let header: Header = decode_json(header_part)?;
        if header.alg != ALG {
            return Err(TokenRejection::UnsupportedAlgorithm);
        }
        if !header.typ.as_deref().is_some_and(is_access_token_type) {
            return Err(TokenRejection::WrongType);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.key(kid))
            .ok_or(TokenRejection::UnknownKey)?;

        let signature =
            Base64UrlUnpadded::decode_vec(signature_part).map_err(|_| TokenRejection::Malformed)?;
        let signature = <[u8; 64]>::try_from(signature.as_slice())
            .map(|bytes| Signature::from_bytes(&bytes))
            .map_err(|_| TokenRejection::BadSignature)?;
        let signing_input = &token[..header_part.len() + 1 + payload_part.len()];
        key.verifying_key()
            .verify_strict(signing_input.as_bytes(), &signature)
            .map_err(|_| TokenRejection::BadSignature)?;

        // Only now, with the signature checked, is the payload read.
        let payload: Payload = decode_json(payload_part)?;
        if payload.sub != payload.client_id {
            return Err(TokenRejection::Malformed);
        }
        if payload.iss != expected_issuer {
            return Err(TokenRejection::WrongIssuer);
        }
        if payload.aud != expected_audience {
            return Err(TokenRejection::WrongAudience);
        }
        let now = now.timestamp();
        if now >= payload.exp.saturating_add(CLOCK_LEEWAY_SECS) {
            return Err(TokenRejection::Expired);
        }
        if payload.iat > now.saturating_add(CLOCK_LEEWAY_SECS) {
            return Err(TokenRejection::NotYetValid);
        }
        let time = |secs| DateTime::from_timestamp(secs, 0).ok_or(TokenRejection::Malformed);
        Ok(AccessClaims {
            issued_at: time(payload.iat)?,
            expires_at: time(payload.exp)?,
            issuer: payload.iss,
            audience: payload.aud,
            client_id: payload.client_id,
            scope: payload.scope,
            token_id: payload.jti,
        })
    }

    /// The JSON Web Key Set publishing every key in the ring, active first, as Ed25519 OKP
    /// public keys (RFC 8037 §2): what `/.well-known/jwks.json` serves, so resource servers
    /// verify tokens without sharing a secret. Keys still in the ring but no longer signing
    /// stay published, so tokens they signed keep verifying until they expire.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys()
            .map(|(id, key)| {
                json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": Base64UrlUnpadded::encode_string(key.verifying_key().as_bytes()),
                    "kid": id.as_str(),
                    "use": "sig",
                    "alg": ALG,
                })
            })
            .collect();
        json!({ "keys": keys })
    }
}

/// Whether a header `typ` names an access token. Media types are case-insensitive and the
/// `application/` prefix may be left out (RFC 7515 §4.1.9), so RFC 9068 §4 accepts both.
fn is_access_token_type(typ: &str) -> bool {
    typ.eq_ignore_ascii_case(TYP) || typ.eq_ignore_ascii_case("application/at+jwt")
}

/// Decodes one base64url part and parses it as `T`. `base64ct` refuses padding and
/// non-canonical trailing bits, so each token has exactly one spelling.
fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, TokenRejection> {
    let bytes = Base64UrlUnpadded::decode_vec(part).map_err(|_| TokenRejection::Malformed)?;
    // Header and claims set are JSON objects (RFC 7515 §4, RFC 7519 §7.2), and serde would
    // also fill a struct from an array; we write `{` first with no whitespace, so ask for it.
    if bytes.first() != Some(&b'{') {
        return Err(TokenRejection::Malformed);
    }
    serde_json::from_slice(&bytes).map_err(|_| TokenRejection::Malformed)
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
