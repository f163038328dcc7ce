//! Witness cosignatures (c2sp.org/tlog-cosignature, `cosignature/v1`): a known answer
//! from a public witness, round trips, refusals, and cosigned notes opening with the
//! log's key alone.
//!
//! The known answer is a checkpoint of the transparency.dev staging CT log
//! `arche2025h1.staging.ct.transparency.dev` as published with its witnesses'
//! cosignatures, and the vkeys of that log and of the witness `remora.n621.de`, as
//! recorded in github.com/florolf/tlog-scales `tests/test_signing.py` at commit
//! 053df15f1acbe2f324297029064ffa8d43b7ccd9 (Apache-2.0). Only the keys, the checkpoint
//! and its signature lines are taken, as data. `GO_PETER_SKEY` is the example key of Go's
//! `golang.org/x/mod/sumdb/note` tests (BSD-3-Clause), as in `notes.rs`.

use base64ct::{Base64, Encoding};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use simpul_ledger::{
    ALG_COSIGNATURE_V1, Checkpoint, CheckpointError, CosignatureError, CosignatureSigner,
    CosignatureVerifier, KeyError, KeyName, MAX_COSIGNATURE_TIMESTAMP, MAX_SIGNATURES, Note,
    NoteError, NoteSignature, NoteSigner, NoteVerifier, VerifiedCosignature, cosign_checkpoint,
    cosignature_key_id, ed25519_key_id, leaf_hash, open_note, sign_checkpoint, verify_checkpoint,
    verify_cosignature, verify_cosignatures,
};

const ARCHE_VKEY: &str =
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f";
const REMORA_VKEY: &str = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
const ARCHE_TEXT: &str = "arche2025h1.staging.ct.transparency.dev\n1432088532\nU7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n";
/// The log's RFC 6962 STH signature (type 0x05) and Ed25519 signature, then four
/// witnesses' cosignatures.
const ARCHE_SIGNATURES: &str = "\
\u{2014} arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
\u{2014} arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
\u{2014} transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==
\u{2014} witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==
\u{2014} remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
\u{2014} witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==
";
/// The remora line's timestamp bytes, `00 00 00 00 6a 12 21 20` (2026-05-23T21:50:24Z).
const REMORA_TIMESTAMP: u64 = 1_779_573_024;

const GO_PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn arche_note() -> String {
    format!("{ARCHE_TEXT}\n{ARCHE_SIGNATURES}")
}

/// The key ID rule written out from the spec, independently of the crate.
fn spec_key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut input = name.as_bytes().to_vec();
    input.push(0x0a);
    input.push(0x04);
    input.extend_from_slice(public_key);
    let digest = Sha256::digest(&input);
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// The decoded key material of a vkey or private key string (whose base64 may itself
/// contain `+`).
fn key_material(key: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let key = key.strip_prefix("PRIVATE+KEY+").unwrap_or(key);
    let b64 = key.splitn(3, '+').nth(2).ok_or("no key material")?;
    Ok(Base64::decode_vec(b64)?)
}

fn witness(name: &str, seed: u8) -> Result<CosignatureSigner, KeyError> {
    Ok(CosignatureSigner::from_seed(
        KeyName::new(name)?,
        &[seed; 32],
    ))
}

fn sample_checkpoint(size: u64) -> Result<Checkpoint, CheckpointError> {
    Checkpoint::new("simpul.example/ledger", size, leaf_hash(b"root"))
}

#[test]
fn a_public_witness_cosignature_verifies() -> TestResult {
    let remora = CosignatureVerifier::from_vkey(REMORA_VKEY)?;
    assert_eq!(remora.key_id(), 0xda77ade7);
    assert_eq!(
        spec_key_id("remora.n621.de", remora.verifying_key().as_bytes()),
        0xda77ade7
    );
    assert_eq!(remora.to_vkey(), REMORA_VKEY);
    // A witness vkey is not a log vkey.
    assert_eq!(
        NoteVerifier::from_vkey(REMORA_VKEY),
        Err(KeyError::UnsupportedAlgorithm(ALG_COSIGNATURE_V1))
    );

    let msg = arche_note();
    // The log's key alone opens the note: the 0x05 line and the four cosignature lines
    // are unknown keys.
    let log = NoteVerifier::from_vkey(ARCHE_VKEY)?;
    let opened = open_note(&msg, std::slice::from_ref(&log))?;
    assert_eq!(opened.note.signatures().len(), 6);
    assert_eq!(
        opened.verified_by,
        [(
            KeyName::new("arche2025h1.staging.ct.transparency.dev")?,
            0xba2f06c0
        )]
    );
    assert_eq!(verify_checkpoint(&msg, &[log])?.size(), 1_432_088_532);

    assert_eq!(
        verify_cosignatures(&msg, std::slice::from_ref(&remora))?,
        [VerifiedCosignature {
            name: KeyName::new("remora.n621.de")?,
            key_id: 0xda77ade7,
            timestamp: REMORA_TIMESTAMP,
        }]
    );
    let line = ARCHE_SIGNATURES
        .lines()
        .find(|l| l.contains("remora"))
        .ok_or("no remora line")?;
    let signature = NoteSignature::from_line(line)?;
    assert_eq!(
        verify_cosignature(ARCHE_TEXT, &signature, &remora)?,
        REMORA_TIMESTAMP
    );

    // Another tree size: the witness did not sign that.
    let clobbered = msg.replacen("1432088532", "1432088533", 1);
    assert_eq!(
        verify_cosignatures(&clobbered, std::slice::from_ref(&remora)),
        Err(CosignatureError::InvalidSignature {
            name: KeyName::new("remora.n621.de")?,
            key_id: 0xda77ade7
        })
    );
    Ok(())
}

#[test]
fn cosignatures_round_trip() -> TestResult {
    let signer = witness("witness.example/w1", 3)?;
    let checkpoint = sample_checkpoint(42)?;
    let signature = cosign_checkpoint(&checkpoint, &signer, 1_700_000_000)?;
    assert_eq!(signature.name, *signer.name());
    assert_eq!(signature.key_id, signer.key_id());
    assert_eq!(signature.signature.len(), 72);
    assert_eq!(signature.signature[..8], 1_700_000_000u64.to_be_bytes());

    // Through the published vkey and the line a witness would send back.
    let verifier = CosignatureVerifier::from_vkey(&signer.verifier().to_vkey())?;
    assert_eq!(verifier, signer.verifier());
    let line = NoteSignature::from_line(&signature.to_line())?;
    assert_eq!(line, signature);
    assert_eq!(
        verify_cosignature(&checkpoint.to_note_text(), &line, &verifier)?,
        1_700_000_000
    );
    // The extremes of the allowed range.
    for timestamp in [0, MAX_COSIGNATURE_TIMESTAMP] {
        let signature = cosign_checkpoint(&checkpoint, &signer, timestamp)?;
        assert_eq!(
            verify_cosignature(&checkpoint.to_note_text(), &signature, &verifier)?,
            timestamp
        );
    }
    // Extension lines are signed too.
    let extended = checkpoint
        .clone()
        .with_extensions(vec!["ext line".into()])?;
    let signature = cosign_checkpoint(&extended, &signer, 5)?;
    assert_eq!(
        verify_cosignature(&extended.to_note_text(), &signature, &verifier)?,
        5
    );
    assert!(matches!(
        verify_cosignature(&checkpoint.to_note_text(), &signature, &verifier),
        Err(CosignatureError::InvalidSignature { .. })
    ));
    Ok(())
}

#[test]
fn the_key_id_rule_uses_type_0x04() -> TestResult {
    for seed in [0u8, 1, 77, 255] {
        let signer = witness("witness.example/w1", seed)?;
        let public = *signer.verifier().verifying_key();
        let id = spec_key_id("witness.example/w1", public.as_bytes());
        assert_eq!(signer.key_id(), id);
        assert_eq!(cosignature_key_id(signer.name(), &public), id);
        // The same key as a log key has another ID, so a log verifier never matches a
        // cosignature line.
        assert_ne!(ed25519_key_id(signer.name(), &public), id);
        let vkey = signer.verifier().to_vkey();
        assert!(vkey.starts_with(&format!("witness.example/w1+{id:08x}+")));
        assert_eq!(
            key_material(&vkey)?[..],
            [&[0x04][..], public.as_bytes()].concat()
        );
    }
    Ok(())
}

#[test]
fn wrong_keys_and_tampering_are_refused() -> TestResult {
    let signer = witness("witness.example/w1", 3)?;
    let verifier = signer.verifier();
    let checkpoint = sample_checkpoint(42)?;
    let text = checkpoint.to_note_text();
    let good = cosign_checkpoint(&checkpoint, &signer, 1_700_000_000)?;
    let invalid = || CosignatureError::InvalidSignature {
        name: verifier.name().clone(),
        key_id: verifier.key_id(),
    };
    let wrong_key = |s: &NoteSignature| CosignatureError::WrongKey {
        name: s.name.clone(),
        key_id: s.key_id,
    };

    // Another witness key, under the same name or with the same key under another name.
    let other = witness("witness.example/w1", 4)?;
    assert_eq!(
        verify_cosignature(&text, &good, &other.verifier()),
        Err(wrong_key(&good))
    );
    let renamed = CosignatureVerifier::new(
        KeyName::new("witness.example/w2")?,
        *verifier.verifying_key(),
    );
    assert_eq!(
        verify_cosignature(&text, &good, &renamed),
        Err(wrong_key(&good))
    );
    // Another key's signature bytes on a line claiming this key.
    let forged = NoteSignature {
        signature: cosign_checkpoint(&checkpoint, &other, 1_700_000_000)?.signature,
        ..good.clone()
    };
    assert_eq!(
        verify_cosignature(&text, &forged, &verifier),
        Err(invalid())
    );

    // Another checkpoint body.
    assert_eq!(
        verify_cosignature(&sample_checkpoint(43)?.to_note_text(), &good, &verifier),
        Err(invalid())
    );
    // Another timestamp.
    let mut retimed = good.clone();
    retimed.signature[7] ^= 0x01;
    assert_eq!(
        verify_cosignature(&text, &retimed, &verifier),
        Err(invalid())
    );
    // Timestamps past 2^63 - 1 are neither made nor accepted.
    assert_eq!(
        cosign_checkpoint(&checkpoint, &signer, MAX_COSIGNATURE_TIMESTAMP + 1),
        Err(CosignatureError::TimestampOutOfRange(1 << 63))
    );
    let mut future = good.clone();
    future.signature[0] |= 0x80;
    assert!(matches!(
        verify_cosignature(&text, &future, &verifier),
        Err(CosignatureError::TimestampOutOfRange(t)) if t >= 1 << 63
    ));

    // Every truncation, and an extension.
    for len in 0..good.signature.len() {
        let truncated = NoteSignature {
            signature: good.signature[..len].to_vec(),
            ..good.clone()
        };
        assert_eq!(
            verify_cosignature(&text, &truncated, &verifier),
            Err(CosignatureError::InvalidLength(len))
        );
    }
    let mut extended = good.clone();
    extended.signature.push(0);
    assert_eq!(
        verify_cosignature(&text, &extended, &verifier),
        Err(CosignatureError::InvalidLength(73))
    );

    // Every single-bit change of the 76 line bytes is refused.
    for bit in 0..32 {
        let flipped = NoteSignature {
            key_id: good.key_id ^ (1 << bit),
            ..good.clone()
        };
        assert_eq!(
            verify_cosignature(&text, &flipped, &verifier),
            Err(wrong_key(&flipped))
        );
    }
    for byte in 0..good.signature.len() {
        for bit in 0..8 {
            let mut flipped = good.clone();
            flipped.signature[byte] ^= 1 << bit;
            let result = verify_cosignature(&text, &flipped, &verifier);
            assert!(
                matches!(
                    result,
                    Err(CosignatureError::InvalidSignature { .. }
                        | CosignatureError::TimestampOutOfRange(_))
                ),
                "byte {byte} bit {bit}: {result:?}"
            );
        }
    }

    // A plain note signature by the same key is no cosignature, even relabelled.
    let as_log = NoteSigner::from_seed(signer.name().clone(), &[3; 32]).sign(&text)?;
    assert_eq!(
        verify_cosignature(&text, &as_log, &verifier),
        Err(wrong_key(&as_log))
    );
    let relabelled = NoteSignature {
        key_id: verifier.key_id(),
        ..as_log
    };
    assert_eq!(
        verify_cosignature(&text, &relabelled, &verifier),
        Err(CosignatureError::InvalidLength(64))
    );

    // Only checkpoint texts are cosigned.
    assert_eq!(
        verify_cosignature("hello\n", &good, &verifier),
        Err(CosignatureError::Checkpoint(CheckpointError::Malformed))
    );
    assert_eq!(
        verify_cosignature(text.trim_end(), &good, &verifier),
        Err(CosignatureError::Note(NoteError::TextNotTerminated))
    );
    assert_eq!(
        verify_cosignature(&format!("{text}ext\u{7}\n"), &good, &verifier),
        Err(CosignatureError::Note(NoteError::ControlCharacter))
    );
    assert_eq!(verify_cosignature(&text, &good, &verifier)?, 1_700_000_000);
    Ok(())
}

#[test]
fn a_cosigned_note_opens_with_the_log_key_alone() -> TestResult {
    let log = NoteSigner::from_seed(KeyName::new("simpul.example/ledger")?, &[1; 32]);
    let w1 = witness("witness.example/w1", 2)?;
    let w2 = witness("witness.example/w2", 3)?;
    let stranger = witness("witness.example/w3", 4)?;
    let checkpoint = sample_checkpoint(42)?;

    let mut note = Note::parse(&sign_checkpoint(&checkpoint, &log)?)?;
    note.add_signature(cosign_checkpoint(&checkpoint, &w1, 100)?)?;
    note.add_signature(cosign_checkpoint(&checkpoint, &w2, 200)?)?;
    let published = note.to_string();

    let opened = open_note(&published, &[log.verifier()])?;
    assert_eq!(opened.note.signatures().len(), 3);
    assert_eq!(opened.verified_by, [(log.name().clone(), log.key_id())]);
    assert_eq!(
        verify_checkpoint(&published, &[log.verifier()])?,
        checkpoint
    );
    // Cosignature lines are no note signatures: without the log key nothing is trusted.
    assert_eq!(
        open_note(&published, &[]),
        Err(NoteError::NoTrustedSignature)
    );

    let cosigned = |name: &KeyName, key_id, timestamp| VerifiedCosignature {
        name: name.clone(),
        key_id,
        timestamp,
    };
    assert_eq!(
        verify_cosignatures(&published, &[w2.verifier(), w1.verifier()])?,
        [
            cosigned(w1.name(), w1.key_id(), 100),
            cosigned(w2.name(), w2.key_id(), 200)
        ]
    );
    assert_eq!(
        verify_cosignatures(&published, &[w1.verifier(), stranger.verifier()])?,
        [cosigned(w1.name(), w1.key_id(), 100)]
    );
    assert_eq!(verify_cosignatures(&published, &[stranger.verifier()])?, []);
    assert_eq!(
        verify_cosignatures(&published, &[w1.verifier(), w1.verifier()]),
        Err(CosignatureError::AmbiguousKey {
            name: w1.name().clone(),
            key_id: w1.key_id()
        })
    );

    // A witness cosigning again replaces its line.
    let mut again = note.clone();
    again.add_signature(cosign_checkpoint(&checkpoint, &w1, 300)?)?;
    assert_eq!(again.signatures().len(), 3);
    assert_eq!(
        verify_cosignatures(&again.to_string(), &[w1.verifier()])?,
        [cosigned(w1.name(), w1.key_id(), 300)]
    );

    // A bad line by a configured witness refuses the note, as open_note does.
    let mut corrupt = note.clone();
    let mut bad = cosign_checkpoint(&checkpoint, &w1, 100)?;
    bad.signature[20] ^= 0x10;
    corrupt.add_signature(bad)?;
    assert_eq!(
        verify_cosignatures(&corrupt.to_string(), &[w1.verifier(), w2.verifier()]),
        Err(CosignatureError::InvalidSignature {
            name: w1.name().clone(),
            key_id: w1.key_id()
        })
    );
    // ...but not for a client that does not know that witness.
    assert_eq!(
        verify_cosignatures(&corrupt.to_string(), &[w2.verifier()])?.len(),
        1
    );
    // The note must still be a checkpoint.
    let mut not_checkpoint = Note::new("hello\n")?;
    not_checkpoint.add_signature(cosign_checkpoint(&checkpoint, &w1, 100)?)?;
    assert_eq!(
        verify_cosignatures(&not_checkpoint.to_string(), &[w1.verifier()]),
        Err(CosignatureError::Checkpoint(CheckpointError::Malformed))
    );
    Ok(())
}

#[test]
fn add_signature_keeps_notes_parseable() -> TestResult {
    let mut note = Note::new(sample_checkpoint(1)?.to_note_text())?;
    let w1 = witness("witness.example/w1", 2)?;
    let line = cosign_checkpoint(&sample_checkpoint(1)?, &w1, 1)?;
    for key_id in 0..MAX_SIGNATURES {
        note.add_signature(NoteSignature {
            key_id: u32::try_from(key_id)?,
            ..line.clone()
        })?;
    }
    assert_eq!(
        note.add_signature(line.clone()),
        Err(NoteError::TooManySignatures)
    );
    // Replacing a line is still allowed when full.
    note.add_signature(NoteSignature { key_id: 0, ..line })?;
    assert_eq!(
        Note::parse(&note.to_string())?.signatures().len(),
        MAX_SIGNATURES
    );
    Ok(())
}

#[test]
fn witness_key_strings() -> TestResult {
    let signer = witness("witness.example/w1", 9)?;
    let skey = signer.to_skey();
    assert!(skey.starts_with(&format!(
        "PRIVATE+KEY+witness.example/w1+{:08x}+",
        signer.key_id()
    )));
    assert_eq!(key_material(&skey)?[..], [&[0x04], &[9; 32][..]].concat());
    let again = CosignatureSigner::from_skey(&skey)?;
    assert_eq!(again.verifier(), signer.verifier());
    let secret = skey.rsplit('+').next().unwrap_or_default().to_owned();
    let debug = format!("{signer:?}");
    assert!(!debug.contains(&secret), "{debug}");
    assert!(debug.contains("witness.example/w1"));

    // Go's note.GenerateKey string (type 0x01, log-key ID), as transparency-dev
    // witnesses keep their keys: the same Ed25519 key, cosigning under the 0x04 ID.
    let go = CosignatureSigner::from_skey(GO_PETER_SKEY)?;
    let as_log = NoteSigner::from_skey(GO_PETER_SKEY)?;
    assert_eq!(
        go.verifier().verifying_key(),
        as_log.verifier().verifying_key()
    );
    assert_ne!(go.key_id(), as_log.key_id());
    assert_eq!(
        go.key_id(),
        spec_key_id("PeterNeumann", go.verifier().verifying_key().as_bytes())
    );
    assert_eq!(
        CosignatureSigner::from_skey(&go.to_skey())?.verifier(),
        go.verifier()
    );

    // Each string must carry the ID of its own type.
    let go_with_cosig_id = GO_PETER_SKEY.replacen("c74f20a3", &format!("{:08x}", go.key_id()), 1);
    assert_eq!(
        CosignatureSigner::from_skey(&go_with_cosig_id).map(|s| s.key_id()),
        Err(KeyError::KeyIdMismatch)
    );
    let cosig_with_log_id = go
        .to_skey()
        .replacen(&format!("{:08x}", go.key_id()), "c74f20a3", 1);
    assert_eq!(
        CosignatureSigner::from_skey(&cosig_with_log_id).map(|s| s.key_id()),
        Err(KeyError::KeyIdMismatch)
    );
    assert_eq!(
        CosignatureSigner::from_skey("PRIVATE+KEY+a+00000000+Ag==").map(|s| s.key_id()),
        Err(KeyError::UnsupportedAlgorithm(0x02))
    );
    assert_eq!(
        CosignatureSigner::from_skey("PRIVATE+KEY+a+00000000").map(|s| s.key_id()),
        Err(KeyError::Malformed)
    );

    // Vkeys: a log vkey is refused as a witness key, edits are refused.
    let vkey = signer.verifier().to_vkey();
    assert_eq!(
        CosignatureVerifier::from_vkey(&as_log.verifier().to_vkey()),
        Err(KeyError::UnsupportedAlgorithm(0x01))
    );
    assert_eq!(
        CosignatureVerifier::from_vkey(&vkey.replacen("/w1", "/w2", 1)),
        Err(KeyError::KeyIdMismatch)
    );
    assert_eq!(
        CosignatureVerifier::from_vkey("a+b"),
        Err(KeyError::Malformed)
    );
    assert_eq!(
        CosignatureVerifier::from_vkey(&format!("{vkey}+extra")),
        Err(KeyError::Malformed)
    );
    assert_eq!(
        CosignatureVerifier::from_vkey(REMORA_VKEY.replacen("da77ade7", "DA77ADE7", 1).as_str()),
        Err(KeyError::Malformed)
    );
    // A witness publishing a 0x01 vkey is configured through its name and key.
    let converted =
        CosignatureVerifier::new(as_log.name().clone(), *as_log.verifier().verifying_key());
    assert_eq!(converted, go.verifier());
    Ok(())
}

proptest! {
    #[test]
    fn hostile_signature_bytes_are_refused_without_panic(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 72),
            proptest::collection::vec(any::<u8>(), 0..100),
        ]
    ) {
        let fail = |e: &dyn std::error::Error| TestCaseError::fail(e.to_string());
        let signer = witness("witness.example/w1", 3).map_err(|e| fail(&e))?;
        let text = sample_checkpoint(7).map_err(|e| fail(&e))?.to_note_text();
        let hostile = NoteSignature {
            name: signer.name().clone(),
            key_id: signer.key_id(),
            signature: bytes,
        };
        prop_assert!(verify_cosignature(&text, &hostile, &signer.verifier()).is_err());
    }
}
