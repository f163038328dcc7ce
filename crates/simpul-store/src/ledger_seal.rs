//! The sealer: appends what the journal and the access log gained to the ledger, and signs
//! checkpoints of it.
//!
//! One pass reads the rows after the ledger's tip from each source, turns them into leaves
//! (journal rows first, then access entries, each in sequence order), computes the nodes
//! they complete and stores all of it in one transaction. The hub runs passes in a loop
//! (see `simpul-api`'s ledger task); the frontier (the O(log n) append state) is kept in
//! memory between passes and reloaded from the stored peaks after a failure, so a pass
//! never reads old leaves.
//!
//! Two sealers on one database (two hubs on one PostgreSQL) are safe: a leaf index is a
//! primary key, so the slower one's append fails with [`StoreError::Conflict`] and it
//! reloads before its next pass.

use chrono::{DateTime, Utc};
use simpul_ledger::{Checkpoint, Frontier, Hash, NodeId, NoteSigner, peak_nodes, sign_checkpoint};

use crate::ledger::{
    CheckpointRecord, LeafKind, LeafRecord, LedgerTip, access_digest, journal_digest,
};
use crate::{Store, StoreError};

/// Reads the stored peaks of the ledger back into a frontier.
pub async fn load_frontier(store: &dyn Store, size: u64) -> Result<Frontier, StoreError> {
    let ids: Vec<NodeId> = peak_nodes(size).collect();
    let stored = store.ledger_nodes(&ids).await?;
    let peaks = ids
        .iter()
        .map(|id| {
            stored.get(id).copied().ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "ledger node (level {}, index {}) is missing",
                    id.level, id.index
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Frontier::from_peaks(size, peaks)
        .map_err(|e| StoreError::Corrupt(format!("ledger peaks do not fit its size: {e}")))
}

/// The sealer's state between passes.
pub struct Sealer {
    origin: String,
    signer: NoteSigner,
    state: Option<(LedgerTip, Frontier)>,
    last_checkpoint: Option<u64>,
}

impl Sealer {
    /// A sealer that signs checkpoints for the log named `origin` with `signer`.
    pub fn new(origin: impl Into<String>, signer: NoteSigner) -> Self {
        Self {
            origin: origin.into(),
            signer,
            state: None,
            last_checkpoint: None,
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Appends up to `batch` new rows of each source; returns how many leaves it added.
    pub async fn seal_pending(&mut self, store: &dyn Store, batch: u32) -> Result<u64, StoreError> {
        let (tip, frontier) = match self.state.take() {
            Some(state) => state,
            None => {
                let tip = store.ledger_tip().await?;
                let frontier = load_frontier(store, tip.size).await?;
                (tip, frontier)
            }
        };
        let journal = store.journal_after(tip.journal, batch).await;
        let access = store.access_after(tip.access, batch).await;
        let (journal, access) = match (journal, access) {
            (Ok(journal), Ok(access)) => (journal, access),
            (Err(error), _) | (_, Err(error)) => {
                self.state = Some((tip, frontier));
                return Err(error);
            }
        };
        if journal.is_empty() && access.is_empty() {
            self.state = Some((tip, frontier));
            return Ok(0);
        }
        let mut next_tip = tip;
        let mut next_frontier = frontier.clone();
        let mut leaves = Vec::with_capacity(journal.len() + access.len());
        let sources = journal
            .iter()
            .map(|row| (LeafKind::Journal, row.sequence, journal_digest(row)))
            .chain(
                access
                    .iter()
                    .map(|entry| (LeafKind::Access, entry.sequence, access_digest(entry))),
            );
        let mut nodes: Vec<(NodeId, Hash)> = Vec::with_capacity(2 * leaves.capacity());
        for (kind, sequence, digest) in sources {
            let leaf = LeafRecord {
                index: next_tip.size,
                kind,
                sequence,
                digest,
            };
            next_frontier
                .append_with(leaf.leaf_hash(), |id, hash| nodes.push((id, *hash)))
                .map_err(|e| StoreError::Corrupt(format!("ledger cannot grow: {e}")))?;
            next_tip.size += 1;
            match kind {
                LeafKind::Journal => next_tip.journal = sequence,
                LeafKind::Access => next_tip.access = sequence,
            }
            leaves.push(leaf);
        }
        match store.append_ledger(&leaves, &nodes).await {
            Ok(()) => {
                self.state = Some((next_tip, next_frontier));
                Ok(leaves.len() as u64)
            }
            // Leave `state` empty: the next pass reloads what the store now holds.
            Err(error) => Err(error),
        }
    }

    /// Signs and stores a checkpoint when the ledger grew since the last one; returns it.
    pub async fn checkpoint(
        &mut self,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> Result<Option<CheckpointRecord>, StoreError> {
        let Some((tip, frontier)) = &self.state else {
            return Ok(None);
        };
        let (size, root) = (tip.size, frontier.root());
        if self.last_checkpoint.is_none() {
            self.last_checkpoint = store.latest_checkpoint().await?.map(|c| c.size);
        }
        if size == 0 || self.last_checkpoint.is_some_and(|last| last >= size) {
            return Ok(None);
        }
        let checkpoint = Checkpoint::new(self.origin.clone(), size, root)
            .map_err(|e| StoreError::Corrupt(format!("checkpoint: {e}")))?;
        let note = sign_checkpoint(&checkpoint, &self.signer)
            .map_err(|e| StoreError::Corrupt(format!("checkpoint not signed: {e}")))?;
        let record = CheckpointRecord {
            size,
            root,
            note,
            at: now,
        };
        store.add_checkpoint(&record).await?;
        self.last_checkpoint = Some(size);
        Ok(Some(record))
    }
}
