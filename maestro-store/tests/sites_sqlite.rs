//! The shared site store suite against a real SQLite file.

use std::sync::Arc;

use maestro_store::SqliteStore;

async fn fresh() -> Arc<SqliteStore> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("maestro.db");
    // Keep the directory for the life of the process: the store outlives this function.
    std::mem::forget(dir);
    Arc::new(SqliteStore::open(&format!("sqlite://{}", path.display())).await.expect("open sqlite"))
}

maestro_core::site_store_suite!(fresh());
