//! Statistics counters: what each living resident and each registered event adds to the
//! population statistics, and how the counters are read back as age bands.
//!
//! A counter is a count per kelurahan, dimension and key. Stores keep them as a read model
//! updated in the same transaction as the event (the deltas come from
//! [`InMemoryRegistry`](crate::registry::InMemoryRegistry)), summed up to every ancestor
//! region, so a question about a kecamatan, a city or a province reads a few hundred rows
//! whatever the population.
//!
//! Ages are kept by birth month, not birth date: a resident counts as a year older from
//! the first day of their birth month. That keeps a kelurahan's age counters to at most
//! 2 × 12 × (oldest age) rows, so they stay small and never need a nightly job to age
//! anyone; the price is that people born later in the current month are shown a year
//! older a few days early.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::codes::Sex;
use crate::event::RegistryEvent;
use crate::resident::Resident;
use crate::wilayah::KodeWilayah;

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Living residents by sex and birth month (key `laki_laki|1990-03`).
    Usia,
    /// Living residents by religion (key: the religion code).
    Agama,
    /// Living residents by marital status (key: the status code).
    Perkawinan,
    /// Registered events by kind and month (key `kelahiran|2026-11`): the birth's or
    /// death's own month, and the registration's month for moves.
    Peristiwa,
}

impl Dimension {
    pub const ALL: [Self; 4] = [Self::Usia, Self::Agama, Self::Perkawinan, Self::Peristiwa];

    pub fn code(self) -> &'static str {
        match self {
            Self::Usia => "usia",
            Self::Agama => "agama",
            Self::Perkawinan => "perkawinan",
            Self::Peristiwa => "peristiwa",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.code() == code)
    }
}

/// One counter: a count per kelurahan, dimension and key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Counter {
    pub kelurahan: KodeWilayah,
    pub dimension: Dimension,
    pub key: String,
}

fn month_key(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// The counters a living resident of `kelurahan` adds one to.
pub fn resident_counters(resident: &Resident, kelurahan: &KodeWilayah) -> [Counter; 3] {
    let counter = |dimension, key: String| Counter {
        kelurahan: kelurahan.clone(),
        dimension,
        key,
    };
    [
        counter(
            Dimension::Usia,
            format!(
                "{}|{}",
                resident.sex.as_code(),
                month_key(resident.birth_date)
            ),
        ),
        counter(Dimension::Agama, resident.religion.as_code().to_owned()),
        counter(
            Dimension::Perkawinan,
            resident.marital_status.as_code().to_owned(),
        ),
    ]
}

/// The event counter a registered event adds one to.
pub fn event_counter(event: &RegistryEvent) -> Option<Counter> {
    let (kind, date) = match event {
        RegistryEvent::KelahiranTercatat(e) => ("kelahiran", e.child.birth_date),
        RegistryEvent::KematianTercatat(e) => ("kematian", e.date),
        RegistryEvent::PindahTercatat(e) => ("pindah", e.registration.local_date()),
        RegistryEvent::DatangTercatat(e) => ("datang", e.registration.local_date()),
        _ => return None,
    };
    Some(Counter {
        kelurahan: event.kelurahan().clone(),
        dimension: Dimension::Peristiwa,
        key: format!("{kind}|{}", month_key(date)),
    })
}

/// The kelurahan and every region above it, bottom up: where a kelurahan's counter is
/// also summed.
pub fn ancestry(kelurahan: &KodeWilayah) -> Vec<KodeWilayah> {
    std::iter::successors(Some(kelurahan.clone()), KodeWilayah::parent).collect()
}

/// Width of an age band in years.
pub const AGE_BAND_YEARS: u32 = 5;
/// The lower bound of the open-ended oldest band (75+), as BPS tabulates.
pub const OLDEST_BAND: u32 = 75;

/// A sex and birth month read back from an age counter's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeKey {
    pub sex: Sex,
    pub year: i32,
    pub month: u32,
}

impl AgeKey {
    pub fn parse(key: &str) -> Option<Self> {
        let (sex, month) = key.split_once('|')?;
        let (year, month) = month.split_once('-')?;
        Some(Self {
            sex: Sex::from_code(sex)?,
            year: year.parse().ok()?,
            month: month.parse().ok().filter(|m| (1..=12).contains(m))?,
        })
    }

    /// Age in completed years on `today`, counting the birthday as the first of the month.
    pub fn age_on(&self, today: NaiveDate) -> u32 {
        let years = today.year() - self.year - i32::from(today.month() < self.month);
        u32::try_from(years).unwrap_or(0)
    }

    /// The lower bound of the age band on `today` (0, 5, …, 75).
    pub fn band_on(&self, today: NaiveDate) -> u32 {
        (self.age_on(today) / AGE_BAND_YEARS * AGE_BAND_YEARS).min(OLDEST_BAND)
    }
}

/// The label of the band starting at `lower`: `0-4`, …, `70-74`, `75+`.
pub fn band_label(lower: u32) -> String {
    if lower >= OLDEST_BAND {
        format!("{OLDEST_BAND}+")
    } else {
        format!("{lower}-{}", lower + AGE_BAND_YEARS - 1)
    }
}

/// An event counter's key read back: the kind and the month (`YYYY-MM`).
pub fn parse_event_key(key: &str) -> Option<(&str, &str)> {
    key.split_once('|')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn ages_count_from_the_first_of_the_birth_month() {
        let key = AgeKey::parse("perempuan|1990-03").unwrap();
        assert_eq!(key.sex, Sex::Perempuan);
        assert_eq!(key.age_on(day(2020, 2, 29)), 29);
        assert_eq!(key.age_on(day(2020, 3, 1)), 30);
        assert_eq!(key.band_on(day(2020, 3, 1)), 30);
        assert_eq!(key.band_on(day(2020, 2, 1)), 25);
        assert_eq!(
            AgeKey::parse("laki_laki|1900-01")
                .unwrap()
                .band_on(day(2026, 1, 1)),
            75
        );
        assert_eq!(
            AgeKey::parse("laki_laki|2026-12")
                .unwrap()
                .age_on(day(2026, 12, 2)),
            0
        );
        for bad in [
            "x|1990-03",
            "laki_laki|1990-13",
            "laki_laki",
            "laki_laki|1990",
        ] {
            assert_eq!(AgeKey::parse(bad), None, "{bad}");
        }
        assert_eq!(band_label(0), "0-4");
        assert_eq!(band_label(70), "70-74");
        assert_eq!(band_label(75), "75+");
    }

    #[test]
    fn a_kelurahan_counts_up_to_its_province() {
        let chain: Vec<String> = ancestry(&KodeWilayah::parse("35.77.01.1001").unwrap())
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        assert_eq!(chain, ["35.77.01.1001", "35.77.01", "35.77", "35"]);
    }
}
