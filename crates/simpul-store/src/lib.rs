//! The storage contract every backend implements.
//!
//! The [`Store`] trait is the only way the rest of simpul reads or changes persistent state.
//! Writes happen only through [`Store::append`]: each registry event is checked by the
//! domain's rules against facts read inside the same transaction, appended to the journal,
//! and applied to the read models (residents, families, name index), all in one commit.
//!
//! # Layout
//! - [`error`]: [`StoreError`], split into what a caller acts on and the rest.
//! - [`model`]: the read-model shapes the trait returns (records, pages, queries).
//! - [`write`]: the one write path (load, check and apply, rows out), e-LAMPID commands and
//!   the rebuild from the journal, over a backend's [`write::RegistryTx`].
//! - [`decide`]: journal rows and their encoding.
//! - [`lampid`]: submissions, queues, service levels and counters as stored.
//! - [`identity`]: accounts, sessions, machine clients, revoked tokens, agreements.
//! - [`audit`]: the access log (`simpul.access.v1`) and suspicious-access alerts.
//! - [`ledger`]: the tamper-evident ledger's tables and leaf encoding; [`ledger_seal`]
//!   appends the journal and the access log to it and signs checkpoints; [`ledger_verify`]
//!   recomputes and checks all of it offline; [`ledger_bundle`] exports a range with proofs
//!   for auditors.
//! - [`rows`]: plain row shapes shared by the backends, sealed and blinded.
//! - [`vault`]: the keys personal data is sealed and indexed with.
//! - [`contract`]: the contract test suite, written once, run by every backend.

pub mod audit;
pub mod contract;
mod contract_identity;
mod contract_lampid;
mod contract_ledger;
pub mod decide;
pub mod error;
pub mod identity;
pub mod lampid;
pub mod ledger;
pub mod ledger_bundle;
pub mod ledger_seal;
pub mod ledger_verify;
pub mod model;
pub mod rows;
pub mod vault;
pub mod write;

use async_trait::async_trait;
use simpul_domain::lampid::TrackingCode;
use simpul_domain::statistics::Dimension;
use simpul_domain::verification::VerificationRecord;
use simpul_domain::wilayah::Region;
use simpul_domain::{Family, KodeWilayah, Nik, NoKk, RegistryEvent};

pub use audit::{AccessEntry, AccessRecord, AlertRecord, AuditStore};
pub use error::StoreError;
pub use identity::{
    AccountRecord, AccountSummary, AgreementRecord, ClientRecord, IdentityStore, SessionRecord,
};
pub use lampid::{
    CounterValue, LampidCommand, LampidOutcome, PendingCount, QueueItem, QueueQuery, ServiceSample,
    SubmissionRecord,
};
pub use ledger::{
    CheckpointRecord, CosignatureRecord, LeafKind, LeafRecord, LedgerCounts, LedgerStore, LedgerTip,
};
pub use model::*;
pub use vault::{KeySource, Vault, VaultKeys};

/// Persistent state of one hub. Implementations: SQLite (embedded) and PostgreSQL.
///
/// Every finder returns `Ok(None)` only when the row does not exist; an unreachable or
/// failing database is always an `Err`, so an outage is never shown as "not found".
#[async_trait]
pub trait Store: IdentityStore + AuditStore + LedgerStore + Send + Sync + 'static {
    /// Cheap round trip proving the database answers (readiness).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Inserts the region master data, replacing names of codes already present.
    async fn load_regions(&self, regions: &[Region]) -> Result<u64, StoreError>;
    async fn region(&self, code: &KodeWilayah) -> Result<Option<Region>, StoreError>;
    /// Regions one level below `code`, ordered by code.
    async fn region_children(&self, code: &KodeWilayah) -> Result<Vec<Region>, StoreError>;
    /// Regions whose name contains `query` (case-insensitive), ordered by level then code.
    async fn search_regions(&self, query: &str, limit: u32) -> Result<Vec<Region>, StoreError>;

    /// Checks and appends events in order, atomically: either all are journaled and applied,
    /// or none is and the first refused one is reported as [`StoreError::Rejected`].
    async fn append(&self, events: &[RegistryEvent]) -> Result<AppendReceipt, StoreError>;

    /// Journal entries with a sequence number greater than `after`, oldest first.
    async fn journal_after(&self, after: u64, limit: u32) -> Result<Vec<JournalEntry>, StoreError>;

    async fn resident(&self, nik: &Nik) -> Result<Option<ResidentRecord>, StoreError>;
    /// The family card with its living members; `None` when no card has this number or
    /// all its members died or moved away.
    async fn family(&self, no_kk: &NoKk) -> Result<Option<Family>, StoreError>;
    async fn search_residents(
        &self,
        query: &ResidentQuery,
    ) -> Result<Page<ResidentSummary>, StoreError>;

    /// The verification view of each NIK that has a record; NIKs without one are absent.
    async fn verification_records(
        &self,
        niks: &[Nik],
    ) -> Result<std::collections::HashMap<Nik, VerificationRecord>, StoreError>;

    async fn counts(&self) -> Result<RegistryCounts, StoreError>;

    /// Seals again, under the active data key, the values of up to `limit` rows of `table`
    /// after the row key `after` (in key order) that another key sealed. Each row is
    /// updated only if its value is still the one read, so a concurrent write wins.
    async fn reseal(
        &self,
        table: SealedTable,
        after: Option<String>,
        limit: u32,
    ) -> Result<ResealBatch, StoreError>;

    /// Runs an e-LAMPID command in one transaction (see [`write::run_lampid`]).
    async fn lampid(&self, command: LampidCommand) -> Result<LampidOutcome, StoreError>;
    async fn submission(
        &self,
        tracking_code: &TrackingCode,
    ) -> Result<Option<SubmissionRecord>, StoreError>;
    /// Submissions in a state, oldest in that state first.
    async fn queue(&self, query: &QueueQuery) -> Result<Vec<QueueItem>, StoreError>;
    /// Pending submissions (submitted or verified) per state and kecamatan, counting as
    /// overdue those first submitted before `overdue_before`.
    async fn pending(
        &self,
        overdue_before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<PendingCount>, StoreError>;
    /// Times of the submissions registered since `since`.
    async fn service_samples(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ServiceSample>, StoreError>;
    /// A region's own counters of one dimension.
    async fn counters(
        &self,
        region: &KodeWilayah,
        dimension: Dimension,
    ) -> Result<Vec<CounterValue>, StoreError>;
    /// The counters of one dimension of every region directly below `region`.
    async fn child_counters(
        &self,
        region: &KodeWilayah,
        dimension: Dimension,
    ) -> Result<Vec<CounterValue>, StoreError>;
    /// Empties every read model and rebuilds it from the journal alone, in one transaction.
    /// Returns the events replayed.
    async fn rebuild(&self) -> Result<u64, StoreError>;
}

/// The current time at the precision every backend keeps (microseconds), so a value
/// written and read back compares equal on all of them.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Walks every sealed table once, resealing what an older data key sealed, in batches of
/// `batch` rows (each its own short transaction, so the hub keeps serving). Returns the
/// rows resealed.
pub async fn reseal_all(
    store: &dyn Store,
    batch: u32,
    mut progress: impl FnMut(SealedTable, &ResealBatch),
) -> Result<u64, StoreError> {
    let mut total = 0;
    for table in SealedTable::ALL {
        let mut after = None;
        loop {
            let step = store.reseal(table, after, batch).await?;
            total += step.resealed;
            progress(table, &step);
            match step.last {
                Some(last) => after = Some(last),
                None => break,
            }
        }
    }
    Ok(total)
}
