//! The access-token signing keys: a ring of Ed25519 keys, each named by a key id (`kid`),
//! one of them active, read from and written to the text of a key file.
//!
//! # Text format
//!
//! The format of simpul's other key rings (`simpul-crypto`'s `ring.rs`), so operators learn
//! one format; only what the 32 bytes mean differs (here an Ed25519 seed, RFC 8032 §5.1.5):
//!
//! ```text
//! # Access-token signing keys for simpul. One key per entry: <key id>:<base64 Ed25519 seed>.
//! *2026-05:3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho=
//! 2025-11:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
//! ```
//!
//! - Entries are separated by newlines or commas (commas let a ring fit in one environment
//!   variable). Spaces and tabs around an entry are ignored, and so is everything from `#` to
//!   the end of a line. Base64 never contains `#`, `,`, `:` or whitespace.
//! - Each entry is `<key id>:<seed>`: a [`SigningKeyId`], a colon, and the 32-byte seed in
//!   standard base64 with padding (what `openssl rand -base64 32` prints).
//! - The entry written `*<key id>:<seed>` is the active key: new tokens are signed with it.
//!   When no entry is marked, the first entry is active. At most one entry may be marked.
//! - Ids must be unique, and the same key may not appear under two ids.
//! - A seed whose 32 bytes are all the same (a template's `AAAA...=`) is refused.
//!
//! Errors name the line and column of the offending entry, never its content: a malformed
//! entry is usually key material in the wrong place. Only an already valid key id is quoted.
//!
//! # Rotation
//!
//! [`AccessTokenSigner::rotate`] adds a fresh key and makes it active; the old key stays to
//! verify the tokens it signed. Once the longest token lifetime plus
//! [`super::CLOCK_LEEWAY_SECS`] has passed, every token it signed has expired and
//! [`AccessTokenSigner::retire`] drops it. Resource servers that cache the JWKS should
//! refresh it at least that often, so a new key is published before the first token it signs
//! is likely to reach them; the API can also publish a key before activating it by adding it
//! unmarked to the file.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64ct::Encoding;
use ed25519_dalek::{SECRET_KEY_LENGTH, SigningKey};
use rand::CryptoRng;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// Longest key id. The id travels in every token header, so it is kept short; 32 characters
/// fit a date and a purpose (`2026-05-rotation-2`).
pub const SIGNING_KEY_ID_MAX_LEN: usize = 32;

/// The name of a signing key: the `kid` of the token header (RFC 7515 §4.1.4) and of the
/// key's JWK (RFC 7517 §4.5).
///
/// One to [`SIGNING_KEY_ID_MAX_LEN`] characters from `a-z`, `0-9` and `-`, starting with a
/// letter or digit: the rule of simpul's other key ids. None of these needs escaping in JSON
/// or in the key-file text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SigningKeyId(String);

/// Why a key id was refused. It never carries the refused text: a malformed id is often key
/// material pasted into the wrong place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SigningKeyIdError {
    /// The id is empty.
    #[error("key id is empty")]
    Empty,
    /// The id is longer than [`SIGNING_KEY_ID_MAX_LEN`].
    #[error("key id is longer than {SIGNING_KEY_ID_MAX_LEN} characters")]
    TooLong,
    /// A character outside `a-z`, `0-9`, `-`, or a leading `-`.
    #[error("key id may hold only a-z, 0-9 and '-', and must not start with '-'")]
    BadCharacter,
}

impl SigningKeyId {
    /// Checks and wraps a key id.
    pub fn parse(id: &str) -> Result<Self, SigningKeyIdError> {
        if id.is_empty() {
            return Err(SigningKeyIdError::Empty);
        }
        if id.len() > SIGNING_KEY_ID_MAX_LEN {
            return Err(SigningKeyIdError::TooLong);
        }
        let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
        if id.starts_with('-') || !id.bytes().all(allowed) {
            return Err(SigningKeyIdError::BadCharacter);
        }
        Ok(Self(id.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SigningKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lets the ring look a key up by the `kid` text of a token header, without first building
/// a `SigningKeyId` from it. Sound because the derived `Eq`, `Ord` and `Hash` are those of
/// the inner string.
impl Borrow<str> for SigningKeyId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl FromStr for SigningKeyId {
    type Err = SigningKeyIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Where in the key-file text an entry starts (both 1-based).
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

/// Why a signing-key text was refused. No variant carries key material or the refused text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SigningKeysError {
    /// The text holds no key entries at all.
    #[error("the access-token signing key ring has no keys")]
    Empty,
    /// An entry has no `:` between id and seed.
    #[error("{at}: expected `<key id>:<base64 seed>`")]
    MissingSeparator {
        /// Where the entry starts.
        at: Position,
    },
    /// The id before the `:` is not a valid [`SigningKeyId`].
    #[error("{at}: bad key id: {reason}")]
    BadKeyId {
        /// Where the entry starts.
        at: Position,
        /// What is wrong with it.
        reason: SigningKeyIdError,
    },
    /// The seed is not standard, padded base64.
    #[error("{at}: the seed is not standard base64 (with '=' padding)")]
    BadBase64 {
        /// Where the entry starts.
        at: Position,
    },
    /// The seed decodes to the wrong number of bytes.
    #[error("{at}: the seed is {found} bytes long, expected {expected}")]
    BadLength {
        /// Where the entry starts.
        at: Position,
        /// Bytes decoded.
        found: usize,
        /// Always 32 ([`SECRET_KEY_LENGTH`]).
        expected: usize,
    },
    /// The seed is one byte repeated, as in a template file.
    #[error("{at}: the seed is one byte repeated; generate a random key")]
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
        id: SigningKeyId,
        /// Line of the first entry with this id.
        first_line: usize,
    },
    /// The same key under a second id.
    #[error("{at}: the same key is already listed on line {first_line} under another id")]
    DuplicateKey {
        /// Where the second entry starts.
        at: Position,
        /// Line of the first entry with this key.
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

/// Why a rotation step was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RotationError {
    /// [`AccessTokenSigner::rotate`] was given an id the ring already has.
    #[error("key id `{0}` is already in the ring")]
    DuplicateId(SigningKeyId),
    /// [`AccessTokenSigner::retire`] was asked to drop the active key; rotate first.
    #[error("key `{0}` is the active signing key; rotate to a new key before retiring it")]
    ActiveKey(SigningKeyId),
    /// [`AccessTokenSigner::retire`] was given an id the ring does not have.
    #[error("key id `{0}` is not in the ring")]
    UnknownId(SigningKeyId),
}

/// The access-token signing keys: one active key signs, every key verifies.
///
/// `Debug` shows the ids and which is active, never a key; each key is wiped when dropped
/// (ed25519-dalek's `zeroize` feature). There is no `Clone`: share the signer behind an
/// `Arc`.
pub struct AccessTokenSigner {
    /// The id of the key that signs.
    active_id: SigningKeyId,
    /// The key that signs. Kept apart from the others, so there is always exactly one and
    /// signing needs no lookup that could fail.
    active: SigningKey,
    /// Keys that only verify: those rotated away from, or added ahead of a rotation.
    others: BTreeMap<SigningKeyId, SigningKey>,
}

impl AccessTokenSigner {
    /// A ring of one fresh key, which is active: for `simpul keys generate` and tests.
    pub fn generate<R: CryptoRng + ?Sized>(id: SigningKeyId, rng: &mut R) -> Self {
        Self {
            active_id: id,
            active: random_key(rng),
            others: BTreeMap::new(),
        }
    }

    /// Parses the text format described in the module docs.
    pub fn parse(text: &str) -> Result<Self, SigningKeysError> {
        let mut keys: BTreeMap<SigningKeyId, SigningKey> = BTreeMap::new();
        let mut lines_by_id: BTreeMap<SigningKeyId, usize> = BTreeMap::new();
        let mut first: Option<SigningKeyId> = None;
        let mut marked: Option<(SigningKeyId, usize)> = None;
        for (entry, at) in entries(text) {
            let (is_marked, entry) = match entry.strip_prefix('*') {
                Some(rest) => (true, rest),
                None => (false, entry),
            };
            let (id, encoded) = entry
                .split_once(':')
                .ok_or(SigningKeysError::MissingSeparator { at })?;
            let id = SigningKeyId::parse(id)
                .map_err(|reason| SigningKeysError::BadKeyId { at, reason })?;
            let key = decode_seed(encoded, at)?;
            if let Some(&first_line) = lines_by_id.get(&id) {
                return Err(SigningKeysError::DuplicateId { at, id, first_line });
            }
            // Equal seeds give equal public keys, so this compares no secret.
            if let Some(first_line) = keys
                .iter()
                .find(|(_, other)| other.verifying_key() == key.verifying_key())
                .and_then(|(other_id, _)| lines_by_id.get(other_id).copied())
            {
                return Err(SigningKeysError::DuplicateKey { at, first_line });
            }
            if is_marked {
                if let Some((_, first_line)) = marked {
                    return Err(SigningKeysError::SeveralActive { at, first_line });
                }
                marked = Some((id.clone(), at.line));
            }
            first.get_or_insert_with(|| id.clone());
            lines_by_id.insert(id.clone(), at.line);
            keys.insert(id, key);
        }
        let active_id = marked
            .map(|(id, _)| id)
            .or(first)
            .ok_or(SigningKeysError::Empty)?;
        let active = keys.remove(&active_id).ok_or(SigningKeysError::Empty)?;
        Ok(Self {
            active_id,
            active,
            others: keys,
        })
    }

    /// The ring as key-file text, in the format [`AccessTokenSigner::parse`] reads: a comment
    /// line, the active key first and marked `*`, then the others by id. The only way key
    /// material leaves this crate as text; the string is wiped when dropped.
    pub fn to_key_file(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::from(
            "# Access-token signing keys for simpul. One key per entry: \
             <key id>:<base64 Ed25519 seed>; '*' marks the signing key.\n",
        ));
        for (id, key) in self.keys() {
            let marker = if *id == self.active_id { "*" } else { "" };
            let seed = Zeroizing::new(base64ct::Base64::encode_string(key.as_bytes()));
            text.push_str(marker);
            text.push_str(id.as_str());
            text.push(':');
            text.push_str(&seed);
            text.push('\n');
        }
        text
    }

    /// Adds a fresh key under `id` and makes it the active one. The previous active key
    /// stays, so the tokens it signed keep verifying until they expire.
    pub fn rotate<R: CryptoRng + ?Sized>(
        &mut self,
        id: SigningKeyId,
        rng: &mut R,
    ) -> Result<(), RotationError> {
        if id == self.active_id || self.others.contains_key(&id) {
            return Err(RotationError::DuplicateId(id));
        }
        let previous_id = std::mem::replace(&mut self.active_id, id);
        let previous = std::mem::replace(&mut self.active, random_key(rng));
        self.others.insert(previous_id, previous);
        Ok(())
    }

    /// Drops a key that no longer signs. Tokens it signed stop verifying at once (they
    /// answer [`super::TokenRejection::UnknownKey`]), so retire a key only after the longest
    /// token lifetime has passed since the rotation away from it.
    pub fn retire(&mut self, id: &SigningKeyId) -> Result<(), RotationError> {
        if *id == self.active_id {
            return Err(RotationError::ActiveKey(id.clone()));
        }
        match self.others.remove(id) {
            Some(_) => Ok(()),
            None => Err(RotationError::UnknownId(id.clone())),
        }
    }

    /// The id of the key that signs new tokens.
    pub fn active_id(&self) -> &SigningKeyId {
        &self.active_id
    }

    /// Every key id in the ring: the active one first, then the others in sorted order.
    pub fn ids(&self) -> impl Iterator<Item = &SigningKeyId> {
        self.keys().map(|(id, _)| id)
    }

    /// The key that signs new tokens.
    pub(super) fn active_key(&self) -> &SigningKey {
        &self.active
    }

    /// The key with this id, if the ring has it.
    pub(super) fn key(&self, id: &str) -> Option<&SigningKey> {
        if id == self.active_id.as_str() {
            return Some(&self.active);
        }
        self.others.get(id)
    }

    /// Every key with its id: the active one first, then the others in sorted order.
    pub(super) fn keys(&self) -> impl Iterator<Item = (&SigningKeyId, &SigningKey)> {
        std::iter::once((&self.active_id, &self.active)).chain(self.others.iter())
    }
}

impl fmt::Debug for AccessTokenSigner {
    /// Shows the ids and which is active, never the keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenSigner")
            .field("active", &self.active_id.as_str())
            .field(
                "ids",
                &self.ids().map(SigningKeyId::as_str).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A fresh Ed25519 key from the caller's generator. Built from a 32-byte seed rather than
/// with `SigningKey::generate`, which takes rand_core 0.10 while the crate's callers pass a
/// rand 0.9 generator.
fn random_key<R: CryptoRng + ?Sized>(rng: &mut R) -> SigningKey {
    let mut seed = [0u8; SECRET_KEY_LENGTH];
    rng.fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    seed.zeroize();
    key
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

fn decode_seed(encoded: &str, at: Position) -> Result<SigningKey, SigningKeysError> {
    // Decode into a buffer sized from the input, not from a key, so a wrong length is
    // reported with its exact byte count rather than as bad base64.
    let mut buffer = Zeroizing::new(vec![0u8; encoded.len() / 4 * 3 + 3]);
    let found = base64ct::Base64::decode(encoded, buffer.as_mut_slice())
        .map_err(|_| SigningKeysError::BadBase64 { at })?
        .len();
    if found != SECRET_KEY_LENGTH {
        return Err(SigningKeysError::BadLength {
            at,
            found,
            expected: SECRET_KEY_LENGTH,
        });
    }
    let mut seed = [0u8; SECRET_KEY_LENGTH];
    seed.copy_from_slice(&buffer[..SECRET_KEY_LENGTH]);
    let placeholder = seed.iter().all(|&b| b == seed[0]);
    let key = SigningKey::from_bytes(&seed);
    // `from_bytes` took a copy; wipe this one.
    seed.zeroize();
    if placeholder {
        return Err(SigningKeysError::PlaceholderKey { at });
    }
    Ok(key)
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
