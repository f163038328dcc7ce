//! The storage contract for the trail: the access log and suspicious-access alerts.
//!
//! # The access log (`simpul.access.v1`)
//!
//! An append-only, totally ordered stream (gap-free `sequence` from 1, like the journal),
//! written before the response it describes is sent. One entry per request that reads
//! personal data or is refused, and one per sign-in attempt. Its encoding is stable,
//! because the tamper-evident ledger hashes it: [`AccessEntry::canonical_json`] is the
//! entry as a JSON object with exactly these members, in this order, and no whitespace:
//!
//! | member | meaning |
//! |---|---|
//! | `v` | `1` |
//! | `seq` | the sequence number |
//! | `at` | RFC 3339 UTC time with microseconds |
//! | `actor_kind` | `akun` (operator account) or `klien` (machine client) or `anonim` |
//! | `actor` | user name or client id (`-` when unknown) |
//! | `role` | role code, or `-` |
//! | `action` | `Action::code()`, or `sign_in` |
//! | `purpose` | the purpose stated with the request (`tujuan`), or null |
//! | `residents` | blind indexes (hex) of the residents whose data was returned |
//! | `fields` | names of the personal fields returned |
//! | `outcome` | `allowed`, `denied`, `not_found`, `failed` |
//! | `reason` | a stable code when not allowed, or null |
//! | `network` | the client's network (`/24` or `/48`), or null |
//! | `request_id` | the request's id (also in the response header) |
//!
//! No entry holds a name, a NIK or any other personal value: residents appear only as blind
//! indexes, so the log can be handed to auditors and the ledger.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// An access-log entry before it is given its sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessRecord {
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub purpose: Option<String>,
    pub residents: Vec<String>,
    pub fields: Vec<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub network: Option<String>,
    pub request_id: String,
}

/// An access-log entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccessEntry {
    pub sequence: u64,
    #[serde(flatten)]
    pub record: AccessRecord,
}

impl AccessEntry {
    /// The entry's stable encoding (see the module docs). A struct, not a `json!` map, so
    /// the members keep their documented order.
    pub fn canonical_json(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            v: u8,
            seq: u64,
            at: String,
            actor_kind: &'a str,
            actor: &'a str,
            role: &'a str,
            action: &'a str,
            purpose: Option<&'a str>,
            residents: &'a [String],
            fields: &'a [String],
            outcome: &'a str,
            reason: Option<&'a str>,
            network: Option<&'a str>,
            request_id: &'a str,
        }
        let r = &self.record;
        let canonical = Canonical {
            v: 1,
            seq: self.sequence,
            at: r.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            actor_kind: &r.actor_kind,
            actor: &r.actor,
            role: &r.role,
            action: &r.action,
            purpose: r.purpose.as_deref(),
            residents: &r.residents,
            fields: &r.fields,
            outcome: &r.outcome,
            reason: r.reason.as_deref(),
            network: r.network.as_deref(),
            request_id: &r.request_id,
        };
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_string(&canonical).unwrap_or_default()
    }
}

/// A suspicious-access alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AlertRecord {
    /// Assigned by the store; 0 before it is stored.
    pub id: u64,
    /// The rule's stable code.
    pub rule: String,
    /// What it is about: an account, an actor or a network.
    pub subject: String,
    pub at: DateTime<Utc>,
    /// Counts and thresholds; never personal data.
    pub detail: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// The access log and alerts.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends entries in order, durably, returning their sequence numbers.
    async fn append_access(&self, records: &[AccessRecord]) -> Result<Vec<u64>, StoreError>;
    /// Entries with a sequence greater than `after`, oldest first.
    async fn access_after(&self, after: u64, limit: u32) -> Result<Vec<AccessEntry>, StoreError>;
    /// Entries naming the resident with this blind index, oldest first.
    async fn access_to_resident(
        &self,
        resident_index: &str,
        limit: u32,
    ) -> Result<Vec<AccessEntry>, StoreError>;

    /// Stores alerts, returning them with their ids.
    async fn raise_alerts(&self, alerts: &[AlertRecord]) -> Result<Vec<AlertRecord>, StoreError>;
    /// Alerts, newest first; only unacknowledged ones when `open_only`.
    async fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<AlertRecord>, StoreError>;
    /// Acknowledges an alert; false when there is no such alert or it was acknowledged.
    async fn acknowledge_alert(
        &self,
        id: u64,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}
