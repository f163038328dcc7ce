//! The part of an append every backend does the same way: turning the keys it read inside
//! its transaction into the domain's facts, and checking a batch of events, in order,
//! against them. Backends only read and write; the decision is made here and in the domain.

use std::collections::HashSet;

use chrono::NaiveDate;
use simpul_domain::{EventFacts, RegistryEvent};

use crate::rows::{parse_nik, parse_no_kk};
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
}
