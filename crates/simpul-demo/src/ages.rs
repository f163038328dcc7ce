//! Ages and birth dates: the age bands household heads are drawn from, spouse age gaps,
//! and the windows in which a child can have been born to given parents.
//!
//! The population pyramid is not drawn directly: it emerges from household composition
//! (who heads a household at which age, how many children live at home). The bands here
//! are tuned so a city comes out like Kota Madiun in the 2020 census: about a fifth under
//! 15, about a tenth 65 or older, slightly more women than men.

use chrono::{Duration, NaiveDate};
use rand::Rng;

/// Parents are at least this many days older than their children: 18 years plus leap days
/// and a margin, so "18 full years" holds whatever the calendar.
pub(crate) const MIN_PARENT_GAP_DAYS: i64 = 18 * 366 + 2;
/// And at most this many: 45 years minus leap days and a margin.
pub(crate) const MAX_PARENT_GAP_DAYS: i64 = 45 * 365 - 2;
/// Oldest age anyone is generated with; some 80+ and a few 90+ are realistic.
pub(crate) const MAX_AGE: u32 = 98;

/// An age band `lo..=hi` in years with a relative weight.
pub(crate) type Band = (u32, u32, u32);

/// Heads of a nuclear family (couple with children at home).
pub(crate) const HEAD_NUCLEAR: &[Band] = &[
    (24, 29, 9),
    (30, 34, 16),
    (35, 39, 19),
    (40, 44, 18),
    (45, 49, 15),
    (50, 54, 11),
    (55, 59, 7),
    (60, 66, 5),
];
/// Couples whose children have left home, or have none yet.
pub(crate) const HEAD_COUPLE: &[Band] = &[
    (22, 29, 20),
    (30, 39, 6),
    (40, 49, 6),
    (50, 59, 22),
    (60, 69, 26),
    (70, 79, 15),
    (80, 90, 5),
];
/// People living alone who never married.
pub(crate) const SINGLE_YOUNG: &[Band] = &[(20, 24, 20), (25, 29, 35), (30, 39, 30), (40, 55, 15)];
/// Widows and widowers.
pub(crate) const WIDOWED: &[Band] = &[
    (45, 54, 8),
    (55, 64, 22),
    (65, 74, 33),
    (75, 84, 27),
    (85, MAX_AGE, 10),
];
/// Divorced heads, alone or with children.
pub(crate) const DIVORCED: &[Band] = &[(25, 34, 30), (35, 44, 35), (45, 54, 22), (55, 70, 13)];
/// Heads of a three-generation household (their married child and grandchildren live in).
pub(crate) const HEAD_GRANDPARENT: &[Band] =
    &[(45, 54, 25), (55, 64, 40), (65, 74, 25), (75, 85, 10)];
/// Heads sheltering an elderly parent.
pub(crate) const HEAD_WITH_ELDER: &[Band] = &[(28, 39, 35), (40, 49, 40), (50, 58, 25)];

/// Draws an age in years from weighted bands.
pub(crate) fn age_from(rng: &mut impl Rng, bands: &[Band]) -> u32 {
    let total: u32 = bands.iter().map(|b| b.2).sum();
    let mut ticket = rng.random_range(0..total.max(1));
    for &(lo, hi, weight) in bands {
        if ticket < weight {
            return rng.random_range(lo..=hi);
        }
        ticket -= weight;
    }
    bands.last().map_or(30, |b| b.0)
}

/// A birth date for someone who is `age` full years old on `today`.
pub(crate) fn birth_for_age(rng: &mut impl Rng, today: NaiveDate, age: u32) -> NaiveDate {
    // 365 days per year keeps the result inside the age's year; leap days only shift it by
    // a few days towards the younger end.
    today - Duration::days(i64::from(age) * 365 + rng.random_range(0..365))
}

/// Full years between a birth date and `today` (0 for dates after it).
pub(crate) fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    today.years_since(birth).unwrap_or(0)
}

/// The birth date of a spouse of someone born on `birth`. Husbands are usually a few years
/// older; `of_husband` says whose birth date is given.
pub(crate) fn spouse_birth(
    rng: &mut impl Rng,
    birth: NaiveDate,
    of_husband: bool,
    today: NaiveDate,
) -> NaiveDate {
    let years = age_from(
        rng,
        &[(0, 0, 12), (1, 3, 36), (4, 6, 28), (7, 10, 16), (11, 14, 5)],
    ) as i64;
    // A few wives are older than their husbands.
    let years = if rng.random_bool(0.08) {
        -years.min(4)
    } else {
        years
    };
    let offset = Duration::days(years * 365 + rng.random_range(-180..180));
    let spouse = if of_husband {
        birth + offset
    } else {
        birth - offset
    };
    // A spouse is an adult: never younger than 17 today.
    spouse.min(today - Duration::days(17 * 366))
}

/// The dates between which a child of all `parents` can have been born, at most `today`.
pub(crate) fn child_window(
    parents: &[NaiveDate],
    today: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let oldest = parents.iter().min()?;
    let youngest = parents.iter().max()?;
    let lo = *youngest + Duration::days(MIN_PARENT_GAP_DAYS);
    let hi = (*oldest + Duration::days(MAX_PARENT_GAP_DAYS)).min(today);
    (lo <= hi).then_some((lo, hi))
}

/// Birth dates of up to `count` children of `mother` (and the other `parents`), oldest
/// first: a first birth in the mother's twenties, then gaps of one and a half to seven
/// years, all inside [`child_window`].
pub(crate) fn children_births(
    rng: &mut impl Rng,
    mother: NaiveDate,
    parents: &[NaiveDate],
    count: usize,
    today: NaiveDate,
) -> Vec<NaiveDate> {
    let Some((lo, hi)) = child_window(parents, today) else {
        return Vec::new();
    };
    let mut births = Vec::with_capacity(count);
    let mut next = (mother + Duration::days(rng.random_range(20 * 365..31 * 365))).max(lo);
    while births.len() < count && next <= hi {
        births.push(next);
        next += Duration::days(rng.random_range(550..7 * 365));
    }
    births
}

/// The birth date of a parent of someone born on `child`, `MAX_AGE` at most.
pub(crate) fn parent_birth(
    rng: &mut impl Rng,
    child: NaiveDate,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let oldest = today - Duration::days(i64::from(MAX_AGE) * 365);
    let lo = (child - Duration::days(38 * 365)).max(oldest);
    let hi = child - Duration::days(MIN_PARENT_GAP_DAYS + 2 * 365);
    (lo <= hi).then(|| lo + Duration::days(rng.random_range(0..=(hi - lo).num_days())))
}

/// Whether an adult child still lives with the parents: most marry and leave in their
/// twenties (median age at first marriage is about 22 for women and 25 for men).
pub(crate) fn still_at_home(rng: &mut impl Rng, age: u32) -> bool {
    let keep = match age {
        ..22 => 1.0,
        22..26 => 0.7,
        26..31 => 0.4,
        31..36 => 0.18,
        _ => 0.07,
    };
    rng.random_bool(keep)
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
    fn birth_for_age_gives_that_age() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let today = day(2026, 3, 1);
        for age in [0, 1, 17, 45, MAX_AGE] {
            for _ in 0..200 {
                let got = age_on(birth_for_age(&mut rng, today, age), today);
                assert!(got == age || got + 1 == age, "{age} -> {got}");
            }
        }
    }

    #[test]
    fn children_are_18_to_45_years_younger_than_each_parent() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let today = day(2026, 3, 1);
        let (father, mother) = (day(1970, 2, 29 - 1), day(1975, 12, 31));
        for _ in 0..500 {
            for child in children_births(&mut rng, mother, &[father, mother], 4, today) {
                for parent in [father, mother] {
                    let gap = age_on(parent, child);
                    assert!((18..45).contains(&gap), "gap {gap}");
                }
                assert!(child <= today);
            }
        }
        // A parent who is not yet 18 today can have no child yet.
        assert_eq!(child_window(&[day(2010, 1, 1)], today), None);
        assert!(child_window(&[day(2000, 1, 1)], today).is_some());
    }
}
