//! Sealing field values: XChaCha20-Poly1305 under the active data key, bound to the field it
//! belongs to, in a compact versioned text encoding.
//!
//! # Encoding
//!
//! `v1.<key id>.<base64url without padding of (nonce || ciphertext || tag)>`
//!
//! - `v1` names this format: XChaCha20-Poly1305, a 24-byte random nonce, and the associated
//!   data below. A later format gets a new prefix, and old values keep opening.
//! - The key id says which key of the [`crate::DataKeyRing`] opens the value, so keys can rotate
//!   without rewriting every row at once.
//! - The nonce is 24 random bytes from the caller's CSPRNG. At 192 bits, random nonces do
//!   not collide in any realistic number of seals under one key (a 96-bit nonce would start
//!   to risk it after about 2^32), so no nonce counter has to be stored or coordinated.
//!
//! # Associated data
//!
//! The ciphertext authenticates, without containing, the format version, the key id and a
//! [`FieldContext`]: table, column and row. A value copied into another column, another row
//! or another table therefore fails to open instead of showing one resident's data as
//! another's. Each part is length-prefixed, so no two different contexts encode alike.
//!
//! # What the encoding does not hide
//!
//! The plaintext's length: a sealed name is 40 bytes longer than the name (before base64).

use std::fmt;
use std::str::FromStr;

use base64ct::{Base64UrlUnpadded, Encoding};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::CryptoRng;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

use crate::blind::BlindIndex;
use crate::key::{DataKey, KeyId, KeyIdError, sealed::Sealed};
use crate::ring::KeyRing;

/// The version prefix of the current encoding.
const VERSION: &str = "v1";

/// Label at the start of the associated data, so these bytes can never be mistaken for
/// associated data that some other protocol signs with the same key.
const AAD_LABEL: &[u8] = b"simpul/sealed-field/v1";

/// Bytes of random nonce.
pub const NONCE_LEN: usize = 24;

/// Bytes of Poly1305 tag.
pub const TAG_LEN: usize = 16;

/// Largest plaintext [`KeyRing::seal`] accepts. Field values are names, places and
/// addresses; 16 KiB is far above any of them, and bounding it lets the parser refuse
/// absurd input before decoding it.
pub const MAX_PLAINTEXT_LEN: usize = 16 * 1024;

/// Longest encoded value [`SealedValue::parse`] accepts: exactly the longest that sealing
/// [`MAX_PLAINTEXT_LEN`] bytes under the longest key id produces, so everything sealed parses.
pub const MAX_ENCODED_LEN: usize = VERSION.len()
    + 1
    + crate::key::KEY_ID_MAX_LEN
    + 1
    + (NONCE_LEN + MAX_PLAINTEXT_LEN + TAG_LEN).div_ceil(3) * 4;

/// Where a sealed value lives. Bound into the ciphertext, so the value opens only here.
///
/// `row` is the row's identity as bytes. For residents and families that is the blind index
/// of their NIK or KK number, the table's lookup key once those numbers are no longer
/// stored in clear (the store binds the index's hex text; [`FieldContext::for_row`] binds
/// its bytes). Consequently a change of blind-index key means
/// every field is resealed under its row's new index (see the crate docs on rotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldContext<'a> {
    table: &'a str,
    column: &'a str,
    row: &'a [u8],
}

impl<'a> FieldContext<'a> {
    /// A context from a table name, a column name and the row's identity.
    pub fn new(table: &'a str, column: &'a str, row: &'a [u8]) -> Self {
        Self { table, column, row }
    }

    /// A context for a row identified by a blind index.
    pub fn for_row(table: &'a str, column: &'a str, row: &'a BlindIndex) -> Self {
        Self::new(table, column, row.as_bytes())
    }

    /// The associated data: label, version, then each part length-prefixed.
    fn associated_data(&self, key_id: &KeyId) -> Vec<u8> {
        let parts: [&[u8]; 4] = [
            key_id.as_str().as_bytes(),
            self.table.as_bytes(),
            self.column.as_bytes(),
            self.row,
        ];
        let len = AAD_LABEL.len() + parts.iter().map(|p| 8 + p.len()).sum::<usize>();
        let mut aad = Vec::with_capacity(len);
        aad.extend_from_slice(AAD_LABEL);
        for part in parts {
            aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
            aad.extend_from_slice(part);
        }
        aad
    }
}

/// A sealed field value: the key id, the nonce and the ciphertext with its tag.
///
/// `Display` gives the stored text form and [`SealedValue::parse`] (or `FromStr`) reads it
/// back. Neither holds anything secret, so `Debug` is derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    key_id: KeyId,
    nonce: [u8; NONCE_LEN],
    /// Ciphertext followed by the 16-byte tag.
    ciphertext: Vec<u8>,
}

/// Why a text is not a sealed value. Never quotes the text: a mistake upstream could hand
/// this parser a plaintext NIK or name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FormatError {
    /// Longer than [`MAX_ENCODED_LEN`].
    #[error("sealed value is longer than {MAX_ENCODED_LEN} characters")]
    TooLong,
    /// Not three `.`-separated parts.
    #[error("sealed value is not `<version>.<key id>.<payload>`")]
    Shape,
    /// A version prefix other than `v1`.
    #[error("sealed value has an unknown format version")]
    UnknownVersion,
    /// The key id part is not a valid [`KeyId`].
    #[error("sealed value has a bad key id: {0}")]
    KeyId(KeyIdError),
    /// The payload is not unpadded base64url.
    #[error("sealed value payload is not unpadded base64url")]
    Base64,
    /// The payload is shorter than a nonce and a tag.
    #[error("sealed value payload is too short")]
    TooShort,
}

/// Why a value could not be sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SealError {
    /// The plaintext is longer than [`MAX_PLAINTEXT_LEN`].
    #[error("value to seal is longer than {MAX_PLAINTEXT_LEN} bytes")]
    TooLong,
}

/// Why a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpenError {
    /// The text is not a sealed value.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The value names a key the ring does not hold: the key file is missing an old key.
    #[error("sealed value names key `{0}`, which is not in the data key ring")]
    UnknownKey(KeyId),
    /// Authentication failed: the value was altered, belongs to another field or row, or
    /// its key id now names different key bytes. AEAD cannot tell these apart, by design.
    #[error("sealed value failed authentication (altered, moved, or wrong key)")]
    Rejected,
    /// Opened, but the plaintext is not UTF-8 ([`KeyRing::open_text`] only).
    #[error("sealed value is not text")]
    NotUtf8,
}

impl SealedValue {
    /// Parses the text form. Never panics, whatever the input.
    pub fn parse(text: &str) -> Result<Self, FormatError> {
        if text.len() > MAX_ENCODED_LEN {
            return Err(FormatError::TooLong);
        }
        let mut parts = text.split('.');
        let (Some(version), Some(key_id), Some(payload), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(FormatError::Shape);
        };
        if version != VERSION {
            return Err(FormatError::UnknownVersion);
        }
        let key_id = KeyId::parse(key_id).map_err(FormatError::KeyId)?;
        let mut bytes = Base64UrlUnpadded::decode_vec(payload).map_err(|_| FormatError::Base64)?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(FormatError::TooShort);
        }
        let ciphertext = bytes.split_off(NONCE_LEN);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes);
        Ok(Self {
            key_id,
            nonce,
            ciphertext,
        })
    }

    /// The id of the key this value is sealed under.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }
}

impl fmt::Display for SealedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut payload = Vec::with_capacity(NONCE_LEN + self.ciphertext.len());
        payload.extend_from_slice(&self.nonce);
        payload.extend_from_slice(&self.ciphertext);
        write!(
            f,
            "{VERSION}.{}.{}",
            self.key_id,
            Base64UrlUnpadded::encode_string(&payload)
        )
    }
}

impl FromStr for SealedValue {
    type Err = FormatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn cipher(key: &DataKey) -> XChaCha20Poly1305 {
    // Building the cipher is a copy of the key: ChaCha has no key schedule to cache. The
    // cipher wipes its copy on drop (feature `zeroize`); this wipes the temporary.
    let mut bytes = Key::from(*key.expose());
    let cipher = XChaCha20Poly1305::new(&bytes);
    bytes.as_mut_slice().zeroize();
    cipher
}

impl KeyRing<DataKey> {
    /// Seals `plaintext` for the field `ctx` under the active key, with a fresh nonce drawn
    /// from `rng`.
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        ctx: &FieldContext<'_>,
        plaintext: &[u8],
    ) -> Result<SealedValue, SealError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(SealError::TooLong);
        }
        let key_id = self.active_id().clone();
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let aad = ctx.associated_data(&key_id);
        let payload = Payload {
            msg: plaintext,
            aad: &aad,
        };
        let ciphertext = cipher(self.active())
            .encrypt(&XNonce::from(nonce), payload)
            // Encryption fails only past ChaCha20's 256 GiB per-nonce limit, far beyond
            // MAX_PLAINTEXT_LEN checked above.
            .map_err(|_| SealError::TooLong)?;
        Ok(SealedValue {
            key_id,
            nonce,
            ciphertext,
        })
    }

    /// Opens a value sealed for the field `ctx`, with whichever key of the ring sealed it.
    /// The plaintext is wiped from memory when the returned buffer is dropped.
    pub fn open(
        &self,
        ctx: &FieldContext<'_>,
        value: &SealedValue,
    ) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let key = self
            .get(&value.key_id)
            .ok_or_else(|| OpenError::UnknownKey(value.key_id.clone()))?;
        let aad = ctx.associated_data(&value.key_id);
        let payload = Payload {
            msg: &value.ciphertext,
            aad: &aad,
        };
        cipher(key)
            .decrypt(&XNonce::from(value.nonce), payload)
            .map(Zeroizing::new)
            .map_err(|_| OpenError::Rejected)
    }

    /// [`KeyRing::open`] for text fields: also checks the plaintext is UTF-8.
    pub fn open_text(
        &self,
        ctx: &FieldContext<'_>,
        value: &SealedValue,
    ) -> Result<Zeroizing<String>, OpenError> {
        let mut bytes = self.open(ctx, value)?;
        match String::from_utf8(std::mem::take(&mut *bytes)) {
            Ok(text) => Ok(Zeroizing::new(text)),
            Err(not_text) => {
                // Wipe the rejected plaintext too.
                drop(Zeroizing::new(not_text.into_bytes()));
                Err(OpenError::NotUtf8)
            }
        }
    }

    /// Whether `value` is sealed under a key other than the active one, so a rotation job
    /// should [`KeyRing::reseal`] it.
    pub fn needs_rotation(&self, value: &SealedValue) -> bool {
        value.key_id != *self.active_id()
    }

    /// Opens `value` with its own key and seals the plaintext again under the active key,
    /// with a fresh nonce. Always reseals; callers skip values for which
    /// [`KeyRing::needs_rotation`] is false.
    pub fn reseal<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        ctx: &FieldContext<'_>,
        value: &SealedValue,
    ) -> Result<SealedValue, OpenError> {
        let plaintext = self.open(ctx, value)?;
        // Every opened value was at most MAX_PLAINTEXT_LEN when sealed (the parser bounds
        // it too), so sealing it again cannot fail; map defensively rather than panic.
        self.seal(rng, ctx, &plaintext)
            .map_err(|SealError::TooLong| OpenError::Format(FormatError::TooLong))
    }
}

#[cfg(test)]
#[path = "seal_tests.rs"]
mod tests;
