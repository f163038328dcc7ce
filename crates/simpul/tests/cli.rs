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
}

impl Hub {
    fn start(data_dir: &std::path::Path, residents: u32) -> Self {
        let mut child = Command::new(BINARY)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SIMPUL_DATA_DIR", data_dir)
            .env("SIMPUL_LISTEN", "127.0.0.1:0")
            .env("SIMPUL_DEMO__RESIDENTS", residents.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start simpul");
        let stdout = child.stdout.take().expect("stdout");
        let mut address = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read stdout");
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
        Self { child, address }
    }

    /// GET `path`, returning (status, body).
    fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        )
        .expect("send");
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
    let hub = Hub::start(dir.path(), 3_000);
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
    let hub = Hub::start(dir.path(), 3_000);
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
fn data_keys_rotate_and_retire_while_the_hub_serves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = Hub::start(dir.path(), 400);
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
    let hub = Hub::start(dir.path(), 400);
    assert_eq!(hub.json(&format!("/api/v1/penduduk/{nik}")), before);
    assert!(hub.terminate().success());
}
