//! The storage contract suite on SQLite: every check, each on a fresh database file.

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

async fn fresh() -> Option<Fresh> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("simpul.db").display());
    let store = SqliteStore::connect(&url).await.expect("connect");
    Some(Fresh { store, _dir: dir })
}

simpul_store::contract_suite!(fresh());
