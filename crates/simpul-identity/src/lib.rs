//! Operator credentials, as pure values and functions: argon2id passwords and their policy,
//! TOTP second factor with replay protection, one-time recovery codes, sign-in throttling,
//! and session tokens. And machine-client credentials for the OAuth 2.0 client-credentials
//! grant: client ids and secrets, scopes, and the signed access tokens clients get.
//!
//! This crate decides; it stores nothing and reads no clock or entropy of its own. Callers
//! (the API's sign-in handlers, the CLI's `admin create-user`) pass in the time (`now`), a
//! cryptographically secure generator (`impl rand::CryptoRng`, e.g. `rand::rng()` in
//! production, a seeded ChaCha in tests), and the stored state, and store what they get
//! back. So every rule here is tested deterministically, and the crate stays free of I/O,
//! sqlx, axum and async runtimes, like `simpul-domain`.
//!
//! # Layout
//! - [`password`]: argon2id hashing to PHC strings, verification, the dummy verification
//!   for unknown usernames, and the re-hash check for raised parameters.
//! - [`policy`]: the rules for a new password (length, not the username, not common).
//! - [`totp`]: RFC 6238 secrets, the `otpauth://` enrolment URI and its QR code (SVG), and
//!   verification with one step of skew and replay protection.
//! - [`recovery`]: ten one-time recovery codes, shown once and stored hashed.
//! - [`throttle`]: per-account back-off and temporary lockout, as a serializable state
//!   machine.
//! - [`secret`]: [`SecretText`], secrets that arrive as text (requests, settings).
//! - [`session`]: 256-bit session tokens, their stored SHA-256 hashes, idle and absolute
//!   timeouts.
//! - [`client`]: machine-client ids, 256-bit client secrets and their stored SHA-256
//!   hashes, and the scope rules of RFC 6749 §3.3.
//! - [`jwt`]: short-lived EdDSA (Ed25519) access tokens in the RFC 9068 JWT profile, their
//!   strict verification, the JWKS; [`jwt::keys`]: the rotating ring of signing keys and its
//!   key-file text.
//!
//! # A sign-in, as the API is expected to run it
//! 1. Load the account by username. Ask [`throttle::LoginThrottle::check`]; if it refuses,
//!    answer 429 or "locked" without verifying anything.
//! 2. Verify the password with [`password::PasswordHasher::verify`], or, for an unknown
//!    username, spend the same time with [`password::PasswordHasher::verify_dummy`].
//! 3. Verify the TOTP code with [`totp::Totp::verify`] and the stored last step (or a
//!    recovery code with [`recovery::RecoveryCodeSet::consume`]).
//! 4. Record the outcome on the throttle, store the new TOTP step or code set, and on
//!    success issue a [`session::SessionToken`], storing only its hash — all in one
//!    transaction, so two concurrent requests cannot both use one code.
//!
//! # A token request, as the API is expected to run it
//! 1. Read the client id and secret (`client_secret_basic`); parse the id with
//!    [`client::ClientId::parse`] and load the client. Verify the secret with
//!    [`client::ClientSecretHash::verify`]; any failure answers `invalid_client`.
//! 2. Narrow the requested scope with [`client::Scope::grant`] on the client's granted
//!    scope; a failure answers `invalid_scope`.
//! 3. Build [`jwt::AccessClaims::new`] and sign them with [`jwt::AccessTokenSigner::issue`].
//!    Resource endpoints check the bearer token with [`jwt::AccessTokenSigner::verify`] and
//!    the claims' scope; the hub serves [`jwt::AccessTokenSigner::jwks`].
//!
//! # Secrets
//! Types holding a secret in clear ([`totp::TotpSecret`], [`recovery::RecoveryCode`],
//! [`session::SessionToken`], [`client::ClientSecret`], [`jwt::AccessTokenSigner`]) print no
//! secret in `Debug`, have no `Display`, and are zeroed when dropped; strings derived from
//! them (enrolment URI, QR code, cookie value, client secret text, access token, key file)
//! come back as `Zeroizing<String>`. Errors carry no secret and no username.

pub mod client;
mod hex;
pub mod jwt;
pub mod password;
pub mod policy;
pub mod recovery;
pub mod secret;
pub mod session;
pub mod throttle;
pub mod totp;

pub use client::{
    ClientId, ClientIdError, ClientSecret, ClientSecretHash, ClientSecretRejection, Scope,
    ScopeError,
};
pub use jwt::{
    AccessClaims, AccessTokenSigner, RotationError, SigningKeyId, SigningKeyIdError,
    SigningKeysError, TokenRejection,
};
pub use password::{PasswordError, PasswordHash, PasswordHasher};
pub use policy::{PolicyViolation, check_password};
pub use recovery::{RECOVERY_CODE_COUNT, RecoveryCode, RecoveryCodeSet, RecoveryRejection};
pub use secret::SecretText;
pub use session::{
    MalformedToken, SessionExpired, SessionPolicy, SessionTimes, SessionToken, SessionTokenHash,
};
pub use throttle::{LoginThrottle, ThrottleDecision, ThrottlePolicy};
pub use totp::{Totp, TotpError, TotpRejection, TotpSecret};
