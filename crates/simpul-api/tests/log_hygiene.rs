//! Personal data never reaches a log line: every kind of request, good and bad, with NIKs
//! and names in paths, queries and bodies, while every log event at every level is
//! captured. Failures that quote their input (serde's messages, a NIK in a problem
//! detail) are exactly what this catches.
//!
//! A test binary of its own, against the one-binary-per-crate habit: `tracing` caches per
//! call site whether anyone listens, process-wide, so tests running beside this one on
//! other threads without a subscriber can switch its capture off.

#[allow(
    dead_code,
    reason = "shared with the api suite; this binary needs only a few helpers"
)]
#[path = "api/helpers.rs"]
mod helpers;

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

use helpers::TestApp;

/// Log output gathered in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

// Current-thread runtime: the handlers and the coalescing workers run on this thread, so
// the thread-local subscriber sees all of their events.
fn claim_body(nik: &str) -> String {
    json!({"nik": nik, "nama": "Budi Santoso", "tanggal_lahir": "1980-03-14"}).to_string()
}

#[tokio::test(flavor = "current_thread")]
async fn no_request_puts_personal_data_in_the_log() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::spawn().await;
    let head = app.families[0].members[0].clone();
    let nik = head.nik.to_string();
    let no_kk = head.no_kk.to_string();
    let birth = head.birth_date.to_string();
    let claim = json!({"nik": nik, "nama": head.full_name, "tanggal_lahir": birth,
                       "nama_ibu": head.mother_name, "tempat_lahir": head.birth_place});

    let statuses = [
        app.get(&format!("/api/v1/penduduk/{nik}")).await.status,
        app.get(&format!("/api/v1/keluarga/{no_kk}")).await.status,
        app.get("/api/v1/penduduk?nama=Budi%20Santoso&kelurahan=35.77")
            .await
            .status,
        app.get(&format!("/api/v1/penduduk?tanggal_lahir={birth}"))
            .await
            .status,
        app.post_json("/api/v1/nik/verifikasi", &claim).await.status,
        app.post_json("/api/v1/nik/verifikasi/batch", &json!({ "klaim": [claim.clone(), claim] }))
            .await
            .status,
        // Failures that could quote what was sent.
        app.get(&format!("/api/v1/penduduk/{nik}x")).await.status,
        app.post_json("/api/v1/nik/verifikasi", &json!({"nik": nik.parse::<u64>().ok(), "nama": "Budi Santoso", "tanggal_lahir": birth}))
            .await
            .status,
        app.post_json("/api/v1/nik/verifikasi", &json!({"nik": nik, "nama": "Budi Santoso", "tanggal_lahir": "Budi Santoso"}))
            .await
            .status,
        app.post_json("/api/v1/nik/verifikasi", &json!({"nik": nik, "nama": "Budi Santoso", "tanggal_lahir": birth, "Painem": 1}))
            .await
            .status,
        app.post_raw(
            "/api/v1/nik/verifikasi",
            Some("application/json"),
            format!("{{\"nik\": \"{nik}\", \"nama\": \"Budi Santoso\"").into_bytes(),
        )
        .await
        .status,
        app.get(&format!("/api/v1/penduduk?nama=Budi&{nik}=1")).await.status,
    ];
    assert_eq!(
        statuses.iter().filter(|s| s.is_success()).count(),
        6,
        "{statuses:?}"
    );

    // Sign-in, enrolment, tokens: none of the secrets they carry may be logged.
    let password = "kata-sandi-rahasia-sekali";
    simpul_api::auth::provision::create_account(
        app.store.as_ref(),
        &app.state.security.hasher,
        simpul_api::auth::provision::NewAccount {
            username: "rahasia.operator".into(),
            display_name: "Operator".into(),
            role: "operator".into(),
            scope: Some("35.77.01.1001".into()),
            password: zeroize::Zeroizing::new(password.into()),
        },
    )
    .await
    .expect("account");
    let signed = app
        .send_as(
            None,
            axum::http::Method::POST,
            "/api/v1/sesi",
            Some("application/json"),
            json!({"nama_pengguna": "rahasia.operator", "kata_sandi": password})
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_eq!(signed.status, 200, "{}", signed.text());
    let wrong = app
        .send_as(
            None,
            axum::http::Method::POST,
            "/api/v1/sesi",
            Some("application/json"),
            json!({"nama_pengguna": "rahasia.operator", "kata_sandi": "salah-kata-sandi-99"})
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let csrf = signed.json()["csrf_token"]
        .as_str()
        .expect("csrf")
        .to_owned();
    let cookie = signed
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("cookie")
        .to_owned();
    let pending = helpers::Credentials {
        cookie: cookie.clone(),
        csrf: csrf.clone(),
    };
    let enrolment = app
        .send_as(
            Some(&pending),
            axum::http::Method::POST,
            "/api/v1/sesi/totp/daftar",
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(enrolment.status, 200, "{}", enrolment.text());
    let uri = enrolment.json()["otpauth_uri"]
        .as_str()
        .expect("uri")
        .to_owned();
    let totp_secret = uri
        .split("secret=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .expect("secret")
        .to_owned();
    let (client, client_secret) = simpul_api::auth::provision::create_client(
        app.store.as_ref(),
        simpul_api::auth::provision::NewClient {
            client_id: "rahasia-klien".into(),
            name: "Klien".into(),
            agency: "dinsos".into(),
            scopes: "verify_nik".into(),
            rate_limit_per_minute: None,
        },
    )
    .await
    .expect("client");
    let token = app
        .send_as(
            None,
            axum::http::Method::POST,
            "/oauth/token",
            Some("application/x-www-form-urlencoded"),
            format!(
                "grant_type=client_credentials&client_id={}&client_secret={}",
                client.client_id,
                client_secret.as_str()
            )
            .into_bytes(),
        )
        .await;
    assert_eq!(token.status, 200, "{}", token.text());
    let access_token = token.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut request = axum::http::Request::builder()
        .method(axum::http::Method::POST)
        .uri("/api/v1/nik/verifikasi")
        .header("authorization", format!("Bearer {access_token}x"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(claim_body(&nik)))
        .expect("request");
    request
        .headers_mut()
        .insert("x-tujuan", "uji".parse().expect("header"));
    assert_eq!(app.request(request).await.status, 401);

    let log = captured.text();
    for secret in [
        password,
        "salah-kata-sandi-99",
        totp_secret.as_str(),
        client_secret.as_str(),
        access_token.as_str(),
        cookie.trim_start_matches("simpul_sesi="),
        csrf.as_str(),
    ] {
        assert!(!log.contains(secret), "a secret reached the log:\n{log}");
    }
    assert!(
        log.matches("served").count() >= statuses.len(),
        "the access log did write a line per request:\n{log}"
    );
    for secret in [
        nik.as_str(),
        no_kk.as_str(),
        birth.as_str(),
        "Budi",
        "Santoso",
        "Painem",
        "Madiun\"",
    ] {
        assert!(!log.contains(secret), "{secret:?} reached the log:\n{log}");
    }
}
