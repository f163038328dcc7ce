use chrono::{DateTime, Utc};
use proptest::prelude::*;

use super::*;
use crate::codes::{Citizenship, Education, MaritalStatus, Religion, Sex};
use crate::event::Registration;
use crate::lampid::TrackingCode;
use crate::statistics::Dimension;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn kecamatan() -> KodeWilayah {
    KodeWilayah::parse("35.77.01").unwrap()
}

fn kelurahan(n: u8) -> KodeWilayah {
    KodeWilayah::parse(&format!("35.77.01.100{}", 1 + n % 3)).unwrap()
}

fn no_kk(serial: u16) -> NoKk {
    NoKk::compose(
        &kecamatan(),
        NaiveDate::from_ymd_opt(2015, 1, 25).unwrap(),
        serial,
    )
    .unwrap()
}

fn person(
    birth: NaiveDate,
    female: bool,
    serial: u16,
    kk: &NoKk,
    relationship: FamilyRelationship,
) -> Resident {
    let sex = if female {
        Sex::Perempuan
    } else {
        Sex::LakiLaki
    };
    Resident {
        nik: Nik::compose(&kecamatan(), birth, sex, serial).unwrap(),
        no_kk: kk.clone(),
        full_name: "Warga".into(),
        sex,
        birth_place: "Madiun".into(),
        birth_date: birth,
        religion: if serial.is_multiple_of(2) {
            Religion::Islam
        } else {
            Religion::Kristen
        },
        marital_status: MaritalStatus::BelumKawin,
        relationship,
        education: Education::Slta,
        occupation: "Wiraswasta".into(),
        father_name: String::new(),
        mother_name: "Ibu".into(),
        citizenship: Citizenship::Wni,
        status: ResidentStatus::Hidup,
        departure: None,
    }
}

fn address(n: u8) -> Address {
    Address {
        street: "Jl. Pahlawan".into(),
        rt: 1,
        rw: 1,
        kelurahan: kelurahan(n),
    }
}

fn registration(n: u64) -> Registration {
    Registration {
        tracking_code: TrackingCode::from_random(n),
        document: format!("3577-XX-25112026-{n:04}"),
        kelurahan: kelurahan(0),
        at: DateTime::<Utc>::from_timestamp(1_795_000_000, 0).unwrap(),
    }
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

const DATES: [(i32, u32, u32); 3] = [(1970, 3, 14), (1985, 7, 2), (2010, 5, 9)];

fn build(kk_serial: u16, members: &[MemberSpec], place: u8) -> Family {
    let kk = no_kk(kk_serial);
    let members = members
        .iter()
        .map(|m| {
            let (y, mo, d) = DATES[m.date];
            let relationship = if m.head {
                FamilyRelationship::KepalaKeluarga
            } else {
                FamilyRelationship::Anak
            };
            person(
                NaiveDate::from_ymd_opt(y, mo, d).unwrap(),
                m.female,
                m.serial,
                &kk,
                relationship,
            )
        })
        .collect();
    Family {
        no_kk: kk,
        address: address(place),
        members,
    }
}

/// One random step of a history; picks are reduced modulo what exists when it is built,
/// so the same step can be valid in one history and refused in another.
#[derive(Debug, Clone)]
enum Step {
    Register(u16, Vec<MemberSpec>, u8),
    Birth {
        family: usize,
        female: bool,
        day: u32,
        serial: u16,
    },
    Death {
        person: usize,
        head: usize,
    },
    MoveOut {
        family: usize,
        mask: u8,
        head: usize,
    },
    MoveIn {
        person: Option<usize>,
        serial: u16,
        family: Option<usize>,
        kk: u16,
        head: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1u16..=6, prop::collection::vec(member_spec(), 1..4), 0u8..3)
            .prop_map(|(s, m, p)| Step::Register(s, m, p)),
        2 => (0usize..8, any::<bool>(), 1u32..=20, 1u16..=3)
            .prop_map(|(family, female, day, serial)| Step::Birth { family, female, day, serial }),
        2 => (0usize..20, 0usize..4).prop_map(|(person, head)| Step::Death { person, head }),
        1 => (0usize..8, any::<u8>(), 0usize..4)
            .prop_map(|(family, mask, head)| Step::MoveOut { family, mask, head }),
        1 => (prop::option::of(0usize..20), 1u16..=3, prop::option::of(0usize..8), 7u16..=9, any::<bool>())
            .prop_map(|(person, serial, family, kk, head)| Step::MoveIn { person, serial, family, kk, head }),
    ]
}

fn pick<T: Clone>(items: &[T], i: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[i % items.len()].clone())
}

/// The event a step means for this registry (possibly one the rules refuse).
fn event_for(registry: &InMemoryRegistry, step: &Step, n: u64) -> Option<RegistryEvent> {
    let mut people: Vec<&Resident> = registry.residents().collect();
    people.sort_by(|a, b| a.nik.cmp(&b.nik));
    let active: Vec<NoKk> = registry
        .cards()
        .filter(|(_, c)| !c.members.is_empty())
        .map(|(kk, _)| kk.clone())
        .collect();
    let registration = registration(n);
    Some(match step {
        Step::Register(serial, members, place) => {
            RegistryEvent::KeluargaTerdaftar(build(*serial, members, *place))
        }
        Step::Birth {
            family,
            female,
            day,
            serial,
        } => {
            let kk = pick(&active, *family)?;
            let birth = NaiveDate::from_ymd_opt(2026, 11, *day).unwrap();
            RegistryEvent::KelahiranTercatat(BirthRegistered {
                registration,
                child: person(birth, *female, *serial, &kk, FamilyRelationship::Anak),
            })
        }
        Step::Death { person, head } => {
            let who = pick(&people, *person)?;
            let card = registry.cards().find(|(kk, _)| **kk == who.no_kk)?.1;
            let others: Vec<&Nik> = card.members.iter().filter(|m| **m != who.nik).collect();
            RegistryEvent::KematianTercatat(DeathRegistered {
                registration,
                nik: who.nik.clone(),
                date: today(),
                new_head: (who.relationship == FamilyRelationship::KepalaKeluarga)
                    .then(|| pick(&others, *head).cloned())
                    .flatten(),
            })
        }
        Step::MoveOut { family, mask, head } => {
            let kk = pick(&active, *family)?;
            let card = registry.cards().find(|(k, _)| **k == kk)?.1;
            let movers: Vec<Nik> = card
                .members
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << (i % 8)) != 0)
                .map(|(_, m)| m.clone())
                .collect();
            let stay: Vec<Nik> = card
                .members
                .iter()
                .filter(|m| !movers.contains(m))
                .cloned()
                .collect();
            let head_moves = registry.head(&kk).is_some_and(|h| movers.contains(h));
            RegistryEvent::PindahTercatat(MoveOutRegistered {
                registration,
                no_kk: kk,
                movers,
                destination: Address {
                    kelurahan: KodeWilayah::parse("35.19.01.2001").unwrap(),
                    ..address(0)
                },
                new_head: head_moves.then(|| pick(&stay, *head)).flatten(),
            })
        }
        Step::MoveIn {
            person: who,
            serial,
            family,
            kk,
            head,
        } => {
            let (target, new_family) = match family.and_then(|f| pick(&active, f)) {
                Some(existing) => (existing, None),
                None => (no_kk(*kk), Some(address(1))),
            };
            let relationship = if new_family.is_some() || *head {
                FamilyRelationship::KepalaKeluarga
            } else {
                FamilyRelationship::FamiliLain
            };
            let arrival = match who.and_then(|p| pick(&people, p)) {
                Some(known) => Resident {
                    no_kk: target.clone(),
                    relationship,
                    status: ResidentStatus::Hidup,
                    departure: None,
                    ..known.clone()
                },
                None => person(
                    NaiveDate::from_ymd_opt(1999, 9, 9).unwrap(),
                    false,
                    *serial,
                    &target,
                    relationship,
                ),
            };
            RegistryEvent::DatangTercatat(MoveInRegistered {
                registration,
                no_kk: target,
                new_family,
                arrivals: vec![arrival],
            })
        }
    })
}

/// The resident counters only (event counters cannot be recounted from records).
fn resident_counters_of(registry: &InMemoryRegistry) -> BTreeMap<Counter, i64> {
    registry
        .counters()
        .iter()
        .filter(|(c, _)| c.dimension != Dimension::Peristiwa)
        .map(|(c, v)| (c.clone(), *v))
        .collect()
}

proptest! {
    /// A family registration is accepted exactly when the rules say (an oracle written
    /// here, independently of the registry), and whatever history is thrown at it the
    /// registry keeps its invariants.
    #[test]
    fn family_registrations_follow_the_rules(history in prop::collection::vec((1u16..=6, prop::collection::vec(member_spec(), 1..4)), 1..25)) {
        let mut registry = InMemoryRegistry::default();
        for (kk_serial, members) in &history {
            let family = build(*kk_serial, members, 0);
            let allowed = family.check(today()).is_ok()
                && registry.family(&family.no_kk).is_none()
                && family.members.iter().all(|m| {
                    registry.resident(&m.nik).is_none_or(|r| r.status != ResidentStatus::Hidup)
                });
            let before = registry.clone();
            let outcome = registry.apply(&RegistryEvent::KeluargaTerdaftar(family.clone()), today());
            prop_assert_eq!(outcome.is_ok(), allowed, "{:?}", outcome);
            if outcome.is_ok() {
                prop_assert_eq!(registry.applied(), before.applied() + 1);
                prop_assert_eq!(registry.family(&family.no_kk), Some(family));
            } else {
                prop_assert!(registry == before, "a refused event changed the registry");
            }
            prop_assert_eq!(registry.check_invariants(), Ok(()));
        }
    }

    /// Random histories of registrations, births, deaths and moves out and in keep the
    /// invariants (unique living NIKs, one card per living resident, one head per card,
    /// the departed on none), a refused event changes nothing, and the incrementally kept
    /// statistics always equal a recount from the records.
    #[test]
    fn random_lampid_histories_keep_the_invariants(steps in prop::collection::vec(step(), 1..40)) {
        let mut registry = InMemoryRegistry::default();
        for (n, step) in steps.iter().enumerate() {
            let Some(event) = event_for(&registry, step, n as u64) else { continue };
            let before = registry.clone();
            match registry.apply(&event, today()) {
                Ok(()) => prop_assert_eq!(registry.applied(), before.applied() + 1),
                Err(_) => prop_assert!(registry == before, "a refused {:?} changed the registry", step),
            }
            prop_assert_eq!(registry.check_invariants(), Ok(()), "after {:?}", step);
            prop_assert_eq!(resident_counters_of(&registry), registry.counted_from_records());
        }
    }
}

/// A scripted life: every kind of registration is accepted when it should be, changes what
/// it should, and leaves the statistics and changes a store writes back right.
#[test]
fn a_family_lives_through_every_kind_of_registration() {
    let mut registry = InMemoryRegistry::default();
    let kk = no_kk(1);
    let father = person(
        NaiveDate::from_ymd_opt(1980, 1, 2).unwrap(),
        false,
        1,
        &kk,
        FamilyRelationship::KepalaKeluarga,
    );
    let mother = person(
        NaiveDate::from_ymd_opt(1985, 3, 4).unwrap(),
        true,
        1,
        &kk,
        FamilyRelationship::Istri,
    );
    let family = Family {
        no_kk: kk.clone(),
        address: address(0),
        members: vec![father.clone(), mother.clone()],
    };
    registry
        .apply(&RegistryEvent::KeluargaTerdaftar(family), today())
        .unwrap();
    registry.take_changes();

    let child = person(
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        true,
        1,
        &kk,
        FamilyRelationship::Anak,
    );
    let birth = RegistryEvent::KelahiranTercatat(BirthRegistered {
        registration: registration(1),
        child: child.clone(),
    });
    registry.apply(&birth, today()).unwrap();
    assert_eq!(
        registry.apply(&birth, today()),
        Err(RuleViolation::NikAlreadyUsed),
        "a NIK is never given twice"
    );
    let changes = registry.take_changes();
    assert_eq!(changes.families.len(), 1);
    let positions: Vec<(String, usize)> = changes
        .residents
        .iter()
        .map(|(r, p)| (r.nik.as_str().to_owned(), *p))
        .collect();
    assert!(positions.contains(&(child.nik.as_str().to_owned(), 2)));
    let birth_counter = Counter {
        kelurahan: kelurahan(0),
        dimension: Dimension::Peristiwa,
        key: "kelahiran|2026-11".into(),
    };
    assert_eq!(changes.counters.get(&birth_counter), Some(&1));
    assert_eq!(
        changes.counters.get(&Counter {
            kelurahan: kelurahan(0),
            dimension: Dimension::Usia,
            key: "perempuan|2026-11".into(),
        }),
        Some(&1)
    );

    let headless = DeathRegistered {
        registration: registration(2),
        nik: father.nik.clone(),
        date: today(),
        new_head: None,
    };
    assert_eq!(
        registry.apply(&RegistryEvent::KematianTercatat(headless.clone()), today()),
        Err(RuleViolation::NewHeadRequired)
    );
    let death = DeathRegistered {
        new_head: Some(mother.nik.clone()),
        ..headless
    };
    registry
        .apply(&RegistryEvent::KematianTercatat(death), today())
        .unwrap();
    assert_eq!(registry.head(&kk), Some(&mother.nik));
    assert_eq!(
        registry.resident(&father.nik).map(|r| r.status),
        Some(ResidentStatus::Meninggal)
    );
    assert_eq!(registry.family(&kk).unwrap().members.len(), 2);

    let move_out = MoveOutRegistered {
        registration: registration(3),
        no_kk: kk.clone(),
        movers: vec![mother.nik.clone(), child.nik.clone()],
        destination: Address {
            kelurahan: KodeWilayah::parse("35.19.01.2001").unwrap(),
            ..address(0)
        },
        new_head: None,
    };
    registry
        .apply(&RegistryEvent::PindahTercatat(move_out), today())
        .unwrap();
    assert_eq!(
        registry.family(&kk),
        None,
        "an empty card is no active family"
    );
    assert!(matches!(
        registry
            .resident(&child.nik)
            .and_then(|r| r.departure.clone()),
        Some(Departure::Pindah { .. })
    ));

    let new_kk = no_kk(2);
    let back = MoveInRegistered {
        registration: registration(4),
        no_kk: new_kk.clone(),
        new_family: Some(address(1)),
        arrivals: vec![Resident {
            no_kk: new_kk.clone(),
            relationship: FamilyRelationship::KepalaKeluarga,
            status: ResidentStatus::Hidup,
            departure: None,
            ..mother.clone()
        }],
    };
    registry
        .apply(&RegistryEvent::DatangTercatat(back), today())
        .unwrap();
    assert_eq!(registry.head(&new_kk), Some(&mother.nik));
    assert_eq!(registry.check_invariants(), Ok(()));
    assert_eq!(
        resident_counters_of(&registry),
        registry.counted_from_records()
    );
    let moved_in = registry
        .counters()
        .keys()
        .filter(|c| c.dimension == Dimension::Peristiwa)
        .map(|c| c.key.as_str())
        .collect::<Vec<_>>();
    assert_eq!(moved_in.len(), 4, "{moved_in:?}");
}
