//! Registry events and the rules that decide whether one may be appended.
//!
//! Every change to the registry is a [`RegistryEvent`]. Before appending, a store gathers the
//! [`EventFacts`] the event names (which of its NIKs already belong to a living resident,
//! whether its KK exists) inside its transaction, and asks [`RegistryEvent::check`]. The
//! decision is made here, once, for every backend; the database's unique indexes are only a
//! second line.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::family::{Family, FamilyError};
use crate::nik::{Nik, NoKk};

/// A change to the registry, as it is recorded in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "jenis", content = "data", rename_all = "snake_case")]
pub enum RegistryEvent {
    /// A family and its members enter the registry as they already are (initial load, or a
    /// migration from a legacy system). Births and moves in arrive as their own events.
    KeluargaTerdaftar(Family),
}

impl RegistryEvent {
    /// The journal's event type, stable across releases (CloudEvents `type`).
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::KeluargaTerdaftar(_) => "id.simpul.keluarga.terdaftar.v1",
        }
    }

    /// The region the event belongs to (its kelurahan), for routing and authorization.
    pub fn kelurahan(&self) -> &crate::KodeWilayah {
        match self {
            Self::KeluargaTerdaftar(family) => &family.address.kelurahan,
        }
    }

    /// NIKs whose current state the check needs.
    pub fn referenced_niks(&self) -> Vec<&Nik> {
        match self {
            Self::KeluargaTerdaftar(family) => family.member_niks().collect(),
        }
    }

    /// KK numbers whose existence the check needs.
    pub fn referenced_families(&self) -> Vec<&NoKk> {
        match self {
            Self::KeluargaTerdaftar(family) => vec![&family.no_kk],
        }
    }

    /// Decides whether the event may be appended, given the registry's current facts.
    pub fn check(&self, facts: &EventFacts, today: NaiveDate) -> Result<(), RuleViolation> {
        match self {
            Self::KeluargaTerdaftar(family) => {
                family.check(today)?;
                if facts.existing_families.contains(&family.no_kk) {
                    return Err(RuleViolation::FamilyExists);
                }
                if let Some(index) = family
                    .members
                    .iter()
                    .position(|m| facts.living_niks.contains(&m.nik))
                {
                    return Err(RuleViolation::NikAlreadyLiving { index: index + 1 });
                }
                Ok(())
            }
        }
    }
}

/// What the registry currently says about the numbers an event names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFacts {
    /// Of the referenced NIKs, those that belong to a living resident.
    pub living_niks: HashSet<Nik>,
    /// Of the referenced KKs, those that exist.
    pub existing_families: HashSet<NoKk>,
}

impl EventFacts {
    /// Updates the facts as if `event` had been applied, so a batch of events can be
    /// checked in order against one read of the registry.
    pub fn record(&mut self, event: &RegistryEvent) {
        match event {
            RegistryEvent::KeluargaTerdaftar(family) => {
                self.living_niks.extend(family.member_niks().cloned());
                self.existing_families.insert(family.no_kk.clone());
            }
        }
    }

    /// The facts a batch of events needs, as (NIKs, KKs) to look up.
    pub fn keys_for(events: &[RegistryEvent]) -> (Vec<&Nik>, Vec<&NoKk>) {
        let niks = events
            .iter()
            .flat_map(RegistryEvent::referenced_niks)
            .collect();
        let kks = events
            .iter()
            .flat_map(RegistryEvent::referenced_families)
            .collect();
        (niks, kks)
    }
}

/// Why an event may not be appended. Each maps to one stable API problem code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    #[error(transparent)]
    Family(#[from] FamilyError),
    #[error("nomor KK sudah terdaftar")]
    FamilyExists,
    #[error("NIK anggota ke-{index} sudah dimiliki penduduk yang hidup")]
    NikAlreadyLiving { index: usize },
}

impl RuleViolation {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Family(_) => "invalid_family",
            Self::FamilyExists => "family_exists",
            Self::NikAlreadyLiving { .. } => "nik_already_living",
        }
    }
}
