//! Offline verification of a store's ledger: what `simpul ledger verify` runs against a
//! database, with no hub running and nothing trusted but the log's public key.
//!
//! It streams the leaves in order and, for each one, reads the source row it names (the
//! journal row or the access-log entry), recomputes the digest, recomputes the leaf hash and
//! every node the leaf completes and compares them with the stored nodes; at every stored
//! checkpoint's size it compares the recomputed root with the checkpoint, whose signature
//! it checks first. Afterwards no source row may be left outside the ledger, and no stored
//! node outside the recomputed tree. The first difference found is returned as a
//! [`LedgerFault`] naming the entry, so a modified, deleted, inserted or reordered row in
//! the journal, the access log or the ledger tables is reported where it is.
//!
//! Checking every checkpoint's root against one recomputed tree is stronger than checking
//! consistency proofs between them: it shows every checkpoint is a prefix of the same log.

use std::collections::VecDeque;

use simpul_ledger::{Frontier, Hash, NodeId, NoteVerifier, verify_checkpoint};

use crate::ledger::{CheckpointRecord, LeafKind, LeafRecord, access_digest, journal_digest};
use crate::{Store, StoreError};

/// Leaves read per round trip.
const BATCH: u32 = 2_000;

/// The first thing found wrong with a ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerFault {
    #[error("ledger leaf {index} is missing (the leaves jump to {found})")]
    LeafMissing { index: u64, found: u64 },
    #[error(
        "ledger leaf {index} names {kind} row {found}, but the next {kind} row in the ledger must be {expected} (rows removed, inserted or reordered)"
    )]
    LeafOutOfOrder {
        index: u64,
        kind: &'static str,
        expected: u64,
        found: u64,
    },
    #[error("{kind} row {sequence} (ledger leaf {index}) is missing: deleted or renumbered")]
    SourceMissing {
        index: u64,
        kind: &'static str,
        sequence: u64,
    },
    #[error(
        "{kind} row {sequence} does not match ledger leaf {index}: the row or the leaf was modified"
    )]
    SourceModified {
        index: u64,
        kind: &'static str,
        sequence: u64,
    },
    #[error(
        "the {kind} row after {after} cannot be read: modified, moved or sealed with another key ({error})"
    )]
    SourceUnreadable {
        kind: &'static str,
        after: u64,
        error: StoreError,
    },
    #[error(
        "{kind} row {sequence} is not in the ledger: inserted after sealing, or written while no hub was running to seal it (start the hub, then verify again)"
    )]
    NotInLedger { kind: &'static str, sequence: u64 },
    #[error("ledger node (level {level}, index {index}) is missing")]
    NodeMissing { level: u8, index: u64 },
    #[error("ledger node (level {level}, index {index}) was modified")]
    NodeModified { level: u8, index: u64 },
    #[error("the ledger holds {found} nodes where its {leaves} leaves make {expected}")]
    ExtraNodes {
        leaves: u64,
        expected: u64,
        found: u64,
    },
    #[error("checkpoint of size {size}: the signature does not verify with the log key ({reason})")]
    CheckpointSignature { size: u64, reason: String },
    #[error("checkpoint of size {size}: its stored size or root differs from the signed note")]
    CheckpointMismatch { size: u64 },
    #[error("checkpoint of size {size} does not match the ledger's leaves (root differs)")]
    CheckpointRoot { size: u64 },
    #[error("checkpoint of size {size} is larger than the ledger ({leaves} leaves)")]
    CheckpointBeyondLog { size: u64, leaves: u64 },
    #[error("the ledger could not be read: {0}")]
    Store(#[from] StoreError),
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub leaves: u64,
    pub journal_rows: u64,
    pub access_rows: u64,
    pub nodes: u64,
    pub checkpoints: u64,
    /// The recomputed root of the whole ledger.
    pub root: Hash,
}

/// Rows of one source, read ahead in order.
struct SourceCursor {
    kind: LeafKind,
    /// The last sequence consumed.
    last: u64,
    ahead: VecDeque<(u64, Hash)>,
}

impl SourceCursor {
    fn new(kind: LeafKind) -> Self {
        Self {
            kind,
            last: 0,
            ahead: VecDeque::new(),
        }
    }

    async fn fill(&mut self, store: &dyn Store, wanted: u32) -> Result<(), LedgerFault> {
        if wanted == 0 || self.ahead.len() >= wanted as usize {
            return Ok(());
        }
        let after = self.ahead.back().map_or(self.last, |(seq, _)| *seq);
        if let Ok(rows) = self.read(store, after, wanted).await {
            self.ahead.extend(rows);
            return Ok(());
        }
        // A batch fails as a whole when one row does not open: read row by row to name it.
        let mut after = after;
        for _ in 0..wanted {
            match self.read(store, after, 1).await {
                Ok(rows) => match rows.first() {
                    Some(&(sequence, digest)) => {
                        self.ahead.push_back((sequence, digest));
                        after = sequence;
                    }
                    None => break,
                },
                Err(error) => {
                    return Err(LedgerFault::SourceUnreadable {
                        kind: self.kind.code(),
                        after,
                        error,
                    });
                }
            }
        }
        Ok(())
    }

    async fn read(
        &self,
        store: &dyn Store,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, Hash)>, StoreError> {
        Ok(match self.kind {
            LeafKind::Journal => store
                .journal_after(after, limit)
                .await?
                .iter()
                .map(|row| (row.sequence, journal_digest(row)))
                .collect(),
            LeafKind::Access => store
                .access_after(after, limit)
                .await?
                .iter()
                .map(|entry| (entry.sequence, access_digest(entry)))
                .collect(),
        })
    }

    /// Checks the next row of this source against `leaf`.
    fn check(&mut self, leaf: &LeafRecord) -> Result<(), LedgerFault> {
        let kind = self.kind.code();
        if leaf.sequence != self.last + 1 {
            return Err(LedgerFault::LeafOutOfOrder {
                index: leaf.index,
                kind,
                expected: self.last + 1,
                found: leaf.sequence,
            });
        }
        let missing = LedgerFault::SourceMissing {
            index: leaf.index,
            kind,
            sequence: leaf.sequence,
        };
        let Some((sequence, digest)) = self.ahead.pop_front() else {
            return Err(missing);
        };
        if sequence != leaf.sequence {
            return Err(missing);
        }
        if digest != leaf.digest {
            return Err(LedgerFault::SourceModified {
                index: leaf.index,
                kind,
                sequence,
            });
        }
        self.last = sequence;
        Ok(())
    }
}

/// Verifies the whole ledger of `store` against the log key (see the module docs).
pub async fn verify_store(
    store: &dyn Store,
    log_key: &NoteVerifier,
) -> Result<VerifyReport, LedgerFault> {
    let checkpoints = checked_checkpoints(store, log_key).await?;
    let mut pending_checkpoints = checkpoints.iter().peekable();
    let mut journal = SourceCursor::new(LeafKind::Journal);
    let mut access = SourceCursor::new(LeafKind::Access);
    let mut frontier = Frontier::new();
    let mut nodes = 0u64;
    loop {
        let leaves = store.ledger_leaves(frontier.size(), BATCH).await?;
        if leaves.is_empty() {
            break;
        }
        let wanted = |kind| leaves.iter().filter(|l| l.kind == kind).count() as u32;
        journal.fill(store, wanted(LeafKind::Journal)).await?;
        access.fill(store, wanted(LeafKind::Access)).await?;
        let mut produced: Vec<(NodeId, Hash)> = Vec::with_capacity(leaves.len() * 2);
        for leaf in &leaves {
            if leaf.index != frontier.size() {
                return Err(LedgerFault::LeafMissing {
                    index: frontier.size(),
                    found: leaf.index,
                });
            }
            match leaf.kind {
                LeafKind::Journal => journal.check(leaf)?,
                LeafKind::Access => access.check(leaf)?,
            }
            frontier
                .append_with(leaf.leaf_hash(), |id, hash| produced.push((id, *hash)))
                .map_err(|e| StoreError::Corrupt(format!("ledger cannot grow: {e}")))?;
            while let Some(checkpoint) = pending_checkpoints.next_if(|c| c.size == frontier.size())
            {
                if checkpoint.root != frontier.root() {
                    return Err(LedgerFault::CheckpointRoot {
                        size: checkpoint.size,
                    });
                }
            }
        }
        compare_nodes(store, &produced).await?;
        nodes += produced.len() as u64;
    }
    if let Some(checkpoint) = pending_checkpoints.next() {
        return Err(LedgerFault::CheckpointBeyondLog {
            size: checkpoint.size,
            leaves: frontier.size(),
        });
    }
    for cursor in [&mut journal, &mut access] {
        cursor.fill(store, 1).await?;
        if let Some((sequence, _)) = cursor.ahead.front() {
            return Err(LedgerFault::NotInLedger {
                kind: cursor.kind.code(),
                sequence: *sequence,
            });
        }
    }
    let counts = store.ledger_counts().await?;
    // Every stored leaf was read in order above (a gap is `LeafMissing`); only nodes can
    // be stored outside the recomputed tree.
    if counts.nodes != nodes {
        return Err(LedgerFault::ExtraNodes {
            leaves: frontier.size(),
            expected: nodes,
            found: counts.nodes,
        });
    }
    Ok(VerifyReport {
        leaves: frontier.size(),
        journal_rows: journal.last,
        access_rows: access.last,
        nodes,
        checkpoints: checkpoints.len() as u64,
        root: frontier.root(),
    })
}

/// Every stored checkpoint, its signature checked and its row matching its note.
async fn checked_checkpoints(
    store: &dyn Store,
    log_key: &NoteVerifier,
) -> Result<Vec<CheckpointRecord>, LedgerFault> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = store.checkpoints(after, BATCH).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.size);
        for record in page {
            let signed =
                verify_checkpoint(&record.note, std::slice::from_ref(log_key)).map_err(|e| {
                    LedgerFault::CheckpointSignature {
                        size: record.size,
                        reason: e.to_string(),
                    }
                })?;
            if signed.size() != record.size || *signed.root() != record.root {
                return Err(LedgerFault::CheckpointMismatch { size: record.size });
            }
            all.push(record);
        }
    }
    Ok(all)
}

async fn compare_nodes(store: &dyn Store, produced: &[(NodeId, Hash)]) -> Result<(), LedgerFault> {
    let ids: Vec<NodeId> = produced.iter().map(|(id, _)| *id).collect();
    let stored = store.ledger_nodes(&ids).await?;
    for (id, hash) in produced {
        match stored.get(id) {
            None => {
                return Err(LedgerFault::NodeMissing {
                    level: id.level,
                    index: id.index,
                });
            }
            Some(found) if found != hash => {
                return Err(LedgerFault::NodeModified {
                    level: id.level,
                    index: id.index,
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}
