//! [`IdentityStore`] on SQLite: accounts (with optimistic versions and the TOTP secret
//! sealed by the vault), sessions, machine clients, revoked access tokens, agreements.
//!
//! Every statement here is a single row change, so each runs on the writer pool on its
//! own; SQLite's one writer serialises them, and the version check in `save_account` is
//! part of its `UPDATE`, so no read-then-write window exists.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use simpul_store::identity::{
    ACCOUNT_COLUMNS, ACCOUNTS, CLIENT_COLUMNS, SESSION_COLUMNS, TOTP_SECRET, open_totp_secret,
    seal_totp_secret,
};
use simpul_store::{
    AccountRecord, AccountSummary, AgreementRecord, ClientRecord, IdentityStore, SessionRecord,
    StoreError, Vault,
};
use sqlx::sqlite::SqliteRow;

use crate::append::constraint_or_unavailable;
use crate::rows::{column, in_range};
use crate::{SqliteStore, unavailable};

fn account_record(row: &SqliteRow, vault: &Vault) -> Result<AccountRecord, StoreError> {
    let username: String = column(row, ACCOUNTS, "username")?;
    let sealed: Option<String> = column(row, ACCOUNTS, TOTP_SECRET)?;
    let totp_secret = open_totp_secret(vault, &username, sealed)?;
    Ok(AccountRecord {
        display_name: column(row, ACCOUNTS, "display_name")?,
        role: column(row, ACCOUNTS, "role")?,
        scope: column(row, ACCOUNTS, "scope")?,
        password_hash: column(row, ACCOUNTS, "password_hash")?,
        totp_secret,
        totp_enrolled: column(row, ACCOUNTS, "totp_enrolled")?,
        totp_last_step: column(row, ACCOUNTS, "totp_last_step")?,
        recovery_codes: column(row, ACCOUNTS, "recovery_codes")?,
        throttle: column(row, ACCOUNTS, "throttle")?,
        disabled: column(row, ACCOUNTS, "disabled")?,
        created_at: column(row, ACCOUNTS, "created_at")?,
        version: column(row, ACCOUNTS, "version")?,
        username,
    })
}

fn account_summary(row: &SqliteRow) -> Result<AccountSummary, StoreError> {
    Ok(AccountSummary {
        username: column(row, ACCOUNTS, "username")?,
        display_name: column(row, ACCOUNTS, "display_name")?,
        role: column(row, ACCOUNTS, "role")?,
        scope: column(row, ACCOUNTS, "scope")?,
        totp_enrolled: column(row, ACCOUNTS, "totp_enrolled")?,
        disabled: column(row, ACCOUNTS, "disabled")?,
        created_at: column(row, ACCOUNTS, "created_at")?,
    })
}

fn session_record(row: &SqliteRow) -> Result<SessionRecord, StoreError> {
    const T: &str = "sessions";
    Ok(SessionRecord {
        token_hash: column(row, T, "token_hash")?,
        username: column(row, T, "username")?,
        csrf_hash: column(row, T, "csrf_hash")?,
        second_factor_done: column(row, T, "second_factor_done")?,
        created_at: column(row, T, "created_at")?,
        last_seen_at: column(row, T, "last_seen_at")?,
    })
}

fn client_record(row: &SqliteRow) -> Result<ClientRecord, StoreError> {
    const T: &str = "clients";
    let rate: Option<i64> = column(row, T, "rate_limit_per_minute")?;
    Ok(ClientRecord {
        client_id: column(row, T, "client_id")?,
        name: column(row, T, "name")?,
        agency: column(row, T, "agency")?,
        secret_hash: column(row, T, "secret_hash")?,
        scopes: column(row, T, "scopes")?,
        rate_limit_per_minute: rate
            .map(|r| in_range(r, T, "rate_limit_per_minute"))
            .transpose()?,
        created_at: column(row, T, "created_at")?,
        revoked_at: column(row, T, "revoked_at")?,
    })
}

fn agreement_record(row: &SqliteRow) -> Result<AgreementRecord, StoreError> {
    const T: &str = "agreements";
    let actions: String = column(row, T, "actions")?;
    Ok(AgreementRecord {
        agency: column(row, T, "agency")?,
        actions: actions.split_whitespace().map(str::to_owned).collect(),
        region: column(row, T, "region")?,
        reference: column(row, T, "reference")?,
    })
}

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn create_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
        let sealed = seal_totp_secret(&self.vault, account)?;
        let sql = format!(
            "INSERT INTO accounts ({ACCOUNT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        sqlx::query(&sql)
            .bind(&account.username)
            .bind(&account.display_name)
            .bind(&account.role)
            .bind(&account.scope)
            .bind(&account.password_hash)
            .bind(sealed)
            .bind(account.totp_enrolled)
            .bind(account.totp_last_step)
            .bind(&account.recovery_codes)
            .bind(&account.throttle)
            .bind(account.disabled)
            .bind(account.created_at)
            .bind(account.version)
            .execute(&self.write)
            .await
            .map_err(constraint_or_unavailable)?;
        Ok(())
    }

    async fn account(&self, username: &str) -> Result<Option<AccountRecord>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1");
        sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.read)
            .await
            .map_err(unavailable)?
            .map(|row| account_record(&row, &self.vault))
            .transpose()
    }

    async fn save_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
        let sealed = seal_totp_secret(&self.vault, account)?;
        // `created_at` is when the account was made; a save never moves it.
        let saved = sqlx::query(
            "UPDATE accounts SET display_name = $1, role = $2, scope = $3, password_hash = $4, \
             totp_secret = $5, totp_enrolled = $6, totp_last_step = $7, recovery_codes = $8, \
             throttle = $9, disabled = $10, version = version + 1 \
             WHERE username = $11 AND version = $12",
        )
        .bind(&account.display_name)
        .bind(&account.role)
        .bind(&account.scope)
        .bind(&account.password_hash)
        .bind(sealed)
        .bind(account.totp_enrolled)
        .bind(account.totp_last_step)
        .bind(&account.recovery_codes)
        .bind(&account.throttle)
        .bind(account.disabled)
        .bind(&account.username)
        .bind(account.version)
        .execute(&self.write)
        .await
        .map_err(unavailable)?;
        // No row: another save bumped the version (or the account is gone) since the read.
        if saved.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    async fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError> {
        // Summary columns only: a list never opens a TOTP secret.
        sqlx::query(
            "SELECT username, display_name, role, scope, totp_enrolled, disabled, created_at \
             FROM accounts ORDER BY username",
        )
        .fetch_all(&self.read)
        .await
        .map_err(unavailable)?
        .iter()
        .map(account_summary)
        .collect()
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let sql =
            format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
        sqlx::query(&sql)
            .bind(&session.token_hash)
            .bind(&session.username)
            .bind(&session.csrf_hash)
            .bind(session.second_factor_done)
            .bind(session.created_at)
            .bind(session.last_seen_at)
            .execute(&self.write)
            .await
            .map_err(constraint_or_unavailable)?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1");
        sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.read)
            .await
            .map_err(unavailable)?
            .map(|row| session_record(&row))
            .transpose()
    }

    async fn update_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        // An UPDATE, not an upsert: a touch racing a sign-out must not bring the session back.
        sqlx::query(
            "UPDATE sessions SET username = $1, csrf_hash = $2, second_factor_done = $3, \
             created_at = $4, last_seen_at = $5 WHERE token_hash = $6",
        )
        .bind(&session.username)
        .bind(&session.csrf_hash)
        .bind(session.second_factor_done)
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(&session.token_hash)
        .execute(&self.write)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.write)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn delete_sessions_of(&self, username: &str) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE username = $1")
            .bind(username)
            .execute(&self.write)
            .await
            .map_err(unavailable)?;
        Ok(deleted.rows_affected())
    }

    async fn create_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        );
        sqlx::query(&sql)
            .bind(&client.client_id)
            .bind(&client.name)
            .bind(&client.agency)
            .bind(&client.secret_hash)
            .bind(&client.scopes)
            .bind(client.rate_limit_per_minute.map(i64::from))
            .bind(client.created_at)
            .bind(client.revoked_at)
            .execute(&self.write)
            .await
            .map_err(constraint_or_unavailable)?;
        Ok(())
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1");
        sqlx::query(&sql)
            .bind(client_id)
            .fetch_optional(&self.read)
            .await
            .map_err(unavailable)?
            .map(|row| client_record(&row))
            .transpose()
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY client_id");
        sqlx::query(&sql)
            .fetch_all(&self.read)
            .await
            .map_err(unavailable)?
            .iter()
            .map(client_record)
            .collect()
    }

    async fn revoke_client(&self, client_id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        // A second revocation keeps the first time: that is when access ended.
        let revoked = sqlx::query(
            "UPDATE clients SET revoked_at = COALESCE(revoked_at, $1) WHERE client_id = $2",
        )
        .bind(at)
        .bind(client_id)
        .execute(&self.write)
        .await
        .map_err(unavailable)?;
        Ok(revoked.rows_affected() > 0)
    }

    async fn revoke_token(
        &self,
        token_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO revoked_tokens (token_id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (token_id) DO NOTHING",
        )
        .bind(token_id)
        .bind(expires_at)
        .execute(&self.write)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn token_revoked(&self, token_id: &str) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE token_id = $1)")
            .bind(token_id)
            .fetch_one(&self.read)
            .await
            .map_err(unavailable)
    }

    async fn put_agreement(&self, agreement: &AgreementRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO agreements (agency, reference, actions, region) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (agency, reference) \
             DO UPDATE SET actions = excluded.actions, region = excluded.region",
        )
        .bind(&agreement.agency)
        .bind(&agreement.reference)
        .bind(agreement.actions.join(" "))
        .bind(&agreement.region)
        .execute(&self.write)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn agreements(&self) -> Result<Vec<AgreementRecord>, StoreError> {
        sqlx::query(
            "SELECT agency, reference, actions, region FROM agreements ORDER BY agency, reference",
        )
        .fetch_all(&self.read)
        .await
        .map_err(unavailable)?
        .iter()
        .map(agreement_record)
        .collect()
    }
}
