//! Key rings: the keys of one kind that the binary knows, one of them active, parsed from
//! the text of a key file or an environment variable.
//!
//! # Text format
//!
//! ```text
//! # Data keys for simpul. One key per entry: <key id>:<standard base64 of 32 bytes>.
//! *2026-05:3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho=
//! 2025-11:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
//! ```
//!
//! - Entries are separated by newlines or commas (commas let a ring fit in one environment
//!   variable: `SIMPUL_DATA_KEYS='*k2:...,k1:...'`). Spaces and tabs around an entry are
//!   ignored, and so is everything from `#` to the end of a line. Base64 never contains `#`,
//!   `,`, `:` or whitespace, so none of these can split a key.
//! - Each entry is `<key id>:<key>`: a [`KeyId`], a colon, and the key in standard base64
//!   with padding (what `openssl rand -base64 32` prints), decoding to exactly 32 bytes.
//! - The entry written `*<key id>:<key>` is the active key: new values are sealed under it.
//!   When no entry is marked, the first entry is active. At most one entry may be marked.
//! - Ids must be unique, and the same key may not appear under two ids (that would make a
//!   rotation to the "new" id a no-op).
//! - A key whose 32 bytes are all the same (a template's `AAAA...=`) is refused.
//!
//! Errors name the line and column of the offending entry, never its content: a malformed
//! entry is usually key material in the wrong place. Only an already valid key id is quoted.

use std::collections::BTreeMap;
use std::fmt;

use base64ct::Encoding;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

use crate::key::{KEY_LEN, KeyId, KeyIdError, KeyMaterial};

/// The keys of one kind, by id, with one of them active.
///
/// Old keys stay in the ring after a rotation so values sealed under them still open;
/// [`crate::KeyRing::needs_rotation`] and [`crate::KeyRing::reseal`] move those values to the
/// active key, after which an old key can be dropped from the file.
pub struct KeyRing<K> {
    active: KeyId,
    keys: BTreeMap<KeyId, K>,
}

/// A ring of [`crate::DataKey`]s, for sealing field values.
pub type DataKeyRing = KeyRing<crate::DataKey>;

/// A ring of [`crate::BlindIndexKey`]s, for computing blind indexes.
pub type BlindKeyRing = KeyRing<crate::BlindIndexKey>;

/// Where in the key-ring text an entry starts (both 1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Line number.
    pub line: usize,
    /// Column, in characters, of the entry's first non-blank character.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a key-ring text was refused. No variant carries key material or the refused text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyRingError {
    /// The text holds no key entries at all.
    #[error("the {kind} ring has no keys")]
    Empty {
        /// [`KeyMaterial::KIND`] of the ring being parsed.
        kind: &'static str,
    },
    /// An entry has no `:` between id and key.
    #[error("{at}: expected `<key id>:<base64 key>`")]
    MissingSeparator {
        /// Where the entry starts.
        at: Position,
    },
    /// The id before the `:` is not a valid [`KeyId`].
    #[error("{at}: bad key id: {reason}")]
    BadKeyId {
        /// Where the entry starts.
        at: Position,
        /// What is wrong with it.
        reason: KeyIdError,
    },
    /// The key is not standard, padded base64.
    #[error("{at}: the key is not standard base64 (with '=' padding)")]
    BadBase64 {
        /// Where the entry starts.
        at: Position,
    },
    /// The key decodes to the wrong number of bytes.
    #[error("{at}: the key is {found} bytes long, expected {expected}")]
    BadLength {
        /// Where the entry starts.
        at: Position,
        /// Bytes decoded.
        found: usize,
        /// Always [`KEY_LEN`].
        expected: usize,
    },
    /// The key is one byte repeated, as in a template file.
    #[error("{at}: the key is one byte repeated; generate a random key")]
    PlaceholderKey {
        /// Where the entry starts.
        at: Position,
    },
    /// A second entry with an id already used.
    #[error("{at}: key id `{id}` is already used on line {first_line}")]
    DuplicateId {
        /// Where the second entry starts.
        at: Position,
        /// The repeated id (valid, so safe to show).
        id: KeyId,
        /// Line of the first entry with this id.
        first_line: usize,
    },
    /// The same key bytes under a second id.
    #[error("{at}: the same key is already listed on line {first_line} under another id")]
    DuplicateKey {
        /// Where the second entry starts.
        at: Position,
        /// Line of the first entry with these bytes.
        first_line: usize,
    },
    /// A second entry marked active with `*`.
    #[error("{at}: a second key is marked active ('*'); the first is on line {first_line}")]
    SeveralActive {
        /// Where the second marked entry starts.
        at: Position,
        /// Line of the first marked entry.
        first_line: usize,
    },
}

impl<K: KeyMaterial> KeyRing<K> {
    /// A ring of one key, which is active.
    pub fn new(id: KeyId, key: K) -> Self {
        Self {
            active: id.clone(),
            keys: BTreeMap::from([(id, key)]),
        }
    }

    /// Parses the text format described in the module docs.
    pub fn parse(text: &str) -> Result<Self, KeyRingError> {
        let mut keys: BTreeMap<KeyId, K> = BTreeMap::new();
        let mut lines_by_id: BTreeMap<KeyId, usize> = BTreeMap::new();
        let mut first: Option<KeyId> = None;
        let mut marked: Option<(KeyId, usize)> = None;
        for (entry, at) in entries(text) {
            let (is_marked, entry) = match entry.strip_prefix('*') {
                Some(rest) => (true, rest),
                None => (false, entry),
            };
            let (id, encoded) = entry
                .split_once(':')
                .ok_or(KeyRingError::MissingSeparator { at })?;
            let id = KeyId::parse(id).map_err(|reason| KeyRingError::BadKeyId { at, reason })?;
            let key = decode_key::<K>(encoded, at)?;
            if let Some(&first_line) = lines_by_id.get(&id) {
                return Err(KeyRingError::DuplicateId { at, id, first_line });
            }
            if let Some(first_line) = keys
                .iter()
                .find(|(_, other)| other.expose() == key.expose())
                .and_then(|(other_id, _)| lines_by_id.get(other_id).copied())
            {
                return Err(KeyRingError::DuplicateKey { at, first_line });
            }
            if is_marked {
                if let Some((_, first_line)) = marked {
                    return Err(KeyRingError::SeveralActive { at, first_line });
                }
                marked = Some((id.clone(), at.line));
            }
            first.get_or_insert_with(|| id.clone());
            lines_by_id.insert(id.clone(), at.line);
            keys.insert(id, key);
        }
        let active = marked
            .map(|(id, _)| id)
            .or(first)
            .ok_or(KeyRingError::Empty { kind: K::KIND })?;
        Ok(Self { active, keys })
    }

    /// The id of the active key.
    pub fn active_id(&self) -> &KeyId {
        &self.active
    }

    /// The active key.
    pub fn active(&self) -> &K {
        // The constructors only ever set `active` to an id they inserted.
        self.keys
            .get(&self.active)
            .unwrap_or_else(|| unreachable!("the active key id is always in the ring"))
    }

    /// The key with this id, if the ring has it.
    pub fn get(&self, id: &KeyId) -> Option<&K> {
        self.keys.get(id)
    }

    /// Every key id in the ring, in sorted order.
    pub fn ids(&self) -> impl Iterator<Item = &KeyId> {
        self.keys.keys()
    }

    /// Whether any key of this ring also appears, byte for byte, in `other`. The binary
    /// checks its data ring against its blind-index ring at start-up: one key used for both
    /// jobs would undo their separation.
    pub fn shares_material_with<O: KeyMaterial>(&self, other: &KeyRing<O>) -> bool {
        self.keys
            .values()
            .any(|a| other.keys.values().any(|b| a.expose() == b.expose()))
    }

    /// Adds a key without the parser's checks, so tests can build rings it would refuse.
    #[cfg(test)]
    pub(crate) fn insert_for_test(&mut self, id: KeyId, key: K) {
        self.keys.insert(id, key);
    }
}

impl<K> fmt::Debug for KeyRing<K> {
    /// Shows the ids and which is active, never the keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("active", &self.active.as_str())
            .field(
                "ids",
                &self.keys.keys().map(KeyId::as_str).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The non-empty entries of the text, trimmed and with comments removed, each with where
/// it starts.
fn entries(text: &str) -> impl Iterator<Item = (&str, Position)> {
    text.lines().enumerate().flat_map(|(index, line)| {
        let content = line.split('#').next().unwrap_or("");
        let mut offset = 0;
        content.split(',').filter_map(move |raw| {
            let start = offset;
            offset += raw.len() + 1;
            let trimmed = raw.trim_start_matches([' ', '\t']);
            let lead = raw.len() - trimmed.len();
            let trimmed = trimmed.trim_end_matches([' ', '\t', '\r']);
            (!trimmed.is_empty()).then(|| {
                let column = line[..start + lead].chars().count() + 1;
                let at = Position {
                    line: index + 1,
                    column,
                };
                (trimmed, at)
            })
        })
    })
}

fn decode_key<K: KeyMaterial>(encoded: &str, at: Position) -> Result<K, KeyRingError> {
    // Decode into a buffer sized from the input, not from a key, so a wrong length is
    // reported with its exact byte count rather than as bad base64.
    let mut buffer = Zeroizing::new(vec![0u8; encoded.len() / 4 * 3 + 3]);
    let found = base64ct::Base64::decode(encoded, buffer.as_mut_slice())
        .map_err(|_| KeyRingError::BadBase64 { at })?
        .len();
    if found != KEY_LEN {
        return Err(KeyRingError::BadLength {
            at,
            found,
            expected: KEY_LEN,
        });
    }
    let mut bytes = [0u8; KEY_LEN];
    bytes.copy_from_slice(&buffer[..KEY_LEN]);
    let placeholder = bytes.iter().all(|&b| b == bytes[0]);
    let key = K::from_bytes(bytes);
    // `from_bytes` took a copy; wipe this one.
    bytes.zeroize();
    if placeholder {
        return Err(KeyRingError::PlaceholderKey { at });
    }
    Ok(key)
}

#[cfg(test)]
#[path = "ring_tests.rs"]
mod tests;
