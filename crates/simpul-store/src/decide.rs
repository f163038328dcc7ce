//! Journal rows as every backend stores them: the event sealed, with its CloudEvents
//! attributes beside it.
//!
//! # Encoding (`simpul.journal.v1`)
//! One row per event, in a total, gap-free order:
//! - `sequence`: position from 1 (CloudEvents `id` is `simpul:<sequence>`);
//! - `event_type`: CloudEvents `type`, e.g. `id.simpul.kelahiran.tercatat.v1`, versioned;
//! - `subject`: CloudEvents `subject`, the kelurahan the event belongs to;
//! - `recorded_at`: CloudEvents `time`, when it was committed (RFC 3339, microseconds);
//! - `data`: the event as JSON (`{"jenis": …, "data": …}`, see
//!   [`RegistryEvent`](simpul_domain::RegistryEvent)), sealed with the data key and bound to
//!   the table, column and sequence, so a row moved elsewhere does not open;
//!   CloudEvents `datacontenttype` is `application/json`, `source` is `/simpul/journal`.
//!
//! The ledger, the agency change feed and replication read this encoding; a reader gets the
//! same events from [`crate::Store::journal_after`] opened, and each as a CloudEvents 1.0
//! JSON event from [`crate::JournalEntry::to_cloudevent`] (with the `sequence` extension
//! attribute carrying the total order).
//!
//! Event types (all `.v1`): `keluarga.terdaftar`, `kelahiran.tercatat`, `kematian.tercatat`,
//! `pindah.tercatat`, `datang.tercatat` (registry changes, carrying the numbers
//! registration issued) and `laporan.dibuat`, `laporan.diubah`, `laporan.langkah`
//! (workflow steps), each prefixed `id.simpul.`.

use simpul_domain::RegistryEvent;

use crate::rows::{DATA, JOURNAL};
use crate::vault::Vault;
use crate::{AppendReceipt, StoreError};

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

/// The receipt for `count` events journaled from sequence `first` on.
pub fn receipt(first: u64, count: usize) -> AppendReceipt {
    AppendReceipt {
        sequences: (first..first + count as u64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::fixture_family;
    use crate::rows::open_journal_data;

    #[test]
    fn a_journal_entry_is_a_cloudevent() {
        let entry = crate::JournalEntry {
            sequence: 42,
            event_type: "id.simpul.kelahiran.tercatat.v1".into(),
            subject: "35.77.01.1001".into(),
            recorded_at: chrono::DateTime::from_timestamp(1_764_640_000, 123_456_000)
                .expect("time"),
            data: serde_json::json!({"jenis": "kelahiran_tercatat", "data": {}}),
        };
        let event = entry.to_cloudevent();
        assert_eq!(event["specversion"], "1.0");
        assert_eq!(event["id"], "simpul:42");
        assert_eq!(event["type"], "id.simpul.kelahiran.tercatat.v1");
        assert_eq!(event["subject"], "35.77.01.1001");
        assert_eq!(event["time"], "2025-12-02T01:46:40.123456Z");
        assert_eq!(event["data"]["jenis"], "kelahiran_tercatat");
    }

    #[test]
    fn a_registered_family_becomes_one_sealed_journal_row() {
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
        assert!(
            open_journal_data(8, &journal[0].data, &vault).is_err(),
            "a row moved to another sequence does not open"
        );
        assert_eq!(receipt(4, 3).sequences, [4, 5, 6]);
    }
}
