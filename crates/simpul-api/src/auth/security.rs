//! The keys, policies and limits the authentication path uses, built once at start-up by
//! the binary from its settings and key files.

use std::sync::{Arc, RwLock};

use chrono::TimeDelta;
use simpul_identity::{AccessTokenSigner, PasswordHasher, SessionPolicy, ThrottlePolicy};

/// Everything [`super::Caller`], sign-in and the token endpoint need besides the store.
pub struct Security {
    /// Signs and verifies access tokens; its public keys are the JWKS. Replaced whole when
    /// the key file changes (rotation while serving).
    signer: RwLock<Arc<AccessTokenSigner>>,
    /// `iss` of issued tokens: the hub's public URL.
    pub issuer: String,
    /// `aud` of issued tokens: this hub's API.
    pub audience: String,
    /// How long an access token lives.
    pub token_lifetime: TimeDelta,
    /// Session idle and absolute timeouts.
    pub sessions: SessionPolicy,
    /// Back-off and lock-out after failed sign-ins.
    pub throttle: ThrottlePolicy,
    /// argon2id parameters for passwords.
    pub hasher: PasswordHasher,
    /// Mark the session cookie `Secure` (HTTPS only). Off only for plain-HTTP tests.
    pub cookie_secure: bool,
    /// Requests a minute for a caller without its own quota.
    pub default_quota: u32,
}

impl Security {
    /// Defaults for `signer`: ten-minute tokens, the identity crate's session and throttle
    /// policies, 1,000 requests a minute, secure cookies.
    pub fn new(signer: AccessTokenSigner, issuer: impl Into<String>) -> Self {
        Self {
            signer: RwLock::new(Arc::new(signer)),
            issuer: issuer.into(),
            audience: "simpul-api".to_owned(),
            token_lifetime: TimeDelta::minutes(10),
            sessions: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
            hasher: PasswordHasher::production(),
            cookie_secure: true,
            default_quota: 1_000,
        }
    }

    /// The token keys in force.
    pub fn signer(&self) -> Arc<AccessTokenSigner> {
        self.signer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Puts new token keys in force (after `simpul keys rotate-signing`).
    pub fn replace_signer(&self, signer: AccessTokenSigner) {
        *self.signer.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(signer);
    }
}
