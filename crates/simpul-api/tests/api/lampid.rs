//! e-LAMPID over HTTP: a birth entered by the kelurahan, verified by the kecamatan and
//! registered by Dukcapil; the citizen's tracking view; queues, statistics and service
//! levels; and every refusal as problem+json with its code and field.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{Credentials, TestApp, TestResponse};

/// The three levels' staff of kelurahan 35.77.02.1006 (families 1 and 2).
struct Staff {
    operator: Credentials,
    supervisor: Credentials,
    registrar: Credentials,
}

async fn staff(app: &TestApp) -> Staff {
    Staff {
        operator: app
            .signed_in("operator.1006", "operator", Some("35.77.02.1006"))
            .await,
        supervisor: app
            .signed_in("supervisor.0202", "supervisor", Some("35.77.02"))
            .await,
        registrar: app
            .signed_in("registrar.kota", "registrar", Some("35.77"))
            .await,
    }
}

async fn send(
    app: &TestApp,
    who: &Credentials,
    method: Method,
    uri: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
) -> TestResponse {
    let mut builder = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("x-tujuan", "pelayanan e-LAMPID")
        .header(header::COOKIE, &who.cookie)
        .header("x-csrf-token", &who.csrf);
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    let body = match body {
        Some(body) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            serde_json::to_vec(body).expect("serialise")
        }
        None => Vec::new(),
    };
    app.request(builder.body(axum::body::Body::from(body)).expect("request"))
        .await
}

/// A birth into family 1 (35.77.02.1006), born `days_ago` days ago.
fn birth(app: &TestApp, days_ago: i64) -> Value {
    let born = simpul_domain::today() - chrono::Duration::days(days_ago);
    json!({
        "laporan": {
            "jenis": "kelahiran",
            "data": {
                "nama_anak": "Galih Pratama",
                "jenis_kelamin": "laki_laki",
                "tanggal_lahir": born.to_string(),
                "jam_lahir": "06:30:00",
                "tempat_lahir": "RSUD Kota Madiun",
                "nik_ibu": app.nik(1, 1),
                "nik_ayah": app.nik(1, 0),
                "no_kk": app.families[1].no_kk.to_string(),
                "nik_pelapor": app.nik(1, 0),
            }
        }
    })
}

#[tokio::test]
async fn a_birth_goes_from_kelurahan_to_dukcapil_and_the_city_sees_it() {
    let app = TestApp::spawn().await;
    let staff = staff(&app).await;
    let before = send(
        &app,
        &staff.registrar,
        Method::GET,
        "/api/v1/statistik/penduduk?wilayah=35.77.02.1006",
        None,
        &[],
    )
    .await
    .ok_json();

    let created = send(
        &app,
        &staff.operator,
        Method::POST,
        "/api/v1/lampid",
        Some(&birth(&app, 2)),
        &[("idempotency-key", "lahir-galih-1")],
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let submission = created.json();
    let code = submission["kode_lacak"].as_str().expect("code").to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/lampid/{code}").as_str())
    );
    assert_eq!(submission["status"]["kode"], "diajukan");
    assert_eq!(submission["versi"], 2);

    // A retry of the same request (the network dropped the answer) creates nothing new.
    let retried = send(
        &app,
        &staff.operator,
        Method::POST,
        "/api/v1/lampid",
        Some(&birth(&app, 2)),
        &[("idempotency-key", "lahir-galih-1")],
    )
    .await
    .ok_json();
    assert_eq!(retried["kode_lacak"], code.as_str());

    // The citizen sees the state and nothing about the child.
    let public = app
        .send_headers(
            Method::GET,
            &format!("/api/v1/lacak/{code}"),
            &[],
            Vec::new(),
        )
        .await
        .ok_json();
    assert_eq!(public["status"], "diajukan");
    assert!(!public.to_string().contains("Galih"), "{public}");

    let queue = send(
        &app,
        &staff.supervisor,
        Method::GET,
        "/api/v1/lampid?status=diajukan",
        None,
        &[],
    )
    .await
    .ok_json();
    let line = queue["item"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["kode_lacak"] == code.as_str())
        .expect("in the kecamatan's queue");
    assert_eq!(line["terlambat"], false);

    let step = |who: &Credentials, body: Value| {
        let uri = format!("/api/v1/lampid/{code}/langkah");
        let app = &app;
        let who = who.clone();
        async move { send(app, &who, Method::POST, &uri, Some(&body), &[]).await }
    };
    let verified = step(&staff.supervisor, json!({"aksi": "verifikasi", "versi": 2}))
        .await
        .ok_json();
    assert_eq!(verified["status"]["kode"], "diverifikasi");
    let registered = step(&staff.registrar, json!({"aksi": "catat", "versi": 3}))
        .await
        .ok_json();
    assert_eq!(registered["status"]["kode"], "tercatat");
    let document = registered["nomor_dokumen"].as_str().expect("certificate");
    assert!(document.starts_with("3577-LU-"), "{document}");

    // The child is a resident of the family now, with a NIK of the kecamatan and birth date.
    let family = send(
        &app,
        &staff.operator,
        Method::GET,
        &format!("/api/v1/keluarga/{}", app.families[1].no_kk),
        None,
        &[],
    )
    .await
    .ok_json();
    let members = family["anggota"].as_array().expect("members");
    let child = members
        .iter()
        .find(|m| m["nama_lengkap"] == "Galih Pratama")
        .expect("the child joined the family");
    assert!(child["nik"].as_str().expect("nik").starts_with("357702"));
    assert_eq!(child["hubungan_keluarga"], "anak");

    let after = send(
        &app,
        &staff.registrar,
        Method::GET,
        "/api/v1/statistik/penduduk?wilayah=35.77.02.1006",
        None,
        &[],
    )
    .await
    .ok_json();
    assert_eq!(after["jumlah"], before["jumlah"].as_i64().expect("n") + 1);
    let babies = |figures: &Value| {
        figures["kelompok_umur"]
            .as_array()
            .expect("bands")
            .iter()
            .find(|b| b["kelompok"] == "0-4")
            .map_or(0, |b| b["laki_laki"].as_i64().expect("n"))
    };
    assert_eq!(babies(&after), babies(&before) + 1);
    let month = (simpul_domain::today() - chrono::Duration::days(2))
        .format("%Y-%m")
        .to_string();
    let events = send(
        &app,
        &staff.registrar,
        Method::GET,
        &format!("/api/v1/statistik/peristiwa?wilayah=35.77&dari={month}&sampai={month}"),
        None,
        &[],
    )
    .await
    .ok_json();
    assert_eq!(events[0]["kelahiran"], 1, "{events}");
    let city = send(
        &app,
        &staff.registrar,
        Method::GET,
        "/api/v1/statistik/penduduk?wilayah=35.77&rinci=true",
        None,
        &[],
    )
    .await
    .ok_json();
    let kecamatan: i64 = city["rincian"]
        .as_array()
        .expect("breakdown")
        .iter()
        .map(|r| r["jumlah"].as_i64().expect("n"))
        .sum();
    assert_eq!(kecamatan, city["jumlah"].as_i64().expect("n"));
    let service = send(
        &app,
        &staff.registrar,
        Method::GET,
        "/api/v1/statistik/layanan",
        None,
        &[],
    )
    .await
    .ok_json();
    assert_eq!(service["total"]["n"], 1, "{service}");
    assert_eq!(service["target_menit"], 120);
    let public = app
        .send_headers(
            Method::GET,
            &format!("/api/v1/lacak/{code}"),
            &[],
            Vec::new(),
        )
        .await
        .ok_json();
    assert_eq!(
        (public["status"].clone(), public["tercatat"].clone()),
        (json!("tercatat"), json!(true))
    );
}

/// One request for each way a submission is refused, in a fixed order; the code table test
/// uses them too. Returns the answers and the tracking code of the one submission made.
pub async fn refusals(app: &TestApp) -> (Vec<TestResponse>, String) {
    let staff = staff(app).await;
    let mut answers = Vec::new();
    // A father given as the mother; a birth in the future.
    let mut wrong = birth(app, 1);
    wrong["laporan"]["data"]["nik_ibu"] = json!(app.nik(1, 0));
    let lampid = "/api/v1/lampid";
    answers.push(
        send(
            app,
            &staff.operator,
            Method::POST,
            lampid,
            Some(&wrong),
            &[],
        )
        .await,
    );
    let future = birth(app, -3);
    answers.push(
        send(
            app,
            &staff.operator,
            Method::POST,
            lampid,
            Some(&future),
            &[],
        )
        .await,
    );
    let key = [("idempotency-key", "k-1")];
    let created = send(
        app,
        &staff.operator,
        Method::POST,
        lampid,
        Some(&birth(app, 1)),
        &key,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let code = created.json()["kode_lacak"]
        .as_str()
        .expect("code")
        .to_owned();
    // The same key for another report.
    answers.push(
        send(
            app,
            &staff.operator,
            Method::POST,
            lampid,
            Some(&birth(app, 5)),
            &key,
        )
        .await,
    );
    let uri = format!("/api/v1/lampid/{code}/langkah");
    let mut step = async |who: &Credentials, body: Value| {
        answers.push(send(app, who, Method::POST, &uri, Some(&body), &[]).await);
    };
    step(&staff.supervisor, json!({"aksi": "verifikasi", "versi": 1})).await;
    step(&staff.registrar, json!({"aksi": "catat", "versi": 2})).await;
    step(
        &staff.supervisor,
        json!({"aksi": "tolak", "alasan": "", "versi": 2}),
    )
    .await;
    // The operator may not verify its own submission (four eyes), whatever the version.
    step(&staff.operator, json!({"aksi": "verifikasi", "versi": 2})).await;
    // A mistyped tracking code (the check symbol catches it), and one that does not exist.
    let mut typo = code.clone();
    let last = if typo.ends_with('0') { "1" } else { "0" };
    typo.replace_range(typo.len() - 1.., last);
    let unknown = simpul_domain::lampid::TrackingCode::from_random(7);
    for uri in [
        format!("/api/v1/lacak/{typo}"),
        format!("/api/v1/lacak/{unknown}"),
    ] {
        answers.push(app.send_headers(Method::GET, &uri, &[], Vec::new()).await);
    }
    (answers, code)
}

#[tokio::test]
async fn refusals_name_their_code_and_field() {
    let app = TestApp::spawn().await;
    let (answers, code) = refusals(&app).await;
    let expected = [
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_report",
            Some("mother_not_female"),
            Some("nik_ibu"),
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_report",
            Some("date_in_future"),
            Some("tanggal_lahir"),
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            None,
            Some("Idempotency-Key"),
        ),
        (
            StatusCode::CONFLICT,
            "version_conflict",
            Some("version_conflict"),
            None,
        ),
        (
            StatusCode::CONFLICT,
            "invalid_transition",
            Some("invalid_transition"),
            None,
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_report",
            Some("reason_required"),
            Some("alasan"),
        ),
        (
            StatusCode::FORBIDDEN,
            "forbidden",
            Some("separation_of_duties"),
            None,
        ),
        (
            StatusCode::BAD_REQUEST,
            "invalid_tracking_code",
            Some("tracking_code_checksum"),
            Some("kode"),
        ),
        (
            StatusCode::NOT_FOUND,
            "submission_not_found",
            None,
            Some("kode"),
        ),
    ];
    assert_eq!(answers.len(), expected.len());
    for (answer, (status, code, reason, field)) in answers.iter().zip(expected) {
        let body = answer.problem(status, code);
        if let Some(reason) = reason {
            assert_eq!(body["reason"], reason, "{body}");
        }
        if let Some(field) = field {
            assert_eq!(body["field"], field, "{body}");
        }
    }
    // Nothing above changed the submission.
    let staff = staff(&app).await;
    let record = send(
        &app,
        &staff.supervisor,
        Method::GET,
        &format!("/api/v1/lampid/{code}"),
        None,
        &[],
    )
    .await
    .ok_json();
    assert_eq!(
        (record["versi"].clone(), record["status"]["kode"].clone()),
        (json!(2), json!("diajukan"))
    );
}
