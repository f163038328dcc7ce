//! The part of an append every backend does the same way: turning the keys it read inside
//! its transaction into the domain's facts, checking a batch of events, in order, against
//! them, and working out the journal rows and read-model rows the batch writes. Backends
//! only read and write; what an event means is decided here and in the domain, once.

use std::collections::HashSet;

use chrono::NaiveDate;
use simpul_domain::{EventFacts, RegistryEvent};

use crate::rows::{FamilyRow, ResidentRow, parse_nik, parse_no_kk};
use crate::{AppendReceipt, StoreError};

/// The facts from the stored keys a backend found: of the NIKs and KK numbers the batch
/// names ([`EventFacts::keys_for`]), those of living residents and of existing families.
pub fn facts_from_keys(
    living_niks: &[String],
    existing_families: &[String],
) -> Result<EventFacts, StoreError> {
    Ok(EventFacts {
        living_niks: living_niks
            .iter()
            .map(|n| parse_nik(n))
            .collect::<Result<HashSet<_>, _>>()?,
        existing_families: existing_families
            .iter()
            .map(|k| parse_no_kk(k))
            .collect::<Result<HashSet<_>, _>>()?,
    })
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
    /// The event as JSON text.
    pub data: String,
}

/// The journal rows for `events`, numbered from `first`.
pub fn journal_rows(first: i64, events: &[RegistryEvent]) -> Result<Vec<JournalRow>, StoreError> {
    events
        .iter()
        .zip(first..)
        .map(|(event, sequence)| {
            Ok(JournalRow {
                sequence,
                event_type: event.event_type(),
                subject: event.kelurahan().as_str().to_owned(),
                // The error is named by kind only: serde's message could quote the event.
                data: serde_json::to_string(event).map_err(|e| {
                    StoreError::Corrupt(format!("event not encodable ({:?})", e.classify()))
                })?,
            })
        })
        .collect()
}

/// The read-model rows a batch of events adds (residents carry their name tokens with
/// them: [`ResidentRow::name_tokens`]).
#[derive(Debug, Clone, Default)]
pub struct ReadModelRows {
    pub families: Vec<FamilyRow>,
    pub residents: Vec<ResidentRow>,
}

/// What applying `events` adds to the read models.
pub fn read_model_rows(events: &[RegistryEvent]) -> ReadModelRows {
    let mut rows = ReadModelRows::default();
    for event in events {
        match event {
            RegistryEvent::KeluargaTerdaftar(family) => {
                rows.families.push(FamilyRow::from_domain(family));
                rows.residents.extend(family.members.iter().enumerate().map(
                    |(position, member)| {
                        ResidentRow::from_domain(member, &family.address, position)
                    },
                ));
            }
        }
    }
    rows
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
    use simpul_domain::RuleViolation;

    #[test]
    fn a_clash_inside_one_batch_is_refused_at_its_index() {
        let family = RegistryEvent::KeluargaTerdaftar(fixture_family("35.77.01.1001", 1, "Budi"));
        let other = RegistryEvent::KeluargaTerdaftar(fixture_family("35.77.01.1002", 2, "Joko"));
        let facts = facts_from_keys(&[], &[]).expect("no keys");
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
    fn stored_keys_that_do_not_parse_are_corrupt() {
        let refused = facts_from_keys(&["12".to_owned()], &[]);
        assert!(
            matches!(refused, Err(StoreError::Corrupt(_))),
            "{refused:?}"
        );
        assert_eq!(receipt(4, 3).sequences, [4, 5, 6]);
    }

    #[test]
    fn a_registered_family_becomes_one_journal_row_and_its_read_model_rows() {
        let family = fixture_family("35.77.02.1006", 3, "Slamet");
        let events = [RegistryEvent::KeluargaTerdaftar(family.clone())];
        let journal = journal_rows(7, &events).expect("encodable");
        assert_eq!(journal.len(), 1);
        assert_eq!(
            (
                journal[0].sequence,
                journal[0].event_type,
                journal[0].subject.as_str()
            ),
            (7, "id.simpul.keluarga.terdaftar.v1", "35.77.02.1006")
        );
        let decoded: RegistryEvent = serde_json::from_str(&journal[0].data).expect("decodes");
        assert_eq!(decoded, events[0]);
        let rows = read_model_rows(&events);
        assert_eq!(rows.families.len(), 1);
        assert_eq!(rows.families[0].head_nik, family.members[0].nik.as_str());
        let positions: Vec<i64> = rows.residents.iter().map(|r| r.position).collect();
        assert_eq!(positions, [0, 1, 2]);
        assert!(rows.residents.iter().all(|r| r.kecamatan == "35.77.02"));
    }
}
