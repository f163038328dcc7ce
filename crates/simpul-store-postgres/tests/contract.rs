//! The storage contract suite on PostgreSQL, each check in a database of its own; plus
//! checks that those databases are dropped, that the schema matches SQLite's, that no
//! table holds personal data in clear, and that another blind key is refused.
//!
//! Set `SIMPUL_TEST_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:5432/test`) to a
//! database whose user may create databases; each test creates `simpul_test_<pid>_<n>_<ns>`
//! beside it and drops it on the way out. Unset, every test here is skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Once};
use std::time::{SystemTime, UNIX_EPOCH};

use simpul_domain::{KodeWilayah, RegistryEvent};
use simpul_store::contract::{TestKeys, fixture_today, plaintext_found, sensitive_strings};
use simpul_store::{Store, StoreError, Vault};
use simpul_store_postgres::PostgresStore;
use sqlx::{Connection, PgConnection};

const URL_VARIABLE: &str = "SIMPUL_TEST_POSTGRES_URL";
const PREFIX: &str = "simpul_test_";

/// The server to test against, or `None` (said once per run) when it is not configured.
fn server_url() -> Option<String> {
    static SKIPPED: Once = Once::new();
    let url = std::env::var(URL_VARIABLE).ok().filter(|u| !u.is_empty());
    if url.is_none() {
        SKIPPED.call_once(|| {
            // Straight to the process's stderr: the test harness captures `eprintln!` of
            // passing tests, and this line must be seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "{URL_VARIABLE} is unset: PostgreSQL contract tests skipped"
            );
        });
    }
    url
}

/// `url` with its database name replaced by `database` (query parameters kept).
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A name no other test, in this process or another, is using.
fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{PREFIX}{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

async fn database_exists(server: &str, name: &str) -> bool {
    let mut admin = PgConnection::connect(server)
        .await
        .expect("connect to server");
    let found: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut admin)
            .await
            .expect("query pg_database");
    admin.close().await.expect("close");
    found
}

/// A database of its own on the test server, dropped with the guard.
struct TestDatabase {
    server: String,
    name: String,
}

impl TestDatabase {
    fn url(&self) -> String {
        with_database(&self.server, &self.name)
    }
}

/// A fresh, migrated store in a database of its own, dropped with the guard.
struct Fresh {
    store: PostgresStore,
    db: TestDatabase,
}

impl std::ops::Deref for Fresh {
    type Target = PostgresStore;
    fn deref(&self) -> &PostgresStore {
        &self.store
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn drop_database(server: &str, name: &str) -> Result<(), BoxError> {
    let mut admin = PgConnection::connect(server).await?;
    // FORCE ends the connections still open to it (the store's pool).
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop cannot await, and the test's runtime cannot be blocked on from inside it, so
        // the DROP runs on a small runtime of its own in another thread.
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || -> Result<(), BoxError> {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(drop_database(&server, &name))
        })
        .join();
        let failure = match dropped {
            Ok(Ok(())) => return,
            Ok(Err(error)) => error.to_string(),
            Err(_) => "the dropping thread panicked".to_owned(),
        };
        let message = format!("test database {} left behind: {failure}", self.name);
        if std::thread::panicking() {
            eprintln!("{message}");
        } else {
            panic!("{message}");
        }
    }
}

/// A new, empty database of its own on the test server.
async fn create_database() -> Option<TestDatabase> {
    let server = server_url()?;
    let name = unique_name();
    let mut admin = PgConnection::connect(&server)
        .await
        .expect("connect to SIMPUL_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("create test database");
    admin.close().await.expect("close");
    Some(TestDatabase { server, name })
}

async fn fresh(vault: Arc<Vault>) -> Option<Fresh> {
    let db = create_database().await?;
    // On failure the guard, dropped while unwinding, still drops the database.
    let store = PostgresStore::connect(&db.url(), vault)
        .await
        .unwrap_or_else(|error| panic!("connect the store to {}: {error:?}", db.name));
    Some(Fresh { store, db })
}

simpul_store::contract_suite!(fresh);

#[tokio::test]
async fn test_databases_are_dropped() {
    let Some(store) = fresh(TestKeys::new().vault()).await else {
        return;
    };
    let (server, name) = (store.db.server.clone(), store.db.name.clone());
    assert!(database_exists(&server, &name).await, "created");
    drop(store);
    assert!(!database_exists(&server, &name).await, "{name} leaked");
    // Leftovers of earlier runs whose process is gone are leaks too (a guard that did not
    // drop). Databases of live processes belong to tests running right now. Liveness is
    // read from /proc, so the sweep runs only where there is one.
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let mut admin = PgConnection::connect(&server).await.expect("connect");
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind(PREFIX)
            .fetch_all(&mut admin)
            .await
            .expect("list databases");
    admin.close().await.expect("close");
    let leaked: Vec<&String> = names
        .iter()
        .filter(|n| {
            let pid = n[PREFIX.len()..].split('_').next().unwrap_or_default();
            !std::path::Path::new("/proc").join(pid).exists()
        })
        .collect();
    assert!(
        leaked.is_empty(),
        "test databases of finished runs: {leaked:?}"
    );
}

/// Table name to column names, in declaration order, and index name to table.
#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    tables: BTreeMap<String, Vec<String>>,
    indexes: BTreeMap<String, String>,
}

/// Reads the tables, columns and indexes a directory of migrations creates. Only the
/// statements the migrations use are understood; any other DDL fails the parse, so a new
/// kind of migration extends this reader instead of slipping past the comparison.
fn migration_schema(dir: &str) -> Schema {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("migrations directory")
        .map(|entry| entry.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut schema = Schema::default();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read migration");
        let sql: String = text
            .lines()
            .map(|line| line.split("--").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let words: Vec<&str> = statement.split_whitespace().collect();
            match words.as_slice() {
                ["CREATE", "TABLE", name, ..] => {
                    let name = name.trim_end_matches('(');
                    let open = statement.find('(').expect("column list");
                    let close = statement.rfind(')').expect("column list end");
                    let mut columns = Vec::new();
                    let mut depth = 0;
                    let mut item = String::new();
                    for c in statement[open + 1..close].chars().chain([',']) {
                        match c {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            ',' if depth == 0 => {
                                let first = item.split_whitespace().next().unwrap_or_default();
                                if !["PRIMARY", "UNIQUE", "CONSTRAINT", "CHECK", "FOREIGN", ""]
                                    .contains(&first)
                                {
                                    columns.push(first.to_owned());
                                }
                                item.clear();
                                continue;
                            }
                            _ => {}
                        }
                        item.push(c);
                    }
                    schema.tables.insert(name.to_owned(), columns);
                }
                ["CREATE", "INDEX", name, "ON", table, ..]
                | ["CREATE", "UNIQUE", "INDEX", name, "ON", table, ..] => {
                    schema
                        .indexes
                        .insert((*name).to_owned(), table.trim_end_matches('(').to_owned());
                }
                // Dropping a table drops its indexes too, on both backends.
                ["DROP", "TABLE", name] => {
                    assert!(
                        schema.tables.remove(*name).is_some(),
                        "{}: drops unknown table {name}",
                        file.display()
                    );
                    schema.indexes.retain(|_, table| table != name);
                }
                _ => panic!("{}: statement not understood: {statement}", file.display()),
            }
        }
    }
    schema
}

fn sqlite_schema() -> Schema {
    migration_schema(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../simpul-store-sqlite/migrations"
    ))
}

#[test]
fn migrations_define_the_same_tables_columns_and_indexes_as_sqlite() {
    let sqlite = sqlite_schema();
    assert!(
        sqlite.tables.contains_key("residents"),
        "parsed: {sqlite:?}"
    );
    let postgres = migration_schema(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"));
    assert_eq!(postgres, sqlite);
}

#[tokio::test]
async fn migrated_database_has_the_sqlite_tables_and_columns() {
    let Some(store) = fresh(TestKeys::new().vault()).await else {
        return;
    };
    let mut conn = PgConnection::connect(&store.db.url())
        .await
        .expect("connect");
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .expect("columns");
    // Indexes that back a key constraint (primary key, UNIQUE) are left out: SQLite makes
    // them implicitly too, and the migrations declare them with the columns.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname::text, tablename::text FROM pg_indexes \
         WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations' \
         AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
    )
    .fetch_all(&mut conn)
    .await
    .expect("indexes");
    conn.close().await.expect("close");
    let mut actual = Schema::default();
    for (table, column) in rows {
        actual.tables.entry(table).or_default().push(column);
    }
    actual.indexes = indexes.into_iter().collect();
    assert_eq!(actual, sqlite_schema());
}

#[test]
fn database_name_replaces_only_the_path() {
    assert_eq!(
        with_database("postgres://u@h:5432/test?sslmode=disable", "x"),
        "postgres://u@h:5432/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    let names: BTreeSet<String> = (0..3).map(|_| unique_name()).collect();
    assert_eq!(names.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_get_gap_free_sequences_and_one_winner() {
    use simpul_domain::RuleViolation;
    use simpul_store::contract::fixture_family;

    let Some(store) = fresh(TestKeys::new().vault()).await else {
        return;
    };
    let register = |serial: u16| {
        RegistryEvent::KeluargaTerdaftar(fixture_family("35.77.01.1001", serial, "Kepala"))
    };
    // Distinct families from many writers at once: every one lands, in one gap-free order.
    let mut writers = tokio::task::JoinSet::new();
    for serial in 1..=12 {
        let (store, event) = (store.store.clone(), register(serial));
        writers.spawn(async move { store.append(&[event]).await });
    }
    let mut sequences: Vec<u64> = writers
        .join_all()
        .await
        .into_iter()
        .flat_map(|r| r.expect("append").sequences)
        .collect();
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=12).collect::<Vec<u64>>());
    // The same new family from many writers at once: the rules see each other's commits,
    // so exactly one wins and the rest are refused by the rule, not by a key clash.
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (store, event) = (store.store.clone(), register(99));
        writers.spawn(async move { store.append(&[event]).await });
    }
    let results = writers.join_all().await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for result in results.into_iter().filter_map(Result::err) {
        assert!(
            matches!(
                result,
                StoreError::Rejected {
                    index: 0,
                    violation: RuleViolation::FamilyExists
                }
            ),
            "{result:?}"
        );
    }
    let journal = store.journal_after(0, 100).await.expect("journal");
    assert_eq!(
        journal.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (1..=13).collect::<Vec<u64>>()
    );
}

/// Registrations racing each other: the writers' lock makes each one see the numbers the
/// others issued, so every child gets its own NIK (an upsert would otherwise silently
/// overwrite a child registered at the same moment) and every certificate its own serial.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_issue_distinct_niks_and_documents() {
    use simpul_domain::access::RoleKind;
    use simpul_domain::lampid::{Kelahiran, LampidPayload, Transition};
    use simpul_domain::{FamilyRelationship, Sex};
    use simpul_store::LampidCommand;
    use simpul_store::contract::fixture_family;

    const BIRTHS: usize = 8;
    let Some(store) = fresh(TestKeys::new().vault()).await else {
        return;
    };
    let family = fixture_family("35.77.01.1001", 1, "Budi Santoso");
    store
        .append(&[RegistryEvent::KeluargaTerdaftar(family.clone())])
        .await
        .expect("family");
    let mother = family.members[1].nik.clone();
    // Same day and sex: every birth's NIK candidates are the same list.
    let born = simpul_domain::today() - chrono::Duration::days(2);
    let kelurahan = KodeWilayah::parse("35.77.01.1001").expect("code");
    let mut verified = Vec::new();
    for n in 0..BIRTHS {
        let payload = LampidPayload::Kelahiran(Kelahiran {
            child_name: format!("Anak Kembar {n}"),
            sex: Sex::LakiLaki,
            birth_date: born,
            birth_time: chrono::NaiveTime::from_hms_opt(7, 15, 0).unwrap_or_default(),
            birth_place: "Madiun".into(),
            mother_nik: mother.clone(),
            father_nik: None,
            mother_name: None,
            father_name: None,
            no_kk: family.no_kk.clone(),
            reporter: mother.clone(),
        });
        let created = store
            .lampid(LampidCommand::Create {
                kelurahan: kelurahan.clone(),
                payload,
                actor: "operator-1".into(),
                idempotency_key: None,
                submit: true,
            })
            .await
            .expect("created")
            .submission;
        let code = created.submission.tracking_code().clone();
        store
            .lampid(LampidCommand::Step {
                tracking_code: code.clone(),
                transition: Transition::Verifikasi,
                version: created.submission.version(),
                actor: "supervisor-1".into(),
                role: RoleKind::Supervisor,
            })
            .await
            .expect("verified");
        verified.push(code);
    }
    let mut registrars = tokio::task::JoinSet::new();
    for code in verified {
        let store = store.store.clone();
        registrars.spawn(async move {
            store
                .lampid(LampidCommand::Step {
                    tracking_code: code,
                    transition: Transition::Catat,
                    version: 3,
                    actor: "registrar-1".into(),
                    role: RoleKind::Registrar,
                })
                .await
        });
    }
    let mut documents: Vec<String> = registrars
        .join_all()
        .await
        .into_iter()
        .map(|r| {
            r.expect("registered")
                .submission
                .document
                .expect("certificate number")
        })
        .collect();
    documents.sort();
    let serials: Vec<String> = documents
        .iter()
        .map(|d| d.rsplit('-').next().unwrap_or_default().to_owned())
        .collect();
    let expected: Vec<String> = (1..=BIRTHS).map(|n| format!("{n:04}")).collect();
    assert_eq!(serials, expected, "{documents:?}");
    let card = store
        .family(&family.no_kk)
        .await
        .expect("read")
        .expect("family");
    let children: BTreeSet<u16> = card
        .members
        .iter()
        .filter(|m| m.relationship == FamilyRelationship::Anak && m.nik.matches_birth_date(born))
        .map(|m| m.nik.serial())
        .collect();
    assert_eq!(
        children,
        (1..=BIRTHS as u16).collect::<BTreeSet<_>>(),
        "every child on the card, each with its own NIK"
    );
    let journal = store.journal_after(0, 1_000).await.expect("journal");
    assert_eq!(
        journal.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (1..=journal.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(journal.len(), 1 + BIRTHS * 5);
}

/// A database whose read models an older version built (store_meta `read_models` behind)
/// has them rebuilt from the journal when a store opens it, once.
#[tokio::test]
async fn opening_rebuilds_read_models_an_older_version_built() {
    use simpul_store::contract::fixture_family;

    let keys = TestKeys::new();
    let Some(store) = fresh(keys.vault()).await else {
        return;
    };
    let family = fixture_family("35.77.01.1001", 1, "Budi Santoso");
    store
        .append(&[RegistryEvent::KeluargaTerdaftar(family.clone())])
        .await
        .expect("append");
    store.close().await;
    // What an older version left: the journal, read models without the newer rows (here
    // none at all), and its own layout version.
    let mut conn = PgConnection::connect(&store.db.url())
        .await
        .expect("connect");
    for sql in [
        "DELETE FROM resident_name_tokens",
        "DELETE FROM residents",
        "DELETE FROM families",
        "DELETE FROM counters",
        "UPDATE store_meta SET value = '3' WHERE key = 'read_models'",
    ] {
        let changed = sqlx::query(sql)
            .execute(&mut conn)
            .await
            .expect("set up")
            .rows_affected();
        assert!(
            changed > 0,
            "{sql} changed nothing: the check would prove nothing"
        );
    }
    let reopened = PostgresStore::connect(&store.db.url(), keys.vault())
        .await
        .expect("reopen");
    let read = reopened
        .family(&family.no_kk)
        .await
        .expect("read")
        .expect("rebuilt");
    assert_eq!(read, family);
    let version: String =
        sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'read_models'")
            .fetch_one(&mut conn)
            .await
            .expect("version");
    assert_eq!(version, "4");
    conn.close().await.expect("close");
    reopened.close().await;
}

/// The tables whose contents the at-rest scan reads: every table that holds registry data
/// or facts about it (the region master data is public and left out).
const SCANNED_TABLES: [&str; 5] = [
    "journal",
    "families",
    "residents",
    "resident_name_tokens",
    "store_meta",
];

#[tokio::test]
async fn no_table_holds_a_name_or_number_in_clear() {
    let keys = TestKeys::new();
    let Some(store) = fresh(keys.vault()).await else {
        return;
    };
    let spec = simpul_demo::DemoSpec {
        region: KodeWilayah::parse("35.77").expect("code"),
        residents: 600,
        seed: 7,
        today: fixture_today(),
    };
    let families: Vec<_> = simpul_demo::families(&spec, simpul_domain::wilayah::embedded())
        .expect("demo")
        .collect();
    let events: Vec<_> = families
        .iter()
        .cloned()
        .map(RegistryEvent::KeluargaTerdaftar)
        .collect();
    store.append(&events).await.expect("append");
    let sensitive = sensitive_strings(&families);
    assert!(sensitive.len() > 1_000, "{} probes", sensitive.len());
    // Every row of every table, as PostgreSQL renders it: what a dump or a replica holds.
    let mut conn = PgConnection::connect(&store.db.url())
        .await
        .expect("connect");
    let mut dump = Vec::new();
    for table in SCANNED_TABLES {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(&mut conn)
            .await
            .expect("dump table");
        assert!(
            !rows.is_empty(),
            "{table} is empty: the scan would prove nothing"
        );
        for row in rows {
            dump.extend_from_slice(row.as_bytes());
            dump.push(b'\n');
        }
    }
    conn.close().await.expect("close");
    let found = plaintext_found(&dump, &sensitive);
    assert!(found.is_empty(), "{} values in clear", found.len());
    let head = &families[0].members[0];
    let record = store
        .resident(&head.nik)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(&record.resident, head, "sealed data still reads back");
}

#[tokio::test]
async fn a_database_refuses_a_blind_key_that_did_not_build_it() {
    let keys = TestKeys::new();
    let Some(store) = fresh(keys.vault()).await else {
        return;
    };
    let url = store.db.url();
    let again = PostgresStore::connect(&url, keys.vault()).await;
    assert!(again.is_ok(), "the key that stamped it: {:?}", again.err());
    let refused = PostgresStore::connect(&url, TestKeys::new().vault()).await;
    assert!(
        matches!(refused, Err(StoreError::Keys(_))),
        "{:?}",
        refused.err()
    );
}

/// The advisory lock `PostgresStore::connect` stamps the blind key under (its
/// `STAMP_LOCK`), as `pg_locks` shows a bigint key: high and low 32 bits.
const STAMP_LOCK: i64 = 0x73_696d_7075_6c6b;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubs_starting_together_stamp_one_blind_key() {
    let Some(db) = create_database().await else {
        return;
    };
    // Hold the stamp lock so both hubs are sure to reach the check before either stamps:
    // the race the lock exists for, made certain rather than left to timing.
    let mut holder = PgConnection::connect(&db.url()).await.expect("connect");
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(STAMP_LOCK)
        .execute(&mut holder)
        .await
        .expect("lock");
    let mut hubs = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let url = db.url();
        hubs.spawn(async move { PostgresStore::connect(&url, TestKeys::new().vault()).await });
    }
    // Wait until both hubs queue on the lock; a hub that finishes first never took it.
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
             AND classid::text::bigint = $1 >> 32 AND objid::text::bigint = $1 & 4294967295",
        )
        .bind(STAMP_LOCK)
        .fetch_one(&mut holder)
        .await
        .expect("pg_locks");
        if waiting == 2 {
            break;
        }
        if let Some(done) = hubs.try_join_next() {
            panic!(
                "a hub finished without waiting for the stamp lock: {:?}",
                done.map(|r| r.err())
            );
        }
        tokio::task::yield_now().await;
    }
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(STAMP_LOCK)
        .execute(&mut holder)
        .await
        .expect("unlock");
    holder.close().await.expect("close");
    let results = hubs.join_all().await;
    // Each hub has its own blind key: the first to stamp wins; the other reads that stamp
    // and is refused, rather than stamping its own or failing on a clash of two stamps.
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        won,
        1,
        "{:?}",
        results.iter().map(|r| r.as_ref().err()).collect::<Vec<_>>()
    );
    for result in results.into_iter().filter_map(Result::err) {
        assert!(matches!(result, StoreError::Keys(_)), "{result:?}");
    }
}

#[tokio::test]
async fn the_totp_secret_is_not_stored_in_clear() {
    use simpul_store::contract::fixture_account;
    use simpul_store::{AccountRecord, IdentityStore};

    let Some(store) = fresh(TestKeys::new().vault()).await else {
        return;
    };
    let secret = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ";
    let account = AccountRecord {
        totp_secret: Some(zeroize::Zeroizing::new(secret.into())),
        ..fixture_account("sri.madiunlor")
    };
    store.create_account(&account).await.expect("create");
    let mut conn = PgConnection::connect(&store.db.url())
        .await
        .expect("connect");
    let rows: Vec<String> = sqlx::query_scalar("SELECT t::text FROM accounts t")
        .fetch_all(&mut conn)
        .await
        .expect("dump accounts");
    conn.close().await.expect("close");
    assert_eq!(rows.len(), 1, "the scan must see the account's row");
    assert!(
        rows[0].contains("sri.madiunlor"),
        "the dump shows the row's clear columns"
    );
    let found = plaintext_found(rows.join("\n").as_bytes(), &[secret.to_owned()]);
    assert!(found.is_empty(), "the TOTP secret is in clear");
    let read = store
        .account("sri.madiunlor")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        read.totp_secret.as_deref().map(String::as_str),
        Some(secret)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_access_log_appends_get_gap_free_sequences() {
    use simpul_store::{AccessRecord, AuditStore};

    let Some(store) = fresh(TestKeys::new().vault()).await else {
        return;
    };
    let entry = |writer: usize, n: usize| AccessRecord {
        at: chrono::DateTime::UNIX_EPOCH,
        actor_kind: "klien".into(),
        actor: format!("client-{writer}"),
        role: "agency_analyst".into(),
        action: "verify_nik".into(),
        purpose: None,
        residents: vec![format!("{writer:02}{n:02}").repeat(16)],
        fields: Vec::new(),
        outcome: "allowed".into(),
        reason: None,
        network: None,
        request_id: format!("req-{writer}-{n}"),
    };
    // Many writers at once, two entries each: the lock makes them queue, so every entry
    // lands, numbered 1..=24 with no gap and no clash on the primary key.
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..12 {
        let store = store.store.clone();
        let batch = vec![entry(writer, 0), entry(writer, 1)];
        writers.spawn(async move { store.append_access(&batch).await });
    }
    let mut sequences: Vec<u64> = Vec::new();
    for result in writers.join_all().await {
        let batch = result.expect("append");
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[1], batch[0] + 1, "a batch is numbered consecutively");
        sequences.extend(batch);
    }
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=24).collect::<Vec<u64>>());
    let log = store.access_after(0, 100).await.expect("read");
    assert_eq!(
        log.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (1..=24).collect::<Vec<u64>>()
    );
    // Each entry's resident index points back at exactly that entry.
    for e in &log {
        let found = store
            .access_to_resident(&e.record.residents[0], 10)
            .await
            .expect("by resident");
        assert_eq!(found, std::slice::from_ref(e));
    }
}

#[tokio::test]
async fn rotation_reseals_totp_secrets_and_skips_accounts_without_one() {
    use simpul_store::contract::fixture_account;
    use simpul_store::{AccountRecord, IdentityStore, reseal_all};

    let keys = TestKeys::new();
    let Some(store) = fresh(keys.vault()).await else {
        return;
    };
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    store
        .create_account(&AccountRecord {
            totp_secret: Some(zeroize::Zeroizing::new(secret.into())),
            ..fixture_account("enrolled")
        })
        .await
        .expect("create");
    store
        .create_account(&fixture_account("not.yet"))
        .await
        .expect("create");
    keys.rotate("data-2");
    assert_eq!(reseal_all(&*store, 10, |_, _| {}).await.expect("reseal"), 1);
    keys.drop_old_data_keys();
    let read = store
        .account("enrolled")
        .await
        .expect("read under the new key alone")
        .expect("exists");
    assert_eq!(
        read.totp_secret.as_deref().map(String::as_str),
        Some(secret)
    );
    let plain = store
        .account("not.yet")
        .await
        .expect("read")
        .expect("exists");
    assert!(plain.totp_secret.is_none());
}

/// Every tamper case, each on a fresh sealed database changed with plain SQL through a
/// connection of its own (not through the store).
#[tokio::test]
async fn tampering_with_the_tables_is_caught_by_verification() {
    use simpul_store::contract::{sealed_fixture, tamper_cases, tampering_is_caught};
    for case in tamper_cases() {
        let keys = TestKeys::new();
        let Some(fresh) = fresh(keys.vault()).await else {
            return;
        };
        let log_key = sealed_fixture(&*fresh).await;
        simpul_store::ledger_verify::verify_store(&*fresh, &log_key)
            .await
            .unwrap_or_else(|e| panic!("{}: untouched store fails: {e}", case.name));
        let mut raw = PgConnection::connect(&fresh.db.url())
            .await
            .expect("raw connection");
        for statement in case.statements {
            sqlx::query(statement)
                .execute(&mut raw)
                .await
                .unwrap_or_else(|e| panic!("{}: {statement}: {e}", case.name));
        }
        raw.close().await.expect("close");
        tampering_is_caught(&*fresh, &log_key, &case).await;
    }
}
