//! Tests of client ids, client secrets and scope rules.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rstest::rstest;

use super::*;

fn secret(seed: u64) -> ClientSecret {
    ClientSecret::generate(&mut ChaCha20Rng::seed_from_u64(seed))
}

fn scope(text: &str) -> Scope {
    Scope::parse(text).expect("valid scope")
}

#[rstest]
#[case("opd")]
#[case("dinsos-kota-madiun")]
#[case("bkd_batch.v2")]
#[case("0123456789")]
#[case(&"a".repeat(64))]
fn valid_client_ids_are_accepted(#[case] id: &str) {
    let parsed = ClientId::parse(id).expect("valid client id");
    assert_eq!(parsed.as_str(), id);
    assert_eq!(parsed.to_string(), id);
    assert_eq!(id.parse::<ClientId>(), Ok(parsed));
}

#[rstest]
#[case("", ClientIdError::Length)]
#[case("ab", ClientIdError::Length)]
#[case(&"a".repeat(65), ClientIdError::Length)]
#[case("Opd", ClientIdError::BadCharacter)]
#[case("opd:secret", ClientIdError::BadCharacter)]
#[case("opd kota", ClientIdError::BadCharacter)]
#[case("opd/kota", ClientIdError::BadCharacter)]
#[case("dinsé", ClientIdError::BadCharacter)]
fn invalid_client_ids_are_refused(#[case] id: &str, #[case] expected: ClientIdError) {
    assert_eq!(ClientId::parse(id), Err(expected));
    assert!(!expected.to_string().contains(id) || id.is_empty());
}

#[test]
fn client_ids_deserialize_only_when_valid() {
    let id: ClientId = serde_json::from_str("\"opd-dukcapil\"").expect("valid");
    assert_eq!(id.as_str(), "opd-dukcapil");
    assert_eq!(
        serde_json::to_string(&id).expect("serialize"),
        "\"opd-dukcapil\""
    );
    assert!(serde_json::from_str::<ClientId>("\"OPD\"").is_err());
}

#[test]
fn secrets_round_trip_through_text_and_verify_against_their_hash() {
    let secret = secret(1);
    let text = secret.to_text();
    assert_eq!(text.len(), 43);
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(ClientSecret::from_text(&text), Ok(secret.clone()));
    let hash = secret.hash();
    assert_eq!(hash.verify(&text), Ok(()));
}

#[test]
fn another_secret_does_not_verify() {
    let hash = secret(1).hash();
    let other = secret(2).to_text();
    assert_eq!(hash.verify(&other), Err(ClientSecretRejection::Mismatch));
    // One character changed.
    let mut text = secret(1).to_text().to_string();
    let first = if text.starts_with('A') { "B" } else { "A" };
    text.replace_range(..1, first);
    assert_eq!(hash.verify(&text), Err(ClientSecretRejection::Mismatch));
}

#[test]
fn malformed_secrets_are_refused_before_hashing() {
    let hash = secret(1).hash();
    let text = secret(1).to_text();
    for case in [
        String::new(),
        text[..42].to_owned(),
        format!("{}A", text.as_str()),
        format!("{}=", &text[..42]),
        format!("{}+", &text[..42]),
        // Bits beyond the 256th set in the last character: not canonical.
        format!("{}B", &text[..42]),
    ] {
        if case == text.as_str() {
            continue;
        }
        assert_eq!(
            hash.verify(&case),
            Err(ClientSecretRejection::Malformed),
            "{case}"
        );
    }
    assert_eq!(ClientSecretRejection::Malformed.code(), "invalid_client");
    assert_eq!(ClientSecretRejection::Mismatch.code(), "invalid_client");
}

#[test]
fn secret_hashes_are_domain_separated_from_plain_sha256() {
    let secret = secret(3);
    let plain: [u8; 32] = Sha256::digest(secret.0).into();
    assert_ne!(secret.hash().as_bytes(), &plain);
    let mut labelled = Sha256::new();
    labelled.update(b"simpul/client-secret/v1\0");
    labelled.update(secret.0);
    assert_eq!(
        secret.hash().as_bytes(),
        &<[u8; 32]>::from(labelled.finalize())
    );
}

#[test]
fn secret_hashes_round_trip_through_hex_and_serde() {
    let hash = secret(4).hash();
    assert_eq!(ClientSecretHash::from_hex(&hash.to_hex()), Some(hash));
    assert_eq!(ClientSecretHash::from_bytes(*hash.as_bytes()), hash);
    assert_eq!(ClientSecretHash::from_hex("abc"), None);
    let json = serde_json::to_string(&hash).expect("serialize");
    assert_eq!(json, format!("\"{}\"", hash.to_hex()));
    assert_eq!(
        serde_json::from_str::<ClientSecretHash>(&json).expect("deserialize"),
        hash
    );
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let secret = secret(5);
    let text = secret.to_text();
    let hash = secret.hash();
    let shown = format!("{secret:?} {hash:?}");
    assert!(!shown.contains(text.as_str()), "{shown}");
    assert!(!shown.contains(&hash.to_hex()), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
}

#[test]
fn scopes_parse_into_sorted_sets() {
    let parsed = scope("wilayah:read penduduk:read wilayah:read");
    assert_eq!(
        parsed.iter().collect::<Vec<_>>(),
        ["penduduk:read", "wilayah:read"]
    );
    assert_eq!(parsed.to_string(), "penduduk:read wilayah:read");
    assert!(parsed.contains("penduduk:read"));
    assert!(!parsed.contains("penduduk:write"));
    assert!(scope("").is_empty());
    // RFC 6749 §3.3 allows '!' and everything from '#' to '~' but '\'.
    assert!(scope("a!b #x ~y [z]").contains("[z]"));
}

#[rstest]
#[case(" penduduk:read")]
#[case("penduduk:read ")]
#[case("penduduk:read  wilayah:read")]
#[case("penduduk:read\twilayah:read")]
#[case("say\"hi\"")]
#[case("back\\slash")]
#[case("penduduk:baca\u{e9}")]
#[case("line\nbreak")]
fn malformed_scopes_are_refused(#[case] text: &str) {
    assert_eq!(Scope::parse(text), Err(ScopeError::Malformed));
}

#[test]
fn overlong_scope_strings_are_refused() {
    let long = vec!["s"; MAX_SCOPE_LEN / 2 + 1].join(" ");
    assert!(long.len() > MAX_SCOPE_LEN);
    assert_eq!(Scope::parse(&long), Err(ScopeError::Malformed));
    let fits = "s".repeat(MAX_SCOPE_LEN);
    assert!(Scope::parse(&fits).is_ok());
}

#[test]
fn an_absent_or_empty_request_gets_the_whole_grant() {
    let granted = scope("penduduk:read wilayah:read");
    assert_eq!(granted.grant(None), Ok(granted.clone()));
    assert_eq!(granted.grant(Some("")), Ok(granted.clone()));
}

#[test]
fn a_request_within_the_grant_gets_exactly_the_request() {
    let granted = scope("penduduk:read wilayah:read nik:verify");
    assert_eq!(granted.grant(Some("nik:verify")), Ok(scope("nik:verify")));
    assert_eq!(
        granted.grant(Some("wilayah:read penduduk:read wilayah:read")),
        Ok(scope("penduduk:read wilayah:read"))
    );
    assert_eq!(
        granted.grant(Some(&granted.to_string())),
        Ok(granted.clone())
    );
}

#[test]
fn a_request_beyond_the_grant_is_refused_as_invalid_scope() {
    let granted = scope("penduduk:read wilayah:read");
    let refused = granted.grant(Some("penduduk:read penduduk:write"));
    assert_eq!(refused, Err(ScopeError::NotGranted));
    assert_eq!(
        granted.grant(Some("penduduk:read  wilayah:read")),
        Err(ScopeError::Malformed)
    );
    assert_eq!(
        Scope::default().grant(Some("a")),
        Err(ScopeError::NotGranted)
    );
    assert_eq!(ScopeError::NotGranted.code(), "invalid_scope");
    assert_eq!(ScopeError::Malformed.code(), "invalid_scope");
}

#[test]
fn scopes_serialize_as_their_string() {
    let parsed = scope("wilayah:read penduduk:read");
    let json = serde_json::to_string(&parsed).expect("serialize");
    assert_eq!(json, "\"penduduk:read wilayah:read\"");
    assert_eq!(
        serde_json::from_str::<Scope>(&json).expect("deserialize"),
        parsed
    );
    assert!(serde_json::from_str::<Scope>("\"a  b\"").is_err());
}
