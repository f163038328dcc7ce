//! OAuth 2.0 for agency systems: the client-credentials token endpoint, what a token may
//! and may not do, the JWKS, revocation (one token, or the whole client), and quotas.

use axum::http::{Method, StatusCode};
use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{Value, json};
use simpul_store::AuditStore;

use crate::helpers::{TestApp, TestResponse, basic_auth};

const CLIENT: &str = "dinsos-bansos";
const SCOPES: &str = "verify_nik verify_nik_batch";
const FORM: &str = "application/x-www-form-urlencoded";

/// An app with the dinsos client and agreement; returns the client's secret.
async fn app_with_client() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let secret = app.provision_client(CLIENT, SCOPES, None).await;
    app.dinsos_agreement().await;
    (app, secret)
}

fn oauth_error(response: &TestResponse, status: StatusCode, error: &str) {
    assert_eq!(response.status, status, "{}", response.text());
    assert_eq!(response.json()["error"], error, "{}", response.text());
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

/// The JSON of a token's header or payload.
fn segment(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(part).expect("base64url")).expect("JSON")
}

#[tokio::test]
async fn client_credentials_give_a_short_lived_bearer_token() {
    let (app, secret) = app_with_client().await;
    let answer = app
        .token_request(CLIENT, &secret, "grant_type=client_credentials")
        .await;
    let body = answer.ok_json();
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["scope"], SCOPES);
    let token = body["access_token"].as_str().expect("access_token");
    assert_eq!(token.split('.').count(), 3, "a compact JWS");
    let claims = segment(token, 1);
    assert_eq!(claims["client_id"], CLIENT);
    assert_eq!(claims["scope"], SCOPES);

    // The credentials may also come in the form body (RFC 6749 §2.3.1).
    let form = format!(
        "grant_type=client_credentials&client_id={CLIENT}&client_secret={secret}&scope=verify_nik"
    );
    let answer = app
        .send_headers(
            Method::POST,
            "/oauth/token",
            &[("content-type", FORM)],
            form.into_bytes(),
        )
        .await;
    assert_eq!(answer.ok_json()["scope"], "verify_nik");
}

#[tokio::test]
async fn the_token_endpoint_refuses_in_oauth_terms() {
    let (app, secret) = app_with_client().await;
    // The first character: all six of its bits are secret bytes, so changing it always
    // changes the secret (the last one also carries padding bits, and a change there
    // could decode to the same bytes).
    let other_first = if secret.starts_with('A') { "B" } else { "A" };
    let wrong = app
        .token_request(
            CLIENT,
            &format!("{other_first}{}", &secret[1..]),
            "grant_type=client_credentials",
        )
        .await;
    oauth_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(
        wrong
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Basic")),
        "{:?}",
        wrong.headers
    );
    assert!(!wrong.text().contains(&secret));
    let unknown = app
        .token_request("tidak-ada", &secret, "grant_type=client_credentials")
        .await;
    oauth_error(&unknown, StatusCode::UNAUTHORIZED, "invalid_client");
    let anonymous = app
        .send_headers(
            Method::POST,
            "/oauth/token",
            &[("content-type", FORM)],
            b"grant_type=client_credentials".to_vec(),
        )
        .await;
    oauth_error(&anonymous, StatusCode::UNAUTHORIZED, "invalid_client");
    let password = app
        .token_request(CLIENT, &secret, "grant_type=password&username=a&password=b")
        .await;
    oauth_error(&password, StatusCode::BAD_REQUEST, "unsupported_grant_type");
    let beyond = app
        .token_request(
            CLIENT,
            &secret,
            "grant_type=client_credentials&scope=verify_nik%20read_resident",
        )
        .await;
    oauth_error(&beyond, StatusCode::BAD_REQUEST, "invalid_scope");
}

#[tokio::test]
async fn a_token_verifies_niks_and_reads_nothing_else() {
    let (app, secret) = app_with_client().await;
    let token = app.bearer_token(CLIENT, &secret).await;
    let verdict = app
        .send_bearer(
            &token,
            Method::POST,
            "/api/v1/nik/verifikasi",
            Some(&app.claim(1, 0)),
        )
        .await
        .ok_json();
    assert_eq!(verdict["status_nik"], "terdaftar", "{verdict}");
    let batch = app
        .send_bearer(
            &token,
            Method::POST,
            "/api/v1/nik/verifikasi/batch",
            Some(&json!({"klaim": [app.claim(0, 0), app.claim(2, 1)]})),
        )
        .await
        .ok_json();
    assert_eq!(batch["ringkasan"]["sesuai_semua"], 2, "{batch}");

    // Its scope has no reads, whatever the agreement says.
    let denied = app
        .send_bearer(
            &token,
            Method::GET,
            &format!("/api/v1/penduduk/{}", app.nik(0, 0)),
            None,
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(denied["reason"], "insufficient_scope", "{denied}");
    let denied = app
        .send_bearer(&token, Method::GET, "/api/v1/admin/klien", None)
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(denied["reason"], "insufficient_scope", "{denied}");

    // A token narrowed to single checks cannot run a batch.
    let narrow = app
        .token_request(
            CLIENT,
            &secret,
            "grant_type=client_credentials&scope=verify_nik",
        )
        .await
        .ok_json();
    let narrow = narrow["access_token"].as_str().expect("token");
    let denied = app
        .send_bearer(
            narrow,
            Method::POST,
            "/api/v1/nik/verifikasi/batch",
            Some(&json!({"klaim": [app.claim(0, 0)]})),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(denied["reason"], "insufficient_scope", "{denied}");

    // Each refusal is in the access log under the client.
    let log = app.store.access_after(0, 10_000).await.expect("log");
    let refusals = log
        .iter()
        .filter(|e| {
            e.record.actor == CLIENT
                && e.record.actor_kind == "klien"
                && e.record.outcome == "denied"
                && e.record.reason.as_deref() == Some("insufficient_scope")
        })
        .count();
    assert_eq!(refusals, 3, "{log:?}");
}

#[tokio::test]
async fn a_token_without_an_agreement_verifies_nothing() {
    let app = TestApp::spawn().await;
    let secret = app.provision_client(CLIENT, SCOPES, None).await;
    let token = app.bearer_token(CLIENT, &secret).await;
    let denied = app
        .send_bearer(
            &token,
            Method::POST,
            "/api/v1/nik/verifikasi",
            Some(&app.claim(0, 0)),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(denied["reason"], "no_agreement", "{denied}");
}

#[tokio::test]
async fn a_tampered_or_foreign_token_is_invalid_token() {
    let (app, secret) = app_with_client().await;
    let token = app.bearer_token(CLIENT, &secret).await;
    let resident = format!("/api/v1/penduduk/{}", app.nik(0, 0));

    // Widen the scope in the payload, keep the signature.
    let mut claims = segment(&token, 1);
    claims["scope"] = json!("read_resident verify_nik verify_nik_batch");
    let parts: Vec<&str> = token.split('.').collect();
    let widened = format!(
        "{}.{}.{}",
        parts[0],
        Base64UrlUnpadded::encode_string(claims.to_string().as_bytes()),
        parts[2]
    );
    let body = app
        .send_bearer(&widened, Method::GET, &resident, None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(body["reason"], "token_signature_invalid", "{body}");

    // A token signed by another hub's key that happens to share the key id.
    let foreign = simpul_identity::AccessTokenSigner::generate(
        simpul_identity::SigningKeyId::parse("test").expect("key id"),
        &mut rand::rng(),
    );
    let forged = foreign.issue(&simpul_identity::AccessClaims::new(
        app.state.security.issuer.clone(),
        app.state.security.audience.clone(),
        simpul_identity::ClientId::parse(CLIENT).expect("client id"),
        simpul_identity::Scope::parse("read_resident").expect("scope"),
        chrono::Utc::now(),
        chrono::TimeDelta::minutes(5),
        &mut rand::rng(),
    ));
    let answer = app.send_bearer(&forged, Method::GET, &resident, None).await;
    let body = answer.problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(body["reason"], "token_signature_invalid", "{body}");
    assert!(
        answer
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer")),
        "{:?}",
        answer.headers
    );
    app.send_bearer("not.a.token", Method::GET, &resident, None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn the_jwks_publishes_the_key_tokens_name() {
    let (app, secret) = app_with_client().await;
    let token = app.bearer_token(CLIENT, &secret).await;
    let header = segment(&token, 0);
    let kid = header["kid"].as_str().expect("kid");
    let jwks = app
        .send_headers(Method::GET, "/.well-known/jwks.json", &[], Vec::new())
        .await
        .ok_json();
    let keys = jwks["keys"].as_array().expect("keys");
    let key = keys
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("no key {kid} in {jwks}"));
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert!(
        key.get("d").is_none(),
        "the private key stays private: {key}"
    );
}

#[tokio::test]
async fn a_revoked_token_stops_working() {
    let (app, secret) = app_with_client().await;
    let token = app.bearer_token(CLIENT, &secret).await;
    let other = app.bearer_token(CLIENT, &secret).await;
    let check = |token: String| {
        let app = &app;
        async move {
            app.send_bearer(
                &token,
                Method::POST,
                "/api/v1/nik/verifikasi",
                Some(&app.claim(0, 0)),
            )
            .await
        }
    };
    check(token.clone()).await.ok_json();

    // Another client cannot revoke it (RFC 7009 answers 200 all the same).
    let stranger = app.provision_client("dinsos-lain", SCOPES, None).await;
    let answer = app
        .send_headers(
            Method::POST,
            "/oauth/revoke",
            &[
                ("content-type", FORM),
                ("authorization", &basic_auth("dinsos-lain", &stranger)),
            ],
            format!("token={token}").into_bytes(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    check(token.clone()).await.ok_json();

    // Revoking needs the client's own credentials.
    let answer = app
        .send_headers(
            Method::POST,
            "/oauth/revoke",
            &[("content-type", FORM)],
            format!("token={token}").into_bytes(),
        )
        .await;
    oauth_error(&answer, StatusCode::UNAUTHORIZED, "invalid_client");
    check(token.clone()).await.ok_json();

    let answer = app
        .send_headers(
            Method::POST,
            "/oauth/revoke",
            &[
                ("content-type", FORM),
                ("authorization", &basic_auth(CLIENT, &secret)),
            ],
            format!("token={token}&token_type_hint=access_token").into_bytes(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let body = check(token)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(body["reason"], "token_revoked", "{body}");
    // Only that token: the client's other token still works.
    check(other).await.ok_json();
}

#[tokio::test]
async fn revoking_the_client_ends_all_its_tokens() {
    let (app, secret) = app_with_client().await;
    let first = app.bearer_token(CLIENT, &secret).await;
    let second = app.bearer_token(CLIENT, &secret).await;
    let admin = app.signed_in("admin.hub", "administrator", None).await;
    let revoke = format!("/api/v1/admin/klien/{CLIENT}/cabut");
    let answer = app.send_session(&admin, Method::POST, &revoke, None).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());

    for token in [&first, &second] {
        let body = app
            .send_bearer(
                token,
                Method::POST,
                "/api/v1/nik/verifikasi",
                Some(&app.claim(0, 0)),
            )
            .await
            .problem(StatusCode::UNAUTHORIZED, "invalid_token");
        assert_eq!(body["reason"], "client_revoked", "{body}");
    }
    let again = app
        .token_request(CLIENT, &secret, "grant_type=client_credentials")
        .await;
    oauth_error(&again, StatusCode::UNAUTHORIZED, "invalid_client");
    let listed = app
        .send_session(&admin, Method::GET, "/api/v1/admin/klien", None)
        .await
        .ok_json();
    let listed = listed
        .as_array()
        .expect("clients")
        .iter()
        .find(|c| c["client_id"] == CLIENT)
        .cloned()
        .expect("the client is still listed");
    assert!(listed["dicabut"].is_string(), "{listed}");
    assert!(listed.get("client_secret").is_none(), "{listed}");
}

#[tokio::test]
async fn a_client_past_its_quota_is_rate_limited() {
    let app = TestApp::spawn().await;
    let secret = app.provision_client("dinsos-kecil", SCOPES, Some(2)).await;
    app.dinsos_agreement().await;
    // The token request is the first request of the minute, the check the second.
    let token = app.bearer_token("dinsos-kecil", &secret).await;
    let check = || async {
        app.send_bearer(
            &token,
            Method::POST,
            "/api/v1/nik/verifikasi",
            Some(&app.claim(0, 0)),
        )
        .await
    };
    check().await.ok_json();
    let refused = check().await;
    refused.problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let wait: u64 = refused
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=30).contains(&wait), "{wait}");
    // Other clients keep their own quota.
    let other = app.provision_client("dinsos-besar", SCOPES, None).await;
    let token = app.bearer_token("dinsos-besar", &other).await;
    app.send_bearer(
        &token,
        Method::POST,
        "/api/v1/nik/verifikasi",
        Some(&app.claim(0, 0)),
    )
    .await
    .ok_json();
}

#[tokio::test]
async fn an_unreadable_form_is_invalid_request() {
    let (app, secret) = app_with_client().await;
    let authorization = basic_auth(CLIENT, &secret);
    for uri in ["/oauth/token", "/oauth/revoke"] {
        for (content_type, body) in [
            (FORM, "scope=verify_nik".to_owned()),
            (
                "application/json",
                format!(r#"{{"grant_type":"client_credentials","token":"{secret}"}}"#),
            ),
            (
                FORM,
                format!("grant_type=client_credentials&grant_type=password&token={secret}&token=x"),
            ),
        ] {
            let answer = app
                .send_headers(
                    Method::POST,
                    uri,
                    &[
                        ("content-type", content_type),
                        ("authorization", &authorization),
                    ],
                    body.into_bytes(),
                )
                .await;
            oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
            assert!(!answer.text().contains(&secret), "{}", answer.text());
        }
    }
}
