//! The shared repository suite against a real SQLite file.

use std::sync::Arc;

use maestro_store::SqliteStore;

async fn fresh() -> Arc<SqliteStore> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("maestro.db");
    // Keep the directory for the life of the process: the store outlives this function.
    std::mem::forget(dir);
    Arc::new(SqliteStore::open(&format!("sqlite://{}", path.display())).await.expect("open sqlite"))
}

maestro_core::repository_suite!(fresh());

#[tokio::test]
async fn reopening_keeps_data_and_runs_no_migration_twice() {
    use maestro_core::{PageRequest, Repository, ResourceFilter, UpsertBatch};
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    {
        let s = SqliteStore::open(&url).await.expect("open");
        let items = [maestro_core::testing::repository_suite::prep("i-1", "a", serde_json::json!({}))];
        s.upsert_batch(UpsertBatch {
            tenant: "t",
            connection: "c",
            scope: "s",
            run_id: uuid::Uuid::now_v7(),
            at: chrono::Utc::now(),
            items: &items,
        })
        .await
        .expect("upsert");
    }
    let s = SqliteStore::open(&url).await.expect("reopen");
    let page = s.list_resources(&ResourceFilter::tenant("t"), &PageRequest::first(10)).await.expect("list");
    assert_eq!(page.items.len(), 1);
}

#[tokio::test]
async fn bad_urls_are_named() {
    let err = maestro_store::open("mysql://x").await.err().expect("unknown scheme");
    assert!(err.to_string().contains("mysql"), "{err}");
}
