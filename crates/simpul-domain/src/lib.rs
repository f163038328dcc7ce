//! The population registry's rules, with no I/O and no async runtime.
//!
//! Everything here is a pure function or a validated value: the store and the HTTP layer
//! parse their input into these types at the boundary and then trust them.
//!
//! # Layout
//! - [`wilayah`]: Kemendagri region codes and the embedded master data (ODbL).
//! - [`nik`]: the 16-digit NIK and the KK number, with one error kind per rule.
//! - [`codes`]: the code lists a family card uses (sex, religion, SHDK, ...).
//! - [`resident`]: residents (biodata) and their status.
//! - [`family`]: families (KK) and the one-head rule.
//! - [`event`]: registry events, the facts they are checked against, and the rules.
//! - [`lampid`]: e-LAMPID submissions (kelahiran, kematian, pindah, datang): payloads, their
//!   validation, the approval workflow across levels, and the public tracking code.
//! - [`registry`]: the registry as a value; where every event is checked and applied, by
//!   the property tests and by the stores (on the slice they load).
//! - [`statistics`]: the statistics counters events move, and age bands.
//! - [`name`]: Indonesian name normalisation and comparison.
//! - [`verification`]: identity-claim verification verdicts (no personal data out).
//! - [`access`]: the one authorization gate: roles scoped to regions or agencies, actions,
//!   agency grants, and the policy table that decides.

pub mod access;
pub mod codes;
pub mod event;
pub mod family;
pub mod lampid;
pub mod name;
pub mod nik;
pub mod registry;
pub mod resident;
pub mod statistics;
pub mod verification;
pub mod wilayah;

pub use codes::*;
pub use event::{RegistryEvent, RuleViolation};
pub use family::{Family, FamilyError};
pub use nik::{IdNumberError, Nik, NoKk};
pub use resident::{Address, Departure, Resident, ResidentStatus};
pub use wilayah::{KodeWilayah, RegionLevel};

/// Today's date in Western Indonesia Time (UTC+7), where the reference city is. Used only
/// to place a two-digit year in its century; callers that need determinism pass a date.
pub fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}
