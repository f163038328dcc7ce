//! `simpul rebuild`: recreate every read model (residents, families, statistics,
//! submissions, documents) from the journal alone.
//!
//! The read models are derived data; the journal is the record. Rebuilding replays every
//! journaled event through the same code that applied it when it was appended, in one
//! transaction, so a hub reading beside it sees the old state until the new one is whole.
//! The command prints the registry's counts before and after: after a rebuild of a healthy
//! store they are equal.

use std::time::Instant;

use crate::settings::Settings;
use crate::{keys, store};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let vault = keys::vault(&settings, false)?;
    let store = store::open(&settings.database_url(), vault).await?;
    let before = store.counts().await?;
    let started = Instant::now();
    let replayed = store.rebuild().await?;
    let after = store.counts().await?;
    println!(
        "Model baca dibangun ulang dari {replayed} peristiwa jurnal dalam {:.1} detik.",
        started.elapsed().as_secs_f64()
    );
    println!(
        "Sebelum: {} penduduk, {} keluarga. Sesudah: {} penduduk, {} keluarga.",
        before.residents, before.families, after.residents, after.families
    );
    Ok(())
}
