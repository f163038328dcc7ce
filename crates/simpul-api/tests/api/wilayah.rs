//! `/api/v1/wilayah`: show with parents and children, children, name search.

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|r| r["nama"].as_str().expect("nama"))
        .collect()
}

#[tokio::test]
async fn city_answers_with_parent_chain_and_kecamatan() {
    let app = TestApp::spawn().await;
    let body = app.get("/api/v1/wilayah/35.77").await.ok_json();
    assert_eq!(body["kode"], "35.77");
    assert_eq!(body["nama"], "Kota Madiun");
    assert_eq!(body["tingkat"], "kabupaten_kota");
    assert_eq!(body["induk"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["induk"][0]["kode"], "35");
    assert_eq!(body["induk"][0]["nama"], "Jawa Timur");
    assert_eq!(body["induk"][0]["tingkat"], "provinsi");
    assert_eq!(names(&body["anak"]), ["Kartoharjo", "Manguharjo", "Taman"]);
    assert_eq!(body["anak"][0]["kode"], "35.77.01");
}

#[tokio::test]
async fn kelurahan_lists_every_parent_from_the_province_down() {
    let app = TestApp::spawn().await;
    let body = app.get("/api/v1/wilayah/35.77.02.1006").await.ok_json();
    assert_eq!(body["nama"], "Madiun Lor");
    assert_eq!(
        names(&body["induk"]),
        ["Jawa Timur", "Kota Madiun", "Manguharjo"]
    );
    assert_eq!(body["anak"], Value::Array(vec![]));
}

#[tokio::test]
async fn undotted_code_is_accepted_and_answered_dotted() {
    let app = TestApp::spawn().await;
    let body = app.get("/api/v1/wilayah/3577").await.ok_json();
    assert_eq!(body["kode"], "35.77");
}

#[tokio::test]
async fn children_of_a_kecamatan() {
    let app = TestApp::spawn().await;
    let body = app.get("/api/v1/wilayah/35.77/anak").await.ok_json();
    assert_eq!(names(&body), ["Kartoharjo", "Manguharjo", "Taman"]);
    let kelurahan = app.get("/api/v1/wilayah/35.77.01/anak").await.ok_json();
    let list = kelurahan.as_array().expect("array");
    assert_eq!(list.len(), 9);
    assert!(list.iter().all(|r| r["tingkat"] == "kelurahan_desa"));
    assert!(
        list.windows(2)
            .all(|w| w[0]["kode"].as_str() < w[1]["kode"].as_str()),
        "ordered by code"
    );
}

#[tokio::test]
async fn search_by_name_spans_levels_in_level_order() {
    let app = TestApp::spawn().await;
    let body = app.get("/api/v1/wilayah?q=madiun").await.ok_json();
    let codes: Vec<&str> = body
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["kode"].as_str().expect("kode"))
        .collect();
    assert_eq!(codes, ["35.19", "35.77", "35.77.02.1006"]);
    // Case and surrounding spaces do not matter.
    let upper = app
        .get("/api/v1/wilayah?q=%20%20MADIUN%20LOR%20")
        .await
        .ok_json();
    assert_eq!(names(&upper), ["Madiun Lor"]);
    let none = app.get("/api/v1/wilayah?q=atlantis").await.ok_json();
    assert_eq!(none, Value::Array(vec![]));
}

#[tokio::test]
async fn unknown_code_is_region_not_found() {
    let app = TestApp::spawn().await;
    for uri in ["/api/v1/wilayah/35.99", "/api/v1/wilayah/35.99/anak"] {
        let body = app
            .get(uri)
            .await
            .problem(StatusCode::NOT_FOUND, "region_not_found");
        assert_eq!(body["field"], "kode");
    }
}

#[tokio::test]
async fn malformed_code_is_invalid_region_code() {
    let app = TestApp::spawn().await;
    for uri in [
        "/api/v1/wilayah/35.7",
        "/api/v1/wilayah/abc",
        "/api/v1/wilayah/35.77.01.1001.1",
        "/api/v1/wilayah/35577/anak",
    ] {
        let body = app
            .get(uri)
            .await
            .problem(StatusCode::BAD_REQUEST, "invalid_region_code");
        assert_eq!(body["field"], "kode", "{uri}");
    }
}

#[tokio::test]
async fn short_long_or_missing_q_is_invalid_query() {
    let app = TestApp::spawn().await;
    let long = format!("/api/v1/wilayah?q={}", "a".repeat(101));
    for uri in [
        "/api/v1/wilayah?q=ma",
        "/api/v1/wilayah?q=%20%20ma%20%20",
        long.as_str(),
    ] {
        let body = app
            .get(uri)
            .await
            .problem(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(body["field"], "q", "{uri}");
    }
    app.get("/api/v1/wilayah")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_query");
    app.get("/api/v1/wilayah?q=madiun&limit=5")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_query");
}
