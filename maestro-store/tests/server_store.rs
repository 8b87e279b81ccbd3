//! `ServerStore` (connections, graph jobs, run requests, counts) on SQLite (a temp file) and on
//! a real PostgreSQL (address in `DATABASE_URL`, private schema per test). Without
//! `DATABASE_URL` the PostgreSQL tests fail, saying how to start it.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use maestro_core::testing::{PassThroughTranslator, StaticProvider};
use maestro_core::{
    ConnectionRecord, GraphJobRecord, NoObserver, PageRequest, Pipeline, Repository, RunJob, RunRequest, ServerStore,
};
use maestro_store::AnyStore;
use serde_json::json;
use uuid::Uuid;

fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "DATABASE_URL is not set: these tests need PostgreSQL. Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` and set \
             DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (bash .ci/run does both)"
        )
    })
}

async fn postgres() -> Arc<dyn AnyStore> {
    let schema = format!("maestro_test_server_{}", Uuid::new_v4().simple());
    Arc::new(maestro_store::PostgresStore::open_in_schema(&database_url(), Some(&schema)).await.unwrap_or_else(|e| {
        panic!("cannot open PostgreSQL at DATABASE_URL ({e}); start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`")
    }))
}

async fn sqlite(dir: &tempfile::TempDir) -> Arc<dyn AnyStore> {
    maestro_store::open(&format!("sqlite://{}", dir.path().join("s.db").display())).await.unwrap()
}

fn t(s: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn conn(tenant: &str, id: &str, sealed: Option<Vec<u8>>) -> ConnectionRecord {
    ConnectionRecord {
        tenant: tenant.into(),
        id: id.into(),
        name: format!("{id} name"),
        provider: "aws".into(),
        settings: json!({"regions": ["us-east-1"]}).as_object().unwrap().clone(),
        credential_fields: if sealed.is_some() { vec!["secret_access_key".into()] } else { vec![] },
        sealed_credentials: sealed,
        created_at: t(0),
        updated_at: t(0),
    }
}

async fn connections(s: &dyn ServerStore) {
    let blob = vec![0u8, 1, 2, 255, 254];
    s.put_connection(&conn("acme", "b", Some(blob.clone()))).await.unwrap();
    s.put_connection(&conn("acme", "a", None)).await.unwrap();
    s.put_connection(&conn("acme", "c", None)).await.unwrap();
    s.put_connection(&conn("other", "a", None)).await.unwrap();

    let got = s.get_connection("acme", "b").await.unwrap().expect("stored");
    assert_eq!(got, conn("acme", "b", Some(blob.clone())), "round trip, sealed bytes included");
    assert!(!format!("{got:?}").contains("254"), "Debug must redact the sealed credentials");

    // Re-put keeps created_at.
    let mut again = conn("acme", "b", None);
    again.created_at = t(100);
    again.updated_at = t(100);
    again.name = "renamed".into();
    s.put_connection(&again).await.unwrap();
    let got = s.get_connection("acme", "b").await.unwrap().unwrap();
    assert_eq!(
        (got.name.as_str(), got.created_at, got.updated_at, got.sealed_credentials),
        ("renamed", t(0), t(100), None)
    );

    // Paging by id, tenant-scoped.
    let p1 = s.list_connections("acme", &PageRequest::first(2)).await.unwrap();
    assert_eq!(p1.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    let p2 = s.list_connections("acme", &PageRequest { after: p1.next.clone(), limit: 2 }).await.unwrap();
    assert_eq!(p2.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["c"]);
    assert_eq!(p2.next, None);

    // Another tenant cannot read or delete.
    assert!(s.get_connection("other", "b").await.unwrap().is_none());
    assert!(!s.delete_connection("other", "b").await.unwrap());
    assert!(s.delete_connection("acme", "b").await.unwrap());
    assert!(s.get_connection("acme", "b").await.unwrap().is_none());
    assert!(s.get_connection("other", "a").await.unwrap().is_some());
}

async fn graphs(s: &dyn ServerStore) {
    let mut g = GraphJobRecord {
        tenant: "acme".into(),
        id: "g1".into(),
        owner_id: "o1".into(),
        kind: "business".into(),
        definition: json!({"apps": ["root"]}),
        status: "processing".into(),
        msg: "In progress".into(),
        info: json!({}),
        svg: None,
        graphml: None,
        json: None,
        created_at: t(0),
        updated_at: t(0),
    };
    s.put_graph_job(&g).await.unwrap();
    g.status = "finished".into();
    g.svg = Some("<svg/>".into());
    g.graphml = Some("<graphml/>".into());
    g.json = Some(json!({"nodes": [1]}));
    g.info = json!({"density": "0.50"});
    g.updated_at = t(5);
    g.created_at = t(5);
    s.put_graph_job(&g).await.unwrap();
    let got = s.get_graph_job("acme", "g1").await.unwrap().unwrap();
    assert_eq!(got.created_at, t(0), "created_at kept");
    assert_eq!(
        (got.status.as_str(), got.svg.as_deref(), got.json.clone()),
        ("finished", Some("<svg/>"), g.json.clone())
    );
    let list = s.list_graph_jobs("acme", &PageRequest::first(10)).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].svg, None, "lists leave the drawings out");
    assert!(s.get_graph_job("other", "g1").await.unwrap().is_none());
    assert!(s.list_graph_jobs("other", &PageRequest::first(10)).await.unwrap().items.is_empty());
}

async fn runs_and_counts(s: Arc<dyn AnyStore>) {
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = RunRequest {
            id: Uuid::now_v7(),
            tenant: "acme".into(),
            connection: "c".into(),
            provider: "file".into(),
            task: "import".into(),
            status: if i == 0 { "complete" } else { "running" }.into(),
            run_id: None,
            error: None,
            requested_at: t(i),
            finished_at: None,
        };
        s.put_run_request(&r).await.unwrap();
        ids.push(r.id);
    }
    let p = s.list_run_requests("acme", &PageRequest::first(2)).await.unwrap();
    assert_eq!(p.items.iter().map(|r| r.id).collect::<Vec<_>>(), ids[..2]);
    let p2 = s.list_run_requests("acme", &PageRequest { after: p.next, limit: 2 }).await.unwrap();
    assert_eq!(p2.items.iter().map(|r| r.id).collect::<Vec<_>>(), ids[2..]);
    assert!(s.get_run_request("other", ids[0]).await.unwrap().is_none());

    let n = s.interrupt_unfinished_runs(t(50), "stopped").await.unwrap();
    assert_eq!(n, 2);
    let r = s.get_run_request("acme", ids[1]).await.unwrap().unwrap();
    assert_eq!((r.status.as_str(), r.error.as_deref(), r.finished_at), ("interrupted", Some("stopped"), Some(t(50))));
    assert_eq!(s.get_run_request("acme", ids[0]).await.unwrap().unwrap().status, "complete");
    assert_eq!(
        s.run_request_counts().await.unwrap(),
        vec![("complete".to_string(), 1), ("interrupted".to_string(), 2)]
    );

    // Resource counts come from the resources table.
    let provider = StaticProvider::single(
        "acme",
        "c",
        "server-list",
        vec![
            json!({"kind": "server", "id": "i-1", "name": "a"}),
            json!({"kind": "server", "id": "i-2", "name": "b"}),
            json!({"kind": "volume", "id": "v-1", "name": "c"}),
        ],
    );
    let repo: Arc<dyn Repository> = s.clone();
    let job = RunJob { tenant: "acme", connection: "c", provider: &provider, translator: &PassThroughTranslator };
    Pipeline::new(repo).run_and_record(job, &NoObserver).await.unwrap();
    let counts = s.resource_counts().await.unwrap();
    let summary: Vec<(String, String, bool, u64)> =
        counts.into_iter().map(|c| (c.tenant, c.kind, c.active, c.count)).collect();
    assert_eq!(summary, vec![("acme".into(), "server".into(), true, 2), ("acme".into(), "volume".into(), true, 1)]);
    assert!(s.job_counts().await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_connections() {
    let d = tempfile::tempdir().unwrap();
    connections(&*sqlite(&d).await).await;
}

#[tokio::test]
async fn sqlite_graph_jobs() {
    let d = tempfile::tempdir().unwrap();
    graphs(&*sqlite(&d).await).await;
}

#[tokio::test]
async fn sqlite_run_requests_and_counts() {
    let d = tempfile::tempdir().unwrap();
    runs_and_counts(sqlite(&d).await).await;
}

#[tokio::test]
async fn postgres_connections() {
    connections(&*postgres().await).await;
}

#[tokio::test]
async fn postgres_graph_jobs() {
    graphs(&*postgres().await).await;
}

#[tokio::test]
async fn postgres_run_requests_and_counts() {
    runs_and_counts(postgres().await).await;
}
