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
#[derive(Debug, Default, Clone, PartialEq, Eq)]
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codes::{Citizenship, Education, MaritalStatus, Religion, Sex};
    use crate::resident::Address;
    use crate::wilayah::KodeWilayah;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    /// A member drawn from a deliberately tiny NIK space (3 dates x 2 sexes x 3 serials),
    /// so random histories clash often.
    #[derive(Debug, Clone)]
    struct MemberSpec {
        date: usize,
        female: bool,
        serial: u16,
        head: bool,
    }

    fn member_spec() -> impl Strategy<Value = MemberSpec> {
        (
            0usize..3,
            any::<bool>(),
            1u16..=3,
            prop::bool::weighted(0.35),
        )
            .prop_map(|(date, female, serial, head)| MemberSpec {
                date,
                female,
                serial,
                head,
            })
    }

    fn family_spec() -> impl Strategy<Value = (u16, Vec<MemberSpec>)> {
        (1u16..=6, prop::collection::vec(member_spec(), 1..4))
    }

    fn build(kk_serial: u16, members: &[MemberSpec]) -> Family {
        let kecamatan = KodeWilayah::parse("35.77.01").unwrap();
        let no_kk = NoKk::compose(
            &kecamatan,
            NaiveDate::from_ymd_opt(2015, 1, 25).unwrap(),
            kk_serial,
        )
        .unwrap();
        let dates = [(1970, 3, 14), (1985, 7, 2), (2010, 5, 9)];
        let members = members
            .iter()
            .map(|m| {
                let (y, mo, d) = dates[m.date];
                let birth = NaiveDate::from_ymd_opt(y, mo, d).unwrap();
                let sex = if m.female {
                    Sex::Perempuan
                } else {
                    Sex::LakiLaki
                };
                Resident {
                    nik: Nik::compose(&kecamatan, birth, sex, m.serial).unwrap(),
                    no_kk: no_kk.clone(),
                    full_name: "Warga".into(),
                    sex,
                    birth_place: "Madiun".into(),
                    birth_date: birth,
                    religion: Religion::Islam,
                    marital_status: MaritalStatus::BelumKawin,
                    relationship: if m.head {
                        FamilyRelationship::KepalaKeluarga
                    } else {
                        FamilyRelationship::Anak
                    },
                    education: Education::Slta,
                    occupation: "Wiraswasta".into(),
                    father_name: String::new(),
                    mother_name: "Ibu".into(),
                    citizenship: Citizenship::Wni,
                    status: ResidentStatus::Hidup,
                }
            })
            .collect();
        Family {
            no_kk,
            address: Address {
                street: "Jl. Pahlawan".into(),
                rt: 1,
                rw: 1,
                kelurahan: KodeWilayah::parse("35.77.01.1001").unwrap(),
            },
            members,
        }
    }

    proptest! {
        /// Whatever history is thrown at it, the registry keeps its invariants: a living
        /// NIK is unique, every living resident is in exactly one family (the one its
        /// record names), and every family has exactly one head. A refused event changes
        /// nothing; an accepted one is exactly what the rules allow.
        #[test]
        fn random_histories_keep_the_invariants(history in prop::collection::vec(family_spec(), 1..25)) {
            let mut registry = InMemoryRegistry::default();
            for (kk_serial, members) in &history {
                let family = build(*kk_serial, members);
                let allowed = family.check(today()).is_ok()
                    && registry.family(&family.no_kk).is_none()
                    && family.members.iter().all(|m| {
                        registry.resident(&m.nik).is_none_or(|r| r.status != ResidentStatus::Hidup)
                    });
                let before = registry.clone();
                let outcome = registry.apply(RegistryEvent::KeluargaTerdaftar(family.clone()), today());
                prop_assert_eq!(outcome.is_ok(), allowed, "{:?}", outcome);
                if outcome.is_ok() {
                    prop_assert_eq!(registry.journal().len(), before.journal().len() + 1);
                    prop_assert_eq!(registry.family(&family.no_kk), Some(&family));
                } else {
                    prop_assert!(registry == before, "a refused event changed the registry");
                }
                prop_assert_eq!(registry.check_invariants(), Ok(()));
            }
        }
    }
}
