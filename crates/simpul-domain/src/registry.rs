//! An in-memory registry that applies events with the same rules as the stores.
//!
//! It is the reference model: property tests drive it with random event sequences, and the
//! storage contract suite compares a real store's answers against it.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;

use crate::codes::FamilyRelationship;
use crate::event::{EventFacts, RegistryEvent, RuleViolation};
use crate::family::Family;
use crate::nik::{Nik, NoKk};
use crate::resident::{Resident, ResidentStatus};

/// Residents and families held in maps; the journal is the list of accepted events.
#[derive(Debug, Default, Clone)]
pub struct InMemoryRegistry {
    residents: HashMap<Nik, Resident>,
    families: BTreeMap<NoKk, Family>,
    journal: Vec<RegistryEvent>,
}

impl InMemoryRegistry {
    pub fn facts_for(&self, event: &RegistryEvent) -> EventFacts {
        EventFacts {
            living_niks: event
                .referenced_niks()
                .into_iter()
                .filter(|nik| {
                    self.residents
                        .get(nik)
                        .is_some_and(|r| r.status == ResidentStatus::Hidup)
                })
                .cloned()
                .collect(),
            existing_families: event
                .referenced_families()
                .into_iter()
                .filter(|kk| self.families.contains_key(kk))
                .cloned()
                .collect(),
        }
    }

    /// Checks and applies one event; a refused event changes nothing.
    pub fn apply(&mut self, event: RegistryEvent, today: NaiveDate) -> Result<(), RuleViolation> {
        event.check(&self.facts_for(&event), today)?;
        match &event {
            RegistryEvent::KeluargaTerdaftar(family) => {
                for member in &family.members {
                    self.residents.insert(member.nik.clone(), member.clone());
                }
                self.families.insert(family.no_kk.clone(), family.clone());
            }
        }
        self.journal.push(event);
        Ok(())
    }

    pub fn resident(&self, nik: &Nik) -> Option<&Resident> {
        self.residents.get(nik)
    }

    pub fn family(&self, no_kk: &NoKk) -> Option<&Family> {
        self.families.get(no_kk)
    }

    pub fn journal(&self) -> &[RegistryEvent] {
        &self.journal
    }

    pub fn resident_count(&self) -> usize {
        self.residents.len()
    }

    /// The registry-wide invariants: every living resident is in exactly one family (the
    /// one its record names), and every family has exactly one head among its members.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut membership: HashMap<&Nik, usize> = HashMap::new();
        for family in self.families.values() {
            let heads = family
                .members
                .iter()
                .filter(|m| m.relationship == FamilyRelationship::KepalaKeluarga)
                .count();
            if heads != 1 {
                return Err(format!("family {:?} has {heads} heads", family.no_kk));
            }
            for member in &family.members {
                *membership.entry(&member.nik).or_default() += 1;
            }
        }
        let living: HashSet<&Nik> = self
            .residents
            .values()
            .filter(|r| r.status == ResidentStatus::Hidup)
            .map(|r| &r.nik)
            .collect();
        for nik in &living {
            match membership.get(nik) {
                Some(1) => {}
                other => return Err(format!("resident {nik:?} is in {other:?} families")),
            }
            let record = &self.residents[*nik];
            if !self
                .families
                .get(&record.no_kk)
                .is_some_and(|f| f.members.iter().any(|m| &m.nik == *nik))
            {
                return Err(format!(
                    "resident {nik:?} is not in the family its record names"
                ));
            }
        }
        Ok(())
    }
}
