//! e-LAMPID submissions: the four event payloads (kelahiran, kematian, pindah, datang), the
//! rules they are checked against, the approval workflow across levels, and the public
//! tracking code.
//!
//! This module owns no I/O: a store gathers the [`LampidFacts`] a payload names inside its
//! transaction, asks [`LampidPayload::validate`], and moves a [`Submission`] through its
//! states with [`Submission::apply`], journaling each step as a
//! [`RegistryEvent`](crate::RegistryEvent). Registration turns the payload into the registry
//! event that carries its effects ([`LampidPayload::registration_event`], in `register`).
//!
//! # Who decides what
//! The authorization gate ([`crate::access::authorize`]) decides whether a role may take an
//! action in a region at all. [`Submission::apply`] then decides whether the submission is at
//! that role's level now: one may verify only a *diajukan* submission, and a rejection is the
//! kecamatan's while the submission waits there and Dukcapil's once it is verified.
//!
//! # Deadlines
//! A birth must be reported within 60 days (UU 24/2013 art. 27) and a death within 30 days
//! (art. 44). Later reports are still accepted, with an administrative fine, so they are
//! flagged [`Assessment::late`] (`terlambat`) rather than refused.

//!
//! # Layout
//! - `payload`: the four reports and [`LampidPayload`].
//! - `validate`: [`LampidFacts`], [`LampidError`] and the rules.
//! - `workflow`: [`Submission`] and its states.
//! - `tracking`: [`TrackingCode`].
//! - `register`: what registration decides (new NIK, document number) and the event.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{Months, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::access::{Action, RoleKind};
use crate::codes::{Citizenship, Education, FamilyRelationship, MaritalStatus, Religion, Sex};
use crate::nik::{Nik, NoKk};
use crate::resident::{Address, MAX_NAME_LEN, ResidentStatus};
use crate::wilayah::{KodeWilayah, RegionLevel};

mod payload;
mod register;
mod tracking;
mod validate;
mod workflow;

pub use payload::*;
pub use register::*;
pub use tracking::*;
pub use validate::*;
pub use workflow::*;

#[cfg(test)]
mod tests;
