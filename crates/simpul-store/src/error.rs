//! Storage errors: the ones a caller acts on, and everything else.

use simpul_domain::RuleViolation;

/// Why a store operation failed.
///
/// `Rejected` and `Conflict` are the caller's to handle (they become 4xx answers);
/// `Unavailable` and `Corrupt` are ours (5xx, logged once with their cause chain).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The event at `index` of an append breaks a registry rule; nothing was written.
    #[error("event {index} refused: {violation}")]
    Rejected {
        index: usize,
        violation: RuleViolation,
    },
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
