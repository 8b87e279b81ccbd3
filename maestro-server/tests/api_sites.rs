//! Sites and check results through the JSON API, end to end: the API served on a real socket
//! on 127.0.0.1 over a real SQLite file, a loopback HTTP target (an axum server in the test)
//! that the checks request, and reqwest as the client.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use maestro_core::OutboxCursor;
use maestro_core::monitor::{CheckQuery, CheckResult, Site};
use maestro_server::api::auth::{AuthConfig, issue_token};
use maestro_server::api::{ApiConfig, ApiState};
use maestro_store::AnyStore;
use serde_json::{Value, json};

const SECRET: &str = "sites-jwt-secret";

/// A loopback target: `/ok` answers 200 `service is UP`, `/status/{code}` answers `code`.
async fn target() -> String {
    let app = Router::new().route("/ok", get(|| async { "service is UP" })).route(
        "/status/{code}",
        get(|Path(code): Path<u16>| async move { StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

struct Server {
    base: String,
    client: reqwest::Client,
    store: Arc<dyn AnyStore>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = maestro_store::open(&format!("sqlite://{}", dir.path().join("sites.db").display())).await.unwrap();
        let config = ApiConfig {
            auth: AuthConfig::new(Some(SECRET), None, None, None),
            body_limit: 64 * 1024,
            ..ApiConfig::default()
        };
        let state = ApiState::new(store.clone(), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(maestro_server::api::serve(
            listener,
            state,
            async {
                let _ = rx.await;
            },
            Duration::from_secs(10),
        ));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Server { base: format!("http://{addr}"), client, store, stop: Some(tx), task: Some(task), _dir: dir }
    }

    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.take().unwrap().await.unwrap().unwrap();
    }

    async fn send(&self, method: &str, path: &str, tenant: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut req = self.client.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = tenant {
            req = req.bearer_auth(issue_token(SECRET, t, 3600).unwrap());
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// A raw body with a content type, for malformed input.
    async fn send_raw(&self, method: &str, path: &str, tenant: &str, ct: &str, body: &str) -> (u16, Value) {
        let resp = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(issue_token(SECRET, tenant, 3600).unwrap())
            .header("content-type", ct)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

fn error(v: &Value) -> (&str, &str, Option<&str>) {
    let e = &v["error"];
    (
        e["code"].as_str().unwrap_or_else(|| panic!("not an error body: {v}")),
        e["message"].as_str().unwrap_or_else(|| panic!("no message: {v}")),
        e["field"].as_str(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_crud_on_a_real_socket() {
    let s = Server::start().await;
    let (st, created) = s
        .send(
            "POST",
            "/sites",
            Some("acme"),
            Some(json!({
                "url": "https://example.test/health", "regexp": "UP", "interval_secs": 60, "timeout_ms": 2500,
                "method": "head", "headers": {"Accept": "text/plain"}, "conditions": ["[STATUS] == 200"],
                "resource": {"connection": "aws-prod", "kind": "application", "native_id": "shop"}
            })),
        )
        .await;
    assert_eq!(st, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert!(id > 0);
    assert_eq!(created["method"], "HEAD", "the method is stored upper-case");
    assert_eq!(created["interval_secs"], 60);
    assert_eq!(created["follow_redirects"], true, "default");
    assert_eq!(created["enabled"], true, "default");
    assert_eq!(created["resource"]["native_id"], "shop");
    assert_eq!(created["last_check"], Value::Null);

    // Defaults for everything but the URL.
    let (st, second) = s.send("POST", "/sites", Some("acme"), Some(json!({"url": "http://127.0.0.1:9/x"}))).await;
    assert_eq!(st, 201, "{second}");
    assert_eq!((second["interval_secs"].as_u64(), second["timeout_ms"].as_u64()), (Some(600), Some(10_000)));
    assert_eq!(second["method"], "GET");

    let (st, one) = s.send("GET", &format!("/sites/{id}"), Some("acme"), None).await;
    assert_eq!(st, 200);
    assert_eq!(one, created);
    // The store holds exactly what the API answered.
    let stored = s.store.get_site("acme", id).await.unwrap().unwrap();
    assert_eq!(stored.url, "https://example.test/health");
    assert_eq!(stored.resource.unwrap().tenant, "acme", "the resource is in the caller's tenant");

    // List: paginated by id with a next link.
    let (st, page) = s.send("GET", "/sites?limit=1", Some("acme"), None).await;
    assert_eq!(st, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], id);
    let next = page["next"].as_str().expect("a next page");
    let (st, rest) = s.send("GET", next, Some("acme"), None).await;
    assert_eq!(st, 200);
    assert_eq!(rest["items"][0]["id"], second["id"]);
    assert_eq!(rest["next"], Value::Null);

    // Update replaces the settings.
    let (st, updated) = s
        .send(
            "PUT",
            &format!("/sites/{id}"),
            Some("acme"),
            Some(json!({"url": "https://example.test/v2", "enabled": false})),
        )
        .await;
    assert_eq!(st, 200, "{updated}");
    assert_eq!((updated["url"].as_str(), updated["enabled"].as_bool()), (Some("https://example.test/v2"), Some(false)));
    assert_eq!(updated["regexp"], Value::Null, "omitted fields take their defaults on PUT");
    let (st, v) = s.send("PUT", "/sites/999999", Some("acme"), Some(json!({"url": "https://x.test/"}))).await;
    assert_eq!((st, error(&v).0), (404, "not_found"));

    // Delete, then it is gone.
    let (st, _) = s.send("DELETE", &format!("/sites/{id}"), Some("acme"), None).await;
    assert_eq!(st, 204);
    let (st, v) = s.send("GET", &format!("/sites/{id}"), Some("acme"), None).await;
    assert_eq!((st, error(&v).0), (404, "not_found"));
    let (st, v) = s.send("DELETE", &format!("/sites/{id}"), Some("acme"), None).await;
    assert_eq!((st, error(&v).0), (404, "not_found"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_sites_are_refused_with_the_field_path_and_position() {
    let s = Server::start().await;
    let (st, v) = s
        .send(
            "POST",
            "/sites",
            Some("acme"),
            Some(json!({"url": "https://ok.test/", "regexp": "(unclosed", "conditions": ["[STATUS] == 200", "[STATUS] =< 200"]})),
        )
        .await;
    assert_eq!(st, 422, "{v}");
    let (code, message, field) = error(&v);
    assert_eq!(code, "invalid_site");
    assert_eq!(field, Some("regexp"), "the first problem's path");
    assert!(message.contains("regexp: invalid regular expression"), "{message}");
    assert!(message.contains("conditions[1]:") && message.contains("position 9"), "{message}");

    let (st, v) = s
        .send("POST", "/sites", Some("acme"), Some(json!({"url": "https://ok.test/", "conditions": ["[BODY] =="]})))
        .await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(error(&v).2, Some("conditions[0]"));

    for (body, want_field) in [
        (json!({"url": "ftp://files.test/"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (json!({"url": "https://ok.test/", "timeout_ms": 0}), "timeout_ms"),
        (json!({"url": "https://ok.test/", "interval_secs": 0}), "interval_secs"),
        (json!({"url": "https://ok.test/", "interval_secs": 99_999_999_999u64}), "interval_secs"),
        (json!({"url": "https://ok.test/", "method": "GE T"}), "method"),
        (json!({"url": "https://ok.test/", "headers": {"bad header": "x"}}), "headers.bad header"),
        (json!({"url": "https://ok.test/\u{0}"}), "url"),
        (
            json!({"url": "https://ok.test/", "resource": {"connection": "", "kind": "application", "native_id": "a"}}),
            "resource.connection",
        ),
    ] {
        let (st, v) = s.send("POST", "/sites", Some("acme"), Some(body.clone())).await;
        assert_eq!(st, 422, "{body} → {v}");
        assert_eq!(error(&v).2, Some(want_field), "{body} → {v}");
    }
    // Nothing was stored by any of them.
    let (_, page) = s.send("GET", "/sites", Some("acme"), None).await;
    assert_eq!(page["items"], json!([]));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_clear_4xx() {
    let s = Server::start().await;
    let (st, v) = s.send_raw("POST", "/sites", "acme", "application/json", "{\"url\": ").await;
    assert_eq!((st, error(&v).0), (400, "malformed_json"), "{v}");
    let (st, v) =
        s.send("POST", "/sites", Some("acme"), Some(json!({"url": "https://ok.test/", "colour": "red"}))).await;
    assert_eq!((st, error(&v).0), (400, "invalid_body"), "{v}");
    assert!(error(&v).1.contains("unknown field `colour`"), "{v}");
    let (st, v) = s
        .send("POST", "/sites", Some("acme"), Some(json!({"url": "https://ok.test/", "interval_secs": "often"})))
        .await;
    assert_eq!((st, error(&v).0), (400, "invalid_body"), "{v}");
    assert!(error(&v).1.contains("interval_secs"), "{v}");
    let (st, v) = s.send("POST", "/sites", Some("acme"), Some(json!({"regexp": "x"}))).await;
    assert_eq!((st, error(&v).0), (400, "invalid_body"), "{v}");
    assert!(error(&v).1.contains("missing field `url`"), "{v}");
    let (st, v) = s.send_raw("POST", "/sites", "acme", "text/plain", "{}").await;
    assert_eq!((st, error(&v).0), (415, "unsupported_media_type"), "{v}");
    let (st, v) = s.send("POST", "/sites", None, Some(json!({"url": "https://ok.test/"}))).await;
    assert_eq!((st, error(&v).0), (401, "unauthorized"), "{v}");

    for path in
        ["/sites/abc", "/sites/1.5", "/sites/..%2F..%2Fetc", "/sites/99999999999999999999999", "/sites/abc/checks"]
    {
        let (st, v) = s.send("GET", path, Some("acme"), None).await;
        assert_eq!((st, error(&v).0), (400, "invalid_path"), "{path} → {v}");
    }
    for path in ["/sites/0", "/sites/-4"] {
        let (st, v) = s.send("GET", path, Some("acme"), None).await;
        assert_eq!((st, error(&v).0), (400, "invalid_path"), "{path} → {v}");
        assert!(error(&v).1.contains("positive integer"), "{v}");
    }
    let (st, v) = s.send("GET", "/sites?limit=0", Some("acme"), None).await;
    assert_eq!((st, error(&v).2), (400, Some("limit")), "{v}");
    let (st, v) = s.send("GET", "/sites?cursor=nope", Some("acme"), None).await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = s.send("GET", "/sites?colour=red", Some("acme"), None).await;
    assert_eq!((st, error(&v).0), (400, "invalid_query"), "{v}");
    let (st, v) = s.send("PATCH", "/sites/1", Some("acme"), Some(json!({}))).await;
    assert_eq!(st, 405, "{v}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_sees_and_changes_nothing() {
    let s = Server::start().await;
    let base = target().await;
    let (_, site) = s.send("POST", "/sites", Some("acme"), Some(json!({"url": format!("{base}/ok")}))).await;
    let id = site["id"].as_i64().unwrap();
    let (st, _) = s.send("POST", &format!("/sites/{id}/checks"), Some("acme"), None).await;
    assert_eq!(st, 201);

    let (st, page) = s.send("GET", "/sites", Some("globex"), None).await;
    assert_eq!((st, &page["items"]), (200, &json!([])), "{page}");
    for (method, path, body) in [
        ("GET", format!("/sites/{id}"), None),
        ("PUT", format!("/sites/{id}"), Some(json!({"url": "https://evil.test/"}))),
        ("DELETE", format!("/sites/{id}"), None),
        ("GET", format!("/sites/{id}/checks"), None),
        ("POST", format!("/sites/{id}/checks"), None),
    ] {
        let (st, v) = s.send(method, &path, Some("globex"), body).await;
        assert_eq!((st, error(&v).0), (404, "not_found"), "{method} {path} → {v}");
    }
    // Untouched for its owner, with exactly the one check acme ran.
    let (st, mine) = s.send("GET", &format!("/sites/{id}"), Some("acme"), None).await;
    assert_eq!(st, 200);
    assert_eq!(mine["url"], format!("{base}/ok"));
    let q = CheckQuery { tenant: "acme".into(), ..CheckQuery::default() };
    let all = s.store.list_checks(&q, &maestro_core::PageRequest::first(10)).await.unwrap();
    assert_eq!(all.items.len(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_checks_a_loopback_target_and_results_are_listed_newest_first() {
    let s = Server::start().await;
    let base = target().await;
    let (_, up) = s
        .send(
            "POST",
            "/sites",
            Some("acme"),
            Some(json!({"url": format!("{base}/ok"), "regexp": "is UP", "conditions": ["[STATUS] == 200"]})),
        )
        .await;
    let up_id = up["id"].as_i64().unwrap();
    let (_, down) = s
        .send(
            "POST",
            "/sites",
            Some("acme"),
            Some(json!({"url": format!("{base}/status/503"), "conditions": ["[STATUS] == 200"]})),
        )
        .await;
    let down_id = down["id"].as_i64().unwrap();

    let (st, first) = s.send("POST", &format!("/sites/{up_id}/checks"), Some("acme"), None).await;
    assert_eq!(st, 201, "{first}");
    assert_eq!(first["site_id"], up_id);
    assert_eq!(first["success"], true, "{first}");
    assert_eq!(first["status_code"], 200);
    assert_eq!(first["has_regexp"], true);
    assert!(first["response_time_ms"].as_f64().unwrap() >= 0.0, "{first}");
    assert_eq!(first["conditions"], json!([{"condition": "[STATUS] == 200", "success": true}]));
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (st, second) = s.send("POST", &format!("/sites/{up_id}/checks"), Some("acme"), None).await;
    assert_eq!(st, 201, "{second}");

    let (st, failed) = s.send("POST", &format!("/sites/{down_id}/checks"), Some("acme"), None).await;
    assert_eq!(st, 201, "a failing target is a stored result, not an error: {failed}");
    assert_eq!((failed["success"].as_bool(), failed["status_code"].as_u64()), (Some(false), Some(503)));
    assert_eq!(failed["conditions"][0]["success"], false);

    // A target that refuses connections: a failed check with the reason.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (_, gone) =
        s.send("POST", "/sites", Some("acme"), Some(json!({"url": format!("http://127.0.0.1:{closed}/")}))).await;
    let (st, refused) = s.send("POST", &format!("/sites/{}/checks", gone["id"]), Some("acme"), None).await;
    assert_eq!(st, 201, "{refused}");
    assert_eq!((refused["success"].as_bool(), &refused["status_code"]), (Some(false), &Value::Null));
    assert!(refused["error"].as_str().is_some_and(|e| !e.is_empty()), "{refused}");

    // Results of the up site, newest first, paginated.
    let (st, page) = s.send("GET", &format!("/sites/{up_id}/checks?limit=1"), Some("acme"), None).await;
    assert_eq!(st, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["checked_at"], second["checked_at"], "newest first");
    let (st, older) = s.send("GET", page["next"].as_str().expect("next page"), Some("acme"), None).await;
    assert_eq!(st, 200);
    assert_eq!(older["items"].as_array().unwrap().len(), 1);
    assert_eq!(older["items"][0]["checked_at"], first["checked_at"]);
    assert_eq!(older["next"], Value::Null);

    // The site shows its newest result; the list too.
    let (_, one) = s.send("GET", &format!("/sites/{up_id}"), Some("acme"), None).await;
    assert_eq!(one["last_check"]["checked_at"], second["checked_at"]);
    let (_, all) = s.send("GET", "/sites", Some("acme"), None).await;
    let row = all["items"].as_array().unwrap().iter().find(|r| r["id"] == down_id).unwrap();
    assert_eq!(row["last_check"]["success"], false);

    // Each stored result has its site.check event in the outbox.
    let events = s.store.events_after(OutboxCursor::default(), 100).await.unwrap();
    let checks: Vec<_> = events.iter().filter(|e| e.event.kind == "site.check").collect();
    assert_eq!(checks.len(), 4);
    assert!(
        checks.iter().any(|e| e.event.subject == format!("site:{down_id}") && e.event.payload["status_code"] == 503)
    );

    // /metrics: results by outcome and the newest result of each site.
    let text = s.client.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    let line = |prefix: &str| {
        text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}` in:\n{text}")).to_string()
    };
    assert_eq!(
        line(&format!("maestro_site_checks{{site=\"{up_id}\",success=\"true\",tenant=\"acme\"}}")).rsplit(' ').next(),
        Some("2")
    );
    assert_eq!(
        line(&format!("maestro_site_checks{{site=\"{down_id}\",success=\"false\",tenant=\"acme\"}}"))
            .rsplit(' ')
            .next(),
        Some("1")
    );
    assert_eq!(line(&format!("maestro_site_up{{site=\"{up_id}\",tenant=\"acme\"}}")).rsplit(' ').next(), Some("1"));
    assert_eq!(line(&format!("maestro_site_up{{site=\"{down_id}\",tenant=\"acme\"}}")).rsplit(' ').next(), Some("0"));
    assert_eq!(
        line(&format!("maestro_site_last_status_code{{site=\"{down_id}\",tenant=\"acme\"}}")).rsplit(' ').next(),
        Some("503")
    );
    let rt: f64 = line(&format!("maestro_site_last_response_time_seconds{{site=\"{up_id}\",tenant=\"acme\"}}"))
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let want = second["response_time_ms"].as_f64().unwrap() / 1000.0;
    assert!((rt - want).abs() < 1e-9, "{rt} vs {want}");
    assert!(text.contains(&format!("maestro_site_last_check_timestamp_seconds{{site=\"{up_id}\",tenant=\"acme\"}}")));
    s.stop().await;
}

/// A result recorded by another process (the scheduler's `site.check` job) is what the API lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_recorded_by_the_checker_job_are_listed() {
    let s = Server::start().await;
    let base = target().await;
    let site = s.store.create_site(&Site::new("acme", format!("{base}/ok"))).await.unwrap();
    let job = maestro_providers::http_check::SiteCheckJob::new(
        s.store.clone(),
        None,
        Arc::new(maestro_providers::http_check::Checker::new(Default::default()).unwrap()),
    );
    let summary = job.execute(&json!({"tenant": "acme", "site_ids": [site.id]})).await.unwrap();
    assert_eq!((summary.checked, summary.failed, summary.stored), (1, 0, 1));
    let want: &CheckResult = &summary.results[0];
    let (st, page) = s.send("GET", &format!("/sites/{}/checks", site.id), Some("acme"), None).await;
    assert_eq!(st, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["status_code"], 200);
    assert_eq!(
        page["items"][0]["checked_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap(),
        want.checked_at
    );
    s.stop().await;
}
