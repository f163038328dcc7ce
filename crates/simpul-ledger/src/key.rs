//! Signed-note keys ([c2sp.org/signed-note](https://c2sp.org/signed-note), Ed25519 only):
//! [`KeyName`], the key ID rule, [`NoteVerifier`] and its vkey string, and [`NoteSigner`]
//! with the Go `sumdb/note` private key string.

use std::fmt;

use base64ct::{Base64, Encoding};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::note::{NoteError, NoteSignature, check_text};

/// The signature type byte of Ed25519 in key IDs and vkeys
/// ([signed-note, Signature types](https://c2sp.org/signed-note#signature-types)).
pub const ALG_ED25519: u8 = 0x01;

/// A key name: non-empty, with no Unicode white space and no `+`
/// ([signed-note, Format](https://c2sp.org/signed-note#format)).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyName(String);

impl KeyName {
    /// Checks a key name.
    pub fn new(name: impl Into<String>) -> Result<Self, KeyError> {
        let name = name.into();
        // White space covers the newline; the other control characters are refused too,
        // because a note may not contain them and the name is part of the note.
        if name.is_empty()
            || name.contains('+')
            || name.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(KeyError::InvalidName);
        }
        Ok(Self(name))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a key, a vkey or a private key string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key name is empty or has white space, a control character or `+`.
    #[error("invalid key name")]
    InvalidName,
    /// The string does not have the `name+id+key` shape, the ID is not 8 lowercase hex
    /// digits, or the key is not standard base64.
    #[error("malformed key string")]
    Malformed,
    /// The key is not an Ed25519 key (type byte `0x01`).
    #[error("unsupported signature type {0:#04x}")]
    UnsupportedAlgorithm(u8),
    /// The key material is not 32 bytes, or not a valid Ed25519 point.
    #[error("invalid Ed25519 key")]
    InvalidKey,
    /// The key ID in the string is not the one computed from the name and key.
    #[error("key ID does not match the key name and public key")]
    KeyIdMismatch,
}

/// The key ID of an Ed25519 key:
/// `SHA-256(key name || 0x0A || 0x01 || public key)[:4]`, big-endian
/// ([signed-note, Ed25519 signatures](https://c2sp.org/signed-note#ed25519-signatures)).
pub fn ed25519_key_id(name: &KeyName, public_key: &VerifyingKey) -> u32 {
    key_id(name, ALG_ED25519, public_key)
}

/// The key ID rule every signature type shares:
/// `SHA-256(key name || 0x0A || type || public key)[:4]`, big-endian.
pub(crate) fn key_id(name: &KeyName, alg: u8, public_key: &VerifyingKey) -> u32 {
    let digest = Sha256::new()
        .chain_update(name.as_str().as_bytes())
        .chain_update([b'\n', alg])
        .chain_update(public_key.as_bytes())
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Parses a vkey, `<name>+<hex key ID>+base64(alg || public key)`, for a key of type
/// `alg`, and checks that the ID matches the name and key.
pub(crate) fn parse_vkey(vkey: &str, alg: u8) -> Result<(KeyName, u32, VerifyingKey), KeyError> {
    // The base64 key may itself contain `+`, so only the first two split.
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KeyError::Malformed);
    };
    let name = KeyName::new(name)?;
    let stated_id = parse_key_id(id)?;
    let raw = Base64::decode_vec(key).map_err(|_| KeyError::Malformed)?;
    let key = match raw.split_first() {
        Some((&found, public)) if found == alg => {
            let bytes: &[u8; 32] = public.try_into().map_err(|_| KeyError::InvalidKey)?;
            VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidKey)?
        }
        Some((&other, _)) => return Err(KeyError::UnsupportedAlgorithm(other)),
        None => return Err(KeyError::Malformed),
    };
    let computed = key_id(&name, alg, &key);
    if computed != stated_id {
        return Err(KeyError::KeyIdMismatch);
    }
    Ok((name, computed, key))
}

/// A private key string's parts, before the caller checks the type and the ID for its kind
/// of key.
pub(crate) struct ParsedSkey {
    pub name: KeyName,
    pub stated_id: u32,
    pub alg: u8,
    /// The bytes after the type byte; [`ParsedSkey::seed`] checks their length.
    pub material: Zeroizing<Vec<u8>>,
}

impl ParsedSkey {
    /// The 32-byte Ed25519 seed (checked after the type, so a key of another type is
    /// reported as that).
    pub fn seed(&self) -> Result<&[u8; 32], KeyError> {
        self.material
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::InvalidKey)
    }
}

/// Parses a private key string, `PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)`.
pub(crate) fn parse_skey(skey: &str) -> Result<ParsedSkey, KeyError> {
    // The base64 key may itself contain `+`, so only the first four split.
    let mut parts = skey.splitn(5, '+');
    let (Some("PRIVATE"), Some("KEY"), Some(name), Some(id), Some(key)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(KeyError::Malformed);
    };
    let name = KeyName::new(name)?;
    let stated_id = parse_key_id(id)?;
    let raw = Zeroizing::new(Base64::decode_vec(key).map_err(|_| KeyError::Malformed)?);
    let (&alg, seed) = raw.split_first().ok_or(KeyError::Malformed)?;
    Ok(ParsedSkey {
        name,
        stated_id,
        alg,
        material: Zeroizing::new(seed.to_vec()),
    })
}

/// The private key string of a key of type `alg`.
pub(crate) fn format_skey(
    name: &KeyName,
    key_id: u32,
    alg: u8,
    key: &SigningKey,
) -> Zeroizing<String> {
    let mut material = Zeroizing::new(Vec::with_capacity(33));
    material.push(alg);
    material.extend_from_slice(key.as_bytes());
    Zeroizing::new(format!(
        "PRIVATE+KEY+{name}+{key_id:08x}+{}",
        Base64::encode_string(&material)
    ))
}

/// The vkey string of a key of type `alg`.
pub(crate) fn format_vkey(name: &KeyName, key_id: u32, alg: u8, key: &VerifyingKey) -> String {
    let mut material = Vec::with_capacity(33);
    material.push(alg);
    material.extend_from_slice(key.as_bytes());
    format!("{name}+{key_id:08x}+{}", Base64::encode_string(&material))
}

/// A public key that verifies note signatures, with its name and key ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: KeyName,
    key_id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// The verifier for an Ed25519 public key under `name`; computes the key ID.
    pub fn new(name: KeyName, key: VerifyingKey) -> Self {
        let key_id = ed25519_key_id(&name, &key);
        Self { name, key_id, key }
    }

    /// Parses a vkey, `<name>+<hex key ID>+base64(0x01 || public key)`
    /// ([signed-note, Verifier keys](https://c2sp.org/signed-note#verifier-keys)), and
    /// checks that the ID matches the name and key.
    pub fn from_vkey(vkey: &str) -> Result<Self, KeyError> {
        let (name, key_id, key) = parse_vkey(vkey, ALG_ED25519)?;
        Ok(Self { name, key_id, key })
    }

    /// The vkey string, as published for auditors and configured in witnesses.
    pub fn to_vkey(&self) -> String {
        format_vkey(&self.name, self.key_id, ALG_ED25519, &self.key)
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The 32-bit key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Checks one signature over `text`.
    ///
    /// Uses `verify_strict`, which also refuses small-order keys and non-canonical
    /// signature encodings: an honest signer never produces those, and refusing them
    /// removes signature malleability from anything a witness compares.
    pub(crate) fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(text, &signature).is_ok()
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

/// An Ed25519 private key that signs notes, with its name and key ID.
///
/// `Debug` shows the name and ID only; the key is zeroized on drop (ed25519-dalek's
/// `zeroize` feature). The library never generates keys: the caller passes a seed from
/// its own CSPRNG or key file.
#[derive(Clone)]
pub struct NoteSigner {
    name: KeyName,
    key_id: u32,
    key: SigningKey,
}

impl NoteSigner {
    /// The signer for a 32-byte Ed25519 seed (the RFC 8032 private key) under `name`.
    pub fn from_seed(name: KeyName, seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let key_id = ed25519_key_id(&name, &key.verifying_key());
        Self { name, key_id, key }
    }

    /// Parses the Go note package's private key string,
    /// `PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || seed)`, so keys made by Go's
    /// `note.GenerateKey` work here, and checks the ID against the derived public key.
    pub fn from_skey(skey: &str) -> Result<Self, KeyError> {
        let parsed = parse_skey(skey)?;
        let (stated_id, alg) = (parsed.stated_id, parsed.alg);
        if alg != ALG_ED25519 {
            return Err(KeyError::UnsupportedAlgorithm(alg));
        }
        let signer = Self::from_seed(parsed.name.clone(), parsed.seed()?);
        if signer.key_id != stated_id {
            return Err(KeyError::KeyIdMismatch);
        }
        Ok(signer)
    }

    /// The private key string [`NoteSigner::from_skey`] reads, for writing a key file.
    pub fn to_skey(&self) -> Zeroizing<String> {
        format_skey(&self.name, self.key_id, ALG_ED25519, &self.key)
    }

    /// The matching verifier, whose vkey is published.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The 32-bit key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Signs a note text (which must be a valid note text, see [`Note::new`](crate::note::Note::new)).
    pub fn sign(&self, text: &str) -> Result<NoteSignature, NoteError> {
        check_text(text)?;
        let signature = self.key.sign(text.as_bytes());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: signature.to_bytes().to_vec(),
        })
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

/// A key ID in a key string: exactly 8 lowercase hex digits
/// ([signed-note, Conventions](https://c2sp.org/signed-note#conventions-used-in-this-document)).
pub(crate) fn parse_key_id(text: &str) -> Result<u32, KeyError> {
    if text.len() != 8 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(KeyError::Malformed);
    }
    u32::from_str_radix(text, 16).map_err(|_| KeyError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Result<NoteSigner, KeyError> {
        Ok(NoteSigner::from_seed(
            KeyName::new("log.example/a")?,
            &[7; 32],
        ))
    }

    #[test]
    fn key_names_refuse_space_plus_and_empty() {
        for bad in ["", "a b", "a+b", "a\tb", "a\u{a0}b", "a\nb"] {
            assert_eq!(KeyName::new(bad), Err(KeyError::InvalidName), "{bad:?}");
        }
        assert!(KeyName::new("simpul.example/ledger").is_ok());
    }

    #[test]
    fn vkey_round_trips_and_refuses_edits() -> Result<(), KeyError> {
        let verifier = signer()?.verifier();
        let vkey = verifier.to_vkey();
        assert_eq!(NoteVerifier::from_vkey(&vkey)?, verifier);
        let uppercase = vkey.replacen(
            &format!("{:08x}", verifier.key_id()),
            &format!("{:08X}", verifier.key_id()),
            1,
        );
        if uppercase != vkey {
            assert_eq!(
                NoteVerifier::from_vkey(&uppercase),
                Err(KeyError::Malformed)
            );
        }
        assert_eq!(
            NoteVerifier::from_vkey(&vkey.replacen("log.example/a", "log.example/b", 1)),
            Err(KeyError::KeyIdMismatch)
        );
        assert_eq!(NoteVerifier::from_vkey("a+b"), Err(KeyError::Malformed));
        // Base64 key material may contain `+` itself: it must not split the string.
        let mut with_plus = 0;
        for seed in 0..=255u8 {
            let signer = NoteSigner::from_seed(KeyName::new("k")?, &[seed; 32]);
            let vkey = signer.verifier().to_vkey();
            with_plus += usize::from(vkey.matches('+').count() > 2);
            assert_eq!(NoteVerifier::from_vkey(&vkey)?, signer.verifier());
            assert_eq!(
                NoteSigner::from_skey(&signer.to_skey())?.key_id(),
                signer.key_id()
            );
        }
        assert!(with_plus > 0);
        assert_eq!(
            NoteVerifier::from_vkey(&format!("{vkey}+extra")),
            Err(KeyError::Malformed)
        );
        Ok(())
    }

    #[test]
    fn skey_round_trips_and_debug_hides_the_key() -> Result<(), KeyError> {
        let signer = signer()?;
        let skey = signer.to_skey();
        let again = NoteSigner::from_skey(&skey)?;
        assert_eq!(again.verifier(), signer.verifier());
        let debug = format!("{signer:?}");
        let secret_b64 = skey.rsplit('+').next().unwrap_or_default().to_owned();
        assert!(!debug.contains(&secret_b64), "{debug}");
        assert!(debug.contains("log.example/a"));
        Ok(())
    }
}
