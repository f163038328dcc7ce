//! Personal data never reaches a log line: every kind of request, good and bad, with NIKs
//! and names in paths, queries and bodies, while every log event at every level is
//! captured. Failures that quote their input (serde's messages, a NIK in a problem
//! detail) are exactly what this catches.
//!
//! A test binary of its own, against the one-binary-per-crate habit: `tracing` caches per
//! call site whether anyone listens, process-wide, so tests running beside this one on
//! other threads without a subscriber can switch its capture off.

#[allow(
    dead_code,
    reason = "shared with the api suite; this binary needs only a few helpers"
)]
#[path = "api/helpers.rs"]
mod helpers;

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

use helpers::TestApp;

/// Log output gathered in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

// Current-thread runtime: the handlers and the coalescing workers run on this thread, so
// the thread-local subscriber sees all of their events.
#[tokio::test(flavor = "current_thread")]
async fn no_request_puts_personal_data_in_the_log() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::spawn().await;
    let head = app.families[0].members[0].clone();
    let nik = head.nik.to_string();
    let no_kk = head.no_kk.to_string();
    let birth = head.birth_date.to_string();
    let claim = json!({"nik": nik, "nama": head.full_name, "tanggal_lahir": birth,
                       "nama_ibu": head.mother_name, "tempat_lahir": head.birth_place});

    let statuses = [
        app.get(&format!("/api/v1/penduduk/{nik}")).await.status,
        app.get(&format!("/api/v1/keluarga/{no_kk}")).await.status,
        app.get("/api/v1/penduduk?nama=Budi%20Santoso&kelurahan=35.77")
            .await
            .status,
        app.get(&format!("/api/v1/penduduk?tanggal_lahir={birth}"))
            .await
            .status,
        app.post_json("/api/v1/nik/verifikasi", &claim).await.status,
        app.post_json("/api/v1/nik/verifikasi/batch", &json!({ "klaim": [claim.clone(), claim] }))
            .await
            .status,
        // Failures that could quote what was sent.
        app.get(&format!("/api/v1/penduduk/{nik}x")).await.status,
        app.post_json("/api/v1/nik/verifikasi", &json!({"nik": nik.parse::<u64>().ok(), "nama": "Budi Santoso", "tanggal_lahir": birth}))
            .await
            .status,
        app.post_json("/api/v1/nik/verifikasi", &json!({"nik": nik, "nama": "Budi Santoso", "tanggal_lahir": "Budi Santoso"}))
            .await
            .status,
        app.post_json("/api/v1/nik/verifikasi", &json!({"nik": nik, "nama": "Budi Santoso", "tanggal_lahir": birth, "Painem": 1}))
            .await
            .status,
        app.post_raw(
            "/api/v1/nik/verifikasi",
            Some("application/json"),
            format!("{{\"nik\": \"{nik}\", \"nama\": \"Budi Santoso\"").into_bytes(),
        )
        .await
        .status,
        app.get(&format!("/api/v1/penduduk?nama=Budi&{nik}=1")).await.status,
    ];
    assert_eq!(
        statuses.iter().filter(|s| s.is_success()).count(),
        6,
        "{statuses:?}"
    );

    let log = captured.text();
    assert!(
        log.matches("served").count() >= statuses.len(),
        "the access log did write a line per request:\n{log}"
    );
    for secret in [
        nik.as_str(),
        no_kk.as_str(),
        birth.as_str(),
        "Budi",
        "Santoso",
        "Painem",
        "Madiun\"",
    ] {
        assert!(!log.contains(secret), "{secret:?} reached the log:\n{log}");
    }
}
