//! Bad input is always a 4xx problem, never a 5xx: hand-picked cases, then properties
//! that throw random bodies, path segments and query strings at every route.

use axum::http::{Method, StatusCode};
use proptest::prelude::*;
use serde_json::{Value, json};
use simpul_api::Limits;

use crate::helpers::{PROBLEM_JSON, TestApp, TestResponse, assert_problem_shape, percent_encode};

const POSTS: [&str; 2] = ["/api/v1/nik/verifikasi", "/api/v1/nik/verifikasi/batch"];

#[tokio::test]
async fn malformed_json_is_malformed_json() {
    let app = TestApp::spawn().await;
    for uri in POSTS {
        for body in [&b"{"[..], b"{\"", b"[", b"", b"\xff\xfe", b"nik=1"] {
            let response = app
                .post_raw(uri, Some("application/json"), body.to_vec())
                .await;
            response.problem(StatusCode::BAD_REQUEST, "malformed_json");
        }
    }
    // A complete document followed by more text is not one JSON document.
    let trailing = br#"{"klaim": []} {"klaim": []}"#.to_vec();
    app.post_raw(POSTS[1], Some("application/json"), trailing)
        .await
        .problem(StatusCode::BAD_REQUEST, "malformed_json");
}

#[tokio::test]
async fn wrong_types_missing_and_unknown_fields_are_invalid_body() {
    let app = TestApp::spawn().await;
    let cases: [(&str, Value, &str); 8] = [
        (
            POSTS[0],
            json!({"nik": true, "nama": "A", "tanggal_lahir": "1980-03-14"}),
            "nik",
        ),
        (
            POSTS[0],
            json!({"nik": "1", "nama": ["A"], "tanggal_lahir": "1980-03-14"}),
            "nama",
        ),
        (
            POSTS[0],
            json!({"nik": "1", "nama": "A", "tanggal_lahir": "14-03-1980"}),
            "tanggal_lahir",
        ),
        (
            POSTS[0],
            json!({"nik": "1", "nama": "A", "tanggal_lahir": "1980-03-14", "agama": "islam"}),
            "agama",
        ),
        (
            POSTS[0],
            json!({"nik": "1", "tanggal_lahir": "1980-03-14"}),
            "nama",
        ),
        (POSTS[0], json!(["nik"]), ""),
        (POSTS[1], json!({"klaim": {"nik": "1"}}), "klaim"),
        (POSTS[1], json!({"klaim": [], "opd": "dinsos"}), "opd"),
    ];
    for (uri, body, named) in cases {
        let response = app.post_json(uri, &body).await;
        let problem = response.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        let detail = problem["detail"].as_str().unwrap_or("");
        assert!(detail.contains(named), "{body} -> {problem}");
    }
}

#[tokio::test]
async fn wrong_or_missing_content_type_is_unsupported_media_type() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&json!({"klaim": []})).expect("json");
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        app.post_raw(POSTS[1], content_type, body.clone())
            .await
            .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
    // A JSON suffix type is JSON.
    app.post_raw(POSTS[1], Some("application/problem+json"), body)
        .await
        .problem(StatusCode::BAD_REQUEST, "batch_empty");
}

#[tokio::test]
async fn body_over_the_default_limit_is_payload_too_large() {
    let app = TestApp::spawn().await;
    let limit = Limits::default().max_body_bytes;
    let mut body = br#"{"klaim": [""#.to_vec();
    body.resize(limit + 1, b'a');
    for uri in POSTS {
        app.post_raw(uri, Some("application/json"), body.clone())
            .await
            .problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    }
}

#[tokio::test]
async fn configured_body_limit_goes_through_the_json_rejection() {
    let app = TestApp::with_limits(Limits {
        max_body_bytes: 256,
        ..Limits::default()
    })
    .await;
    let claim =
        json!({"nik": app.nik(0, 0), "nama": "Budi Santoso", "tanggal_lahir": "1980-03-14"});
    app.post_json(POSTS[0], &claim).await.ok_json();
    let big = json!({"klaim": vec![claim; 5]});
    assert!(serde_json::to_vec(&big).expect("json").len() > 256);
    app.post_json(POSTS[1], &big)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // Without a Content-Length header (a streamed body), the limit still holds.
    let stream = streamed_body(serde_json::to_vec(&big).expect("json"));
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(POSTS[1])
        .header("content-type", "application/json")
        .header("cookie", &app.caller.cookie)
        .header("x-csrf-token", &app.caller.csrf)
        .header("x-tujuan", "pengujian")
        .body(stream)
        .expect("request");
    app.request(request)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

/// The same bytes as a stream with no size hint, as a chunked upload arrives.
fn streamed_body(bytes: Vec<u8>) -> axum::body::Body {
    axum::body::Body::from_stream(axum::body::Body::from(bytes).into_data_stream())
}

// ---- properties ----

/// Runs `property` for `cases` random inputs against one app on one runtime (a fresh
/// store per case would make the properties slow without testing anything more).
fn check_property<S: Strategy>(
    strategy: S,
    property: impl Fn(&tokio::runtime::Runtime, &TestApp, S::Value) -> Result<(), TestCaseError>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let app = runtime.block_on(TestApp::spawn());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 192,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(&strategy, |value| property(&runtime, &app, value));
    {
        // The store's pools close on drop and need the runtime to do it.
        let _entered = runtime.enter();
        drop(app);
    }
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Bad input may be refused, never fail the server: below 500, and a problem when 4xx.
fn check_answer(response: &TestResponse, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        response.status.as_u16() < 500,
        "{what} -> {}: {}",
        response.status,
        response.text()
    );
    if response.status.is_client_error() {
        prop_assert_eq!(response.content_type(), PROBLEM_JSON, "{}", what);
        assert_problem_shape(response);
    }
    Ok(())
}

const FIELDS: [&str; 6] = [
    "nik",
    "nama",
    "tanggal_lahir",
    "tempat_lahir",
    "nama_ibu",
    "klaim",
];

/// Any JSON value, its object keys mostly the API's field names, so random bodies get
/// past the syntax check into the schema and the handlers.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        3 => prop::sample::select(FIELDS.to_vec()).prop_map(str::to_owned),
        1 => "\\PC{0,8}",
    ]
    .boxed();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
        "[0-9]{14,18}".prop_map(Value::from),
        "(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A well-shaped claim with random values: reaches NIK parsing and verification.
fn claim() -> impl Strategy<Value = Value> {
    let nik = prop_oneof![
        "[0-9]{16}",
        "3577[0-9]{12}",
        "35770[1-3][0-7][0-9][01][0-9]{3}[0-9]{4}",
        "\\PC{0,20}"
    ];
    let date = "(19[0-9]{2}|20[01][0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])";
    (nik, "\\PC{0,30}", date, proptest::option::of("\\PC{0,20}")).prop_map(
        |(nik, nama, tanggal_lahir, nama_ibu)| {
            let mut claim = json!({"nik": nik, "nama": nama, "tanggal_lahir": tanggal_lahir});
            if let Some(nama_ibu) = nama_ibu {
                claim["nama_ibu"] = Value::from(nama_ibu);
            }
            claim
        },
    )
}

fn post_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        "\\PC{0,200}".prop_map(String::into_bytes),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        claim().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(claim(), 0..6)
            .prop_map(|claims| json!({ "klaim": claims }).to_string().into_bytes()),
    ]
}

/// A path segment or query value: arbitrary bytes (invalid UTF-8 included), text, or
/// something shaped like a NIK or a region code.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| percent_encode(&b)),
        "\\PC{0,30}".prop_map(|s| percent_encode(s.as_bytes())),
        "[0-9]{15,17}",
        "[0-9]{2}(\\.[0-9]{1,4}){0,4}",
        "[A-Za-z0-9._~-]{1,20}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "q",
            "nama",
            "tanggal_lahir",
            "kelurahan",
            "halaman",
            "per_halaman",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,10}",
    ];
    prop::collection::vec((key, segment()), 0..5).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

#[test]
fn random_post_bodies_never_fail_the_server() {
    let content_types = vec![
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
    ];
    let inputs = (
        post_body(),
        prop::sample::select(POSTS.to_vec()),
        prop::sample::select(content_types),
    );
    check_property(inputs, |runtime, app, (body, uri, content_type)| {
        let response = runtime.block_on(app.post_raw(uri, Some(content_type), body.clone()));
        check_answer(
            &response,
            &format!("POST {uri} {}", String::from_utf8_lossy(&body)),
        )
    });
}

#[test]
fn random_path_segments_never_fail_the_server() {
    let templates = vec![
        "/api/v1/wilayah/{}",
        "/api/v1/wilayah/{}/anak",
        "/api/v1/penduduk/{}",
        "/api/v1/keluarga/{}",
        "/api/v1/{}",
        "/{}",
    ];
    let inputs = (prop::sample::select(templates), segment());
    check_property(inputs, |runtime, app, (template, segment)| {
        let uri = template.replace("{}", &segment);
        let response = runtime.block_on(app.get(&uri));
        check_answer(&response, &format!("GET {uri}"))
    });
}

#[test]
fn random_query_strings_never_fail_the_server() {
    let paths = vec!["/api/v1/penduduk", "/api/v1/wilayah"];
    check_property(
        (prop::sample::select(paths), query()),
        |runtime, app, (path, query)| {
            let uri = format!("{path}?{query}");
            let response = runtime.block_on(app.get(&uri));
            check_answer(&response, &format!("GET {uri}"))
        },
    );
}
