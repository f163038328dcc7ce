//! Sealing with checkpoints: the access log is filled with synthetic entries (untimed),
//! then `seal_round` runs back to back until all of them are leaves, signing a checkpoint
//! after every round as the hub's sealer task does while it works off a backlog.
//!
//! In the same round and over the same leaves, one thread computes the references: the
//! entries' digests (`access_digest`), the leaf hashes alone (`LeafRecord::leaf_hash`, the
//! raw SHA-256 ceiling) and the in-memory tree (`Frontier::append`). The frontier starts
//! from the stored peaks, so its root must equal the signed checkpoint's: the sealed log
//! is checked, not only timed.

use std::time::Instant;

use anyhow::{Context, ensure};
use chrono::{DateTime, Utc};
use serde::Serialize;
use simpul_api::ledger::seal_round;
use simpul_store::ledger::access_digest;
use simpul_store::ledger_seal::{Sealer, load_frontier};
use simpul_store::{AccessRecord, LeafKind, LeafRecord, Store};

use super::storage::{LedgerBytes, Storage};

/// Entries per `append_access` call while filling the log.
const FILL_BATCH: u64 = 1_000;
/// Entries per read when the references read the log back.
const READ_BATCH: u32 = 5_000;

/// One timed sealing of `leaves` entries and its references.
#[derive(Debug, Clone, Serialize)]
pub struct AppendRun {
    pub round: usize,
    pub leaves: u64,
    /// The ledger's size before the round.
    pub size_before: u64,
    pub secs: f64,
    pub leaves_per_sec: f64,
    /// `seal_round` calls, each ending with a signed checkpoint.
    pub seal_rounds: u64,
    /// Checkpoints the store holds after the round, minus before.
    pub checkpoints: u64,
    /// Leaves per second of the references, in one thread.
    pub digest_per_sec: f64,
    pub leaf_hash_per_sec: f64,
    pub frontier_per_sec: f64,
    /// All three in sequence: the sealer's CPU work without the store.
    pub in_memory_per_sec: f64,
    /// Bytes the ledger's tables grew by, per leaf.
    pub bytes_per_leaf: Option<LedgerBytes>,
    /// What was done between filling and sealing (see [`Storage::settle`]).
    pub settled: String,
    /// SQLite's WAL file when the timed sealing ended (the store checkpoints it in the
    /// background, so this is what it could not keep up with).
    pub wal_bytes_after: Option<u64>,
}

impl AppendRun {
    pub fn ceiling_ratio(&self) -> f64 {
        self.leaves_per_sec / self.leaf_hash_per_sec
    }

    pub fn in_memory_ratio(&self) -> f64 {
        self.leaves_per_sec / self.in_memory_per_sec
    }
}

/// A synthetic access-log entry: a machine client's NIK verification naming one resident
/// by a made-up blind index. No personal data.
fn synthetic_access(number: u64, at: DateTime<Utc>) -> AccessRecord {
    let blind = simpul_ledger::leaf_hash(&number.to_le_bytes()).to_hex();
    AccessRecord {
        at,
        actor_kind: "klien".into(),
        actor: "bench-ledger".into(),
        role: "instansi".into(),
        action: "verify_nik".into(),
        purpose: Some("bench-ledger".into()),
        residents: vec![blind],
        fields: vec!["status_nik".into()],
        outcome: "allowed".into(),
        reason: None,
        network: Some("10.0.0.0/24".into()),
        request_id: format!("bench-ledger-{number}"),
    }
}

/// Seals whatever the log holds unsealed (untimed), so a round starts from a sealed log.
pub async fn catch_up(store: &dyn Store, sealer: &mut Sealer) -> anyhow::Result<u64> {
    let mut total = 0;
    loop {
        let added = seal_round(store, sealer).await?;
        if added == 0 {
            return Ok(total);
        }
        total += added;
    }
}

/// Fills, seals and checks one round of `leaves` entries.
pub async fn run_round(
    store: &dyn Store,
    storage: &Storage,
    sealer: &mut Sealer,
    round: usize,
    leaves: u64,
) -> anyhow::Result<AppendRun> {
    let pending = catch_up(store, sealer).await?;
    if pending > 0 {
        eprintln!("bench-ledger: sealed {pending} leaves that were pending before the round");
    }
    let tip = store.ledger_tip().await?;
    let checkpoints_before = store.ledger_counts().await?.checkpoints;
    let bytes_before = storage.ledger_bytes().await?;

    let at = simpul_store::now();
    let mut filled = 0;
    while filled < leaves {
        let batch: Vec<AccessRecord> = (filled..leaves.min(filled + FILL_BATCH))
            .map(|i| synthetic_access(tip.access + i + 1, at))
            .collect();
        store.append_access(&batch).await?;
        filled += batch.len() as u64;
    }
    // Filling is the access log's cost, not the sealer's: its pages leave the WAL before
    // the clock starts. The sealer's own writes are checkpointed by the store as it goes.
    let settled = storage.settle().await;

    let started = Instant::now();
    let mut sealed = 0;
    let mut seal_rounds = 0;
    while sealed < leaves {
        let added = seal_round(store, sealer).await?;
        seal_rounds += 1;
        ensure!(
            added > 0,
            "the sealer stopped after {sealed} of {leaves} leaves"
        );
        sealed += added;
    }
    let secs = started.elapsed().as_secs_f64();
    let wal_bytes_after = storage.wal_bytes();

    let after = store.ledger_tip().await?;
    ensure!(
        after.size == tip.size + leaves,
        "the ledger grew by {} leaves, {leaves} expected",
        after.size - tip.size
    );
    let checkpoint = store
        .latest_checkpoint()
        .await?
        .context("no checkpoint after sealing")?;
    ensure!(
        checkpoint.size == after.size,
        "the last checkpoint is of size {}, the ledger's is {}",
        checkpoint.size,
        after.size
    );
    let checkpoints = store.ledger_counts().await?.checkpoints - checkpoints_before;
    let bytes_after = storage.ledger_bytes().await?;
    let bytes_per_leaf = bytes_before
        .zip(bytes_after)
        .map(|(before, after)| after.minus(&before).per(leaves));

    let references = references(store, tip.size, tip.access, leaves).await?;
    ensure!(
        references.root == checkpoint.root,
        "the frontier over the same leaves does not reach the signed root"
    );
    Ok(AppendRun {
        round,
        leaves,
        size_before: tip.size,
        secs,
        leaves_per_sec: leaves as f64 / secs,
        seal_rounds,
        checkpoints,
        digest_per_sec: leaves as f64 / references.digest_secs,
        leaf_hash_per_sec: leaves as f64 / references.leaf_hash_secs,
        frontier_per_sec: leaves as f64 / references.frontier_secs,
        in_memory_per_sec: leaves as f64
            / (references.digest_secs + references.leaf_hash_secs + references.frontier_secs),
        bytes_per_leaf,
        settled,
        wal_bytes_after,
    })
}

struct References {
    digest_secs: f64,
    leaf_hash_secs: f64,
    frontier_secs: f64,
    root: simpul_ledger::Hash,
}

/// Reads the round's entries back and times the in-memory work over them.
async fn references(
    store: &dyn Store,
    first_index: u64,
    after_access: u64,
    leaves: u64,
) -> anyhow::Result<References> {
    let mut records = Vec::with_capacity(usize::try_from(leaves)?);
    let mut digest_secs = 0.0;
    let mut after = after_access;
    while (records.len() as u64) < leaves {
        let entries = store.access_after(after, READ_BATCH).await?;
        ensure!(!entries.is_empty(), "the access log ended early");
        let at = Instant::now();
        let digests: Vec<_> = entries.iter().map(access_digest).collect();
        digest_secs += at.elapsed().as_secs_f64();
        for (entry, digest) in entries.iter().zip(digests) {
            if records.len() as u64 == leaves {
                break;
            }
            records.push(LeafRecord {
                index: first_index + records.len() as u64,
                kind: LeafKind::Access,
                sequence: entry.sequence,
                digest,
            });
            after = entry.sequence;
        }
    }

    let at = Instant::now();
    let hashes: Vec<_> = records.iter().map(LeafRecord::leaf_hash).collect();
    let leaf_hash_secs = at.elapsed().as_secs_f64();

    let mut frontier = load_frontier(store, first_index).await?;
    let at = Instant::now();
    for hash in &hashes {
        frontier.append(*hash)?;
    }
    let root = frontier.root();
    let frontier_secs = at.elapsed().as_secs_f64();
    Ok(References {
        digest_secs,
        leaf_hash_secs,
        frontier_secs,
        root,
    })
}
