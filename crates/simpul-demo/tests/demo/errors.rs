//! Specs the generator refuses, each with its own error.

use simpul_demo::{DemoError, families};
use simpul_domain::wilayah::{RegionDirectory, embedded};

use crate::common::spec;

#[test]
fn an_unknown_region_is_refused() {
    let refused = families(&spec("35.99", 100, 1), embedded()).err();
    assert!(
        matches!(&refused, Some(DemoError::UnknownRegion { region }) if region.as_str() == "35.99"),
        "{refused:?}"
    );
}

#[test]
fn zero_residents_are_refused() {
    let refused = families(&spec("35.77", 0, 1), embedded()).err();
    assert_eq!(refused, Some(DemoError::ZeroResidents));
}

#[test]
fn more_than_the_villages_can_hold_is_refused() {
    let refused = families(&spec("35.77.01.1001", 10_000_000, 1), embedded()).err();
    assert!(matches!(
        refused,
        Some(DemoError::TooManyResidents {
            requested: 10_000_000,
            ..
        })
    ));
}

#[test]
fn a_region_without_villages_is_refused() {
    // A supplied master data set with a city and a kecamatan but no kelurahan in it.
    let files: [(&'static str, &[u8]); 3] = [
        ("provinces.csv", b"code,name\n35,Jawa Timur\n"),
        (
            "regencies.csv",
            b"code,province_code,name\n35.77,35,Kota Madiun\n",
        ),
        (
            "districts.csv",
            b"code,regency_code,name\n35.77.01,35.77,Kartoharjo\n",
        ),
    ];
    let directory = RegionDirectory::from_csv(&files).expect("well-formed master data");
    let directory: &'static RegionDirectory = Box::leak(Box::new(directory));
    let refused = families(&spec("35.77", 100, 1), directory).err();
    assert!(
        matches!(refused, Some(DemoError::NoVillages { .. })),
        "{refused:?}"
    );
}
