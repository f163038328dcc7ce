//! Contract checks for the ledger: sealing the journal and the access log, proofs from the
//! stored nodes, two sealers on one database, key rotation, and the tamper cases every
//! backend runs with its own raw SQL (see [`tamper_cases`]).

use chrono::{Duration, TimeZone, Utc};
use simpul_ledger::{
    Checkpoint, Hash, KeyName, MemoryTree, NoteSigner, NoteVerifier, verify_checkpoint,
    verify_consistency, verify_inclusion,
};

use crate::contract::{TestKeys, fixture_family};
use crate::ledger::{LeafKind, consistency_path, inclusion_path};
use crate::ledger_seal::Sealer;
use crate::ledger_verify::{LedgerFault, verify_store};
use crate::{AccessRecord, Store, StoreError, reseal_all};

/// The log name the checks sign with.
pub const TEST_ORIGIN: &str = "simpul.test/ledger";

/// The log key the checks sign with (a fixed seed: the tests are about the store).
pub fn test_log_key() -> NoteSigner {
    NoteSigner::from_seed(
        KeyName::new(TEST_ORIGIN).unwrap_or_else(|e| panic!("key name: {e}")),
        &[7; 32],
    )
}

fn access(minute: i64, actor: &str) -> AccessRecord {
    AccessRecord {
        at: Utc
            .with_ymd_and_hms(2026, 11, 25, 8, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::minutes(minute),
        actor_kind: "akun".into(),
        actor: actor.into(),
        role: "operator".into(),
        action: "read_resident".into(),
        purpose: Some("pelayanan".into()),
        residents: vec![format!("{minute:064x}")],
        fields: vec!["nama_lengkap".into()],
        outcome: "allowed".into(),
        reason: None,
        network: Some("10.0.0.0/24".into()),
        request_id: format!("req-{minute}"),
    }
}

async fn add_history(store: &dyn Store, from: u16, to: u16) {
    let events: Vec<_> = (from..to)
        .map(|i| {
            crate::RegistryEvent::KeluargaTerdaftar(fixture_family(
                "35.77.01.1001",
                i,
                &format!("Kepala {i}"),
            ))
        })
        .collect();
    store.append(&events).await.expect("append");
    let records: Vec<_> = (i64::from(from)..i64::from(to))
        .map(|m| access(m, "operator-1"))
        .collect();
    store.append_access(&records).await.expect("access");
}

/// Seals everything pending in passes of `batch` rows per source, checkpointing after each.
pub async fn seal_all(store: &dyn Store, sealer: &mut Sealer, batch: u32) -> u64 {
    let mut total = 0;
    loop {
        let added = sealer.seal_pending(store, batch).await.expect("seal");
        sealer
            .checkpoint(store, Utc::now())
            .await
            .expect("checkpoint");
        if added == 0 {
            return total;
        }
        total += added;
    }
}

/// A store with 6 journal rows, 6 access entries and several checkpoints, all sealed.
pub async fn sealed_fixture(store: &dyn Store) -> NoteVerifier {
    let mut sealer = Sealer::new(TEST_ORIGIN, test_log_key());
    add_history(store, 1, 4).await;
    assert_eq!(seal_all(store, &mut sealer, 2).await, 6);
    add_history(store, 4, 7).await;
    assert_eq!(seal_all(store, &mut sealer, 2).await, 6);
    test_log_key().verifier()
}

pub async fn the_ledger_seals_both_sources_and_verifies(store: &impl Store, _keys: &TestKeys) {
    let log_key = sealed_fixture(store).await;
    let report = verify_store(store, &log_key).await.expect("verifies");
    assert_eq!(report.leaves, 12);
    assert_eq!((report.journal_rows, report.access_rows), (6, 6));
    assert!(report.checkpoints >= 2, "{report:?}");

    // The stored leaves rebuild the same tree a memory log gives, and the latest checkpoint
    // signs its root.
    let leaves = store.ledger_leaves(0, 100).await.expect("leaves");
    let mut tree = MemoryTree::new();
    for leaf in &leaves {
        tree.append(leaf.leaf_hash()).expect("append");
    }
    let latest = store
        .latest_checkpoint()
        .await
        .expect("read")
        .expect("a checkpoint");
    let checkpoint = verify_checkpoint(&latest.note, &[log_key]).expect("signed");
    assert_eq!(
        (checkpoint.size(), *checkpoint.root()),
        (tree.size(), tree.root())
    );
    // Journal rows and access entries are both in it, each kind in order.
    for kind in [LeafKind::Journal, LeafKind::Access] {
        let sequences: Vec<u64> = leaves
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.sequence)
            .collect();
        assert_eq!(sequences, [1, 2, 3, 4, 5, 6], "{kind:?}");
    }
    let leaf = store
        .ledger_leaf_of(LeafKind::Access, 5)
        .await
        .expect("read")
        .expect("sealed");
    assert_eq!(leaves[leaf as usize].sequence, 5);

    // A resident's accesses are found whether sealed or not.
    let resident = format!("{:064x}", 5);
    let found = |entries: Vec<crate::AccessEntry>| -> Vec<u64> {
        entries.iter().map(|e| e.sequence).collect()
    };
    let mut again = access(5, "operator-2");
    again.request_id = "req-again".into();
    store.append_access(&[again]).await.expect("access");
    assert_eq!(
        found(store.access_to_resident(&resident, 10).await.expect("read")),
        [5, 7]
    );
    let mut sealer = Sealer::new(TEST_ORIGIN, test_log_key());
    seal_all(store, &mut sealer, 100).await;
    assert_eq!(
        found(store.access_to_resident(&resident, 10).await.expect("read")),
        [5, 7]
    );

    // Proofs read from the stored nodes verify, at every size.
    let first = store.checkpoints(None, 1).await.expect("read")[0].clone();
    for index in 0..tree.size() {
        let proof = inclusion_path(store, index, tree.size())
            .await
            .expect("proof");
        verify_inclusion(
            &leaves[index as usize].leaf_hash(),
            index,
            tree.size(),
            &proof,
            &tree.root(),
        )
        .expect("inclusion verifies");
    }
    let proof = consistency_path(store, first.size, tree.size())
        .await
        .expect("proof");
    verify_consistency(first.size, tree.size(), &proof, &first.root, &tree.root())
        .expect("consistency verifies");
}

pub async fn a_second_sealer_conflicts_then_catches_up(store: &impl Store, _keys: &TestKeys) {
    let mut one = Sealer::new(TEST_ORIGIN, test_log_key());
    let mut two = Sealer::new(TEST_ORIGIN, test_log_key());
    // Both load the empty ledger; the first to append wins.
    assert_eq!(one.seal_pending(store, 1).await.expect("one"), 0);
    assert_eq!(two.seal_pending(store, 1).await.expect("two"), 0);
    add_history(store, 1, 3).await;
    assert_eq!(one.seal_pending(store, 1).await.expect("one"), 2);
    let outcome = two.seal_pending(store, 1).await;
    assert!(
        matches!(outcome, Err(StoreError::Conflict)),
        "second sealer: {outcome:?}"
    );
    // The loser reloads and continues where the winner stopped.
    assert_eq!(two.seal_pending(store, 10).await.expect("two"), 2);
    two.checkpoint(store, Utc::now()).await.expect("checkpoint");
    let report = verify_store(store, &test_log_key().verifier())
        .await
        .expect("verifies");
    assert_eq!(report.leaves, 4);
}

pub async fn rotating_the_data_key_keeps_the_ledger_valid(store: &impl Store, keys: &TestKeys) {
    let log_key = sealed_fixture(store).await;
    keys.rotate("data-2");
    reseal_all(store, 100, |_, _| {}).await.expect("reseal");
    keys.drop_old_data_keys();
    verify_store(store, &log_key)
        .await
        .expect("a resealed journal keeps its digests");
}

pub async fn a_forged_or_foreign_checkpoint_is_refused(store: &impl Store, _keys: &TestKeys) {
    sealed_fixture(store).await;
    // The same log signed with another key is not this log.
    let other = NoteSigner::from_seed(KeyName::new(TEST_ORIGIN).expect("name"), &[8; 32]);
    let outcome = verify_store(store, &other.verifier()).await;
    assert!(
        matches!(outcome, Err(LedgerFault::CheckpointSignature { .. })),
        "{outcome:?}"
    );
    // A checkpoint signed by the right key for a root the leaves do not make.
    let tip = store.ledger_tip().await.expect("tip");
    let forged = Checkpoint::new(TEST_ORIGIN, tip.size + 1, Hash::from([1; 32])).expect("body");
    store
        .add_checkpoint(&crate::CheckpointRecord {
            size: tip.size + 1,
            root: Hash::from([1; 32]),
            note: simpul_ledger::sign_checkpoint(&forged, &test_log_key()).expect("sign"),
            at: Utc::now(),
        })
        .await
        .expect("store");
    let outcome = verify_store(store, &test_log_key().verifier()).await;
    assert!(
        matches!(outcome, Err(LedgerFault::CheckpointBeyondLog { .. })),
        "{outcome:?}"
    );
}

pub async fn an_exported_bundle_verifies_with_the_key_alone(store: &impl Store, _keys: &TestKeys) {
    use crate::ledger_bundle::{BundleFault, export_bundle, verify_bundle};
    let log_key = sealed_fixture(store).await;
    let bundle = export_bundle(store, 2, 9).await.expect("export");
    assert_eq!(bundle.entries.len(), 7);
    // Through JSON, as an auditor receives it.
    let text = serde_json::to_string(&bundle).expect("json");
    let bundle: crate::ledger_bundle::Bundle = serde_json::from_str(&text).expect("parse");
    let report = verify_bundle(&bundle, &log_key).expect("verifies");
    assert_eq!((report.tree_size, report.entries), (12, 7));
    assert!(report.access_entries >= 3, "{report:?}");
    assert!(
        !text.contains("Kepala"),
        "a bundle holds no journal event (names)"
    );

    let other = NoteSigner::from_seed(KeyName::new(TEST_ORIGIN).expect("name"), &[8; 32]);
    assert!(matches!(
        verify_bundle(&bundle, &other.verifier()),
        Err(BundleFault::Checkpoint(_))
    ));
    let mut changed = bundle.clone();
    let access = changed
        .entries
        .iter_mut()
        .find(|e| e.akses.is_some())
        .expect("an access entry");
    access.akses = access
        .akses
        .as_ref()
        .map(|a| a.replace("pelayanan", "lainnya"));
    assert!(matches!(
        verify_bundle(&changed, &log_key),
        Err(BundleFault::AccessMismatch { .. })
    ));
    let mut changed = bundle.clone();
    // Another leaf's entry (and record) at this index.
    changed.entries[3].entry = changed.entries[4].entry.clone();
    changed.entries[3].akses = changed.entries[4].akses.clone();
    assert!(matches!(
        verify_bundle(&changed, &log_key),
        Err(BundleFault::Inclusion { position: 3, .. })
    ));
    let mut changed = bundle.clone();
    changed.entries.swap(0, 1);
    assert!(matches!(
        verify_bundle(&changed, &log_key),
        Err(BundleFault::NotARange { position: 1, .. })
    ));
    let mut changed = bundle.clone();
    changed.entries.remove(2);
    assert!(matches!(
        verify_bundle(&changed, &log_key),
        Err(BundleFault::NotARange { position: 2, .. })
    ));
    assert!(
        export_bundle(store, 5, 13).await.is_err(),
        "beyond the checkpoint"
    );
}

/// One way of tampering with a sealed store: SQL both dialects accept, run directly on the
/// database, and what verification must then report.
pub struct TamperCase {
    pub name: &'static str,
    pub statements: &'static [&'static str],
    pub expect: fn(&LedgerFault) -> bool,
}

/// Modified, deleted, inserted and reordered rows in the journal, the access log and the
/// ledger tables. Each runs on a fresh [`sealed_fixture`].
pub fn tamper_cases() -> Vec<TamperCase> {
    use LedgerFault as F;
    vec![
        TamperCase {
            name: "journal row modified",
            statements: &["UPDATE journal SET subject = '35.77.02.1001' WHERE sequence = 2"],
            expect: |f| {
                matches!(
                    f,
                    F::SourceModified {
                        kind: "journal",
                        sequence: 2,
                        ..
                    }
                )
            },
        },
        TamperCase {
            name: "journal event replaced by another row's",
            statements: &[
                "UPDATE journal SET data = (SELECT data FROM journal WHERE sequence = 1) WHERE sequence = 3",
            ],
            expect: |f| {
                matches!(
                    f,
                    F::SourceUnreadable {
                        kind: "journal",
                        after: 2,
                        ..
                    }
                )
            },
        },
        TamperCase {
            name: "journal row deleted",
            statements: &["DELETE FROM journal WHERE sequence = 4"],
            expect: |f| {
                matches!(
                    f,
                    F::SourceMissing {
                        kind: "journal",
                        sequence: 4,
                        ..
                    }
                )
            },
        },
        TamperCase {
            name: "journal row inserted",
            statements: &[
                "INSERT INTO journal (sequence, event_type, subject, recorded_at, data) \
                 SELECT 7, event_type, subject, recorded_at, data FROM journal WHERE sequence = 6",
            ],
            expect: |f| {
                matches!(
                    f,
                    F::SourceUnreadable {
                        kind: "journal",
                        after: 6,
                        ..
                    }
                )
            },
        },
        TamperCase {
            name: "journal rows reordered",
            statements: &[
                "UPDATE journal SET sequence = 100 WHERE sequence = 2",
                "UPDATE journal SET sequence = 2 WHERE sequence = 3",
                "UPDATE journal SET sequence = 3 WHERE sequence = 100",
            ],
            expect: |f| {
                matches!(
                    f,
                    F::SourceUnreadable {
                        kind: "journal",
                        after: 1,
                        ..
                    }
                )
            },
        },
        TamperCase {
            name: "access entry modified",
            statements: &["UPDATE access_log SET purpose = 'lain' WHERE sequence = 5"],
            expect: |f| {
                matches!(
                    f,
                    F::SourceModified {
                        kind: "akses",
                        sequence: 5,
                        ..
                    }
                )
            },
        },
        TamperCase {
            name: "access entry deleted",
            statements: &["DELETE FROM access_log WHERE sequence = 1"],
            expect: |f| {
                matches!(
                    f,
                    F::SourceMissing {
                        kind: "akses",
                        sequence: 1,
                        ..
                    }
                )
            },
        },
        TamperCase {
            name: "access entry inserted",
            statements: &[
                "INSERT INTO access_log (sequence, at, actor_kind, actor, role, action, purpose, \
                 residents, fields, outcome, reason, network, request_id) \
                 SELECT 7, at, actor_kind, actor, role, action, purpose, residents, fields, \
                 outcome, reason, network, request_id FROM access_log WHERE sequence = 6",
            ],
            expect: |f| {
                matches!(
                    f,
                    F::NotInLedger {
                        kind: "akses",
                        sequence: 7
                    }
                )
            },
        },
        TamperCase {
            name: "access entries reordered",
            statements: &[
                "UPDATE access_log SET sequence = 100 WHERE sequence = 2",
                "UPDATE access_log SET sequence = 2 WHERE sequence = 3",
                "UPDATE access_log SET sequence = 3 WHERE sequence = 100",
            ],
            expect: |f| {
                matches!(
                    f,
                    F::SourceModified {
                        kind: "akses",
                        sequence: 2,
                        ..
                    }
                )
            },
        },
        TamperCase {
            name: "ledger leaf modified",
            statements: &[
                "UPDATE ledger_leaves SET digest = (SELECT digest FROM ledger_leaves WHERE leaf_index = 0) \
                 WHERE leaf_index = 1",
            ],
            expect: |f| matches!(f, F::SourceModified { index: 1, .. }),
        },
        TamperCase {
            name: "ledger leaf deleted",
            statements: &["DELETE FROM ledger_leaves WHERE leaf_index = 5"],
            expect: |f| matches!(f, F::LeafMissing { index: 5, .. }),
        },
        TamperCase {
            name: "ledger leaf inserted",
            statements: &[
                "INSERT INTO ledger_leaves (leaf_index, kind, sequence, digest) \
                 SELECT 12, 'journal', 7, digest FROM ledger_leaves WHERE leaf_index = 0",
            ],
            expect: |f| matches!(f, F::SourceMissing { index: 12, .. }),
        },
        TamperCase {
            name: "ledger leaves reordered",
            statements: &[
                "UPDATE ledger_leaves SET leaf_index = 100 WHERE leaf_index = 0",
                "UPDATE ledger_leaves SET leaf_index = 0 WHERE leaf_index = 1",
                "UPDATE ledger_leaves SET leaf_index = 1 WHERE leaf_index = 100",
            ],
            expect: |f| matches!(f, F::LeafOutOfOrder { index: 0, .. }),
        },
        TamperCase {
            name: "ledger node modified",
            statements: &[
                "UPDATE ledger_nodes SET hash = (SELECT hash FROM ledger_nodes WHERE level = 0 AND node_index = 0) \
                 WHERE level = 1 AND node_index = 1",
            ],
            expect: |f| matches!(f, F::NodeModified { level: 1, index: 1 }),
        },
        TamperCase {
            name: "ledger node deleted",
            statements: &["DELETE FROM ledger_nodes WHERE level = 2 AND node_index = 0"],
            expect: |f| matches!(f, F::NodeMissing { level: 2, index: 0 }),
        },
        TamperCase {
            name: "ledger node inserted",
            statements: &["INSERT INTO ledger_nodes (level, node_index, hash) \
                 SELECT 40, 0, hash FROM ledger_nodes WHERE level = 0 AND node_index = 0"],
            expect: |f| matches!(f, F::ExtraNodes { .. }),
        },
        TamperCase {
            name: "checkpoint root modified",
            statements: &[
                "UPDATE ledger_checkpoints SET root = (SELECT digest FROM ledger_leaves WHERE leaf_index = 0)",
            ],
            expect: |f| matches!(f, F::CheckpointMismatch { .. }),
        },
        TamperCase {
            name: "checkpoint note modified",
            statements: &[
                "UPDATE ledger_checkpoints SET note = REPLACE(note, 'simpul.test/ledger\n', 'simpul.test/ledger\n\n')",
            ],
            expect: |f| matches!(f, F::CheckpointSignature { .. }),
        },
        TamperCase {
            name: "checkpoint deleted with the leaves after it",
            statements: &[
                "DELETE FROM ledger_leaves WHERE leaf_index >= 11",
                "DELETE FROM ledger_checkpoints WHERE size = 12",
            ],
            expect: |f| {
                matches!(
                    f,
                    F::NotInLedger {
                        kind: "akses",
                        sequence: 6
                    }
                )
            },
        },
    ]
}

/// Runs one tamper case's aftermath: verification must fail as the case says.
pub async fn tampering_is_caught(store: &dyn Store, log_key: &NoteVerifier, case: &TamperCase) {
    match verify_store(store, log_key).await {
        Ok(report) => panic!("{}: verification passed: {report:?}", case.name),
        Err(fault) => assert!(
            (case.expect)(&fault),
            "{}: unexpected fault: {fault}",
            case.name
        ),
    }
}
