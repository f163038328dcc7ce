//! Tests of the signing-key text format, its errors, and rotation.

use base64ct::Encoding;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;

/// Standard base64 of a distinct, non-placeholder 32-byte seed.
fn b64(seed: u8) -> String {
    let bytes: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(7) ^ seed).collect();
    base64ct::Base64::encode_string(&bytes)
}

fn id(text: &str) -> SigningKeyId {
    SigningKeyId::parse(text).expect("valid key id")
}

fn at(line: usize, column: usize) -> Position {
    Position { line, column }
}

fn public(signer: &AccessTokenSigner, kid: &str) -> [u8; 32] {
    signer
        .key(kid)
        .expect("key in ring")
        .verifying_key()
        .to_bytes()
}

#[test]
fn first_key_is_active_when_none_is_marked() {
    let signer =
        AccessTokenSigner::parse(&format!("k2:{}\nk1:{}\n", b64(2), b64(1))).expect("valid");
    assert_eq!(signer.active_id(), &id("k2"));
    assert_eq!(signer.ids().collect::<Vec<_>>(), [&id("k2"), &id("k1")]);
    assert!(signer.key("k3").is_none());
}

#[test]
fn marked_key_is_active_wherever_it_is() {
    let signer =
        AccessTokenSigner::parse(&format!("k1:{}\n*k2:{}\n", b64(1), b64(2))).expect("valid");
    assert_eq!(signer.active_id(), &id("k2"));
    assert_eq!(
        signer.active_key().verifying_key().to_bytes(),
        public(&signer, "k2")
    );
    assert_ne!(public(&signer, "k1"), public(&signer, "k2"));
}

#[test]
fn comments_blank_lines_commas_and_spaces_are_allowed() {
    let text = format!(
        "# signing keys\n\n  k1:{}  # the old one\r\n\t*k2:{} , k3:{},\n",
        b64(1),
        b64(2),
        b64(3)
    );
    let signer = AccessTokenSigner::parse(&text).expect("valid");
    assert_eq!(signer.active_id(), &id("k2"));
    assert_eq!(signer.ids().count(), 3);
}

#[test]
fn the_seed_is_the_ed25519_secret_key() {
    let signer = AccessTokenSigner::parse(&format!("k1:{}", b64(1))).expect("valid");
    let mut seed = [0u8; 32];
    base64ct::Base64::decode(b64(1), &mut seed).expect("base64");
    assert_eq!(
        public(&signer, "k1"),
        SigningKey::from_bytes(&seed).verifying_key().to_bytes()
    );
}

#[test]
fn key_files_round_trip() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut signer = AccessTokenSigner::generate(id("2025-11"), &mut rng);
    signer.rotate(id("2026-05"), &mut rng).expect("new id");
    let text = signer.to_key_file();
    assert!(text.starts_with('#'));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("*2026-05:"), "{}", lines[1]);
    assert!(lines[2].starts_with("2025-11:"), "{}", lines[2]);
    let back = AccessTokenSigner::parse(&text).expect("own output parses");
    assert_eq!(back.active_id(), &id("2026-05"));
    for kid in ["2025-11", "2026-05"] {
        assert_eq!(public(&back, kid), public(&signer, kid));
    }
}

#[test]
fn generated_keys_differ() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let a = AccessTokenSigner::generate(id("a"), &mut rng);
    let b = AccessTokenSigner::generate(id("b"), &mut rng);
    assert_ne!(public(&a, "a"), public(&b, "b"));
}

#[test]
fn rotation_keeps_old_keys_until_retired() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut signer = AccessTokenSigner::generate(id("k1"), &mut rng);
    let old = public(&signer, "k1");
    signer.rotate(id("k2"), &mut rng).expect("new id");
    assert_eq!(signer.active_id(), &id("k2"));
    assert_eq!(public(&signer, "k1"), old);
    assert_ne!(public(&signer, "k2"), old);

    assert_eq!(
        signer.rotate(id("k1"), &mut rng),
        Err(RotationError::DuplicateId(id("k1")))
    );
    assert_eq!(
        signer.rotate(id("k2"), &mut rng),
        Err(RotationError::DuplicateId(id("k2")))
    );
    assert_eq!(
        signer.retire(&id("k2")),
        Err(RotationError::ActiveKey(id("k2")))
    );
    assert_eq!(
        signer.retire(&id("k9")),
        Err(RotationError::UnknownId(id("k9")))
    );
    assert_eq!(signer.retire(&id("k1")), Ok(()));
    assert!(signer.key("k1").is_none());
    assert_eq!(signer.ids().collect::<Vec<_>>(), [&id("k2")]);
}

#[test]
fn key_ids_follow_the_key_id_rule() {
    assert_eq!(SigningKeyId::parse(""), Err(SigningKeyIdError::Empty));
    assert_eq!(
        SigningKeyId::parse(&"a".repeat(33)),
        Err(SigningKeyIdError::TooLong)
    );
    for bad in ["-k", "K1", "k_1", "k.1", "k:1", "k 1"] {
        assert_eq!(
            SigningKeyId::parse(bad),
            Err(SigningKeyIdError::BadCharacter),
            "{bad}"
        );
    }
    assert_eq!("2026-05".parse::<SigningKeyId>(), Ok(id("2026-05")));
    assert_eq!(id("2026-05").to_string(), "2026-05");
}

#[test]
fn errors_name_the_line_and_column() {
    let cases: Vec<(String, SigningKeysError)> = vec![
        (String::new(), SigningKeysError::Empty),
        ("# only a comment\n".into(), SigningKeysError::Empty),
        (
            format!("k1:{}\n  {}", b64(1), b64(2)),
            SigningKeysError::MissingSeparator { at: at(2, 3) },
        ),
        (
            format!("K1:{}", b64(1)),
            SigningKeysError::BadKeyId {
                at: at(1, 1),
                reason: SigningKeyIdError::BadCharacter,
            },
        ),
        (
            "k1:not base64!".into(),
            SigningKeysError::BadBase64 { at: at(1, 1) },
        ),
        (
            format!("k1:{}", b64(1).trim_end_matches('=')),
            SigningKeysError::BadBase64 { at: at(1, 1) },
        ),
        (
            format!("k1:{}", base64ct::Base64::encode_string(&[7u8; 16][..])),
            SigningKeysError::BadLength {
                at: at(1, 1),
                found: 16,
                expected: 32,
            },
        ),
        (
            format!("k1:{}", base64ct::Base64::encode_string(&[0u8; 32])),
            SigningKeysError::PlaceholderKey { at: at(1, 1) },
        ),
        (
            format!("k1:{}\nk1:{}", b64(1), b64(2)),
            SigningKeysError::DuplicateId {
                at: at(2, 1),
                id: id("k1"),
                first_line: 1,
            },
        ),
        (
            format!("k1:{}\nk2:{}, k3:{}", b64(1), b64(2), b64(1)),
            SigningKeysError::DuplicateKey {
                at: at(2, 50),
                first_line: 1,
            },
        ),
        (
            format!("*k1:{}\n*k2:{}", b64(1), b64(2)),
            SigningKeysError::SeveralActive {
                at: at(2, 1),
                first_line: 1,
            },
        ),
    ];
    for (text, expected) in cases {
        let error = AccessTokenSigner::parse(&text).expect_err(&expected.to_string());
        assert_eq!(error, expected, "{text}");
    }
}

#[test]
fn errors_and_debug_never_show_key_material() {
    let secret = b64(1);
    let mut texts = vec![
        format!("k1:{}x", secret),
        format!("{}", secret),
        format!("K1:{}", secret),
        format!("k1:{}\nk2:{}", secret, secret),
    ];
    texts.push(format!("k1:{}", &secret[..20]));
    for text in &texts {
        let shown = AccessTokenSigner::parse(text)
            .expect_err("invalid")
            .to_string();
        assert!(!shown.contains(&secret[..8]), "{shown}");
    }
    let signer = AccessTokenSigner::parse(&format!("*k1:{secret}")).expect("valid");
    let shown = format!("{signer:?}");
    assert!(!shown.contains(&secret[..8]), "{shown}");
    assert!(shown.contains("k1"), "{shown}");
}
