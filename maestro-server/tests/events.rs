//! The `/events` websocket over a real socket: a crawl's run progress and the outbox events it
//! wrote reach a subscriber, filtered by `?kinds=`.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use maestro_core::scheduler::{JobContext, JobRecord};
use maestro_server::runtime::{self, Runtime, RuntimeConfig, Shutdown};
use maestro_server::web::{WebState, app};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

async fn next_json<S>(ws: &mut S) -> Value
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let m = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("a message within 30 s")
            .expect("stream open")
            .expect("websocket message");
        if let Message::Text(t) = m {
            return serde_json::from_str(&t).expect("JSON message");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_streams_progress_and_filtered_events() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.json");
    std::fs::write(
        &inv,
        r#"{"servers": [{"unique_id": "i-1", "name": "web-1"}, {"unique_id": "i-2", "name": "web-2"}]}"#,
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let config: Value = serde_json::json!({
        "database": db, "tenant": "acme",
        "sources": [{"type": "file", "connection": "files", "paths": [inv]}],
    });
    let config = RuntimeConfig::from_value(&config).unwrap();
    let store = runtime::open_store(&db, None).await.unwrap();
    let rt = Arc::new(Runtime::new(config, store));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = Shutdown::on(async move {
        let _ = stop_rx.await;
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let api_store: Arc<dyn maestro_store::AnyStore> = rt.store.clone();
    let api = maestro_server::api::ApiState::new(api_store, maestro_server::api::ApiConfig::default());
    let web = app(WebState { rt: rt.clone(), shutdown: shutdown.clone() }, api);
    tokio::spawn(async move { axum::serve(listener, web).await.unwrap() });
    tokio::spawn(runtime::tail_outbox(rt.clone(), Duration::from_millis(50), shutdown.clone()));

    let (mut all, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/events")).await.unwrap();
    let (mut created, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/events?kinds=resource.created")).await.unwrap();
    assert_eq!(next_json(&mut all).await["kind"], "subscribed");
    let hello = next_json(&mut created).await;
    assert_eq!(hello["kinds"], serde_json::json!(["resource.created"]));

    let job =
        JobRecord::new("manual-1", "acme", "crawl", serde_json::json!({"connection": "files"}), chrono::Utc::now());
    let registry = runtime::registry(&rt);
    registry.get("crawl").unwrap().call(JobContext { job }).await.expect("the crawl succeeds");

    // The filtered subscriber sees exactly the two created resources, nothing else.
    let mut names = Vec::new();
    for _ in 0..2 {
        let e = next_json(&mut created).await;
        assert_eq!(e["kind"], "resource.created", "{e}");
        assert_eq!(e["tenant"], "acme");
        names.push(e["subject"].as_str().unwrap().to_string());
    }
    names.sort();
    assert_eq!(names, ["acme/files/server/i-1", "acme/files/server/i-2"]);
    // The unfiltered one sees run progress from start to finish, the job outcome and the events.
    let mut kinds = Vec::new();
    let mut phases = Vec::new();
    while !(kinds.iter().filter(|k: &&String| *k == "resource.created").count() == 2
        && kinds.contains(&"run.finished".to_string()))
    {
        let m = next_json(&mut all).await;
        let kind = m["kind"].as_str().unwrap().to_string();
        if kind == "run.progress" {
            phases.push(m["phase"].as_str().unwrap().to_string());
        }
        kinds.push(kind);
    }
    assert_eq!(phases.first().map(String::as_str), Some("started"), "{phases:?}");
    assert!(phases.contains(&"scope".to_string()) && phases.contains(&"finished".to_string()), "{phases:?}");
    assert!(kinds.contains(&"job.finished".to_string()), "{kinds:?}");

    // Shutdown closes the sockets.
    stop_tx.send(()).unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(m)) = all.next().await {
            if m.is_close() {
                return true;
            }
        }
        true
    })
    .await
    .expect("closed on shutdown");
    assert!(closed);
    let _ = created.close(None).await;
}
