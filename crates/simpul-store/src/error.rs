//! Storage errors: the ones a caller acts on, and everything else.

use simpul_domain::RuleViolation;
use simpul_domain::lampid::{LampidError, RegistrationError, WorkflowError};

/// Why a store operation failed.
///
/// `Rejected`, `Invalid`, `Workflow`, `Registration`, `NotFound`, `IdempotencyMismatch`
/// and `Conflict` are the caller's to handle (they become 4xx answers);
/// `Unavailable` and `Corrupt` are ours (5xx, logged once with their cause chain).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The event at `index` of an append breaks a registry rule; nothing was written.
    #[error("event {index} refused: {violation}")]
    Rejected {
        index: usize,
        violation: RuleViolation,
    },
    /// An e-LAMPID report does not fit the registry (the field at fault is named).
    #[error("report refused: {0}")]
    Invalid(LampidError),
    /// A workflow step that is not possible now, not this role's, or on an old version.
    #[error("workflow step refused: {0}")]
    Workflow(WorkflowError),
    /// Registration could not issue its numbers.
    #[error("registration refused: {0}")]
    Registration(RegistrationError),
    /// The submission named does not exist.
    #[error("no such submission")]
    NotFound,
    /// An idempotency key reused for a different report.
    #[error("idempotency key already used for another report")]
    IdempotencyMismatch,
    /// A concurrent write got there first (a unique key the rules had just checked).
    #[error("conflicting concurrent write")]
    Conflict,
    /// The database could not be reached or failed the statement.
    #[error("database unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The keys given do not fit this database (another blind key, a data key missing
    /// from the ring). Never quotes key material.
    #[error("keys do not fit: {0}")]
    Keys(String),
    /// A stored row no longer parses into a domain value.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(error))
    }
}
