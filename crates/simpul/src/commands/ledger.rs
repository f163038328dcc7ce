//! `simpul ledger`: the log's public key, offline verification of a database or an
//! exported bundle, exporting a bundle, and the witness (see [`super::ledger_witness`]).
//!
//! Verification trusts nothing but the log's public key: give it the key the hub publishes
//! (`GET /api/v1/ledger/key`) with `--key`; without `--key` the key is derived from the
//! hub's own key file. A database check also needs the data keys (it opens each journal
//! event to recompute its digest); a bundle needs only the public key.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use simpul_ledger::NoteVerifier;
use simpul_store::ledger_bundle::{Bundle, export_bundle, verify_bundle};
use simpul_store::ledger_verify::verify_store;

use super::ledger_witness::{self, WitnessArgs, WitnessKeyArgs};
use crate::settings::Settings;
use crate::{keys, store};

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Print the log's public key (a signed-note vkey), creating the key on first use.
    Key,
    /// Recompute the ledger of a database (or check an exported bundle) and exit 0 only
    /// when everything matches; otherwise name the first bad entry.
    Verify {
        /// Database URL (sqlite://… or postgres://…); default: the configured one.
        #[arg(long)]
        database: Option<String>,
        /// An exported bundle to check instead of a database.
        #[arg(long, conflicts_with = "database")]
        bundle: Option<PathBuf>,
        /// The log's public key (vkey), as `GET /api/v1/ledger/key` publishes it.
        #[arg(long)]
        key: Option<String>,
    },
    /// Export leaves `from..to` with inclusion proofs against the latest checkpoint, for an
    /// auditor to check with `simpul ledger verify --bundle` and the public key alone.
    Export {
        #[arg(long)]
        from: u64,
        #[arg(long)]
        to: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Witness a log: check its latest checkpoint against the last one seen, cosign it and
    /// post the cosignature back.
    Witness(WitnessArgs),
    /// Create a witness key and print its public key (to list in the hub's
    /// `ledger.witnesses`).
    WitnessKey(WitnessKeyArgs),
}

pub async fn run(settings: Settings, command: LedgerCommand) -> anyhow::Result<ExitCode> {
    match command {
        LedgerCommand::Key => {
            println!(
                "{}",
                keys::ledger_signer(&settings, true)?.verifier().to_vkey()
            );
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Verify {
            database,
            bundle,
            key,
        } => {
            let key = log_key(&settings, key.as_deref())?;
            match bundle {
                Some(path) => check_bundle(&path, &key),
                None => {
                    let url = database.unwrap_or_else(|| settings.database_url());
                    check_database(&settings, &url, &key).await
                }
            }
        }
        LedgerCommand::Export { from, to, out } => {
            let vault = keys::vault(&settings, false)?;
            let store = store::open(&settings.database_url(), vault).await?;
            let bundle = export_bundle(store.as_ref(), from, to).await?;
            let text = serde_json::to_string_pretty(&bundle)?;
            std::fs::write(&out, text).with_context(|| format!("menulis {}", out.display()))?;
            println!(
                "{} entri ledger (indeks {from}..{to}) dengan bukti diekspor ke {}.",
                bundle.entries.len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Witness(args) => ledger_witness::run(args).await,
        LedgerCommand::WitnessKey(args) => {
            println!("{}", ledger_witness::generate_key(&args)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The key to verify with: the one given, or the hub's own.
fn log_key(settings: &Settings, given: Option<&str>) -> anyhow::Result<NoteVerifier> {
    match given {
        Some(vkey) => NoteVerifier::from_vkey(vkey.trim())
            .with_context(|| format!("--key {vkey:?} bukan kunci publik ledger yang sah")),
        None => Ok(keys::ledger_signer(settings, false)
            .context("tanpa --key, kunci diambil dari berkas kunci ledger hub")?
            .verifier()),
    }
}

async fn check_database(
    settings: &Settings,
    url: &str,
    key: &NoteVerifier,
) -> anyhow::Result<ExitCode> {
    let vault = keys::vault(settings, false)?;
    let store = store::open(url, vault).await?;
    match verify_store(store.as_ref(), key).await {
        Ok(report) => {
            println!(
                "Ledger utuh: {} daun ({} peristiwa jurnal, {} entri log akses), {} simpul, {} \
                 checkpoint bertanda tangan {}; akar {}.",
                report.leaves,
                report.journal_rows,
                report.access_rows,
                report.nodes,
                report.checkpoints,
                key.name(),
                report.root.to_base64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(fault) => {
            eprintln!("LEDGER TIDAK UTUH: {fault}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn check_bundle(path: &std::path::Path, key: &NoteVerifier) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("membaca {}", path.display()))?;
    let bundle: Bundle = match serde_json::from_str(&text) {
        Ok(bundle) => bundle,
        Err(error) => {
            eprintln!(
                "BUNDEL TIDAK SAH: {} bukan bundel ledger (baris {}, kolom {}: {:?})",
                path.display(),
                error.line(),
                error.column(),
                error.classify()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    match verify_bundle(&bundle, key) {
        Ok(report) => {
            println!(
                "Bundel sah: {} entri ({} entri log akses) termuat di log {} berukuran {}.",
                report.entries, report.access_entries, report.origin, report.tree_size
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(fault) => {
            eprintln!("BUNDEL TIDAK SAH: {fault}");
            Ok(ExitCode::FAILURE)
        }
    }
}
