//! The problem code table: every client-visible code is reachable, documented, and
//! answered as problem+json; routing failures (404, 405, unreadable path) go through it.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode, header};
use serde_json::json;
use simpul_api::problem::ProblemCode;

use crate::helpers::{
    Credentials, PASSWORD, TestApp, TestResponse, assert_problem_shape, totp_of, wrong_code,
};

/// Codes this suite cannot provoke with a request to a healthy read-only API:
/// `internal` needs a bug, `store_unavailable` a broken store (see `ops`), and
/// `write_conflict` a race between writers, and `rule_violation` a registration the
/// registry contradicts after verification (tested in the store's contract suite).
const NOT_REACHABLE_BY_REQUEST: [ProblemCode; 4] = [
    ProblemCode::Internal,
    ProblemCode::StoreUnavailable,
    ProblemCode::WriteConflict,
    ProblemCode::RuleViolation,
];

#[tokio::test]
async fn every_client_code_is_produced_by_some_request() {
    let app = TestApp::spawn().await;
    let claim = json!({"nik": app.nik(0, 0), "nama": "A", "tanggal_lahir": "1980-03-14"});
    let mut answers: Vec<TestResponse> = Vec::new();
    for uri in [
        "/api/v1/penduduk/123",
        "/api/v1/keluarga/123",
        "/api/v1/wilayah/3.5",
        "/api/v1/penduduk?halaman=0",
        "/api/v1/penduduk/%FF%FE",
        "/api/v1/penduduk/3577011403809999",
        "/api/v1/keluarga/3577012501159999",
        "/api/v1/wilayah/35.99",
        "/api/v1/tidak-ada",
    ] {
        answers.push(app.get(uri).await);
    }
    let batch = "/api/v1/nik/verifikasi/batch";
    answers.push(
        app.post_raw(batch, Some("application/json"), b"{".to_vec())
            .await,
    );
    answers.push(app.post_json(batch, &json!({"klaim": 1})).await);
    answers.push(app.post_raw(batch, None, b"{}".to_vec()).await);
    answers.push(
        app.post_raw(batch, Some("application/json"), vec![b' '; 5 * 1024 * 1024])
            .await,
    );
    answers.push(
        app.post_json(batch, &json!({"klaim": vec![claim; 10_001]}))
            .await,
    );
    answers.push(app.post_json(batch, &json!({"klaim": []})).await);
    answers.push(app.send(Method::DELETE, "/healthz", None, Vec::new()).await);
    answers.extend(authentication_problems(&app).await);
    answers.extend(administration_problems(&app).await);
    answers.extend(crate::lampid::refusals(&app).await.0);
    answers.extend(crate::ledger::refusals(&TestApp::spawn().await).await);

    let mut produced = BTreeSet::new();
    for answer in &answers {
        assert_problem_shape(answer);
        let code = answer.json()["code"].as_str().expect("code").to_owned();
        let row = ProblemCode::ALL
            .iter()
            .find(|c| c.as_str() == code)
            .unwrap_or_else(|| panic!("{code} is not in the table"));
        assert_eq!(answer.status, row.status(), "{code}");
        assert_eq!(answer.json()["title"], row.title(), "{code}");
        produced.insert(code);
    }
    let expected: BTreeSet<String> = ProblemCode::ALL
        .iter()
        .filter(|c| !NOT_REACHABLE_BY_REQUEST.contains(c))
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(produced, expected);
}

/// Requests refused on who is calling: no caller, a dead session or token, a failed
/// sign-in step, a refusal of the gate, a missing CSRF token or purpose, a throttle.
async fn authentication_problems(app: &TestApp) -> Vec<TestResponse> {
    let resident = format!("/api/v1/penduduk/{}", app.nik(0, 0));
    let mut answers = Vec::new();
    // unauthenticated, session_expired, invalid_token
    answers.push(
        app.send_as(None, Method::GET, &resident, None, Vec::new())
            .await,
    );
    answers.push(
        app.send_headers(
            Method::GET,
            &resident,
            &[("cookie", "simpul_sesi=bukan-sesi")],
            Vec::new(),
        )
        .await,
    );
    answers.push(
        app.send_headers(
            Method::GET,
            &resident,
            &[("authorization", "Bearer bukan.token.sah")],
            Vec::new(),
        )
        .await,
    );
    // invalid_credentials
    answers.push(app.sign_in_password("tidak.ada", PASSWORD).await);
    // second_factor_required, csrf_failed, invalid_second_factor: a pending session.
    app.provision_account("operator.taman", "operator", Some("35.77.01.1001"))
        .await;
    let (pending, _) = app.pending_session("operator.taman", PASSWORD).await;
    answers.push(
        app.send_as(Some(&pending), Method::GET, &resident, None, Vec::new())
            .await,
    );
    let enrol = "/api/v1/sesi/totp/daftar";
    let no_csrf = Credentials {
        cookie: pending.cookie.clone(),
        csrf: String::new(),
    };
    answers.push(app.send_session(&no_csrf, Method::POST, enrol, None).await);
    let enrolment = app
        .send_session(&pending, Method::POST, enrol, None)
        .await
        .ok_json();
    let totp = totp_of(
        enrolment["otpauth_uri"].as_str().expect("uri"),
        "operator.taman",
    );
    answers.push(
        app.send_session(
            &pending,
            Method::POST,
            "/api/v1/sesi/totp",
            Some(&json!({"kode": wrong_code(&totp)})),
        )
        .await,
    );
    // forbidden: an operator reading another kelurahan's resident.
    let elsewhere = app
        .signed_in("operator.lain", "operator", Some("35.77.02.1006"))
        .await;
    answers.push(
        app.send_as(Some(&elsewhere), Method::GET, &resident, None, Vec::new())
            .await,
    );
    // purpose_required: a read of personal data without X-Tujuan.
    answers.push(
        app.send_headers(
            Method::GET,
            &resident,
            &[("cookie", app.caller.cookie.as_str())],
            Vec::new(),
        )
        .await,
    );
    // account_locked: wrong passwords until the throttle answers.
    app.provision_account("operator.kedua", "operator", Some("35.77.01.1001"))
        .await;
    for _ in 0..11 {
        let answer = app
            .sign_in_password("operator.kedua", "salah-salah-salah-1")
            .await;
        let locked = answer.status == StatusCode::TOO_MANY_REQUESTS;
        answers.push(answer);
        if locked {
            break;
        }
    }
    // rate_limited: a client allowed one request a minute asks twice.
    let secret = app
        .provision_client("dinsos-kecil", "verify_nik", Some(1))
        .await;
    for _ in 0..2 {
        let answer = app
            .token_request("dinsos-kecil", &secret, "grant_type=client_credentials")
            .await;
        if answer.status != StatusCode::OK {
            answers.push(answer);
        }
    }
    answers
}

/// Requests an administrator gets wrong: a weak password, a taken name, an unknown client.
async fn administration_problems(app: &TestApp) -> Vec<TestResponse> {
    let admin = app.signed_in("admin.kota", "administrator", None).await;
    let account = |password: &str| {
        json!({
            "nama_pengguna": "operator.baru",
            "nama_tampilan": "Operator Baru",
            "peran": "operator",
            "wilayah": "35.77.01.1001",
            "kata_sandi": password,
        })
    };
    let accounts = "/api/v1/admin/akun";
    let mut answers = Vec::new();
    answers.push(
        app.send_session(&admin, Method::POST, accounts, Some(&account("pendek")))
            .await,
    );
    let created = app
        .send_session(&admin, Method::POST, accounts, Some(&account(PASSWORD)))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    answers.push(
        app.send_session(&admin, Method::POST, accounts, Some(&account(PASSWORD)))
            .await,
    );
    answers.push(
        app.send_session(
            &admin,
            Method::POST,
            "/api/v1/admin/klien/tidak-ada/cabut",
            None,
        )
        .await,
    );
    answers
}

#[tokio::test]
async fn the_table_is_published_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json").await.ok_json();
    let schema = &doc["components"]["schemas"]["ProblemCode"];
    let description = schema["description"].as_str().expect("description");
    let listed: Vec<&str> = schema["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for code in ProblemCode::ALL {
        let row = format!(
            "| `{}` | {} | {} |",
            code.as_str(),
            code.status().as_u16(),
            code.title()
        );
        assert!(
            description.contains(&row),
            "{row} missing from {description}"
        );
        assert!(listed.contains(&code.as_str()), "{code:?} not in the enum");
    }
}

#[tokio::test]
async fn unknown_routes_are_route_not_found() {
    let app = TestApp::spawn().await;
    for uri in [
        "/api",
        "/api/v2/penduduk",
        "/api/v1/penduduk/",
        "/api/v1/penduduk/3577011403800001/keluarga",
        "/docs/tidak-ada.js",
        "/openapi.yaml",
    ] {
        let response = app.get(uri).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(!response.content_type().is_empty(), "{uri}");
        response.problem(StatusCode::NOT_FOUND, "route_not_found");
    }
}

#[tokio::test]
async fn wrong_methods_are_method_not_allowed_with_allow() {
    let app = TestApp::spawn().await;
    for (method, uri, allowed) in [
        (Method::DELETE, "/api/v1/penduduk/3577011403800001", "GET"),
        (Method::POST, "/api/v1/wilayah", "GET"),
        (Method::GET, "/api/v1/nik/verifikasi", "POST"),
        (Method::PUT, "/api/v1/nik/verifikasi/batch", "POST"),
        (Method::POST, "/openapi.json", "GET"),
    ] {
        let response = app.send(method.clone(), uri, None, Vec::new()).await;
        response.problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        let allow = response
            .headers
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(allow.contains(allowed), "{method} {uri}: Allow = {allow:?}");
    }
}

#[tokio::test]
async fn an_unreadable_path_segment_is_invalid_path() {
    let app = TestApp::spawn().await;
    for (uri, field) in [
        ("/api/v1/penduduk/%FF", "nik"),
        ("/api/v1/keluarga/3577%C0%AF", "no_kk"),
        ("/api/v1/wilayah/%E2%82/anak", "kode"),
    ] {
        let body = app
            .get(uri)
            .await
            .problem(StatusCode::BAD_REQUEST, "invalid_path");
        assert_eq!(body["field"], field, "{uri}");
    }
    // The documentation routes answer through the same table.
    app.get("/docs/%FF")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_path");
}
