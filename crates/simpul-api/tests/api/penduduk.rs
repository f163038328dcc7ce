//! `/api/v1/penduduk`: one resident by NIK, and search with pagination.

use axum::http::StatusCode;
use chrono::NaiveDate;
use serde_json::Value;
use simpul_domain::{KodeWilayah, Nik, Sex};

use crate::helpers::TestApp;

fn niks(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["nik"].as_str().expect("nik").to_owned())
        .collect()
}

#[tokio::test]
async fn resident_by_nik_has_biodata_and_address() {
    let app = TestApp::spawn().await;
    let head = &app.families[0].members[0];
    let body = app
        .get(&format!("/api/v1/penduduk/{}", head.nik))
        .await
        .ok_json();
    assert_eq!(body["nik"], head.nik.as_str());
    assert_eq!(body["no_kk"], app.families[0].no_kk.as_str());
    assert_eq!(body["nama_lengkap"], "Budi Santoso");
    assert_eq!(body["jenis_kelamin"], "laki_laki");
    assert_eq!(body["tanggal_lahir"], "1980-03-14");
    assert_eq!(body["tempat_lahir"], "Madiun");
    assert_eq!(body["hubungan_keluarga"], "kepala_keluarga");
    assert_eq!(body["status"], "hidup");
    assert_eq!(body["alamat"]["kelurahan"], "35.77.01.1001");
    assert_eq!(body["alamat"]["rt"], 3);
    assert_eq!(body["alamat"]["rw"], 5);
}

#[tokio::test]
async fn unknown_nik_is_resident_not_found() {
    let app = TestApp::spawn().await;
    let kecamatan = KodeWilayah::parse("35.77.03").expect("code");
    let birth = NaiveDate::from_ymd_opt(1990, 1, 1).expect("date");
    let unknown = Nik::compose(&kecamatan, birth, Sex::LakiLaki, 42).expect("nik");
    let body = app
        .get(&format!("/api/v1/penduduk/{unknown}"))
        .await
        .problem(StatusCode::NOT_FOUND, "resident_not_found");
    assert_eq!(body["field"], "nik");
    assert!(!body.to_string().contains(unknown.as_str()), "{body}");
}

#[tokio::test]
async fn every_nik_rule_is_invalid_nik_with_its_kind() {
    let app = TestApp::spawn().await;
    for (input, kind) in [
        ("357701140380001", "length"),
        ("35770114038000011", "length"),
        ("35770114O3800001", "non_digit"),
        ("3577991403800001", "unknown_district"),
        ("3577013203800001", "day_out_of_range"),
        ("3577014003800001", "day_out_of_range"),
        ("3577013002800001", "impossible_date"),
        ("3577011413800001", "impossible_date"),
        ("3577011403800000", "serial_zero"),
    ] {
        let body = app
            .get(&format!("/api/v1/penduduk/{input}"))
            .await
            .problem(StatusCode::BAD_REQUEST, "invalid_nik");
        assert_eq!(body["reason"], kind, "{input}: {body}");
        assert_eq!(body["field"], "nik");
        assert!(!body.to_string().contains(input), "NIK echoed: {body}");
    }
}

#[tokio::test]
async fn search_by_name_date_and_region() {
    let app = TestApp::spawn().await;
    let budi = app.get("/api/v1/penduduk?nama=budi").await.ok_json();
    assert_eq!(budi["total"], 2);
    assert_eq!(
        (budi["halaman"].as_u64(), budi["per_halaman"].as_u64()),
        (Some(1), Some(20))
    );
    // Words in any case, order and spacing, with punctuation.
    let santoso = app
        .get("/api/v1/penduduk?nama=SANTOSO,%20%20budi")
        .await
        .ok_json();
    assert_eq!(niks(&santoso), [app.nik(0, 0)]);
    assert_eq!(santoso["data"][0]["nama_lengkap"], "Budi Santoso");
    assert_eq!(santoso["data"][0]["kelurahan"], "35.77.01.1001");
    // A repeated word still finds the person.
    let repeated = app
        .get("/api/v1/penduduk?nama=budi%20budi%20santoso")
        .await
        .ok_json();
    assert_eq!(niks(&repeated), [app.nik(0, 0)]);
    let in_kelurahan = app
        .get("/api/v1/penduduk?nama=santoso&kelurahan=35.77.02.1006")
        .await
        .ok_json();
    assert_eq!(niks(&in_kelurahan), [app.nik(2, 0)]);
    let daughters = app
        .get("/api/v1/penduduk?tanggal_lahir=2010-05-09")
        .await
        .ok_json();
    assert_eq!(daughters["total"], 3);
    let whole_city = app.get("/api/v1/penduduk?kelurahan=35.77").await.ok_json();
    assert_eq!(whole_city["total"], 9);
    let nobody = app.get("/api/v1/penduduk?nama=tidakada").await.ok_json();
    assert_eq!(
        (nobody["total"].as_u64(), niks(&nobody).len()),
        (Some(0), 0)
    );
}

#[tokio::test]
async fn search_pages_do_not_overlap_and_cover_all() {
    let app = TestApp::spawn().await;
    let mut seen = Vec::new();
    for halaman in 1..=4 {
        let page = app
            .get(&format!(
                "/api/v1/penduduk?kelurahan=35.77.02&per_halaman=4&halaman={halaman}"
            ))
            .await
            .ok_json();
        assert_eq!(page["total"], 6);
        assert_eq!(page["halaman"], halaman);
        assert_eq!(page["per_halaman"], 4);
        let expected_len = [4, 2, 0, 0][halaman as usize - 1];
        assert_eq!(niks(&page).len(), expected_len, "page {halaman}");
        seen.extend(niks(&page));
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "pages repeat a resident");
    let mut expected: Vec<String> = app.families[1..]
        .iter()
        .flat_map(|f| f.members.iter().map(|m| m.nik.to_string()))
        .collect();
    expected.sort();
    assert_eq!(sorted, expected);
}

#[tokio::test]
async fn bad_search_parameters_are_invalid_query() {
    let app = TestApp::spawn().await;
    let long_name = format!("/api/v1/penduduk?nama={}", "a".repeat(121));
    for (uri, field) in [
        ("/api/v1/penduduk", None),
        ("/api/v1/penduduk?halaman=1", None),
        ("/api/v1/penduduk?nama=budi&halaman=0", Some("halaman")),
        (
            "/api/v1/penduduk?nama=budi&per_halaman=0",
            Some("per_halaman"),
        ),
        (
            "/api/v1/penduduk?nama=budi&per_halaman=101",
            Some("per_halaman"),
        ),
        (
            "/api/v1/penduduk?nama=budi&per_halaman=-1",
            Some("per_halaman"),
        ),
        ("/api/v1/penduduk?nama=budi&halaman=dua", Some("halaman")),
        (
            "/api/v1/penduduk?nama=budi&halaman=99999999999",
            Some("halaman"),
        ),
        ("/api/v1/penduduk?nama=budi&urut=nama", None),
        (
            "/api/v1/penduduk?tanggal_lahir=2010-13-01",
            Some("tanggal_lahir"),
        ),
        (
            "/api/v1/penduduk?tanggal_lahir=09-05-2010",
            Some("tanggal_lahir"),
        ),
        ("/api/v1/penduduk?tanggal_lahir=", Some("tanggal_lahir")),
        ("/api/v1/penduduk?nama=%21%21%21", Some("nama")),
        (long_name.as_str(), Some("nama")),
    ] {
        let body = app
            .get(uri)
            .await
            .problem(StatusCode::BAD_REQUEST, "invalid_query");
        if let Some(field) = field {
            assert_eq!(body["field"], field, "{uri}: {body}");
        }
    }
    // The unknown parameter is named; the value is not echoed.
    let body = app
        .get("/api/v1/penduduk?nama=budi&urut=rahasia")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_query");
    assert!(
        body["detail"].as_str().unwrap_or("").contains("urut"),
        "{body}"
    );
    assert!(!body.to_string().contains("rahasia"), "{body}");
}

#[tokio::test]
async fn malformed_region_filter_is_invalid_region_code() {
    let app = TestApp::spawn().await;
    let body = app
        .get("/api/v1/penduduk?kelurahan=35.7")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_region_code");
    assert_eq!(body["field"], "kelurahan");
}
