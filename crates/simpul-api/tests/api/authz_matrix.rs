//! The authorization matrix through HTTP: every route that asks for a caller, requested by
//! each kind of caller, answers what the domain policy says, and the access log holds a
//! `denied` entry for every refusal and an `allowed` entry (blind indexes, never a NIK)
//! for every personal-data read.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use chrono::NaiveDate;
use serde_json::{Value, json};
use simpul_domain::lampid::LampidPayload;
use simpul_domain::{KodeWilayah, Nik, Sex};
use simpul_store::{AccessEntry, AlertRecord, AuditStore, LampidCommand, Store};

use crate::helpers::{Credentials, PASSWORD, TestApp, TestResponse};

/// What one caller gets from one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 401 `unauthenticated`: no session, no token.
    Anonymous,
    /// The route's success status, or 404 for a lookup that misses.
    Status(StatusCode),
    /// 403 `forbidden` from the gate, with this deny code as `reason`.
    Denied(&'static str),
}

const ANON: Expect = Expect::Anonymous;
const OK: Expect = Expect::Status(StatusCode::OK);
const CREATED: Expect = Expect::Status(StatusCode::CREATED);
const DONE: Expect = Expect::Status(StatusCode::NO_CONTENT);
const MISSING: Expect = Expect::Status(StatusCode::NOT_FOUND);
const OUTSIDE: Expect = Expect::Denied("outside_jurisdiction");
const LACKS: Expect = Expect::Denied("role_lacks_action");
const SEPARATE: Expect = Expect::Denied("separation_of_duties");
const NO_AGREEMENT: Expect = Expect::Denied("no_agreement");

/// The callers, in the order of every row's `expect`.
const CALLERS: [(&str, &str, Option<&str>); 8] = [
    ("anonim", "", None),
    ("operator.1001", "operator", Some("35.77.01.1001")),
    ("operator.1006", "operator", Some("35.77.02.1006")),
    ("supervisor.0202", "supervisor", Some("35.77.02")),
    ("registrar.kota", "registrar", Some("35.77")),
    ("analis.dinsos", "agency_analyst", Some("dinsos")),
    ("auditor.kota", "auditor", None),
    ("admin.kota", "administrator", None),
];

/// One route, one request, and what each caller gets.
struct Row {
    method: Method,
    /// The route as the router and the OpenAPI document name it.
    template: &'static str,
    uri: String,
    body: Option<Value>,
    /// The action the access log names, for routes that reach the gate.
    action: &'static str,
    /// True when an allowed answer discloses personal data (and must be logged).
    personal: bool,
    expect: [Expect; 8],
    /// NIKs an allowed read discloses, per caller.
    reads: fn(&Fixtures, usize) -> Vec<String>,
}

/// What the rows refer to.
struct Fixtures {
    /// NIKs of each fixture family's members.
    families: Vec<Vec<String>>,
    kk: Vec<String>,
    claims: Vec<Value>,
    unknown_nik: String,
    alert_id: u64,
    /// A submitted birth in 35.77.02.1006, waiting for the kecamatan (version 2).
    submitted: String,
    /// A draft birth in 35.77.02.1006 (version 1).
    draft: String,
    /// A birth report for family 1, as a request body's `laporan`.
    birth: Value,
}

fn none(_: &Fixtures, _: usize) -> Vec<String> {
    Vec::new()
}

/// Every route that takes a caller. `i` (the caller's index) keeps the bodies of creating
/// requests distinct, so only the administrator's succeed and each succeeds once.
fn rows(f: &Fixtures, i: usize) -> Vec<Row> {
    let row = |method: Method,
               template: &'static str,
               uri: String,
               body: Option<Value>,
               action: &'static str,
               expect: [Expect; 8]| Row {
        method,
        template,
        uri,
        body,
        action,
        personal: false,
        expect,
        reads: none,
    };
    let personal = |mut row: Row, reads: fn(&Fixtures, usize) -> Vec<String>| {
        row.personal = true;
        row.reads = reads;
        row
    };
    let family_0 = [
        ANON,
        OK,
        OUTSIDE,
        OUTSIDE,
        OK,
        NO_AGREEMENT,
        SEPARATE,
        SEPARATE,
    ];
    let family_1 = [ANON, OUTSIDE, OK, OK, OK, NO_AGREEMENT, SEPARATE, SEPARATE];
    let check_0 = [ANON, OK, OUTSIDE, OUTSIDE, OK, OK, SEPARATE, SEPARATE];
    let check_1 = [ANON, OUTSIDE, OK, OK, OK, OK, SEPARATE, SEPARATE];
    let admin = |success| [ANON, LACKS, LACKS, LACKS, LACKS, LACKS, SEPARATE, success];
    let statistics = [ANON, OK, OK, OK, OK, OK, OK, OK];
    let lampid_1006 = [ANON, OUTSIDE, OK, OK, OK, LACKS, SEPARATE, SEPARATE];
    let submit_1006 = |success| {
        [
            ANON, OUTSIDE, success, SEPARATE, SEPARATE, LACKS, SEPARATE, SEPARATE,
        ]
    };
    let mother = |f: &Fixtures, _: usize| vec![f.families[1][1].clone()];
    let resident = "/api/v1/penduduk/{nik}";
    let search = "/api/v1/penduduk";
    let family = "/api/v1/keluarga/{no_kk}";
    let verify = "/api/v1/nik/verifikasi";
    let batch = "/api/v1/nik/verifikasi/batch";
    vec![
        personal(
            row(
                Method::GET,
                resident,
                format!("/api/v1/penduduk/{}", f.families[0][0]),
                None,
                "read_resident",
                family_0,
            ),
            |f, _| vec![f.families[0][0].clone()],
        ),
        personal(
            row(
                Method::GET,
                resident,
                format!("/api/v1/penduduk/{}", f.families[1][0]),
                None,
                "read_resident",
                family_1,
            ),
            |f, _| vec![f.families[1][0].clone()],
        ),
        // A miss is answered only to a caller who may read in its own region.
        personal(
            row(
                Method::GET,
                resident,
                format!("/api/v1/penduduk/{}", f.unknown_nik),
                None,
                "read_resident",
                [
                    ANON,
                    MISSING,
                    MISSING,
                    MISSING,
                    MISSING,
                    NO_AGREEMENT,
                    SEPARATE,
                    SEPARATE,
                ],
            ),
            none,
        ),
        personal(
            row(
                Method::GET,
                family,
                format!("/api/v1/keluarga/{}", f.kk[0]),
                None,
                "read_family",
                family_0,
            ),
            |f, _| f.families[0].clone(),
        ),
        personal(
            row(
                Method::GET,
                family,
                format!("/api/v1/keluarga/{}", f.kk[1]),
                None,
                "read_family",
                family_1,
            ),
            |f, _| f.families[1].clone(),
        ),
        personal(
            row(
                Method::GET,
                search,
                "/api/v1/penduduk?kelurahan=35.77.01.1001".into(),
                None,
                "search_residents",
                family_0,
            ),
            |f, _| f.families[0].clone(),
        ),
        personal(
            row(
                Method::GET,
                search,
                "/api/v1/penduduk?kelurahan=35.77.02".into(),
                None,
                "search_residents",
                [
                    ANON,
                    OUTSIDE,
                    OUTSIDE,
                    OK,
                    OK,
                    NO_AGREEMENT,
                    SEPARATE,
                    SEPARATE,
                ],
            ),
            |f, _| [f.families[1].clone(), f.families[2].clone()].concat(),
        ),
        // No region named: the caller's own region is searched.
        personal(
            row(
                Method::GET,
                search,
                "/api/v1/penduduk?nama=budi".into(),
                None,
                "search_residents",
                [ANON, OK, OK, OK, OK, NO_AGREEMENT, SEPARATE, SEPARATE],
            ),
            |f, i| match i {
                1 => vec![f.families[0][0].clone()],
                2 | 3 => vec![f.families[1][0].clone()],
                4 => vec![f.families[0][0].clone(), f.families[1][0].clone()],
                _ => Vec::new(),
            },
        ),
        personal(
            row(
                Method::POST,
                verify,
                verify.into(),
                Some(f.claims[0].clone()),
                "verify_nik",
                check_0,
            ),
            |f, _| vec![f.families[0][0].clone()],
        ),
        personal(
            row(
                Method::POST,
                verify,
                verify.into(),
                Some(f.claims[1].clone()),
                "verify_nik",
                check_1,
            ),
            |f, _| vec![f.families[1][0].clone()],
        ),
        personal(
            row(
                Method::POST,
                batch,
                batch.into(),
                Some(json!({"klaim": [f.claims[0]]})),
                "verify_nik_batch",
                check_0,
            ),
            |f, _| vec![f.families[0][0].clone()],
        ),
        personal(
            row(
                Method::POST,
                batch,
                batch.into(),
                Some(json!({"klaim": [f.claims[1]]})),
                "verify_nik_batch",
                check_1,
            ),
            |f, _| vec![f.families[1][0].clone()],
        ),
        personal(
            row(
                Method::POST,
                "/api/v1/lampid",
                "/api/v1/lampid".into(),
                Some(json!({"kelurahan": "35.77.02.1006", "laporan": f.birth})),
                "submit_lampid",
                submit_1006(CREATED),
            ),
            mother,
        ),
        row(
            Method::GET,
            "/api/v1/lampid",
            "/api/v1/lampid?wilayah=35.77.02".into(),
            None,
            "read_lampid",
            [ANON, OUTSIDE, OUTSIDE, OK, OK, LACKS, SEPARATE, SEPARATE],
        ),
        personal(
            row(
                Method::GET,
                "/api/v1/lampid/{kode}",
                format!("/api/v1/lampid/{}", f.submitted),
                None,
                "read_lampid",
                lampid_1006,
            ),
            mother,
        ),
        personal(
            row(
                Method::PUT,
                "/api/v1/lampid/{kode}",
                format!("/api/v1/lampid/{}", f.draft),
                Some(json!({"laporan": f.birth, "versi": 1})),
                "submit_lampid",
                submit_1006(OK),
            ),
            mother,
        ),
        personal(
            row(
                Method::POST,
                "/api/v1/lampid/{kode}/langkah",
                format!("/api/v1/lampid/{}/langkah", f.submitted),
                Some(json!({"aksi": "verifikasi", "versi": 2})),
                "verify_lampid",
                [
                    ANON, SEPARATE, SEPARATE, OK, SEPARATE, LACKS, SEPARATE, SEPARATE,
                ],
            ),
            mother,
        ),
        row(
            Method::GET,
            "/api/v1/statistik/penduduk",
            "/api/v1/statistik/penduduk?wilayah=35.77&rinci=true".into(),
            None,
            "read_statistics",
            statistics,
        ),
        row(
            Method::GET,
            "/api/v1/statistik/agama",
            "/api/v1/statistik/agama?wilayah=35.77.01".into(),
            None,
            "read_statistics",
            statistics,
        ),
        row(
            Method::GET,
            "/api/v1/statistik/perkawinan",
            "/api/v1/statistik/perkawinan?wilayah=35.77.02.1006".into(),
            None,
            "read_statistics",
            statistics,
        ),
        row(
            Method::GET,
            "/api/v1/statistik/peristiwa",
            "/api/v1/statistik/peristiwa?wilayah=35".into(),
            None,
            "read_statistics",
            statistics,
        ),
        row(
            Method::GET,
            "/api/v1/statistik/layanan",
            "/api/v1/statistik/layanan".into(),
            None,
            "read_statistics",
            statistics,
        ),
        row(
            Method::GET,
            "/api/v1/admin/akun",
            "/api/v1/admin/akun".into(),
            None,
            "manage_users",
            admin(OK),
        ),
        row(
            Method::POST,
            "/api/v1/admin/akun",
            "/api/v1/admin/akun".into(),
            Some(json!({
                "nama_pengguna": format!("baru.{i}"),
                "nama_tampilan": "Petugas Baru",
                "peran": "operator",
                "wilayah": "35.77.01.1001",
                "kata_sandi": PASSWORD,
            })),
            "manage_users",
            admin(CREATED),
        ),
        row(
            Method::GET,
            "/api/v1/admin/klien",
            "/api/v1/admin/klien".into(),
            None,
            "manage_clients",
            admin(OK),
        ),
        row(
            Method::POST,
            "/api/v1/admin/klien",
            "/api/v1/admin/klien".into(),
            Some(json!({
                "client_id": format!("klien-baru-{i}"),
                "nama": "Klien Baru",
                "instansi": "dinsos",
                "cakupan": "verify_nik",
            })),
            "manage_clients",
            admin(CREATED),
        ),
        row(
            Method::POST,
            "/api/v1/admin/klien/{client_id}/cabut",
            "/api/v1/admin/klien/klien-lama/cabut".into(),
            None,
            "manage_clients",
            admin(DONE),
        ),
        row(
            Method::GET,
            "/api/v1/admin/perjanjian",
            "/api/v1/admin/perjanjian".into(),
            None,
            "manage_clients",
            admin(OK),
        ),
        row(
            Method::PUT,
            "/api/v1/admin/perjanjian",
            "/api/v1/admin/perjanjian".into(),
            Some(json!({
                "agency": "bpjs",
                "actions": ["verify_nik"],
                "region": "35.77",
                "reference": format!("PKS/{i}"),
            })),
            "manage_clients",
            admin(DONE),
        ),
        row(
            Method::GET,
            "/api/v1/admin/peringatan",
            "/api/v1/admin/peringatan?terbuka=false".into(),
            None,
            "read_alerts",
            [ANON, LACKS, LACKS, LACKS, LACKS, LACKS, OK, OK],
        ),
        row(
            Method::POST,
            "/api/v1/admin/peringatan/{id}/akui",
            format!("/api/v1/admin/peringatan/{}/akui", f.alert_id),
            None,
            "acknowledge_alerts",
            admin(DONE),
        ),
        row(
            Method::GET,
            "/api/v1/audit/akses",
            "/api/v1/audit/akses".into(),
            None,
            "read_access_log",
            [ANON, LACKS, LACKS, LACKS, LACKS, LACKS, OK, SEPARATE],
        ),
        row(
            Method::GET,
            "/api/v1/ledger/entri",
            "/api/v1/ledger/entri".into(),
            None,
            "read_ledger",
            [ANON, LACKS, LACKS, LACKS, LACKS, LACKS, OK, SEPARATE],
        ),
        // A resident's own access history, asked for at the counter or by an auditor.
        personal(
            row(
                Method::GET,
                "/api/v1/ledger/akses",
                format!("/api/v1/ledger/akses?nik={}", f.families[0][0]),
                None,
                "read_access_history",
                [ANON, OK, OUTSIDE, OUTSIDE, OK, LACKS, OK, SEPARATE],
            ),
            |f, _| vec![f.families[0][0].clone()],
        ),
    ]
}

/// An app with every caller signed in, the dinsos agreement, a client to revoke and an
/// alert to acknowledge.
async fn setup() -> (TestApp, Vec<Option<Credentials>>, Fixtures) {
    let app = TestApp::spawn().await;
    app.dinsos_agreement().await;
    let _ = app.provision_client("klien-lama", "verify_nik", None).await;
    let alerts = app
        .store
        .raise_alerts(&[AlertRecord {
            id: 0,
            rule: "denied_burst".into(),
            subject: "operator.1006".into(),
            at: simpul_store::now(),
            detail: "uji".into(),
            acknowledged_by: None,
            acknowledged_at: None,
        }])
        .await
        .expect("alert");
    let mut callers = Vec::new();
    for (name, role, scope) in CALLERS {
        callers.push(if role.is_empty() {
            None
        } else {
            Some(app.signed_in(name, role, scope).await)
        });
    }
    let born = simpul_domain::today() - chrono::Duration::days(2);
    let report = json!({
        "jenis": "kelahiran",
        "data": {
            "nama_anak": "Galih Pratama",
            "jenis_kelamin": "laki_laki",
            "tanggal_lahir": born.to_string(),
            "jam_lahir": "06:30:00",
            "tempat_lahir": "Madiun",
            "nik_ibu": app.nik(1, 1),
            "no_kk": app.families[1].no_kk.to_string(),
            "nik_pelapor": app.nik(1, 0),
        }
    });
    let payload: LampidPayload = serde_json::from_value(report.clone()).expect("report");
    let mut lampid = Vec::new();
    for submit in [true, false] {
        let outcome = app
            .store
            .lampid(LampidCommand::Create {
                kelurahan: KodeWilayah::parse("35.77.02.1006").expect("code"),
                payload: payload.clone(),
                actor: "operator.1006".into(),
                idempotency_key: None,
                submit,
            })
            .await
            .expect("fixture submission");
        lampid.push(outcome.submission.submission.tracking_code().to_string());
    }
    let kecamatan = KodeWilayah::parse("35.77.03").expect("code");
    let birth = NaiveDate::from_ymd_opt(1990, 1, 1).expect("date");
    let fixtures = Fixtures {
        families: app
            .families
            .iter()
            .map(|f| f.members.iter().map(|m| m.nik.to_string()).collect())
            .collect(),
        kk: app.families.iter().map(|f| f.no_kk.to_string()).collect(),
        claims: vec![app.claim(0, 0), app.claim(1, 0)],
        unknown_nik: Nik::compose(&kecamatan, birth, Sex::LakiLaki, 42)
            .expect("nik")
            .to_string(),
        alert_id: alerts[0].id,
        submitted: lampid[0].clone(),
        draft: lampid[1].clone(),
        birth: report,
    };
    (app, callers, fixtures)
}

async fn send(app: &TestApp, caller: Option<&Credentials>, row: &Row) -> TestResponse {
    let body = row
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).expect("serialise"))
        .unwrap_or_default();
    let content_type = row.body.as_ref().map(|_| "application/json");
    app.send_as(caller, row.method.clone(), &row.uri, content_type, body)
        .await
}

/// The blind index the access log names `nik` by.
fn index(app: &TestApp, nik: &str) -> String {
    let nik = Nik::parse(
        nik,
        simpul_domain::wilayah::embedded(),
        simpul_domain::today(),
    )
    .expect("fixture NIK");
    app.state.vault.nik_index(&nik)
}

#[tokio::test]
async fn every_protected_route_answers_each_caller_as_the_policy_says() {
    let (app, callers, fixtures) = setup().await;
    let mut cursor = app
        .store
        .access_after(0, 10_000)
        .await
        .expect("log")
        .last()
        .map_or(0, |e| e.sequence);
    for (i, caller) in callers.iter().enumerate() {
        let name = CALLERS[i].0;
        for row in rows(&fixtures, i) {
            let label = format!("{} {} as {name}", row.method, row.uri);
            let answer = send(&app, caller.as_ref(), &row).await;
            let logged: Vec<AccessEntry> =
                app.store.access_after(cursor, 10_000).await.expect("log");
            cursor = logged.last().map_or(cursor, |e| e.sequence);
            match row.expect[i] {
                Expect::Anonymous => {
                    answer.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
                }
                Expect::Denied(reason) => {
                    let body = answer.problem(StatusCode::FORBIDDEN, "forbidden");
                    assert_eq!(body["reason"], reason, "{label}: {body}");
                    assert!(
                        logged.iter().any(|e| e.record.outcome == "denied"
                            && e.record.reason.as_deref() == Some(reason)
                            && e.record.actor == name
                            && e.record.action == row.action),
                        "{label}: no denied entry in {logged:?}"
                    );
                }
                Expect::Status(status) => {
                    assert_eq!(answer.status, status, "{label}: {}", answer.text());
                    if status == StatusCode::NOT_FOUND {
                        answer.problem(status, "resident_not_found");
                        assert!(
                            logged.iter().any(|e| e.record.outcome == "not_found"
                                && e.record.actor == name
                                && e.record.action == row.action),
                            "{label}: the miss is not logged: {logged:?}"
                        );
                    } else if row.personal {
                        let allowed = logged
                            .iter()
                            .find(|e| {
                                e.record.outcome == "allowed"
                                    && e.record.actor == name
                                    && e.record.action == row.action
                            })
                            .unwrap_or_else(|| panic!("{label}: no allowed entry: {logged:?}"));
                        assert_eq!(allowed.record.purpose.as_deref(), Some("pengujian"));
                        for nik in (row.reads)(&fixtures, i) {
                            assert!(
                                allowed.record.residents.contains(&index(&app, &nik)),
                                "{label}: {nik} read but not logged: {allowed:?}"
                            );
                        }
                    }
                }
            }
        }
    }
    // The log names residents only by blind index, never by NIK.
    let log = app.store.access_after(0, 10_000).await.expect("log");
    assert!(log.len() > 100, "{}", log.len());
    for entry in &log {
        let text = entry.canonical_json();
        for nik in fixtures.families.iter().flatten() {
            assert!(!text.contains(nik.as_str()), "NIK in the log: {text}");
        }
    }
}

/// Routes that need no caller at all.
const PUBLIC: [(&str, &str); 11] = [
    ("GET", "/api/v1/lacak/{kode}"),
    ("GET", "/api/v1/ledger/key"),
    ("GET", "/api/v1/ledger/checkpoint"),
    ("GET", "/api/v1/ledger/proof/inclusion"),
    ("GET", "/api/v1/ledger/proof/consistency"),
    ("GET", "/api/v1/wilayah"),
    ("GET", "/api/v1/wilayah/{kode}"),
    ("GET", "/api/v1/wilayah/{kode}/anak"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
];

/// Routes that authenticate on their own terms: sign-in (password, pending session) and
/// OAuth (client credentials), the public keys, and witnesses (whose cosignatures are
/// accepted only from configured witness keys, and only when they verify).
const OWN_AUTHENTICATION: [(&str, &str); 8] = [
    ("POST", "/api/v1/ledger/cosignature"),
    ("POST", "/api/v1/sesi"),
    ("DELETE", "/api/v1/sesi"),
    ("POST", "/api/v1/sesi/totp/daftar"),
    ("POST", "/api/v1/sesi/totp"),
    ("POST", "/oauth/token"),
    ("POST", "/oauth/revoke"),
    ("GET", "/.well-known/jwks.json"),
];

#[tokio::test]
async fn the_matrix_covers_every_route_of_the_api() {
    let (app, _, fixtures) = setup().await;
    let document = app.get("/openapi.json").await.ok_json();
    let mut documented = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let mut named: BTreeSet<(String, String)> = rows(&fixtures, 0)
        .iter()
        .map(|r| (r.method.to_string(), r.template.to_owned()))
        .collect();
    for (method, path) in PUBLIC.iter().chain(&OWN_AUTHENTICATION) {
        assert!(
            named.insert(((*method).to_owned(), (*path).to_owned())),
            "{method} {path} listed twice"
        );
    }
    assert_eq!(named, documented, "a route is missing from the matrix");
    // The public routes indeed answer without a caller.
    for uri in [
        "/api/v1/wilayah?q=madiun",
        "/api/v1/wilayah/35.77",
        "/api/v1/wilayah/35.77/anak",
        "/healthz",
        "/.well-known/jwks.json",
    ] {
        let answer = app.send_headers(Method::GET, uri, &[], Vec::new()).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.text());
    }
}

fn niks(page: &Value) -> BTreeSet<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["nik"].as_str().expect("nik").to_owned())
        .collect()
}

#[tokio::test]
async fn each_caller_sees_only_its_region() {
    let (app, callers, f) = setup().await;
    let as_caller = |i: usize, uri: String| {
        let app = &app;
        let caller = callers[i].clone();
        async move {
            app.send_as(caller.as_ref(), Method::GET, &uri, None, Vec::new())
                .await
        }
    };
    let set = |families: &[usize]| -> BTreeSet<String> {
        families
            .iter()
            .flat_map(|&i| f.families[i].iter().cloned())
            .collect()
    };

    // The supervisor of 35.77.02 sees families 1 and 2, not family 0.
    let page = as_caller(3, "/api/v1/penduduk?kelurahan=35.77.02".into())
        .await
        .ok_json();
    assert_eq!(niks(&page), set(&[1, 2]));
    let page = as_caller(3, "/api/v1/penduduk?tanggal_lahir=1980-03-14".into())
        .await
        .ok_json();
    assert_eq!(
        niks(&page),
        BTreeSet::from([f.families[1][0].clone(), f.families[2][0].clone()])
    );
    let body = as_caller(3, "/api/v1/penduduk?kelurahan=35.77.01".into())
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(body["reason"], "outside_jurisdiction");

    // Each operator sees its own kelurahan only, whatever the search names.
    let page = as_caller(1, "/api/v1/penduduk?nama=budi".into())
        .await
        .ok_json();
    assert_eq!(niks(&page), BTreeSet::from([f.families[0][0].clone()]));
    let page = as_caller(2, "/api/v1/penduduk?nama=siti%20aminah".into())
        .await
        .ok_json();
    assert_eq!(
        niks(&page),
        BTreeSet::from([f.families[1][1].clone(), f.families[2][1].clone()])
    );
    for uri in [
        format!("/api/v1/penduduk/{}", f.families[0][1]),
        format!("/api/v1/keluarga/{}", f.kk[0]),
        "/api/v1/penduduk?kelurahan=35.77.01.1001".to_owned(),
        "/api/v1/penduduk?kelurahan=35.77".to_owned(),
    ] {
        let body = as_caller(2, uri.clone())
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(body["reason"], "outside_jurisdiction", "{uri}");
        assert!(!body.to_string().contains(&f.families[0][1]), "{body}");
    }

    // The registrar sees the whole city.
    let page = as_caller(4, "/api/v1/penduduk?tanggal_lahir=1980-03-14".into())
        .await
        .ok_json();
    assert_eq!(niks(&page).len(), 3, "{page}");
}

#[tokio::test]
async fn a_personal_data_read_must_state_its_purpose() {
    let (app, callers, f) = setup().await;
    let registrar = callers[4].clone().expect("registrar");
    let before = app.store.access_after(0, 10_000).await.expect("log").len();
    for row in rows(&f, 4).into_iter().filter(|r| r.personal) {
        let body = row
            .body
            .as_ref()
            .map(|b| serde_json::to_vec(b).expect("serialise"))
            .unwrap_or_default();
        let mut headers = vec![
            ("cookie", registrar.cookie.as_str()),
            ("x-csrf-token", registrar.csrf.as_str()),
        ];
        if row.body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let label = format!("{} {}", row.method, row.uri);
        let problem = app
            .send_headers(row.method.clone(), &row.uri, &headers, body.clone())
            .await
            .problem(StatusCode::BAD_REQUEST, "purpose_required");
        assert_eq!(problem["field"], "X-Tujuan", "{label}");
        // A blank purpose is no purpose.
        headers.push(("x-tujuan", "   "));
        app.send_headers(row.method.clone(), &row.uri, &headers, body)
            .await
            .problem(StatusCode::BAD_REQUEST, "purpose_required");
    }
    let after = app.store.access_after(0, 10_000).await.expect("log").len();
    assert_eq!(
        before, after,
        "nothing was disclosed, so nothing was logged"
    );

    // Running the hub involves no personal data: no purpose needed.
    for (caller, uri) in [(7, "/api/v1/admin/akun"), (6, "/api/v1/audit/akses")] {
        let caller = callers[caller].clone().expect("caller");
        let answer = app
            .send_headers(
                Method::GET,
                uri,
                &[("cookie", caller.cookie.as_str())],
                Vec::new(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.text());
    }
}
