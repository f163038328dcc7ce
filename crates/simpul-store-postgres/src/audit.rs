//! [`AuditStore`] on PostgreSQL: the access log (`simpul.access.v1`) and suspicious-access
//! alerts.
//!
//! The access log is numbered like the journal: gap-free from 1, `MAX + 1` read under a
//! transaction-scoped advisory lock, so concurrent appends queue instead of clashing and a
//! rolled-back append leaves no hole. The lock has a key of its own, so logging an access
//! never waits on a registry append, nor the other way round.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use simpul_store::{AccessEntry, AccessRecord, AlertRecord, AuditStore, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::{PostgresStore, unavailable};

/// The advisory lock key every access-log append takes ("simpula" in ASCII: the append
/// lock's "simpul" plus "a" for access). Distinct from the journal's `APPEND_LOCK` and the
/// blind-key `STAMP_LOCK`.
const ACCESS_LOCK: i64 = 0x73_696d_7075_6c61;

const ACCESS_COLUMNS: &str = "sequence, at, actor_kind, actor, role, action, purpose, \
     residents, fields, outcome, reason, network, request_id";

const ALERT_COLUMNS: &str = "id, rule, subject, at, detail, acknowledged_by, acknowledged_at";

fn sequence_of(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| StoreError::Corrupt("negative access-log sequence".into()))
}

fn access_entry(row: &PgRow) -> Result<AccessEntry, StoreError> {
    let get = |e: sqlx::Error| StoreError::unavailable(e);
    Ok(AccessEntry {
        sequence: sequence_of(row.try_get("sequence").map_err(get)?)?,
        record: AccessRecord {
            at: row.try_get("at").map_err(get)?,
            actor_kind: row.try_get("actor_kind").map_err(get)?,
            actor: row.try_get("actor").map_err(get)?,
            role: row.try_get("role").map_err(get)?,
            action: row.try_get("action").map_err(get)?,
            purpose: row.try_get("purpose").map_err(get)?,
            residents: row.try_get("residents").map_err(get)?,
            fields: row.try_get("fields").map_err(get)?,
            outcome: row.try_get("outcome").map_err(get)?,
            reason: row.try_get("reason").map_err(get)?,
            network: row.try_get("network").map_err(get)?,
            request_id: row.try_get("request_id").map_err(get)?,
        },
    })
}

fn alert_record(row: &PgRow) -> Result<AlertRecord, StoreError> {
    let get = |e: sqlx::Error| StoreError::unavailable(e);
    let id: i64 = row.try_get("id").map_err(get)?;
    Ok(AlertRecord {
        id: u64::try_from(id).map_err(|_| StoreError::Corrupt("negative alert id".into()))?,
        rule: row.try_get("rule").map_err(get)?,
        subject: row.try_get("subject").map_err(get)?,
        at: row.try_get("at").map_err(get)?,
        detail: row.try_get("detail").map_err(get)?,
        acknowledged_by: row.try_get("acknowledged_by").map_err(get)?,
        acknowledged_at: row.try_get("acknowledged_at").map_err(get)?,
    })
}

/// One array per column of `records`, for binding to `UNNEST`.
fn column<'a, U>(records: &'a [AccessRecord], field: impl Fn(&'a AccessRecord) -> U) -> Vec<U> {
    records.iter().map(field).collect()
}

/// Inserts `records` numbered from `first`, in one statement whatever their number.
///
/// `UNNEST` cannot take an array of arrays of different lengths, so each entry's
/// `residents` and `fields` travel as one JSON text and become `TEXT[]` in the database,
/// in their order (the ledger hashes them as listed).
async fn insert_entries(
    conn: &mut PgConnection,
    first: i64,
    records: &[AccessRecord],
) -> Result<(), StoreError> {
    let json = |list: &Vec<String>| serde_json::Value::from(list.clone()).to_string();
    let sequences: Vec<i64> = (first..).take(records.len()).collect();
    let sql = format!(
        "INSERT INTO access_log ({ACCESS_COLUMNS}) \
         SELECT s, at, actor_kind, actor, role, action, purpose, \
           ARRAY(SELECT v FROM jsonb_array_elements_text(residents::jsonb) \
             WITH ORDINALITY AS r(v, n) ORDER BY n), \
           ARRAY(SELECT v FROM jsonb_array_elements_text(fields::jsonb) \
             WITH ORDINALITY AS f(v, n) ORDER BY n), \
           outcome, reason, network, request_id \
         FROM UNNEST($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], \
           $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
           $12::text[], $13::text[]) \
         AS e(s, at, actor_kind, actor, role, action, purpose, residents, fields, outcome, \
           reason, network, request_id)"
    );
    sqlx::query(&sql)
        .bind(&sequences)
        .bind(column(records, |r| r.at))
        .bind(column(records, |r| r.actor_kind.as_str()))
        .bind(column(records, |r| r.actor.as_str()))
        .bind(column(records, |r| r.role.as_str()))
        .bind(column(records, |r| r.action.as_str()))
        .bind(column(records, |r| r.purpose.as_deref()))
        .bind(column(records, |r| json(&r.residents)))
        .bind(column(records, |r| json(&r.fields)))
        .bind(column(records, |r| r.outcome.as_str()))
        .bind(column(records, |r| r.reason.as_deref()))
        .bind(column(records, |r| r.network.as_deref()))
        .bind(column(records, |r| r.request_id.as_str()))
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    Ok(())
}

#[async_trait]
impl AuditStore for PostgresStore {
    #[tracing::instrument(skip_all, fields(entries = records.len()))]
    async fn append_access(&self, records: &[AccessRecord]) -> Result<Vec<u64>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(ACCESS_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        // Read after the lock: under READ COMMITTED this statement sees every append that
        // committed before ours took the lock.
        let first: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(sequence), 0) + 1 FROM access_log")
                .fetch_one(&mut *tx)
                .await
                .map_err(unavailable)?;
        insert_entries(&mut tx, first, records).await?;
        tx.commit().await.map_err(unavailable)?;
        let first = sequence_of(first)?;
        Ok((first..).take(records.len()).collect())
    }

    async fn access_after(&self, after: u64, limit: u32) -> Result<Vec<AccessEntry>, StoreError> {
        // A cursor beyond i64 is beyond every stored sequence: nothing follows it.
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {ACCESS_COLUMNS} FROM access_log WHERE sequence > $1 \
             ORDER BY sequence LIMIT $2"
        );
        sqlx::query(&sql)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(access_entry)
            .collect()
    }

    async fn access_to_resident(
        &self,
        resident_index: &str,
        limit: u32,
    ) -> Result<Vec<AccessEntry>, StoreError> {
        let sql = format!(
            "SELECT {ACCESS_COLUMNS} FROM access_log WHERE $1 = ANY(residents) \
             ORDER BY sequence LIMIT $2"
        );
        sqlx::query(&sql)
            .bind(resident_index)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(access_entry)
            .collect()
    }

    async fn raise_alerts(&self, alerts: &[AlertRecord]) -> Result<Vec<AlertRecord>, StoreError> {
        // One INSERT ... RETURNING per alert, in one transaction: PostgreSQL does not promise
        // that a multi-row RETURNING lists rows in input order, and alerts are few.
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let mut raised = Vec::with_capacity(alerts.len());
        for alert in alerts {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO alerts (rule, subject, at, detail, acknowledged_by, acknowledged_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(&alert.rule)
            .bind(&alert.subject)
            .bind(alert.at)
            .bind(&alert.detail)
            .bind(&alert.acknowledged_by)
            .bind(alert.acknowledged_at)
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable)?;
            let id =
                u64::try_from(id).map_err(|_| StoreError::Corrupt("negative alert id".into()))?;
            raised.push(AlertRecord {
                id,
                ..alert.clone()
            });
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(raised)
    }

    async fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<AlertRecord>, StoreError> {
        // Two fixed statements rather than one with `$1 OR ...`: each gets a plan of its own,
        // and the open one can walk the `alerts_open` index.
        let filter = if open_only {
            " WHERE acknowledged_at IS NULL"
        } else {
            ""
        };
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts{filter} ORDER BY id DESC LIMIT $1");
        sqlx::query(&sql)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(alert_record)
            .collect()
    }

    async fn acknowledge_alert(
        &self,
        id: u64,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // An id beyond i64 was never assigned.
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        let acknowledged = sqlx::query(
            "UPDATE alerts SET acknowledged_by = $2, acknowledged_at = $3 \
             WHERE id = $1 AND acknowledged_at IS NULL",
        )
        .bind(id)
        .bind(by)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(acknowledged.rows_affected() > 0)
    }
}
