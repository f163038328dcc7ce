//! Tests of blind indexes.

use super::*;
use crate::key::KEY_LEN;

fn key(byte: u8) -> BlindIndexKey {
    let mut bytes = [byte; KEY_LEN];
    bytes[0] ^= 0x33;
    BlindIndexKey::from_bytes(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn nik() -> Nik {
    Nik::try_from("3577011708450001".to_owned()).expect("valid NIK")
}

/// RFC 4231 ("Identifier and Test Vectors for HMAC-SHA-224, HMAC-SHA-256, HMAC-SHA-384,
/// and HMAC-SHA-512"), section 4, test cases 1, 2, 3 and 6, HMAC-SHA-256 results, run
/// through `hmac_sha256`, the same function (and `HmacSha256` type) that computes indexes.
/// The data is fed in two parts, as `blind` feeds its input in parts.
#[test]
fn hmac_matches_rfc_4231() {
    let cases: [(&[u8], &[u8], &str); 4] = [
        (
            &[0x0b; 20],
            b"Hi There",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            b"Jefe",
            b"what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            &[0xaa; 20],
            &[0xdd; 50],
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        ),
        (
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
    ];
    for (key, data, expected) in cases {
        let (head, tail) = data.split_at(data.len() / 2);
        assert_eq!(hex(&hmac_sha256(key, &[head, tail])), expected);
    }
}

#[test]
fn blind_is_hmac_over_the_labelled_length_prefixed_input() {
    let key = key(1);
    let mut input = b"simpul/blind-index/v1".to_vec();
    input.extend_from_slice(&3u64.to_be_bytes());
    input.extend_from_slice(b"nik");
    input.extend_from_slice(&16u64.to_be_bytes());
    input.extend_from_slice(b"3577011708450001");
    assert_eq!(
        key.blind_nik(&nik()).as_bytes(),
        &hmac_sha256(key.expose(), &[&input])
    );
}

#[test]
fn blind_is_deterministic() {
    let key = key(1);
    assert_eq!(key.blind_nik(&nik()), key.blind_nik(&nik()));
    assert_eq!(
        key.blind(BlindDomain::Nik, b"3577011708450001"),
        key.blind_nik(&nik())
    );
    assert_ne!(
        key.blind(BlindDomain::Nik, b"3577011708450002"),
        key.blind_nik(&nik())
    );
}

#[test]
fn domains_give_unrelated_indexes_for_the_same_digits() {
    let key = key(1);
    let digits = "3577012501150001";
    let no_kk = NoKk::try_from(digits.to_owned()).expect("valid KK number");
    let as_kk = key.blind_no_kk(&no_kk);
    assert_eq!(as_kk, key.blind(BlindDomain::NoKk, digits.as_bytes()));
    assert_ne!(as_kk, key.blind(BlindDomain::Nik, digits.as_bytes()));
    assert_ne!(as_kk, key.blind(BlindDomain::NameToken, digits.as_bytes()));
}

#[test]
fn keys_give_unrelated_indexes() {
    assert_ne!(key(1).blind_nik(&nik()), key(2).blind_nik(&nik()));
}

#[test]
fn name_tokens_are_normalised_deduplicated_and_in_order() {
    let key = key(1);
    let stored = key.blind_name_tokens("SITI NURAINI");
    let typed = key.blind_name_tokens("  siti Nur'aini ");
    assert_eq!(stored, typed);
    assert_eq!(
        stored,
        [
            key.blind(BlindDomain::NameToken, b"SITI"),
            key.blind(BlindDomain::NameToken, b"NURAINI")
        ]
    );
    assert_eq!(key.blind_name_tokens("Muhammad muhammad Ali").len(), 2);
    assert!(key.blind_name_tokens(" - ").is_empty());
}

#[test]
fn text_form_is_64_lowercase_hex_digits_and_round_trips() {
    let index = key(1).blind_nik(&nik());
    let text = index.to_string();
    assert_eq!(text.len(), 64);
    assert!(text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    assert_eq!(text, hex(index.as_bytes()));
    assert_eq!(BlindIndex::parse(&text), Ok(index));
    assert_eq!(text.parse::<BlindIndex>(), Ok(index));
    for bad in [
        text.to_uppercase(),
        text[..63].to_owned(),
        format!("{text}0"),
        format!("{}g", &text[..63]),
        String::new(),
        "é".repeat(32),
    ] {
        assert_eq!(BlindIndex::parse(&bad), Err(BlindIndexParseError), "{bad}");
    }
}

#[test]
fn debug_shows_only_a_prefix() {
    let index = key(1).blind_nik(&nik());
    let text = index.to_string();
    assert_eq!(format!("{index:?}"), format!("BlindIndex({}…)", &text[..8]));
}
