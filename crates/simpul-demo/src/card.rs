//! From household to family card: each member's NIK, education, occupation and birth
//! place, and the family's KK number with the date it was recorded.
//!
//! A KK number's date is when the current card was issued: after the head turned 17 and
//! after the youngest member was born (a birth means a new card), within the last
//! [`CARD_HISTORY_YEARS`] years, and never after today.

use chrono::{Datelike, Duration, Months, NaiveDate};
use rand::Rng;
use simpul_domain::{Address, Citizenship, Family, Resident, ResidentStatus};

use crate::ages::age_on;
use crate::household::Member;
use crate::numbers::NumberAllocator;
use crate::person;

/// How far back current cards were issued. The 16-digit KK number came with SIAK in the
/// mid-2000s, and most families have had their card reissued since.
const CARD_HISTORY_YEARS: u32 = 20;
/// Share of families who moved here from another kecamatan of the same city: their
/// members carry a NIK first issued there.
const MOVED_WITHIN_CITY: f64 = 0.05;
/// Children younger than this in a family that moved were born after the move, so their
/// NIK was issued at home.
const BORN_AFTER_MOVE: u32 = 5;

/// Where and when a family card is issued.
pub(crate) struct Issuer<'a> {
    pub(crate) numbers: &'a mut NumberAllocator,
    /// Birth place of people born locally ("Madiun").
    pub(crate) birth_place: &'a str,
    pub(crate) today: NaiveDate,
}

impl Issuer<'_> {
    /// The family card of `members` (head first) at `address`.
    pub(crate) fn issue(
        &mut self,
        rng: &mut impl Rng,
        members: Vec<Member>,
        address: Address,
    ) -> Family {
        let siblings = self.numbers.sibling_count();
        let moved_from = (siblings > 0 && rng.random_bool(MOVED_WITHIN_CITY))
            .then(|| rng.random_range(0..siblings));
        // Numbers first: a NIK may move a birth date a day earlier when a day's serials
        // run out, and the KK date must follow the final birth dates.
        let numbered: Vec<_> = members
            .into_iter()
            .map(|member| {
                let age = age_on(member.birth, self.today);
                let issued_elsewhere = moved_from.filter(|_| age >= BORN_AFTER_MOVE);
                let (nik, birth) = self.numbers.nik(member.birth, member.sex, issued_elsewhere);
                (nik, Member { birth, ..member })
            })
            .collect();
        let head_birth = numbered.first().map_or(self.today, |(_, m)| m.birth);
        let youngest = numbered
            .iter()
            .map(|(_, m)| m.birth)
            .max()
            .unwrap_or(self.today);
        let no_kk = self
            .numbers
            .kk(recorded(rng, head_birth, youngest, self.today));
        let members = numbered
            .into_iter()
            .map(|(nik, member)| {
                let age = age_on(member.birth, self.today);
                let education = person::education(rng, age, member.birth.year());
                let occupation = person::occupation(
                    rng,
                    age,
                    member.sex,
                    education,
                    member.marital,
                    member.relationship,
                );
                Resident {
                    nik,
                    no_kk: no_kk.clone(),
                    full_name: member.name,
                    sex: member.sex,
                    birth_place: person::birth_place(rng, age, self.birth_place),
                    birth_date: member.birth,
                    religion: member.religion,
                    marital_status: member.marital,
                    relationship: member.relationship,
                    education,
                    occupation: occupation.to_owned(),
                    father_name: member.father,
                    mother_name: member.mother,
                    citizenship: Citizenship::Wni,
                    status: ResidentStatus::Hidup,
                    departure: None,
                }
            })
            .collect();
        Family {
            no_kk,
            address,
            members,
        }
    }
}

/// The date the current card was recorded: uniformly between the latest of (the head's
/// 17th birthday, the youngest member's birth, [`CARD_HISTORY_YEARS`] ago) and today.
fn recorded(
    rng: &mut impl Rng,
    head_birth: NaiveDate,
    youngest: NaiveDate,
    today: NaiveDate,
) -> NaiveDate {
    let adult = head_birth
        .checked_add_months(Months::new(17 * 12))
        .unwrap_or(today);
    let history = today
        .checked_sub_months(Months::new(CARD_HISTORY_YEARS * 12))
        .unwrap_or(today);
    let earliest = adult.max(youngest).max(history).min(today);
    earliest + Duration::days(rng.random_range(0..=(today - earliest).num_days()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn cards_are_recorded_after_the_head_is_17_and_the_last_birth() {
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        let today = day(2026, 11, 25);
        for _ in 0..1_000 {
            let head = day(1990, 2, 28);
            let baby = day(2026, 1, 10);
            let date = recorded(&mut rng, head, baby, today);
            assert!((baby..=today).contains(&date));
            let young_head = day(2008, 6, 1);
            let date = recorded(&mut rng, young_head, young_head, today);
            assert!(date >= day(2025, 6, 1) && date <= today, "{date}");
            let old_head = day(1940, 1, 1);
            let date = recorded(&mut rng, old_head, old_head, today);
            assert!(date >= day(2006, 11, 25), "{date}");
        }
        // A head younger than 17 (not generated, but possible input) still gets today.
        assert_eq!(recorded(&mut rng, today, today, today), today);
    }
}
