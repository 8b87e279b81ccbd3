use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use maestro_core::testing::assert_publisher_contract;
use maestro_core::{Event, Publisher, Retry};
use serde_json::{Value, json};

use super::*;
use crate::tix::{TIX_QUARANTINED, TIX_RESULT, result_event_id};

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k| map.get(k).cloned()
}

#[test]
fn urls_follow_the_original_rules() {
    let mut c = TixApiConfig::new("sarasa", None);
    assert_eq!(c.reports_url("1", "2"), "http://sarasa/api/user/1/installation/2/reports");
    c.port = Some(80);
    assert_eq!(c.base_url(), "http://sarasa");
    c.port = Some(3001);
    assert_eq!(c.base_url(), "http://sarasa:3001");
    c.ssl = true;
    assert_eq!(c.base_url(), "https://sarasa:3001");
    c.port = Some(443);
    assert_eq!(c.base_url(), "https://sarasa");
    c.port = None;
    assert_eq!(c.reports_url("a/b", "c"), "https://sarasa/api/user/a%2Fb/installation/c/reports");
    assert_eq!(TixApiConfig::new("::1", Some(8080)).base_url(), "http://[::1]:8080");
}

#[test]
fn env_of_the_original_maps_onto_the_config() {
    let c = TixApiConfig::from_lookup(lookup(&[
        ("TIX_API_HOST", "api.tix.example"),
        ("TIX_API_PORT", "3001"),
        ("TIX_API_SSL", "true"),
        ("TIX_API_USER", "admin"),
        ("TIX_API_PASSWORD", "s3cr3t"),
    ]))
    .unwrap();
    assert_eq!(c.reports_url("23", "17916"), "https://api.tix.example:3001/api/user/23/installation/17916/reports");
    assert_eq!(c.user.as_deref(), Some("admin"));
    assert!(!format!("{c:?}").contains("s3cr3t"), "Debug must not print the password");
    // The original turned TLS on for *any* value, even `False`; here it is a boolean.
    let c = TixApiConfig::from_lookup(lookup(&[("TIX_API_SSL", "False")])).unwrap();
    assert!(!c.ssl);
    assert_eq!(c.base_url(), "http://localhost");
    let e = TixApiConfig::from_lookup(lookup(&[
        ("TIX_API_SSL", "sometimes"),
        ("TIX_API_PORT", "70000"),
        ("TIX_API_USER", "admin"),
    ]))
    .unwrap_err();
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, vec!["TIX_API_PORT", "TIX_API_SSL", "env.password"]);
}

#[test]
fn example_config_parses_and_is_registered() {
    let v = json!({"type": "tix_api", "host": "api.tix.example", "port": 3001, "ssl": true,
                   "user": "admin", "password": "x", "timeout_secs": 10});
    let mut e = maestro_core::ConfigErrors::new();
    let p = crate::build_publisher("t", &v, "publishers[0]", &mut e);
    assert!(e.is_empty(), "{e}");
    assert_eq!(p.unwrap().name(), "tix_api:api.tix.example:3001");
    let bad = json!({"type": "tix_api", "host": "a b", "timeout_secs": 0, "hots": 1});
    let mut e = maestro_core::ConfigErrors::new();
    assert!(crate::build_publisher("t", &bad, "publishers[0]", &mut e).is_none());
    assert!(e.problems[0].1.contains("unknown field `hots`"), "{e}");
    let bad = TixApiConfig { host: "a b".into(), timeout_secs: 0.0, ..TixApiConfig::default() };
    let mut e = maestro_core::ConfigErrors::new();
    assert!(!bad.validate("p", &mut e));
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, vec!["p.host", "p.timeout_secs"]);
}

type Seen = Arc<Mutex<(Vec<(String, Option<String>, Option<String>, Value)>, Vec<StatusCode>)>>;

async fn record(
    State(s): State<Seen>,
    Path((u, i)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> StatusCode {
    let mut g = s.lock().unwrap();
    if let Some(code) = g.1.pop() {
        return code;
    }
    let h = |n: &str| headers.get(n).map(|v| v.to_str().unwrap().to_string());
    g.0.push((format!("{u}/{i}"), h("authorization"), h("idempotency-key"), body.0));
    StatusCode::OK
}

async fn serve() -> (u16, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new().route("/api/user/{u}/installation/{i}/reports", post(record)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, seen)
}

fn tix_event(key: &str) -> Event {
    Event {
        id: result_event_id(key),
        kind: TIX_RESULT.into(),
        tenant: "tix".into(),
        subject: "tix/23/17916".into(),
        run_id: None,
        occurred_at: chrono::Utc::now(),
        payload: json!({"user": "23", "installation": "17916", "key": key,
            "body": {"timestamp": 1, "version": "1.0.0", "upUsage": 0.5, "upQuality": 1.0, "downUsage": 0.25,
                     "downQuality": 1.0, "hurstUpRs": 0.5, "hurstUpWavelet": 0.5, "hurstDownRs": 0.5,
                     "hurstDownWavelet": 0.5, "ip": "190.17.134.135"}}),
    }
}

#[tokio::test]
async fn contract_sample_events_are_skipped_and_tix_results_posted() {
    let (port, seen) = serve().await;
    let p = TixApiPublisher::new(TixApiConfig::new("127.0.0.1", Some(port)).with_basic_auth("admin", "pw")).unwrap();
    assert_publisher_contract(&p).await;
    assert!(seen.lock().unwrap().0.is_empty(), "non-tix events are skipped, not posted");

    let e = tix_event("tix:23:17916:1-2");
    p.publish(&e).await.unwrap();
    let q = Event { kind: TIX_QUARANTINED.into(), ..tix_event("tix:23:17916:3-4") };
    p.publish(&q).await.unwrap();
    let got = seen.lock().unwrap().0.clone();
    assert_eq!(got.len(), 1);
    let (path, auth, key, body) = &got[0];
    assert_eq!(path, "23/17916");
    assert_eq!(auth.as_deref(), Some("Basic YWRtaW46cHc="), "admin:pw");
    assert_eq!(key.as_deref(), Some("tix:23:17916:1-2"));
    assert_eq!(body, &e.payload["body"]);
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys[..3], ["timestamp", "version", "upUsage"], "the original key order is kept");
}

#[tokio::test]
async fn status_codes_are_classified() {
    let (port, seen) = serve().await;
    let p = TixApiPublisher::new(TixApiConfig::new("127.0.0.1", Some(port))).unwrap();
    let e = tix_event("tix:1:2:3-4");
    for (code, retry) in [
        (StatusCode::SERVICE_UNAVAILABLE, Retry::Backoff),
        (StatusCode::REQUEST_TIMEOUT, Retry::Backoff),
        (StatusCode::TOO_MANY_REQUESTS, Retry::Backoff),
        (StatusCode::BAD_REQUEST, Retry::Never),
        (StatusCode::FORBIDDEN, Retry::Never),
    ] {
        seen.lock().unwrap().1 = vec![code];
        assert_eq!(p.publish(&e).await.unwrap_err().retry, retry, "{code}");
    }
    seen.lock().unwrap().1 = vec![StatusCode::CREATED];
    p.publish(&e).await.expect("201 is success (the original counted it as a failure)");
    seen.lock().unwrap().1 = vec![StatusCode::NO_CONTENT];
    p.publish(&e).await.expect("204 is success");
}

#[tokio::test]
async fn connection_refused_is_transient_and_malformed_results_are_rejected() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut cfg = TixApiConfig::new("127.0.0.1", Some(port)).with_basic_auth("admin", "s3cr3t");
    cfg.timeout_secs = 2.0;
    let p = TixApiPublisher::new(cfg).unwrap();
    let err = p.publish(&tix_event("tix:1:2:3-4")).await.unwrap_err();
    assert_eq!(err.retry, Retry::Backoff);
    assert!(!format!("{err:?}").contains("s3cr3t"));
    let mut bad = tix_event("tix:1:2:3-4");
    bad.payload.as_object_mut().unwrap().remove("body");
    assert_eq!(p.publish(&bad).await.unwrap_err().retry, Retry::Never);
}
