//! Witness cosignatures of checkpoints
//! ([c2sp.org/tlog-cosignature](https://c2sp.org/tlog-cosignature), `cosignature/v1`, the
//! Ed25519 kind only): witness keys ([`CosignatureSigner`], [`CosignatureVerifier`] and
//! their key ID rule [`cosignature_key_id`]), making a cosignature
//! ([`cosign_checkpoint`]) and checking one ([`verify_cosignature`]) or all those of
//! known witnesses on a signed checkpoint ([`verify_cosignatures`]).
//!
//! A cosignature is an ordinary signed-note signature line, so a note carrying them still
//! opens with [`open_note`](crate::note::open_note) and the log's key alone. It differs
//! from a log signature in three ways: its key ID and vkey use signature type `0x04`, so
//! the same Ed25519 key gives a different ID as a witness than as a log; it signs
//! `cosignature/v1\ntime <unix seconds>\n` followed by the checkpoint text, never the text
//! alone; and its line carries `key ID (4) || timestamp (8, big-endian) || signature
//! (64)`.
//!
//! The crate has no clock: the witness passes the time it signs at, and a client that
//! wants to refuse cosignatures from the future (the spec allows it) compares the
//! returned timestamps with its own clock.
//!
//! ```
//! use simpul_ledger::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let log = NoteSigner::from_seed(KeyName::new("simpul.example/ledger")?, &[1; 32]);
//! let witness = CosignatureSigner::from_seed(KeyName::new("witness.example/w1")?, &[2; 32]);
//! let checkpoint = Checkpoint::new("simpul.example/ledger", 3, leaf_hash(b"r"))?;
//!
//! // The witness, once it has checked consistency, cosigns at the time of its clock...
//! let cosignature = cosign_checkpoint(&checkpoint, &witness, 1_700_000_000)?;
//! // ...and the log adds the line to the checkpoint it publishes.
//! let mut note = Note::parse(&sign_checkpoint(&checkpoint, &log)?)?;
//! note.add_signature(cosignature)?;
//! let published = note.to_string();
//!
//! // A client holding the log's vkey and the witness's vkey checks both.
//! let witness_key = CosignatureVerifier::from_vkey(&witness.verifier().to_vkey())?;
//! assert_eq!(verify_checkpoint(&published, &[log.verifier()])?, checkpoint);
//! let cosigned = verify_cosignatures(&published, &[witness_key])?;
//! assert_eq!(cosigned[0].timestamp, 1_700_000_000);
//! # Ok(())
//! # }
//! ```

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::key::{
    ALG_ED25519, KeyError, KeyName, ed25519_key_id, format_skey, format_vkey, key_id, parse_skey,
    parse_vkey,
};
use crate::note::{Note, NoteError, NoteSignature, check_text};

/// The signature type byte of Ed25519 `cosignature/v1` in key IDs and vkeys
/// ([tlog-cosignature, Format](https://c2sp.org/tlog-cosignature#format)).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The largest timestamp a cosignature may carry: the spec's 2^63 - 1, so that the
/// time fits a signed 64-bit POSIX time.
pub const MAX_COSIGNATURE_TIMESTAMP: u64 = (1 << 63) - 1;

/// The bytes after the key ID: an 8-byte timestamp and a 64-byte Ed25519 signature.
const SIGNATURE_LEN: usize = 8 + 64;

/// Why a cosignature could not be made or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// The line's key name or key ID is not the given witness key's.
    #[error("the cosignature is by {name}+{key_id:08x}, not by the given witness key")]
    WrongKey {
        /// The key name on the line.
        name: KeyName,
        /// The key ID on the line.
        key_id: u32,
    },
    /// The signature after the key ID is not 72 bytes (timestamp and Ed25519 signature):
    /// truncated, extended, or of another signature type.
    #[error("a cosignature has {SIGNATURE_LEN} bytes after the key ID, not {0}")]
    InvalidLength(usize),
    /// The timestamp exceeds [`MAX_COSIGNATURE_TIMESTAMP`].
    #[error("cosignature timestamp {0} exceeds 2^63 - 1")]
    TimestampOutOfRange(u64),
    /// The Ed25519 signature does not verify over the timestamp and checkpoint text.
    #[error("invalid cosignature by {name}+{key_id:08x}")]
    InvalidSignature {
        /// The witness key's name.
        name: KeyName,
        /// The witness key's ID.
        key_id: u32,
    },
    /// Two of the configured witness keys share this name and key ID.
    #[error("more than one configured witness key is {name}+{key_id:08x}")]
    AmbiguousKey {
        /// The shared key name.
        name: KeyName,
        /// The shared key ID.
        key_id: u32,
    },
    /// The note or signature line is malformed.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The cosigned text is not a checkpoint.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// The key ID of an Ed25519 witness key:
/// `SHA-256(key name || 0x0A || 0x04 || public key)[:4]`, big-endian
/// ([tlog-cosignature, Format](https://c2sp.org/tlog-cosignature#format)).
pub fn cosignature_key_id(name: &KeyName, public_key: &VerifyingKey) -> u32 {
    key_id(name, ALG_COSIGNATURE_V1, public_key)
}

/// A witness public key that verifies cosignatures, with its name and key ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: KeyName,
    key_id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// The verifier for an Ed25519 public key under `name`; computes the key ID. Also the
    /// way to use a witness published as a type `0x01` vkey (as Go's
    /// `NewVerifierForCosignatureV1` allows): parse it with
    /// [`NoteVerifier::from_vkey`](crate::key::NoteVerifier::from_vkey) and pass its name
    /// and key here.
    pub fn new(name: KeyName, key: VerifyingKey) -> Self {
        let key_id = cosignature_key_id(&name, &key);
        Self { name, key_id, key }
    }

    /// Parses a witness vkey, `<name>+<hex key ID>+base64(0x04 || public key)`, and checks
    /// that the ID matches the name and key. A type `0x01` (log) vkey is refused, so a
    /// log key is not configured as a witness by mistake.
    pub fn from_vkey(vkey: &str) -> Result<Self, KeyError> {
        let (name, key_id, key) = parse_vkey(vkey, ALG_COSIGNATURE_V1)?;
        Ok(Self { name, key_id, key })
    }

    /// The witness vkey string, with type `0x04`.
    pub fn to_vkey(&self) -> String {
        format_vkey(&self.name, self.key_id, ALG_COSIGNATURE_V1, &self.key)
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The 32-bit key ID (type `0x04`).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Checks a cosignature whose name and key ID match this key over an already valid
    /// checkpoint text, and returns its timestamp.
    fn check(&self, text: &str, signature: &NoteSignature) -> Result<u64, CosignatureError> {
        let raw = signature.signature.as_slice();
        let Some((time, ed25519)) = raw
            .split_first_chunk::<8>()
            .filter(|_| raw.len() == SIGNATURE_LEN)
        else {
            return Err(CosignatureError::InvalidLength(raw.len()));
        };
        let timestamp = u64::from_be_bytes(*time);
        if timestamp > MAX_COSIGNATURE_TIMESTAMP {
            return Err(CosignatureError::TimestampOutOfRange(timestamp));
        }
        let invalid = || CosignatureError::InvalidSignature {
            name: self.name.clone(),
            key_id: self.key_id,
        };
        let ed25519 = Signature::from_slice(ed25519).map_err(|_| invalid())?;
        // `verify_strict`, as for note signatures: no small-order keys, no malleable
        // encodings, so two witnesses' cosignatures can be compared byte for byte.
        self.key
            .verify_strict(&signed_message(timestamp, text), &ed25519)
            .map_err(|_| invalid())?;
        Ok(timestamp)
    }
}

impl fmt::Display for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

/// A witness's Ed25519 private key, with its name and key ID.
///
/// `Debug` shows the name and ID only; the key is zeroized on drop. As with
/// [`NoteSigner`](crate::key::NoteSigner), the library never generates keys. Per the
/// spec, one key serves one witness name only: the signed message does not include the
/// name.
#[derive(Clone)]
pub struct CosignatureSigner {
    name: KeyName,
    key_id: u32,
    key: SigningKey,
}

impl CosignatureSigner {
    /// The signer for a 32-byte Ed25519 seed under `name`.
    pub fn from_seed(name: KeyName, seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let key_id = cosignature_key_id(&name, &key.verifying_key());
        Self { name, key_id, key }
    }

    /// Parses a private key string, `PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)`,
    /// and checks the ID against the derived public key. The type is `0x04` (what
    /// [`CosignatureSigner::to_skey`] writes) or `0x01` with the log-key ID, the Go
    /// `note.GenerateKey` string that transparency-dev witnesses keep and sign
    /// cosignatures with; either way the signer cosigns under the `0x04` key ID.
    pub fn from_skey(skey: &str) -> Result<Self, KeyError> {
        let parsed = parse_skey(skey)?;
        let (stated_id, alg) = (parsed.stated_id, parsed.alg);
        if alg != ALG_COSIGNATURE_V1 && alg != ALG_ED25519 {
            return Err(KeyError::UnsupportedAlgorithm(alg));
        }
        let signer = Self::from_seed(parsed.name.clone(), parsed.seed()?);
        let expected = if alg == ALG_ED25519 {
            ed25519_key_id(&signer.name, &signer.key.verifying_key())
        } else {
            signer.key_id
        };
        if expected != stated_id {
            return Err(KeyError::KeyIdMismatch);
        }
        Ok(signer)
    }

    /// The private key string with type `0x04`, which [`CosignatureSigner::from_skey`]
    /// reads, for writing a key file.
    pub fn to_skey(&self) -> Zeroizing<String> {
        format_skey(&self.name, self.key_id, ALG_COSIGNATURE_V1, &self.key)
    }

    /// The matching verifier, whose vkey the witness publishes.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The 32-bit key ID (type `0x04`).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }
}

impl fmt::Debug for CosignatureSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosignatureSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

/// A cosignature that verified, as [`verify_cosignatures`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCosignature {
    /// The witness key's name.
    pub name: KeyName,
    /// The witness key's ID.
    pub key_id: u32,
    /// When the witness cosigned, in POSIX seconds, as the witness states it.
    pub timestamp: u64,
}

/// Cosigns `checkpoint` as of `timestamp_unix` (POSIX seconds, from the caller's clock)
/// and returns the signature line to send back or attach with [`Note::add_signature`].
///
/// Signing states that, at that time, this is the largest consistent checkpoint the
/// witness has seen of the log; checking consistency is the caller's job.
pub fn cosign_checkpoint(
    checkpoint: &Checkpoint,
    signer: &CosignatureSigner,
    timestamp_unix: u64,
) -> Result<NoteSignature, CosignatureError> {
    if timestamp_unix > MAX_COSIGNATURE_TIMESTAMP {
        return Err(CosignatureError::TimestampOutOfRange(timestamp_unix));
    }
    let ed25519 = signer
        .key
        .sign(&signed_message(timestamp_unix, &checkpoint.to_note_text()));
    let mut signature = Vec::with_capacity(SIGNATURE_LEN);
    signature.extend_from_slice(&timestamp_unix.to_be_bytes());
    signature.extend_from_slice(&ed25519.to_bytes());
    Ok(NoteSignature {
        name: signer.name.clone(),
        key_id: signer.key_id,
        signature,
    })
}

/// Verifies one cosignature by `verifier` over a checkpoint note text (final newline
/// included, no signature lines) and returns its timestamp.
///
/// A line from a witness response parses with [`NoteSignature::from_line`].
pub fn verify_cosignature(
    checkpoint_text: &str,
    signature: &NoteSignature,
    verifier: &CosignatureVerifier,
) -> Result<u64, CosignatureError> {
    check_text(checkpoint_text)?;
    Checkpoint::parse(checkpoint_text)?;
    if signature.name != verifier.name || signature.key_id != verifier.key_id {
        return Err(CosignatureError::WrongKey {
            name: signature.name.clone(),
            key_id: signature.key_id,
        });
    }
    verifier.check(checkpoint_text, signature)
}

/// Verifies the cosignatures of the configured `witnesses` on a signed checkpoint and
/// returns them, one per witness key, in note order.
///
/// Lines by other keys (the log's own signature, unknown witnesses) are ignored, as
/// [`open_note`](crate::note::open_note) ignores unknown keys; the log's signature is not
/// checked here, so call [`verify_checkpoint`](crate::checkpoint::verify_checkpoint) as
/// well. As in `open_note`, a line by a configured witness that does not verify refuses
/// the whole note. No cosignature by a configured witness is not an error: the result is
/// empty, and the caller's quorum rule decides.
pub fn verify_cosignatures(
    msg: &str,
    witnesses: &[CosignatureVerifier],
) -> Result<Vec<VerifiedCosignature>, CosignatureError> {
    let note = Note::parse(msg)?;
    Checkpoint::parse(note.text())?;
    let mut verified: Vec<VerifiedCosignature> = Vec::new();
    for signature in note.signatures() {
        let mut matching = witnesses
            .iter()
            .filter(|w| w.name == signature.name && w.key_id == signature.key_id);
        let Some(witness) = matching.next() else {
            continue;
        };
        if matching.next().is_some() {
            return Err(CosignatureError::AmbiguousKey {
                name: signature.name.clone(),
                key_id: signature.key_id,
            });
        }
        let timestamp = witness.check(note.text(), signature)?;
        if !verified
            .iter()
            .any(|v| (&v.name, v.key_id) == (&witness.name, witness.key_id))
        {
            verified.push(VerifiedCosignature {
                name: witness.name.clone(),
                key_id: witness.key_id,
                timestamp,
            });
        }
    }
    Ok(verified)
}

/// The message a `cosignature/v1` signs
/// ([tlog-cosignature, Ed25519 signed message](https://c2sp.org/tlog-cosignature#ed25519-signed-message)):
/// a header line, a time line with the decimal timestamp, then the checkpoint text.
fn signed_message(timestamp: u64, text: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{text}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_message_is_the_spec_example() {
        // The example message in tlog-cosignature's "Ed25519 signed message" section.
        let text =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_eq!(
            signed_message(1_679_315_147, text),
            b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
        assert!(signed_message(0, text).starts_with(b"cosignature/v1\ntime 0\n"));
    }
}
