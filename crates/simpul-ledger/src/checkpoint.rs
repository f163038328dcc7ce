//! C2SP checkpoints ([c2sp.org/tlog-checkpoint](https://c2sp.org/tlog-checkpoint)): the
//! signed statement "the log named *origin* has *size* leaves and this root hash", as the
//! body of a signed note.
//!
//! ```text
//! simpul.example/ledger
//! 20852163
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//!
//! — simpul.example/ledger Az3grl…
//! ```

use std::fmt;

use crate::hash::Hash;
use crate::key::{NoteSigner, NoteVerifier};
use crate::note::{Note, NoteError, open_note};

/// A checkpoint body: origin, tree size, root hash and optional extension lines
/// ([tlog-checkpoint, Note text](https://c2sp.org/tlog-checkpoint#note-text)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

/// Why a checkpoint could not be built, parsed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The origin or an extension line is empty, or holds a newline or another control
    /// character.
    #[error("checkpoint lines must be non-empty single lines")]
    InvalidLine,
    /// The note text has fewer than three lines, or an empty line.
    #[error("a checkpoint needs origin, size and root lines, none empty")]
    Malformed,
    /// The size line is not a decimal number without leading zeros that fits 64 bits.
    #[error("the tree size line is not a canonical decimal number")]
    InvalidSize,
    /// The root line is not the standard base64 of 32 bytes.
    #[error("the root hash line is not base64 of 32 bytes")]
    InvalidRoot,
    /// No verified signature is by a key named like the origin: the note is signed, but
    /// not by the log it claims to be from.
    #[error("no verified signature is from the origin's key")]
    NotSignedByOrigin,
    /// The signed-note layer refused the note.
    #[error(transparent)]
    Note(#[from] NoteError),
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Result<Self, CheckpointError> {
        let origin = origin.into();
        check_line(&origin)?;
        Ok(Self {
            origin,
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// Adds extension lines. The spec advises against them (monitors cannot audit them);
    /// they exist here so checkpoints from logs that use them still parse.
    pub fn with_extensions(mut self, extensions: Vec<String>) -> Result<Self, CheckpointError> {
        extensions.iter().try_for_each(|line| check_line(line))?;
        self.extensions = extensions;
        Ok(self)
    }

    /// Parses a checkpoint note text (the text of a verified note, final newline included).
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text.strip_suffix('\n').ok_or(CheckpointError::Malformed)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Malformed);
        };
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if origin.is_empty() || extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::Malformed);
        }
        let checkpoint = Self {
            origin: origin.to_owned(),
            size: parse_size(size)?,
            root: Hash::from_base64(root).map_err(|_| CheckpointError::InvalidRoot)?,
            extensions,
        };
        check_line(&checkpoint.origin)?;
        Ok(checkpoint)
    }

    /// The origin line: the log's identity.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash at that size.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// The extension lines, usually none.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text: origin, size, base64 root, extension lines, each ending in newline.
    pub fn to_note_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

impl fmt::Display for Checkpoint {
    /// The note text ([`Checkpoint::to_note_text`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_note_text())
    }
}

/// Signs a checkpoint and returns the signed note. The signer's name SHOULD equal the
/// origin ([tlog-checkpoint, Signatures](https://c2sp.org/tlog-checkpoint#signatures)),
/// and [`verify_checkpoint`] requires it.
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    signer: &NoteSigner,
) -> Result<String, CheckpointError> {
    let mut note = Note::new(checkpoint.to_note_text())?;
    note.sign(signer)?;
    Ok(note.to_string())
}

/// Verifies a signed checkpoint against trusted log keys and returns its body.
///
/// On top of [`open_note`]'s rules, a verified signature must come from a key named like
/// the origin line, so a checkpoint of one log cannot pass as another's when the
/// verifiers hold keys of several logs (or witnesses). Other signatures, such as witness
/// cosignatures, are ignored here; use [`open_note`] to see them.
pub fn verify_checkpoint(
    msg: &str,
    verifiers: &[NoteVerifier],
) -> Result<Checkpoint, CheckpointError> {
    let verified = open_note(msg, verifiers)?;
    let checkpoint = Checkpoint::parse(verified.text())?;
    if !verified
        .verified_by
        .iter()
        .any(|(name, _)| name.as_str() == checkpoint.origin)
    {
        return Err(CheckpointError::NotSignedByOrigin);
    }
    Ok(checkpoint)
}

/// The tree size line: ASCII digits, no sign, no leading zero unless the size is 0.
fn parse_size(line: &str) -> Result<u64, CheckpointError> {
    let canonical = !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
        && (line == "0" || !line.starts_with('0'));
    if !canonical {
        return Err(CheckpointError::InvalidSize);
    }
    line.parse().map_err(|_| CheckpointError::InvalidSize)
}

fn check_line(line: &str) -> Result<(), CheckpointError> {
    if line.is_empty() || line.chars().any(char::is_control) {
        return Err(CheckpointError::InvalidLine);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn size_line_must_be_canonical_decimal() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("20852163"), Ok(20_852_163));
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
        for bad in [
            "",
            "01",
            "00",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1e3",
            "18446744073709551616",
            "١",
        ] {
            assert_eq!(
                parse_size(bad),
                Err(CheckpointError::InvalidSize),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn text_round_trips_with_and_without_extensions() -> Result<(), CheckpointError> {
        let plain = Checkpoint::new("simpul.example/ledger", 5, leaf_hash(b"r"))?;
        assert_eq!(Checkpoint::parse(&plain.to_note_text())?, plain);
        let extended = plain
            .clone()
            .with_extensions(vec!["ext one".into(), "two".into()])?;
        assert_eq!(Checkpoint::parse(&extended.to_note_text())?, extended);
        assert_ne!(extended, plain);
        Ok(())
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let root = leaf_hash(b"r").to_base64();
        let cases = [
            (format!("o\n1\n{root}"), CheckpointError::Malformed),
            ("o\n1\n".to_owned(), CheckpointError::Malformed),
            (format!("\n1\n{root}\n"), CheckpointError::Malformed),
            (format!("o\n1\n{root}\n\next\n"), CheckpointError::Malformed),
            (format!("o\n01\n{root}\n"), CheckpointError::InvalidSize),
            (
                "o\n1\nZG9uJ3QgY2FyZSAx\n".to_owned(),
                CheckpointError::InvalidRoot,
            ),
            (format!("o\n1\n{root} \n"), CheckpointError::InvalidRoot),
        ];
        for (text, want) in cases {
            assert_eq!(Checkpoint::parse(&text), Err(want), "{text:?}");
        }
        assert_eq!(
            Checkpoint::new("two\nlines", 1, leaf_hash(b"r")),
            Err(CheckpointError::InvalidLine)
        );
    }
}
