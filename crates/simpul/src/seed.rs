//! Filling a store: the region master data on every start, and a synthetic population.
//!
//! The population streams from the generator on a blocking thread through a bounded
//! channel into [`Store::append`], one batch of families per transaction, so a
//! ten-million-resident province is written in bounded memory and every family enters
//! through the journal like any other registry change.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use simpul_demo::DemoSpec;
use simpul_domain::wilayah::{Region, RegionDirectory};
use simpul_domain::{Family, RegistryEvent};
use simpul_store::Store;

/// Families per append: one transaction. Since rows are keyed by blind indexes, a batch's
/// inserts land on pages all over the tables, and each commit writes every page it touched
/// to the WAL: 10,000 families a commit seed Kota Madiun in 16–20 s where 1,000 took 38 s
/// (BENCHMARKS.md), for about 110 MiB more memory while seeding.
const FAMILIES_PER_APPEND: usize = 10_000;
/// Batches waiting between the generator thread and the writer.
const CHANNEL_DEPTH: usize = 4;

/// Loads the region master data when the store's copy is missing or incomplete.
pub async fn ensure_regions(store: &dyn Store, directory: &RegionDirectory) -> anyhow::Result<()> {
    let counts = store.counts().await?;
    if counts.regions == directory.len() as u64 {
        return Ok(());
    }
    let started = Instant::now();
    let mut regions: Vec<Region> = directory.iter().cloned().collect();
    // Parents before children, so a reader never sees an orphan mid-load.
    regions.sort_by(|a, b| a.code.cmp(&b.code));
    let loaded = store.load_regions(&regions).await?;
    tracing::info!(
        regions = loaded,
        millis = started.elapsed().as_millis() as u64,
        "data wilayah dimuat"
    );
    Ok(())
}

/// What a population run wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    pub families: u64,
    pub residents: u64,
}

/// Generates the population `spec` describes and appends it, batch by batch.
pub async fn populate(
    store: Arc<dyn Store>,
    spec: DemoSpec,
    directory: &'static RegionDirectory,
) -> anyhow::Result<Seeded> {
    let families = simpul_demo::families(&spec, directory).context("pembangkit data demo")?;
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<Family>>(CHANNEL_DEPTH);
    let generator = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(FAMILIES_PER_APPEND);
        for family in families {
            batch.push(family);
            if batch.len() == FAMILIES_PER_APPEND {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(FAMILIES_PER_APPEND));
                if sender.blocking_send(full).is_err() {
                    return; // The writer stopped on an error; it reports it.
                }
            }
        }
        if !batch.is_empty() {
            let _ = sender.blocking_send(batch);
        }
    });
    let started = Instant::now();
    let mut seeded = Seeded::default();
    let mut next_report = 0;
    while let Some(batch) = receiver.recv().await {
        let residents: usize = batch.iter().map(|f| f.members.len()).sum();
        let events: Vec<RegistryEvent> = batch
            .into_iter()
            .map(RegistryEvent::KeluargaTerdaftar)
            .collect();
        store
            .append(&events)
            .await
            .with_context(|| format!("menulis keluarga ke-{}", seeded.families + 1))?;
        seeded.families += events.len() as u64;
        seeded.residents += residents as u64;
        if seeded.residents >= next_report {
            tracing::info!(
                residents = seeded.residents,
                target = spec.residents,
                seconds = started.elapsed().as_secs(),
                "mengisi penduduk demo"
            );
            next_report += 50_000;
        }
    }
    generator.await.context("pembangkit data demo berhenti")?;
    tracing::info!(
        families = seeded.families,
        residents = seeded.residents,
        seconds = started.elapsed().as_secs_f64(),
        "penduduk demo selesai"
    );
    Ok(seeded)
}
