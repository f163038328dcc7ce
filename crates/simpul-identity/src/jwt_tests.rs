//! Tests of access-token issue and verification, rotation, and the JWKS.

use std::collections::BTreeSet;

use ed25519_dalek::VerifyingKey;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use super::*;

const ISSUER: &str = "https://simpul.madiunkota.go.id";
const AUDIENCE: &str = "simpul-api";

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).expect("valid timestamp")
}

fn secs(s: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(s)
}

fn kid(text: &str) -> SigningKeyId {
    SigningKeyId::parse(text).expect("valid key id")
}

fn signer(seed: u64) -> AccessTokenSigner {
    AccessTokenSigner::generate(kid("k1"), &mut ChaCha20Rng::seed_from_u64(seed))
}

fn claims_at(now: DateTime<Utc>) -> AccessClaims {
    AccessClaims::new(
        ISSUER,
        AUDIENCE,
        ClientId::parse("opd-dinsos").expect("valid client id"),
        Scope::parse("penduduk:read nik:verify").expect("valid scope"),
        now,
        TimeDelta::seconds(DEFAULT_TOKEN_LIFETIME_SECS),
        &mut ChaCha20Rng::seed_from_u64(99),
    )
}

fn verify_at(
    signer: &AccessTokenSigner,
    token: &str,
    now: DateTime<Utc>,
) -> Result<AccessClaims, TokenRejection> {
    signer.verify(token, now, ISSUER, AUDIENCE)
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn unb64(part: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(part).expect("base64url")
}

/// The three parts of a token.
fn parts(token: &str) -> [String; 3] {
    let parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts.try_into().expect("three parts")
}

fn decoded_json(part: &str) -> Value {
    serde_json::from_slice(&unb64(part)).expect("JSON")
}

/// A token with this header and payload text, validly signed with the active key: for
/// checks that must hold even when the signature is good.
fn sign_raw(signer: &AccessTokenSigner, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature = signer.active_key().sign(input.as_bytes());
    format!("{input}.{}", b64(&signature.to_bytes()))
}

fn good_header() -> String {
    r#"{"alg":"EdDSA","typ":"at+jwt","kid":"k1"}"#.to_owned()
}

fn good_payload() -> Value {
    claims_at(t0()).to_json()
}

#[test]
fn issued_tokens_verify_and_return_their_claims() {
    let signer = signer(1);
    let claims = claims_at(t0());
    let token = signer.issue(&claims);
    assert_eq!(verify_at(&signer, &token, secs(1)), Ok(claims.clone()));
    assert_eq!(claims.expires_at, secs(600));
    assert_eq!(claims.token_id.len(), 32);
}

#[test]
fn issued_tokens_carry_the_rfc_9068_header_and_claims() {
    let signer = signer(1);
    let token = signer.issue(&claims_at(t0()));
    let [header, payload, signature] = parts(&token);
    assert_eq!(
        decoded_json(&header),
        json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": "k1" })
    );
    let payload = decoded_json(&payload);
    assert_eq!(payload["iss"], ISSUER);
    assert_eq!(payload["aud"], AUDIENCE);
    assert_eq!(payload["sub"], "opd-dinsos");
    assert_eq!(payload["client_id"], "opd-dinsos");
    assert_eq!(payload["scope"], "nik:verify penduduk:read");
    assert_eq!(payload["iat"], 1_750_000_000);
    assert_eq!(payload["exp"], 1_750_000_600);
    assert!(
        payload["jti"]
            .as_str()
            .is_some_and(|jti| jti.len() == 32 && jti.bytes().all(|b| b.is_ascii_hexdigit()))
    );
    assert_eq!(unb64(&signature).len(), 64);
    assert!(!token.contains('='));
}

#[test]
fn token_ids_are_random_and_times_whole_seconds() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let make = |rng: &mut ChaCha20Rng| {
        AccessClaims::new(
            ISSUER,
            AUDIENCE,
            ClientId::parse("opd").expect("valid"),
            Scope::default(),
            t0() + TimeDelta::milliseconds(1500),
            TimeDelta::seconds(60),
            rng,
        )
    };
    let (a, b) = (make(&mut rng), make(&mut rng));
    assert_ne!(a.token_id, b.token_id);
    assert_eq!(a.issued_at, secs(1));
    assert_eq!(a.expires_at, secs(61));
}

#[test]
fn a_tampered_payload_is_refused() {
    let signer = signer(1);
    let [header, _, signature] = parts(&signer.issue(&claims_at(t0())));
    let mut payload = good_payload();
    payload["scope"] = json!("nik:verify penduduk:read penduduk:write");
    let forged = format!(
        "{header}.{}.{signature}",
        b64(payload.to_string().as_bytes())
    );
    assert_eq!(
        verify_at(&signer, &forged, t0()),
        Err(TokenRejection::BadSignature)
    );
}

#[test]
fn a_tampered_signature_is_refused() {
    let signer = signer(1);
    let [header, payload, signature] = parts(&signer.issue(&claims_at(t0())));
    let mut bytes = unb64(&signature);
    bytes[10] ^= 0x01;
    let flipped = format!("{header}.{payload}.{}", b64(&bytes));
    assert_eq!(
        verify_at(&signer, &flipped, t0()),
        Err(TokenRejection::BadSignature)
    );
    let short = format!("{header}.{payload}.{}", b64(&bytes[..63]));
    assert_eq!(
        verify_at(&signer, &short, t0()),
        Err(TokenRejection::BadSignature)
    );
    let not_base64 = format!("{header}.{payload}.{}+", &signature[..85]);
    assert_eq!(
        verify_at(&signer, &not_base64, t0()),
        Err(TokenRejection::Malformed)
    );
}

#[test]
fn a_token_relabelled_to_another_key_is_refused() {
    let mut signer = signer(1);
    let token = signer.issue(&claims_at(t0()));
    signer
        .rotate(kid("k2"), &mut ChaCha20Rng::seed_from_u64(2))
        .expect("new id");
    let [_, payload, signature] = parts(&token);
    let header = b64(br#"{"alg":"EdDSA","typ":"at+jwt","kid":"k2"}"#);
    let relabelled = format!("{header}.{payload}.{signature}");
    assert_eq!(
        verify_at(&signer, &relabelled, t0()),
        Err(TokenRejection::BadSignature)
    );
}

#[test]
fn a_token_from_another_ring_with_the_same_kid_is_refused() {
    let token = signer(1).issue(&claims_at(t0()));
    assert_eq!(
        verify_at(&signer(2), &token, t0()),
        Err(TokenRejection::BadSignature)
    );
}

#[test]
fn alg_none_is_refused() {
    let signer = signer(1);
    let header = b64(br#"{"alg":"none","typ":"at+jwt","kid":"k1"}"#);
    let payload = b64(good_payload().to_string().as_bytes());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}.{}", b64(&[0u8; 64])),
    ] {
        assert_eq!(
            verify_at(&signer, &token, t0()),
            Err(TokenRejection::UnsupportedAlgorithm)
        );
    }
}

#[test]
fn hmac_and_other_algorithms_are_refused() {
    let signer = signer(1);
    let payload = b64(good_payload().to_string().as_bytes());
    // The classic confusion attack: an HS256 "MAC" keyed with the published public key.
    let public = signer.active_key().verifying_key().to_bytes();
    for alg in ["HS256", "RS256", "ES256", "eddsa", "Ed25519", "EdDSA "] {
        let header = b64(json!({ "alg": alg, "typ": "at+jwt", "kid": "k1" })
            .to_string()
            .as_bytes());
        let input = format!("{header}.{payload}");
        let mac = Sha256::new()
            .chain_update(public)
            .chain_update(input.as_bytes())
            .finalize();
        let token = format!("{input}.{}", b64(&mac));
        assert_eq!(
            verify_at(&signer, &token, t0()),
            Err(TokenRejection::UnsupportedAlgorithm),
            "{alg}"
        );
    }
}

#[test]
fn only_access_token_types_are_accepted() {
    let signer = signer(1);
    let payload = good_payload().to_string();
    for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
        let header = json!({ "alg": "EdDSA", "typ": typ, "kid": "k1" }).to_string();
        assert!(
            verify_at(&signer, &sign_raw(&signer, &header, &payload), t0()).is_ok(),
            "{typ}"
        );
    }
    for header in [
        r#"{"alg":"EdDSA","typ":"JWT","kid":"k1"}"#,
        r#"{"alg":"EdDSA","typ":"dpop+jwt","kid":"k1"}"#,
        r#"{"alg":"EdDSA","kid":"k1"}"#,
    ] {
        assert_eq!(
            verify_at(&signer, &sign_raw(&signer, header, &payload), t0()),
            Err(TokenRejection::WrongType),
            "{header}"
        );
    }
}

#[test]
fn unknown_or_missing_key_ids_are_refused() {
    let signer = signer(1);
    let payload = good_payload().to_string();
    for header in [
        r#"{"alg":"EdDSA","typ":"at+jwt","kid":"k9"}"#,
        r#"{"alg":"EdDSA","typ":"at+jwt","kid":"K1"}"#,
        r#"{"alg":"EdDSA","typ":"at+jwt"}"#,
    ] {
        assert_eq!(
            verify_at(&signer, &sign_raw(&signer, header, &payload), t0()),
            Err(TokenRejection::UnknownKey),
            "{header}"
        );
    }
}

#[test]
fn headers_with_members_we_do_not_write_are_refused() {
    let signer = signer(1);
    let payload = good_payload().to_string();
    for header in [
        r#"{"alg":"EdDSA","typ":"at+jwt","kid":"k1","crit":["exp"]}"#,
        r#"{"alg":"EdDSA","typ":"at+jwt","kid":"k1","jku":"https://evil.example/jwks"}"#,
        r#"{"alg":"EdDSA","typ":"at+jwt","kid":"k1","jwk":{"kty":"OKP"}}"#,
        r#"{"alg":"none","alg":"EdDSA","typ":"at+jwt","kid":"k1"}"#,
        r#"{"alg":"EdDSA","typ":"at+jwt","kid":1}"#,
        r#"["EdDSA","at+jwt","k1"]"#,
        r#" {"alg":"EdDSA","typ":"at+jwt","kid":"k1"}"#,
        "not json",
    ] {
        assert_eq!(
            verify_at(&signer, &sign_raw(&signer, header, &payload), t0()),
            Err(TokenRejection::Malformed),
            "{header}"
        );
    }
}

#[test]
fn signed_payloads_that_are_not_our_claims_are_refused() {
    let signer = signer(1);
    let header = good_header();
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut payload = good_payload();
        edit(&mut payload);
        payload.to_string()
    };
    let cases = [
        "not json".to_owned(),
        with(&|p| p["sub"] = json!("opd-other")),
        with(&|p| p["client_id"] = json!("OPD")),
        with(&|p| p["nbf"] = json!(1_750_000_000)),
        with(&|p| {
            p.as_object_mut().map(|o| o.remove("exp"));
        }),
        with(&|p| p["exp"] = json!("1750000600")),
        with(&|p| p["aud"] = json!([AUDIENCE])),
        with(&|p| p["scope"] = json!("a  b")),
        with(&|p| p["iat"] = json!(i64::MIN)),
        format!(" {}", good_payload()),
        serde_json::to_string(&[good_payload()]).expect("serialize"),
    ];
    for payload in cases {
        assert_eq!(
            verify_at(&signer, &sign_raw(&signer, &header, &payload), t0()),
            Err(TokenRejection::Malformed),
            "{payload}"
        );
    }
    // The unedited payload passes, so each case fails for its own edit.
    let good = good_payload().to_string();
    assert!(verify_at(&signer, &sign_raw(&signer, &header, &good), t0()).is_ok());
}

#[test]
fn tokens_that_are_not_three_base64url_parts_are_refused() {
    let signer = signer(1);
    let token = signer.issue(&claims_at(t0()));
    let [header, payload, signature] = parts(&token);
    for bad in [
        String::new(),
        "..".to_owned(),
        format!("{header}.{payload}"),
        format!("{header}.{payload}.{signature}.{signature}"),
        format!("{header}=.{payload}.{signature}"),
        format!("{header}.{payload}=.{signature}"),
        format!("{}.{payload}.{signature}", header.replace('_', "/")),
        format!(" {}", token.as_str()),
    ] {
        if bad == token.as_str() {
            continue;
        }
        let rejection = verify_at(&signer, &bad, t0()).expect_err("refused");
        assert!(
            matches!(
                rejection,
                TokenRejection::Malformed | TokenRejection::BadSignature
            ),
            "{bad}: {rejection:?}"
        );
    }
    assert_eq!(
        verify_at(&signer, &format!("{header}.{payload}"), t0()),
        Err(TokenRejection::Malformed)
    );
}

#[test]
fn oversize_tokens_are_refused_before_decoding() {
    let signer = signer(1);
    let mut claims = claims_at(t0());
    claims.issuer = format!("https://{}", "a".repeat(4000));
    let token = signer.issue(&claims);
    assert!(token.len() > MAX_TOKEN_BYTES);
    assert_eq!(
        signer.verify(&token, t0(), &claims.issuer, AUDIENCE),
        Err(TokenRejection::TooLarge)
    );
    // The boundary: 4096 bytes of garbage are decoded (and refused as malformed), 4097 not.
    let garbage = "a".repeat(MAX_TOKEN_BYTES);
    assert_eq!(
        verify_at(&signer, &garbage, t0()),
        Err(TokenRejection::Malformed)
    );
    assert_eq!(
        verify_at(&signer, &format!("{garbage}a"), t0()),
        Err(TokenRejection::TooLarge)
    );
}

#[test]
fn expiry_allows_exactly_the_leeway() {
    let signer = signer(1);
    let token = signer.issue(&claims_at(t0()));
    // exp = t0 + 600.
    for ok in [0, 599, 600, 629] {
        assert!(verify_at(&signer, &token, secs(ok)).is_ok(), "{ok}");
    }
    assert!(verify_at(&signer, &token, secs(629) + TimeDelta::milliseconds(999)).is_ok());
    for expired in [630, 631, 10_000] {
        assert_eq!(
            verify_at(&signer, &token, secs(expired)),
            Err(TokenRejection::Expired),
            "{expired}"
        );
    }
}

#[test]
fn tokens_from_the_future_are_refused_beyond_the_leeway() {
    let signer = signer(1);
    let early = signer.issue(&claims_at(secs(30)));
    assert!(verify_at(&signer, &early, t0()).is_ok());
    let too_early = signer.issue(&claims_at(secs(31)));
    assert_eq!(
        verify_at(&signer, &too_early, t0()),
        Err(TokenRejection::NotYetValid)
    );
    assert!(verify_at(&signer, &too_early, secs(1)).is_ok());
}

#[test]
fn issuer_and_audience_must_match() {
    let signer = signer(1);
    let token = signer.issue(&claims_at(t0()));
    assert_eq!(
        signer.verify(&token, t0(), "https://other.example", AUDIENCE),
        Err(TokenRejection::WrongIssuer)
    );
    assert_eq!(
        signer.verify(&token, t0(), ISSUER, "other-api"),
        Err(TokenRejection::WrongAudience)
    );
}

#[test]
fn rotation_keeps_old_tokens_valid_until_the_key_is_retired() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut signer = AccessTokenSigner::generate(kid("k1"), &mut rng);
    let old = signer.issue(&claims_at(t0()));
    signer.rotate(kid("k2"), &mut rng).expect("new id");
    let new = signer.issue(&claims_at(t0()));
    assert_eq!(decoded_json(&parts(&new)[0])["kid"], "k2");
    assert!(verify_at(&signer, &old, t0()).is_ok());
    assert!(verify_at(&signer, &new, t0()).is_ok());

    signer.retire(&kid("k1")).expect("k1 is not active");
    assert_eq!(
        verify_at(&signer, &old, t0()),
        Err(TokenRejection::UnknownKey)
    );
    assert!(verify_at(&signer, &new, t0()).is_ok());
}

#[test]
fn rotation_survives_the_key_file() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let mut signer = AccessTokenSigner::generate(kid("k1"), &mut rng);
    let old = signer.issue(&claims_at(t0()));
    signer.rotate(kid("k2"), &mut rng).expect("new id");
    let reloaded = AccessTokenSigner::parse(&signer.to_key_file()).expect("parses");
    assert!(verify_at(&reloaded, &old, t0()).is_ok());
    let new = reloaded.issue(&claims_at(t0()));
    assert_eq!(decoded_json(&parts(&new)[0])["kid"], "k2");
    assert!(verify_at(&signer, &new, t0()).is_ok());
}

#[test]
fn jwks_publishes_every_key_and_each_verifies_its_tokens() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut signer = AccessTokenSigner::generate(kid("k1"), &mut rng);
    let old = signer.issue(&claims_at(t0()));
    signer.rotate(kid("k2"), &mut rng).expect("new id");
    let new = signer.issue(&claims_at(t0()));

    let jwks = signer.jwks();
    let keys = jwks["keys"].as_array().expect("keys array");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["kid"], "k2", "active key first");
    for jwk in keys {
        let members: BTreeSet<&str> = jwk
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            members,
            BTreeSet::from(["alg", "crv", "kid", "kty", "use", "x"]),
            "no private member `d`"
        );
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], "EdDSA");
    }

    let jwk_key = |kid: &str| {
        let jwk = keys.iter().find(|k| k["kid"] == kid).expect("published");
        let x: [u8; 32] = unb64(jwk["x"].as_str().expect("x"))
            .try_into()
            .expect("32 bytes");
        VerifyingKey::from_bytes(&x).expect("valid point")
    };
    let check = |token: &str, key: &VerifyingKey| {
        let (input, signature) = token.rsplit_once('.').expect("three parts");
        let signature: [u8; 64] = unb64(signature).try_into().expect("64 bytes");
        key.verify_strict(input.as_bytes(), &Signature::from_bytes(&signature))
    };
    assert!(check(&old, &jwk_key("k1")).is_ok());
    assert!(check(&new, &jwk_key("k2")).is_ok());
    assert!(check(&old, &jwk_key("k2")).is_err());
    assert!(check(&new, &jwk_key("k1")).is_err());
}

/// RFC 8037 Appendix A.1 (an Ed25519 private key `d` and public key `x`: the key of RFC 8032
/// §7.1 TEST 1) and A.4 (the JWS with protected header `{"alg":"EdDSA"}` and payload
/// `Example of Ed25519 signing`, and its signature). Values copied from RFC 8037,
/// https://www.rfc-editor.org/rfc/rfc8037#appendix-A.4 (Liusvaara, January 2017).
mod rfc8037 {
    pub const D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    pub const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    pub const SIGNING_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    pub const SIGNATURE: &str =
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
}

#[test]
fn rfc_8037_a4_known_answer() {
    // Load the RFC's key through the key-file format (standard base64 there).
    let seed = unb64(rfc8037::D);
    let text = format!("rfc8037:{}", base64ct::Base64::encode_string(&seed));
    let signer = AccessTokenSigner::parse(&text).expect("RFC key parses");

    // A.2/A.3: the public key we publish is the RFC's `x`.
    assert_eq!(signer.jwks()["keys"][0]["x"], rfc8037::X);

    // A.4: the parts decode to the RFC's header and payload, and Ed25519 signing is
    // deterministic, so our key gives exactly the RFC's signature.
    let (header, payload) = rfc8037::SIGNING_INPUT.split_once('.').expect("two parts");
    assert_eq!(unb64(header), br#"{"alg":"EdDSA"}"#);
    assert_eq!(unb64(payload), b"Example of Ed25519 signing");
    let signature = signer.active_key().sign(rfc8037::SIGNING_INPUT.as_bytes());
    assert_eq!(b64(&signature.to_bytes()), rfc8037::SIGNATURE);

    // A.5: the signature verifies under `x`, strictly.
    let x: [u8; 32] = unb64(rfc8037::X).try_into().expect("32 bytes");
    let sig: [u8; 64] = unb64(rfc8037::SIGNATURE).try_into().expect("64 bytes");
    assert!(
        VerifyingKey::from_bytes(&x)
            .expect("valid point")
            .verify_strict(
                rfc8037::SIGNING_INPUT.as_bytes(),
                &Signature::from_bytes(&sig)
            )
            .is_ok()
    );

    // A valid EdDSA JWS is still not an access token: no `typ`, no `kid`.
    let jws = format!("{}.{}", rfc8037::SIGNING_INPUT, rfc8037::SIGNATURE);
    assert_eq!(
        verify_at(&signer, &jws, t0()),
        Err(TokenRejection::WrongType)
    );
}

#[test]
fn rejection_codes_are_stable_and_distinct() {
    let all = [
        (TokenRejection::TooLarge, "token_too_large"),
        (TokenRejection::Malformed, "token_malformed"),
        (
            TokenRejection::UnsupportedAlgorithm,
            "token_algorithm_unsupported",
        ),
        (TokenRejection::WrongType, "token_type_wrong"),
        (TokenRejection::UnknownKey, "token_key_unknown"),
        (TokenRejection::BadSignature, "token_signature_invalid"),
        (TokenRejection::Expired, "token_expired"),
        (TokenRejection::NotYetValid, "token_not_yet_valid"),
        (TokenRejection::WrongIssuer, "token_issuer_wrong"),
        (TokenRejection::WrongAudience, "token_audience_wrong"),
    ];
    let codes: BTreeSet<&str> = all.iter().map(|(r, _)| r.code()).collect();
    assert_eq!(codes.len(), all.len());
    for (rejection, code) in all {
        assert_eq!(rejection.code(), code);
        assert_eq!(rejection.oauth_error(), "invalid_token");
    }
}

#[test]
fn tokens_and_keys_never_appear_in_debug_or_errors() {
    let signer = signer(1);
    let token = signer.issue(&claims_at(t0()));
    let [_, _, signature] = parts(&token);
    let key_file = signer.to_key_file();
    let seed = key_file
        .lines()
        .nth(1)
        .and_then(|line| line.split_once(':'))
        .map(|(_, seed)| seed.to_owned())
        .expect("a key line");
    let shown = format!(
        "{signer:?} {:?} {}",
        verify_at(&signer, &token, secs(10_000)),
        TokenRejection::Expired
    );
    assert!(!shown.contains(&seed[..12]), "{shown}");
    assert!(!shown.contains(&signature[..12]), "{shown}");
}
