//! What the store returns: read-model records, pages and queries.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use simpul_domain::{Address, KodeWilayah, NoKk, Resident, ResidentStatus, Sex};

/// A resident with the address of their family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ResidentRecord {
    #[serde(flatten)]
    pub resident: Resident,
    #[serde(rename = "alamat")]
    pub address: Address,
}

/// One line of a resident search: enough to pick the right person, no more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ResidentSummary {
    pub nik: simpul_domain::Nik,
    pub no_kk: NoKk,
    pub nama_lengkap: String,
    pub jenis_kelamin: Sex,
    pub tanggal_lahir: NaiveDate,
    pub kelurahan: KodeWilayah,
    pub status: ResidentStatus,
}

/// Resident search criteria; at least one must be given (the API enforces it).
#[derive(Debug, Clone, Default)]
pub struct ResidentQuery {
    /// Normalised name tokens that must all appear in the name.
    pub name_tokens: Vec<String>,
    pub birth_date: Option<NaiveDate>,
    /// A kelurahan, or any region containing kelurahan (kecamatan, city).
    pub region: Option<KodeWilayah>,
    pub offset: u64,
    pub limit: u32,
}

/// One page of results with the total count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// What an append wrote: the journal sequence numbers, in event order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendReceipt {
    pub sequences: Vec<u64>,
}

/// One journal entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// Position in the total order; gap-free, starting at 1.
    pub sequence: u64,
    /// CloudEvents `type`.
    pub event_type: String,
    /// CloudEvents `subject`: the kelurahan the event belongs to.
    pub subject: String,
    pub recorded_at: DateTime<Utc>,
    /// The event as JSON (see `RegistryEvent`'s serde encoding).
    pub data: serde_json::Value,
}

impl JournalEntry {
    /// The entry as a CloudEvents 1.0 event in the JSON format (structured mode): what the
    /// change feed, replication and the ledger hand to others. `id` is unique within the
    /// `source` (`simpul:<sequence>`); `data` is the opened event.
    pub fn to_cloudevent(&self) -> serde_json::Value {
        serde_json::json!({
            "specversion": "1.0",
            "id": format!("simpul:{}", self.sequence),
            "source": "/simpul/journal",
            "type": self.event_type,
            "subject": self.subject,
            "time": self.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "datacontenttype": "application/json",
            "sequence": self.sequence,
            "data": self.data,
        })
    }
}

/// Sizes of the registry, for seeding decisions and health pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RegistryCounts {
    pub regions: u64,
    pub residents: u64,
    pub families: u64,
    pub journal: u64,
}

/// A table whose rows hold a sealed value, for key rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedTable {
    Residents,
    Families,
    Journal,
    /// Operators' TOTP secrets (rows without one are skipped).
    Accounts,
    /// e-LAMPID submissions (the report and any rejection reason).
    Submissions,
}

impl SealedTable {
    pub const ALL: [SealedTable; 5] = [
        Self::Residents,
        Self::Families,
        Self::Journal,
        Self::Accounts,
        Self::Submissions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Residents => crate::rows::RESIDENTS,
            Self::Families => crate::rows::FAMILIES,
            Self::Journal => crate::rows::JOURNAL,
            Self::Accounts => crate::identity::ACCOUNTS,
            Self::Submissions => crate::lampid::SUBMISSIONS,
        }
    }

    /// The column rows are keyed and walked by; its value (as text) is also the row
    /// identity the sealed value is bound to.
    pub fn key_column(self) -> &'static str {
        match self {
            Self::Residents => "nik_index",
            Self::Families => "no_kk_index",
            Self::Journal => "sequence",
            Self::Accounts => "username",
            Self::Submissions => "tracking_code",
        }
    }

    /// The column holding the sealed value.
    pub fn sealed_column(self) -> &'static str {
        match self {
            Self::Residents | Self::Families => crate::rows::PII,
            Self::Journal => crate::rows::DATA,
            Self::Accounts => crate::identity::TOTP_SECRET,
            Self::Submissions => crate::lampid::SEALED,
        }
    }

    /// Whether the key is an integer (compared as a number, not as text).
    pub fn integer_key(self) -> bool {
        self == Self::Journal
    }
}

/// One step of a key rotation over a table: how many rows were looked at, how many were
/// sealed again, and the key to continue after (`None` when the table is done).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResealBatch {
    pub examined: u64,
    pub resealed: u64,
    pub last: Option<String>,
}
