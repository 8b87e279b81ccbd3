use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{any, post};
use maestro_core::testing::{MemoryRepository, assert_publisher_contract, sample_events};
use maestro_core::{OutboxRelay, Publisher, Retry};
use serde_json::Value;

use super::*;

#[derive(Default)]
struct Seen {
    requests: Vec<(Method, String, Option<String>, Value)>,
    fail_next: Vec<StatusCode>,
}

type Shared = Arc<Mutex<Seen>>;

async fn record(
    State(s): State<Shared>,
    method: Method,
    Path(rest): Path<String>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> StatusCode {
    let mut g = s.lock().unwrap();
    if let Some(code) = g.fail_next.pop() {
        return code;
    }
    let key = headers.get("idempotency-key").map(|v| v.to_str().unwrap().to_string());
    g.requests.push((method, format!("/{rest}"), key, body.0));
    StatusCode::CREATED
}

async fn serve() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new()
        .route("/{*rest}", any(record))
        .route("/", post(|| async { StatusCode::OK }))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

#[tokio::test]
async fn passes_the_publisher_contract_against_a_real_server() {
    let (base, state) = serve().await;
    let p = WebhookPublisher::new(WebhookConfig::new(format!("{base}/hook"))).unwrap();
    let events = assert_publisher_contract(&p).await;
    let got = state.lock().unwrap().requests.clone();
    assert_eq!(got.len(), events.len() * 2);
    for (i, (method, path, key, body)) in got.iter().take(events.len()).enumerate() {
        assert_eq!(*method, Method::POST);
        assert_eq!(path, "/hook");
        assert_eq!(key.as_deref(), Some(events[i].id.to_string().as_str()), "the event id is the idempotency key");
        assert_eq!(body["kind"], Value::from(events[i].kind.clone()));
    }
}

#[tokio::test]
async fn audit_mode_speaks_the_original_contract() {
    let (base, state) = serve().await;
    let mut cfg = WebhookConfig::new(base.clone());
    cfg.mode = WebhookMode::Audit;
    let p = WebhookPublisher::new(cfg).unwrap();
    for e in sample_events("t") {
        p.publish(&e).await.unwrap();
    }
    let got = state.lock().unwrap().requests.clone();
    assert_eq!(got.len(), 2, "run.finished is not an audit call");
    assert_eq!((got[0].0.clone(), got[0].1.as_str()), (Method::POST, "/audit/servers/i-0001"));
    assert_eq!(got[0].3["name"], Value::from("web <1> & \"quoted\""));
    assert_eq!((got[1].0.clone(), got[1].1.as_str()), (Method::PUT, "/audit/servers/i-0001"));
}

#[tokio::test]
async fn status_codes_are_classified() {
    let (base, state) = serve().await;
    let p = WebhookPublisher::new(WebhookConfig::new(format!("{base}/hook"))).unwrap();
    let e = &sample_events("t")[0];
    state.lock().unwrap().fail_next = vec![StatusCode::SERVICE_UNAVAILABLE];
    assert_eq!(p.publish(e).await.unwrap_err().retry, Retry::Backoff);
    state.lock().unwrap().fail_next = vec![StatusCode::BAD_REQUEST];
    assert_eq!(p.publish(e).await.unwrap_err().retry, Retry::Never);
    state.lock().unwrap().fail_next = vec![StatusCode::TOO_MANY_REQUESTS];
    assert_eq!(p.publish(e).await.unwrap_err().retry, Retry::Backoff);
    p.publish(e).await.unwrap();
}

#[tokio::test]
async fn connection_refused_is_transient_and_names_no_secret() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut cfg = WebhookConfig::new(format!("http://127.0.0.1:{port}/hook"));
    cfg.headers.insert("Authorization".into(), "Bearer s3cr3t".into());
    cfg.timeout_secs = 2.0;
    let p = WebhookPublisher::new(cfg).unwrap();
    let err = p.publish(&sample_events("t")[0]).await.unwrap_err();
    assert_eq!(err.retry, Retry::Backoff);
    assert!(!format!("{err:?}").contains("s3cr3t"), "the header value must not leak: {err:?}");
}

/// The fault test of the foundation issue: the sink is down while events accumulate; after it
/// comes back every event is delivered once (no loss, no duplicate idempotency key).
#[tokio::test]
async fn sink_down_then_up_delivers_everything_once_through_the_relay() {
    let (base, state) = serve().await;
    let repo = Arc::new(MemoryRepository::new());
    use maestro_core::OutboxStore;
    let events: Vec<_> = (0..5).flat_map(|i| sample_events(&format!("t{i}"))).collect();
    repo.append_events(&events).await.unwrap();
    let p = Arc::new(WebhookPublisher::new(WebhookConfig::new(format!("{base}/hook"))).unwrap());
    let cfg = maestro_core::RelayConfig {
        retry: maestro_core::layers::RetryPolicy {
            max_attempts: 50,
            initial_backoff: std::time::Duration::ZERO,
            max_backoff: std::time::Duration::ZERO,
            jitter: 0.0,
        },
        ..maestro_core::RelayConfig::default()
    };
    let relay = OutboxRelay::new(repo.clone(), p).with_config(cfg);
    state.lock().unwrap().fail_next = vec![StatusCode::BAD_GATEWAY; 4];
    let mut delivered = 0;
    for _ in 0..20 {
        delivered += relay.run_once().await.unwrap().delivered;
    }
    assert_eq!(delivered, 15);
    let got = state.lock().unwrap().requests.clone();
    let keys: std::collections::HashSet<_> = got.iter().map(|r| r.2.clone()).collect();
    assert_eq!(got.len(), 15);
    assert_eq!(keys.len(), 15, "each idempotency key once");
}

#[test]
fn config_problems_are_all_reported() {
    let mut e = maestro_core::ConfigErrors::new();
    let mut cfg = WebhookConfig::new("ftp://x");
    cfg.timeout_secs = 0.0;
    cfg.headers.insert("bad header".into(), "v".into());
    assert!(!cfg.validate("publishers[0]", &mut e));
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, vec!["publishers[0].url", "publishers[0].timeout_secs", "publishers[0].headers.bad header"]);
}
