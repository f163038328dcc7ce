//! The binary end to end: first start seeds a (small) demo city and serves it, a restart
//! keeps the data without seeding again, SIGTERM stops it cleanly, and the CLI tools
//! answer as documented.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BINARY: &str = env!("CARGO_BIN_EXE_simpul");

/// A running `simpul serve` on a free port, stopped with SIGTERM on drop.
struct Hub {
    child: Child,
    address: String,
    /// What the hub printed before it was ready (demo credentials among it).
    banner: String,
    /// A bearer token requests carry, once [`Hub::authorize`] got one.
    token: Option<String>,
}

/// Runs the binary with `args` on `data_dir`; returns stdout, asserting success.
fn simpul(data_dir: &std::path::Path, args: &[&str]) -> String {
    let (success, stdout, stderr) = simpul_outcome(data_dir, args);
    assert!(success, "simpul {args:?}: {stdout}{stderr}");
    stdout
}

/// The value after `name=` in `text`, up to whitespace.
fn field(text: &str, name: &str) -> String {
    text.split(&format!("{name}="))
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no {name}= in {text}"))
        .to_owned()
}

/// A client of agency `uji` allowed to read Kota Madiun's registry, made with
/// `simpul admin`; returns (id, secret).
fn registry_reader(data_dir: &std::path::Path) -> (String, String) {
    let actions = "read_resident search_residents read_family verify_nik";
    let created = simpul(
        data_dir,
        &[
            "admin",
            "create-client",
            "--id",
            "uji-baca",
            "--agency",
            "uji",
            "--scopes",
            actions,
        ],
    );
    simpul(
        data_dir,
        &[
            "admin",
            "grant",
            "--agency",
            "uji",
            "--actions",
            actions,
            "--region",
            "35.77",
            "--reference",
            "UJI/1",
        ],
    );
    (
        field(&created, "client_id"),
        field(&created, "client_secret"),
    )
}

impl Hub {
    fn start(data_dir: &std::path::Path, residents: u32) -> Self {
        Self::start_with(data_dir, residents, &[])
    }

    /// Starts with extra environment variables (a configuration file, say).
    fn start_with(data_dir: &std::path::Path, residents: u32, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(BINARY)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SIMPUL_DATA_DIR", data_dir)
            .env("SIMPUL_LISTEN", "127.0.0.1:0")
            .env("SIMPUL_DEMO__RESIDENTS", residents.to_string())
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start simpul");
        let stdout = child.stdout.take().expect("stdout");
        let mut address = None;
        let mut banner = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read stdout");
            banner.push_str(&line);
            banner.push('\n');
            if let Some(rest) = line
                .split("http://")
                .nth(1)
                .filter(|_| line.contains("siap di"))
            {
                address = rest.split('/').next().map(str::to_owned);
                break;
            }
        }
        let address = address.expect("the hub printed its URL before exiting");
        Self {
            child,
            address,
            banner,
            token: None,
        }
    }

    /// Gets a token with client credentials; later requests carry it.
    fn authorize(&mut self, client_id: &str, secret: &str) {
        let body =
            format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
        let (status, answer) = self.call(
            "POST",
            "/oauth/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &body,
        );
        assert_eq!(status, 200, "{answer}");
        let json: serde_json::Value = serde_json::from_str(&answer).expect("token JSON");
        self.token = Some(json["access_token"].as_str().expect("token").to_owned());
    }

    /// GET `path`, returning (status, body).
    fn get(&self, path: &str) -> (u16, String) {
        self.call("GET", path, &[], "")
    }

    /// POST a JSON body, returning (status, body).
    fn post_json(&self, path: &str, body: &serde_json::Value) -> (u16, String) {
        self.call(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            &body.to_string(),
        )
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\nX-Tujuan: pengujian\r\n",
            self.address,
            body.len()
        );
        if let Some(token) = &self.token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        write!(stream, "{head}\r\n{body}").expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    fn json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM");
        let status = self.child.wait().expect("wait");
        std::mem::forget(self);
        status
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn first_start_seeds_the_demo_city_and_a_restart_keeps_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut hub = Hub::start(dir.path(), 3_000);
    // Personal data needs a caller; the region master data does not.
    assert_eq!(hub.get("/api/v1/penduduk?kelurahan=35.77").0, 401);
    let (id, secret) = registry_reader(dir.path());
    hub.authorize(&id, &secret);
    let madiun = hub.json("/api/v1/wilayah/35.77");
    assert_eq!(madiun["nama"], "Kota Madiun");
    let kecamatan: Vec<&str> = madiun["anak"]
        .as_array()
        .expect("anak")
        .iter()
        .filter_map(|k| k["nama"].as_str())
        .collect();
    assert_eq!(kecamatan, ["Kartoharjo", "Manguharjo", "Taman"]);
    let page = hub.json("/api/v1/penduduk?kelurahan=35.77&per_halaman=5");
    let total = page["total"].as_u64().expect("total");
    assert!((3_000..3_020).contains(&total), "{total} residents");
    let nik = page["data"][0]["nik"].as_str().expect("nik").to_owned();
    let record = hub.json(&format!("/api/v1/penduduk/{nik}"));
    assert_eq!(record["nik"], nik);
    let family = hub.json(&format!(
        "/api/v1/keluarga/{}",
        record["no_kk"].as_str().expect("no_kk")
    ));
    assert!(family["anggota"].as_array().is_some_and(|m| !m.is_empty()));
    assert_eq!(hub.get("/readyz").0, 200);
    let status = hub.terminate();
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");

    // Restart on the same data: nothing is seeded twice.
    let mut hub = Hub::start(dir.path(), 3_000);
    assert!(!hub.banner.contains("Akun demo"), "{}", hub.banner);
    hub.authorize(&id, &secret);
    let again = hub.json("/api/v1/penduduk?kelurahan=35.77&per_halaman=1");
    assert_eq!(again["total"].as_u64(), Some(total));
    assert!(hub.terminate().success());
}

#[test]
fn nik_parse_prints_one_json_line_per_nik_and_fails_on_an_invalid_one() {
    let output = Command::new(BINARY)
        .args(["nik", "parse", "3577015708900002", "3577019908900002"])
        .output()
        .expect("run");
    assert!(
        !output.status.success(),
        "an invalid NIK makes the exit non-zero"
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["tanggal_lahir"], "1990-08-17");
    assert_eq!(lines[0]["jenis_kelamin"], "perempuan");
    assert_eq!(lines[1]["kesalahan"]["jenis"], "day_out_of_range");

    let output = Command::new(BINARY)
        .args(["nik", "parse", "3577011708450001"])
        .output()
        .expect("run");
    assert!(output.status.success());
}

#[test]
fn an_unknown_database_scheme_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(BINARY)
        .arg("serve")
        .env("SIMPUL_DATA_DIR", dir.path())
        .env("SIMPUL_LISTEN", "127.0.0.1:0")
        .env("SIMPUL_DATABASE_URL", "sqlit:///tmp/typo.db")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("sqlit"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn a_mistyped_setting_stops_start_up_with_its_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("simpul.toml");
    std::fs::write(&config, "lisen = \"127.0.0.1:0\"\n").expect("write");
    let output = Command::new(BINARY)
        .args(["--config", config.to_str().expect("path"), "serve"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("lisen"));
}

fn keys_command(data_dir: &std::path::Path, action: &str) -> String {
    let output = Command::new(BINARY)
        .args(["keys", action, "--batch", "100"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIMPUL_DATA_DIR", data_dir)
        .output()
        .expect("run keys");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "keys {action}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn key_lines(data_dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(data_dir.join("keys").join("data.keys"))
        .expect("data key file")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(':').next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_demo_prints_credentials_that_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut hub = Hub::start(dir.path(), 300);
    for role in [
        "administrator",
        "operator",
        "supervisor",
        "registrar",
        "auditor",
        "agency_analyst",
    ] {
        assert!(hub.banner.contains(role), "{role} missing: {}", hub.banner);
    }
    let (reader, reader_secret) = registry_reader(dir.path());
    hub.authorize(&reader, &reader_secret);
    let page = hub.json("/api/v1/penduduk?kelurahan=35.77&per_halaman=1");
    // The demo client verifies NIKs under the demo agreement...
    let id = field(&hub.banner, "client_id");
    let secret = field(&hub.banner, "client_secret");
    hub.authorize(&id, &secret);
    let nik = page["data"][0]["nik"].as_str().expect("nik");
    let (status, body) = hub.post_json(
        "/api/v1/nik/verifikasi",
        &serde_json::json!({
            "nik": nik,
            "nama": page["data"][0]["nama_lengkap"],
            "tanggal_lahir": page["data"][0]["tanggal_lahir"],
        }),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("terdaftar"), "{body}");
    // ...and reads nothing else.
    assert_eq!(hub.get(&format!("/api/v1/penduduk/{nik}")).0, 403);
    // An operator's printed password signs in (TOTP enrolment comes next).
    let line = hub
        .banner
        .lines()
        .find(|l| l.trim_start().starts_with("operator.kelurahan"))
        .expect("operator line");
    let password = line.split_whitespace().nth(1).expect("password");
    let (status, body) = hub.post_json(
        "/api/v1/sesi",
        &serde_json::json!({"nama_pengguna": "operator.kelurahan", "kata_sandi": password}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("daftar_totp"), "{body}");
    assert!(hub.terminate().success());
}

#[test]
fn data_keys_rotate_and_retire_while_the_hub_serves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut hub = Hub::start(dir.path(), 400);
    let (id, secret) = registry_reader(dir.path());
    hub.authorize(&id, &secret);
    let page = hub.json("/api/v1/penduduk?kelurahan=35.77&per_halaman=1");
    let nik = page["data"][0]["nik"].as_str().expect("nik").to_owned();
    let before = hub.json(&format!("/api/v1/penduduk/{nik}"));
    assert_eq!(key_lines(dir.path()).len(), 1);

    let rotated = keys_command(dir.path(), "rotate");
    assert!(rotated.contains("disegel ulang"), "{rotated}");
    let ids = key_lines(dir.path());
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids[0].starts_with('*'), "the new key is active: {ids:?}");
    // The serving hub reads values sealed under a key it learned from the file.
    assert_eq!(hub.json(&format!("/api/v1/penduduk/{nik}")), before);

    keys_command(dir.path(), "retire");
    assert_eq!(key_lines(dir.path()), [ids[0].clone()]);
    assert_eq!(hub.json(&format!("/api/v1/penduduk/{nik}")), before);
    assert!(hub.terminate().success());

    // A restart with only the new key reads everything.
    let mut hub = Hub::start(dir.path(), 400);
    hub.authorize(&id, &secret);
    assert_eq!(hub.json(&format!("/api/v1/penduduk/{nik}")), before);
    assert!(hub.terminate().success());
}

/// Polls `check` every 200 ms for up to 15 s (the hub re-reads key files every 5 s).
fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..75 {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn signing_keys_rotate_while_the_hub_serves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut hub = Hub::start(dir.path(), 200);
    let id = field(&hub.banner, "client_id");
    let secret = field(&hub.banner, "client_secret");
    hub.authorize(&id, &secret);
    let old_token = hub.token.clone().expect("token");
    let keys = |hub: &Hub| {
        hub.json("/.well-known/jwks.json")["keys"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(keys(&hub), 1);
    let claim =
        serde_json::json!({"nik": "3577015708900002", "nama": "A", "tanggal_lahir": "1990-08-17"});

    simpul(dir.path(), &["keys", "rotate-signing"]);
    assert!(eventually(|| keys(&hub) == 2), "the JWKS lists the new key");
    // A token signed before the rotation still works; a new one is signed by the new key.
    assert_eq!(hub.post_json("/api/v1/nik/verifikasi", &claim).0, 200);
    hub.authorize(&id, &secret);
    let new_token = hub.token.clone().expect("token");
    assert_ne!(new_token, old_token);

    simpul(dir.path(), &["keys", "retire-signing"]);
    assert!(eventually(|| keys(&hub) == 1), "the JWKS drops the old key");
    assert_eq!(hub.post_json("/api/v1/nik/verifikasi", &claim).0, 200);
    hub.token = Some(old_token);
    // Verified tokens are trusted for a few seconds; then the retired key's token fails.
    assert!(eventually(|| hub
        .post_json("/api/v1/nik/verifikasi", &claim)
        .0
        == 401));
    assert!(hub.terminate().success());
}

#[test]
fn a_database_without_its_keys_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = Hub::start(dir.path(), 100);
    assert!(hub.terminate().success());
    // Losing the key files must not turn into a hub serving an unreadable registry.
    std::fs::remove_dir_all(dir.path().join("keys")).expect("remove keys");
    let output = Command::new(BINARY)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIMPUL_DATA_DIR", dir.path())
        .env("SIMPUL_LISTEN", "127.0.0.1:0")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("blind key"), "{stderr}");
}

/// Runs the binary with `args` on `data_dir`, returning (success, stdout, stderr).
fn simpul_outcome(data_dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(BINARY)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIMPUL_DATA_DIR", data_dir)
        .output()
        .expect("run simpul");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_ledger_is_witnessed_verified_offline_and_tampering_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let witness_key = dir.path().join("witness.key");
    let witness_key = witness_key.to_str().expect("path");
    let witness_vkey = simpul(
        &data,
        &[
            "ledger",
            "witness-key",
            "--name",
            "witness.test/w1",
            "--out",
            witness_key,
        ],
    )
    .trim()
    .to_owned();
    let config = dir.path().join("simpul.toml");
    std::fs::write(
        &config,
        format!("[ledger]\nwitnesses = [\"{witness_vkey}\"]\n"),
    )
    .expect("config");
    let hub = Hub::start_with(
        &data,
        300,
        &[("SIMPUL_CONFIG", config.to_str().expect("path"))],
    );
    let (status, log_vkey) = hub.get("/api/v1/ledger/key");
    assert_eq!(status, 200);
    let log_vkey = log_vkey.trim().to_owned();
    assert_eq!(simpul(&data, &["ledger", "key"]).trim(), log_vkey);
    // An anonymous refusal is logged, so the access log has an entry to seal.
    assert_eq!(hub.get("/api/v1/audit/akses").0, 401);
    assert!(
        eventually(|| hub.get("/api/v1/ledger/checkpoint").0 == 200),
        "a checkpoint within seconds"
    );

    let state = dir.path().join("witness.json");
    let log = format!("http://{}", hub.address);
    let witness = [
        "ledger",
        "witness",
        "--log",
        &log,
        "--log-key",
        &log_vkey,
        "--state",
        state.to_str().expect("path"),
        "--key",
        witness_key,
    ];
    let (ok, out, err) = simpul_outcome(&data, &witness);
    assert!(ok, "witness: {out}{err}");
    let (_, note) = hub.get("/api/v1/ledger/checkpoint");
    assert!(note.contains("\u{2014} witness.test/w1 "), "{note}");
    assert!(hub.terminate().success());

    let report = simpul(&data, &["ledger", "verify", "--key", &log_vkey]);
    assert!(report.contains("Ledger utuh"), "{report}");
    let bundle = dir.path().join("bundle.json");
    let bundle = bundle.to_str().expect("path");
    simpul(
        &data,
        &[
            "ledger", "export", "--from", "0", "--to", "10", "--out", bundle,
        ],
    );
    let checked = simpul(
        &data,
        &["ledger", "verify", "--bundle", bundle, "--key", &log_vkey],
    );
    assert!(checked.contains("Bundel sah: 10 entri"), "{checked}");

    // Change the access-log entry in the file behind the hub's back.
    let url = format!("sqlite://{}", data.join("simpul.db").display());
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            use sqlx::Connection;
            let mut raw = sqlx::SqliteConnection::connect(&url).await.expect("open");
            sqlx::query("UPDATE access_log SET outcome = 'allowed' WHERE sequence = 1")
                .execute(&mut raw)
                .await
                .expect("tamper");
        });
    let (ok, _, err) = simpul_outcome(&data, &["ledger", "verify", "--key", &log_vkey]);
    assert!(!ok, "a changed entry must fail verification");
    assert!(err.contains("akses row 1 does not match"), "{err}");

    // A hub that rewrites its history: the ledger dropped and sealed again over the changed
    // access log, signed with the same key. Its verification passes, so only a witness that
    // remembers the old checkpoint can tell, and it refuses to cosign.
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            use sqlx::Connection;
            let mut raw = sqlx::SqliteConnection::connect(&url).await.expect("open");
            for table in [
                "ledger_leaves",
                "ledger_nodes",
                "ledger_checkpoints",
                "ledger_cosignatures",
            ] {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut raw)
                    .await
                    .expect("rewrite");
            }
        });
    let state_before = std::fs::read(&state).expect("witness state");
    let hub = Hub::start_with(
        &data,
        300,
        &[("SIMPUL_CONFIG", config.to_str().expect("path"))],
    );
    assert!(
        eventually(|| hub.get("/api/v1/ledger/checkpoint").0 == 200),
        "the rewritten log is checkpointed"
    );
    let log = format!("http://{}", hub.address);
    let mut forked = witness;
    forked[3] = &log;
    let (ok, out, err) = simpul_outcome(&data, &forked);
    assert!(!ok, "the witness must refuse a rewritten log: {out}{err}");
    assert!(err.contains("REFUSED"), "{err}");
    assert_eq!(std::fs::read(&state).expect("state"), state_before);
    assert!(hub.terminate().success());
    let report = simpul(&data, &["ledger", "verify", "--key", &log_vkey]);
    assert!(report.contains("Ledger utuh"), "{report}");

    // The witness's log key is not the hub's: a bundle checked with it fails.
    let (ok, _, err) = simpul_outcome(
        &data,
        &[
            "ledger",
            "verify",
            "--bundle",
            bundle,
            "--key",
            &witness_vkey,
        ],
    );
    assert!(!ok && err.contains("bukan kunci publik ledger"), "{err}");
}
