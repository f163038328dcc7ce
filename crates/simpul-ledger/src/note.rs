//! C2SP signed notes ([c2sp.org/signed-note](https://c2sp.org/signed-note)), with Ed25519
//! signatures (signature type `0x01`) only. Lines of other types, such as witness
//! cosignatures (type `0x04`, checked by [`crate::cosignature`]), are carried and, by
//! [`open_note`], ignored as signatures from unknown keys.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one signature line per
//! key: `— <key name> base64(key ID || signature)`. Verifiers are configured with *vkeys*,
//! `<name>+<hex key ID>+base64(0x01 || public key)`. The format is the Go
//! `golang.org/x/mod/sumdb/note` package's, so Go's tools and witnesses read our notes and
//! we read theirs; the tests include its known-answer examples.
//!
//! Parsing is strict where the spec says MUST (control characters, the blank line, line
//! shape, key names) and follows the Go package where the spec leaves a choice: at most
//! [`MAX_SIGNATURES`] signatures, repeated signatures by one key counted once, and a
//! signature from a known key that fails to verify rejects the whole note.

use std::fmt;

use base64ct::{Base64, Encoding};

use crate::key::{KeyName, NoteSigner, NoteVerifier};

/// The most signature lines a note may carry. The spec asks verifiers to accept at least
/// 16 and to bound the work a note can cause; 100 is the Go package's bound, so a note
/// Go accepts is never refused here for its signature count.
pub const MAX_SIGNATURES: usize = 100;

/// The em dash and space that open every signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// One signature line of a note, verified or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name on the line.
    pub name: KeyName,
    /// The key ID: the first four bytes of the decoded signature, big-endian.
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, without its final newline.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}", self.name, Base64::encode_string(&raw))
    }

    /// Parses one signature line without its newline, such as a cosignature line a
    /// witness returns ([c2sp.org/tlog-witness](https://c2sp.org/tlog-witness)). Checks
    /// the shape only; nothing is verified.
    pub fn from_line(line: &str) -> Result<Self, NoteError> {
        Self::parse_line(line).ok_or(NoteError::MalformedSignature { line: 1 })
    }

    fn parse_line(line: &str) -> Option<Self> {
        let rest = line.strip_prefix(SIG_PREFIX)?;
        let (name, b64) = rest.split_once(' ')?;
        let name = KeyName::new(name).ok()?;
        let raw = Base64::decode_vec(b64).ok()?;
        // Four bytes of key ID and at least one of signature.
        if raw.len() < 5 {
            return None;
        }
        let (id, signature) = raw.split_at(4);
        Some(Self {
            name,
            key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            signature: signature.to_vec(),
        })
    }
}

/// Why a note could not be parsed, signed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note contains an ASCII control character other than newline.
    #[error("a note may not contain control characters other than newline")]
    ControlCharacter,
    /// The text is empty or does not end in a newline.
    #[error("a note text must end with a newline")]
    TextNotTerminated,
    /// There is no blank line followed by signature lines, or the last line has no
    /// newline.
    #[error("a note must end with a blank line and newline-terminated signature lines")]
    MissingSignatures,
    /// A line after the blank line is not `— <name> <base64>` with a valid name and at
    /// least five decoded bytes. `line` counts the signature lines from 1.
    #[error("signature line {line} is malformed")]
    MalformedSignature {
        /// The 1-based position among the signature lines.
        line: usize,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("a note may carry at most {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// Two of the configured verifiers share this name and key ID.
    #[error("more than one configured key is {name}+{key_id:08x}")]
    AmbiguousKey {
        /// The shared key name.
        name: KeyName,
        /// The shared key ID.
        key_id: u32,
    },
    /// A signature from a configured key does not verify; the whole note is refused.
    #[error("invalid signature for key {name}+{key_id:08x}")]
    InvalidSignature {
        /// The key's name.
        name: KeyName,
        /// The key's ID.
        key_id: u32,
    },
    /// No signature from a configured key is on the note.
    #[error("the note has no signature from a trusted key")]
    NoTrustedSignature,
}

/// A note: its text and its signature lines, as parsed, none of them verified yet.
///
/// The text MUST be ignored until a trusted signature is verified
/// ([signed-note](https://c2sp.org/signed-note)); [`open_note`] is the way to read one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// A note with `text` and no signatures yet. The text must be non-empty, end with a
    /// newline and contain no other control characters.
    pub fn new(text: impl Into<String>) -> Result<Self, NoteError> {
        let text = text.into();
        check_text(&text)?;
        Ok(Self {
            text,
            signatures: Vec::new(),
        })
    }

    /// Splits a signed note into its text and signature lines, checking the format but
    /// not the signatures.
    pub fn parse(msg: &str) -> Result<Self, NoteError> {
        if msg.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::ControlCharacter);
        }
        // The last blank line separates text and signatures: signature lines are never
        // empty, so any earlier blank line belongs to the text.
        let split = msg.rfind("\n\n").ok_or(NoteError::MissingSignatures)?;
        let (text, sigs) = (&msg[..=split], &msg[split + 2..]);
        let Some(sigs) = sigs.strip_suffix('\n') else {
            return Err(NoteError::MissingSignatures);
        };
        let mut signatures = Vec::new();
        for (i, line) in sigs.split('\n').enumerate() {
            if i == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            let signature = NoteSignature::parse_line(line)
                .ok_or(NoteError::MalformedSignature { line: i + 1 })?;
            signatures.push(signature);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note text, including its final newline. Not trustworthy until verified.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds `signer`'s signature, replacing an earlier one by the same name and key ID.
    /// (A witness cosignature is made by [`crate::cosignature::cosign_checkpoint`] and
    /// added with [`Note::add_signature`].)
    pub fn sign(&mut self, signer: &NoteSigner) -> Result<(), NoteError> {
        let signature = signer.sign(&self.text)?;
        self.add_signature(signature)
    }

    /// Adds a signature made elsewhere, such as a witness's cosignature, replacing an
    /// earlier one by the same name and key ID. Nothing is verified: the reader of the
    /// note verifies. Refused if the note would exceed [`MAX_SIGNATURES`], since
    /// [`Note::parse`] would then refuse the result.
    pub fn add_signature(&mut self, signature: NoteSignature) -> Result<(), NoteError> {
        self.signatures
            .retain(|s| (&s.name, s.key_id) != (&signature.name, signature.key_id));
        if self.signatures.len() == MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        self.signatures.push(signature);
        Ok(())
    }
}

impl fmt::Display for Note {
    /// The signed note: text, blank line, one signature line each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for signature in &self.signatures {
            writeln!(f, "{}", signature.to_line())?;
        }
        Ok(())
    }
}

/// A note whose text carries at least one verified signature from a trusted key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The whole note, all signatures included.
    pub note: Note,
    /// The trusted keys whose signatures verified, in note order, each once.
    pub verified_by: Vec<(KeyName, u32)>,
}

impl VerifiedNote {
    /// The verified note text.
    pub fn text(&self) -> &str {
        self.note.text()
    }
}

/// Signs `text` with one key and returns the signed note.
pub fn sign_note(text: &str, signer: &NoteSigner) -> Result<String, NoteError> {
    let mut note = Note::new(text)?;
    note.sign(signer)?;
    Ok(note.to_string())
}

/// Parses a signed note and verifies it against the trusted `verifiers`
/// ([signed-note, Signatures](https://c2sp.org/signed-note#signatures)).
///
/// Signatures whose name and key ID match no verifier are ignored (they may be witness
/// cosignatures, or a rotated key). A signature from a trusted key must verify, or the
/// whole note is refused; and at least one must be present.
pub fn open_note(msg: &str, verifiers: &[NoteVerifier]) -> Result<VerifiedNote, NoteError> {
    let note = Note::parse(msg)?;
    let mut verified_by: Vec<(KeyName, u32)> = Vec::new();
    for signature in &note.signatures {
        let mut matching = verifiers
            .iter()
            .filter(|v| *v.name() == signature.name && v.key_id() == signature.key_id);
        let Some(verifier) = matching.next() else {
            continue;
        };
        if matching.next().is_some() {
            return Err(NoteError::AmbiguousKey {
                name: signature.name.clone(),
                key_id: signature.key_id,
            });
        }
        if !verifier.verify(note.text.as_bytes(), &signature.signature) {
            return Err(NoteError::InvalidSignature {
                name: signature.name.clone(),
                key_id: signature.key_id,
            });
        }
        let id = (signature.name.clone(), signature.key_id);
        if !verified_by.contains(&id) {
            verified_by.push(id);
        }
    }
    if verified_by.is_empty() {
        return Err(NoteError::NoTrustedSignature);
    }
    Ok(VerifiedNote { note, verified_by })
}

/// A valid note text: non-empty, newline-terminated, no other control characters.
pub(crate) fn check_text(text: &str) -> Result<(), NoteError> {
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::ControlCharacter);
    }
    if !text.ends_with('\n') {
        return Err(NoteError::TextNotTerminated);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeyError;

    fn signer() -> Result<NoteSigner, KeyError> {
        Ok(NoteSigner::from_seed(
            KeyName::new("log.example/a")?,
            &[7; 32],
        ))
    }

    #[test]
    fn parse_refuses_malformed_notes() -> Result<(), Box<dyn std::error::Error>> {
        let good = sign_note("hello\n", &signer()?)?;
        let line = good.trim_start_matches("hello\n\n").trim_end();
        let cases = [
            ("hello\n".to_owned(), NoteError::MissingSignatures),
            ("hello\n\n".to_owned(), NoteError::MissingSignatures),
            (format!("hello\n\n{line}"), NoteError::MissingSignatures),
            (format!("hel\rlo\n\n{line}\n"), NoteError::ControlCharacter),
            (
                format!("hello\n\n{line}\nnot a signature\n"),
                NoteError::MalformedSignature { line: 2 },
            ),
            (
                format!("hello\n\n{}\n", line.replacen(' ', "  ", 1)),
                NoteError::MalformedSignature { line: 1 },
            ),
            (format!("hello\n\n{line}\n\n"), NoteError::MissingSignatures),
            (
                format!(
                    "hello\n\n{}",
                    format!("{line}\n").repeat(MAX_SIGNATURES + 1)
                ),
                NoteError::TooManySignatures,
            ),
        ];
        for (msg, want) in cases {
            assert_eq!(Note::parse(&msg), Err(want), "{msg:?}");
        }
        assert_eq!(
            Note::parse(&format!(
                "hello\n\n{}",
                format!("{line}\n").repeat(MAX_SIGNATURES)
            ))
            .map(|n| n.signatures().len()),
            Ok(MAX_SIGNATURES)
        );
        Ok(())
    }
}
