//! The shared scheduler suite (store contract and fault scenarios) against a real SQLite file.

use std::sync::Arc;

use maestro_store::SqliteStore;

async fn fresh() -> Arc<SqliteStore> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("maestro.db");
    // Keep the directory for the life of the process: the store outlives this function.
    std::mem::forget(dir);
    Arc::new(SqliteStore::open(&format!("sqlite://{}", path.display())).await.expect("open sqlite"))
}

maestro_core::scheduler_suite!(fresh());

/// Schedules and jobs survive a restart (the standalone mode's single file).
#[tokio::test]
async fn schedules_and_jobs_survive_reopening() {
    use maestro_core::scheduler::{JobRecord, Schedule, ScheduleStore, Trigger};
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let now = chrono::Utc::now();
    {
        let s = SqliteStore::open(&url).await.expect("open");
        let sch = Schedule::new(
            "t",
            "x",
            "crawl",
            serde_json::json!({"task": "server-list"}),
            Trigger::Cron("*/5 * * * *".into()),
        );
        s.upsert_schedule(&sch).await.expect("upsert");
        s.enqueue_job(&JobRecord::for_slot(&sch, now, now)).await.expect("enqueue");
    }
    let s = SqliteStore::open(&url).await.expect("reopen");
    assert_eq!(s.list_schedules(None).await.expect("list").len(), 1);
    assert_eq!(s.list_jobs(&Default::default()).await.expect("jobs").len(), 1);
}
