//! [`IdentityStore`] on PostgreSQL: accounts (with optimistic versions and the TOTP secret
//! sealed by the vault), sessions, machine clients, revoked tokens and agreements.
//!
//! Each method is one statement on the pool: none of these writes spans two tables, so none
//! needs a transaction of its own. Races are settled by the database: a unique key turns a
//! second create into [`StoreError::Conflict`], and an account save is conditional on the
//! version it read.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use simpul_store::identity::{
    ACCOUNT_COLUMNS, CLIENT_COLUMNS, SESSION_COLUMNS, open_totp_secret, seal_totp_secret,
};
use simpul_store::{
    AccountRecord, AccountSummary, AgreementRecord, ClientRecord, IdentityStore, SessionRecord,
    StoreError, Vault,
};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::{PostgresStore, constraint_or_unavailable, unavailable};

fn account_record(row: &PgRow, vault: &Vault) -> Result<AccountRecord, StoreError> {
    let username: String = row.try_get("username").map_err(unavailable)?;
    let sealed: Option<String> = row.try_get("totp_secret").map_err(unavailable)?;
    let totp_secret = open_totp_secret(vault, &username, sealed)?;
    Ok(AccountRecord {
        display_name: row.try_get("display_name").map_err(unavailable)?,
        role: row.try_get("role").map_err(unavailable)?,
        scope: row.try_get("scope").map_err(unavailable)?,
        password_hash: row.try_get("password_hash").map_err(unavailable)?,
        totp_secret,
        totp_enrolled: row.try_get("totp_enrolled").map_err(unavailable)?,
        totp_last_step: row.try_get("totp_last_step").map_err(unavailable)?,
        recovery_codes: row.try_get("recovery_codes").map_err(unavailable)?,
        throttle: row.try_get("throttle").map_err(unavailable)?,
        disabled: row.try_get("disabled").map_err(unavailable)?,
        created_at: row.try_get("created_at").map_err(unavailable)?,
        version: row.try_get("version").map_err(unavailable)?,
        username,
    })
}

fn session_record(row: &PgRow) -> Result<SessionRecord, sqlx::Error> {
    Ok(SessionRecord {
        token_hash: row.try_get("token_hash")?,
        username: row.try_get("username")?,
        csrf_hash: row.try_get("csrf_hash")?,
        second_factor_done: row.try_get("second_factor_done")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
    })
}

/// The stored form of a client's rate limit. The column is an `INTEGER`; a limit beyond
/// `i32::MAX` requests a minute is no limit in practice, so it is kept as the largest one
/// the column holds rather than refused.
fn stored_rate_limit(limit: Option<u32>) -> Option<i32> {
    limit.map(|l| i32::try_from(l).unwrap_or(i32::MAX))
}

fn client_record(row: &PgRow) -> Result<ClientRecord, StoreError> {
    let limit: Option<i32> = row.try_get("rate_limit_per_minute").map_err(unavailable)?;
    let rate_limit_per_minute = limit
        .map(u32::try_from)
        .transpose()
        .map_err(|_| StoreError::Corrupt("negative client rate limit".into()))?;
    Ok(ClientRecord {
        client_id: row.try_get("client_id").map_err(unavailable)?,
        name: row.try_get("name").map_err(unavailable)?,
        agency: row.try_get("agency").map_err(unavailable)?,
        secret_hash: row.try_get("secret_hash").map_err(unavailable)?,
        scopes: row.try_get("scopes").map_err(unavailable)?,
        rate_limit_per_minute,
        created_at: row.try_get("created_at").map_err(unavailable)?,
        revoked_at: row.try_get("revoked_at").map_err(unavailable)?,
    })
}

fn agreement_record(row: &PgRow) -> Result<AgreementRecord, sqlx::Error> {
    let actions: String = row.try_get("actions")?;
    Ok(AgreementRecord {
        agency: row.try_get("agency")?,
        actions: actions.split_whitespace().map(str::to_owned).collect(),
        region: row.try_get("region")?,
        reference: row.try_get("reference")?,
    })
}

#[async_trait]
impl IdentityStore for PostgresStore {
    async fn create_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
        let secret = seal_totp_secret(&self.vault, account)?;
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
            .bind(secret)
            .bind(account.totp_enrolled)
            .bind(account.totp_last_step)
            .bind(&account.recovery_codes)
            .bind(&account.throttle)
            .bind(account.disabled)
            .bind(account.created_at)
            .bind(account.version)
            .execute(&self.pool)
            .await
            .map_err(constraint_or_unavailable)?;
        Ok(())
    }

    async fn account(&self, username: &str) -> Result<Option<AccountRecord>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1");
        sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(|row| account_record(&row, &self.vault))
            .transpose()
    }

    async fn save_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
        let secret = seal_totp_secret(&self.vault, account)?;
        // The user name is the key and the creation time never changes; everything else is
        // written as given, if nobody saved since `account` was read.
        let saved = sqlx::query(
            "UPDATE accounts SET display_name = $3, role = $4, scope = $5, password_hash = $6, \
             totp_secret = $7, totp_enrolled = $8, totp_last_step = $9, recovery_codes = $10, \
             throttle = $11, disabled = $12, version = version + 1 \
             WHERE username = $1 AND version = $2",
        )
        .bind(&account.username)
        .bind(account.version)
        .bind(&account.display_name)
        .bind(&account.role)
        .bind(&account.scope)
        .bind(&account.password_hash)
        .bind(secret)
        .bind(account.totp_enrolled)
        .bind(account.totp_last_step)
        .bind(&account.recovery_codes)
        .bind(&account.throttle)
        .bind(account.disabled)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        // No row: another save bumped the version first (or the account is gone).
        if saved.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    async fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError> {
        // Only the summary's columns: listing accounts opens no secret and needs no key.
        let rows = sqlx::query(
            "SELECT username, display_name, role, scope, totp_enrolled, disabled, created_at \
             FROM accounts ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter()
            .map(|row| {
                Ok(AccountSummary {
                    username: row.try_get("username")?,
                    display_name: row.try_get("display_name")?,
                    role: row.try_get("role")?,
                    scope: row.try_get("scope")?,
                    totp_enrolled: row.try_get("totp_enrolled")?,
                    disabled: row.try_get("disabled")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(unavailable)
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
            .execute(&self.pool)
            .await
            .map_err(constraint_or_unavailable)?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1");
        sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(|row| session_record(&row).map_err(unavailable))
            .transpose()
    }

    async fn update_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        // A session deleted meanwhile (sign-out elsewhere) stays deleted: zero rows is fine.
        sqlx::query(
            "UPDATE sessions SET username = $2, csrf_hash = $3, second_factor_done = $4, \
             created_at = $5, last_seen_at = $6 WHERE token_hash = $1",
        )
        .bind(&session.token_hash)
        .bind(&session.username)
        .bind(&session.csrf_hash)
        .bind(session.second_factor_done)
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn delete_sessions_of(&self, username: &str) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE username = $1")
            .bind(username)
            .execute(&self.pool)
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
            .bind(stored_rate_limit(client.rate_limit_per_minute))
            .bind(client.created_at)
            .bind(client.revoked_at)
            .execute(&self.pool)
            .await
            .map_err(constraint_or_unavailable)?;
        Ok(())
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1");
        sqlx::query(&sql)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(|row| client_record(&row))
            .transpose()
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY client_id");
        sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(client_record)
            .collect()
    }

    async fn revoke_client(&self, client_id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        // A client revoked twice keeps the time of its first revocation: that is when its
        // access ended, and what an auditor needs to see.
        let revoked = sqlx::query(
            "UPDATE clients SET revoked_at = COALESCE(revoked_at, $2) WHERE client_id = $1",
        )
        .bind(client_id)
        .bind(at)
        .execute(&self.pool)
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
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn token_revoked(&self, token_id: &str) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE token_id = $1)")
            .bind(token_id)
            .fetch_one(&self.pool)
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
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn agreements(&self) -> Result<Vec<AgreementRecord>, StoreError> {
        sqlx::query(
            "SELECT agency, reference, actions, region FROM agreements ORDER BY agency, reference",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?
        .iter()
        .map(agreement_record)
        .collect::<Result<_, _>>()
        .map_err(unavailable)
    }
}
