//! The hash type and the two hashing rules of the log, as in
//! [RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1):
//! a leaf is `SHA-256(0x00 || data)` and an interior node is
//! `SHA-256(0x01 || left || right)`. The different prefixes keep a leaf from being passed
//! off as a node (a second-preimage attack on the tree shape).

use std::fmt;

use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};

/// Length in bytes of every hash in the log (SHA-256).
pub const HASH_LEN: usize = 32;

/// Prefix byte of a leaf hash ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)).
const LEAF_PREFIX: u8 = 0x00;
/// Prefix byte of an interior node hash ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)).
const NODE_PREFIX: u8 = 0x01;

/// A SHA-256 value in the log: a leaf hash, a node hash or a root.
///
/// A fixed-size array rather than bytes: every place that accepts a hash from outside
/// (JSON, a checkpoint, a database row) goes through [`Hash::from_slice`] or
/// [`Hash::from_base64`], so a hash of the wrong length is refused at the boundary and the
/// proof code never sees one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash([u8; HASH_LEN]);

/// A byte string or text that is not a 32-byte hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    /// The input decoded to this many bytes instead of [`HASH_LEN`].
    #[error("a hash must be {HASH_LEN} bytes, got {0}")]
    Length(usize),
    /// The text is not canonical standard base64 (RFC 4648 §4, padded).
    #[error("a hash must be standard padded base64")]
    Base64,
}

impl Hash {
    /// Wraps 32 bytes.
    pub const fn from_bytes(bytes: [u8; HASH_LEN]) -> Self {
        Self(bytes)
    }

    /// Copies a hash out of a slice, refusing any length but [`HASH_LEN`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, HashParseError> {
        <[u8; HASH_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| HashParseError::Length(bytes.len()))
    }

    /// Parses the standard padded base64 form used in checkpoints and proof responses.
    pub fn from_base64(text: &str) -> Result<Self, HashParseError> {
        let bytes = Base64::decode_vec(text).map_err(|_| HashParseError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// The standard padded base64 form ([RFC 4648 §4](https://www.rfc-editor.org/rfc/rfc4648.html#section-4)),
    /// as a checkpoint's root hash line needs.
    pub fn to_base64(&self) -> String {
        Base64::encode_string(&self.0)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// The raw bytes, by value.
    pub const fn to_bytes(self) -> [u8; HASH_LEN] {
        self.0
    }

    /// Lowercase hex, for logs and command-line output.
    pub fn to_hex(&self) -> String {
        use fmt::Write as _;
        let mut out = String::with_capacity(HASH_LEN * 2);
        for byte in self.0 {
            // Writing to a String cannot fail.
            let _ = write!(out, "{byte:02x}");
        }
        out
    }
}

impl From<[u8; HASH_LEN]> for Hash {
    fn from(bytes: [u8; HASH_LEN]) -> Self {
        Self(bytes)
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    /// Base64, the form the log's checkpoints and APIs use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// The leaf hash of one entry: `SHA-256(0x00 || data)`
/// ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    Hash(hasher.finalize().into())
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`
/// ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}

/// The root of the empty tree: `SHA-256()` of no input
/// ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)).
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(h: &Hash) -> String {
        h.to_hex()
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn leaf_hash_of_empty_entry_matches_rfc6962_reference() {
        // SHA-256(0x00), the leaf hash of an empty entry in the RFC 6962 reference tests.
        assert_eq!(
            hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn node_hash_prefixes_one_and_differs_from_leaf_of_concatenation() {
        let left = leaf_hash(b"a");
        let right = leaf_hash(b"b");
        let mut joined = Vec::new();
        joined.extend_from_slice(left.as_bytes());
        joined.extend_from_slice(right.as_bytes());
        let mut with_prefix = vec![0x01];
        with_prefix.extend_from_slice(&joined);
        assert_eq!(
            node_hash(&left, &right).to_bytes(),
            <[u8; 32]>::from(Sha256::digest(&with_prefix))
        );
        assert_ne!(node_hash(&left, &right), leaf_hash(&joined));
    }

    #[test]
    fn base64_round_trip_and_rejects_wrong_lengths() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_base64(&h.to_base64()), Ok(h));
        assert_eq!(
            Hash::from_base64("ZG9uJ3QgY2FyZSAx"),
            Err(HashParseError::Length(12))
        );
        assert_eq!(Hash::from_base64(""), Err(HashParseError::Length(0)));
        assert_eq!(
            Hash::from_base64("not base64!"),
            Err(HashParseError::Base64)
        );
        assert_eq!(Hash::from_slice(&[0; 33]), Err(HashParseError::Length(33)));
    }
}
