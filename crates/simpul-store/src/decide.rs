//! The part of an append every backend does the same way: turning the keys it read inside
//! its transaction into the domain's facts, checking a batch of events, in order, against
//! them, and working out the journal rows and read-model rows the batch writes. Backends
//! only read and write; what an event means is decided here and in the domain, once.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use simpul_domain::{EventFacts, Nik, NoKk, RegistryEvent};

use crate::rows::{DATA, FamilyRow, JOURNAL, ResidentRow};
use crate::vault::Vault;
use crate::{AppendReceipt, StoreError};

/// The stored keys an append must look up before it can check a batch: the blind indexes
/// of the NIKs and KK numbers the batch names ([`EventFacts::keys_for`]), and the way
/// back from an index to its number.
pub struct FactLookup {
    pub nik_indexes: Vec<String>,
    pub no_kk_indexes: Vec<String>,
    niks: HashMap<String, Nik>,
    families: HashMap<String, NoKk>,
}

impl FactLookup {
    pub fn for_events(events: &[RegistryEvent], vault: &Vault) -> Self {
        let (niks, kks) = EventFacts::keys_for(events);
        let niks: HashMap<String, Nik> = niks
            .into_iter()
            .map(|nik| (vault.nik_index(nik), nik.clone()))
            .collect();
        let families: HashMap<String, NoKk> = kks
            .into_iter()
            .map(|kk| (vault.no_kk_index(kk), kk.clone()))
            .collect();
        Self {
            nik_indexes: niks.keys().cloned().collect(),
            no_kk_indexes: families.keys().cloned().collect(),
            niks,
            families,
        }
    }

    /// The facts from what the backend found: of the indexes looked up, those of living
    /// residents and of existing families. An index not looked up means a wrong query.
    pub fn facts(
        &self,
        living_nik_indexes: &[String],
        existing_no_kk_indexes: &[String],
    ) -> Result<EventFacts, StoreError> {
        let not_asked = || StoreError::Corrupt("fact row not asked for".into());
        Ok(EventFacts {
            living_niks: living_nik_indexes
                .iter()
                .map(|i| self.niks.get(i).cloned().ok_or_else(not_asked))
                .collect::<Result<HashSet<_>, _>>()?,
            existing_families: existing_no_kk_indexes
                .iter()
                .map(|i| self.families.get(i).cloned().ok_or_else(not_asked))
                .collect::<Result<HashSet<_>, _>>()?,
        })
    }
}

/// Checks each event against the facts as the events before it in the batch leave them,
/// so two events of one batch that clash are caught too. The first refusal is reported
/// with its index, and nothing may then be written.
pub fn check_in_order(
    events: &[RegistryEvent],
    mut facts: EventFacts,
    today: NaiveDate,
) -> Result<(), StoreError> {
    for (index, event) in events.iter().enumerate() {
        event
            .check(&facts, today)
            .map_err(|violation| StoreError::Rejected { index, violation })?;
        facts.record(event);
    }
    Ok(())
}

/// One journal row as every backend stores it.
#[derive(Debug, Clone)]
pub struct JournalRow {
    pub sequence: i64,
    /// CloudEvents `type`.
    pub event_type: &'static str,
    /// CloudEvents `subject`: the event's kelurahan.
    pub subject: String,
    /// The event as JSON, sealed (see [`crate::vault`]).
    pub data: String,
}

/// The journal rows for `events`, numbered from `first`.
pub fn journal_rows(
    first: i64,
    events: &[RegistryEvent],
    vault: &Vault,
) -> Result<Vec<JournalRow>, StoreError> {
    events
        .iter()
        .zip(first..)
        .map(|(event, sequence)| {
            Ok(JournalRow {
                sequence,
                event_type: event.event_type(),
                subject: event.kelurahan().as_str().to_owned(),
                data: vault.seal_json(JOURNAL, DATA, &sequence.to_string(), event)?,
            })
        })
        .collect()
}

/// The read-model rows a batch of events adds.
#[derive(Debug, Clone, Default)]
pub struct ReadModelRows {
    pub families: Vec<FamilyRow>,
    pub residents: Vec<ResidentRow>,
    /// `(name word index, NIK index)` pairs for the name-token table.
    pub name_tokens: Vec<(String, String)>,
}

/// What applying `events` adds to the read models, sealed and blinded with `vault`.
pub fn read_model_rows(
    events: &[RegistryEvent],
    vault: &Vault,
) -> Result<ReadModelRows, StoreError> {
    let mut rows = ReadModelRows::default();
    for event in events {
        match event {
            RegistryEvent::KeluargaTerdaftar(family) => {
                rows.families.push(FamilyRow::from_domain(family, vault)?);
                for (position, member) in family.members.iter().enumerate() {
                    let (row, tokens) =
                        ResidentRow::from_domain(member, &family.address, position, vault)?;
                    rows.name_tokens
                        .extend(tokens.into_iter().map(|t| (t, row.nik_index.clone())));
                    rows.residents.push(row);
                }
            }
        }
    }
    Ok(rows)
}

/// The receipt for `count` events journaled from sequence `first` on.
pub fn receipt(first: u64, count: usize) -> AppendReceipt {
    AppendReceipt {
        sequences: (first..first + count as u64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{fixture_family, fixture_today};
    use crate::rows::open_journal_data;
    use simpul_domain::RuleViolation;

    #[test]
    fn a_clash_inside_one_batch_is_refused_at_its_index() {
        let family = RegistryEvent::KeluargaTerdaftar(fixture_family("35.77.01.1001", 1, "Budi"));
        let other = RegistryEvent::KeluargaTerdaftar(fixture_family("35.77.01.1002", 2, "Joko"));
        let facts = EventFacts::default();
        assert!(
            check_in_order(
                &[family.clone(), other.clone()],
                facts.clone(),
                fixture_today()
            )
            .is_ok()
        );
        let refused = check_in_order(&[family.clone(), other, family], facts, fixture_today());
        assert!(
            matches!(
                refused,
                Err(StoreError::Rejected {
                    index: 2,
                    violation: RuleViolation::FamilyExists
                })
            ),
            "{refused:?}"
        );
    }

    #[test]
    fn found_indexes_map_back_to_their_numbers_and_strangers_are_corrupt() {
        let vault = Vault::ephemeral();
        let family = fixture_family("35.77.01.1001", 1, "Budi");
        let events = [RegistryEvent::KeluargaTerdaftar(family.clone())];
        let lookup = FactLookup::for_events(&events, &vault);
        let head = vault.nik_index(&family.members[0].nik);
        let kk = vault.no_kk_index(&family.no_kk);
        assert!(lookup.nik_indexes.contains(&head));
        let facts = lookup.facts(&[head], &[kk]).expect("asked for");
        assert!(facts.living_niks.contains(&family.members[0].nik));
        assert!(facts.existing_families.contains(&family.no_kk));
        let refused = lookup.facts(&["00".repeat(32)], &[]);
        assert!(
            matches!(refused, Err(StoreError::Corrupt(_))),
            "{refused:?}"
        );
        assert_eq!(receipt(4, 3).sequences, [4, 5, 6]);
    }

    #[test]
    fn a_registered_family_becomes_one_sealed_journal_row_and_its_read_model_rows() {
        let vault = Vault::ephemeral();
        let family = fixture_family("35.77.02.1006", 3, "Slamet");
        let events = [RegistryEvent::KeluargaTerdaftar(family.clone())];
        let journal = journal_rows(7, &events, &vault).expect("encodable");
        assert_eq!(journal.len(), 1);
        assert_eq!(
            (
                journal[0].sequence,
                journal[0].event_type,
                journal[0].subject.as_str()
            ),
            (7, "id.simpul.keluarga.terdaftar.v1", "35.77.02.1006")
        );
        assert!(!journal[0].data.contains(family.members[0].nik.as_str()));
        let opened = open_journal_data(7, &journal[0].data, &vault).expect("opens");
        let decoded: RegistryEvent = serde_json::from_value(opened).expect("decodes");
        assert_eq!(decoded, events[0]);
        let rows = read_model_rows(&events, &vault).expect("seals");
        assert_eq!(rows.families.len(), 1);
        assert_eq!(
            rows.families[0].head_nik_index,
            vault.nik_index(&family.members[0].nik)
        );
        let positions: Vec<i64> = rows.residents.iter().map(|r| r.position).collect();
        assert_eq!(positions, [0, 1, 2]);
        assert!(rows.residents.iter().all(|r| r.kecamatan == "35.77.02"));
        let back = rows.residents[0]
            .clone()
            .into_resident(&vault)
            .expect("opens");
        assert_eq!(back, family.members[0]);
        assert!(!rows.name_tokens.is_empty());
    }
}
