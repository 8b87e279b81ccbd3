use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use maestro_core::testing::{MemoryRepository, assert_publisher_contract};
use maestro_core::{Event, OutboxRelay, Publisher, Retry};
use serde_json::{Value, json};

use super::*;

#[derive(Default)]
struct Seen {
    /// (Authorization header, body)
    requests: Vec<(Option<String>, Value)>,
    /// Replies to give before the normal `{}`.
    replies: Vec<(StatusCode, Value)>,
}

type Shared = Arc<Mutex<Seen>>;

/// A loopback stand-in for Centrifugo v2's HTTP API: checks the API key like the real one.
async fn api(State(s): State<Shared>, headers: HeaderMap, body: axum::Json<Value>) -> (StatusCode, axum::Json<Value>) {
    let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
    let mut g = s.lock().unwrap();
    if auth.as_deref() != Some("apikey wsSecretKey") {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({})));
    }
    g.requests.push((auth, body.0));
    match g.replies.pop() {
        Some((status, reply)) => (status, axum::Json(reply)),
        None => (StatusCode::OK, axum::Json(json!({}))),
    }
}

async fn serve() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new().route("/api", post(api)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

fn run_finished(status: &str) -> Event {
    maestro_core::event::run_finished(
        "owner-1",
        uuid::Uuid::now_v7(),
        json!({"connection": "aws-main", "provider": "aws", "status": status}),
        chrono::Utc::now(),
    )
}

#[tokio::test]
async fn passes_the_publisher_contract_and_sends_the_original_payload() {
    let (base, state) = serve().await;
    let p = WsNotifyPublisher::new(WsNotifyConfig::new(base, "wsSecretKey")).unwrap();
    let events = assert_publisher_contract(&p).await;
    let finished = events.iter().filter(|e| e.kind == "run.finished").count();
    let got = state.lock().unwrap().requests.clone();
    assert_eq!(got.len(), finished * 2, "only run.finished is sent, each publish once");
    assert_eq!(got[0].1["method"], "publish");
    assert_eq!(got[0].1["params"]["channel"], "maestro-contract-tenant");

    p.publish(&run_finished("partial")).await.unwrap();
    let body = state.lock().unwrap().requests.last().unwrap().1.clone();
    assert_eq!(
        body,
        json!({"method": "publish", "params": {"channel": "maestro-owner-1", "data": {
            "notify": {"title": "aws-main", "msg": "Finish Sync - [aws] aws-main", "type": "warning"},
            "event": {"caller": ["connections-update", "connections-aws-main"]}}}})
    );
}

#[tokio::test]
async fn errors_are_classified() {
    let (base, state) = serve().await;
    let p = WsNotifyPublisher::new(WsNotifyConfig::new(base.clone(), "wsSecretKey")).unwrap();
    state.lock().unwrap().replies.push((StatusCode::OK, json!({"error": {"code": 100, "message": "internal error"}})));
    let e = p.publish(&run_finished("complete")).await.unwrap_err();
    assert_eq!(e.retry, Retry::Backoff, "{e}");
    state.lock().unwrap().replies.push((StatusCode::OK, json!({"error": {"code": 102, "message": "unknown channel"}})));
    let e = p.publish(&run_finished("complete")).await.unwrap_err();
    assert_eq!(e.retry, Retry::Never);
    assert!(e.to_string().contains("unknown channel"), "{e}");
    state.lock().unwrap().replies.push((StatusCode::SERVICE_UNAVAILABLE, json!({})));
    assert_eq!(p.publish(&run_finished("complete")).await.unwrap_err().retry, Retry::Backoff);
    // A wrong key is a 401 from the service: rejected, and the key is not in the message.
    let bad = WsNotifyPublisher::new(WsNotifyConfig::new(base, "wrong-key")).unwrap();
    let e = bad.publish(&run_finished("complete")).await.unwrap_err();
    assert_eq!(e.retry, Retry::Never);
    assert!(!e.to_string().contains("wrong-key") && !format!("{bad:?}").contains("wrong-key"));
    // Events it does not map are skipped, not sent.
    let before = state.lock().unwrap().requests.len();
    let ev = maestro_core::testing::sample_events("t").into_iter().find(|e| e.kind != "run.finished").unwrap();
    p.publish(&ev).await.unwrap();
    assert_eq!(state.lock().unwrap().requests.len(), before);
}

#[tokio::test]
async fn the_relay_delivers_through_it() {
    let (base, state) = serve().await;
    let store = Arc::new(MemoryRepository::new());
    use maestro_core::OutboxStore;
    store.append_events(&[run_finished("complete"), run_finished("failed")]).await.unwrap();
    let p: Arc<dyn Publisher> = Arc::new(WsNotifyPublisher::new(WsNotifyConfig::new(base, "wsSecretKey")).unwrap());
    let pass = OutboxRelay::new(store, p).drain().await.unwrap();
    assert_eq!(pass.delivered, 2);
    let types: Vec<Value> =
        state.lock().unwrap().requests.iter().map(|(_, b)| b["params"]["data"]["notify"]["type"].clone()).collect();
    assert_eq!(types, vec![json!("success"), json!("danger")]);
}

#[test]
fn config_problems_are_named_and_the_secret_is_redacted() {
    let mut errors = maestro_core::ConfigErrors::new();
    let v = json!({"type": "ws_notify", "url": "ftp://x", "secret": " ", "timeout_secs": 0});
    assert!(build("t", &v, "publishers[0]", &mut errors).is_none());
    let paths: Vec<&str> = errors.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, vec!["publishers[0].url", "publishers[0].secret", "publishers[0].timeout_secs"]);
    let c = WsNotifyConfig::new("http://x", "s3cret");
    assert!(!format!("{c:?}").contains("s3cret"));
}
