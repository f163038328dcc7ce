//! One-time recovery codes: the way back in when an operator's phone (and so their TOTP)
//! is lost. Ten codes are issued together, shown once in clear, and stored only as hashes;
//! each works once.
//!
//! A code is twelve characters shown as `xxxx-xxxx-xxxx`, drawn uniformly from 31
//! characters that cannot be mistaken for one another (no `0`/`o`, `1`/`l`/`i`):
//! log2(31) x 12 = 59.5 bits.
//!
//! Why SHA-256 rather than argon2 for the hashes: a code is random, not chosen by a person,
//! so there is no dictionary to slow down, and sign-in would otherwise pay ten argon2 runs
//! (one per stored code). The hash is salted per set, so one precomputation cannot serve
//! every account. The cost of this choice: someone holding a copy of the database could
//! find one of an account's ten codes with about 2^55 SHA-256 evaluations on average
//! (which is why codes have twelve characters rather than eight), and a recovery code
//! replaces only the second factor: they would still need the argon2-protected password.

use std::fmt;

use chrono::{DateTime, Utc};
use rand::{CryptoRng, Rng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// How many codes are issued at a time.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// The characters of a code: digits and lowercase letters without `0`, `1`, `i`, `l`, `o`.
const ALPHABET: &[u8; 31] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Characters per code, before the dashes are added.
const CODE_CHARS: usize = 12;
/// A dash after every this many characters, for reading the code aloud or copying it by hand.
const GROUP_CHARS: usize = 4;
/// Separates recovery-code hashes from any other SHA-256 use of the same bytes.
const DOMAIN: &[u8] = b"simpul/recovery-code/v1\0";
/// Salt length in bytes, per set.
const SALT_BYTES: usize = 16;

/// Why a recovery code was refused. The API answers all of them with one "invalid code";
/// the suspicious-access rules see which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryRejection {
    /// Not twelve characters of the code alphabet (dashes, spaces and case are ignored).
    #[error("recovery code is not in the expected format")]
    Malformed,
    /// Not one of this account's codes.
    #[error("recovery code is not valid")]
    Unknown,
    /// One of this account's codes, already used.
    #[error("recovery code was already used")]
    AlreadyUsed,
}

/// A recovery code in clear, as shown once to the operator. Zeroed when dropped, hidden
/// from `Debug`, and without `Display` so it cannot slip into a log line by accident.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    /// The code as the operator should see it, e.g. `7kq2-mxd9-fp4h`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

/// One stored code: its hash and when it was used.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredCode {
    #[serde(with = "crate::hex::array")]
    hash: [u8; 32],
    used_at: Option<DateTime<Utc>>,
}

/// The stored form of an account's recovery codes: a salt and one hash per code, with the
/// time each was used. Serialize it (JSON, hex digests) into the account's row, and write it
/// back after every successful [`RecoveryCodeSet::consume`] in the same transaction as the
/// sign-in, so a code cannot be used twice by two concurrent requests.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryCodeSet {
    #[serde(with = "crate::hex::array")]
    salt: [u8; SALT_BYTES],
    codes: Vec<StoredCode>,
}

impl fmt::Debug for RecoveryCodeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hashes are what an offline search needs; counts are enough to debug with.
        f.debug_struct("RecoveryCodeSet")
            .field("total", &self.total())
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl RecoveryCodeSet {
    /// Issues [`RECOVERY_CODE_COUNT`] new, distinct codes. Returns the set to store and the
    /// codes in clear, to show the operator once and then drop. Issuing a new set replaces
    /// the old one entirely (the caller overwrites it).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> (Self, Vec<RecoveryCode>) {
        let mut salt = [0u8; SALT_BYTES];
        rng.fill_bytes(&mut salt);
        let mut set = Self {
            salt,
            codes: Vec::with_capacity(RECOVERY_CODE_COUNT),
        };
        let mut clear = Vec::with_capacity(RECOVERY_CODE_COUNT);
        while clear.len() < RECOVERY_CODE_COUNT {
            let chars: Zeroizing<Vec<u8>> = Zeroizing::new(
                (0..CODE_CHARS)
                    .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
                    .collect(),
            );
            let hash = set.hash(&chars);
            // A repeat has probability about 2^-53 per set; skipping it keeps "ten codes"
            // true rather than nearly true.
            if set.codes.iter().any(|stored| stored.hash == hash) {
                continue;
            }
            set.codes.push(StoredCode {
                hash,
                used_at: None,
            });
            clear.push(RecoveryCode(display_form(&chars)));
        }
        (set, clear)
    }

    /// Uses a code: matches `input` ignoring case, dashes and spaces, marks the code used
    /// at `now`, and returns how many unused codes remain. The caller must store the
    /// changed set before reporting success.
    pub fn consume(&mut self, input: &str, now: DateTime<Utc>) -> Result<usize, RecoveryRejection> {
        let chars = normalise(input).ok_or(RecoveryRejection::Malformed)?;
        let hash = self.hash(&chars);
        // Compare against every code, without stopping at a match, in constant time.
        let mut found = None;
        for (index, stored) in self.codes.iter().enumerate() {
            if bool::from(stored.hash.ct_eq(&hash)) {
                found = Some(index);
            }
        }
        let stored = found
            .and_then(|index| self.codes.get_mut(index))
            .ok_or(RecoveryRejection::Unknown)?;
        if stored.used_at.is_some() {
            return Err(RecoveryRejection::AlreadyUsed);
        }
        stored.used_at = Some(now);
        Ok(self.remaining())
    }

    /// How many codes are still unused. The console warns when this runs low.
    pub fn remaining(&self) -> usize {
        self.codes.iter().filter(|c| c.used_at.is_none()).count()
    }

    /// How many codes the set was issued with.
    pub fn total(&self) -> usize {
        self.codes.len()
    }

    fn hash(&self, chars: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN);
        hasher.update(self.salt);
        hasher.update(chars);
        hasher.finalize().into()
    }
}

/// `abcdefghjkmn` -> `abcd-efgh-jkmn`.
fn display_form(chars: &[u8]) -> String {
    let mut out = String::with_capacity(CODE_CHARS + CODE_CHARS / GROUP_CHARS);
    for (index, &c) in chars.iter().enumerate() {
        if index > 0 && index % GROUP_CHARS == 0 {
            out.push('-');
        }
        out.push(char::from(c));
    }
    out
}

/// The twelve code characters of what the operator typed, or `None` if it cannot be a code.
fn normalise(input: &str) -> Option<Zeroizing<Vec<u8>>> {
    let chars: Zeroizing<Vec<u8>> = Zeroizing::new(
        input
            .bytes()
            .filter(|b| *b != b'-' && !b.is_ascii_whitespace())
            .map(|b| b.to_ascii_lowercase())
            .collect(),
    );
    let well_formed = chars.len() == CODE_CHARS && chars.iter().all(|c| ALPHABET.contains(c));
    well_formed.then_some(chars)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).expect("valid timestamp")
    }

    fn issue() -> (RecoveryCodeSet, Vec<RecoveryCode>) {
        RecoveryCodeSet::generate(&mut ChaCha20Rng::seed_from_u64(11))
    }

    #[test]
    fn ten_distinct_codes_in_the_documented_shape() {
        let (set, codes) = issue();
        assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
        assert_eq!(set.total(), RECOVERY_CODE_COUNT);
        assert_eq!(set.remaining(), RECOVERY_CODE_COUNT);
        for code in &codes {
            let text = code.as_str();
            assert_eq!(text.len(), 14, "{text}");
            assert_eq!((&text[4..5], &text[9..10]), ("-", "-"), "{text}");
            assert!(
                text.bytes()
                    .filter(|b| *b != b'-')
                    .all(|b| ALPHABET.contains(&b))
            );
        }
        let mut unique: Vec<&str> = codes.iter().map(RecoveryCode::as_str).collect();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODE_COUNT);
    }

    #[test]
    fn the_alphabet_has_no_look_alikes_and_gives_40_bits() {
        for confusable in b"01ilo" {
            assert!(!ALPHABET.contains(confusable));
        }
        let bits = CODE_CHARS as f64 * (ALPHABET.len() as f64).log2();
        assert!(bits >= 40.0, "{bits}");
    }

    #[test]
    fn a_code_works_once() {
        let (mut set, codes) = issue();
        let code = codes[3].as_str();
        assert_eq!(set.consume(code, at(100)), Ok(9));
        assert_eq!(
            set.consume(code, at(200)),
            Err(RecoveryRejection::AlreadyUsed)
        );
        assert_eq!(set.remaining(), 9);
        // Others still work.
        assert_eq!(set.consume(codes[4].as_str(), at(300)), Ok(8));
    }

    #[test]
    fn case_dashes_and_spaces_are_ignored() {
        let (mut set, codes) = issue();
        let typed = format!(" {} ", codes[0].as_str().to_uppercase().replace('-', " "));
        assert_eq!(set.consume(&typed, at(1)), Ok(9));
        let undashed = codes[1].as_str().replace('-', "");
        assert_eq!(set.consume(&undashed, at(2)), Ok(8));
        // The used code, typed another way, is still used.
        assert_eq!(
            set.consume(codes[0].as_str(), at(3)),
            Err(RecoveryRejection::AlreadyUsed)
        );
    }

    #[test]
    fn unknown_and_malformed_codes_are_refused() {
        let (mut set, codes) = issue();
        let (_, other_codes) = RecoveryCodeSet::generate(&mut ChaCha20Rng::seed_from_u64(12));
        assert_eq!(
            set.consume(other_codes[0].as_str(), at(1)),
            Err(RecoveryRejection::Unknown)
        );
        assert_eq!(
            set.consume("abcd-efgh-jkm", at(1)),
            Err(RecoveryRejection::Malformed)
        );
        assert_eq!(
            set.consume("abcd-efgh-jkm0", at(1)),
            Err(RecoveryRejection::Malformed)
        );
        assert_eq!(
            set.consume("abcd-efgh-jkmnp", at(1)),
            Err(RecoveryRejection::Malformed)
        );
        assert_eq!(set.consume("", at(1)), Err(RecoveryRejection::Malformed));
        // The same characters under another set's salt do not match.
        let mut other_set = RecoveryCodeSet::generate(&mut ChaCha20Rng::seed_from_u64(12)).0;
        assert_eq!(
            other_set.consume(codes[0].as_str(), at(1)),
            Err(RecoveryRejection::Unknown)
        );
        assert_eq!(set.remaining(), RECOVERY_CODE_COUNT);
    }

    #[test]
    fn every_code_can_be_used_and_then_none_remain() {
        let (mut set, codes) = issue();
        for (used, code) in codes.iter().enumerate() {
            assert_eq!(
                set.consume(code.as_str(), at(10)),
                Ok(RECOVERY_CODE_COUNT - used - 1)
            );
        }
        assert_eq!(set.remaining(), 0);
    }

    #[test]
    fn the_stored_form_round_trips_and_holds_no_clear_code() {
        let (mut set, codes) = issue();
        set.consume(codes[0].as_str(), at(1_700_000_000))
            .expect("first use");
        let json = serde_json::to_string(&set).expect("serialize");
        for code in &codes {
            assert!(!json.contains(code.as_str()));
            assert!(!json.contains(&code.as_str().replace('-', "")));
        }
        let mut back: RecoveryCodeSet = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, set);
        assert_eq!(
            back.consume(codes[0].as_str(), at(2)),
            Err(RecoveryRejection::AlreadyUsed)
        );
        assert_eq!(back.consume(codes[1].as_str(), at(2)), Ok(8));
    }

    #[test]
    fn codes_never_appear_in_debug_output() {
        let (set, codes) = issue();
        let shown = format!("{set:?} {codes:?}");
        for code in &codes {
            assert!(!shown.contains(code.as_str()), "{shown}");
        }
        assert!(shown.contains("remaining: 10"), "{shown}");
    }
}
