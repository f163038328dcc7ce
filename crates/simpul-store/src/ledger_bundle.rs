//! Exported proof bundles: a range of ledger entries with everything an auditor needs to
//! check them against the log's public key alone, with no access to the hub or its
//! database.
//!
//! A bundle (JSON, `"format": "simpul-ledger-bundle/v1"`) holds one signed checkpoint and,
//! for each leaf in the range, its entry line (see [`crate::ledger`]), its inclusion proof
//! against that checkpoint, and for access-log leaves the entry's canonical JSON, so the
//! auditor also sees who read what, when and why, and that the digest matches. Journal
//! events are not included: they carry personal data.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use simpul_ledger::{Hash, NoteVerifier, verify_checkpoint, verify_inclusion};

use crate::ledger::{LeafKind, LeafRecord, access_digest, inclusion_path};
use crate::{Store, StoreError};

/// The format tag; another layout gets another tag.
pub const BUNDLE_FORMAT: &str = "simpul-ledger-bundle/v1";

/// Most leaves one bundle holds (about 1 KB each with its proof).
pub const MAX_BUNDLE_LEAVES: u64 = 100_000;

/// A self-contained proof bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    /// The signed checkpoint every proof is against.
    pub checkpoint: String,
    pub entries: Vec<BundleEntry>,
}

/// One leaf of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleEntry {
    pub leaf_index: u64,
    /// The leaf's entry line, exactly as hashed.
    pub entry: String,
    /// For access-log leaves: the entry's canonical JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub akses: Option<String>,
    /// Base64 hashes from the leaf up.
    pub inclusion_path: Vec<String>,
}

/// Why a bundle could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the ledger has no checkpoint yet")]
    NoCheckpoint,
    #[error(
        "leaves {from}..{to} are not a range within the latest checkpoint (size {size}), or hold more than {MAX_BUNDLE_LEAVES}"
    )]
    BadRange { from: u64, to: u64, size: u64 },
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Exports leaves `from..to` with proofs against the latest checkpoint.
pub async fn export_bundle(store: &dyn Store, from: u64, to: u64) -> Result<Bundle, ExportError> {
    let checkpoint = store
        .latest_checkpoint()
        .await?
        .ok_or(ExportError::NoCheckpoint)?;
    let size = checkpoint.size;
    if from >= to || to > size || to - from > MAX_BUNDLE_LEAVES {
        return Err(ExportError::BadRange { from, to, size });
    }
    let mut entries = Vec::with_capacity((to - from) as usize);
    let mut next = from;
    while next < to {
        let limit = u32::try_from((to - next).min(1_000)).unwrap_or(1_000);
        let leaves = store.ledger_leaves(next, limit).await?;
        let Some(last) = leaves.last() else {
            return Err(StoreError::Corrupt(format!("ledger leaf {next} is missing")).into());
        };
        next = last.index + 1;
        let access = access_canonical(store, &leaves).await?;
        for leaf in &leaves {
            let path = inclusion_path(store, leaf.index, size).await?;
            entries.push(BundleEntry {
                leaf_index: leaf.index,
                entry: leaf.entry(),
                akses: access
                    .iter()
                    .find(|(sequence, _)| {
                        leaf.kind == LeafKind::Access && *sequence == leaf.sequence
                    })
                    .map(|(_, text)| text.clone()),
                inclusion_path: path.iter().map(Hash::to_base64).collect(),
            });
        }
    }
    Ok(Bundle {
        format: BUNDLE_FORMAT.to_owned(),
        checkpoint: checkpoint.note,
        entries,
    })
}

/// The canonical JSON of the access entries these leaves name, checked against the leaves.
async fn access_canonical(
    store: &dyn Store,
    leaves: &[LeafRecord],
) -> Result<Vec<(u64, String)>, StoreError> {
    let sequences: Vec<u64> = leaves
        .iter()
        .filter(|l| l.kind == LeafKind::Access)
        .map(|l| l.sequence)
        .collect();
    let (Some(first), Some(last)) = (sequences.first(), sequences.last()) else {
        return Ok(Vec::new());
    };
    let limit = u32::try_from(last - first + 1).unwrap_or(u32::MAX);
    let entries = store.access_after(first - 1, limit).await?;
    Ok(entries
        .iter()
        .filter(|entry| {
            leaves.iter().any(|l| {
                l.kind == LeafKind::Access
                    && l.sequence == entry.sequence
                    && l.digest == access_digest(entry)
            })
        })
        .map(|entry| (entry.sequence, entry.canonical_json()))
        .collect())
}

/// What a verified bundle covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    pub origin: String,
    pub tree_size: u64,
    pub entries: u64,
    pub access_entries: u64,
}

/// Why a bundle does not verify.
#[derive(Debug, thiserror::Error)]
pub enum BundleFault {
    #[error("not a {BUNDLE_FORMAT} bundle (format {0:?})")]
    Format(String),
    #[error("the checkpoint does not verify with the log key: {0}")]
    Checkpoint(String),
    #[error(
        "entry {position} is leaf {leaf} where the range needs leaf {expected}: entries removed, added or reordered"
    )]
    NotARange {
        position: usize,
        leaf: u64,
        expected: u64,
    },
    #[error("entry {position} (leaf {leaf}): the entry line is malformed")]
    Entry { position: usize, leaf: u64 },
    #[error("entry {position} (leaf {leaf}): the access record does not match the leaf's digest")]
    AccessMismatch { position: usize, leaf: u64 },
    #[error("entry {position} (leaf {leaf}): the inclusion proof does not verify: {reason}")]
    Inclusion {
        position: usize,
        leaf: u64,
        reason: String,
    },
}

/// Verifies a bundle with nothing but the log's public key: a contiguous range of leaves,
/// each in the checkpoint's tree.
pub fn verify_bundle(bundle: &Bundle, log_key: &NoteVerifier) -> Result<BundleReport, BundleFault> {
    if bundle.format != BUNDLE_FORMAT {
        return Err(BundleFault::Format(bundle.format.clone()));
    }
    let checkpoint = verify_checkpoint(&bundle.checkpoint, std::slice::from_ref(log_key))
        .map_err(|e| BundleFault::Checkpoint(e.to_string()))?;
    let mut access_entries = 0;
    let first = bundle.entries.first().map_or(0, |e| e.leaf_index);
    for (position, item) in bundle.entries.iter().enumerate() {
        let leaf = item.leaf_index;
        let expected = first.saturating_add(position as u64);
        if leaf != expected {
            return Err(BundleFault::NotARange {
                position,
                leaf,
                expected,
            });
        }
        let record = LeafRecord::parse_entry(leaf, &item.entry)
            .ok_or(BundleFault::Entry { position, leaf })?;
        if let Some(canonical) = &item.akses {
            let digest = Hash::from(<[u8; 32]>::from(Sha256::digest(canonical.as_bytes())));
            if record.kind != LeafKind::Access || digest != record.digest {
                return Err(BundleFault::AccessMismatch { position, leaf });
            }
            access_entries += 1;
        }
        let path = item
            .inclusion_path
            .iter()
            .map(|h| Hash::from_base64(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BundleFault::Inclusion {
                position,
                leaf,
                reason: e.to_string(),
            })?;
        verify_inclusion(
            &record.leaf_hash(),
            leaf,
            checkpoint.size(),
            &path,
            checkpoint.root(),
        )
        .map_err(|e| BundleFault::Inclusion {
            position,
            leaf,
            reason: e.to_string(),
        })?;
    }
    Ok(BundleReport {
        origin: checkpoint.origin().to_owned(),
        tree_size: checkpoint.size(),
        entries: bundle.entries.len() as u64,
        access_entries,
    })
}
