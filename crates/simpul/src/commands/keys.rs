//! `simpul keys rotate` and `simpul keys retire`: move personal data to a new data key while
//! the hub keeps serving, then drop the old key.
//!
//! Rotation adds a fresh key to the data key file as the active one, then walks every
//! sealed table in short batches, sealing again what an older key sealed. A hub running
//! beside it re-reads the file within [`keys::RELOAD_EVERY`] (and at once when it meets a
//! value under a key it does not know), so it keeps reading everything and starts sealing
//! under the new key too; a second pass after that interval catches what it wrote just
//! before. `retire` checks nothing is left under an old key and removes the old keys.

use anyhow::{Context, bail};

use crate::settings::Settings;
use crate::{keys, store};

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Add a new data key and re-seal all personal data under it (the hub may keep serving).
    Rotate {
        /// Rows per transaction.
        #[arg(long, default_value_t = 500)]
        batch: u32,
    },
    /// Remove old data keys once nothing is sealed under them.
    Retire {
        /// Rows per transaction.
        #[arg(long, default_value_t = 500)]
        batch: u32,
    },
    /// Add a new access-token signing key; tokens signed by older keys keep verifying.
    RotateSigning,
    /// Remove older signing keys (tokens they signed stop verifying).
    RetireSigning,
}

pub async fn run(settings: Settings, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::RotateSigning => {
            let id = keys::rotate_signing(&settings)?;
            println!(
                "Kunci penanda token baru {id} aktif; hub memuatnya dalam {} detik.",
                keys::RELOAD_EVERY.as_secs()
            );
            return Ok(());
        }
        KeysCommand::RetireSigning => {
            let retired = keys::retire_signing(&settings)?;
            println!("Kunci penanda token dihapus: {}", retired.join(", "));
            return Ok(());
        }
        _ => {}
    }
    let configured = keys::ConfiguredKeys::new(&settings);
    let Some(file) = configured.data_file().map(ToOwned::to_owned) else {
        bail!(
            "kunci data diberikan lewat SIMPUL_KEYS__DATA, bukan berkas: tambahkan kunci baru \
             di depan (ditandai '*') di tempat rahasia itu, mulai ulang, lalu jalankan \
             `simpul keys retire` untuk menyegel ulang"
        );
    };
    let current = std::fs::read_to_string(&file)
        .with_context(|| format!("membaca berkas kunci data {}", file.display()))?;
    match command {
        KeysCommand::Rotate { batch } => {
            let (id, text) = keys::rotated_data_ring(&current)?;
            keys::write_private_file(&file, &text)?;
            println!("Kunci data baru {id} aktif di {}.", file.display());
            let vault = keys::vault(&settings, false)?;
            let store = store::open(&settings.database_url(), vault).await?;
            let first = reseal(store.as_ref(), batch).await?;
            // A serving hub sealed under the old key until it re-read the file.
            tokio::time::sleep(keys::RELOAD_EVERY + std::time::Duration::from_secs(1)).await;
            let second = reseal(store.as_ref(), batch).await?;
            println!(
                "{} nilai disegel ulang dengan {id}. Kunci lama masih di berkas; \
                 hapus dengan `simpul keys retire`.",
                first + second
            );
        }
        KeysCommand::Retire { batch } => {
            let vault = keys::vault(&settings, false)?;
            let store = store::open(&settings.database_url(), vault).await?;
            let left = reseal(store.as_ref(), batch).await?;
            let text = keys::retired_data_ring(&current)?;
            keys::write_private_file(&file, &text)?;
            println!(
                "{left} nilai terakhir disegel ulang; kunci lama dihapus dari {}.",
                file.display()
            );
        }
        KeysCommand::RotateSigning | KeysCommand::RetireSigning => {}
    }
    Ok(())
}

async fn reseal(store: &dyn simpul_store::Store, batch: u32) -> anyhow::Result<u64> {
    let mut examined = 0u64;
    let total = simpul_store::reseal_all(store, batch.max(1), |table, step| {
        examined += step.examined;
        tracing::debug!(table = table.name(), examined, "resealing");
    })
    .await
    .context("menyegel ulang")?;
    println!("  diperiksa {examined} baris, disegel ulang {total}");
    Ok(total)
}
