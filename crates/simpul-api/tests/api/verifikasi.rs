//! `/api/v1/nik/verifikasi`: per-field verdicts that never reveal the registry's values.

use axum::http::StatusCode;
use chrono::NaiveDate;
use serde_json::{Value, json};
use simpul_domain::{KodeWilayah, Nik, Sex};

use crate::helpers::TestApp;

const SINGLE: &str = "/api/v1/nik/verifikasi";
const BATCH: &str = "/api/v1/nik/verifikasi/batch";

/// A well-formed NIK that no fixture has.
fn unregistered_nik() -> String {
    let kecamatan = KodeWilayah::parse("35.77.03").expect("code");
    let birth = NaiveDate::from_ymd_opt(1990, 1, 1).expect("date");
    Nik::compose(&kecamatan, birth, Sex::LakiLaki, 42)
        .expect("nik")
        .to_string()
}

/// Asserts that none of the head of family 0's registry values appear in `raw`, except
/// the ones the claim itself sent (`allowed`).
fn assert_no_registry_values(raw: &str, allowed: &[&str]) {
    for value in [
        "Budi Santoso",
        "BUDI SANTOSO",
        "1980-03-14",
        "Madiun",
        "Painem",
        "Sastro",
    ] {
        if !allowed.contains(&value) {
            assert!(
                !raw.contains(value),
                "registry value {value:?} leaked: {raw}"
            );
        }
    }
}

#[tokio::test]
async fn exact_match_is_persis() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json(
            SINGLE,
            &json!({
                "nik": app.nik(0, 0),
                "nama": "Budi Santoso",
                "tanggal_lahir": "1980-03-14",
                "tempat_lahir": "Madiun",
                "nama_ibu": "Painem",
            }),
        )
        .await;
    let body = response.ok_json();
    assert_eq!(body["status_nik"], "terdaftar");
    assert_eq!(body["status_penduduk"], "hidup");
    for field in ["nama", "tempat_lahir", "nama_ibu"] {
        assert_eq!(body[field]["hasil"], "sesuai", "{field}: {body}");
        assert_eq!(body[field]["kecocokan"], "persis", "{field}: {body}");
    }
    assert_eq!(body["tanggal_lahir"]["hasil"], "sesuai");
    assert!(body.get("alasan").is_none());
}

#[tokio::test]
async fn folded_name_is_normalisasi() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json(
            SINGLE,
            &json!({"nik": app.nik(0, 0), "nama": "  BUDI   santoso ", "tanggal_lahir": "1980-03-14"}),
        )
        .await;
    let body = response.ok_json();
    assert_eq!(body["nama"]["hasil"], "sesuai");
    assert_eq!(body["nama"]["kecocokan"], "normalisasi");
    // Fields not claimed get no verdict.
    assert!(
        body.get("tempat_lahir").is_none() && body.get("nama_ibu").is_none(),
        "{body}"
    );
    assert_no_registry_values(&response.text(), &[]);
}

#[tokio::test]
async fn mismatch_is_tidak_sesuai_without_revealing_the_record() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json(
            SINGLE,
            &json!({
                "nik": app.nik(0, 0),
                "nama": "Budi Susanto",
                "tanggal_lahir": "1981-03-14",
                "tempat_lahir": "Surabaya",
                "nama_ibu": "Sri Wahyuni",
            }),
        )
        .await;
    let body = response.ok_json();
    assert_eq!(body["status_nik"], "terdaftar");
    assert_eq!(body["nama"]["hasil"], "tidak_sesuai");
    assert_eq!(body["nama"]["kecocokan"], "berbeda");
    assert_eq!(body["tanggal_lahir"]["hasil"], "tidak_sesuai");
    assert_eq!(body["tempat_lahir"]["hasil"], "tidak_sesuai");
    assert_eq!(body["nama_ibu"]["hasil"], "tidak_sesuai");
    assert_no_registry_values(&response.text(), &[]);
}

#[tokio::test]
async fn unknown_nik_is_tidak_terdaftar() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json(
            SINGLE,
            &json!({"nik": unregistered_nik(), "nama": "Budi Santoso", "tanggal_lahir": "1980-03-14"}),
        )
        .await;
    let body = response.ok_json();
    assert_eq!(body, json!({"status_nik": "tidak_terdaftar"}));
}

#[tokio::test]
async fn invalid_nik_is_a_400_naming_the_rule() {
    let app = TestApp::spawn().await;
    let body = app
        .post_json(
            SINGLE,
            &json!({"nik": "3577013203800001", "nama": "Budi", "tanggal_lahir": "1980-03-14"}),
        )
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_nik");
    assert_eq!(body["reason"], "day_out_of_range");
    assert_eq!(body["field"], "nik");
}

#[tokio::test]
async fn batch_answers_in_order_with_totals() {
    let app = TestApp::spawn().await;
    let claims = json!({"klaim": [
        {"nik": app.nik(0, 0), "nama": "Budi Santoso", "tanggal_lahir": "1980-03-14"},
        {"nik": unregistered_nik(), "nama": "Joko", "tanggal_lahir": "1990-01-01"},
        {"nik": "12345", "nama": "Siapa", "tanggal_lahir": "1990-01-01"},
        {"nik": app.nik(1, 1), "nama": "Siti Aminah", "tanggal_lahir": "1999-07-02"},
        {"nik": app.nik(2, 2), "nama": "DEWI LESTARI", "tanggal_lahir": "2010-05-09"},
        {"nik": "3577011403800000", "nama": "Nol", "tanggal_lahir": "1980-03-14"},
        {"nik": app.nik(0, 0), "nama": "budi santoso", "tanggal_lahir": "1980-03-14"},
    ]});
    let response = app.post_json(BATCH, &claims).await;
    let body = response.ok_json();
    assert_eq!(
        body["ringkasan"],
        json!({"jumlah": 7, "sesuai_semua": 3, "tidak_terdaftar": 1, "tidak_valid": 2})
    );
    let hasil = body["hasil"].as_array().expect("hasil");
    let statuses: Vec<&str> = hasil
        .iter()
        .map(|h| h["status_nik"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses,
        [
            "terdaftar",
            "tidak_terdaftar",
            "tidak_valid",
            "terdaftar",
            "terdaftar",
            "tidak_valid",
            "terdaftar"
        ]
    );
    assert_eq!(hasil[0]["nama"]["kecocokan"], "persis");
    assert_eq!(hasil[2]["alasan"], "length");
    assert_eq!(hasil[3]["nama"]["hasil"], "sesuai");
    assert_eq!(hasil[3]["tanggal_lahir"]["hasil"], "tidak_sesuai");
    assert_eq!(hasil[4]["nama"]["kecocokan"], "normalisasi");
    assert_eq!(hasil[5]["alasan"], "serial_zero");
    assert_eq!(hasil[6]["nama"]["kecocokan"], "normalisasi");
    // Only the batch's own claims' text may appear; the wife's recorded birth date may not.
    assert!(
        !response.text().contains("1983-07-02"),
        "{}",
        response.text()
    );
}

#[tokio::test]
async fn empty_batch_is_batch_empty() {
    let app = TestApp::spawn().await;
    let body = app
        .post_json(BATCH, &json!({"klaim": []}))
        .await
        .problem(StatusCode::BAD_REQUEST, "batch_empty");
    assert_eq!(body["field"], "klaim");
}

#[tokio::test]
async fn batch_over_the_limit_is_batch_too_large() {
    let app = TestApp::spawn().await;
    let claim: Value = json!({"nik": app.nik(0, 0), "nama": "Budi", "tanggal_lahir": "1980-03-14"});
    let at_limit = json!({"klaim": vec![claim.clone(); 10_000]});
    let body = app.post_json(BATCH, &at_limit).await.ok_json();
    assert_eq!(body["ringkasan"]["jumlah"], 10_000);
    let over = json!({"klaim": vec![claim; 10_001]});
    let body = app
        .post_json(BATCH, &over)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large");
    assert_eq!(body["field"], "klaim");
}

#[tokio::test]
async fn a_nik_sent_as_a_number_is_not_echoed() {
    let app = TestApp::spawn().await;
    let nik: u64 = app.nik(0, 0).parse().expect("digits");
    let response = app
        .post_json(
            SINGLE,
            &json!({"nik": nik, "nama": "Budi Santoso", "tanggal_lahir": "1980-03-14"}),
        )
        .await;
    let body = response.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(body["field"], "nik");
    assert!(!response.text().contains(&app.nik(0, 0)), "{body}");
    let response = app
        .post_json(
            BATCH,
            &json!({"klaim": [{"nik": nik, "nama": "Budi", "tanggal_lahir": "1980-03-14"}]}),
        )
        .await;
    let body = response.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(body["field"], "klaim[0].nik");
    assert!(!response.text().contains(&app.nik(0, 0)), "{body}");
}
