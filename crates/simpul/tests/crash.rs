//! Kill under load: the hub is killed (SIGKILL) while operators, supervisors and
//! registrars push births through e-LAMPID, then restarted on the same data, three times
//! over. Every acknowledged step must still be there, no registration may be half applied
//! (a submission marked registered without its child, document and counters, or the
//! reverse), and rebuilding the read models from the journal must change nothing.
//!
//! Runs on SQLite always, and on PostgreSQL when `SIMPUL_TEST_POSTGRES_URL` is set (in a
//! database of its own, dropped at the end).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_simpul");

/// Concurrent clients, each pushing its own births through all three levels.
const CLIENTS: usize = 6;
/// How long the clients run before the hub is killed.
const LOAD: Duration = Duration::from_secs(3);
/// Kills per test, each followed by a restart and the full check.
const ROUNDS: usize = 3;
/// The e-LAMPID states in workflow order (rejection is not exercised here).
const STATES: [&str; 4] = ["draf", "diajukan", "diverifikasi", "tercatat"];

fn rank(state: &str) -> usize {
    STATES
        .iter()
        .position(|s| *s == state)
        .unwrap_or_else(|| panic!("unexpected state {state}"))
}

/// Where the hub keeps its data: a data directory (keys always live there) and, for
/// PostgreSQL, the database URL.
struct Backend {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Backend {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SIMPUL_DATA_DIR", self.dir.path())
            .env("RUST_LOG", "warn");
        if let Some(url) = &self.database_url {
            command.env("SIMPUL_DATABASE_URL", url);
        }
        command
    }

    /// `simpul rebuild` on the stopped hub's data; returns what it printed.
    fn rebuild(&self) -> String {
        let output = self.command(&["rebuild"]).output().expect("run rebuild");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "simpul rebuild: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }
}

/// A fresh PostgreSQL database next to the one `SIMPUL_TEST_POSTGRES_URL` names, dropped
/// on drop (also when the test fails).
struct Database {
    maintenance_url: String,
    name: String,
    url: String,
}

impl Database {
    fn create(maintenance_url: &str) -> Self {
        let name = format!("simpul_crash_{:08x}", rand::random::<u32>());
        let (without_query, query) = match maintenance_url.split_once('?') {
            Some((url, query)) => (url, format!("?{query}")),
            None => (maintenance_url, String::new()),
        };
        let (server, _) = without_query
            .rsplit_once('/')
            .expect("SIMPUL_TEST_POSTGRES_URL names a database");
        let status = Command::new("createdb")
            .arg(format!("--maintenance-db={maintenance_url}"))
            .arg(&name)
            .status()
            .expect("run createdb");
        assert!(status.success(), "createdb {name}");
        Self {
            maintenance_url: maintenance_url.to_owned(),
            url: format!("{server}/{name}{query}"),
            name,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = Command::new("dropdb")
            .arg("--force")
            .arg(format!("--maintenance-db={}", self.maintenance_url))
            .arg(&self.name)
            .status();
    }
}

/// A running `simpul serve`; killed on drop so a failing test leaves no process behind.
struct Hub {
    child: Child,
    address: String,
}

impl Hub {
    /// Starts the hub on `backend`; returns it with everything printed before it was
    /// ready (the demo accounts' passwords among it, on the first start).
    fn start(backend: &Backend) -> (Self, String) {
        let mut child = backend
            .command(&["serve"])
            .env("SIMPUL_LISTEN", "127.0.0.1:0")
            .env("SIMPUL_DEMO__RESIDENTS", "3000")
            // The per-account quota is not what is under test.
            .env("SIMPUL_SECURITY__REQUESTS_PER_MINUTE", "1000000")
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
        (Self { child, address }, banner)
    }

    fn signal(&mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill {signal}");
        self.child.wait().expect("wait")
    }

    /// Stops it cleanly (SIGTERM), asserting a clean exit.
    fn terminate(mut self) {
        let status = self.signal("-TERM");
        assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A signed-in account: its session cookie, CSRF token and region.
#[derive(Clone, Debug)]
struct Session {
    cookie: String,
    csrf: String,
    region: String,
}

/// One complete HTTP answer.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.body))
    }

    fn ok_json(&self, what: &str) -> Value {
        assert!(
            (200..300).contains(&self.status),
            "{what}: {} {}",
            self.status,
            self.body
        );
        self.json()
    }

    /// The session cookie this answer sets, as a `Cookie` header value.
    fn session_cookie(&self) -> String {
        self.head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, value)| value.trim())
            .find(|value| value.starts_with("simpul_sesi="))
            .and_then(|value| value.split(';').next())
            .expect("a session cookie")
            .to_owned()
    }
}

/// One request on its own connection. An error means no complete answer arrived (the hub
/// was killed before or while answering): the request is not acknowledged.
fn send(
    address: &str,
    session: Option<&Session>,
    method: &str,
    path: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
) -> std::io::Result<Answer> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\
         X-Tujuan: pelayanan e-LAMPID\r\n",
        body.len()
    );
    if let Some(session) = session {
        head.push_str(&format!(
            "Cookie: {}\r\nX-CSRF-Token: {}\r\n",
            session.cookie, session.csrf
        ));
    }
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    stream.write_all(format!("{head}\r\n{body}").as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let cut = || std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(cut)?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(cut)?;
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    // A body cut short by the kill is no answer.
    if length.is_some_and(|length| body.len() != length) {
        return Err(cut());
    }
    Ok(Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}

fn get(address: &str, session: &Session, path: &str) -> Value {
    send(address, Some(session), "GET", path, None, &[])
        .expect("the hub answers")
        .ok_json(path)
}

/// Signs a demo account in with the password the banner printed, enrolling TOTP.
fn sign_in(address: &str, banner: &str, username: &str) -> Session {
    let password = banner
        .lines()
        .find(|l| l.trim_start().starts_with(username))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("{username} in the banner: {banner}"));
    let answer = send(
        address,
        None,
        "POST",
        "/api/v1/sesi",
        Some(&json!({"nama_pengguna": username, "kata_sandi": password})),
        &[],
    )
    .expect("sign in");
    let state = answer.ok_json("password step");
    let pending = Session {
        cookie: answer.session_cookie(),
        csrf: state["csrf_token"].as_str().expect("csrf").to_owned(),
        region: String::new(),
    };
    let enrolment = send(
        address,
        Some(&pending),
        "POST",
        "/api/v1/sesi/totp/daftar",
        None,
        &[],
    )
    .expect("enrol")
    .ok_json("enrolment");
    let uri = enrolment["otpauth_uri"].as_str().expect("otpauth URI");
    let secret = uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .expect("secret parameter");
    let secret = simpul_identity::TotpSecret::from_base32(secret).expect("base32 secret");
    let totp = simpul_identity::Totp::new(&secret, username).expect("totp");
    let code = totp.code_at(chrono::Utc::now()).expect("code").to_string();
    let answer = send(
        address,
        Some(&pending),
        "POST",
        "/api/v1/sesi/totp",
        Some(&json!({ "kode": code })),
        &[],
    )
    .expect("second factor");
    let state = answer.ok_json("second factor");
    assert_eq!(state["tahap"], "masuk", "{state}");
    Session {
        cookie: answer.session_cookie(),
        csrf: state["csrf_token"].as_str().expect("csrf").to_owned(),
        region: state["wilayah"].as_str().expect("region").to_owned(),
    }
}

struct Staff {
    operator: Session,
    supervisor: Session,
    registrar: Session,
}

/// A woman of the operator's kelurahan who may be a mother in the test's births.
#[derive(Clone)]
struct Mother {
    nik: String,
    no_kk: String,
}

/// Living women of `kelurahan` aged 16 to 44: old enough for any birth date in the last
/// few weeks, whichever day the test runs.
fn mothers(address: &str, operator: &Session) -> Vec<Mother> {
    let today = simpul_domain::today();
    let youngest = today - chrono::Months::new(16 * 12);
    let oldest = today - chrono::Months::new(44 * 12);
    let mut found = Vec::new();
    for page in 1.. {
        let answer = get(
            address,
            operator,
            &format!(
                "/api/v1/penduduk?kelurahan={}&per_halaman=100&halaman={page}",
                operator.region
            ),
        );
        let rows = answer["data"].as_array().expect("data");
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let born: chrono::NaiveDate = row["tanggal_lahir"]
                .as_str()
                .and_then(|d| d.parse().ok())
                .expect("birth date");
            if row["jenis_kelamin"] == "perempuan"
                && row["status"] == "hidup"
                && (oldest..=youngest).contains(&born)
            {
                found.push(Mother {
                    nik: row["nik"].as_str().expect("nik").to_owned(),
                    no_kk: row["no_kk"].as_str().expect("no_kk").to_owned(),
                });
            }
        }
    }
    found
}

/// Letters for `n`, so every child's name is unique and plain.
fn letters(mut n: usize) -> String {
    let mut out = String::new();
    loop {
        out.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            break;
        }
    }
    let mut chars = out.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// A submission whose creation was acknowledged, and the furthest state acknowledged.
#[derive(Clone, Debug)]
struct Sent {
    code: String,
    no_kk: String,
    child: String,
    acknowledged: &'static str,
    document: Option<String>,
}

/// What one client did before the kill stopped it.
#[derive(Default)]
struct ClientLog {
    sent: Vec<Sent>,
    /// Answers that were neither success nor a dropped connection.
    unexpected: Vec<String>,
}

/// Creates, verifies and registers births until the hub stops answering.
fn client(address: &str, staff: &Staff, mothers: &[Mother], round: usize, id: usize) -> ClientLog {
    let mut log = ClientLog::default();
    for i in 0.. {
        let mother = &mothers[(id + i * CLIENTS) % mothers.len()];
        let child = format!("Bayi Uji {} {} {}", letters(round), letters(id), letters(i));
        let born = simpul_domain::today() - chrono::Duration::days(((id + i) % 40) as i64);
        let sex = if i % 2 == 0 { "laki_laki" } else { "perempuan" };
        let report = json!({"laporan": {"jenis": "kelahiran", "data": {
            "nama_anak": child,
            "jenis_kelamin": sex,
            "tanggal_lahir": born.to_string(),
            "jam_lahir": "07:15:00",
            "tempat_lahir": "RSUD Kota Madiun",
            "nik_ibu": mother.nik,
            "no_kk": mother.no_kk,
            "nik_pelapor": mother.nik,
        }}});
        let key = format!("crash-{round}-{id}-{i}");
        let Ok(created) = send(
            address,
            Some(&staff.operator),
            "POST",
            "/api/v1/lampid",
            Some(&report),
            &[("Idempotency-Key", &key)],
        ) else {
            return log;
        };
        if created.status != 201 {
            log.unexpected
                .push(format!("create: {} {}", created.status, created.body));
            continue;
        }
        let created = created.json();
        let code = created["kode_lacak"].as_str().expect("code").to_owned();
        log.sent.push(Sent {
            code: code.clone(),
            no_kk: mother.no_kk.clone(),
            child,
            acknowledged: "diajukan",
            document: None,
        });
        let steps = [
            (&staff.supervisor, "verifikasi", 2, "diverifikasi"),
            (&staff.registrar, "catat", 3, "tercatat"),
        ];
        for (who, action, version, reached) in steps {
            let Ok(answer) = send(
                address,
                Some(who),
                "POST",
                &format!("/api/v1/lampid/{code}/langkah"),
                Some(&json!({"aksi": action, "versi": version})),
                &[],
            ) else {
                return log;
            };
            if answer.status != 200 {
                log.unexpected.push(format!(
                    "{action} {code}: {} {}",
                    answer.status, answer.body
                ));
                break;
            }
            let answer = answer.json();
            assert_eq!(answer["status"]["kode"], reached, "{answer}");
            let sent = log.sent.last_mut().expect("just pushed");
            sent.acknowledged = reached;
            sent.document = answer["nomor_dokumen"].as_str().map(str::to_owned);
        }
    }
    log
}

/// Births registered in `region`, all months together.
fn births(address: &str, registrar: &Session, region: &str) -> i64 {
    get(
        address,
        registrar,
        &format!("/api/v1/statistik/peristiwa?wilayah={region}"),
    )
    .as_array()
    .expect("months")
    .iter()
    .map(|m| m["kelahiran"].as_i64().expect("births"))
    .sum()
}

fn population(address: &str, registrar: &Session, region: &str) -> Value {
    get(
        address,
        registrar,
        &format!("/api/v1/statistik/penduduk?wilayah={region}&rinci=true"),
    )
}

/// What the restarted hub says about every submission sent: state and document by code,
/// and the names on each family card involved.
struct Observed {
    submissions: BTreeMap<String, (String, Option<String>)>,
    members: HashMap<String, Vec<String>>,
}

fn observe(address: &str, registrar: &Session, sent: &[Sent]) -> Observed {
    let mut submissions = BTreeMap::new();
    let mut members = HashMap::new();
    for s in sent {
        let record = get(address, registrar, &format!("/api/v1/lampid/{}", s.code));
        submissions.insert(
            s.code.clone(),
            (
                record["status"]["kode"].as_str().expect("state").to_owned(),
                record["nomor_dokumen"].as_str().map(str::to_owned),
            ),
        );
        if !members.contains_key(&s.no_kk) {
            let family = get(address, registrar, &format!("/api/v1/keluarga/{}", s.no_kk));
            let names = family["anggota"]
                .as_array()
                .expect("members")
                .iter()
                .map(|m| m["nama_lengkap"].as_str().expect("name").to_owned())
                .collect();
            members.insert(s.no_kk.clone(), names);
        }
    }
    Observed {
        submissions,
        members,
    }
}

/// The numbers `simpul rebuild` printed before and after it rebuilt.
fn rebuild_counts(printed: &str) -> (String, String) {
    let before = printed
        .split("Sebelum:")
        .nth(1)
        .and_then(|rest| rest.split(". Sesudah:").next())
        .unwrap_or_else(|| panic!("no counts before: {printed}"));
    let after = printed
        .split("Sesudah:")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .map(|line| line.trim().trim_end_matches('.'))
        .unwrap_or_else(|| panic!("no counts after: {printed}"));
    (before.trim().to_owned(), after.to_owned())
}

/// What the city's statistics said before the load.
struct Baseline {
    city: String,
    births: i64,
    population: i64,
}

/// Runs the clients against `hub` for [`LOAD`], kills it, and returns every submission
/// whose creation was acknowledged, with the furthest state acknowledged.
fn load_and_kill(mut hub: Hub, staff: &Staff, mothers: &[Mother], round: usize) -> Vec<Sent> {
    let address = hub.address.clone();
    let logs: Vec<ClientLog> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| {
                let address = &address;
                scope.spawn(move || client(address, staff, mothers, round, id))
            })
            .collect();
        std::thread::sleep(LOAD);
        // The kill is what is under test: no shutdown, no flush, requests in flight.
        hub.signal("-KILL");
        clients
            .into_iter()
            .map(|c| c.join().expect("client thread"))
            .collect()
    });
    let unexpected: Vec<&String> = logs.iter().flat_map(|l| &l.unexpected).collect();
    assert!(unexpected.is_empty(), "answers under load: {unexpected:#?}");
    let sent: Vec<Sent> = logs.into_iter().flat_map(|l| l.sent).collect();
    let registrations = sent.iter().filter(|s| s.acknowledged == "tercatat").count();
    assert!(
        registrations > 0,
        "round {round}: no registration was acknowledged before the kill ({} submissions)",
        sent.len()
    );
    sent
}

/// Checks the restarted hub against everything acknowledged so far: each submission at
/// or beyond its acknowledged state, and each registration whole or absent (document,
/// child on the card, birth and population counters together). Returns what it saw.
fn check_after_crash(
    address: &str,
    registrar: &Session,
    sent: &[Sent],
    baseline: &Baseline,
) -> (Observed, Value, Value) {
    let observed = observe(address, registrar, sent);
    let mut registered = 0;
    for s in sent {
        let (state, document) = &observed.submissions[&s.code];
        assert!(
            rank(state) >= rank(s.acknowledged),
            "{}: acknowledged {}, found {state}",
            s.code,
            s.acknowledged
        );
        if s.document.is_some() {
            assert_eq!(document, &s.document, "{}: document", s.code);
        }
        let is_registered = state == "tercatat";
        assert_eq!(
            document.is_some(),
            is_registered,
            "{}: {state} with document {document:?}",
            s.code
        );
        let on_card = observed.members[&s.no_kk]
            .iter()
            .filter(|name| **name == s.child)
            .count();
        assert_eq!(
            on_card,
            usize::from(is_registered),
            "{}: {state}, child on the card {on_card} times",
            s.code
        );
        registered += usize::from(is_registered);
    }
    let registered = i64::try_from(registered).expect("count");
    let city = &baseline.city;
    assert_eq!(
        births(address, registrar, city) - baseline.births,
        registered,
        "births counted against registrations found"
    );
    let population = population(address, registrar, city);
    assert_eq!(
        population["jumlah"].as_i64().expect("population") - baseline.population,
        registered,
        "population grew by the registered births"
    );
    let events = get(
        address,
        registrar,
        &format!("/api/v1/statistik/peristiwa?wilayah={city}"),
    );
    (observed, population, events)
}

fn kill_under_load(backend: &Backend) {
    let (mut hub, banner) = Hub::start(backend);
    let staff = Staff {
        operator: sign_in(&hub.address, &banner, "operator.kelurahan"),
        supervisor: sign_in(&hub.address, &banner, "supervisor.kecamatan"),
        registrar: sign_in(&hub.address, &banner, "registrar.dukcapil"),
    };
    let city = staff.registrar.region.clone();
    let mothers = mothers(&hub.address, &staff.operator);
    assert!(mothers.len() >= CLIENTS, "{} mothers", mothers.len());
    let baseline = Baseline {
        births: births(&hub.address, &staff.registrar, &city),
        population: population(&hub.address, &staff.registrar, &city)["jumlah"]
            .as_i64()
            .expect("population"),
        city,
    };

    // Each round kills the hub at another moment, so more of the gaps between steps are
    // sampled; the restarted hub (sessions kept) carries the next round's load.
    let mut sent = Vec::new();
    let mut seen = None;
    for round in 0..ROUNDS {
        sent.extend(load_and_kill(hub, &staff, &mothers, round));
        let (restarted, banner) = Hub::start(backend);
        assert!(!banner.contains("Akun demo"), "seeded again: {banner}");
        seen = Some(check_after_crash(
            &restarted.address,
            &staff.registrar,
            &sent,
            &baseline,
        ));
        hub = restarted;
    }
    hub.terminate();
    let (observed, population_after, events_after) = seen.expect("at least one round");

    // The read models rebuilt from the journal are the ones the crashes left.
    let printed = backend.rebuild();
    let (before, after) = rebuild_counts(&printed);
    assert_eq!(before, after, "{printed}");
    let (hub, _) = Hub::start(backend);
    let address = hub.address.clone();
    let city = &baseline.city;
    assert_eq!(
        population(&address, &staff.registrar, city),
        population_after
    );
    assert_eq!(
        get(
            &address,
            &staff.registrar,
            &format!("/api/v1/statistik/peristiwa?wilayah={city}"),
        ),
        events_after
    );
    let rebuilt = observe(&address, &staff.registrar, &sent);
    assert_eq!(rebuilt.submissions, observed.submissions);
    assert_eq!(rebuilt.members, observed.members);
    hub.terminate();
    let registered = observed
        .submissions
        .values()
        .filter(|(state, _)| state == "tercatat")
        .count();
    eprintln!(
        "{ROUNDS} kills: {} submissions acknowledged, {} registrations acknowledged, \
         {registered} registered",
        sent.len(),
        sent.iter().filter(|s| s.acknowledged == "tercatat").count()
    );
}

#[test]
fn a_kill_under_load_loses_nothing_acknowledged_on_sqlite() {
    let backend = Backend {
        dir: tempfile::tempdir().expect("temp dir"),
        database_url: None,
    };
    kill_under_load(&backend);
}

#[test]
fn a_kill_under_load_loses_nothing_acknowledged_on_postgres() {
    let Ok(url) = std::env::var("SIMPUL_TEST_POSTGRES_URL") else {
        eprintln!("SIMPUL_TEST_POSTGRES_URL is not set: PostgreSQL crash test skipped");
        return;
    };
    let database = Database::create(&url);
    let backend = Backend {
        dir: tempfile::tempdir().expect("temp dir"),
        database_url: Some(database.url.clone()),
    };
    kill_under_load(&backend);
}
