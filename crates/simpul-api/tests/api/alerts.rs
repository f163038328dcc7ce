//! Suspicious-access rules wired into the hub: sign-in failures and refused reads raise
//! alerts that administrators list and acknowledge (the rules themselves are tested in
//! `simpul-watch`).

use axum::http::{Method, StatusCode};
use simpul_store::AuditStore;

use crate::helpers::TestApp;

async fn open_alerts(app: &TestApp, admin: &crate::helpers::Credentials) -> serde_json::Value {
    app.send_as(
        Some(admin),
        Method::GET,
        "/api/v1/admin/peringatan",
        None,
        Vec::new(),
    )
    .await
    .ok_json()
}

#[tokio::test]
async fn repeated_failed_sign_ins_raise_a_brute_force_alert_an_administrator_acknowledges() {
    let app = TestApp::spawn().await;
    app.provision_account("sri.operator", "operator", Some("35.77.01.1001"))
        .await;
    let admin = app.signed_in("admin", "administrator", None).await;
    assert_eq!(
        open_alerts(&app, &admin).await.as_array().map(Vec::len),
        Some(0)
    );
    for _ in 0..5 {
        let answer = app
            .sign_in_password("sri.operator", "bukan-kata-sandinya-1")
            .await;
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&answer.status),
            "{}",
            answer.text()
        );
    }
    let alerts = open_alerts(&app, &admin).await;
    let brute: Vec<&serde_json::Value> = alerts
        .as_array()
        .expect("list")
        .iter()
        .filter(|a| a["rule"] == "brute_force")
        .collect();
    assert_eq!(brute.len(), 1, "{alerts}");
    assert_eq!(brute[0]["subject"], "sri.operator");
    // Every attempt is in the access log, as a refused sign-in.
    let log = app.store.access_after(0, 1_000).await.expect("log");
    assert_eq!(
        log.iter()
            .filter(|e| e.record.action == "sign_in" && e.record.outcome == "denied")
            .count(),
        5
    );

    // The auditor sees alerts but does not acknowledge them.
    let auditor = app.signed_in("auditor", "auditor", None).await;
    assert_eq!(
        app.send_as(
            Some(&auditor),
            Method::GET,
            "/api/v1/admin/peringatan",
            None,
            Vec::new()
        )
        .await
        .status,
        StatusCode::OK
    );
    let id = brute[0]["id"].as_u64().expect("id");
    let path = format!("/api/v1/admin/peringatan/{id}/akui");
    app.send_as(Some(&auditor), Method::POST, &path, None, Vec::new())
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let acked = app
        .send_as(Some(&admin), Method::POST, &path, None, Vec::new())
        .await;
    assert_eq!(acked.status, StatusCode::NO_CONTENT, "{}", acked.text());
    app.send_as(Some(&admin), Method::POST, &path, None, Vec::new())
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let still_open = open_alerts(&app, &admin).await;
    assert!(
        still_open
            .as_array()
            .expect("list")
            .iter()
            .all(|a| a["id"].as_u64() != Some(id)),
        "{still_open}"
    );
    let all = app
        .send_as(
            Some(&admin),
            Method::GET,
            "/api/v1/admin/peringatan?terbuka=false",
            None,
            Vec::new(),
        )
        .await
        .ok_json();
    let done = all
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["id"].as_u64() == Some(id))
        .expect("still listed");
    assert_eq!(done["acknowledged_by"], "admin");
}

#[tokio::test]
async fn an_operator_probing_other_kelurahan_raises_a_denied_burst_alert() {
    let app = TestApp::spawn().await;
    let operator = app
        .signed_in("op.kartoharjo", "operator", Some("35.77.01.1001"))
        .await;
    let other = app.nik(1, 0);
    for _ in 0..20 {
        app.send_as(
            Some(&operator),
            Method::GET,
            &format!("/api/v1/penduduk/{other}"),
            None,
            Vec::new(),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    }
    let admin = app.signed_in("admin", "administrator", None).await;
    let alerts = open_alerts(&app, &admin).await;
    assert!(
        alerts
            .as_array()
            .expect("list")
            .iter()
            .any(|a| a["rule"] == "denied_burst" && a["subject"] == "op.kartoharjo"),
        "{alerts}"
    );
}
