//! Personal data at rest: sealed field values and blind indexes. Pure: no files, no
//! environment, no clock, no global randomness. The binary reads the key texts and passes
//! them in; every function that needs randomness takes the caller's CSPRNG.
//!
//! A resident's row keeps its personal fields (name, birth place, parents' names, ...)
//! sealed with XChaCha20-Poly1305 under a data key, and finds rows by blind index: a keyed
//! HMAC-SHA256 of the NIK, the KK number or each name word. The keys live outside the
//! database, so a copy of the database alone reveals neither the data nor the numbers.
//!
//! # Layout
//! - [`key`]: [`KeyId`], and the two secret key types [`DataKey`] and [`BlindIndexKey`].
//! - [`ring`]: [`KeyRing`] (one active key plus older ones), and its text format for key
//!   files and environment variables.
//! - [`seal`]: [`FieldContext`], [`SealedValue`] and its `v1.<key id>.<payload>` encoding,
//!   and sealing, opening, rotating ([`KeyRing::seal`], [`KeyRing::open`],
//!   [`KeyRing::needs_rotation`], [`KeyRing::reseal`]).
//! - [`blind`]: [`BlindIndex`], its domains, and [`BlindIndexKey::blind`].
//!
//! # Why two kinds of key
//!
//! Data keys and blind-index keys are different types in different rings, and the binary
//! should refuse to start when the data ring shares a key with the blind ring
//! ([`KeyRing::shares_material_with`]). They are kept apart because they live differently:
//!
//! - A data key can rotate lazily. Each sealed value names its key, so old values keep
//!   opening while [`KeyRing::reseal`] moves them, row by row, to the new key.
//! - A blind index cannot name its key: a lookup computes the index of the NIK it is asked
//!   for and compares it with the stored ones, so every stored index must come from the key
//!   the lookup uses. A blind-index key therefore rotates all at once, by recomputing every
//!   index, and is rotated rarely (on suspected compromise).
//! - Their exposure differs. The blind key is used on every lookup, including NIK
//!   verification at request rate; the data key only when a field is shown or written.
//!   Separate keys mean a leak of one does not give the other away, and one key is never
//!   used with two algorithms.
//!
//! # Versioning and rotation
//!
//! - Data keys: add the new key to the data ring and mark it active (`*`). New values are
//!   sealed under it at once; a background job walks the rows, and for each value where
//!   [`KeyRing::needs_rotation`] holds, writes [`KeyRing::reseal`]'s result. When no value
//!   names the old key, remove it from the file. Opening a value whose key was removed is
//!   a clear [`OpenError::UnknownKey`], never a silent failure.
//! - Blind-index keys: the ring's active id is the version. Stored indexes carry no id (they
//!   are fixed-length lookup keys), so the database must record which blind key id built
//!   its indexes, and the binary must refuse to serve when that differs from the active
//!   one. Rotation is a rebuild: recompute every index under the new key and reseal every
//!   field whose [`FieldContext`] names its row's old index. Only the active blind key is
//!   used for lookups; older ones need not be kept once the rebuild is done.
//! - The formats: sealed values start with `v1`, and the HMAC input starts with a versioned
//!   label, so a later construction can live beside this one.

pub mod blind;
pub mod key;
pub mod ring;
pub mod seal;

pub use blind::{BLIND_INDEX_LEN, BlindDomain, BlindIndex, BlindIndexParseError};
pub use key::{BlindIndexKey, DataKey, KEY_ID_MAX_LEN, KEY_LEN, KeyId, KeyIdError, KeyMaterial};
pub use ring::{BlindKeyRing, DataKeyRing, KeyRing, KeyRingError, Position};
pub use seal::{
    FieldContext, FormatError, MAX_ENCODED_LEN, MAX_PLAINTEXT_LEN, OpenError, SealError,
    SealedValue,
};

#[cfg(test)]
mod timing;
