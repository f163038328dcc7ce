//! Operations: health, readiness (and the 5xx path), metrics, OpenAPI, Swagger UI.

use axum::http::{StatusCode, header};

use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!(
        (health.status, health.text().as_str()),
        (StatusCode::OK, "ok")
    );
    let ready = app.get("/readyz").await;
    assert_eq!(
        (ready.status, ready.text().as_str()),
        (StatusCode::OK, "ready")
    );
}

#[tokio::test]
async fn a_closed_store_is_store_unavailable_without_internals() {
    let app = TestApp::spawn().await;
    let nik = app.nik(0, 0);
    app.store.close().await;
    let health = app.get("/healthz").await;
    assert_eq!(
        health.status,
        StatusCode::OK,
        "liveness does not need the store"
    );
    let uris = [
        "/readyz".to_owned(),
        "/api/v1/wilayah/35.77".to_owned(),
        format!("/api/v1/penduduk/{nik}"),
        "/api/v1/penduduk?nama=budi".to_owned(),
    ];
    for uri in &uris {
        let response = app.get(uri).await;
        let body = response.problem(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
        assert_eq!(body["detail"], "coba lagi beberapa saat lagi", "{uri}");
        let raw = response.text().to_lowercase();
        for internal in ["pool", "sqlx", "sqlite", "closed", "error"] {
            assert!(!raw.contains(internal), "{uri} leaks {internal:?}: {raw}");
        }
        assert!(!raw.contains(&nik), "{raw}");
    }
    let verify = app
        .post_json(
            "/api/v1/nik/verifikasi",
            &serde_json::json!({"nik": nik, "nama": "Budi", "tanggal_lahir": "1980-03-14"}),
        )
        .await;
    verify.problem(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_never_by_nik() {
    let app = TestApp::spawn().await;
    let nik = app.nik(1, 2);
    app.get(&format!("/api/v1/penduduk/{nik}")).await.ok_json();
    app.get("/api/v1/penduduk/3577013203800001").await;
    app.get("/tidak/ada/3577013203800001").await;
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.content_type().starts_with("text/plain"),
        "{}",
        metrics.content_type()
    );
    let text = metrics.text();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("simpul_http_requests_total{")
                && l.contains(r#"route="/api/v1/penduduk/{nik}""#)
                && l.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("no request counter for the NIK route:\n{text}"));
    assert!(line.contains(r#"method="GET""#), "{line}");
    assert!(text.contains(r#"route="unmatched""#), "{text}");
    assert!(
        text.contains("simpul_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(!text.contains(&nik), "a NIK became a label");
    assert!(!text.contains("3577013203800001"), "a NIK became a label");
}

#[tokio::test]
async fn unknown_methods_share_one_metric_label() {
    let app = TestApp::spawn().await;
    let method = axum::http::Method::from_bytes(b"BREWCOFFEE").expect("method");
    let response = app.send(method, "/healthz", None, Vec::new()).await;
    response.problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let text = app.get("/metrics").await.text();
    assert!(!text.contains("BREWCOFFEE"), "{text}");
    assert!(text.contains(r#"method="other""#), "{text}");
}

#[tokio::test]
async fn openapi_document_is_3_1_and_lists_the_api() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json").await.ok_json();
    let version = doc["openapi"].as_str().expect("openapi member");
    assert!(version.starts_with("3.1"), "{version}");
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/wilayah",
        "/api/v1/wilayah/{kode}",
        "/api/v1/wilayah/{kode}/anak",
        "/api/v1/penduduk",
        "/api/v1/penduduk/{nik}",
        "/api/v1/keluarga/{no_kk}",
        "/api/v1/nik/verifikasi",
        "/api/v1/nik/verifikasi/batch",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys()
        );
    }
    // Search parameters are documented as query parameters.
    let params = doc["paths"]["/api/v1/penduduk"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let nama = params.iter().find(|p| p["name"] == "nama").expect("nama");
    assert_eq!(nama["in"], "query");
    assert!(params.iter().all(|p| p["in"] == "query"), "{params:?}");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for schema in [
        "Problem",
        "ProblemCode",
        "Family",
        "ResidentRecord",
        "VerificationOutcome",
    ] {
        assert!(schemas.contains_key(schema), "{schema} missing");
    }
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = TestApp::spawn().await;
    for entry in ["/docs", "/"] {
        let redirect = app.get(entry).await;
        assert!(
            redirect.status.is_redirection(),
            "{entry}: {}",
            redirect.status
        );
        assert_eq!(
            redirect
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("/docs/"),
            "{entry}"
        );
    }
    let page = app.get("/docs/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.content_type().starts_with("text/html"),
        "{}",
        page.content_type()
    );
    let html = page.text();
    assert!(html.contains("swagger-ui"), "{html}");
    // Vendored: the page's assets come from this server, not a CDN.
    assert!(!html.contains("https://"), "{html}");
    let initializer = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(initializer.status, StatusCode::OK);
    assert!(
        initializer.text().contains("/openapi.json"),
        "{}",
        initializer.text()
    );
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(bundle.body.len() > 100_000, "the real bundle, not a stub");
}

#[tokio::test]
async fn serve_answers_on_a_bound_listener_and_shuts_down() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(simpul_api::serve(listener, app.router.clone(), async {
        let _ = stopped.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: simpul\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");
    stop.send(()).expect("server still running");
    let served = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("graceful shutdown finishes")
        .expect("server task");
    assert!(served.is_ok(), "{served:?}");
}
