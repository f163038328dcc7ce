//! One module per subcommand; `main` only dispatches.

pub mod admin;
pub mod demo;
pub mod keys;
pub mod ledger;
pub mod ledger_witness;
pub mod nik;
pub mod rebuild;
pub mod serve;
