//! `TestApp`: a fresh SQLite store in a temporary directory, loaded with Kota Madiun and a
//! few other regions and three fixture families, behind the real router.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use simpul_api::{AppState, Limits, router};
use simpul_domain::wilayah::{self, Region};
use simpul_domain::{Family, KodeWilayah, RegistryEvent};
use simpul_store::Store;
use simpul_store::contract::fixture_family;
use simpul_store_sqlite::SqliteStore;
use tower::ServiceExt;

/// The problem+json media type every error answer carries.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One test's application: its router, its store and the families loaded into it.
pub struct TestApp {
    pub router: Router,
    pub store: Arc<SqliteStore>,
    /// Budi Santoso (35.77.01.1001), Budi Hartono and Slamet Santoso (both 35.77.02.1006);
    /// each with a wife, Siti Aminah, and a daughter, Dewi Lestari.
    pub families: Vec<Family>,
    // Dropped last: deletes the database with its -wal and -shm files.
    _dir: tempfile::TempDir,
}

/// A finished response, body read.
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

fn code(text: &str) -> KodeWilayah {
    KodeWilayah::parse(text).expect("fixture region code")
}

/// Kota Madiun with everything inside it and above it, Kabupaten Madiun (so a name search
/// spans two regencies), and three other provinces.
fn test_regions() -> Vec<Region> {
    let madiun = code("35.77");
    wilayah::embedded()
        .iter()
        .filter(|r| {
            r.code.is_within(&madiun)
                || madiun.is_within(&r.code)
                || ["11", "31", "33", "35.19"].contains(&r.code.as_str())
        })
        .cloned()
        .collect()
}

impl TestApp {
    /// An app with the default limits.
    pub async fn spawn() -> Self {
        Self::with_limits(Limits::default()).await
    }

    /// An app with the given limits, for tests of the limits themselves.
    pub async fn with_limits(limits: Limits) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("simpul.db").display());
        let store = Arc::new(
            SqliteStore::connect(&url, Arc::new(simpul_store::Vault::ephemeral()))
                .await
                .expect("connect"),
        );
        store.load_regions(&test_regions()).await.expect("regions");
        let families = vec![
            fixture_family("35.77.01.1001", 1, "Budi Santoso"),
            fixture_family("35.77.02.1006", 2, "Budi Hartono"),
            fixture_family("35.77.02.1006", 3, "Slamet Santoso"),
        ];
        let events: Vec<RegistryEvent> = families
            .iter()
            .cloned()
            .map(RegistryEvent::KeluargaTerdaftar)
            .collect();
        store.append(&events).await.expect("fixture families");
        let router = router(AppState::new(store.clone(), limits));
        Self {
            router,
            store,
            families,
            _dir: dir,
        }
    }

    /// Sends one request through the router, no socket.
    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(Method::GET, uri, None, Vec::new()).await
    }

    pub async fn post_json(&self, uri: &str, body: &Value) -> TestResponse {
        let bytes = serde_json::to_vec(body).expect("serialise");
        self.post_raw(uri, Some("application/json"), bytes).await
    }

    pub async fn post_raw(
        &self,
        uri: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> TestResponse {
        self.send(Method::POST, uri, content_type, body).await
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(content_type) = content_type {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        self.request(builder.body(Body::from(body)).expect("request"))
            .await
    }

    /// A living resident's NIK, as text.
    pub fn nik(&self, family: usize, member: usize) -> String {
        self.families[family].members[member].nik.to_string()
    }
}

impl TestResponse {
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body text when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// Asserts a 200 JSON answer and returns its body.
    pub fn ok_json(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text());
        assert!(
            self.content_type().starts_with("application/json"),
            "{}",
            self.content_type()
        );
        self.json()
    }

    /// Asserts a problem+json answer with this status and code, consistent with the code
    /// table, and returns its body.
    pub fn problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_problem_shape(self);
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        body
    }
}

/// Every error answer is RFC 9457 problem+json whose members agree with the response.
pub fn assert_problem_shape(response: &TestResponse) {
    assert_eq!(response.content_type(), PROBLEM_JSON, "{}", response.text());
    let body = response.json();
    assert_eq!(body["status"], response.status.as_u16(), "{body}");
    let code = body["code"].as_str().expect("code member");
    assert_eq!(body["type"], format!("urn:simpul:problem:{code}"));
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(body["detail"].is_string(), "{body}");
}

/// Percent-encodes every byte outside RFC 3986's unreserved set, so any string (or byte
/// string) can be placed in a path segment or a query value.
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
