//! The registry as a value: residents and family cards in maps, and the one place where a
//! registry event is checked and applied.
//!
//! It serves twice. Property tests drive a whole registry with random histories (the
//! reference model). A store loads into an empty one just the part of its database that a
//! batch of events names, applies the batch here inside its transaction, and writes back
//! what [`InMemoryRegistry::take_changes`] reports: the changed residents and families and
//! the statistics counters' deltas. So what an event *means* is written once.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;

use crate::codes::FamilyRelationship;
use crate::event::{
    BirthRegistered, DeathRegistered, MoveInRegistered, MoveOutRegistered, RegistryEvent,
    RuleViolation,
};
use crate::family::{Family, FamilyError};
use crate::lampid::{FamilyFacts, LampidFacts, LampidPayload, PersonFacts};
use crate::nik::{Nik, NoKk};
use crate::resident::{Address, Departure, Resident, ResidentStatus};
use crate::statistics::{Counter, event_counter, resident_counters};
use crate::wilayah::KodeWilayah;

/// A family card: its address and its living members in card order. A card whose members
/// all died or moved away stays, empty, so their records keep an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyCard {
    pub address: Address,
    pub members: Vec<Nik>,
}

/// What applying events changed, for a store to write back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Residents whose record changed, with their card position.
    pub residents: Vec<(Resident, usize)>,
    /// Families whose card changed (address or members).
    pub families: Vec<(NoKk, FamilyCard)>,
    /// Statistics counters and how much each moved.
    pub counters: BTreeMap<Counter, i64>,
}

/// Residents and families held in maps.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InMemoryRegistry {
    residents: HashMap<Nik, Resident>,
    families: BTreeMap<NoKk, FamilyCard>,
    /// Counter totals since this value was created.
    counters: BTreeMap<Counter, i64>,
    /// Counter changes since [`Self::take_changes`] last ran.
    counter_deltas: BTreeMap<Counter, i64>,
    touched_residents: BTreeSet<Nik>,
    touched_families: BTreeSet<NoKk>,
    applied: u64,
}

impl InMemoryRegistry {
    /// Adds a stored family card with its living members (in card order), as a store read
    /// it. Loading changes nothing that [`Self::take_changes`] reports.
    pub fn load_family(&mut self, no_kk: NoKk, address: Address, members: Vec<Resident>) {
        let niks = members.iter().map(|m| m.nik.clone()).collect();
        for member in members {
            self.residents.insert(member.nik.clone(), member);
        }
        self.families.insert(
            no_kk,
            FamilyCard {
                address,
                members: niks,
            },
        );
    }

    /// Adds a stored resident record (of any status). A living one must belong to a card
    /// loaded with [`Self::load_family`].
    pub fn load_resident(&mut self, resident: Resident) {
        self.residents.insert(resident.nik.clone(), resident);
    }

    /// Checks and applies one event; a refused event changes nothing.
    pub fn apply(&mut self, event: &RegistryEvent, today: NaiveDate) -> Result<(), RuleViolation> {
        let counted: Vec<Nik> = match event {
            RegistryEvent::KelahiranTercatat(e) => vec![e.child.nik.clone()],
            RegistryEvent::DatangTercatat(e) => e.arrivals.iter().map(|r| r.nik.clone()).collect(),
            other => other.referenced_niks().into_iter().cloned().collect(),
        };
        match event {
            RegistryEvent::KeluargaTerdaftar(family) => self.check_new_family(family, today)?,
            RegistryEvent::KelahiranTercatat(e) => self.check_birth(e, today)?,
            RegistryEvent::KematianTercatat(e) => self.check_death(e)?,
            RegistryEvent::PindahTercatat(e) => self.check_move_out(e)?,
            RegistryEvent::DatangTercatat(e) => self.check_move_in(e, today)?,
            RegistryEvent::LaporanDibuat(_)
            | RegistryEvent::LaporanDiubah(_)
            | RegistryEvent::LangkahLaporan(_) => return Ok(()),
        }
        let before = self.counters_of(&counted);
        match event {
            RegistryEvent::KeluargaTerdaftar(family) => self.apply_new_family(family),
            RegistryEvent::KelahiranTercatat(e) => self.apply_birth(e),
            RegistryEvent::KematianTercatat(e) => self.apply_death(e),
            RegistryEvent::PindahTercatat(e) => self.apply_move_out(e),
            RegistryEvent::DatangTercatat(e) => self.apply_move_in(e),
            _ => {}
        }
        let after = self.counters_of(&counted);
        let changes = before
            .into_iter()
            .map(|c| (c, -1))
            .chain(after.into_iter().map(|c| (c, 1)))
            .chain(event_counter(event).map(|c| (c, 1)));
        for (counter, delta) in changes {
            *self.counters.entry(counter.clone()).or_default() += delta;
            *self.counter_deltas.entry(counter).or_default() += delta;
        }
        self.counters.retain(|_, v| *v != 0);
        self.counter_deltas.retain(|_, v| *v != 0);
        self.applied += 1;
        Ok(())
    }

    /// The counters the living among `niks` count in, where their cards are now.
    fn counters_of(&self, niks: &[Nik]) -> Vec<Counter> {
        niks.iter()
            .filter_map(|nik| self.residents.get(nik))
            .filter(|r| r.status == ResidentStatus::Hidup)
            .filter_map(|r| {
                let card = self.families.get(&r.no_kk)?;
                Some(resident_counters(r, &card.address.kelurahan))
            })
            .flatten()
            .collect()
    }

    fn is_living(&self, nik: &Nik) -> bool {
        self.residents
            .get(nik)
            .is_some_and(|r| r.status == ResidentStatus::Hidup)
    }

    /// A card that exists and has living members.
    fn active_card(&self, no_kk: &NoKk) -> Result<&FamilyCard, RuleViolation> {
        self.families
            .get(no_kk)
            .filter(|c| !c.members.is_empty())
            .ok_or(RuleViolation::FamilyNotFound)
    }

    fn head_of<'a>(&'a self, card: &'a FamilyCard) -> Option<&'a Nik> {
        card.members.iter().find(|n| {
            self.residents
                .get(*n)
                .is_some_and(|r| r.relationship == FamilyRelationship::KepalaKeluarga)
        })
    }

    /// The one-head rule for those who stay when `leaving` leave `card`.
    fn check_new_head(
        &self,
        card: &FamilyCard,
        leaving: &[&Nik],
        new_head: Option<&Nik>,
    ) -> Result<(), RuleViolation> {
        let stay: Vec<&Nik> = card
            .members
            .iter()
            .filter(|n| !leaving.contains(n))
            .collect();
        let head_leaves = self.head_of(card).is_some_and(|h| leaving.contains(&h));
        match (head_leaves && !stay.is_empty(), new_head) {
            (true, None) => Err(RuleViolation::NewHeadRequired),
            (true, Some(nik)) if !stay.contains(&nik) => Err(RuleViolation::NewHeadInvalid),
            (false, Some(_)) => Err(RuleViolation::NewHeadInvalid),
            _ => Ok(()),
        }
    }

    fn check_new_family(&self, family: &Family, today: NaiveDate) -> Result<(), RuleViolation> {
        family.check(today)?;
        if self.families.contains_key(&family.no_kk) {
            return Err(RuleViolation::FamilyExists);
        }
        if let Some(index) = family.members.iter().position(|m| self.is_living(&m.nik)) {
            return Err(RuleViolation::NikAlreadyLiving { index: index + 1 });
        }
        Ok(())
    }

    fn apply_new_family(&mut self, family: &Family) {
        for member in &family.members {
            self.put_resident(member.clone());
        }
        self.put_card(
            family.no_kk.clone(),
            FamilyCard {
                address: family.address.clone(),
                members: family.member_niks().cloned().collect(),
            },
        );
    }

    fn check_birth(&self, e: &BirthRegistered, today: NaiveDate) -> Result<(), RuleViolation> {
        let child = &e.child;
        child
            .check(today)
            .map_err(|source| RuleViolation::Biodata { index: 1, source })?;
        if child.status != ResidentStatus::Hidup || child.departure.is_some() {
            return Err(RuleViolation::NotLiving { index: 1 });
        }
        if child.relationship == FamilyRelationship::KepalaKeluarga {
            return Err(FamilyError::HeadCount { found: 2 }.into());
        }
        if self.residents.contains_key(&child.nik) {
            return Err(RuleViolation::NikAlreadyUsed);
        }
        self.active_card(&child.no_kk)?;
        Ok(())
    }

    fn apply_birth(&mut self, e: &BirthRegistered) {
        let child = e.child.clone();
        let no_kk = child.no_kk.clone();
        let nik = child.nik.clone();
        self.put_resident(child);
        self.edit_card(&no_kk, |card| card.members.push(nik));
    }

    fn check_death(&self, e: &DeathRegistered) -> Result<(), RuleViolation> {
        if !self.is_living(&e.nik) {
            return Err(RuleViolation::NotLiving { index: 1 });
        }
        let card = self.active_card(&self.residents[&e.nik].no_kk)?;
        self.check_new_head(card, &[&e.nik], e.new_head.as_ref())
    }

    fn apply_death(&mut self, e: &DeathRegistered) {
        self.leave(
            std::slice::from_ref(&e.nik),
            Departure::Meninggal { date: e.date },
            e.new_head.as_ref(),
        );
    }

    fn check_move_out(&self, e: &MoveOutRegistered) -> Result<(), RuleViolation> {
        let card = self.active_card(&e.no_kk)?;
        if e.movers.is_empty() {
            return Err(FamilyError::NoMembers.into());
        }
        let mut seen = HashSet::new();
        for (i, nik) in e.movers.iter().enumerate() {
            if !self.is_living(nik) {
                return Err(RuleViolation::NotLiving { index: i + 1 });
            }
            if !card.members.contains(nik) || !seen.insert(nik) {
                return Err(RuleViolation::NotMember { index: i + 1 });
            }
        }
        let leaving: Vec<&Nik> = e.movers.iter().collect();
        self.check_new_head(card, &leaving, e.new_head.as_ref())
    }

    fn apply_move_out(&mut self, e: &MoveOutRegistered) {
        self.leave(
            &e.movers,
            Departure::Pindah {
                date: e.registration.local_date(),
                destination: e.destination.clone(),
            },
            e.new_head.as_ref(),
        );
    }

    /// Marks `niks` (members of one card) as left, takes them off their card, and makes
    /// `new_head` the head of those who stay.
    fn leave(&mut self, niks: &[Nik], departure: Departure, new_head: Option<&Nik>) {
        let Some(no_kk) = niks
            .first()
            .and_then(|n| self.residents.get(n))
            .map(|r| r.no_kk.clone())
        else {
            return;
        };
        for nik in niks {
            if let Some(mut record) = self.residents.get(nik).cloned() {
                record.status = departure.status();
                record.departure = Some(departure.clone());
                self.put_resident(record);
            }
        }
        self.edit_card(&no_kk, |card| card.members.retain(|m| !niks.contains(m)));
        if let Some(head) = new_head {
            self.promote(head);
        }
    }

    fn promote(&mut self, nik: &Nik) {
        if let Some(mut record) = self.residents.get(nik).cloned() {
            record.relationship = FamilyRelationship::KepalaKeluarga;
            self.put_resident(record);
        }
    }

    fn check_move_in(&self, e: &MoveInRegistered, today: NaiveDate) -> Result<(), RuleViolation> {
        if e.arrivals.is_empty() {
            return Err(FamilyError::NoMembers.into());
        }
        let heads = e
            .arrivals
            .iter()
            .filter(|r| r.relationship == FamilyRelationship::KepalaKeluarga)
            .count();
        match &e.new_family {
            Some(address) => {
                address.check().map_err(FamilyError::Address)?;
                if self.families.contains_key(&e.no_kk) {
                    return Err(RuleViolation::FamilyExists);
                }
                if heads != 1 {
                    return Err(FamilyError::HeadCount { found: heads }.into());
                }
            }
            None => {
                self.active_card(&e.no_kk)?;
                if heads != 0 {
                    return Err(FamilyError::HeadCount { found: heads + 1 }.into());
                }
            }
        }
        let mut seen = HashSet::new();
        for (i, arrival) in e.arrivals.iter().enumerate() {
            let index = i + 1;
            arrival
                .check(today)
                .map_err(|source| RuleViolation::Biodata { index, source })?;
            if arrival.no_kk != e.no_kk || !seen.insert(&arrival.nik) {
                return Err(FamilyError::MemberOfOtherKk { index }.into());
            }
            if arrival.status != ResidentStatus::Hidup || arrival.departure.is_some() {
                return Err(FamilyError::MemberNotLiving { index }.into());
            }
            let Some(known) = self.residents.get(&arrival.nik) else {
                continue;
            };
            match known.status {
                ResidentStatus::Pindah => {}
                ResidentStatus::Meninggal => return Err(RuleViolation::NotLiving { index }),
                ResidentStatus::Hidup => {
                    if known.no_kk == e.no_kk {
                        return Err(RuleViolation::NikAlreadyLiving { index });
                    }
                    let old = self.active_card(&known.no_kk)?;
                    if known.relationship == FamilyRelationship::KepalaKeluarga
                        && old
                            .members
                            .iter()
                            .any(|m| m != &arrival.nik && !e.arrivals.iter().any(|a| &a.nik == m))
                    {
                        return Err(RuleViolation::HeadLeavesMembers { index });
                    }
                }
            }
        }
        Ok(())
    }

    fn apply_move_in(&mut self, e: &MoveInRegistered) {
        for arrival in &e.arrivals {
            let old = self
                .residents
                .get(&arrival.nik)
                .filter(|r| r.status == ResidentStatus::Hidup)
                .map(|r| r.no_kk.clone());
            if let Some(old) = old {
                self.edit_card(&old, |card| card.members.retain(|m| m != &arrival.nik));
            }
        }
        if let Some(address) = &e.new_family {
            self.put_card(
                e.no_kk.clone(),
                FamilyCard {
                    address: address.clone(),
                    members: Vec::new(),
                },
            );
        }
        for arrival in &e.arrivals {
            self.put_resident(arrival.clone());
            let nik = arrival.nik.clone();
            self.edit_card(&e.no_kk, |card| card.members.push(nik));
        }
    }

    fn put_resident(&mut self, resident: Resident) {
        self.touched_residents.insert(resident.nik.clone());
        self.residents.insert(resident.nik.clone(), resident);
    }

    fn put_card(&mut self, no_kk: NoKk, card: FamilyCard) {
        self.touched_families.insert(no_kk.clone());
        self.families.insert(no_kk, card);
    }

    fn edit_card(&mut self, no_kk: &NoKk, edit: impl FnOnce(&mut FamilyCard)) {
        if let Some(card) = self.families.get_mut(no_kk) {
            edit(card);
            // Positions follow the card order, so every member's row is rewritten too.
            self.touched_residents.extend(card.members.iter().cloned());
            self.touched_families.insert(no_kk.clone());
        }
    }

    /// What changed since the last call: the records and cards to write back and the
    /// counters' deltas. Afterwards nothing counts as changed.
    pub fn take_changes(&mut self) -> Changes {
        let residents = std::mem::take(&mut self.touched_residents)
            .into_iter()
            .filter_map(|nik| {
                let resident = self.residents.get(&nik)?.clone();
                // One who left keeps position 0: only living members are listed in order.
                let position = self
                    .families
                    .get(&resident.no_kk)
                    .and_then(|c| c.members.iter().position(|m| m == &nik))
                    .unwrap_or(0);
                Some((resident, position))
            })
            .collect();
        let families = std::mem::take(&mut self.touched_families)
            .into_iter()
            .filter_map(|kk| Some((kk.clone(), self.families.get(&kk)?.clone())))
            .collect();
        Changes {
            residents,
            families,
            counters: std::mem::take(&mut self.counter_deltas),
        }
    }

    /// The head's NIK of a card, if it has living members.
    pub fn head(&self, no_kk: &NoKk) -> Option<&Nik> {
        self.families.get(no_kk).and_then(|c| self.head_of(c))
    }

    /// The facts an e-LAMPID payload is validated against, from what is loaded.
    /// `known_regions` are the payload's region codes that the master data holds.
    pub fn lampid_facts(
        &self,
        payload: &LampidPayload,
        submitting_kelurahan: KodeWilayah,
        known_regions: HashSet<KodeWilayah>,
    ) -> LampidFacts {
        let mut facts = LampidFacts::new(submitting_kelurahan);
        facts.known_regions = known_regions;
        let mut kks: Vec<&NoKk> = payload.referenced_families();
        for nik in payload.referenced_niks() {
            let Some(person) = self.residents.get(nik) else {
                continue;
            };
            let Some(card) = self.families.get(&person.no_kk) else {
                continue;
            };
            facts.persons.insert(
                nik.clone(),
                PersonFacts {
                    status: person.status,
                    sex: person.sex,
                    birth_date: person.birth_date,
                    kelurahan: card.address.kelurahan.clone(),
                    no_kk: person.no_kk.clone(),
                    died_on: match &person.departure {
                        Some(Departure::Meninggal { date }) => Some(*date),
                        _ => None,
                    },
                },
            );
            kks.push(&person.no_kk);
        }
        for kk in kks {
            if let Some(card) = self.families.get(kk).filter(|c| !c.members.is_empty()) {
                facts.families.insert(
                    kk.clone(),
                    FamilyFacts {
                        kelurahan: card.address.kelurahan.clone(),
                        members: card
                            .members
                            .iter()
                            .filter_map(|m| Some((m.clone(), self.residents.get(m)?.relationship)))
                            .collect(),
                    },
                );
            }
        }
        facts
    }

    pub fn resident(&self, nik: &Nik) -> Option<&Resident> {
        self.residents.get(nik)
    }

    /// The family card with its living members; `None` when absent or empty.
    pub fn family(&self, no_kk: &NoKk) -> Option<Family> {
        let card = self.families.get(no_kk).filter(|c| !c.members.is_empty())?;
        Some(Family {
            no_kk: no_kk.clone(),
            address: card.address.clone(),
            members: card
                .members
                .iter()
                .filter_map(|m| self.residents.get(m).cloned())
                .collect(),
        })
    }

    /// The card of a KK number, empty or not.
    pub fn card(&self, no_kk: &NoKk) -> Option<&FamilyCard> {
        self.families.get(no_kk)
    }

    /// Every card, empty ones included.
    pub fn cards(&self) -> impl Iterator<Item = (&NoKk, &FamilyCard)> {
        self.families.iter()
    }

    /// Every resident record, in no particular order.
    pub fn residents(&self) -> impl Iterator<Item = &Resident> {
        self.residents.values()
    }

    /// Counter totals since this registry was created (for a whole registry: the
    /// statistics).
    pub fn counters(&self) -> &BTreeMap<Counter, i64> {
        &self.counters
    }

    /// Events applied (refused ones not counted).
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// The counters as counted from the records themselves (living residents by the
    /// kelurahan of their card); event counters are not derivable from records and are
    /// left out.
    pub fn counted_from_records(&self) -> BTreeMap<Counter, i64> {
        let mut counts = BTreeMap::new();
        for resident in self.residents.values() {
            if resident.status != ResidentStatus::Hidup {
                continue;
            }
            if let Some(card) = self.families.get(&resident.no_kk) {
                for counter in resident_counters(resident, &card.address.kelurahan) {
                    *counts.entry(counter).or_insert(0) += 1;
                }
            }
        }
        counts
    }

    /// The registry-wide invariants: living NIKs are unique (map keys); every living
    /// resident is on exactly one card, the one its record names; a resident who left is on
    /// none and says how they left; every card with members has exactly one head.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut membership: HashMap<&Nik, usize> = HashMap::new();
        for (no_kk, card) in &self.families {
            if !card.members.is_empty() {
                let heads = card
                    .members
                    .iter()
                    .filter(|m| {
                        self.residents
                            .get(*m)
                            .is_some_and(|r| r.relationship == FamilyRelationship::KepalaKeluarga)
                    })
                    .count();
                if heads != 1 {
                    return Err(format!("family {no_kk:?} has {heads} heads"));
                }
            }
            for member in &card.members {
                *membership.entry(member).or_default() += 1;
            }
        }
        for (nik, record) in &self.residents {
            let on_cards = membership.get(nik).copied().unwrap_or(0);
            match record.status {
                ResidentStatus::Hidup => {
                    if on_cards != 1 {
                        return Err(format!("resident {nik:?} is on {on_cards} cards"));
                    }
                    if !self
                        .families
                        .get(&record.no_kk)
                        .is_some_and(|c| c.members.contains(nik))
                    {
                        return Err(format!("resident {nik:?} is not on the card it names"));
                    }
                    if record.departure.is_some() {
                        return Err(format!("living resident {nik:?} has a departure"));
                    }
                }
                status => {
                    if on_cards != 0 {
                        return Err(format!("{status:?} resident {nik:?} is still on a card"));
                    }
                    if record.departure.as_ref().map(Departure::status) != Some(status) {
                        return Err(format!("{status:?} resident {nik:?} without departure"));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
