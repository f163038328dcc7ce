//! [`AuditStore`] on SQLite: the access log (gap-free sequence, with its per-resident
//! index) and suspicious-access alerts.
//!
//! Appends take the writer with `BEGIN IMMEDIATE` and number entries `MAX + 1` inside that
//! transaction, the way the journal does: with one writer nothing can take a number in
//! between, and a failed append leaves no hole.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use simpul_store::{AccessEntry, AccessRecord, AlertRecord, AuditStore, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::rows::{column, in_range};
use crate::{INSERT_CHUNK, SqliteStore, unavailable};

const ACCESS_LOG: &str = "access_log";
const ALERTS: &str = "alerts";

const ACCESS_COLUMNS: &str = "sequence, at, actor_kind, actor, role, action, purpose, residents, \
     fields, outcome, reason, network, request_id";
const ALERT_COLUMNS: &str = "id, rule, subject, at, detail, acknowledged_by, acknowledged_at";

/// A cursor from a caller as SQLite's signed integer; nothing is stored past `i64::MAX`,
/// so the largest value selects the same (empty) set.
fn as_key(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn text_list(values: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(values)
        .map_err(|e| StoreError::Corrupt(format!("list not encodable ({:?})", e.classify())))
}

fn stored_list(row: &SqliteRow, name: &str) -> Result<Vec<String>, StoreError> {
    let text: String = column(row, ACCESS_LOG, name)?;
    serde_json::from_str(&text).map_err(|e| {
        StoreError::Corrupt(format!(
            "{ACCESS_LOG}.{name} is not a list of text ({:?})",
            e.classify()
        ))
    })
}

fn access_entry(row: &SqliteRow) -> Result<AccessEntry, StoreError> {
    let sequence: i64 = column(row, ACCESS_LOG, "sequence")?;
    Ok(AccessEntry {
        sequence: in_range(sequence, ACCESS_LOG, "sequence")?,
        record: AccessRecord {
            at: column(row, ACCESS_LOG, "at")?,
            actor_kind: column(row, ACCESS_LOG, "actor_kind")?,
            actor: column(row, ACCESS_LOG, "actor")?,
            role: column(row, ACCESS_LOG, "role")?,
            action: column(row, ACCESS_LOG, "action")?,
            purpose: column(row, ACCESS_LOG, "purpose")?,
            residents: stored_list(row, "residents")?,
            fields: stored_list(row, "fields")?,
            outcome: column(row, ACCESS_LOG, "outcome")?,
            reason: column(row, ACCESS_LOG, "reason")?,
            network: column(row, ACCESS_LOG, "network")?,
            request_id: column(row, ACCESS_LOG, "request_id")?,
        },
    })
}

fn alert_record(row: &SqliteRow) -> Result<AlertRecord, StoreError> {
    let id: i64 = column(row, ALERTS, "id")?;
    Ok(AlertRecord {
        id: in_range(id, ALERTS, "id")?,
        rule: column(row, ALERTS, "rule")?,
        subject: column(row, ALERTS, "subject")?,
        at: column(row, ALERTS, "at")?,
        detail: column(row, ALERTS, "detail")?,
        acknowledged_by: column(row, ALERTS, "acknowledged_by")?,
        acknowledged_at: column(row, ALERTS, "acknowledged_at")?,
    })
}

async fn insert_entries(
    conn: &mut SqliteConnection,
    first: i64,
    records: &[AccessRecord],
) -> Result<(), StoreError> {
    let lists = records
        .iter()
        .map(|r| Ok((text_list(&r.residents)?, text_list(&r.fields)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let numbered: Vec<_> = (first..).zip(records.iter().zip(&lists)).collect();
    // 13 columns a row: a chunk stays under SQLite's bound-parameter limit.
    for chunk in numbered.chunks(INSERT_CHUNK) {
        let mut insert =
            QueryBuilder::<Sqlite>::new(format!("INSERT INTO access_log ({ACCESS_COLUMNS}) "));
        insert.push_values(chunk, |mut b, (sequence, (r, (residents, fields)))| {
            b.push_bind(*sequence)
                .push_bind(r.at)
                .push_bind(&r.actor_kind)
                .push_bind(&r.actor)
                .push_bind(&r.role)
                .push_bind(&r.action)
                .push_bind(&r.purpose)
                .push_bind(residents)
                .push_bind(fields)
                .push_bind(&r.outcome)
                .push_bind(&r.reason)
                .push_bind(&r.network)
                .push_bind(&r.request_id);
        });
        insert
            .build()
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_access(&self, records: &[AccessRecord]) -> Result<Vec<u64>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self
            .write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(unavailable)?;
        let first: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(sequence), 0) + 1 FROM access_log")
                .fetch_one(&mut *tx)
                .await
                .map_err(unavailable)?;
        insert_entries(&mut tx, first, records).await?;
        tx.commit().await.map_err(unavailable)?;
        (first..)
            .take(records.len())
            .map(|sequence| in_range(sequence, ACCESS_LOG, "sequence"))
            .collect()
    }

    async fn access_after(&self, after: u64, limit: u32) -> Result<Vec<AccessEntry>, StoreError> {
        let sql = format!(
            "SELECT {ACCESS_COLUMNS} FROM access_log WHERE sequence > $1 ORDER BY sequence LIMIT $2"
        );
        sqlx::query(&sql)
            .bind(as_key(after))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
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
            "SELECT {ACCESS_COLUMNS} FROM access_log WHERE EXISTS \
             (SELECT 1 FROM json_each(access_log.residents) WHERE value = $1) \
             ORDER BY sequence LIMIT $2"
        );
        sqlx::query(&sql)
            .bind(resident_index)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(unavailable)?
            .iter()
            .map(access_entry)
            .collect()
    }

    async fn raise_alerts(&self, alerts: &[AlertRecord]) -> Result<Vec<AlertRecord>, StoreError> {
        if alerts.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self
            .write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(unavailable)?;
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
            raised.push(AlertRecord {
                id: in_range(id, ALERTS, "id")?,
                ..alert.clone()
            });
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(raised)
    }

    async fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<AlertRecord>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE ($1 = 0 OR acknowledged_at IS NULL) \
             ORDER BY id DESC LIMIT $2"
        );
        sqlx::query(&sql)
            .bind(open_only)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
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
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        // Only an open alert: the first acknowledgement, its author and time, stands.
        let acknowledged = sqlx::query(
            "UPDATE alerts SET acknowledged_by = $1, acknowledged_at = $2 \
             WHERE id = $3 AND acknowledged_at IS NULL",
        )
        .bind(by)
        .bind(at)
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(unavailable)?;
        Ok(acknowledged.rows_affected() > 0)
    }
}
