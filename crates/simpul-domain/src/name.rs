//! Indonesian name normalisation and comparison.
//!
//! Registry names and names typed by an agency differ in case, spacing and punctuation
//! (`Siti Nur'aini`, `SITI  NURAINI`, `siti nur-aini`). Normalisation folds those away, so a
//! comparison can say whether two names are the same letter for letter (exact) or only once
//! normalised. Spelling variants (oe/u, dj/j) belong to record linkage, not here.

use serde::Serialize;

/// Upper-cases letters and digits, drops apostrophes, turns every other
/// separator into one space, and trims. Idempotent.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for ch in name.chars() {
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            // Some letters upper-case to a letter plus a combining mark; keep only the letters so
            // that normalising twice gives the same result.
            out.extend(ch.to_uppercase().filter(|c| c.is_alphanumeric()));
        } else if matches!(ch, '\'' | '`' | '’' | '‘') {
            // An apostrophe joins its letters: NUR'AINI is NURAINI.
        } else {
            pending_space = true;
        }
    }
    out
}

/// The normalised name's words, for search indexes.
pub fn tokens(name: &str) -> Vec<String> {
    normalise(name)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// How two names compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NameMatch {
    /// Identical, character for character.
    Persis,
    /// Identical after normalisation (case, spacing, punctuation).
    Normalisasi,
    /// Different.
    Berbeda,
}

pub fn compare(claimed: &str, recorded: &str) -> NameMatch {
    if claimed == recorded {
        NameMatch::Persis
    } else if normalise(claimed) == normalise(recorded) {
        NameMatch::Normalisasi
    } else {
        NameMatch::Berbeda
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("Siti Nur'aini", "SITI NURAINI")]
    #[case("  siti   nur-aini ", "SITI NUR AINI")]
    #[case("M. Ali", "M ALI")]
    #[case("Moch.Ali", "MOCH ALI")]
    #[case("", "")]
    fn normalises(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(normalise(input), expected);
    }

    #[test]
    fn compares() {
        assert_eq!(compare("Budi Santoso", "Budi Santoso"), NameMatch::Persis);
        assert_eq!(
            compare("budi  santoso", "Budi Santoso"),
            NameMatch::Normalisasi
        );
        assert_eq!(compare("Budi Susanto", "Budi Santoso"), NameMatch::Berbeda);
    }

    proptest::proptest! {
        #[test]
        fn normalising_twice_changes_nothing(name in "\\PC{0,40}") {
            let once = normalise(&name);
            proptest::prop_assert_eq!(normalise(&once), once.clone());
        }
    }
}
