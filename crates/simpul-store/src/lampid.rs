//! e-LAMPID submissions as stored: the commands that change them, the read model's rows,
//! and what queues and service levels read.

use chrono::{DateTime, Utc};
use serde::Serialize;
use simpul_domain::KodeWilayah;
use simpul_domain::access::RoleKind;
use simpul_domain::lampid::{LampidPayload, Submission, TrackingCode, Transition};

use crate::StoreError;
use crate::vault::Vault;

/// Table and column the sealed submission is bound to.
pub const SUBMISSIONS: &str = "submissions";
pub const SEALED: &str = "sealed";

/// The submission columns in the order every backend selects them.
pub const SUBMISSION_COLUMNS: &str = "tracking_code, kelurahan, kecamatan, kind, state, \
     version, sealed, idempotency_key, created_at, state_since, submitted_at, verified_at, \
     registered_at, document";

/// A change someone asks for. The authorization gate has already allowed the action in
/// the submission's kelurahan; the store checks the workflow and the registry.
#[derive(Debug, Clone)]
pub enum LampidCommand {
    /// A kelurahan operator enters a report; with `submit` it is submitted at once.
    Create {
        kelurahan: KodeWilayah,
        payload: LampidPayload,
        actor: String,
        /// Scoped to the actor: a retried create with the same key returns the first.
        idempotency_key: Option<String>,
        submit: bool,
    },
    /// The operator replaces the report of a draft or rejected submission.
    Amend {
        tracking_code: TrackingCode,
        payload: LampidPayload,
        version: u64,
        actor: String,
        role: RoleKind,
    },
    /// A workflow step (submit, verify, register, reject, resubmit).
    Step {
        tracking_code: TrackingCode,
        transition: Transition,
        version: u64,
        actor: String,
        role: RoleKind,
    },
}

/// What a command led to.
#[derive(Debug, Clone)]
pub struct LampidOutcome {
    pub submission: SubmissionRecord,
    /// False when an idempotent retry returned an earlier submission unchanged.
    pub created: bool,
}

/// A submission with its service-level times, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SubmissionRecord {
    #[serde(flatten)]
    pub submission: Submission,
    #[serde(rename = "waktu")]
    pub times: SubmissionTimes,
    /// The document registration issued.
    #[serde(rename = "nomor_dokumen", skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// When a submission was created and reached each level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SubmissionTimes {
    #[serde(rename = "dibuat")]
    pub created: DateTime<Utc>,
    /// Since when it has been in its current state.
    #[serde(rename = "status_sejak")]
    pub state_since: DateTime<Utc>,
    /// First submitted (the end-to-end clock starts here).
    #[serde(rename = "diajukan", skip_serializing_if = "Option::is_none")]
    pub submitted: Option<DateTime<Utc>>,
    #[serde(rename = "diverifikasi", skip_serializing_if = "Option::is_none")]
    pub verified: Option<DateTime<Utc>>,
    #[serde(rename = "tercatat", skip_serializing_if = "Option::is_none")]
    pub registered: Option<DateTime<Utc>>,
}

/// One `submissions` row.
#[derive(Debug, Clone)]
pub struct SubmissionRow {
    pub tracking_code: String,
    pub kelurahan: String,
    pub kecamatan: String,
    pub kind: String,
    pub state: String,
    pub version: i64,
    /// Sealed [`Submission`] (the report and a rejection's reason may name a person).
    pub sealed: String,
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub state_since: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub registered_at: Option<DateTime<Utc>>,
    pub document: Option<String>,
}

impl SubmissionRow {
    /// The row for `record`, sealed with `vault`.
    pub fn from_record(
        record: &SubmissionRecord,
        idempotency_key: Option<String>,
        vault: &Vault,
    ) -> Result<Self, StoreError> {
        let s = &record.submission;
        let code = s.tracking_code().as_str().to_owned();
        Ok(Self {
            sealed: vault.seal_json(SUBMISSIONS, SEALED, &code, s)?,
            tracking_code: code,
            kelurahan: s.kelurahan().as_str().to_owned(),
            kecamatan: s.kelurahan().parent().map(String::from).unwrap_or_default(),
            kind: s.payload().kind().to_owned(),
            state: s.state().code().to_owned(),
            version: i64::try_from(s.version())
                .map_err(|_| StoreError::Corrupt("submission version out of range".into()))?,
            idempotency_key,
            created_at: record.times.created,
            state_since: record.times.state_since,
            submitted_at: record.times.submitted,
            verified_at: record.times.verified,
            registered_at: record.times.registered,
            document: record.document.clone(),
        })
    }

    /// The record, opened with `vault`.
    pub fn into_record(self, vault: &Vault) -> Result<SubmissionRecord, StoreError> {
        let submission: Submission =
            vault.open_json(SUBMISSIONS, SEALED, &self.tracking_code, &self.sealed)?;
        if submission.tracking_code().as_str() != self.tracking_code {
            return Err(StoreError::Corrupt(
                "submission row and content differ".into(),
            ));
        }
        Ok(SubmissionRecord {
            submission,
            times: SubmissionTimes {
                created: self.created_at,
                state_since: self.state_since,
                submitted: self.submitted_at,
                verified: self.verified_at,
                registered: self.registered_at,
            },
            document: self.document,
        })
    }
}

/// One line of a queue: enough to pick the item, no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    pub kode_lacak: String,
    pub kelurahan: String,
    /// `kelahiran`, `kematian`, `pindah` or `datang`.
    pub jenis: String,
    pub status: String,
    pub versi: i64,
    pub status_sejak: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diajukan: Option<DateTime<Utc>>,
}

/// Which queue to list.
#[derive(Debug, Clone)]
pub struct QueueQuery {
    /// `diajukan` (the kecamatan's queue), `diverifikasi` (Dukcapil's), `ditolak` or `draf`
    /// (the kelurahan's).
    pub state: String,
    /// Only items in this region (any level).
    pub region: Option<KodeWilayah>,
    pub limit: u32,
}

/// A registered submission's times, for service-level statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSample {
    pub submitted_at: DateTime<Utc>,
    pub verified_at: DateTime<Utc>,
    pub registered_at: DateTime<Utc>,
}

/// A statistics counter as stored: per region (any level), dimension and key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CounterValue {
    pub region: String,
    pub key: String,
    pub count: i64,
}

/// One counter's change, for a backend to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterRow {
    pub region: String,
    /// The region above (empty for a province), so a region's children are one range.
    pub parent: String,
    pub dimension: &'static str,
    pub key: String,
    pub delta: i64,
}

/// One issued document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    pub number: String,
    pub kind: String,
    pub tracking_code: String,
    pub issued_at: DateTime<Utc>,
}

/// Pending submissions in one state and kecamatan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PendingCount {
    pub status: String,
    pub kecamatan: String,
    pub jumlah: i64,
    /// Of those, first submitted longer ago than the service-level target.
    pub terlambat: i64,
}
