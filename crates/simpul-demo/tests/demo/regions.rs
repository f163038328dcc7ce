//! Regions other than the default city, and determinism.

use std::collections::HashSet;

use simpul_domain::RegionLevel;

use crate::common::{generate, residents, spec, today};

#[test]
fn the_same_seed_gives_the_same_families_and_another_seed_does_not() {
    let first = generate(&spec("35.77", 3_000, 7));
    let again = generate(&spec("35.77", 3_000, 7));
    let other = generate(&spec("35.77", 3_000, 8));
    assert_eq!(first, again);
    assert_ne!(first, other);
    // Not merely reordered: the other seed gives other people.
    let niks = |families: &[simpul_domain::Family]| -> HashSet<String> {
        families
            .iter()
            .flat_map(|f| {
                f.members
                    .iter()
                    .map(|m| m.full_name.clone() + m.nik.as_str())
            })
            .collect()
    };
    assert!(niks(&first).intersection(&niks(&other)).count() < 100);
}

#[test]
fn a_kabupaten_with_desa_is_addressed_by_hamlet() {
    // Kabupaten Madiun (35.19): desa, with a few kelurahan around the towns.
    let families = generate(&spec("35.19", 4_000, 2));
    let total = residents(&families);
    let largest = families
        .iter()
        .map(|f| f.members.len() as u64)
        .max()
        .unwrap_or(0);
    assert!(total >= 4_000 && total < 4_000 + largest, "{total}");
    let mut desa = 0;
    for family in &families {
        family.check(today()).expect("valid family");
        assert!(family.address.kelurahan.as_str().starts_with("35.19."));
        assert_eq!(family.address.kelurahan.level(), RegionLevel::KelurahanDesa);
        assert!(family.no_kk.as_str().starts_with("3519"));
        if family
            .address
            .kelurahan
            .as_str()
            .rsplit('.')
            .next()
            .is_some_and(|p| p.starts_with('2'))
        {
            desa += 1;
            let street = &family.address.street;
            assert!(
                street.starts_with("Dsn. ") || street.starts_with("Jl. Raya "),
                "{street}"
            );
        }
        for member in &family.members {
            assert!(!member.birth_place.contains("Kabupaten"));
        }
    }
    assert!(
        desa > families.len() / 2,
        "mostly desa: {desa} of {}",
        families.len()
    );
}

#[test]
fn a_single_kecamatan_and_a_single_village_work() {
    let kecamatan = generate(&spec("35.77.03", 1_500, 4));
    assert!(
        kecamatan
            .iter()
            .all(|f| f.address.kelurahan.as_str().starts_with("35.77.03."))
    );
    let villages: HashSet<_> = kecamatan
        .iter()
        .map(|f| f.address.kelurahan.clone())
        .collect();
    assert_eq!(villages.len(), 9);
    let village = generate(&spec("35.77.03.1009", 300, 4));
    assert!(
        village
            .iter()
            .all(|f| f.address.kelurahan.as_str() == "35.77.03.1009")
    );
    assert!(residents(&village) >= 300);
}

#[test]
fn kecamatan_streams_do_not_depend_on_each_other() {
    // Taman (35.77.03) alone and inside the whole city start from the same random stream:
    // the first family there is the same person.
    let alone = generate(&spec("35.77.03", 500, 9));
    let city = generate(&spec("35.77", 1_500, 9));
    let in_city = city
        .iter()
        .find(|f| f.address.kelurahan.as_str().starts_with("35.77.03"))
        .expect("Taman is in the city");
    assert_eq!(&alone[0], in_city);
}

#[test]
fn a_province_starts_streaming_without_generating_it_all() {
    // Ten million residents of Jawa Timur: taking the first families must be quick and
    // valid; the whole run is the binary's job.
    let mut stream = simpul_demo::families(
        &spec("35", 10_000_000, 1),
        simpul_domain::wilayah::embedded(),
    )
    .expect("province accepted");
    let first: Vec<_> = stream.by_ref().take(200).collect();
    assert_eq!(first.len(), 200);
    for family in &first {
        family.check(today()).expect("valid family");
        assert!(family.address.kelurahan.as_str().starts_with("35.01."));
    }
}

#[test]
fn a_province_spreads_residents_over_its_villages_with_unique_numbers() {
    // 50,000 residents over Jawa Timur's 666 kecamatan and 8,494 villages: about six per
    // village, so nearly every kecamatan stream starts afresh with its own counters.
    let families = generate(&spec("35", 50_000, 5));
    let largest = families
        .iter()
        .map(|f| f.members.len() as u64)
        .max()
        .unwrap_or(0);
    let total = residents(&families);
    assert!(total >= 50_000 && total < 50_000 + largest, "{total}");
    let mut niks = HashSet::new();
    let mut kks = HashSet::new();
    let mut kecamatan = HashSet::new();
    for family in &families {
        family.check(today()).expect("valid family");
        assert!(kks.insert(family.no_kk.clone()), "duplicate KK");
        kecamatan.insert(family.no_kk.district());
        for member in &family.members {
            assert!(niks.insert(member.nik.clone()), "duplicate NIK");
        }
    }
    assert!(kecamatan.len() > 600, "{} kecamatan", kecamatan.len());
    let cities: HashSet<_> = kecamatan.iter().filter_map(|k| k.parent()).collect();
    assert_eq!(cities.len(), 38);
}

#[test]
#[ignore = "streams ten million residents (minutes in a debug build); run with --ignored --nocapture"]
fn report_a_province_of_ten_million() {
    let started = std::time::Instant::now();
    let stream = simpul_demo::families(
        &spec("35", 10_000_000, 1),
        simpul_domain::wilayah::embedded(),
    )
    .expect("province accepted");
    let (mut families, mut people, mut largest) = (0u64, 0u64, 0u64);
    for family in stream {
        families += 1;
        people += family.members.len() as u64;
        largest = largest.max(family.members.len() as u64);
    }
    println!(
        "{people} residents in {families} families in {:.1?}",
        started.elapsed()
    );
    assert!(people >= 10_000_000 && people < 10_000_000 + largest);
}
