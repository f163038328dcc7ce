//! Deterministic synthetic population: the families of a region, streamed.
//!
//! [`families`] turns a [`DemoSpec`] (a region code, a resident count, a seed and the date
//! the registry considers today) into an iterator of [`simpul_domain::Family`] values, each
//! of which passes `Family::check(spec.today)`. The same spec always gives the same
//! families in the same order, and every NIK and KK number in one run is unique.
//!
//! The default is Kota Madiun (`35.77`): its three kecamatan and 27 kelurahan with about
//! 200,000 residents in about 65,000 families. A province (`35`, ten million residents)
//! streams in memory bounded by one kecamatan's state (plus an index of the region's
//! villages, tens of bytes each), because everything that must be remembered to keep
//! numbers unique (serial counters) is per kecamatan, and each kecamatan draws from its
//! own random stream keyed by the seed and its code.
//!
//! # Layout
//! - `region`: the one-pass index of the region's villages, kecamatan and cities, and how
//!   many residents each village gets.
//! - `stream`: the iterator: walks the villages in code order, one kecamatan's state at a
//!   time, and stops once the requested count is reached.
//! - `household`: who lives together: the household kinds (`household::members` holds the
//!   builder's primitives), with names, birth dates, relationships (SHDK) and marital
//!   statuses that agree with each other.
//! - `card`: turns a household into a family card: NIKs, the KK number and its date,
//!   education, occupation, birth place.
//! - `ages`: age bands, spouse gaps and the windows in which children can be born.
//! - `names`: Indonesian and Javanese names, child naming, pre-1972 spellings; the word
//!   lists are in `names::words`.
//! - `person`: religion, education, occupation and birth place tables.
//! - `numbers`: NIK and KK serial allocation per kecamatan, unique across streams.
//! - `address`: street plans, RT/RW and house numbers inside a kelurahan/desa.
//!
//! The modules are private: the generator's only contract is [`families`] and what
//! `Family::check` accepts. The population is plausible, not a statistical model; the
//! shares it aims for are written next to the tables that produce them.

mod address;
mod ages;
mod card;
mod household;
mod names;
mod numbers;
mod person;
mod region;
mod stream;

use chrono::NaiveDate;
use rand::Rng;
use simpul_domain::KodeWilayah;
use simpul_domain::wilayah::RegionDirectory;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSpec {
    /// The region to populate: a province, kabupaten/kota, kecamatan or kelurahan/desa.
    pub region: KodeWilayah,
    /// Residents to generate. The output has exactly this many, or more by less than the
    /// size of the last household (households are never cut).
    pub residents: u64,
    /// The same seed (with the same other fields) gives the same families.
    pub seed: u64,
    /// The registry's "today": ages, birth dates and KK dates are relative to it, so a
    /// fixed date gives a reproducible population.
    pub today: NaiveDate,
}

impl DemoSpec {
    /// Kota Madiun with 200,000 residents and seed 1, the default demo city.
    pub fn madiun(today: NaiveDate) -> Self {
        Self {
            region: KodeWilayah::parse("35.77").expect("35.77 is a well-formed region code"),
            residents: 200_000,
            seed: 1,
            today,
        }
    }
}

/// Why a population cannot be generated. Region codes are public master data, so they
/// may appear in the messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemoError {
    /// The code is well formed but not in the region master data.
    #[error("kode wilayah {region} tidak ada dalam data wilayah")]
    UnknownRegion { region: KodeWilayah },
    /// The region exists but has no kelurahan/desa to put anyone in.
    #[error("wilayah {region} tidak punya kelurahan/desa")]
    NoVillages { region: KodeWilayah },
    /// Zero residents asked for: there is nothing to generate.
    #[error("jumlah penduduk harus lebih dari nol")]
    ZeroResidents,
    /// More residents than the region's villages can plausibly hold.
    #[error("paling banyak {max} penduduk untuk wilayah ini, diminta {requested}")]
    TooManyResidents { requested: u64, max: u64 },
}

/// Streams the families of `spec.region` in a deterministic order (kecamatan, then
/// kelurahan/desa, by code); memory is bounded by one kecamatan's state.
///
/// Each family passes `Family::check(spec.today)`; NIKs and KK numbers are unique across
/// the whole stream. The iterator owns everything it needs, so it can be moved to a
/// blocking thread.
pub fn families(
    spec: &DemoSpec,
    directory: &'static RegionDirectory,
) -> Result<impl Iterator<Item = simpul_domain::Family> + Send + 'static, DemoError> {
    let plan = region::Plan::new(spec, directory)?;
    Ok(stream::Families::new(plan, spec.seed, spec.today))
}

/// One element of `items`, uniformly. `items` is one of the crate's constant, non-empty
/// tables.
pub(crate) fn pick<T: Copy>(rng: &mut impl Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// One element by relative weight. `items` is one of the crate's constant, non-empty
/// tables.
pub(crate) fn weighted<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    let mut ticket = rng.random_range(0..total.max(1));
    for (item, weight) in items {
        if ticket < *weight {
            return *item;
        }
        ticket -= weight;
    }
    items[items.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn weighted_follows_the_weights_and_skips_zero() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let table = [('a', 1), ('b', 0), ('c', 3)];
        let draws: Vec<char> = (0..4_000).map(|_| weighted(&mut rng, &table)).collect();
        let count = |c| draws.iter().filter(|d| **d == c).count();
        assert_eq!(count('b'), 0);
        assert!((800..1_200).contains(&count('a')), "{}", count('a'));
        assert_eq!(count('a') + count('c'), 4_000);
    }

    #[test]
    fn madiun_is_the_default_city() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let spec = DemoSpec::madiun(today);
        assert_eq!(spec.region.as_str(), "35.77");
        assert_eq!((spec.residents, spec.seed, spec.today), (200_000, 1, today));
    }
}
