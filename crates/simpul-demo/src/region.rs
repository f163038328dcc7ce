//! The region index and the resident plan, built once when a run starts.
//!
//! One pass over the master data finds the villages (kelurahan/desa) under the region, and
//! every kecamatan and city (kabupaten/kota) the region touches: `RegionDirectory::children`
//! would scan all 91,000 regions once per call, which is too slow to do per kecamatan of a
//! province. The index is small (8,500 villages for Jawa Timur) and holds only references
//! into the `'static` directory, codes and one number per village.
//!
//! Each village gets a share of the residents proportional to a weight drawn from the seed
//! and its own code (0.6 to 1.4 of the mean), so villages differ in size and a village's
//! size does not change when a neighbouring one is added to or left out of the region.

use std::sync::Arc;

use simpul_domain::wilayah::{Region, RegionDirectory};
use simpul_domain::{KodeWilayah, RegionLevel};

use crate::{DemoError, DemoSpec};

/// Average residents per village above which a request is refused. The most populous
/// kelurahan in Indonesia hold somewhat over 100,000 people; far beyond that, a kecamatan's
/// per-day NIK and KK serial ranges would start to run out and dates would drift.
const MAX_RESIDENTS_PER_VILLAGE: u64 = 200_000;
/// Village weights lie in `WEIGHT_MIN..=WEIGHT_MIN + WEIGHT_SPREAD`, so the largest village
/// is at most about 2.3 times the smallest: "roughly even, with some variation".
const WEIGHT_MIN: u64 = 600;
const WEIGHT_SPREAD: u64 = 800;

/// One village of the plan.
pub(crate) struct Village {
    pub(crate) region: &'static Region,
    /// The kecamatan the village belongs to; it issues the village's numbers.
    pub(crate) kecamatan: KodeWilayah,
    /// Index into [`Plan::cities`].
    pub(crate) city: usize,
    /// Residents generated in total once this village is done: the villages before it and
    /// this one. The last village's value is the requested count.
    pub(crate) until: u64,
}

/// A kabupaten/kota the region touches.
pub(crate) struct City {
    code: KodeWilayah,
    /// The name people write as a birth place: "Madiun" for "Kota Madiun".
    pub(crate) birth_place: String,
    /// All its kecamatan, sorted, whether or not the region includes them: the NIK
    /// allocator splits the "moved within the city" serial range between them, and the
    /// split must not depend on which part of the city a run covers.
    pub(crate) kecamatan: Arc<[KodeWilayah]>,
}

/// The villages to fill, in code order, with their resident targets.
pub(crate) struct Plan {
    pub(crate) villages: Vec<Village>,
    pub(crate) cities: Vec<City>,
}

impl Plan {
    pub(crate) fn new(
        spec: &DemoSpec,
        directory: &'static RegionDirectory,
    ) -> Result<Self, DemoError> {
        if spec.residents == 0 {
            return Err(DemoError::ZeroResidents);
        }
        let region = &spec.region;
        if directory.get(region).is_none() {
            return Err(DemoError::UnknownRegion {
                region: region.clone(),
            });
        }
        // The cities whose kecamatan lists are needed: the region's own, or all of a
        // province's.
        let scope = city_of(region).unwrap_or_else(|| region.clone());
        let mut villages: Vec<&'static Region> = Vec::new();
        let mut kecamatan: Vec<&KodeWilayah> = Vec::new();
        let mut cities: Vec<&'static Region> = Vec::new();
        for candidate in directory.iter() {
            match candidate.level {
                RegionLevel::KelurahanDesa if candidate.code.is_within(region) => {
                    villages.push(candidate);
                }
                RegionLevel::Kecamatan if candidate.code.is_within(&scope) => {
                    kecamatan.push(&candidate.code);
                }
                RegionLevel::KabupatenKota if candidate.code.is_within(&scope) => {
                    cities.push(candidate);
                }
                _ => {}
            }
        }
        if villages.is_empty() {
            return Err(DemoError::NoVillages {
                region: region.clone(),
            });
        }
        let max = (villages.len() as u64).saturating_mul(MAX_RESIDENTS_PER_VILLAGE);
        if spec.residents > max {
            return Err(DemoError::TooManyResidents {
                requested: spec.residents,
                max,
            });
        }
        villages.sort_unstable_by(|a, b| a.code.cmp(&b.code));
        kecamatan.sort_unstable();
        cities.sort_unstable_by(|a, b| a.code.cmp(&b.code));
        let cities: Vec<City> = cities
            .iter()
            .map(|city| City {
                code: city.code.clone(),
                birth_place: birth_place(&city.name),
                kecamatan: kecamatan
                    .iter()
                    .filter(|k| k.is_within(&city.code))
                    .map(|k| (*k).clone())
                    .collect(),
            })
            .collect();
        let villages = targets(spec, &villages, &cities)?;
        Ok(Self { villages, cities })
    }
}

/// Assigns each village its cumulative target, proportional to its weight.
fn targets(
    spec: &DemoSpec,
    villages: &[&'static Region],
    cities: &[City],
) -> Result<Vec<Village>, DemoError> {
    let weights: Vec<u64> = villages
        .iter()
        .map(|v| WEIGHT_MIN + mix(spec.seed, code_number(&v.code)) % (WEIGHT_SPREAD + 1))
        .collect();
    let total: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    let mut running: u128 = 0;
    let mut planned = Vec::with_capacity(villages.len());
    for (village, weight) in villages.iter().zip(&weights) {
        running += u128::from(*weight);
        // Cumulative rounding: the targets add up to exactly the requested count.
        let until = (u128::from(spec.residents) * running / total.max(1)) as u64;
        let unknown = || DemoError::NoVillages {
            region: spec.region.clone(),
        };
        let kecamatan = village.code.parent().ok_or_else(unknown)?;
        let city_code = kecamatan.parent().ok_or_else(unknown)?;
        // A village whose city is missing from the master data cannot be placed; the
        // embedded data has none, a supplied directory might.
        let city = cities
            .binary_search_by(|c| c.code.cmp(&city_code))
            .map_err(|_| unknown())?;
        planned.push(Village {
            region: village,
            kecamatan,
            city,
            until,
        });
    }
    Ok(planned)
}

/// The kabupaten/kota a code lies in; `None` for a province.
fn city_of(code: &KodeWilayah) -> Option<KodeWilayah> {
    let mut current = code.clone();
    while current.level() > RegionLevel::KabupatenKota {
        current = current.parent()?;
    }
    (current.level() == RegionLevel::KabupatenKota).then_some(current)
}

/// "Kabupaten Madiun" and "Kota Madiun" are both born in "Madiun".
fn birth_place(city_name: &str) -> String {
    let name = ["Kabupaten ", "Kota "]
        .iter()
        .find_map(|prefix| city_name.strip_prefix(prefix))
        .unwrap_or(city_name);
    let name = name.strip_prefix("Administrasi ").unwrap_or(name);
    name.to_owned()
}

/// The code's digits as a number (`35.77.01.1001` → 3577011001), unique per code of one
/// level.
pub(crate) fn code_number(code: &KodeWilayah) -> u64 {
    code.as_str()
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0, |acc, b| acc * 10 + u64::from(b - b'0'))
}

/// SplitMix64 of the seed and a value: a cheap, well-spread hash for per-village weights.
fn mix(seed: u64, value: u64) -> u64 {
    let mut z = seed ^ value.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use simpul_domain::wilayah::embedded;

    fn spec(region: &str, residents: u64) -> DemoSpec {
        DemoSpec {
            region: KodeWilayah::parse(region).unwrap(),
            residents,
            seed: 3,
            today: NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
        }
    }

    #[test]
    fn madiun_has_its_27_kelurahan_and_targets_add_up() {
        let plan = Plan::new(&spec("35.77", 200_000), embedded()).unwrap();
        assert_eq!(plan.villages.len(), 27);
        assert_eq!(plan.villages.last().map(|v| v.until), Some(200_000));
        assert_eq!(plan.cities.len(), 1);
        assert_eq!(plan.cities[0].birth_place, "Madiun");
        assert_eq!(plan.cities[0].kecamatan.len(), 3);
        let sizes: Vec<u64> = std::iter::once(0)
            .chain(plan.villages.iter().map(|v| v.until))
            .collect::<Vec<_>>()
            .windows(2)
            .map(|w| w[1] - w[0])
            .collect();
        let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(
            *min > 200_000 / 27 / 2 && *max < 200_000 / 27 * 2,
            "{min}..{max}"
        );
        assert!(max > min, "villages differ in size");
    }

    #[test]
    fn a_kecamatan_still_knows_its_whole_city() {
        let plan = Plan::new(&spec("35.77.02", 1_000), embedded()).unwrap();
        assert_eq!(plan.villages.len(), 9);
        assert!(
            plan.villages
                .iter()
                .all(|v| v.kecamatan.as_str() == "35.77.02")
        );
        assert_eq!(plan.cities[0].kecamatan.len(), 3);
    }

    #[test]
    fn a_province_spans_its_cities() {
        let plan = Plan::new(&spec("35", 10_000_000), embedded()).unwrap();
        assert_eq!(plan.cities.len(), 38);
        assert!(plan.villages.len() > 8_000);
        assert!(
            plan.villages
                .windows(2)
                .all(|w| w[0].region.code < w[1].region.code)
        );
        assert!(
            plan.villages
                .iter()
                .any(|v| plan.cities[v.city].birth_place == "Surabaya")
        );
    }

    #[test]
    fn refuses_what_cannot_be_generated() {
        let refused = |s: DemoSpec| Plan::new(&s, embedded()).err();
        assert_eq!(refused(spec("35.77", 0)), Some(DemoError::ZeroResidents));
        assert!(matches!(
            refused(spec("35.99", 10)),
            Some(DemoError::UnknownRegion { .. })
        ));
        assert!(matches!(
            refused(spec("35.77.01.1001", 1_000_000)),
            Some(DemoError::TooManyResidents { max: 200_000, .. })
        ));
    }

    #[test]
    fn birth_places_drop_the_administrative_prefix() {
        assert_eq!(
            birth_place("Kota Administrasi Jakarta Pusat"),
            "Jakarta Pusat"
        );
        assert_eq!(birth_place("Kabupaten Madiun"), "Madiun");
        assert_eq!(birth_place("Pulau"), "Pulau");
    }
}
