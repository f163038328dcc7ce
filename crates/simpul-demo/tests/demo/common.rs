//! Shared fixtures: a fixed "today" and small specs.

use chrono::NaiveDate;
use simpul_demo::{DemoSpec, families};
use simpul_domain::{Family, KodeWilayah, wilayah::embedded};

/// The fixed date every test treats as today.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("a real date")
}

pub fn spec(region: &str, residents: u64, seed: u64) -> DemoSpec {
    DemoSpec {
        region: KodeWilayah::parse(region).expect("well-formed region code"),
        residents,
        seed,
        today: today(),
    }
}

/// All families of a spec that must be valid.
pub fn generate(spec: &DemoSpec) -> Vec<Family> {
    families(spec, embedded()).expect("spec accepted").collect()
}

/// Residents in a list of families.
pub fn residents(families: &[Family]) -> u64 {
    families.iter().map(|f| f.members.len() as u64).sum()
}
