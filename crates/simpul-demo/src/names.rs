//! Indonesian (mostly Javanese) personal names: how a name is put together from the word
//! lists (in `words`) for a person's generation and faith, how parents name their children, and the pre-1972
//! spellings (`oe`, `dj`, `tj`, `j` for `y`) older people still carry on their cards.
//!
//! Names only need to look right to a person reading a demo registry and to exercise the
//! name-matching code with realistic variety (one-word names, `Moch.`, apostrophe-free
//! Arabic loans, old spellings); they are not drawn from real frequency data.

mod words;

use rand::Rng;
use simpul_domain::Sex;

use crate::pick;
use words::{
    BIRTH_ORDER, F_CHRISTIAN, F_ISLAMIC, F_LAST, F_MID, F_MODERN, F_MODERN_LAST, F_OLD, F_TIONGHOA,
    M_CHRISTIAN, M_ISLAMIC, M_LAST, M_MID, M_MODERN, M_MODERN_LAST, M_OLD, M_TIONGHOA, MUHAMMAD,
    TIONGHOA_LAST,
};

/// The naming tradition a family follows, from its religion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameStyle {
    /// Javanese names with Islamic elements (Muhammad, Siti, Nur, Abdul).
    Muslim,
    /// A baptismal name before Javanese or modern names.
    Christian,
    /// Javanese names without Arabic elements (Hindu, Kepercayaan).
    Kejawen,
    /// Chinese-Indonesian given names and Indonesianised surnames (Buddha, Khonghucu).
    Tionghoa,
}

/// The generation a birth year belongs to, which decides the name fashion.
fn generation(birth_year: i32) -> usize {
    match birth_year {
        ..1965 => 0,
        1965..1990 => 1,
        _ => 2,
    }
}

/// A first word (or a whole one-word name) for the person's sex and generation.
fn given(rng: &mut impl Rng, sex: Sex, birth_year: i32) -> &'static str {
    let lists: [&[&str]; 3] = match sex {
        Sex::LakiLaki => [M_OLD, M_MID, M_MODERN],
        Sex::Perempuan => [F_OLD, F_MID, F_MODERN],
    };
    pick(rng, lists[generation(birth_year)])
}

/// A closing word (family-like name) for the person's sex and generation.
fn closing(rng: &mut impl Rng, sex: Sex, birth_year: i32) -> &'static str {
    let modern = generation(birth_year) == 2;
    match (sex, modern) {
        (Sex::LakiLaki, false) => pick(rng, M_LAST),
        (Sex::LakiLaki, true) => pick(rng, M_MODERN_LAST),
        (Sex::Perempuan, false) => pick(rng, F_LAST),
        (Sex::Perempuan, true) => pick(rng, F_MODERN_LAST),
    }
}

/// A full name for someone not named after a parent in the family.
pub(crate) fn full_name(rng: &mut impl Rng, sex: Sex, birth_year: i32, style: NameStyle) -> String {
    let name = match style {
        NameStyle::Muslim => muslim(rng, sex, birth_year),
        NameStyle::Kejawen => javanese(rng, sex, birth_year),
        NameStyle::Christian => {
            let baptismal = pick(
                rng,
                if sex == Sex::LakiLaki {
                    M_CHRISTIAN
                } else {
                    F_CHRISTIAN
                },
            );
            format!("{baptismal} {}", javanese(rng, sex, birth_year))
        }
        NameStyle::Tionghoa => {
            let first = pick(
                rng,
                if sex == Sex::LakiLaki {
                    M_TIONGHOA
                } else {
                    F_TIONGHOA
                },
            );
            format!("{first} {}", pick(rng, TIONGHOA_LAST))
        }
    };
    old_spelling(rng, name, birth_year)
}

/// Javanese: one word for most of the old generation, two for later ones.
fn javanese(rng: &mut impl Rng, sex: Sex, birth_year: i32) -> String {
    let one_word = [0.6, 0.2, 0.05][generation(birth_year)];
    if rng.random_bool(one_word) {
        return given(rng, sex, birth_year).to_owned();
    }
    let first = given(rng, sex, birth_year);
    if generation(birth_year) == 2 && rng.random_bool(0.3) {
        // Three-word modern names: "Dimas Bagus Saputra", "Putri Ayu Lestari".
        let middle = given(rng, sex, birth_year);
        if middle != first {
            return format!("{first} {middle} {}", closing(rng, sex, birth_year));
        }
    }
    format!("{first} {}", closing(rng, sex, birth_year))
}

fn muslim(rng: &mut impl Rng, sex: Sex, birth_year: i32) -> String {
    if !rng.random_bool(0.3) {
        return javanese(rng, sex, birth_year);
    }
    match sex {
        Sex::LakiLaki => match rng.random_range(0..4) {
            0 => format!("Abdul {}", pick(rng, M_ISLAMIC)),
            1 => format!("Ahmad {}", pick(rng, M_ISLAMIC)),
            2 if generation(birth_year) == 2 => {
                format!("{} {}", pick(rng, MUHAMMAD), javanese(rng, sex, birth_year))
            }
            _ => format!("{} {}", pick(rng, MUHAMMAD), pick(rng, M_ISLAMIC)),
        },
        Sex::Perempuan => match rng.random_range(0..3) {
            0 => format!("Siti {}", pick(rng, F_ISLAMIC)),
            1 => format!("Nur {}", pick(rng, F_ISLAMIC)),
            _ => format!("Siti Nur {}", pick(rng, F_ISLAMIC)),
        },
    }
}

/// How the parents of one household name their children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildNaming {
    /// Independent names.
    Free,
    /// Eko, Dwi, Tri, Catur by birth order.
    BirthOrder,
    /// The father's last word closes each child's name ("Aditya Santoso").
    FatherLastWord,
    /// The father's first word with a suffix ("Budi" → "Budiman", "Budiarti").
    FatherSyllable,
}

impl ChildNaming {
    pub(crate) fn choose(rng: &mut impl Rng) -> Self {
        match rng.random_range(0..100) {
            0..55 => Self::Free,
            55..67 => Self::BirthOrder,
            67..90 => Self::FatherLastWord,
            _ => Self::FatherSyllable,
        }
    }
}

/// The name of a child whose father (by name) is known; `order` counts from 0.
pub(crate) fn child_name(
    rng: &mut impl Rng,
    sex: Sex,
    birth_year: i32,
    style: NameStyle,
    father: &str,
    order: usize,
    naming: ChildNaming,
) -> String {
    let words: Vec<&str> = father.split(' ').collect();
    let father_last = words.last().copied().unwrap_or(father);
    let father_first = words.first().copied().unwrap_or(father);
    let native_first = father_first.len() <= 6 && !father_first.contains('.');
    match naming {
        ChildNaming::BirthOrder if order < BIRTH_ORDER.len() && style != NameStyle::Tionghoa => {
            format!("{} {}", BIRTH_ORDER[order], closing(rng, sex, birth_year))
        }
        ChildNaming::FatherLastWord if words.len() > 1 || style != NameStyle::Tionghoa => {
            let own = full_name(rng, sex, birth_year, style);
            let first = own.split(' ').next().unwrap_or(&own);
            format!("{first} {father_last}")
        }
        ChildNaming::FatherSyllable if native_first => {
            let suffix = match sex {
                Sex::LakiLaki => pick(rng, &["man", "wan", "anto", "yanto"]),
                Sex::Perempuan => pick(rng, &["wati", "ni", "arti", "ningsih"]),
            };
            let stem = father_first.trim_end_matches(['a', 'e', 'o']);
            format!("{stem}{suffix} {}", closing(rng, sex, birth_year))
        }
        _ => full_name(rng, sex, birth_year, style),
    }
}

/// Rewrites a name in the spelling before the 1972 reform, for some older people: `u` as
/// `oe`, `j` as `dj`, `c` as `tj`, `y` as `j` (Suyitno → Soejitno, Cipto → Tjipto).
fn old_spelling(rng: &mut impl Rng, name: String, birth_year: i32) -> String {
    let share = match birth_year {
        ..1950 => 0.4,
        1950..1966 => 0.2,
        1966..1976 => 0.06,
        _ => 0.01,
    };
    if !rng.random_bool(share) {
        return name;
    }
    let mut old = String::with_capacity(name.len() + 4);
    for ch in name.chars() {
        match ch {
            'u' => old.push_str("oe"),
            'U' => old.push_str("Oe"),
            'j' => old.push_str("dj"),
            'J' => old.push_str("Dj"),
            'c' => old.push_str("tj"),
            'C' => old.push_str("Tj"),
            'y' => old.push('j'),
            'Y' => old.push('J'),
            other => old.push(other),
        }
    }
    old
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn old_spelling_follows_the_1972_reform() {
        // share 0.4 for 1940: loop until the rewrite fires; the result is deterministic.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let rewritten = (0..100)
            .map(|_| old_spelling(&mut rng, "Suyitno Cipto Joko".into(), 1940))
            .find(|n| n != "Suyitno Cipto Joko");
        assert_eq!(rewritten.as_deref(), Some("Soejitno Tjipto Djoko"));
    }

    #[test]
    fn children_follow_the_household_naming() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let style = NameStyle::Muslim;
        let order = |i| {
            child_name(
                &mut ChaCha8Rng::seed_from_u64(3),
                Sex::LakiLaki,
                2005,
                style,
                "Budi Santoso",
                i,
                ChildNaming::BirthOrder,
            )
        };
        assert!(order(1).starts_with("Dwi "));
        let last = child_name(
            &mut rng,
            Sex::Perempuan,
            2010,
            style,
            "Budi Santoso",
            0,
            ChildNaming::FatherLastWord,
        );
        assert!(last.ends_with(" Santoso"), "{last}");
        let syllable = child_name(
            &mut rng,
            Sex::Perempuan,
            2010,
            style,
            "Budi Santoso",
            0,
            ChildNaming::FatherSyllable,
        );
        assert!(syllable.starts_with("Budi"), "{syllable}");
    }

    #[test]
    fn names_are_short_and_non_empty() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for year in [1930, 1970, 2015] {
            for style in [
                NameStyle::Muslim,
                NameStyle::Christian,
                NameStyle::Kejawen,
                NameStyle::Tionghoa,
            ] {
                for sex in [Sex::LakiLaki, Sex::Perempuan] {
                    let name = full_name(&mut rng, sex, year, style);
                    assert!(!name.trim().is_empty() && name.len() < 60, "{name}");
                }
            }
        }
    }
}
