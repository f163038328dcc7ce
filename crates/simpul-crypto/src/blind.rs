//! Blind indexes: keyed HMAC-SHA256 digests of identifying values, so the store can find a
//! row by NIK, KK number or name word without keeping those values in clear.
//!
//! `blind(domain, value) = HMAC-SHA256(key, "simpul/blind-index/v1" || len(domain) || domain
//! || len(value) || value)`, each length a big-endian `u64`. The domain keeps a NIK and a
//! KK number with the same digits (both are 16 digits) from having the same index, and the
//! length prefixes keep `("ab", "c")` and `("a", "bc")` apart.
//!
//! Without the key, an index reveals nothing and cannot be recomputed; NIKs are structured
//! enough (region, birth date, serial) that an unkeyed hash would be inverted by trying
//! them all. With the key, that search is possible, so the key is as secret as the data.
//!
//! What an index still shows, by design: which rows share a value. For names that is the
//! frequency of each word, so the most common words (`MUHAMMAD`, `SITI`) can be guessed
//! from their counts; the name-token index trades that for search by name.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use simpul_domain::{Nik, NoKk};
use thiserror::Error;

use crate::key::{BlindIndexKey, sealed::Sealed};

/// The HMAC used for blind indexes; the RFC 4231 tests run through this same type.
type HmacSha256 = Hmac<Sha256>;

/// Label at the start of every HMAC input: the version of this construction, so a future
/// one can never produce the same indexes.
const LABEL: &[u8] = b"simpul/blind-index/v1";

/// Bytes in a blind index: a full SHA-256 output. Not truncated: the bytes are cheap, and a
/// full output leaves no birthday-bound argument about two residents sharing an index.
pub const BLIND_INDEX_LEN: usize = 32;

/// What kind of value is blinded. Each kind gives unrelated indexes for the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlindDomain {
    /// A 16-digit NIK.
    Nik,
    /// A 16-digit family-card (KK) number.
    NoKk,
    /// One word of a normalised name ([`simpul_domain::name::tokens`]).
    NameToken,
    /// A birth date as `YYYY-MM-DD`, so residents can be searched by it.
    BirthDate,
}

impl BlindDomain {
    /// The label hashed in; fixed forever, since changing it changes every stored index.
    fn label(self) -> &'static [u8] {
        match self {
            Self::Nik => b"nik",
            Self::NoKk => b"no-kk",
            Self::NameToken => b"name-token",
            Self::BirthDate => b"birth-date",
        }
    }
}

/// A blind index: 32 bytes, stored as 64 lowercase hex digits.
///
/// Derived equality is not constant-time; it does not need to be. An index is a lookup key
/// compared by the database, not a tag that authenticates anything.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlindIndex([u8; BLIND_INDEX_LEN]);

/// Why a text is not a blind index. Never quotes the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a blind index is {len} lowercase hex digits", len = 2 * BLIND_INDEX_LEN)]
pub struct BlindIndexParseError;

impl BlindIndex {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; BLIND_INDEX_LEN] {
        &self.0
    }

    /// Reads the 64-hex-digit text form; upper case is refused so each index has exactly
    /// one spelling and string equality in SQL is index equality.
    pub fn parse(text: &str) -> Result<Self, BlindIndexParseError> {
        let digits = text.as_bytes();
        if digits.len() != 2 * BLIND_INDEX_LEN {
            return Err(BlindIndexParseError);
        }
        let mut bytes = [0u8; BLIND_INDEX_LEN];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
        }
        Ok(Self(bytes))
    }
}

fn hex_value(digit: u8) -> Result<u8, BlindIndexParseError> {
    match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        _ => Err(BlindIndexParseError),
    }
}

impl fmt::Display for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hand-rolled into one buffer rather than 32 `{:02x}` writes: an index is formatted
        // for every row a batch verification looks up, and the formatter calls showed up
        // in its profile.
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 2 * BLIND_INDEX_LEN];
        for (pair, byte) in text.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        // Only ASCII hex digits were written.
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for BlindIndex {
    /// The first four bytes only: enough to tell indexes apart while debugging, without
    /// putting a full, linkable lookup key into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlindIndex(")?;
        self.0[..4].iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        write!(f, "…)")
    }
}

impl FromStr for BlindIndex {
    type Err = BlindIndexParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; BLIND_INDEX_LEN] {
    // HMAC takes keys of any length (RFC 2104 section 2), so this never fails.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length")
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl BlindIndexKey {
    /// The blind index of `value` in `domain`.
    pub fn blind(&self, domain: BlindDomain, value: &[u8]) -> BlindIndex {
        let label = domain.label();
        BlindIndex(hmac_sha256(
            self.expose(),
            &[
                LABEL,
                &(label.len() as u64).to_be_bytes(),
                label,
                &(value.len() as u64).to_be_bytes(),
                value,
            ],
        ))
    }

    /// The blind index of a NIK: the residents table's lookup key.
    pub fn blind_nik(&self, nik: &Nik) -> BlindIndex {
        self.blind(BlindDomain::Nik, nik.as_str().as_bytes())
    }

    /// The blind index of a KK number: the families table's lookup key.
    pub fn blind_no_kk(&self, no_kk: &NoKk) -> BlindIndex {
        self.blind(BlindDomain::NoKk, no_kk.as_str().as_bytes())
    }

    /// The blind indexes of a name's words, normalised as the domain crate does, each once
    /// and in the order first seen. Used both to index a stored name and to search for one,
    /// so `Siti Nur'aini` finds `SITI NURAINI`.
    pub fn blind_name_tokens(&self, name: &str) -> Vec<BlindIndex> {
        let mut out: Vec<BlindIndex> = Vec::new();
        for token in simpul_domain::name::tokens(name) {
            let index = self.blind(BlindDomain::NameToken, token.as_bytes());
            if !out.contains(&index) {
                out.push(index);
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "blind_tests.rs"]
mod tests;
