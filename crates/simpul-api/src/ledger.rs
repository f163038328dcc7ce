//! The hub's side of the ledger: who the log is (its origin, public key and the witnesses
//! it accepts cosignatures from) and the background task that seals the journal and the
//! access log into it and signs a checkpoint at least every second while it grows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use simpul_ledger::{CosignatureVerifier, NoteVerifier};
use simpul_store::ledger_seal::Sealer;
use simpul_store::{Store, StoreError};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Rows read per source in one sealing transaction.
const SEAL_BATCH: u32 = 5_000;
/// How often the sealer looks for new rows.
pub const SEAL_EVERY: Duration = Duration::from_millis(250);
/// The longest a round seals before it signs a checkpoint, so one is signed at least every
/// second even while a backlog (a freshly seeded city) is sealed.
const ROUND_BUDGET: Duration = Duration::from_millis(500);

/// The log's identity, as the API publishes it.
pub struct LedgerConfig {
    /// The checkpoint origin, which is also the log key's name.
    pub origin: String,
    /// The log's public key.
    pub log_key: NoteVerifier,
    /// Witnesses whose cosignatures the hub accepts and shows.
    pub witnesses: Vec<CosignatureVerifier>,
}

/// One round: seal what is pending (for at most [`ROUND_BUDGET`]) and sign a checkpoint
/// when the ledger grew. Returns the leaves added.
pub async fn seal_round(store: &dyn Store, sealer: &mut Sealer) -> Result<u64, StoreError> {
    let started = Instant::now();
    let mut total = 0;
    loop {
        let added = sealer.seal_pending(store, SEAL_BATCH).await?;
        total += added;
        if added == 0 || started.elapsed() >= ROUND_BUDGET {
            break;
        }
    }
    sealer.checkpoint(store, simpul_store::now()).await?;
    Ok(total)
}

/// The running sealer; [`SealerTask::stop`] seals what is left and returns.
pub struct SealerTask {
    stop: watch::Sender<bool>,
    done: JoinHandle<()>,
}

impl SealerTask {
    /// Starts sealing every `every` on the current runtime.
    pub fn start(store: Arc<dyn Store>, mut sealer: Sealer, every: Duration) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let done = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let last = tokio::select! {
                    _ = tick.tick() => false,
                    _ = stopped.changed() => true,
                };
                // After a stop, drain: seal until nothing is pending.
                loop {
                    match seal_round(store.as_ref(), &mut sealer).await {
                        Ok(added) if last && added > 0 => continue,
                        Ok(_) => {}
                        // Another hub on the same database sealed first; reload and go on.
                        Err(StoreError::Conflict) => {
                            tracing::debug!("ledger: another sealer appended first");
                        }
                        Err(error) => tracing::warn!(%error, "ledger: sealing failed; retrying"),
                    }
                    break;
                }
                if last {
                    return;
                }
            }
        });
        Self { stop, done }
    }

    /// Seals what is pending, then stops.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.done.await {
            tracing::warn!(%error, "ledger: the sealer ended abnormally");
        }
    }
}
