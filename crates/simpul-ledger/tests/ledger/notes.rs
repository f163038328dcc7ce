//! Signed notes and checkpoints against known answers from the C2SP specs
//! (github.com/C2SP/C2SP `signed-note.md` and `tlog-checkpoint.md` at commit
//! 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9) and from Go's `golang.org/x/mod/sumdb/note`
//! tests (github.com/golang/mod `sumdb/note/note_test.go` at commit
//! fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db). Only the example keys, texts and signatures
//! are taken, as data.

use simpul_ledger::{
    Checkpoint, CheckpointError, Hash, KeyError, KeyName, Note, NoteError, NoteSigner,
    NoteVerifier, open_note, sign_checkpoint, sign_note, verify_checkpoint,
};

const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

const SPEC_CHECKPOINT: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn the_spec_example_vkey_verifies_the_spec_example_note() -> TestResult {
    let verifier = NoteVerifier::from_vkey(SPEC_VKEY)?;
    assert_eq!(verifier.key_id(), 0x530d903a);
    assert_eq!(verifier.to_vkey(), SPEC_VKEY);
    let opened = open_note(SPEC_NOTE, std::slice::from_ref(&verifier))?;
    assert_eq!(opened.text(), "This is an example message.\n");
    assert_eq!(
        opened.verified_by,
        [(KeyName::new("example.com/foo")?, 0x530d903a)]
    );
    // One changed byte of the text breaks the signature.
    let tampered = SPEC_NOTE.replacen("example message", "example messagE", 1);
    assert_eq!(
        open_note(&tampered, &[verifier]),
        Err(NoteError::InvalidSignature {
            name: KeyName::new("example.com/foo")?,
            key_id: 0x530d903a
        })
    );
    Ok(())
}

#[test]
fn go_private_key_signs_exactly_like_go() -> TestResult {
    let signer = NoteSigner::from_skey(PETER_SKEY)?;
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.verifier().to_vkey(), PETER_VKEY);
    assert_eq!(signer.to_skey().as_str(), PETER_SKEY);
    // Ed25519 is deterministic, so the whole signed note is a known answer.
    assert_eq!(
        sign_note(GO_TEXT, &signer)?,
        format!("{GO_TEXT}\n{PETER_SIG}")
    );
    assert_eq!(
        sign_note("no newline", &signer),
        Err(NoteError::TextNotTerminated)
    );
    Ok(())
}

#[test]
fn unknown_signatures_are_ignored_and_known_ones_must_verify() -> TestResult {
    let peter = NoteVerifier::from_vkey(PETER_VKEY)?;
    let enoch = NoteVerifier::from_vkey(ENOCH_VKEY)?;
    let both = format!("{GO_TEXT}\n{PETER_SIG}{ENOCH_SIG}");

    let opened = open_note(&both, std::slice::from_ref(&peter))?;
    assert_eq!(opened.text(), GO_TEXT);
    assert_eq!(opened.verified_by.len(), 1);
    assert_eq!(opened.note.signatures().len(), 2);

    let opened = open_note(&both, &[peter.clone(), enoch.clone()])?;
    assert_eq!(opened.verified_by.len(), 2);

    assert_eq!(open_note(&both, &[]), Err(NoteError::NoTrustedSignature));

    // Same name, different ID: a different key, so ignored rather than failed.
    let other_id = PETER_SIG.replacen("x08go", "x08gp", 1);
    assert_eq!(
        open_note(
            &format!("{GO_TEXT}\n{other_id}"),
            std::slice::from_ref(&peter)
        ),
        Err(NoteError::NoTrustedSignature)
    );
    // A corrupt signature by a trusted key rejects the whole note, even beside a good one.
    let corrupt = format!("{}ABCD{}", &ENOCH_SIG[..60], &ENOCH_SIG[60..]);
    assert_eq!(
        open_note(
            &format!("{GO_TEXT}\n{PETER_SIG}{corrupt}"),
            &[peter.clone(), enoch.clone()]
        ),
        Err(NoteError::InvalidSignature {
            name: KeyName::new("EnochRoot")?,
            key_id: 0xaf0cfe78
        })
    );
    // The same key configured twice is ambiguous, as in Go.
    assert!(matches!(
        open_note(
            &format!("{GO_TEXT}\n{ENOCH_SIG}"),
            &[enoch.clone(), peter, enoch]
        ),
        Err(NoteError::AmbiguousKey { .. })
    ));
    Ok(())
}

#[test]
fn go_malformed_notes_are_refused() -> TestResult {
    let peter = NoteVerifier::from_vkey(PETER_VKEY)?;
    let bad = [
        GO_TEXT.to_owned(),
        format!("{GO_TEXT}\n"),
        format!("{GO_TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\u{1}{GO_TEXT}\n{PETER_SIG}"),
        format!(
            "{GO_TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        ),
        format!("{GO_TEXT}\n{PETER_SIG}Unexpected line.\n"),
    ];
    for msg in bad {
        assert!(
            matches!(
                open_note(&msg, std::slice::from_ref(&peter)),
                Err(NoteError::ControlCharacter
                    | NoteError::MissingSignatures
                    | NoteError::MalformedSignature { .. })
            ),
            "{msg:?}"
        );
    }
    // Go's 101 repeated signatures exceed the limit.
    let many = format!("{GO_TEXT}\n{}", PETER_SIG.repeat(101));
    assert_eq!(
        open_note(&many, &[peter]),
        Err(NoteError::TooManySignatures)
    );
    Ok(())
}

#[test]
fn go_vkey_edits_are_refused() {
    assert!(NoteVerifier::from_vkey(PETER_VKEY).is_ok());
    // Wrong key length with an adjusted key ID, and an unknown algorithm with an adjusted
    // key ID (both from Go's TestNewVerifier).
    // (Go refuses the first for its length; base64ct already refuses its non-canonical
    // final character.)
    assert!(matches!(
        NoteVerifier::from_vkey(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        ),
        Err(KeyError::InvalidKey | KeyError::Malformed)
    ));
    assert_eq!(
        NoteVerifier::from_vkey(
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        ),
        Err(KeyError::UnsupportedAlgorithm(0x65))
    );
    // Any single-byte change to the vkey is refused, as Go's test checks.
    let bytes = PETER_VKEY.as_bytes();
    for i in 0..bytes.len() {
        let mut edited = bytes.to_vec();
        edited[i] = edited[i].wrapping_add(1);
        if let Ok(text) = std::str::from_utf8(&edited) {
            assert!(NoteVerifier::from_vkey(text).is_err(), "{text}");
        }
    }
}

#[test]
fn the_spec_checkpoint_parses() -> TestResult {
    let note = Note::parse(SPEC_CHECKPOINT)?;
    let checkpoint = Checkpoint::parse(note.text())?;
    assert_eq!(checkpoint.origin(), "example.com/behind-the-sofa");
    assert_eq!(checkpoint.size(), 20_852_163);
    assert_eq!(
        checkpoint.root(),
        &Hash::from_base64("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")?
    );
    assert_eq!(note.signatures()[0].key_id.to_be_bytes()[0], 0x03);
    // The spec gives no vkey for this log, so nothing can verify it.
    assert_eq!(
        verify_checkpoint(SPEC_CHECKPOINT, &[]),
        Err(CheckpointError::Note(NoteError::NoTrustedSignature))
    );
    Ok(())
}

#[test]
fn signed_checkpoints_verify_and_tampering_is_caught() -> TestResult {
    let log = NoteSigner::from_seed(KeyName::new("simpul.example/ledger")?, &[1; 32]);
    let witness = NoteSigner::from_seed(KeyName::new("witness.example/w1")?, &[2; 32]);
    let checkpoint = Checkpoint::new("simpul.example/ledger", 42, simpul_ledger::leaf_hash(b"r"))?;
    let signed = sign_checkpoint(&checkpoint, &log)?;
    assert_eq!(verify_checkpoint(&signed, &[log.verifier()])?, checkpoint);

    // A witness cosignature is kept by the note and ignored by a log-only verifier.
    let mut note = Note::parse(&signed)?;
    note.sign(&witness)?;
    let cosigned = note.to_string();
    assert_eq!(verify_checkpoint(&cosigned, &[log.verifier()])?, checkpoint);
    assert_eq!(
        open_note(&cosigned, &[log.verifier(), witness.verifier()])?
            .verified_by
            .len(),
        2
    );
    // The witness's key alone is not the origin's key.
    assert_eq!(
        verify_checkpoint(&cosigned, &[witness.verifier()]),
        Err(CheckpointError::NotSignedByOrigin)
    );

    // Changing any single byte of the body makes verification fail.
    let body_len = checkpoint.to_note_text().len();
    for i in 0..body_len {
        let mut bytes = signed.clone().into_bytes();
        bytes[i] ^= 0x01;
        if let Ok(text) = String::from_utf8(bytes) {
            assert!(
                verify_checkpoint(&text, &[log.verifier()]).is_err(),
                "byte {i}"
            );
        }
    }
    Ok(())
}
