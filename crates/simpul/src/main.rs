//! `simpul`: the civic data hub as one binary.
//!
//! `main` parses flags, loads [`settings::Settings`], and dispatches to a subcommand; it
//! holds no rules and no SQL.
//!
//! # Layout
//! - [`settings`]: typed configuration from defaults, a TOML file and `SIMPUL_*` variables.
//! - [`store`]: opening the store a database URL names.
//! - [`keys`]: where the keys that seal personal data come from; generating and rotating them.
//! - [`demo_accounts`]: the demo city's accounts per role and its agency client.
//! - [`seed`]: region master data and the synthetic population, streamed into the store.
//! - [`commands`]: `serve`, `demo`, `nik`, `keys`, `admin`.
//! - [`bench`]: the HTTP load generator behind `simpul bench`.
//! - [`bench_lampid`]: e-LAMPID throughput and statistics latency behind `simpul bench-lampid`.
//! - [`bench_ledger`]: ledger sealing and inclusion proofs behind `simpul bench-ledger`.
//! - [`telemetry`]: log set-up.

mod bench;
mod bench_lampid;
mod bench_ledger;
mod commands;
mod demo_accounts;
mod keys;
mod seed;
mod settings;
mod store;
mod telemetry;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::settings::Settings;

/// simpul: simpul data kependudukan untuk pemerintah daerah.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// TOML configuration file (optional; `simpul default-config` prints one).
    #[arg(long, global = true, env = "SIMPUL_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default). Seeds the demo city on first start.
    Serve,
    /// Generate a synthetic population into the store.
    Demo(commands::demo::DemoArgs),
    /// NIK tools.
    Nik {
        #[command(subcommand)]
        command: NikCommand,
    },
    /// Accounts, machine clients and agreements.
    Admin {
        #[command(subcommand)]
        command: commands::admin::AdminCommand,
    },
    /// Data keys: rotate and retire.
    Keys {
        #[command(subcommand)]
        command: commands::keys::KeysCommand,
    },
    /// The tamper-evident ledger: public key, offline verification, export, witness.
    Ledger {
        #[command(subcommand)]
        command: commands::ledger::LedgerCommand,
    },
    /// Recreate residents, families, statistics and submissions from the journal alone.
    Rebuild,
    /// Measure NIK verification over HTTP against a running hub.
    Bench(bench::BenchArgs),
    /// Measure e-LAMPID throughput and statistics latency against the configured store.
    BenchLampid(bench_lampid::Args),
    /// Measure ledger sealing and inclusion proofs on scratch databases.
    BenchLedger(bench_ledger::Args),
    /// Print the default configuration file.
    DefaultConfig,
}

#[derive(Debug, Subcommand)]
enum NikCommand {
    /// Parse NIKs: one JSON line each, or the exact rule broken.
    Parse {
        #[arg(required = true)]
        niks: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("simpul: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let command = cli.command.unwrap_or(Command::Serve);
    match command {
        Command::Nik {
            command: NikCommand::Parse { niks },
        } => {
            let all_valid = commands::nik::run(&niks)?;
            return Ok(if all_valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::DefaultConfig => {
            print!("{}", Settings::default_toml());
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let settings = Settings::load(cli.config.as_deref())?;
    telemetry::init(settings.log_format);
    match command {
        Command::Serve => commands::serve::run(settings).await?,
        Command::Demo(args) => commands::demo::run(settings, args).await?,
        Command::Bench(args) => bench::run(args).await?,
        Command::BenchLampid(args) => bench_lampid::run(settings, args).await?,
        Command::BenchLedger(args) => bench_ledger::run(args).await?,
        Command::Keys { command } => commands::keys::run(settings, command).await?,
        Command::Admin { command } => commands::admin::run(settings, command).await?,
        Command::Rebuild => commands::rebuild::run(settings).await?,
        Command::Ledger { command } => return commands::ledger::run(settings, command).await,
        Command::Nik { .. } | Command::DefaultConfig => {}
    }
    Ok(ExitCode::SUCCESS)
}
