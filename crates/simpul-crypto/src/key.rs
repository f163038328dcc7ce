//! Key ids and the two kinds of secret key: data keys (sealing) and blind-index keys (lookups).
//!
//! Both kinds are 256 random bits. They are distinct types, not one `Key` with a flag, so a
//! blind-index key can never be handed to the sealing code or the other way round: the two
//! must stay independent (see the crate docs, "Why two kinds of key").

use std::fmt;
use std::str::FromStr;

use rand::CryptoRng;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of every key in bytes: 256 bits, the key size of XChaCha20-Poly1305 and the
/// output size of SHA-256, which RFC 2104 section 3 names as the minimum sensible HMAC key.
pub const KEY_LEN: usize = 32;

/// Longest key id. Ids appear in every sealed value, so they are kept short; 32 characters
/// fit a date and a purpose (`2026-05-rotation-2`).
pub const KEY_ID_MAX_LEN: usize = 32;

/// The name of a key, written into every value sealed under it so the value can find its key
/// after a rotation.
///
/// One to [`KEY_ID_MAX_LEN`] characters from `a-z`, `0-9` and `-`, starting with a letter or
/// digit. The alphabet leaves out `.` (the separator of the sealed-value encoding) and `:`
/// (the separator of the key-ring text), so an id never needs escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

/// Why a key id was refused. It never carries the refused text: a malformed id is often key
/// material pasted into the wrong place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum KeyIdError {
    /// The id is empty.
    #[error("key id is empty")]
    Empty,
    /// The id is longer than [`KEY_ID_MAX_LEN`].
    #[error("key id is longer than {KEY_ID_MAX_LEN} characters")]
    TooLong,
    /// A character outside `a-z`, `0-9`, `-`, or a leading `-`.
    #[error("key id may hold only a-z, 0-9 and '-', and must not start with '-'")]
    BadCharacter,
}

impl KeyId {
    /// Checks and wraps a key id.
    pub fn parse(id: &str) -> Result<Self, KeyIdError> {
        if id.is_empty() {
            return Err(KeyIdError::Empty);
        }
        if id.len() > KEY_ID_MAX_LEN {
            return Err(KeyIdError::TooLong);
        }
        let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
        if id.starts_with('-') || !id.bytes().all(allowed) {
            return Err(KeyIdError::BadCharacter);
        }
        Ok(Self(id.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for KeyId {
    type Err = KeyIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

pub(crate) mod sealed {
    /// Access to the raw bytes, reachable only inside this crate: the trait is public (so it
    /// can bound [`super::KeyMaterial`]) but its module is not, so callers cannot name it.
    pub trait Sealed: Sized {
        fn from_bytes(bytes: [u8; super::KEY_LEN]) -> Self;
        fn expose(&self) -> &[u8; super::KEY_LEN];
    }
}

/// A kind of key that a [`crate::KeyRing`] can hold. Implemented by [`DataKey`] and
/// [`BlindIndexKey`] only.
pub trait KeyMaterial: sealed::Sealed {
    /// What the key is for, in words, for error messages ("data key").
    const KIND: &'static str;
}

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        ///
        /// `Debug` prints only the type name; the bytes are wiped when the key is dropped. There
        /// is no `Clone`: share a key ring behind an `Arc` rather than copying secrets around.
        #[derive(Zeroize, ZeroizeOnDrop)]
        pub struct $name {
            bytes: [u8; KEY_LEN],
        }

        impl $name {
            /// A fresh random key, for `simpul keys generate` and tests.
            pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
                let mut bytes = [0u8; KEY_LEN];
                rng.fill_bytes(&mut bytes);
                Self { bytes }
            }

            /// The line that declares this key in a key-ring text (`<id>:<base64 key>`), for a
            /// key-generation command to print. The only way key material leaves this crate as
            /// text; the string is wiped when dropped.
            pub fn to_key_line(&self, id: &KeyId) -> zeroize::Zeroizing<String> {
                use base64ct::Encoding;
                let encoded = zeroize::Zeroizing::new(base64ct::Base64::encode_string(&self.bytes));
                zeroize::Zeroizing::new(format!("{id}:{}", encoded.as_str()))
            }
        }

        impl sealed::Sealed for $name {
            fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
                Self { bytes }
            }
            fn expose(&self) -> &[u8; KEY_LEN] {
                &self.bytes
            }
        }

        impl KeyMaterial for $name {
            const KIND: &'static str = $kind;
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_key!(
    /// A 256-bit XChaCha20-Poly1305 key that seals personal-data field values.
    DataKey,
    "data key"
);

secret_key!(
    /// A 256-bit HMAC-SHA256 key that computes blind indexes. Kept apart from [`DataKey`]s:
    /// see the crate docs, "Why two kinds of key".
    BlindIndexKey,
    "blind-index key"
);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use sealed::Sealed;

    #[test]
    fn key_ids_follow_the_documented_alphabet() {
        for good in ["k1", "2026-05", "a", &"x".repeat(KEY_ID_MAX_LEN)] {
            assert_eq!(
                KeyId::parse(good).map(|id| id.to_string()),
                Ok(good.to_owned())
            );
        }
        assert_eq!(KeyId::parse(""), Err(KeyIdError::Empty));
        assert_eq!(
            KeyId::parse(&"x".repeat(KEY_ID_MAX_LEN + 1)),
            Err(KeyIdError::TooLong)
        );
        for bad in ["K1", "k.1", "k:1", "-k", "k 1", "ké", "k_1", "k/1"] {
            assert_eq!(KeyId::parse(bad), Err(KeyIdError::BadCharacter), "{bad}");
        }
    }

    #[test]
    fn debug_of_keys_shows_no_key_bytes() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let data = DataKey::generate(&mut rng);
        let blind = BlindIndexKey::generate(&mut rng);
        assert_eq!(format!("{data:?}"), "DataKey(<redacted>)");
        assert_eq!(format!("{blind:?}"), "BlindIndexKey(<redacted>)");
    }

    #[test]
    fn key_line_round_trips_through_standard_base64() {
        use base64ct::Encoding;
        let key = DataKey::from_bytes([7u8; KEY_LEN]);
        let id = KeyId::parse("k1").expect("valid id");
        let line = key.to_key_line(&id);
        let (line_id, encoded) = line.split_once(':').expect("separator");
        assert_eq!(line_id, "k1");
        assert_eq!(
            base64ct::Base64::decode_vec(encoded).expect("base64"),
            vec![7u8; KEY_LEN]
        );
    }

    #[test]
    fn generated_keys_differ() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let a = DataKey::generate(&mut rng);
        let b = DataKey::generate(&mut rng);
        assert_ne!(a.expose(), b.expose());
    }
}
