//! The storage contract for who may act: operator accounts and their sign-in state,
//! sessions, agency machine clients, revoked access tokens, and agencies' agreements.
//!
//! Records hold what the identity crate produces, as text: PHC password hashes, the JSON
//! of a recovery-code set or a sign-in throttle, hex hashes of session tokens and client
//! secrets. The store interprets none of it, with one exception: the TOTP secret is a
//! shared secret that would let anyone holding the database mint codes, so backends seal
//! it with the vault (table `accounts`, column `totp_secret`, row = user name) like
//! personal data, and return it opened.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::StoreError;
use crate::vault::Vault;

/// Where the vault binds a TOTP secret: this table and column, and (per row) the user name,
/// so a sealed secret copied onto another account does not open there.
pub const ACCOUNTS: &str = "accounts";
pub const TOTP_SECRET: &str = "totp_secret";

/// The account columns in the order every backend selects and inserts them.
pub const ACCOUNT_COLUMNS: &str = "username, display_name, role, scope, password_hash, \
     totp_secret, totp_enrolled, totp_last_step, recovery_codes, throttle, disabled, \
     created_at, version";
/// The session columns, likewise.
pub const SESSION_COLUMNS: &str =
    "token_hash, username, csrf_hash, second_factor_done, created_at, last_seen_at";
/// The client columns, likewise.
pub const CLIENT_COLUMNS: &str = "client_id, name, agency, secret_hash, scopes, \
     rate_limit_per_minute, created_at, revoked_at";

/// The account's TOTP secret sealed for its row, as stored (`None` before enrolment).
pub fn seal_totp_secret(
    vault: &Vault,
    account: &AccountRecord,
) -> Result<Option<String>, StoreError> {
    account
        .totp_secret
        .as_ref()
        .map(|secret| vault.seal_json(ACCOUNTS, TOTP_SECRET, &account.username, &**secret))
        .transpose()
}

/// A stored TOTP secret opened for the account `username`.
pub fn open_totp_secret(
    vault: &Vault,
    username: &str,
    sealed: Option<String>,
) -> Result<Option<Zeroizing<String>>, StoreError> {
    sealed
        .map(|text| {
            vault
                .open_json::<String>(ACCOUNTS, TOTP_SECRET, username, &text)
                .map(Zeroizing::new)
        })
        .transpose()
}

/// An operator account: a person, with one role.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// The user name: unique, the actor id in the access log.
    pub username: String,
    pub display_name: String,
    /// `RoleKind::code()`.
    pub role: String,
    /// The role's region code or agency id, when the role has one.
    pub scope: Option<String>,
    /// PHC string (argon2id).
    pub password_hash: String,
    /// Base32 TOTP secret once enrolment has started; sealed at rest.
    pub totp_secret: Option<Zeroizing<String>>,
    /// True once a first code has confirmed the enrolment.
    pub totp_enrolled: bool,
    /// The last TOTP time step accepted (replay protection).
    pub totp_last_step: Option<i64>,
    /// JSON of the recovery-code set (hashes only).
    pub recovery_codes: Option<String>,
    /// JSON of the sign-in throttle.
    pub throttle: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// Bumped by every save; a save naming an older version is a [`StoreError::Conflict`].
    pub version: i64,
}

impl std::fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hashes and secrets stay out of debug output (and so out of logs).
        f.debug_struct("AccountRecord")
            .field("role", &self.role)
            .field("scope", &self.scope)
            .field("totp_enrolled", &self.totp_enrolled)
            .field("disabled", &self.disabled)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// What an account list shows: no secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccountSummary {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope: Option<String>,
    pub totp_enrolled: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&AccountRecord> for AccountSummary {
    fn from(a: &AccountRecord) -> Self {
        Self {
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role.clone(),
            scope: a.scope.clone(),
            totp_enrolled: a.totp_enrolled,
            disabled: a.disabled,
            created_at: a.created_at,
        }
    }
}

/// A signed-in browser session. Only the token's hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex SHA-256 of the cookie token.
    pub token_hash: String,
    pub username: String,
    /// Hex SHA-256 of the CSRF token the session's forms and scripts send back.
    pub csrf_hash: String,
    /// False while only the password is proven (the second factor, or its enrolment, is
    /// still due); such a session may do nothing but finish signing in.
    pub second_factor_done: bool,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// An agency's machine client (OAuth 2.0 client credentials).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub client_id: String,
    pub name: String,
    /// The agency the client acts for (its role is agency analyst of this agency).
    pub agency: String,
    /// Hex hash of the client secret.
    pub secret_hash: String,
    /// Space-separated scopes the client may ask for.
    pub scopes: String,
    /// Requests a minute; `None` means the hub's default.
    pub rate_limit_per_minute: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for ClientRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRecord")
            .field("client_id", &self.client_id)
            .field("agency", &self.agency)
            .field("scopes", &self.scopes)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// One agreement line: analysts and clients of `agency` may do `actions` within `region`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementRecord {
    pub agency: String,
    /// `Action::code()`s.
    pub actions: Vec<String>,
    pub region: String,
    /// The agreement's reference (nomor perjanjian kerja sama).
    pub reference: String,
}

/// Accounts, sessions, clients, token revocations and agreements.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Adds an account; [`StoreError::Conflict`] when the user name is taken.
    async fn create_account(&self, account: &AccountRecord) -> Result<(), StoreError>;
    async fn account(&self, username: &str) -> Result<Option<AccountRecord>, StoreError>;
    /// Writes `account` if the stored version is still `account.version`, storing
    /// `version + 1`; otherwise [`StoreError::Conflict`] (another request changed it).
    async fn save_account(&self, account: &AccountRecord) -> Result<(), StoreError>;
    async fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError>;

    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Replaces the session row with the same token hash (touch, second factor done).
    async fn update_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Ends every session of an account (password change, lock-out by an administrator).
    async fn delete_sessions_of(&self, username: &str) -> Result<u64, StoreError>;

    /// Adds a client; [`StoreError::Conflict`] when the id is taken.
    async fn create_client(&self, client: &ClientRecord) -> Result<(), StoreError>;
    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError>;
    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError>;
    /// Marks a client revoked; false when there is no such client.
    async fn revoke_client(&self, client_id: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Remembers a revoked access token until it would have expired anyway.
    async fn revoke_token(
        &self,
        token_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn token_revoked(&self, token_id: &str) -> Result<bool, StoreError>;

    /// Adds or replaces the agreement with this agency and reference.
    async fn put_agreement(&self, agreement: &AgreementRecord) -> Result<(), StoreError>;
    async fn agreements(&self) -> Result<Vec<AgreementRecord>, StoreError>;
}
