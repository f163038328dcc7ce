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

/// Sizes of the registry, for seeding decisions and health pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RegistryCounts {
    pub regions: u64,
    pub residents: u64,
    pub families: u64,
    pub journal: u64,
}
