//! NIK and KK number allocation for one kecamatan's stream, unique across the whole output.
//!
//! Serials are counted per (issuing district, date, sex) as Dukcapil does, and the state
//! lives only as long as the kecamatan's stream, which is what keeps a ten-million-resident
//! run in bounded memory. Uniqueness across streams comes from ranges, not shared state:
//! - a kecamatan issues its own NIKs with serials `0001..=4999`, and only it does;
//! - a few residents carry a NIK first issued in another kecamatan of the same city
//!   (they moved within it); those serials come from `5000..=9999`, split into disjoint
//!   slots, one per kecamatan of the city, so two streams never issue the same one;
//! - KK numbers always carry the issuing (home) kecamatan, so only its stream makes them.
//!
//! Counters are keyed by the date as the number prints it (two-digit year), so two people
//! born a hundred years apart on the same day and month can never share a NIK.
//!
//! When a range is exhausted for a date (thousands of people born the same day in one
//! kecamatan), the date moves a day earlier: the caller gets the date back and uses it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate};
use simpul_domain::{KodeWilayah, Nik, NoKk, Sex};

/// Highest serial a kecamatan uses for its own NIKs.
const HOME_SERIAL_MAX: u16 = 4999;
/// First serial of the range shared out for NIKs issued in a sibling kecamatan.
const SIBLING_SERIAL_BASE: u16 = 5000;
const SERIAL_MAX: u16 = 9999;

/// Allocates the numbers of one kecamatan's stream.
pub(crate) struct NumberAllocator {
    home: KodeWilayah,
    /// Every kecamatan of the home city, sorted; the home one included.
    city: Arc<[KodeWilayah]>,
    home_index: usize,
    /// This stream's serial slot for sibling-issued NIKs: `base..base + len`.
    slot_base: u16,
    slot_len: u16,
    home_nik: HashMap<(u32, Sex), u16>,
    sibling_nik: HashMap<(usize, u32, Sex), u16>,
    kk: HashMap<u32, u16>,
}

impl NumberAllocator {
    pub(crate) fn new(home: KodeWilayah, city: Arc<[KodeWilayah]>) -> Self {
        let count = city.len().max(1) as u16;
        let home_index = city.iter().position(|k| *k == home).unwrap_or(0);
        let slot_len = (SERIAL_MAX - SIBLING_SERIAL_BASE + 1) / count;
        Self {
            home,
            home_index,
            slot_base: SIBLING_SERIAL_BASE + home_index as u16 * slot_len,
            slot_len,
            city,
            home_nik: HashMap::new(),
            sibling_nik: HashMap::new(),
            kk: HashMap::new(),
        }
    }

    /// Other kecamatan of the city a NIK may have been issued in.
    pub(crate) fn sibling_count(&self) -> usize {
        self.city.len().saturating_sub(1)
    }

    /// A NIK for a person born on `birth`, issued at home or, with `sibling = Some(i)`, in
    /// the i-th other kecamatan of the city. Returns the birth date the NIK encodes, which
    /// differs from `birth` only if that day's serials ran out.
    pub(crate) fn nik(
        &mut self,
        mut birth: NaiveDate,
        sex: Sex,
        sibling: Option<usize>,
    ) -> (Nik, NaiveDate) {
        if let Some(district) = sibling.and_then(|i| self.sibling(i)) {
            let counter = self
                .sibling_nik
                .entry((district, printed(birth), sex))
                .or_insert(0);
            if *counter < self.slot_len {
                *counter += 1;
                let serial = self.slot_base + *counter - 1;
                return (compose_nik(&self.city[district], birth, sex, serial), birth);
            }
        }
        loop {
            let counter = self.home_nik.entry((printed(birth), sex)).or_insert(0);
            if *counter < HOME_SERIAL_MAX {
                *counter += 1;
                return (compose_nik(&self.home, birth, sex, *counter), birth);
            }
            birth -= Duration::days(1);
        }
    }

    /// A KK number recorded at home on `recorded` (or the nearest earlier day with a
    /// free serial).
    pub(crate) fn kk(&mut self, mut recorded: NaiveDate) -> NoKk {
        loop {
            let counter = self.kk.entry(printed(recorded)).or_insert(0);
            if *counter < SERIAL_MAX {
                *counter += 1;
                return NoKk::compose(&self.home, recorded, *counter)
                    .expect("a kecamatan code has six digits and the serial is 1..=9999");
            }
            recorded -= Duration::days(1);
        }
    }

    /// The city index of the i-th kecamatan other than home.
    fn sibling(&self, i: usize) -> Option<usize> {
        let k = if i < self.home_index { i } else { i + 1 };
        (self.slot_len > 0 && k < self.city.len()).then_some(k)
    }
}

/// The date as a NIK or KK number prints it: `YYMMDD` with a two-digit year.
fn printed(date: NaiveDate) -> u32 {
    date.year().rem_euclid(100) as u32 * 10_000 + date.month() * 100 + date.day()
}

fn compose_nik(district: &KodeWilayah, birth: NaiveDate, sex: Sex, serial: u16) -> Nik {
    Nik::compose(district, birth, sex, serial)
        .expect("a kecamatan code has six digits and the serial is 1..=9999")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn kec(code: &str) -> KodeWilayah {
        KodeWilayah::parse(code).unwrap()
    }

    #[test]
    fn streams_of_one_city_never_issue_the_same_nik() {
        let city: Arc<[KodeWilayah]> =
            vec![kec("35.77.01"), kec("35.77.02"), kec("35.77.03")].into();
        let birth = NaiveDate::from_ymd_opt(1990, 5, 17).unwrap();
        let mut seen = HashSet::new();
        for home in city.iter() {
            let mut numbers = NumberAllocator::new(home.clone(), city.clone());
            for i in 0..3000 {
                let sibling = (i % 3 != 0).then_some(i % 2);
                let (nik, date) = numbers.nik(birth, Sex::Perempuan, sibling);
                assert!(nik.matches_birth_date(date));
                assert!(seen.insert(nik), "duplicate NIK");
            }
        }
        assert_eq!(seen.len(), 9000);
    }

    #[test]
    fn a_century_apart_is_the_same_printed_date() {
        let home = kec("35.77.03");
        let mut numbers = NumberAllocator::new(home.clone(), vec![home].into());
        let old = NaiveDate::from_ymd_opt(1927, 12, 1).unwrap();
        let young = NaiveDate::from_ymd_opt(2027, 12, 1).unwrap();
        let (a, _) = numbers.nik(old, Sex::LakiLaki, None);
        let (b, _) = numbers.nik(young, Sex::LakiLaki, None);
        assert_ne!(a, b);
        assert_ne!(numbers.kk(old), numbers.kk(young));
    }

    #[test]
    fn exhausted_days_move_earlier() {
        let home = kec("35.77.01");
        let mut numbers = NumberAllocator::new(home.clone(), vec![home].into());
        let birth = NaiveDate::from_ymd_opt(2000, 1, 2).unwrap();
        let last = (0..5000)
            .map(|_| numbers.nik(birth, Sex::LakiLaki, Some(0)).1)
            .last();
        assert_eq!(last, NaiveDate::from_ymd_opt(2000, 1, 1));
        assert_eq!(numbers.sibling_count(), 0);
        let kk: HashSet<_> = (0..10_000).map(|_| numbers.kk(birth)).collect();
        assert_eq!(kk.len(), 10_000);
    }
}
