//! The storage contract for the tamper-evident ledger, and what its leaves are.
//!
//! The ledger is one RFC 9162 Merkle log (see `simpul-ledger`) over one ordered sequence of
//! leaves: every journal event and every access-log entry, in the order the sealer
//! ([`crate::ledger_seal`]) read them. A leaf holds a reference and a digest, never personal
//! data, so the ledger can be handed to auditors and stays verifiable when personal data is
//! erased.
//!
//! # Leaf encoding (`simpul/ledger/v1`)
//!
//! The leaf's entry (the bytes hashed as `SHA-256(0x00 || entry)`) is one line of text:
//!
//! ```text
//! simpul/ledger/v1 <kind> <sequence> <digest as 64 lower-case hex digits>\n
//! ```
//!
//! | kind | sequence | digest |
//! |---|---|---|
//! | `journal` | the journal row's `sequence` | SHA-256 of the row as a CloudEvent ([`crate::JournalEntry::to_cloudevent`]) in canonical JSON: object members sorted by name, no whitespace |
//! | `akses` | the access-log entry's `sequence` | SHA-256 of [`crate::AccessEntry::canonical_json`] |
//!
//! A journal digest covers the opened event, not its sealed bytes, so rotating the data key
//! (which reseals every row) leaves the ledger valid; an agency that received the event
//! from the change feed can recompute the digest itself. Within each kind, sequences appear
//! in the ledger in order and without gaps.
//!
//! # What a store keeps
//!
//! - leaves: `(index, kind, sequence, digest)`;
//! - every complete Merkle node (`simpul_ledger::NodeId` → hash, leaves at level 0), written
//!   once, so a proof costs O(log n) reads at any size;
//! - signed checkpoints (C2SP `tlog-checkpoint` notes) and witnesses' cosignature lines.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use simpul_ledger::{
    Hash, NodeId, consistency_proof, consistency_proof_nodes, inclusion_proof,
    inclusion_proof_nodes,
};

use crate::{AccessEntry, JournalEntry, StoreError};

/// The tag that starts every leaf entry; a new encoding gets a new tag.
pub const LEAF_TAG: &str = "simpul/ledger/v1";

/// What a leaf records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeafKind {
    /// A journal row (a registry change).
    Journal,
    /// An access-log entry.
    Access,
}

impl LeafKind {
    /// The stable code used in the leaf entry and in storage.
    pub fn code(self) -> &'static str {
        match self {
            Self::Journal => "journal",
            Self::Access => "akses",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "journal" => Some(Self::Journal),
            "akses" => Some(Self::Access),
            _ => None,
        }
    }
}

/// One leaf of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafRecord {
    /// Position in the log, from 0.
    pub index: u64,
    pub kind: LeafKind,
    /// The source row's sequence number.
    pub sequence: u64,
    /// The source row's digest (see the module docs).
    pub digest: Hash,
}

impl LeafRecord {
    /// The bytes the leaf hash is computed over.
    pub fn entry(&self) -> String {
        format!(
            "{LEAF_TAG} {} {} {}\n",
            self.kind.code(),
            self.sequence,
            self.digest.to_hex()
        )
    }

    /// `SHA-256(0x00 || entry)`.
    pub fn leaf_hash(&self) -> Hash {
        simpul_ledger::leaf_hash(self.entry().as_bytes())
    }

    /// Parses an entry line back (used for exported bundles).
    pub fn parse_entry(index: u64, entry: &str) -> Option<Self> {
        let body = entry.strip_suffix('\n')?;
        let mut parts = body.split(' ');
        if parts.next()? != LEAF_TAG {
            return None;
        }
        let kind = LeafKind::from_code(parts.next()?)?;
        let sequence = parts.next()?.parse().ok()?;
        let digest = hash_from_hex(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        let leaf = Self {
            index,
            kind,
            sequence,
            digest,
        };
        // Only the one spelling: `+1` or leading zeros would hash differently.
        (leaf.entry() == entry).then_some(leaf)
    }
}

/// Parses 64 hex digits into a hash.
pub fn hash_from_hex(text: &str) -> Option<Hash> {
    if text.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(Hash::from(bytes))
}

/// The digest of a journal row: SHA-256 of its CloudEvent in canonical JSON.
pub fn journal_digest(entry: &JournalEntry) -> Hash {
    let text = canonical_json(&entry.to_cloudevent());
    Hash::from(<[u8; 32]>::from(Sha256::digest(text.as_bytes())))
}

/// The digest of an access-log entry: SHA-256 of its canonical JSON.
pub fn access_digest(entry: &AccessEntry) -> Hash {
    Hash::from(<[u8; 32]>::from(Sha256::digest(
        entry.canonical_json().as_bytes(),
    )))
}

/// JSON with object members sorted by name and no whitespace.
///
/// Written here rather than taken from a JCS crate because events hold only strings,
/// integers, booleans and nulls, for which sorting keys is the whole of RFC 8785; and
/// serde_json's own member order depends on a cargo feature another crate may switch on,
/// so it cannot be relied on for a digest.
pub fn canonical_json(value: &serde_json::Value) -> String {
    fn sorted(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut members: Vec<_> = map.iter().collect();
                members.sort_by(|a, b| a.0.cmp(b.0));
                serde_json::Value::Object(
                    members
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(sorted).collect())
            }
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// Where the ledger stands: its size and the last source row of each kind it holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerTip {
    pub size: u64,
    pub journal: u64,
    pub access: u64,
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    pub size: u64,
    pub root: Hash,
    /// The whole signed note, as served.
    pub note: String,
    pub at: DateTime<Utc>,
}

/// A witness's cosignature of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureRecord {
    pub size: u64,
    /// The witness key's name.
    pub witness: String,
    /// The signature line (`— <name> <base64>`), as it is added to the note.
    pub line: String,
    pub at: DateTime<Utc>,
}

/// How many rows the ledger tables hold (for verification and storage reports).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerCounts {
    pub leaves: u64,
    pub nodes: u64,
    pub checkpoints: u64,
}

/// The ledger's tables.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// The ledger's size and the last journal and access sequences in it.
    async fn ledger_tip(&self) -> Result<LedgerTip, StoreError>;
    /// Appends leaves (whose indexes continue the log) with the nodes they complete, in one
    /// transaction. [`StoreError::Conflict`] when another sealer appended first.
    async fn append_ledger(
        &self,
        leaves: &[LeafRecord],
        nodes: &[(NodeId, Hash)],
    ) -> Result<(), StoreError>;
    /// The stored nodes among `ids`.
    async fn ledger_nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError>;
    /// Leaves from `from`, in order.
    async fn ledger_leaves(&self, from: u64, limit: u32) -> Result<Vec<LeafRecord>, StoreError>;
    /// The leaf index of a source row, when it is in the ledger.
    async fn ledger_leaf_of(
        &self,
        kind: LeafKind,
        sequence: u64,
    ) -> Result<Option<u64>, StoreError>;
    /// Stores a checkpoint; storing one for a size already stored changes nothing.
    async fn add_checkpoint(&self, checkpoint: &CheckpointRecord) -> Result<(), StoreError>;
    /// The checkpoint with the largest size.
    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, StoreError>;
    /// Checkpoints with a size above `after`, smallest first.
    async fn checkpoints(
        &self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<CheckpointRecord>, StoreError>;
    /// Stores (or replaces) a witness's cosignature of a checkpoint.
    async fn add_cosignature(&self, cosignature: &CosignatureRecord) -> Result<(), StoreError>;
    /// The cosignatures of the checkpoint of `size`.
    async fn cosignatures(&self, size: u64) -> Result<Vec<CosignatureRecord>, StoreError>;
    /// Row counts of the ledger tables.
    async fn ledger_counts(&self) -> Result<LedgerCounts, StoreError>;
}

/// An inclusion proof for leaf `index` in the tree of `size` leaves, read from the stored
/// nodes in one query: what the API, exported bundles and the benchmark all hand out.
/// A leaf outside the tree or a node not stored is [`StoreError::Corrupt`]: callers check
/// the request first, and every node of a sealed size is stored.
pub async fn inclusion_path<S: LedgerStore + ?Sized>(
    store: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, StoreError> {
    let unprovable = |e: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!(
            "no inclusion proof of leaf {index} at size {size}: {e}"
        ))
    };
    let ids = inclusion_proof_nodes(index, size).map_err(|e| unprovable(&e))?;
    let nodes = store.ledger_nodes(&ids).await?;
    inclusion_proof(&nodes, index, size).map_err(|e| unprovable(&e))
}

/// A consistency proof between the trees of `from` and `to` leaves, read like
/// [`inclusion_path`].
pub async fn consistency_path<S: LedgerStore + ?Sized>(
    store: &S,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, StoreError> {
    let unprovable = |e: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!("no consistency proof from {from} to {to}: {e}"))
    };
    let ids = consistency_proof_nodes(from, to).map_err(|e| unprovable(&e))?;
    let nodes = store.ledger_nodes(&ids).await?;
    consistency_proof(&nodes, from, to).map_err(|e| unprovable(&e))
}
