//! What every handler shares: the store and its vault, the security settings, the gate's
//! state, the coalesced verification reads, and the request limits.

use std::sync::Arc;

use simpul_store::{Store, Vault};

use crate::auth::gate::GateState;
use crate::auth::log_writer::AccessLogWriter;
use crate::auth::quota::Quotas;
use crate::auth::security::Security;
use crate::coalesce::VerificationReads;

/// Bounds on what one request may ask for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body. A batch of 10,000 claims is about 1.5 MB of JSON.
    pub max_body_bytes: usize,
    /// Most claims in one batch verification.
    pub max_batch_claims: usize,
    /// Most rows in one page of search results.
    pub max_page_size: u32,
    /// The e-LAMPID service-level target, first submission to registration, in minutes:
    /// older pending items are flagged overdue.
    pub service_target_minutes: u32,
}

impl Limits {
    /// [`Self::service_target_minutes`] as a duration.
    pub fn service_target(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.service_target_minutes))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 4 * 1024 * 1024,
            max_batch_claims: 10_000,
            max_page_size: 100,
            service_target_minutes: 120,
        }
    }
}

/// Shared by every handler through axum's `State`.
#[derive(Clone)]
pub struct AppState {
    /// The registry; handlers see only the trait, never a backend.
    pub store: Arc<dyn Store>,
    /// Request bounds, checked by the extractors and handlers.
    pub limits: Limits,
    /// Single verifications, coalesced into shared store reads.
    pub verification_reads: VerificationReads,
    /// The keys the store seals with; the access log names residents by its blind index.
    pub vault: Arc<Vault>,
    /// Token keys, session and sign-in policies.
    pub security: Arc<Security>,
    /// Agreements cache and suspicious-access rules.
    pub gate: Arc<GateState>,
    /// Per-caller request quotas.
    pub quotas: Arc<Quotas>,
    /// Access-log entries, group-committed.
    pub access_log: AccessLogWriter,
    /// Bearer tokens recently verified.
    pub tokens: Arc<crate::auth::TokenCache>,
    /// The ledger's origin, public key and accepted witnesses.
    pub ledger: Arc<crate::ledger::LedgerConfig>,
}

impl AppState {
    /// Wraps `store`; starts the verification workers on the current tokio runtime.
    pub fn new(
        store: Arc<dyn Store>,
        vault: Arc<Vault>,
        security: Security,
        watch: simpul_watch::Watch,
        limits: Limits,
        ledger: crate::ledger::LedgerConfig,
    ) -> Self {
        Self {
            verification_reads: VerificationReads::start(store.clone()),
            access_log: AccessLogWriter::start(store.clone()),
            store,
            limits,
            vault,
            security: Arc::new(security),
            gate: Arc::new(GateState::new(watch)),
            quotas: Arc::new(Quotas::default()),
            tokens: Arc::default(),
            ledger: Arc::new(ledger),
        }
    }
}
