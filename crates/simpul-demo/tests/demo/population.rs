//! A Kota Madiun run of about 20,000 residents: validity, uniqueness, coverage and shape.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use simpul_domain::{Family, FamilyRelationship as Rel, MaritalStatus, Sex};

use crate::common::{generate, residents, spec, today};

const TARGET: u64 = 20_000;

/// The run is shared by the tests below; generating it once keeps the suite fast.
fn madiun() -> &'static [Family] {
    static RUN: OnceLock<Vec<Family>> = OnceLock::new();
    RUN.get_or_init(|| generate(&spec("35.77", TARGET, 1)))
}

fn age(member: &simpul_domain::Resident) -> u32 {
    today().years_since(member.birth_date).unwrap_or(0)
}

#[test]
fn every_family_passes_the_family_card_rules() {
    for family in madiun() {
        if let Err(error) = family.check(today()) {
            panic!("{error}");
        }
    }
}

#[test]
fn niks_and_kk_numbers_are_unique() {
    let families = madiun();
    let niks: HashSet<&str> = families
        .iter()
        .flat_map(|f| f.members.iter().map(|m| m.nik.as_str()))
        .collect();
    assert_eq!(niks.len() as u64, residents(families));
    let kks: HashSet<&str> = families.iter().map(|f| f.no_kk.as_str()).collect();
    assert_eq!(kks.len(), families.len());
}

#[test]
fn numbers_agree_with_the_district_and_the_card_date() {
    for family in madiun() {
        let kk = &family.no_kk;
        // The KK is issued by the kecamatan of the address, on a plausible date.
        let kecamatan = family
            .address
            .kelurahan
            .parent()
            .expect("a kelurahan has a parent");
        assert_eq!(kk.district(), kecamatan);
        let digits = kk.as_str();
        let field = |r: std::ops::Range<usize>| digits[r].parse::<u32>().unwrap_or(0);
        let head = family.head().expect("one head");
        let date = (2000..=2026)
            .filter_map(|y| chrono::NaiveDate::from_ymd_opt(y, field(8..10), field(6..8)))
            .find(|d| d.format("%y").to_string() == digits[10..12])
            .expect("recorded this century");
        assert!(date <= today(), "card from the future");
        assert!(
            head.birth_date.years_since(date).is_none(),
            "card before the head was born"
        );
        assert!(
            date.years_since(head.birth_date).unwrap_or(0) >= 17,
            "head under 17"
        );
        for member in &family.members {
            // Issued in this city: the home kecamatan or, for a family that moved, another.
            assert!(member.nik.district().as_str().starts_with("35.77."));
            assert!(member.birth_date <= date, "member born after the card");
        }
    }
}

#[test]
fn all_27_kelurahan_are_filled_and_the_count_is_met() {
    let families = madiun();
    let kelurahan: HashSet<&str> = families
        .iter()
        .map(|f| f.address.kelurahan.as_str())
        .collect();
    assert_eq!(kelurahan.len(), 27);
    let largest = families
        .iter()
        .map(|f| f.members.len() as u64)
        .max()
        .unwrap_or(0);
    let total = residents(families);
    assert!(
        total >= TARGET && total < TARGET + largest,
        "{total} residents"
    );
}

#[test]
fn the_pyramid_and_household_size_are_plausible() {
    let families = madiun();
    let people: Vec<_> = families.iter().flat_map(|f| f.members.iter()).collect();
    let share = |pred: &dyn Fn(&&simpul_domain::Resident) -> bool| {
        people.iter().filter(|m| pred(m)).count() as f64 / people.len() as f64
    };
    let under_15 = share(&|m| age(m) < 15);
    let over_65 = share(&|m| age(m) >= 65);
    let women = share(&|m| m.sex == Sex::Perempuan);
    let mean_size = people.len() as f64 / families.len() as f64;
    assert!((0.16..0.25).contains(&under_15), "under 15: {under_15}");
    assert!((0.07..0.14).contains(&over_65), "65+: {over_65}");
    assert!((0.50..0.54).contains(&women), "women: {women}");
    assert!(
        (2.8..3.6).contains(&mean_size),
        "household size: {mean_size}"
    );
    assert!(people.iter().all(|m| age(m) <= 99));
}

#[test]
fn households_take_every_shape() {
    let families = madiun();
    let mut by_size: HashMap<usize, usize> = HashMap::new();
    for family in families {
        *by_size.entry(family.members.len()).or_default() += 1;
    }
    assert!(
        by_size.get(&1).is_some_and(|n| *n > families.len() / 50),
        "singles"
    );
    assert!(by_size.keys().any(|size| *size >= 7), "large households");
    let has = |rel: Rel| {
        families
            .iter()
            .any(|f| f.members.iter().any(|m| m.relationship == rel))
    };
    for rel in [
        Rel::Istri,
        Rel::Anak,
        Rel::Menantu,
        Rel::Cucu,
        Rel::OrangTua,
        Rel::Mertua,
        Rel::Pembantu,
    ] {
        assert!(has(rel), "{rel:?}");
    }
}

#[test]
fn relationships_and_marital_statuses_agree() {
    for family in madiun() {
        let head = family.head().expect("one head");
        let spouse = family
            .members
            .iter()
            .find(|m| matches!(m.relationship, Rel::Istri | Rel::Suami));
        let married = |s: MaritalStatus| {
            matches!(
                s,
                MaritalStatus::KawinTercatat | MaritalStatus::KawinBelumTercatat
            )
        };
        match spouse {
            Some(spouse) => {
                assert_eq!(spouse.marital_status, head.marital_status);
                assert_ne!(spouse.sex, head.sex);
                assert!(married(head.marital_status));
            }
            None => assert!(!married(head.marital_status)),
        }
        for member in &family.members {
            match member.relationship {
                Rel::Anak => {
                    // The head is always a parent of an Anak.
                    assert!(
                        member.father_name == head.full_name
                            || member.mother_name == head.full_name
                    );
                    if let Some(spouse) = spouse {
                        let (father, mother) = if head.sex == Sex::LakiLaki {
                            (head, spouse)
                        } else {
                            (spouse, head)
                        };
                        assert_eq!(member.father_name, father.full_name);
                        assert_eq!(member.mother_name, mother.full_name);
                    }
                    assert!(head.birth_date.years_since(member.birth_date).is_none());
                }
                Rel::Cucu => assert!(age(member) < age(head)),
                Rel::OrangTua => assert!(age(member) >= age(head) + 18),
                Rel::Pembantu => assert_eq!(member.occupation, "Pembantu Rumah Tangga"),
                _ => {}
            }
            if age(member) < 17 {
                assert_eq!(member.marital_status, MaritalStatus::BelumKawin);
            }
        }
    }
}

#[test]
#[ignore = "timing report, run with --ignored --nocapture"]
fn report_the_shape_and_speed_of_200_000_residents() {
    let started = std::time::Instant::now();
    let families = generate(&spec("35.77", 200_000, 1));
    let elapsed = started.elapsed();
    let people: Vec<_> = families.iter().flat_map(|f| f.members.iter()).collect();
    let count = |pred: &dyn Fn(&&simpul_domain::Resident) -> bool| {
        people.iter().filter(|m| pred(m)).count()
    };
    println!(
        "{} residents in {} families in {:.2?}; under 15 {:.3}, 65+ {:.3}, women {:.3}, size {:.2}",
        people.len(),
        families.len(),
        elapsed,
        count(&|m| age(m) < 15) as f64 / people.len() as f64,
        count(&|m| age(m) >= 65) as f64 / people.len() as f64,
        count(&|m| m.sex == Sex::Perempuan) as f64 / people.len() as f64,
        people.len() as f64 / families.len() as f64,
    );
    for band in (0..100).step_by(5) {
        let n = count(&|m| (band..band + 5).contains(&age(m)));
        let w = count(&|m| (band..band + 5).contains(&age(m)) && m.sex == Sex::Perempuan);
        println!(
            "{band:>3}-{:<3} {:>6} ({:.1}%)  women {:.2}",
            band + 4,
            n,
            100.0 * n as f64 / people.len() as f64,
            w as f64 / n.max(1) as f64
        );
    }
    let mut rel: HashMap<String, usize> = HashMap::new();
    for m in &people {
        *rel.entry(format!("{:?}", m.relationship)).or_default() += 1;
    }
    println!("{rel:?}");
    assert!(!families.is_empty());
}
