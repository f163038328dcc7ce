//! Group commit for the access log: every request that reads personal data must have its
//! entry durably written before it answers, which alone would cost one synchronous commit
//! per request. Requests queue their entries here; one writer takes everything queued (up
//! to [`MOST_PER_COMMIT`]) and appends it in one store call, then answers each request.
//! Batches grow when requests arrive faster than commits complete; a small batch lingers up
//! to [`LINGER`] for company, so the latency of one entry is at most that plus one commit,
//! and throughput is commits per second times the batch size.

use std::sync::Arc;

use simpul_store::{AccessRecord, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

/// Most entries one commit carries.
const MOST_PER_COMMIT: usize = 1_024;
/// Below this many entries, the writer lingers for more before committing...
const LINGER_BELOW: usize = 64;
/// ...for at most this long. Each commit costs far more than one entry (transaction,
/// WAL frames, and every reader's page cache dropped), so under load fewer, larger commits
/// free CPU for requests (single verification 6,916 → 9,303 req/s in one round of
/// `scripts/profile-nik.sh`); an idle hub pays the millisecond once per request.
const LINGER: std::time::Duration = std::time::Duration::from_millis(1);
/// Entries waiting before senders are held back.
const QUEUE_DEPTH: usize = 16_384;

type Reply = Result<(), Arc<StoreError>>;

struct Pending {
    records: Vec<AccessRecord>,
    reply: oneshot::Sender<Reply>,
}

/// The handle requests write through; cheap to clone.
#[derive(Clone)]
pub struct AccessLogWriter {
    queue: mpsc::Sender<Pending>,
}

impl AccessLogWriter {
    /// Starts the writer on the current tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(write(store, receiver));
        Self { queue }
    }

    /// Appends `records` and returns once they are committed.
    pub async fn append(&self, records: Vec<AccessRecord>) -> Result<(), StoreError> {
        let stopped = || StoreError::Corrupt("access-log writer stopped".into());
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { records, reply })
            .await
            .map_err(|_| stopped())?;
        answer
            .await
            .map_err(|_| stopped())?
            // The one store error is shared by every request of the failed commit. An outage
            // stays an outage (503, "try again"), not our fault (500).
            .map_err(|e| match e.as_ref() {
                StoreError::Unavailable(_) => StoreError::Unavailable(Box::new(e)),
                _ => StoreError::Corrupt(format!("access log not written: {e}")),
            })
    }
}

async fn write(store: Arc<dyn Store>, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch: Vec<Pending> = Vec::new();
    while let Some(first) = receiver.recv().await {
        let mut count = first.records.len();
        batch.push(first);
        let deadline = tokio::time::Instant::now() + LINGER;
        while count < MOST_PER_COMMIT {
            let next = match receiver.try_recv() {
                Ok(next) => next,
                Err(_) if count < LINGER_BELOW => {
                    match tokio::time::timeout_at(deadline, receiver.recv()).await {
                        Ok(Some(next)) => next,
                        _ => break,
                    }
                }
                Err(_) => break,
            };
            count += next.records.len();
            batch.push(next);
        }
        let records: Vec<AccessRecord> = batch
            .iter()
            .flat_map(|p| p.records.iter().cloned())
            .collect();
        let outcome = store
            .append_access(&records)
            .await
            .map(|_| ())
            .map_err(Arc::new);
        if let Err(error) = &outcome {
            tracing::error!(%error, entries = records.len(), "access log commit failed");
        }
        for pending in batch.drain(..) {
            // A request that gave up waiting has nothing left to answer.
            let _ = pending.reply.send(outcome.clone());
        }
    }
}
