//! `/api/v1/keluarga/{no_kk}`: a family card with its members.

use axum::http::StatusCode;
use chrono::NaiveDate;
use simpul_domain::{KodeWilayah, NoKk};

use crate::helpers::TestApp;

#[tokio::test]
async fn family_has_address_and_members_in_card_order() {
    let app = TestApp::spawn().await;
    let family = &app.families[1];
    let body = app
        .get(&format!("/api/v1/keluarga/{}", family.no_kk))
        .await
        .ok_json();
    assert_eq!(body["no_kk"], family.no_kk.as_str());
    assert_eq!(body["alamat"]["kelurahan"], "35.77.02.1006");
    assert_eq!(body["alamat"]["alamat"], "Jl. Pahlawan No. 2");
    let members = body["anggota"].as_array().expect("anggota");
    let names: Vec<&str> = members
        .iter()
        .map(|m| m["nama_lengkap"].as_str().expect("nama"))
        .collect();
    assert_eq!(names, ["Budi Hartono", "Siti Aminah", "Dewi Lestari"]);
    let relations: Vec<&str> = members
        .iter()
        .map(|m| m["hubungan_keluarga"].as_str().expect("hubungan"))
        .collect();
    assert_eq!(relations, ["kepala_keluarga", "istri", "anak"]);
    for (member, expected) in members.iter().zip(&family.members) {
        assert_eq!(member["nik"], expected.nik.as_str());
        assert_eq!(member["no_kk"], family.no_kk.as_str());
    }
}

#[tokio::test]
async fn unknown_kk_is_family_not_found() {
    let app = TestApp::spawn().await;
    let kecamatan = KodeWilayah::parse("35.77.01").expect("code");
    let recorded = NaiveDate::from_ymd_opt(2015, 1, 25).expect("date");
    let unknown = NoKk::compose(&kecamatan, recorded, 99).expect("kk");
    let body = app
        .get(&format!("/api/v1/keluarga/{unknown}"))
        .await
        .problem(StatusCode::NOT_FOUND, "family_not_found");
    assert_eq!(body["field"], "no_kk");
}

#[tokio::test]
async fn invalid_kk_is_invalid_no_kk_with_its_kind() {
    let app = TestApp::spawn().await;
    for (input, kind) in [
        ("357701250115", "length"),
        ("35770125011500x1", "non_digit"),
        ("3577992501150001", "unknown_district"),
        // A KK's date has no sex offset: day 45 is out of range.
        ("3577014501150001", "day_out_of_range"),
        ("3577013002150001", "impossible_date"),
        ("3577012501150000", "serial_zero"),
    ] {
        let body = app
            .get(&format!("/api/v1/keluarga/{input}"))
            .await
            .problem(StatusCode::BAD_REQUEST, "invalid_no_kk");
        assert_eq!(body["reason"], kind, "{input}: {body}");
        assert_eq!(body["field"], "no_kk");
    }
}
