//! Coalesces concurrent single-NIK verification reads into one store call.
//!
//! Agencies check identities one at a time, hundreds at once. Alone, each check pays a full
//! store round trip (for SQLite, hops to a connection's worker thread and back), which costs
//! several times the rest of the request. Checks queue here instead; a few workers each take
//! everything queued (up to [`MOST_PER_READ`]) and read it with one
//! [`Store::verification_records`] call, the same call the batch endpoint makes. Nothing
//! waits for a batch to fill: a lone request on an idle hub is read at once, and batches
//! only grow when requests arrive faster than the store answers ("natural batching").
//! Reads still go to the store each time, so an answer is never staler than the store.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use simpul_domain::Nik;
use simpul_domain::verification::VerificationRecord;
use simpul_store::{Store, StoreError};
use tokio::sync::{Mutex, mpsc, oneshot};

/// Most NIKs one coalesced read asks for. Bounded so a burst never becomes one huge
/// statement that delays every request in it.
const MOST_PER_READ: usize = 256;
/// Reads in flight at once: as many as the SQLite store has reader connections, so the
/// store stays busy while a batch's answers are handed out.
const WORKERS: usize = 4;
/// Requests waiting for a worker before senders are held back.
const QUEUE_DEPTH: usize = 8_192;

type Reply = Result<Option<VerificationRecord>, StoreError>;

struct Pending {
    nik: Nik,
    reply: oneshot::Sender<Reply>,
}

/// The handle handlers read through; cheap to clone. Workers stop when the last handle
/// is dropped.
#[derive(Clone)]
pub struct VerificationReads {
    queue: mpsc::Sender<Pending>,
    store_reads: Arc<AtomicU64>,
}

impl VerificationReads {
    /// Starts the workers on the current tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        let receiver = Arc::new(Mutex::new(receiver));
        let store_reads = Arc::new(AtomicU64::new(0));
        for _ in 0..WORKERS {
            tokio::spawn(work(store.clone(), receiver.clone(), store_reads.clone()));
        }
        Self { queue, store_reads }
    }

    /// The verification view of `nik`, or `None` when no record has it.
    pub async fn read(&self, nik: Nik) -> Reply {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { nik, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Store calls made so far (fewer than reads under concurrency).
    pub fn store_reads(&self) -> u64 {
        self.store_reads.load(Ordering::Relaxed)
    }
}

async fn work(
    store: Arc<dyn Store>,
    receiver: Arc<Mutex<mpsc::Receiver<Pending>>>,
    store_reads: Arc<AtomicU64>,
) {
    let mut batch = Vec::with_capacity(MOST_PER_READ);
    loop {
        {
            let mut receiver = receiver.lock().await;
            if receiver.recv_many(&mut batch, MOST_PER_READ).await == 0 {
                return; // Every handle is gone.
            }
        }
        let niks: Vec<Nik> = batch.iter().map(|p| p.nik.clone()).collect();
        store_reads.fetch_add(1, Ordering::Relaxed);
        match store.verification_records(&niks).await {
            Ok(records) => {
                // The same NIK may be asked several times in one read: clone, never take.
                for pending in batch.drain(..) {
                    let _ = pending.reply.send(Ok(records.get(&pending.nik).cloned()));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                for pending in batch.drain(..) {
                    let _ = pending.reply.send(Err(replay(&error)));
                }
            }
        }
    }
}

/// One store failure, handed to every request of the read that hit it.
#[derive(Debug)]
struct Shared(Arc<StoreError>);

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Shared {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(self.0.as_ref())
    }
}

/// The same failure for one request: corrupt data stays corrupt, anything else (a read
/// cannot be rejected or conflict) is the store being unavailable.
fn replay(error: &Arc<StoreError>) -> StoreError {
    match error.as_ref() {
        StoreError::Corrupt(what) => StoreError::Corrupt(what.clone()),
        _ => StoreError::Unavailable(Box::new(Shared(error.clone()))),
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("verification workers stopped".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use simpul_domain::RegistryEvent;
    use simpul_store::contract::fixture_family;
    use simpul_store_sqlite::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_reads_share_store_calls_and_get_their_own_answers() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store =
            SqliteStore::connect(&url, std::sync::Arc::new(simpul_store::Vault::ephemeral()))
                .await
                .unwrap();
        let families: Vec<_> = (1..=20)
            .map(|i| fixture_family("35.77.01.1001", i, &format!("Warga {i}")))
            .collect();
        let events: Vec<_> = families
            .iter()
            .cloned()
            .map(RegistryEvent::KeluargaTerdaftar)
            .collect();
        store.append(&events).await.unwrap();
        let reads = VerificationReads::start(Arc::new(store));
        let heads: Vec<_> = families.iter().map(|f| f.members[0].clone()).collect();
        let tasks: Vec<_> = (0..400)
            .map(|i| {
                let reads = reads.clone();
                let head = heads[i % heads.len()].clone();
                tokio::spawn(async move { (head.clone(), reads.read(head.nik).await) })
            })
            .collect();
        for task in tasks {
            let (head, answer) = task.await.unwrap();
            let record = answer.unwrap().expect("a registered NIK has a record");
            assert_eq!(record.full_name, head.full_name);
            assert_eq!(record.birth_date, head.birth_date);
        }
        assert!(
            reads.store_reads() < 400,
            "{} store calls for 400 concurrent reads",
            reads.store_reads()
        );
        // A lone read of an unknown NIK is answered, not held for a batch.
        let unknown = simpul_domain::Nik::compose(
            &simpul_domain::KodeWilayah::parse("35.77.03").unwrap(),
            chrono::NaiveDate::from_ymd_opt(2001, 2, 3).unwrap(),
            simpul_domain::Sex::LakiLaki,
            77,
        )
        .unwrap();
        assert!(reads.read(unknown).await.unwrap().is_none());
    }
}
