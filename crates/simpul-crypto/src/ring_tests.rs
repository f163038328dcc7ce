//! Tests of the key-ring text format and its errors.

use super::*;
use crate::key::sealed::Sealed;
use crate::{BlindIndexKey, DataKey};

/// Standard base64 of a distinct, non-placeholder 32-byte key.
fn b64(seed: u8) -> String {
    let bytes: Vec<u8> = (0..KEY_LEN as u8)
        .map(|i| i.wrapping_mul(7) ^ seed)
        .collect();
    base64ct::Base64::encode_string(&bytes)
}

fn id(text: &str) -> KeyId {
    KeyId::parse(text).expect("valid key id")
}

fn parse(text: &str) -> Result<DataKeyRing, KeyRingError> {
    DataKeyRing::parse(text)
}

fn at(line: usize, column: usize) -> Position {
    Position { line, column }
}

#[test]
fn first_key_is_active_when_none_is_marked() {
    let ring = parse(&format!("k2:{}\nk1:{}\n", b64(2), b64(1))).expect("valid");
    assert_eq!(ring.active_id(), &id("k2"));
    assert_eq!(ring.ids().collect::<Vec<_>>(), [&id("k1"), &id("k2")]);
    assert_eq!(
        ring.active().expose(),
        ring.get(&id("k2")).expect("k2").expose()
    );
    assert!(ring.get(&id("k3")).is_none());
}

#[test]
fn marked_key_is_active_wherever_it_is() {
    let ring = parse(&format!("k1:{}\n*k2:{}\n", b64(1), b64(2))).expect("valid");
    assert_eq!(ring.active_id(), &id("k2"));
    assert_eq!(
        ring.active().expose(),
        ring.get(&id("k2")).expect("k2").expose()
    );
}

#[test]
fn comments_blank_lines_commas_and_spaces_are_allowed() {
    let text = format!(
        "# data keys\n\n  k1:{}  # the old one\r\n\t*k2:{} , k3:{},\n",
        b64(1),
        b64(2),
        b64(3)
    );
    let ring = parse(&text).expect("valid");
    assert_eq!(ring.active_id(), &id("k2"));
    assert_eq!(ring.ids().count(), 3);
    // One environment variable, comma-separated.
    let ring = parse(&format!("*k9:{},k8:{}", b64(9), b64(8))).expect("valid");
    assert_eq!(ring.active_id(), &id("k9"));
}

#[test]
fn empty_rings_are_refused() {
    for text in ["", "\n\n", "# only a comment\n", " , ,"] {
        assert_eq!(
            parse(text).map(|_| ()),
            Err(KeyRingError::Empty { kind: "data key" }),
            "{text:?}"
        );
    }
    assert_eq!(
        BlindKeyRing::parse("").map(|_| ()),
        Err(KeyRingError::Empty {
            kind: "blind-index key"
        })
    );
}

#[test]
fn each_error_names_the_line_and_column() {
    let good = format!("k1:{}", b64(1));
    let short = base64ct::Base64::encode_string(&[9u8; 16]);
    let long = base64ct::Base64::encode_string(&(0..48u8).collect::<Vec<_>>());
    let cases: Vec<(String, KeyRingError)> = vec![
        (
            format!("{good}\n  {}", b64(2)),
            KeyRingError::MissingSeparator { at: at(2, 3) },
        ),
        (
            format!("{good}\nK2:{}", b64(2)),
            KeyRingError::BadKeyId {
                at: at(2, 1),
                reason: KeyIdError::BadCharacter,
            },
        ),
        (
            format!("{good}\n:{}", b64(2)),
            KeyRingError::BadKeyId {
                at: at(2, 1),
                reason: KeyIdError::Empty,
            },
        ),
        (
            format!("{good}, k2:{}!", &b64(2)[..43]),
            KeyRingError::BadBase64 { at: at(1, 50) },
        ),
        (
            format!("{good}\nk2:{}", b64(2).trim_end_matches('=')),
            KeyRingError::BadBase64 { at: at(2, 1) },
        ),
        (
            format!("k2:{short}"),
            KeyRingError::BadLength {
                at: at(1, 1),
                found: 16,
                expected: 32,
            },
        ),
        (
            format!("k2:{long}"),
            KeyRingError::BadLength {
                at: at(1, 1),
                found: 48,
                expected: 32,
            },
        ),
        (
            format!("k2:{}", base64ct::Base64::encode_string(&[0u8; 32])),
            KeyRingError::PlaceholderKey { at: at(1, 1) },
        ),
        (
            format!("{good}\n\nk1:{}", b64(2)),
            KeyRingError::DuplicateId {
                at: at(3, 1),
                id: id("k1"),
                first_line: 1,
            },
        ),
        (
            format!("{good}\nk2:{}", b64(1)),
            KeyRingError::DuplicateKey {
                at: at(2, 1),
                first_line: 1,
            },
        ),
        (
            format!("*{good}\n*k2:{}", b64(2)),
            KeyRingError::SeveralActive {
                at: at(2, 1),
                first_line: 1,
            },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(parse(&text).map(|_| ()), Err(expected), "{text}");
    }
}

#[test]
fn errors_never_echo_key_material() {
    let secret = b64(5);
    let texts = [
        secret.clone(),
        format!("{secret}:k1"),
        format!("k1:{secret}\nk2:{secret}"),
        format!("k1:{}", &secret[..40]),
        format!("k1:{secret}AAAA"),
    ];
    for text in texts {
        let message = parse(&text).map(|_| ()).expect_err(&text).to_string();
        assert!(!message.contains(&secret[..8]), "{message}");
    }
}

#[test]
fn debug_of_a_ring_shows_ids_but_no_key_bytes() {
    let secret = b64(4);
    let ring = parse(&format!("*k4:{secret}\nk3:{}", b64(3))).expect("valid");
    let debug = format!("{ring:?}");
    assert_eq!(debug, r#"KeyRing { active: "k4", ids: ["k3", "k4"] }"#);
    let raw = base64ct::Base64::decode_vec(&secret).expect("base64");
    assert!(!debug.contains(&format!("{:?}", &raw[..4])[1..8]));
    assert!(!debug.contains(&secret[..8]));
}

#[test]
fn a_key_shared_between_data_and_blind_rings_is_detected() {
    let data = parse(&format!("k1:{}\nk2:{}", b64(1), b64(2))).expect("valid");
    let separate = BlindKeyRing::parse(&format!("b1:{}", b64(3))).expect("valid");
    let reused = BlindKeyRing::parse(&format!("b1:{}", b64(2))).expect("valid");
    assert!(!data.shares_material_with(&separate));
    assert!(data.shares_material_with(&reused));
    assert!(reused.shares_material_with(&data));
}

#[test]
fn generated_key_lines_parse_back_into_a_ring() {
    let line = DataKey::from_bytes([3; KEY_LEN]).to_key_line(&id("gen"));
    // A repeated byte is a placeholder; a generated key is not.
    assert!(matches!(
        parse(&line),
        Err(KeyRingError::PlaceholderKey { .. })
    ));
    let mut rng = <rand_chacha::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(3);
    let key = BlindIndexKey::generate(&mut rng);
    let ring = BlindKeyRing::parse(&key.to_key_line(&id("gen"))).expect("valid");
    assert_eq!(ring.active().expose(), key.expose());
}
