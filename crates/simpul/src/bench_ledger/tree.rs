//! The synthetic log behind the proof measurements: a tree of any size written straight
//! into a SQLite database's `ledger_nodes` table, every level in key order, with memory
//! bounded by a few chunks whatever the size.
//!
//! Sealing 100 million leaves through the store would take hours of durable commits and
//! measure nothing the append phase does not already measure; proofs only read nodes. So
//! one blocking task hashes the synthetic leaves and feeds them to a
//! [`simpul_ledger::Frontier`], which reports every node it completes: exactly the nodes
//! the sealer stores. Level-0 hashes go to the database as they come; higher levels go to
//! one scratch file each (32 bytes a node, in index order) and are copied into the table
//! after level 0. Every level is thus inserted in ascending `(level, node_index)` order,
//! which appends to the B-tree's right edge instead of splitting pages in its middle, and
//! hashing (on one core) overlaps with SQLite's writing (on the other).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use anyhow::{Context, ensure};
use simpul_ledger::{Frontier, HASH_LEN, Hash, NodeId};
use simpul_store::{LeafKind, LeafRecord};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection};

/// Nodes per INSERT statement (one bound blob of `CHUNK * 32` bytes).
pub const CHUNK: usize = 4096;
/// Rows per transaction: large, since the build needs no durability until it ends.
const ROWS_PER_TRANSACTION: u64 = 1 << 20;
/// Level-0 chunks the hashing task may run ahead of the writer.
const CHANNEL_DEPTH: usize = 16;

/// One row per `node_index` from `?2` on: `?3` holds the hashes back to back, `?4` how many.
/// A recursive CTE spreads one bound blob over the rows, so a chunk costs one bind rather
/// than three per row.
const INSERT_NODES: &str = "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?4) \
     INSERT INTO ledger_nodes (level, node_index, hash) \
     SELECT ?1, ?2 + i, substr(?3, i * 32 + 1, 32) FROM k";

/// Leaf `index` of the synthetic log: an access-log entry whose digest stands in for the
/// SHA-256 of its canonical JSON (here `SHA-256(0x00 || index as 8 big-endian bytes)`),
/// so any leaf's hash can be recomputed from its index alone.
pub fn synthetic_leaf(index: u64) -> LeafRecord {
    LeafRecord {
        index,
        kind: LeafKind::Access,
        sequence: index + 1,
        digest: simpul_ledger::leaf_hash(&index.to_be_bytes()),
    }
}

/// What [`build_nodes`] wrote.
#[derive(Debug, Clone)]
pub struct Built {
    pub root: Hash,
    /// Rows written to `ledger_nodes`.
    pub nodes: u64,
    pub secs: f64,
}

/// Opens a database (whose tables the store's migrations created, and which no other
/// connection holds) for the bulk load: no rollback journal and no syncs. A crash during
/// the build leaves a corrupt file, which is thrown away anyway.
pub async fn open_bulk(path: &Path) -> anyhow::Result<SqliteConnection> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off)
        .pragma("locking_mode", "EXCLUSIVE")
        .pragma("cache_size", "-262144");
    SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("opening {} for the bulk load", path.display()))
}

/// Hands the file back in the store's WAL mode, then closes the connection.
pub async fn close_bulk(mut conn: SqliteConnection) -> anyhow::Result<()> {
    sqlx::query("PRAGMA journal_mode = WAL")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// Writes every complete node of the synthetic log of `size` leaves into `ledger_nodes`
/// (empty beforehand), `chunk` nodes per statement; `scratch` holds the per-level files
/// while they are needed.
pub async fn build_nodes(
    conn: &mut SqliteConnection,
    size: u64,
    scratch: &Path,
    chunk: usize,
) -> anyhow::Result<Built> {
    ensure!(size > 0 && chunk > 0, "an empty tree has no nodes");
    std::fs::create_dir_all(scratch)
        .with_context(|| format!("creating scratch directory {}", scratch.display()))?;
    let started = Instant::now();
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<Hash>>(CHANNEL_DEPTH);
    let dir = scratch.to_owned();
    let hasher = tokio::task::spawn_blocking(move || hash_levels(size, &dir, chunk, &sender));
    let mut writer = Writer::begin(conn).await?;
    let mut next = 0u64;
    while let Some(hashes) = receiver.recv().await {
        writer.insert(0, next, &hashes).await?;
        next += hashes.len() as u64;
    }
    // The channel closes when the hasher returns, successfully or not.
    let (root, files) = hasher.await.context("the hashing task panicked")??;
    ensure!(next == size, "{next} leaves written, {size} expected");
    for (i, path) in files.iter().enumerate() {
        let level = u8::try_from(i + 1)?;
        let count = copy_level(&mut writer, level, path, chunk).await?;
        ensure!(
            count == size >> level,
            "level {level}: {count} nodes, {} expected",
            size >> level
        );
        std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    let nodes = writer.finish().await?;
    Ok(Built {
        root,
        nodes,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// The blocking half: hashes leaves `0..size` in order, sends level-0 hashes in chunks,
/// and appends each higher node to its level's file. Returns the root and the files,
/// level 1 first.
fn hash_levels(
    size: u64,
    dir: &Path,
    chunk: usize,
    sender: &tokio::sync::mpsc::Sender<Vec<Hash>>,
) -> anyhow::Result<(Hash, Vec<PathBuf>)> {
    let mut frontier = Frontier::new();
    let mut files: Vec<(PathBuf, BufWriter<File>)> = Vec::new();
    let mut failed: Option<std::io::Error> = None;
    let mut leaves = Vec::with_capacity(chunk);
    for index in 0..size {
        let leaf = synthetic_leaf(index).leaf_hash();
        frontier.append_with(leaf, |id: NodeId, hash: &Hash| {
            if id.level == 0 {
                leaves.push(*hash);
                return;
            }
            if failed.is_some() {
                return;
            }
            let slot = usize::from(id.level) - 1;
            // Nodes of a level complete left to right, and a level's first node completes
            // before any node above it, so files open in level order.
            if files.len() == slot {
                let path = dir.join(format!("level-{:02}.bin", id.level));
                match File::create(&path) {
                    Ok(file) => files.push((path, BufWriter::with_capacity(1 << 20, file))),
                    Err(error) => {
                        failed = Some(error);
                        return;
                    }
                }
            }
            if let Err(error) = files[slot].1.write_all(hash.as_bytes()) {
                failed = Some(error);
            }
        })?;
        if let Some(error) = failed.take() {
            return Err(error).context("writing a level file");
        }
        if leaves.len() == chunk {
            let full = std::mem::replace(&mut leaves, Vec::with_capacity(chunk));
            sender
                .blocking_send(full)
                .map_err(|_| anyhow::anyhow!("the writer stopped"))?;
        }
    }
    if !leaves.is_empty() {
        sender
            .blocking_send(leaves)
            .map_err(|_| anyhow::anyhow!("the writer stopped"))?;
    }
    let mut paths = Vec::with_capacity(files.len());
    for (path, mut file) in files {
        file.flush()
            .with_context(|| format!("writing {}", path.display()))?;
        paths.push(path);
    }
    Ok((frontier.root(), paths))
}

/// Copies one level's file into the table, in index order; returns its node count.
async fn copy_level(
    writer: &mut Writer<'_>,
    level: u8,
    path: &Path,
    chunk: usize,
) -> anyhow::Result<u64> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let total = file.metadata()?.len();
    ensure!(
        total.is_multiple_of(HASH_LEN as u64),
        "{} is not whole hashes",
        path.display()
    );
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buffer = vec![0u8; chunk * HASH_LEN];
    let mut next = 0u64;
    let count = total / HASH_LEN as u64;
    while next < count {
        let take = usize::try_from((count - next).min(chunk as u64))?;
        let bytes = &mut buffer[..take * HASH_LEN];
        reader
            .read_exact(bytes)
            .with_context(|| format!("reading {}", path.display()))?;
        writer.insert_bytes(level, next, bytes, take).await?;
        next += take as u64;
    }
    Ok(count)
}

/// Multi-row inserts inside large transactions.
struct Writer<'c> {
    conn: &'c mut SqliteConnection,
    in_transaction: u64,
    written: u64,
    bytes: Vec<u8>,
}

impl<'c> Writer<'c> {
    async fn begin(conn: &'c mut SqliteConnection) -> anyhow::Result<Self> {
        sqlx::query("BEGIN").execute(&mut *conn).await?;
        Ok(Self {
            conn,
            in_transaction: 0,
            written: 0,
            bytes: Vec::new(),
        })
    }

    async fn insert(&mut self, level: u8, first: u64, hashes: &[Hash]) -> anyhow::Result<()> {
        let mut bytes = std::mem::take(&mut self.bytes);
        bytes.clear();
        for hash in hashes {
            bytes.extend_from_slice(hash.as_bytes());
        }
        let result = self.insert_bytes(level, first, &bytes, hashes.len()).await;
        self.bytes = bytes;
        result
    }

    async fn insert_bytes(
        &mut self,
        level: u8,
        first: u64,
        bytes: &[u8],
        count: usize,
    ) -> anyhow::Result<()> {
        sqlx::query(INSERT_NODES)
            .bind(i64::from(level))
            .bind(i64::try_from(first)?)
            .bind(bytes)
            .bind(i64::try_from(count)?)
            .execute(&mut *self.conn)
            .await
            .with_context(|| format!("inserting level {level} from node {first}"))?;
        self.written += count as u64;
        self.in_transaction += count as u64;
        if self.in_transaction >= ROWS_PER_TRANSACTION {
            sqlx::query("COMMIT").execute(&mut *self.conn).await?;
            sqlx::query("BEGIN").execute(&mut *self.conn).await?;
            self.in_transaction = 0;
        }
        Ok(())
    }

    async fn finish(self) -> anyhow::Result<u64> {
        sqlx::query("COMMIT").execute(&mut *self.conn).await?;
        Ok(self.written)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use simpul_ledger::{HashReader, MemoryTree};
    use simpul_store::{LedgerStore, Vault};
    use simpul_store_sqlite::SqliteStore;

    use super::*;

    /// Every complete node of a tree of `size` leaves.
    fn all_nodes(size: u64) -> Vec<NodeId> {
        (0..64u8)
            .take_while(|level| size >> level > 0)
            .flat_map(|level| (0..size >> level).map(move |index| NodeId::new(level, index)))
            .collect()
    }

    #[tokio::test]
    async fn the_streamed_table_holds_exactly_the_nodes_the_sealer_would_store()
    -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let vault = Arc::new(Vault::ephemeral());
        for size in 1..=40u64 {
            let path = dir.path().join(format!("tree-{size}.db"));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            SqliteStore::connect(&url, Arc::clone(&vault))
                .await?
                .close()
                .await;
            let mut conn = open_bulk(&path).await?;
            // A chunk of 3 puts chunk edges inside every level and a short last chunk.
            let built = build_nodes(&mut conn, size, &dir.path().join("scratch"), 3).await?;
            let types: Vec<String> =
                sqlx::query_scalar("SELECT DISTINCT typeof(hash) FROM ledger_nodes")
                    .fetch_all(&mut conn)
                    .await?;
            close_bulk(conn).await?;
            assert_eq!(types, ["blob"], "size {size}");

            let mut tree = MemoryTree::new();
            for index in 0..size {
                tree.append(synthetic_leaf(index).leaf_hash())?;
            }
            assert_eq!(built.root, tree.root(), "size {size}");
            let expected = all_nodes(size);
            assert_eq!(built.nodes, expected.len() as u64, "size {size}");

            let store = SqliteStore::connect(&url, Arc::clone(&vault)).await?;
            assert_eq!(store.ledger_counts().await?.nodes, built.nodes);
            let stored = store.ledger_nodes(&expected).await?;
            store.close().await;
            assert_eq!(stored.len(), expected.len(), "size {size}");
            for id in &expected {
                assert_eq!(
                    stored.get(id).copied(),
                    tree.node_hash(*id)?,
                    "size {size}, node {id:?}"
                );
            }
        }
        // The level files are removed once copied.
        assert_eq!(std::fs::read_dir(dir.path().join("scratch"))?.count(), 0);
        Ok(())
    }

    #[test]
    fn synthetic_leaves_differ_and_are_access_entries() {
        let (a, b) = (synthetic_leaf(0), synthetic_leaf(1));
        assert_ne!(a.leaf_hash(), b.leaf_hash());
        assert_eq!((b.kind, b.sequence), (LeafKind::Access, 2));
        assert_eq!(synthetic_leaf(7), synthetic_leaf(7));
    }
}
