//! The storage contract suite on SQLite: every check, each on a fresh database file; and
//! what only SQLite can show: the raw database file holds no personal data in clear.

use std::sync::Arc;

use simpul_domain::{KodeWilayah, RegistryEvent};
use simpul_store::contract::{
    TestKeys, fixture_account, fixture_today, plaintext_found, sensitive_strings,
};
use simpul_store::{AccountRecord, IdentityStore, Store, StoreError, Vault};
use simpul_store_sqlite::SqliteStore;

struct Fresh {
    store: SqliteStore,
    // Dropped after the store: deletes the database with its -wal and -shm files.
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Fresh {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

async fn fresh(vault: Arc<Vault>) -> Option<Fresh> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("simpul.db").display());
    let store = SqliteStore::connect(&url, vault).await.expect("connect");
    Some(Fresh { store, _dir: dir })
}

simpul_store::contract_suite!(fresh);

/// Every byte the database left in its directory (main file, WAL, shared memory).
fn raw_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        all.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
    }
    all
}

#[tokio::test]
async fn the_database_file_holds_no_name_or_number_in_clear() {
    let keys = TestKeys::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("simpul.db").display());
    let store = SqliteStore::connect(&url, keys.vault())
        .await
        .expect("connect");
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
    // While open (recent writes still in the WAL) and after a clean close (checkpointed).
    let open = plaintext_found(&raw_bytes(dir.path()), &sensitive);
    assert!(open.is_empty(), "{} values in clear while open", open.len());
    let head = &families[0].members[0];
    let record = store
        .resident(&head.nik)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(&record.resident, head, "sealed data still reads back");
    store.close().await;
    let closed = plaintext_found(&raw_bytes(dir.path()), &sensitive);
    assert!(
        closed.is_empty(),
        "{} values in clear after close",
        closed.len()
    );
}

#[tokio::test]
async fn the_database_file_holds_no_totp_secret_in_clear() {
    let keys = TestKeys::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("simpul.db").display());
    let store = SqliteStore::connect(&url, keys.vault())
        .await
        .expect("connect");
    // Two secrets: one written by the insert, one by a later save of the same row.
    let created = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ";
    let saved = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let account = AccountRecord {
        totp_secret: Some(created.to_owned().into()),
        ..fixture_account("sri.madiunlor")
    };
    store.create_account(&account).await.expect("create");
    let other = AccountRecord {
        totp_secret: Some(saved.to_owned().into()),
        totp_enrolled: true,
        ..fixture_account("budi.madiunlor")
    };
    store
        .create_account(&fixture_account("budi.madiunlor"))
        .await
        .expect("create");
    store.save_account(&other).await.expect("save");
    let secrets = [created.to_owned(), saved.to_owned()];
    let open = plaintext_found(&raw_bytes(dir.path()), &secrets);
    assert!(
        open.is_empty(),
        "{} secrets in clear while open",
        open.len()
    );
    let read = store
        .account("sri.madiunlor")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        read.totp_secret.as_deref().map(String::as_str),
        Some(created)
    );
    store.close().await;
    let closed = plaintext_found(&raw_bytes(dir.path()), &secrets);
    assert!(
        closed.is_empty(),
        "{} secrets in clear after close",
        closed.len()
    );
}

#[tokio::test]
async fn a_database_refuses_a_blind_key_that_did_not_build_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("simpul.db").display());
    let store = SqliteStore::connect(&url, TestKeys::new().vault())
        .await
        .expect("connect");
    store.close().await;
    let refused = SqliteStore::connect(&url, TestKeys::new().vault()).await;
    assert!(
        matches!(refused, Err(StoreError::Keys(_))),
        "{:?}",
        refused.err()
    );
}

#[tokio::test]
async fn the_wal_is_checkpointed_in_the_background() {
    let keys = TestKeys::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("simpul.db");
    let url = format!("sqlite://{}", db.display());
    let store = SqliteStore::connect(&url, keys.vault())
        .await
        .expect("connect");
    let spec = simpul_demo::DemoSpec {
        region: KodeWilayah::parse("35.77").expect("code"),
        residents: 600,
        seed: 3,
        today: fixture_today(),
    };
    let events: Vec<_> = simpul_demo::families(&spec, simpul_domain::wilayah::embedded())
        .expect("demo")
        .map(RegistryEvent::KeluargaTerdaftar)
        .collect();
    let size = || std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let before = size();
    // Far below the 1,000 pages at which SQLite would checkpoint on its own.
    store.append(&events).await.expect("append");
    // The background checkpoint (every second) moves the commit into the database file,
    // without a close or another write.
    let mut grown = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if size() > before + 100 * 1024 {
            grown = true;
            break;
        }
    }
    assert!(
        grown,
        "no checkpoint within 5 s ({} -> {} bytes)",
        before,
        size()
    );
    store.close().await;
}

/// Every tamper case, each on a fresh sealed database changed through its own connection
/// to the file (not through the store), as an attacker with the file would.
#[tokio::test]
async fn tampering_with_the_file_is_caught_by_verification() {
    use simpul_store::contract::{sealed_fixture, tamper_cases, tampering_is_caught};
    for case in tamper_cases() {
        let keys = TestKeys::new();
        let fresh = fresh(keys.vault()).await.expect("store");
        let log_key = sealed_fixture(&*fresh).await;
        simpul_store::ledger_verify::verify_store(&*fresh, &log_key)
            .await
            .unwrap_or_else(|e| panic!("{}: untouched store fails: {e}", case.name));
        let url = format!("sqlite://{}", fresh._dir.path().join("simpul.db").display());
        let mut raw = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .expect("raw connection");
        for statement in case.statements {
            sqlx::query(statement)
                .execute(&mut raw)
                .await
                .unwrap_or_else(|e| panic!("{}: {statement}: {e}", case.name));
        }
        tampering_is_caught(&*fresh, &log_key, &case).await;
    }
}
