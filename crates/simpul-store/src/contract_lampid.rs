//! Contract checks for births, deaths, moves, the e-LAMPID workflow, statistics counters and
//! the rebuild from the journal.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use simpul_domain::access::RoleKind;
use simpul_domain::event::{
    BirthRegistered, DeathRegistered, MoveInRegistered, MoveOutRegistered, Registration,
};
use simpul_domain::lampid::{Kelahiran, LampidPayload, TrackingCode, Transition, WorkflowError};
use simpul_domain::registry::InMemoryRegistry;
use simpul_domain::statistics::Dimension;
use simpul_domain::{
    Address, FamilyRelationship, KodeWilayah, Nik, NoKk, RegistryEvent, Resident, ResidentStatus,
    Sex,
};

use crate::contract::{TestKeys, fixture_family, fixture_resident};
use crate::{LampidCommand, QueueQuery, Store, StoreError};

fn code(text: &str) -> KodeWilayah {
    KodeWilayah::parse(text).unwrap_or_else(|e| panic!("fixture code {text}: {e}"))
}

fn kelahiran(no_kk: &NoKk, mother: &Nik, born: NaiveDate, sex: Sex) -> LampidPayload {
    LampidPayload::Kelahiran(Kelahiran {
        child_name: "Bayu Aji".into(),
        sex,
        birth_date: born,
        birth_time: chrono::NaiveTime::from_hms_opt(7, 15, 0).unwrap_or_default(),
        birth_place: "Madiun".into(),
        mother_nik: mother.clone(),
        father_nik: None,
        mother_name: None,
        father_name: None,
        no_kk: no_kk.clone(),
        reporter: mother.clone(),
    })
}

/// A birth into `family` (its second member is the mother), born yesterday.
pub fn birth_report(family: &simpul_domain::Family) -> LampidPayload {
    kelahiran(
        &family.no_kk,
        &family.members[1].nik,
        simpul_domain::today() - chrono::Duration::days(1),
        Sex::Perempuan,
    )
}

async fn step(
    store: &impl Store,
    tracking_code: &TrackingCode,
    transition: Transition,
    version: u64,
    role: RoleKind,
) -> Result<crate::SubmissionRecord, StoreError> {
    store
        .lampid(LampidCommand::Step {
            tracking_code: tracking_code.clone(),
            transition,
            version,
            actor: format!("{}-1", role.code()),
            role,
        })
        .await
        .map(|o| o.submission)
}

/// A birth entered at the kelurahan, verified at the kecamatan and registered by Dukcapil:
/// the child gets the first free NIK, joins the family, the counters move, the birth
/// certificate is numbered, and every step is in the journal.
pub async fn a_birth_goes_through_three_levels(store: &impl Store, _keys: &TestKeys) {
    let family = fixture_family("35.77.01.1001", 1, "Budi Santoso");
    store
        .append(&[RegistryEvent::KeluargaTerdaftar(family.clone())])
        .await
        .expect("family");
    let mother = family.members[1].nik.clone();
    let born = simpul_domain::today() - chrono::Duration::days(3);
    let mut children = Vec::new();
    for round in 0..2 {
        let created = store
            .lampid(LampidCommand::Create {
                kelurahan: code("35.77.01.1001"),
                payload: kelahiran(&family.no_kk, &mother, born, Sex::LakiLaki),
                actor: "operator-1".into(),
                idempotency_key: Some(format!("lahir-{round}")),
                submit: true,
            })
            .await
            .expect("created");
        assert!(created.created);
        let submission = created.submission;
        let tracking = submission.submission.tracking_code().clone();
        assert_eq!(submission.submission.state().code(), "diajukan");
        assert_eq!(submission.submission.version(), 2);
        assert!(submission.times.submitted.is_some());
        let queue = store
            .queue(&QueueQuery {
                state: "diajukan".into(),
                region: Some(code("35.77.01")),
                limit: 10,
            })
            .await
            .expect("queue");
        assert!(queue.iter().any(|i| i.kode_lacak == tracking.as_str()));
        let verified = step(
            store,
            &tracking,
            Transition::Verifikasi,
            2,
            RoleKind::Supervisor,
        )
        .await
        .expect("verified");
        assert_eq!(verified.submission.state().code(), "diverifikasi");
        let registered = step(store, &tracking, Transition::Catat, 3, RoleKind::Registrar)
            .await
            .expect("registered");
        assert_eq!(registered.submission.state().code(), "tercatat");
        let document = registered.document.clone().expect("certificate number");
        assert!(
            document.starts_with("3577-LU-") && document.ends_with(&format!("-{:04}", round + 1)),
            "{document}"
        );
        assert!(registered.times.registered.is_some());
        children.push(document);
    }
    let card = store
        .family(&family.no_kk)
        .await
        .expect("read")
        .expect("family");
    assert_eq!(card.members.len(), 5, "two children joined");
    let new: Vec<&Resident> = card.members[3..].iter().collect();
    let serials: Vec<u16> = new.iter().map(|r| r.nik.serial()).collect();
    assert_eq!(serials, [1, 2], "first free serials, never the same twice");
    for child in &new {
        assert!(child.nik.matches_birth_date(born));
        assert_eq!(child.sex, Sex::LakiLaki);
        assert_eq!(child.mother_name, family.members[1].full_name);
        assert_eq!(child.relationship, FamilyRelationship::Anak);
        let record = store
            .resident(&child.nik)
            .await
            .expect("read")
            .expect("child");
        assert_eq!(record.address.kelurahan, code("35.77.01.1001"));
    }
    let births = store
        .counters(&code("35.77"), Dimension::Peristiwa)
        .await
        .expect("counters");
    let month = born.format("%Y-%m").to_string();
    assert_eq!(
        births
            .iter()
            .find(|c| c.key == format!("kelahiran|{month}"))
            .map(|c| c.count),
        Some(2)
    );
    let ages = store
        .counters(&code("35.77.01.1001"), Dimension::Usia)
        .await
        .expect("counters");
    assert_eq!(ages.iter().map(|c| c.count).sum::<i64>(), 5);
    let types: Vec<String> = store
        .journal_after(0, 100)
        .await
        .expect("journal")
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types.len(), 1 + 2 * 5);
    assert_eq!(
        types
            .iter()
            .filter(|t| *t == "id.simpul.kelahiran.tercatat.v1")
            .count(),
        2
    );
    let samples = store
        .service_samples(crate::now() - chrono::Duration::hours(1))
        .await
        .expect("samples");
    assert_eq!(samples.len(), 2);
    assert!(
        store
            .pending(crate::now())
            .await
            .expect("pending")
            .is_empty()
    );
}

/// Refusals: an old version, a step at the wrong level, a rejection without a reason, a
/// reused idempotency key, a report the registry contradicts; none of them changes anything.
pub async fn the_workflow_refuses_what_it_must(store: &impl Store, _keys: &TestKeys) {
    let family = fixture_family("35.77.01.1001", 1, "Budi Santoso");
    store
        .append(&[RegistryEvent::KeluargaTerdaftar(family.clone())])
        .await
        .expect("family");
    let born = simpul_domain::today() - chrono::Duration::days(1);
    let payload = kelahiran(&family.no_kk, &family.members[1].nik, born, Sex::Perempuan);
    let create = |key: &str, payload: LampidPayload| LampidCommand::Create {
        kelurahan: code("35.77.01.1001"),
        payload,
        actor: "operator-1".into(),
        idempotency_key: Some(key.to_owned()),
        submit: true,
    };
    let first = store
        .lampid(create("k1", payload.clone()))
        .await
        .expect("created");
    let again = store
        .lampid(create("k1", payload.clone()))
        .await
        .expect("retried");
    assert!(
        !again.created,
        "a retried submit never creates a second one"
    );
    assert_eq!(again.submission, first.submission);
    let other = kelahiran(&family.no_kk, &family.members[1].nik, born, Sex::LakiLaki);
    assert!(matches!(
        store.lampid(create("k1", other)).await,
        Err(StoreError::IdempotencyMismatch)
    ));
    let father_as_mother = kelahiran(&family.no_kk, &family.members[0].nik, born, Sex::LakiLaki);
    match store.lampid(create("k2", father_as_mother)).await {
        Err(StoreError::Invalid(error)) => assert_eq!(error.code(), "mother_not_female"),
        other => panic!("expected invalid report, got {other:?}"),
    }
    let code_ = first.submission.submission.tracking_code().clone();
    assert!(matches!(
        step(
            store,
            &code_,
            Transition::Verifikasi,
            1,
            RoleKind::Supervisor
        )
        .await,
        Err(StoreError::Workflow(WorkflowError::VersionConflict {
            expected: 1,
            actual: 2
        }))
    ));
    assert!(matches!(
        step(store, &code_, Transition::Catat, 2, RoleKind::Registrar).await,
        Err(StoreError::Workflow(
            WorkflowError::InvalidTransition { .. }
        ))
    ));
    assert!(matches!(
        step(
            store,
            &code_,
            Transition::Verifikasi,
            2,
            RoleKind::Registrar
        )
        .await,
        Err(StoreError::Workflow(WorkflowError::WrongLevel { .. }))
    ));
    let no_reason = Transition::Tolak { reason: " ".into() };
    assert!(matches!(
        step(store, &code_, no_reason, 2, RoleKind::Supervisor).await,
        Err(StoreError::Workflow(WorkflowError::ReasonRequired))
    ));
    let unknown = TrackingCode::from_random(42);
    assert!(matches!(
        step(
            store,
            &unknown,
            Transition::Verifikasi,
            1,
            RoleKind::Supervisor
        )
        .await,
        Err(StoreError::NotFound)
    ));
    let journal = store.counts().await.expect("counts").journal;
    assert_eq!(journal, 1 + 2, "refusals journal nothing");
    let rejected = step(
        store,
        &code_,
        Transition::Tolak {
            reason: "Nama anak salah eja".into(),
        },
        2,
        RoleKind::Supervisor,
    )
    .await
    .expect("rejected");
    assert_eq!(rejected.submission.state().code(), "ditolak");
    let amended = store
        .lampid(LampidCommand::Amend {
            tracking_code: code_.clone(),
            payload,
            version: 3,
            actor: "operator-1".into(),
            role: RoleKind::Operator,
        })
        .await
        .expect("amended");
    assert_eq!(amended.submission.submission.version(), 4);
    let resubmitted = step(
        store,
        &code_,
        Transition::AjukanUlang,
        4,
        RoleKind::Operator,
    )
    .await
    .expect("resubmitted");
    assert_eq!(resubmitted.submission.state().code(), "diajukan");
    assert_eq!(
        resubmitted.times.submitted, first.submission.times.submitted,
        "the end-to-end clock starts at the first submission"
    );
}

/// What a random history draws from.
struct History {
    rng: StdRng,
    model: InMemoryRegistry,
    niks: BTreeSet<Nik>,
    kks: BTreeSet<NoKk>,
    n: u64,
}

impl History {
    fn registration(&mut self) -> Registration {
        self.n += 1;
        Registration {
            tracking_code: TrackingCode::from_random(self.n),
            document: format!("3577-XX-01012026-{:04}", self.n),
            kelurahan: code("35.77.01.1001"),
            at: crate::now(),
        }
    }

    fn living(&self) -> Vec<Resident> {
        let mut living: Vec<Resident> = self
            .model
            .residents()
            .filter(|r| r.status == ResidentStatus::Hidup)
            .cloned()
            .collect();
        living.sort_by(|a, b| a.nik.cmp(&b.nik));
        living
    }

    fn active(&self) -> Vec<NoKk> {
        self.model
            .cards()
            .filter(|(_, c)| !c.members.is_empty())
            .map(|(kk, _)| kk.clone())
            .collect()
    }

    /// The next event: mostly ones the rules accept, some they refuse.
    fn next_event(&mut self, today: NaiveDate) -> Option<RegistryEvent> {
        let living = self.living();
        let active = self.active();
        let kind = self.rng.random_range(0..6);
        let event = match kind {
            0 | 1 => {
                let serial = self.rng.random_range(1..=40);
                let place = ["35.77.01.1001", "35.77.01.1002", "35.77.02.1006"]
                    [self.rng.random_range(0..3)];
                RegistryEvent::KeluargaTerdaftar(fixture_family(place, serial, "Warga"))
            }
            2 => {
                let kk = active
                    .get(self.rng.random_range(0..active.len().max(1)))?
                    .clone();
                let sex = if self.rng.random_bool(0.5) {
                    Sex::Perempuan
                } else {
                    Sex::LakiLaki
                };
                let born = today - chrono::Duration::days(self.rng.random_range(0..3));
                let serial = self.rng.random_range(1..=3);
                let child =
                    fixture_resident(&kk, "Bayi", sex, born, serial, FamilyRelationship::Anak);
                RegistryEvent::KelahiranTercatat(BirthRegistered {
                    registration: self.registration(),
                    child,
                })
            }
            3 => {
                let who = living
                    .get(self.rng.random_range(0..living.len().max(1)))?
                    .clone();
                let others: Vec<Nik> = self
                    .model
                    .family(&who.no_kk)
                    .map(|f| {
                        f.members
                            .into_iter()
                            .map(|m| m.nik)
                            .filter(|n| *n != who.nik)
                            .collect()
                    })
                    .unwrap_or_default();
                let new_head = (who.relationship == FamilyRelationship::KepalaKeluarga)
                    .then(|| others.first().cloned())
                    .flatten();
                RegistryEvent::KematianTercatat(DeathRegistered {
                    registration: self.registration(),
                    nik: who.nik,
                    date: today,
                    new_head,
                })
            }
            4 => {
                let kk = active
                    .get(self.rng.random_range(0..active.len().max(1)))?
                    .clone();
                let family = self.model.family(&kk)?;
                let all = self.rng.random_bool(0.5);
                let movers: Vec<Nik> = if all {
                    family.member_niks().cloned().collect()
                } else {
                    family
                        .members
                        .iter()
                        .filter(|m| m.relationship != FamilyRelationship::KepalaKeluarga)
                        .take(1)
                        .map(|m| m.nik.clone())
                        .collect()
                };
                RegistryEvent::PindahTercatat(MoveOutRegistered {
                    registration: self.registration(),
                    no_kk: kk,
                    movers,
                    destination: Address {
                        street: "Jl. Merdeka 1".into(),
                        rt: 1,
                        rw: 2,
                        kelurahan: code("35.19.01.2001"),
                    },
                    new_head: None,
                })
            }
            _ => {
                let moved: Vec<Resident> = {
                    let mut m: Vec<Resident> = self
                        .model
                        .residents()
                        .filter(|r| r.status == ResidentStatus::Pindah)
                        .cloned()
                        .collect();
                    m.sort_by(|a, b| a.nik.cmp(&b.nik));
                    m
                };
                let who = moved.first()?.clone();
                let serial = self.rng.random_range(41..=60);
                let kk = NoKk::compose(
                    &code("35.77.01"),
                    NaiveDate::from_ymd_opt(2026, 1, 2).unwrap_or_default(),
                    serial,
                )?;
                RegistryEvent::DatangTercatat(MoveInRegistered {
                    registration: self.registration(),
                    no_kk: kk.clone(),
                    new_family: Some(Address {
                        street: "Jl. Kembali 2".into(),
                        rt: 4,
                        rw: 4,
                        kelurahan: code("35.77.01.1002"),
                    }),
                    arrivals: vec![Resident {
                        no_kk: kk,
                        relationship: FamilyRelationship::KepalaKeluarga,
                        status: ResidentStatus::Hidup,
                        departure: None,
                        ..who
                    }],
                })
            }
        };
        Some(event)
    }
}

/// Compares the store with the model: every resident and family seen, and every counter of
/// every kelurahan and of the city.
async fn assert_store_equals_model(store: &impl Store, history: &History, when: &str) {
    for nik in &history.niks {
        let stored = store.resident(nik).await.expect("read").map(|r| r.resident);
        assert_eq!(
            stored.as_ref(),
            history.model.resident(nik),
            "{when}: resident"
        );
    }
    for kk in &history.kks {
        let stored = store.family(kk).await.expect("read");
        assert_eq!(stored, history.model.family(kk), "{when}: family");
    }
    let mut expected: BTreeMap<(String, &str, String), i64> = BTreeMap::new();
    for (counter, count) in history.model.counters() {
        for region in simpul_domain::statistics::ancestry(&counter.kelurahan) {
            *expected
                .entry((
                    region.as_str().to_owned(),
                    counter.dimension.code(),
                    counter.key.clone(),
                ))
                .or_default() += count;
        }
    }
    expected.retain(|_, c| *c != 0);
    let mut actual = BTreeMap::new();
    for region in [
        "35.77.01.1001",
        "35.77.01.1002",
        "35.77.02.1006",
        "35.77.01",
        "35.77.02",
        "35.77",
        "35",
    ] {
        for dimension in Dimension::ALL {
            for value in store
                .counters(&code(region), dimension)
                .await
                .expect("counters")
            {
                actual.insert((value.region, dimension.code(), value.key), value.count);
            }
        }
    }
    assert_eq!(actual, expected, "{when}: counters");
}

/// Random histories of registrations, births, deaths and moves: the store accepts and
/// refuses exactly what the model does, holds the same residents, families and counters,
/// and a rebuild from the journal alone yields the same state again.
pub async fn random_histories_match_the_model_and_rebuild(store: &impl Store, _keys: &TestKeys) {
    let today = simpul_domain::today();
    let mut history = History {
        rng: StdRng::seed_from_u64(20261202),
        model: InMemoryRegistry::default(),
        niks: BTreeSet::new(),
        kks: BTreeSet::new(),
        n: 0,
    };
    let mut accepted = BTreeMap::new();
    for step in 0..120 {
        let Some(event) = history.next_event(today) else {
            continue;
        };
        history
            .niks
            .extend(event.referenced_niks().into_iter().cloned());
        history
            .kks
            .extend(event.referenced_families().into_iter().cloned());
        let expected = history.model.apply(&event, today);
        let actual = store.append(std::slice::from_ref(&event)).await;
        match (&expected, &actual) {
            (Ok(()), Ok(_)) => *accepted.entry(event.event_type()).or_insert(0) += 1,
            (Err(want), Err(StoreError::Rejected { violation, .. })) if want == violation => {}
            _ => panic!("step {step}: model said {expected:?}, store said {actual:?}"),
        }
    }
    assert!(
        accepted.len() >= 5 && accepted.values().all(|n| *n >= 2),
        "the history must exercise every kind: {accepted:?}"
    );
    assert_store_equals_model(store, &history, "live").await;
    let before = store.counts().await.expect("counts");
    let replayed = store.rebuild().await.expect("rebuild");
    assert_eq!(replayed, before.journal);
    assert_eq!(store.counts().await.expect("counts"), before);
    assert_store_equals_model(store, &history, "rebuilt").await;
}
