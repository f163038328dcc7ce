//! `TestApp`: a fresh SQLite store in a temporary directory, loaded with Kota Madiun and a
//! few other regions and three fixture families, behind the real router.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::Utc;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use simpul_api::auth::SESSION_COOKIE;
use simpul_api::auth::provision::{NewAccount, NewClient};
use simpul_api::{AppState, Limits, Security, router};
use simpul_domain::wilayah::{self, Region};
use simpul_domain::{Family, KodeWilayah, RegistryEvent};
use simpul_identity::{Totp, TotpSecret};
use simpul_store::contract::fixture_family;
use simpul_store::{AgreementRecord, IdentityStore, Store};
use simpul_store_sqlite::SqliteStore;
use tower::ServiceExt;
use zeroize::Zeroizing;

/// Test security: a fresh signing key, plain-HTTP cookies, a cheap password hash, and a
/// quota no functional test reaches.
pub fn test_security() -> Security {
    let signer = simpul_identity::AccessTokenSigner::generate(
        simpul_identity::SigningKeyId::parse("test").expect("key id"),
        &mut rand::rng(),
    );
    let mut security = Security::new(signer, "http://simpul.test");
    security.cookie_secure = false;
    security.hasher =
        simpul_identity::PasswordHasher::with_cost_for_tests(8, 1, 1).expect("test cost");
    security.default_quota = 1_000_000;
    security
}

/// The witness the test hub accepts cosignatures from.
pub fn test_witness() -> simpul_ledger::CosignatureSigner {
    simpul_ledger::CosignatureSigner::from_seed(
        simpul_ledger::KeyName::new("witness.test/w1").expect("name"),
        &[9; 32],
    )
}

/// The problem+json media type every error answer carries.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A signed-in caller's credentials: the session cookie and its CSRF token.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub cookie: String,
    pub csrf: String,
}

/// One test's application: its router, its store and the families loaded into it.
pub struct TestApp {
    pub router: Router,
    pub store: Arc<SqliteStore>,
    pub state: AppState,
    /// The caller requests go out as unless a test says otherwise: a registrar of Kota
    /// Madiun (who may read every fixture).
    pub caller: Credentials,
    /// Budi Santoso (35.77.01.1001), Budi Hartono and Slamet Santoso (both 35.77.02.1006);
    /// each with a wife, Siti Aminah, and a daughter, Dewi Lestari.
    pub families: Vec<Family>,
    /// Seals the ledger when a test asks ([`TestApp::seal`]), as the hub's task does.
    pub sealer: tokio::sync::Mutex<simpul_store::ledger_seal::Sealer>,
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
        let vault = Arc::new(simpul_store::Vault::ephemeral());
        let store = Arc::new(
            SqliteStore::connect(&url, vault.clone())
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
        let state = AppState::new(
            store.clone(),
            vault,
            test_security(),
            simpul_watch::Watch::new(simpul_watch::Thresholds::default()).expect("thresholds"),
            limits,
            simpul_api::ledger::LedgerConfig {
                origin: simpul_store::contract::TEST_ORIGIN.to_owned(),
                log_key: simpul_store::contract::test_log_key().verifier(),
                witnesses: vec![test_witness().verifier()],
            },
        );
        let router = router(state.clone());
        let mut app = Self {
            router,
            store,
            state,
            caller: Credentials {
                cookie: String::new(),
                csrf: String::new(),
            },
            families,
            sealer: tokio::sync::Mutex::new(simpul_store::ledger_seal::Sealer::new(
                simpul_store::contract::TEST_ORIGIN,
                simpul_store::contract::test_log_key(),
            )),
            _dir: dir,
        };
        app.caller = app
            .signed_in("registrar.kota", "registrar", Some("35.77"))
            .await;
        app
    }

    /// Seals everything pending into the ledger and signs a checkpoint; returns the leaves
    /// added.
    pub async fn seal(&self) -> u64 {
        let mut sealer = self.sealer.lock().await;
        let mut total = 0;
        loop {
            let added = simpul_api::ledger::seal_round(self.store.as_ref(), &mut sealer)
                .await
                .expect("seal");
            if added == 0 {
                return total;
            }
            total += added;
        }
    }

    /// An enrolled account of `role` (scoped to `scope`) with a fully signed-in session,
    /// made straight in the store: the sign-in flow itself has its own tests.
    pub async fn signed_in(&self, username: &str, role: &str, scope: Option<&str>) -> Credentials {
        let now = simpul_store::now();
        if self.store.account(username).await.expect("read").is_none() {
            self.store
                .create_account(&simpul_store::AccountRecord {
                    username: username.to_owned(),
                    display_name: username.to_owned(),
                    role: role.to_owned(),
                    scope: scope.map(str::to_owned),
                    password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
                        .into(),
                    totp_secret: None,
                    totp_enrolled: true,
                    totp_last_step: None,
                    recovery_codes: None,
                    throttle: "{}".into(),
                    disabled: false,
                    created_at: now,
                    version: 0,
                })
                .await
                .expect("account");
        }
        let mut rng = rand::rng();
        let token = simpul_identity::SessionToken::generate(&mut rng);
        let csrf = simpul_identity::SessionToken::generate(&mut rng);
        self.store
            .create_session(&simpul_store::SessionRecord {
                token_hash: token.hash().to_hex(),
                username: username.to_owned(),
                csrf_hash: csrf.hash().to_hex(),
                second_factor_done: true,
                created_at: now,
                last_seen_at: now,
            })
            .await
            .expect("session");
        Credentials {
            cookie: format!("simpul_sesi={}", token.to_cookie_value().as_str()),
            csrf: csrf.to_cookie_value().to_string(),
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
        self.send_as(Some(&self.caller), method, uri, content_type, body)
            .await
    }

    /// Sends as `caller` (or anonymously), stating a purpose.
    pub async fn send_as(
        &self,
        caller: Option<&Credentials>,
        method: Method,
        uri: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> TestResponse {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("x-tujuan", "pengujian");
        if let Some(caller) = caller {
            builder = builder
                .header(header::COOKIE, &caller.cookie)
                .header("x-csrf-token", &caller.csrf);
        }
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

    /// Sends exactly `headers`: no default caller, no purpose, no CSRF token.
    pub async fn send_headers(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.request(builder.body(Body::from(body)).expect("request"))
            .await
    }

    /// An account made the way an administrator makes one (policy checked, password
    /// hashed, TOTP not enrolled), with [`PASSWORD`].
    pub async fn provision_account(&self, username: &str, role: &str, scope: Option<&str>) {
        simpul_api::auth::provision::create_account(
            self.store.as_ref(),
            &self.state.security.hasher,
            NewAccount {
                username: username.to_owned(),
                display_name: username.to_owned(),
                role: role.to_owned(),
                scope: scope.map(str::to_owned),
                password: Zeroizing::new(PASSWORD.to_owned()),
            },
        )
        .await
        .expect("account");
    }

    /// The password step: `POST /api/v1/sesi` with a JSON body.
    pub async fn sign_in_password(&self, username: &str, password: &str) -> TestResponse {
        let body = json!({"nama_pengguna": username, "kata_sandi": password});
        self.send_headers(
            Method::POST,
            "/api/v1/sesi",
            &[("content-type", "application/json")],
            serde_json::to_vec(&body).expect("serialise"),
        )
        .await
    }

    /// The password step, asserted to succeed: the pending session and its stage
    /// (`daftar_totp` or `totp`).
    pub async fn pending_session(&self, username: &str, password: &str) -> (Credentials, String) {
        let answer = self.sign_in_password(username, password).await;
        let state = answer.ok_json();
        let credentials = Credentials {
            cookie: answer.session_cookie().expect("pending session cookie"),
            csrf: state["csrf_token"].as_str().expect("csrf_token").to_owned(),
        };
        let stage = state["tahap"].as_str().expect("tahap").to_owned();
        (credentials, stage)
    }

    /// A cookie-authenticated JSON `POST` (or other method) with the session's CSRF token.
    pub async fn send_session(
        &self,
        credentials: &Credentials,
        method: Method,
        uri: &str,
        body: Option<&Value>,
    ) -> TestResponse {
        let bytes = body
            .map(|b| serde_json::to_vec(b).expect("serialise"))
            .unwrap_or_default();
        let mut headers = vec![
            ("cookie", credentials.cookie.as_str()),
            ("x-csrf-token", credentials.csrf.as_str()),
        ];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        self.send_headers(method, uri, &headers, bytes).await
    }

    /// Signs a never-enrolled account in through HTTP: password, TOTP enrolment, first
    /// code. Returns the full session and what enrolment gave.
    pub async fn sign_in_enrolling(&self, username: &str, password: &str) -> Enrolled {
        let (pending, stage) = self.pending_session(username, password).await;
        assert_eq!(stage, "daftar_totp");
        let enrolment = self
            .send_session(&pending, Method::POST, "/api/v1/sesi/totp/daftar", None)
            .await
            .ok_json();
        let uri = enrolment["otpauth_uri"].as_str().expect("uri").to_owned();
        let totp = totp_of(&uri, username);
        let code = totp.code_at(Utc::now()).expect("code").to_string();
        let done = self
            .send_session(
                &pending,
                Method::POST,
                "/api/v1/sesi/totp",
                Some(&json!({ "kode": code })),
            )
            .await;
        let state = done.ok_json();
        assert_eq!(state["tahap"], "masuk", "{state}");
        Enrolled {
            credentials: Credentials {
                cookie: done.session_cookie().expect("full session cookie"),
                csrf: state["csrf_token"].as_str().expect("csrf").to_owned(),
            },
            first_code: code,
            recovery_codes: state["kode_pemulihan"]
                .as_array()
                .expect("recovery codes")
                .iter()
                .map(|c| c.as_str().expect("code").to_owned())
                .collect(),
        }
    }

    /// A machine client made the way an administrator makes one; returns its secret.
    pub async fn provision_client(
        &self,
        client_id: &str,
        scopes: &str,
        rate_limit_per_minute: Option<u32>,
    ) -> String {
        let (_, secret) = simpul_api::auth::provision::create_client(
            self.store.as_ref(),
            NewClient {
                client_id: client_id.to_owned(),
                name: client_id.to_owned(),
                agency: "dinsos".to_owned(),
                scopes: scopes.to_owned(),
                rate_limit_per_minute,
            },
        )
        .await
        .expect("client");
        secret.to_string()
    }

    /// The agreement letting dinsos check NIKs (single and batch) across Kota Madiun.
    pub async fn dinsos_agreement(&self) {
        self.store
            .put_agreement(&AgreementRecord {
                agency: "dinsos".into(),
                actions: vec!["verify_nik".into(), "verify_nik_batch".into()],
                region: "35.77".into(),
                reference: "PKS/1".into(),
            })
            .await
            .expect("agreement");
        // The gate caches agreements for a few seconds; this one must count at once.
        self.state.gate.agreements_changed();
    }

    /// `POST /oauth/token` (client credentials, HTTP Basic) with the given form fields.
    pub async fn token_request(&self, client_id: &str, secret: &str, form: &str) -> TestResponse {
        let authorization = basic_auth(client_id, secret);
        self.send_headers(
            Method::POST,
            "/oauth/token",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", &authorization),
            ],
            form.as_bytes().to_vec(),
        )
        .await
    }

    /// A bearer access token for the client, with its whole grant.
    pub async fn bearer_token(&self, client_id: &str, secret: &str) -> String {
        let body = self
            .token_request(client_id, secret, "grant_type=client_credentials")
            .await
            .ok_json();
        body["access_token"].as_str().expect("token").to_owned()
    }

    /// Sends as a machine client: `Authorization: Bearer`, a purpose, and a JSON body.
    pub async fn send_bearer(
        &self,
        token: &str,
        method: Method,
        uri: &str,
        body: Option<&Value>,
    ) -> TestResponse {
        let authorization = format!("Bearer {token}");
        let bytes = body
            .map(|b| serde_json::to_vec(b).expect("serialise"))
            .unwrap_or_default();
        let mut headers = vec![
            ("authorization", authorization.as_str()),
            ("x-tujuan", "pengujian"),
        ];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        self.send_headers(method, uri, &headers, bytes).await
    }

    /// A claim on a fixture resident that matches the registry.
    pub fn claim(&self, family: usize, member: usize) -> Value {
        let resident = &self.families[family].members[member];
        json!({
            "nik": resident.nik.as_str(),
            "nama": resident.full_name,
            "tanggal_lahir": resident.birth_date,
        })
    }
}

/// The password of accounts made by [`TestApp::provision_account`]: long enough, not common.
pub const PASSWORD: &str = "kuda-lumping-ponorogo-1945";

/// What signing in through HTTP with enrolment gave.
pub struct Enrolled {
    /// The full session.
    pub credentials: Credentials,
    /// The code that completed enrolment.
    pub first_code: String,
    /// The recovery codes shown once.
    pub recovery_codes: Vec<String>,
}

/// The TOTP an `otpauth://` enrolment URI describes (its `secret=` parameter, base32).
pub fn totp_of(otpauth_uri: &str, username: &str) -> Totp {
    let secret = otpauth_uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .expect("secret parameter");
    let secret = TotpSecret::from_base32(secret).expect("base32 secret");
    Totp::new(&secret, username).expect("totp")
}

/// A well-formed six-digit code that the TOTP accepts at no step near now.
pub fn wrong_code(totp: &Totp) -> String {
    let now = Utc::now();
    let near: Vec<String> = (-3..=3)
        .map(|step| {
            totp.code_at(now + chrono::TimeDelta::seconds(30 * step))
                .expect("code")
                .to_string()
        })
        .collect();
    (0..10)
        .map(|d| d.to_string().repeat(6))
        .find(|c| !near.contains(c))
        .expect("ten candidates, at most seven taken")
}

/// `Authorization: Basic` for a client (RFC 6749 §2.3.1).
pub fn basic_auth(client_id: &str, secret: &str) -> String {
    use base64ct::Encoding;
    format!(
        "Basic {}",
        base64ct::Base64::encode_string(format!("{client_id}:{secret}").as_bytes())
    )
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

    /// The `name=value` pair of the session cookie this answer sets, if it sets one.
    pub fn session_cookie(&self) -> Option<String> {
        self.set_cookie(SESSION_COOKIE)
            .and_then(|line| line.split(';').next().map(str::to_owned))
    }

    /// The whole `Set-Cookie` line for cookie `name`, if the answer sets it.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|line| line.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
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
