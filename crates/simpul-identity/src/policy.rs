//! The password policy applied when an operator chooses a password: a minimum and maximum
//! length, not the username, not one of a small built-in list of very common passwords.
//!
//! It follows NIST SP 800-63B §3.1.1.2 (<https://pages.nist.gov/800-63-4/sp800-63b.html>):
//! length and a blocklist, no composition rules (they push people towards `Password1!`).
//! The second factor (TOTP) and the sign-in throttle carry the rest of the weight, which is
//! why the blocklist can stay small. Errors name the rule, never the password.

/// Fewest characters (Unicode scalar values) a password may have. Twelve rather than NIST's
/// floor of eight, because operators reach the whole city's population register.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Most characters a password may have. Generous enough for passphrases; bounded so the
/// hash input stays small (see [`crate::password::MAX_PASSWORD_BYTES`]).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Very common passwords of at least [`MIN_PASSWORD_CHARS`] characters (shorter ones are
/// refused by length anyway), compared ignoring case. Taken from the tops of public breach
/// lists, plus the Indonesian and project words an attacker would try first here.
const COMMON_PASSWORDS: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789012345",
    "1234567890qwerty",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "1qaz2wsx3edc4rfv",
    "aaaaaaaaaaaa",
    "abc123456789",
    "abcdefghijkl",
    "admin1234567",
    "administrator",
    "administrator1",
    "bismillah123",
    "dukcapil1234",
    "dukcapil12345",
    "iloveyou1234",
    "indonesia123",
    "indonesia1945",
    "jakarta12345",
    "letmein12345",
    "merdeka17081945",
    "passw0rd1234",
    "password1234",
    "password12345",
    "password123456",
    "passwordpassword",
    "qwerty123456",
    "qwertyuiop12",
    "qwertyuiop123",
    "qwertyuiopasdf",
    "rahasia12345",
    "simpul123456",
    "superadmin123",
    "welcome12345",
    "zaq12wsxcde3",
];

/// Which rule a candidate password breaks. The API maps each to its own problem code so the
/// console can say precisely what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("password must have at least {min} characters")]
    TooShort {
        /// The minimum, [`MIN_PASSWORD_CHARS`].
        min: usize,
    },
    /// More than [`MAX_PASSWORD_CHARS`] characters.
    #[error("password must have at most {max} characters")]
    TooLong {
        /// The maximum, [`MAX_PASSWORD_CHARS`].
        max: usize,
    },
    /// The password is the username (ignoring case and surrounding spaces).
    #[error("password must not be the username")]
    SameAsUsername,
    /// The password is on the built-in list of very common passwords (ignoring case).
    #[error("password is too common")]
    Common,
}

/// Checks a password an operator is choosing. Returns the first rule broken, in the order
/// length, username, common list.
pub fn check_password(password: &str, username: &str) -> Result<(), PolicyViolation> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PolicyViolation::TooShort {
            min: MIN_PASSWORD_CHARS,
        });
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PolicyViolation::TooLong {
            max: MAX_PASSWORD_CHARS,
        });
    }
    let folded = password.trim().to_lowercase();
    if folded == username.trim().to_lowercase() {
        return Err(PolicyViolation::SameAsUsername);
    }
    if COMMON_PASSWORDS.contains(&folded.as_str()) {
        return Err(PolicyViolation::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::eleven_chars("abcdefgh-jk", Err(PolicyViolation::TooShort { min: 12 }))]
    #[case::empty("", Err(PolicyViolation::TooShort { min: 12 }))]
    // Eleven characters but more than twelve bytes: length counts characters.
    #[case::multibyte_short("ŝŝŝŝŝŝŝŝŝŝŝ", Err(PolicyViolation::TooShort { min: 12 }))]
    #[case::twelve_chars("kopi-susu-29", Ok(()))]
    #[case::too_long(&"k".repeat(129), Err(PolicyViolation::TooLong { max: 128 }))]
    #[case::longest(&"kopi".repeat(32), Ok(()))]
    #[case::username("Operator.Gambir", Err(PolicyViolation::SameAsUsername))]
    #[case::username_spaced(" operator.gambir ", Err(PolicyViolation::SameAsUsername))]
    #[case::common("Password1234", Err(PolicyViolation::Common))]
    #[case::common_local("INDONESIA1945", Err(PolicyViolation::Common))]
    #[case::passphrase("nasi goreng tanpa kecap", Ok(()))]
    fn policy_rules(#[case] password: &str, #[case] expected: Result<(), PolicyViolation>) {
        assert_eq!(check_password(password, "operator.gambir"), expected);
    }

    #[test]
    fn every_listed_password_is_long_enough_to_need_the_list() {
        for common in COMMON_PASSWORDS {
            assert!(common.chars().count() >= MIN_PASSWORD_CHARS, "{common}");
            assert_eq!(
                common.to_lowercase(),
                *common,
                "list is compared lowercased"
            );
        }
    }

    #[test]
    fn messages_do_not_repeat_the_password() {
        let violation = check_password("password1234", "someone").unwrap_err();
        assert!(!violation.to_string().contains("password1234"));
    }
}
