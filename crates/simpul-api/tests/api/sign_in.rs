//! Signing in through HTTP: password, TOTP enrolment with recovery codes, the second
//! factor, session rotation, replay protection, sign-out, throttling and expiry.

use axum::http::{Method, StatusCode};
use chrono::{TimeDelta, Utc};
use serde_json::json;
use simpul_identity::{LoginThrottle, SessionToken, ThrottlePolicy};
use simpul_store::{IdentityStore, SessionRecord};

use crate::helpers::{Credentials, PASSWORD, TestApp, totp_of, wrong_code};

const OPERATOR: &str = "operator.taman";

/// An operator of family 0's kelurahan, made through provisioning (not enrolled).
async fn app_with_operator() -> TestApp {
    let app = TestApp::spawn().await;
    app.provision_account(OPERATOR, "operator", Some("35.77.01.1001"))
        .await;
    app
}

#[tokio::test]
async fn the_two_step_sign_in_enrols_totp_and_rotates_the_session() {
    let app = app_with_operator().await;
    let resident = format!("/api/v1/penduduk/{}", app.nik(0, 0));

    // Password step: a pending session in a hardened cookie.
    let signed = app.sign_in_password(OPERATOR, PASSWORD).await;
    let state = signed.ok_json();
    assert_eq!(state["tahap"], "daftar_totp", "{state}");
    assert_eq!(state["peran"], "operator");
    assert_eq!(state["wilayah"], "35.77.01.1001");
    assert!(state.get("kode_pemulihan").is_none(), "{state}");
    let line = signed
        .set_cookie("simpul_sesi")
        .expect("Set-Cookie simpul_sesi");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Strict"), "{line}");
    assert!(line.contains("Path=/"), "{line}");
    let pending = Credentials {
        cookie: signed.session_cookie().expect("cookie"),
        csrf: state["csrf_token"].as_str().expect("csrf_token").to_owned(),
    };
    assert!(!pending.csrf.is_empty());

    // A pending session reads nothing.
    app.send_as(Some(&pending), Method::GET, &resident, None, Vec::new())
        .await
        .problem(StatusCode::FORBIDDEN, "second_factor_required");

    // Enrolment is a change: it needs the CSRF token.
    app.send_headers(
        Method::POST,
        "/api/v1/sesi/totp/daftar",
        &[("cookie", &pending.cookie)],
        Vec::new(),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "csrf_failed");
    let enrolment = app
        .send_session(&pending, Method::POST, "/api/v1/sesi/totp/daftar", None)
        .await
        .ok_json();
    let uri = enrolment["otpauth_uri"].as_str().expect("otpauth_uri");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains("secret="), "{uri}");
    let svg = enrolment["qr_svg"].as_str().expect("qr_svg");
    assert!(svg.starts_with("<svg") && svg.contains("</svg>"), "{svg}");
    let totp = totp_of(uri, OPERATOR);

    // A wrong code is refused and the session stays pending.
    let second = "/api/v1/sesi/totp";
    app.send_session(
        &pending,
        Method::POST,
        second,
        Some(&json!({"kode": wrong_code(&totp)})),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "invalid_second_factor");
    app.send_as(Some(&pending), Method::GET, &resident, None, Vec::new())
        .await
        .problem(StatusCode::FORBIDDEN, "second_factor_required");

    // The right code signs in, shows ten recovery codes once, and issues a new session.
    let code = totp.code_at(Utc::now()).expect("code").to_string();
    let done = app
        .send_session(&pending, Method::POST, second, Some(&json!({"kode": code})))
        .await;
    let state = done.ok_json();
    assert_eq!(state["tahap"], "masuk", "{state}");
    let recovery: Vec<String> = state["kode_pemulihan"]
        .as_array()
        .expect("kode_pemulihan")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    assert_eq!(recovery.len(), 10, "{state}");
    let full = Credentials {
        cookie: done.session_cookie().expect("new cookie"),
        csrf: state["csrf_token"].as_str().expect("csrf").to_owned(),
    };
    assert_ne!(full.cookie, pending.cookie, "the token must rotate");
    assert_ne!(full.csrf, pending.csrf, "the CSRF token must rotate");

    // The pending token is worth nothing now.
    app.send_as(Some(&pending), Method::GET, &resident, None, Vec::new())
        .await
        .problem(StatusCode::UNAUTHORIZED, "session_expired");
    app.send_session(&pending, Method::POST, second, Some(&json!({"kode": code})))
        .await
        .problem(StatusCode::UNAUTHORIZED, "session_expired");

    // The full session reads family 0's resident (its own kelurahan)...
    let body = app
        .send_as(Some(&full), Method::GET, &resident, None, Vec::new())
        .await
        .ok_json();
    assert_eq!(body["nik"], app.nik(0, 0));
    // ...and its changes need its own CSRF token, not the pending session's.
    let stale = Credentials {
        cookie: full.cookie.clone(),
        csrf: pending.csrf.clone(),
    };
    app.send_session(&stale, Method::DELETE, "/api/v1/sesi", None)
        .await
        .problem(StatusCode::FORBIDDEN, "csrf_failed");

    // Enrolment happens once.
    let (again, stage) = app.pending_session(OPERATOR, PASSWORD).await;
    assert_eq!(stage, "totp");
    app.send_session(&again, Method::POST, "/api/v1/sesi/totp/daftar", None)
        .await
        .problem(StatusCode::CONFLICT, "already_exists");

    // Sign-out ends the session on the server: the cookie is dead afterwards.
    let out = app
        .send_session(&full, Method::DELETE, "/api/v1/sesi", None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text());
    let cleared = out
        .set_cookie("simpul_sesi")
        .expect("the cookie is cleared");
    assert!(
        cleared.starts_with("simpul_sesi=;") || cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    app.send_as(Some(&full), Method::GET, &resident, None, Vec::new())
        .await
        .problem(StatusCode::UNAUTHORIZED, "session_expired");
}

#[tokio::test]
async fn a_totp_code_is_accepted_once() {
    let app = app_with_operator().await;
    let enrolled = app.sign_in_enrolling(OPERATOR, PASSWORD).await;
    let (pending, stage) = app.pending_session(OPERATOR, PASSWORD).await;
    assert_eq!(stage, "totp");
    // The code that completed enrolment, replayed within its validity window.
    app.send_session(
        &pending,
        Method::POST,
        "/api/v1/sesi/totp",
        Some(&json!({"kode": enrolled.first_code})),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "invalid_second_factor");
    let resident = format!("/api/v1/penduduk/{}", app.nik(0, 0));
    app.send_as(Some(&pending), Method::GET, &resident, None, Vec::new())
        .await
        .problem(StatusCode::FORBIDDEN, "second_factor_required");
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = app_with_operator().await;
    let enrolled = app.sign_in_enrolling(OPERATOR, PASSWORD).await;
    assert_eq!(enrolled.recovery_codes.len(), 10);
    let code = &enrolled.recovery_codes[3];
    let resident = format!("/api/v1/penduduk/{}", app.nik(0, 0));
    app.send_as(
        Some(&enrolled.credentials),
        Method::GET,
        &resident,
        None,
        Vec::new(),
    )
    .await
    .ok_json();

    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let (pending, _) = app.pending_session(OPERATOR, PASSWORD).await;
        let answer = app
            .send_session(
                &pending,
                Method::POST,
                "/api/v1/sesi/totp",
                Some(&json!({"kode_pemulihan": code})),
            )
            .await;
        outcomes.push(answer);
    }
    let first = outcomes[0].ok_json();
    assert_eq!(first["tahap"], "masuk", "{first}");
    assert!(
        first.get("kode_pemulihan").is_none(),
        "codes are shown only at enrolment: {first}"
    );
    let full = Credentials {
        cookie: outcomes[0].session_cookie().expect("cookie"),
        csrf: first["csrf_token"].as_str().expect("csrf").to_owned(),
    };
    app.send_as(Some(&full), Method::GET, &resident, None, Vec::new())
        .await
        .ok_json();
    outcomes[1].problem(StatusCode::UNAUTHORIZED, "invalid_second_factor");
}

#[tokio::test]
async fn wrong_passwords_lead_to_account_locked_with_retry_after() {
    let app = app_with_operator().await;
    let mut attempts = 0;
    let refusal = loop {
        attempts += 1;
        assert!(attempts <= 11, "no 429 after 11 wrong passwords");
        let answer = app.sign_in_password(OPERATOR, "salah-salah-salah-1").await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            break answer;
        }
        answer.problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    };
    assert!(attempts > 1, "the first wrong password is not throttled");
    refusal.problem(StatusCode::TOO_MANY_REQUESTS, "account_locked");
    let wait: u64 = refusal
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(wait >= 1, "{wait}");
    // The wrong-password answers set no session.
    assert!(refusal.session_cookie().is_none());
}

#[tokio::test]
async fn a_locked_account_refuses_even_the_right_password() {
    let app = app_with_operator().await;
    // Ten failures now: the default policy locks for 15 minutes.
    let policy = ThrottlePolicy::default();
    let mut throttle = LoginThrottle::new();
    for _ in 0..policy.lockout_failures {
        let _ = throttle.record_failure(&policy, Utc::now());
    }
    let mut account = app
        .store
        .account(OPERATOR)
        .await
        .expect("read")
        .expect("account");
    account.throttle = serde_json::to_string(&throttle).expect("throttle");
    app.store.save_account(&account).await.expect("save");

    let refused = app.sign_in_password(OPERATOR, PASSWORD).await;
    refused.problem(StatusCode::TOO_MANY_REQUESTS, "account_locked");
    assert!(refused.session_cookie().is_none());
    let wait: u64 = refused
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(
        (14 * 60..=15 * 60).contains(&wait),
        "the lockout's remaining time: {wait}"
    );
}

#[tokio::test]
async fn an_unknown_user_is_invalid_credentials() {
    let app = app_with_operator().await;
    let answer = app.sign_in_password("tidak.ada", PASSWORD).await;
    let body = answer.problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert!(answer.session_cookie().is_none());
    // The same answer as a wrong password: nothing tells which user names exist.
    let wrong = app.sign_in_password(OPERATOR, "salah-salah-salah-1").await;
    let wrong_body = wrong.problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(body["detail"], wrong_body["detail"]);
}

#[tokio::test]
async fn a_never_enrolled_account_cannot_use_data() {
    let app = app_with_operator().await;
    for _ in 0..2 {
        let (pending, stage) = app.pending_session(OPERATOR, PASSWORD).await;
        assert_eq!(stage, "daftar_totp");
        for uri in [
            format!("/api/v1/penduduk/{}", app.nik(0, 0)),
            format!("/api/v1/keluarga/{}", app.families[0].no_kk),
            "/api/v1/penduduk?kelurahan=35.77.01.1001".to_owned(),
        ] {
            app.send_as(Some(&pending), Method::GET, &uri, None, Vec::new())
                .await
                .problem(StatusCode::FORBIDDEN, "second_factor_required");
        }
        app.send_as(
            Some(&pending),
            Method::POST,
            "/api/v1/nik/verifikasi",
            Some("application/json"),
            serde_json::to_vec(&app.claim(0, 0)).expect("claim"),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "second_factor_required");
        // Before enrolment there is no second factor to give, not even a recovery code.
        app.send_session(
            &pending,
            Method::POST,
            "/api/v1/sesi/totp",
            Some(&json!({"kode": "123456"})),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "second_factor_required");
    }
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = app_with_operator().await;
    let _ = app.sign_in_enrolling(OPERATOR, PASSWORD).await;
    let now = Utc::now();
    let idle = session_seen(
        &app,
        now - TimeDelta::minutes(40),
        now - TimeDelta::minutes(31),
    )
    .await;
    let resident = format!("/api/v1/penduduk/{}", app.nik(0, 0));
    app.send_as(Some(&idle), Method::GET, &resident, None, Vec::new())
        .await
        .problem(StatusCode::UNAUTHORIZED, "session_expired");
    let token = idle.cookie.trim_start_matches("simpul_sesi=");
    let hash = SessionToken::from_cookie_value(token)
        .expect("token")
        .hash();
    assert!(
        app.store
            .session(&hash.to_hex())
            .await
            .expect("read")
            .is_none(),
        "an expired session is removed"
    );
    // A session used 29 minutes ago still works: the refusal above is the idle timeout.
    let recent = session_seen(
        &app,
        now - TimeDelta::minutes(40),
        now - TimeDelta::minutes(29),
    )
    .await;
    app.send_as(Some(&recent), Method::GET, &resident, None, Vec::new())
        .await
        .ok_json();
}

/// A fully signed-in session of [`OPERATOR`] made straight in the store with these times.
async fn session_seen(
    app: &TestApp,
    created_at: chrono::DateTime<Utc>,
    last_seen_at: chrono::DateTime<Utc>,
) -> Credentials {
    let token = SessionToken::generate(&mut rand::rng());
    let csrf = SessionToken::generate(&mut rand::rng());
    app.store
        .create_session(&SessionRecord {
            token_hash: token.hash().to_hex(),
            username: OPERATOR.to_owned(),
            csrf_hash: csrf.hash().to_hex(),
            second_factor_done: true,
            created_at,
            last_seen_at,
        })
        .await
        .expect("session");
    Credentials {
        cookie: format!("simpul_sesi={}", token.to_cookie_value().as_str()),
        csrf: csrf.to_cookie_value().to_string(),
    }
}

#[tokio::test]
async fn a_session_past_its_absolute_lifetime_expires() {
    let app = app_with_operator().await;
    let _ = app.sign_in_enrolling(OPERATOR, PASSWORD).await;
    let now = Utc::now();
    let old = session_seen(&app, now - TimeDelta::hours(10), now).await;
    app.send_as(
        Some(&old),
        Method::GET,
        "/api/v1/penduduk?kelurahan=35.77.01.1001",
        None,
        Vec::new(),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "session_expired");
}
