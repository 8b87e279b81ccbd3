//! The JSON API end to end on a real SQLite file: auth and tenancy, bad input, connections with
//! sealed credentials, a crawl started through the API and watched to completion, resources,
//! history, inventory, graphs, schedules, the outbox and metrics. Most requests go through the
//! router in-process (`oneshot`); one test serves on a real socket on 127.0.0.1:0.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use http_body_util::BodyExt;
use maestro_core::OutboxCursor;
use maestro_server::api::auth::{AuthConfig, Claims, issue_token};
use maestro_server::api::crypto::SecretKey;
use maestro_server::api::{ApiConfig, ApiState, router};
use maestro_store::AnyStore;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "test-jwt-secret";
const PRIVATE: &str = "test-private-secret";
const NOAUTH: &str = "test-noauth-value";
const DEMO: &str = include_str!("../../examples/data/demo-inventory.json");

struct Api {
    app: axum::Router,
    state: ApiState,
    store: Arc<dyn AnyStore>,
    dir: tempfile::TempDir,
}

fn config(dir: &tempfile::TempDir) -> ApiConfig {
    ApiConfig {
        auth: AuthConfig::new(Some(SECRET), Some(PRIVATE), Some(NOAUTH), None),
        secret_key: Some(SecretKey::parse(&"5a".repeat(32)).unwrap()),
        body_limit: 64 * 1024,
        file_root: Some(dir.path().join("files")),
        ..ApiConfig::default()
    }
}

async fn api_with(f: impl FnOnce(&mut ApiConfig)) -> Api {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("files")).unwrap();
    std::fs::write(dir.path().join("files/demo.json"), DEMO).unwrap();
    let store = maestro_store::open(&format!("sqlite://{}", dir.path().join("api.db").display())).await.unwrap();
    let mut c = config(&dir);
    f(&mut c);
    let state = ApiState::new(store.clone(), c);
    Api { app: router(state.clone()), state, store, dir }
}

async fn api() -> Api {
    api_with(|_| {}).await
}

fn bearer(tenant: &str) -> String {
    format!("Bearer {}", issue_token(SECRET, tenant, 3600).unwrap())
}

fn sign(secret: &str, claims: &Claims) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

impl Api {
    async fn raw(&self, req: Request<Body>) -> (StatusCode, String, Option<String>) {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned(), ct)
    }

    async fn call(&self, method: &str, uri: &str, auth: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        let req = match body {
            Some(v) => b.header("content-type", "application/json").body(Body::from(v.to_string())).unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        let (status, text, _) = self.raw(req).await;
        let v = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text));
        (status, v)
    }

    async fn get(&self, uri: &str, tenant: &str) -> (StatusCode, Value) {
        self.call("GET", uri, Some(&bearer(tenant)), None).await
    }

    /// Create the demo `file` connection and run it to the end through the API.
    async fn import_demo(&self, tenant: &str) -> Value {
        let (s, _) = self
            .call(
                "POST",
                "/connections",
                Some(&bearer(tenant)),
                Some(json!({"id": "demo-files", "provider": "file", "settings": {"paths": ["demo.json"]}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, run) = self.call("POST", "/connections/demo-files/runs", Some(&bearer(tenant)), Some(json!({}))).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{run}");
        self.wait_run(tenant, run["id"].as_str().unwrap()).await
    }

    /// Poll a run until it ends (bounded number of polls; no timing is asserted).
    async fn wait_run(&self, tenant: &str, id: &str) -> Value {
        for _ in 0..600 {
            let (s, r) = self.get(&format!("/runs/{id}"), tenant).await;
            assert_eq!(s, StatusCode::OK, "{r}");
            if !matches!(r["status"].as_str(), Some("queued" | "running")) {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("run {id} did not end");
    }
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error body: {v}"))
}

#[tokio::test]
async fn health_version_and_openapi_need_no_token() {
    let a = api().await;
    let (s, v) = a.call("GET", "/health", None, None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, v) = a.call("GET", "/version", None, None).await;
    assert_eq!((s, v["name"].as_str()), (StatusCode::OK, Some("maestro")));
    let (s, v) = a.call("GET", "/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    for p in [
        "/resources",
        "/connections/{id}/runs",
        "/crawler/{provider}/{connection}/{task}",
        "/graphs",
        "/outbox/dead-letters/{id}/replay",
    ] {
        assert!(v["paths"].get(p).is_some(), "{p} missing from the OpenAPI document");
    }
    let (s, v) = a.call("GET", "/nope", None, None).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn auth_refuses_missing_forged_expired_and_foreign_tokens() {
    let a = api().await;
    let (s, v) = a.call("GET", "/resources", None, None).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    assert!(v["error"]["message"].as_str().unwrap().contains("missing"));

    let forged = format!("Bearer {}", issue_token("not-the-secret", "acme", 3600).unwrap());
    let (s, v) = a.call("GET", "/resources", Some(&forged), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["error"]["message"].as_str().unwrap().contains("signature"), "{v}");

    let expired = format!("Bearer {}", issue_token(SECRET, "acme", -10).unwrap());
    let (s, v) = a.call("GET", "/resources", Some(&expired), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["error"]["message"].as_str().unwrap().contains("expired"), "{v}");

    let no_exp =
        format!("Bearer {}", sign(SECRET, &Claims { tenant: Some("acme".into()), sub: None, exp: None, noauth: None }));
    let (s, v) = a.call("GET", "/resources", Some(&no_exp), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");

    let (s, _) = a.call("GET", "/resources", Some("Basic dXNlcjpwYXNz"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = a.call("GET", "/resources", Some("Bearer not.a.jwt"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Wrong tenant: acme's data is invisible to globex.
    a.import_demo("acme").await;
    let (_, mine) = a.get("/resources?limit=5", "acme").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 5);
    let (_, theirs) = a.get("/resources", "globex").await;
    assert!(theirs["items"].as_array().unwrap().is_empty(), "{theirs}");
    let (_, all) = a.get("/resources?limit=1000", "acme").await;
    let r = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            let id = r["key"]["native_id"].as_str().unwrap();
            !id.contains('/') && !id.contains("..")
        })
        .expect("a resource whose id fits in a path");
    let seg = |v: &Value| -> String {
        v.as_str()
            .unwrap()
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let path = format!(
        "/resources/acme/{}/{}/{}",
        seg(&r["key"]["connection"]),
        seg(&r["key"]["kind"]),
        seg(&r["key"]["native_id"])
    );
    assert_eq!(a.get(&path, "acme").await.0, StatusCode::OK);
    let (s, v) = a.get(&path, "globex").await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    let (s, _) = a.get(&format!("/resources/key/{}", r["encoded_key"].as_str().unwrap()), "globex").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(a.get("/connections/demo-files", "globex").await.0, StatusCode::NOT_FOUND);
    let (_, runs) = a.get("/runs", "globex").await;
    assert!(runs["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_original_service_token_is_accepted_when_noauth_matches() {
    let a = api().await;
    let service = |noauth: &str, secret: &str| {
        format!(
            "JWT {}",
            sign(
                secret,
                &Claims { tenant: None, sub: Some("server-app".into()), exp: None, noauth: Some(noauth.into()) }
            )
        )
    };
    let mut req = Request::get("/connections").header("authorization", service(NOAUTH, PRIVATE));
    req = req.header("x-maestro-tenant", "acme");
    let (s, body, _) = a.raw(req.body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, _) = a.call("GET", "/connections", Some(&service("wrong", PRIVATE)), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = a.call("GET", "/connections", Some(&service(NOAUTH, "forged")), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx() {
    let a = api().await;
    let auth = bearer("acme");
    let post = |uri: &str, body: &str, ct: Option<&str>| {
        let mut b = Request::post(uri).header("authorization", &auth);
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        b.body(Body::from(body.to_string())).unwrap()
    };
    let (s, t, _) = a.raw(post("/connections", "{\"provider\": ", Some("application/json"))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{t}");
    assert!(t.contains("malformed_json"), "{t}");

    let (s, t, _) =
        a.raw(post("/connections", r#"{"provider": "file", "colour": "blue"}"#, Some("application/json"))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(t.contains("unknown field `colour`"), "{t}");

    let (s, t, _) = a.raw(post("/connections", r#"{"provider": 42}"#, Some("application/json"))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(t.contains("invalid type") && t.contains("\"field\":\"provider\""), "{t}");

    let (s, t, _) = a.raw(post("/connections", r#"{"provider": "file"}"#, None)).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{t}");

    let huge = format!(r#"{{"provider": "file", "name": "{}"}}"#, "x".repeat(200 * 1024));
    let (s, t, _) = a.raw(post("/connections", &huge, Some("application/json"))).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{t}");
    assert!(t.contains("payload_too_large"));

    let (s, v) = a.call("POST", "/connections", Some(&auth), Some(json!({"provider": "ftp"}))).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "unknown_provider"));
    assert!(v["error"]["message"].as_str().unwrap().contains("known: "), "{v}");

    let (s, v) = a.call("PUT", "/crawler/aws/any/not-a-task", Some(&auth), None).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "task_not_allowed"));
    assert!(v["error"]["message"].as_str().unwrap().starts_with("This task is not allowed"));
    let (s, v) = a.call("PUT", "/crawler/nope/any/server-list", Some(&auth), None).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "task_not_allowed"));
    let (s, v) = a.call("PUT", "/crawler/AWS/missing/server-list", Some(&auth), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    for uri in [
        "/connections/..",
        "/connections/a%2F..%2Fb",
        "/connections/a%00b",
        "/connections/a%5Cb",
        "/resources/acme/c%2Fd/server/x",
        "/graphs/%2E%2E",
    ] {
        let (s, v) = a.get(uri, "acme").await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {v}");
    }
    let (s, v) = a.call("POST", "/connections", Some(&auth), Some(json!({"id": "../etc", "provider": "file"}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let (s, v) = a.get("/resources?limit=0", "acme").await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("limit")));
    let (s, v) = a.get("/resources?limit=abc", "acme").await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_query"));
    let (s, _) = a.get("/resources?colour=blue", "acme").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = a.get("/inventory?as_of=yesterday", "acme").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = a.get("/resources?cursor=zzz", "acme").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = a.get("/runs/not-a-uuid", "acme").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = a.get("/resources/key/%21%21", "acme").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // File connections may not leave the file root.
    let (s, v) = a
        .call(
            "POST",
            "/connections",
            Some(&auth),
            Some(json!({"provider": "file", "settings": {"paths": ["../../etc/passwd"]}})),
        )
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("settings.paths[0]")));
    let (s, _) = a
        .call(
            "POST",
            "/connections",
            Some(&auth),
            Some(json!({"provider": "file", "settings": {"paths": ["/etc/passwd"]}})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn credentials_are_write_only_and_sealed_at_rest() {
    let a = api().await;
    let auth = bearer("acme");
    let body = json!({
        "id": "aws-prod", "provider": "aws",
        "settings": {"regions": ["us-east-1"], "endpoint": "http://127.0.0.1:9"},
        "credentials": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "TOP-SECRET-VALUE"}
    });
    let (s, v) = a.call("POST", "/connections", Some(&auth), Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(!v.to_string().contains("TOP-SECRET"), "{v}");
    assert_eq!(v["credential_fields"], json!(["access_key_id", "secret_access_key"]));
    let (_, v) = a.get("/connections/aws-prod", "acme").await;
    assert!(!v.to_string().contains("TOP-SECRET") && !v.to_string().contains("AKIAEXAMPLE"));
    let (s, _) = a.call("POST", "/connections", Some(&auth), Some(body.clone())).await;
    assert_eq!(s, StatusCode::CONFLICT);

    let stored = a.store.get_connection("acme", "aws-prod").await.unwrap().unwrap();
    let blob = stored.sealed_credentials.clone().expect("sealed");
    assert!(!String::from_utf8_lossy(&blob).contains("TOP-SECRET"));
    let file = std::fs::read(a.dir.path().join("api.db")).unwrap();
    assert!(!String::from_utf8_lossy(&file).contains("TOP-SECRET"), "plaintext credential in the database file");
    let opened = SecretKey::parse(&"5a".repeat(32)).unwrap().open(&blob, "acme/aws-prod").unwrap();
    assert_eq!(opened["secret_access_key"], "TOP-SECRET-VALUE");

    // A credential sent as a setting, or an unknown credential, is refused.
    let (s, v) = a
        .call(
            "POST",
            "/connections",
            Some(&auth),
            Some(json!({"provider": "aws", "settings": {"regions": ["us-east-1"], "secret_access_key": "x"}})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("settings.secret_access_key"))
    );

    // Update keeps the credentials unless new ones are sent; delete removes.
    let (s, v) = a.call("PUT", "/connections/aws-prod", Some(&auth), Some(json!({"name": "Production"}))).await;
    assert_eq!((s, v["name"].as_str()), (StatusCode::OK, Some("Production")), "{v}");
    assert_eq!(v["credential_fields"], json!(["access_key_id", "secret_access_key"]));
    let (_, list) = a.get("/connections", "acme").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(a.call("DELETE", "/connections/aws-prod", Some(&auth), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(a.get("/connections/aws-prod", "acme").await.0, StatusCode::NOT_FOUND);

    // Without a sealing key, credentials are refused rather than stored in clear.
    let b = api_with(|c| c.secret_key = None).await;
    let (s, v) = b.call("POST", "/connections", Some(&bearer("acme")), Some(body)).await;
    assert_eq!((s, code(&v)), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"));
}

#[tokio::test]
async fn a_crawl_started_through_the_api_completes_and_its_resources_are_served() {
    let a = api().await;
    let run = a.import_demo("acme").await;
    assert_eq!(run["status"], "complete", "{run}");
    let scopes = run["report"]["scopes"].as_array().expect("report with scopes");
    assert!(!scopes.is_empty());
    assert!(run["report"]["stats"]["changes"]["created"].as_u64().unwrap() > 50, "{run}");

    // Paging: follow `next` to the end; every resource once.
    let mut seen = std::collections::HashSet::new();
    let mut uri = "/resources?limit=20&active=true".to_string();
    loop {
        let (s, p) = a.get(&uri, "acme").await;
        assert_eq!(s, StatusCode::OK, "{p}");
        for r in p["items"].as_array().unwrap() {
            assert!(seen.insert(r["encoded_key"].as_str().unwrap().to_string()));
        }
        match p["next"].as_str() {
            Some(n) => {
                assert!(n.contains("active=true") && n.contains("limit=20"), "{n}");
                uri = n.to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen.len() as u64, run["report"]["stats"]["changes"]["created"].as_u64().unwrap());

    let (_, servers) = a.get("/resources?kind=server&limit=1000", "acme").await;
    let servers = servers["items"].as_array().unwrap();
    assert!(!servers.is_empty() && servers.iter().all(|r| r["key"]["kind"] == "server"));
    let name = servers[0]["name"].as_str().unwrap();
    let (_, found) = a.get(&format!("/resources?q={}", &name[..name.len().min(6)]), "acme").await;
    assert!(found["items"].as_array().unwrap().iter().any(|r| r["name"] == name));

    let key = servers[0]["encoded_key"].as_str().unwrap();
    let (s, one) = a.get(&format!("/resources/key/{key}"), "acme").await;
    assert_eq!((s, one["name"].as_str()), (StatusCode::OK, Some(name)));
    let (s, h) = a.get(&format!("/resources/key/{key}/history"), "acme").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["items"][0]["op"], "created");

    let (_, before) = a.get("/inventory?as_of=2000-01-01T00:00:00Z", "acme").await;
    assert!(before["items"].as_array().unwrap().is_empty());
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (s, after) = a.get(&format!("/inventory?as_of={now}&limit=1000"), "acme").await;
    assert_eq!(s, StatusCode::OK, "{after}");
    assert!(!after["items"].as_array().unwrap().is_empty());

    // The original crawler route starts the same kind of run.
    let (s, v) = a.call("PUT", "/crawler/File/demo-files/import", Some(&bearer("acme")), None).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!((v["msg"].as_str(), v["status"].as_str()), (Some("In progress. import"), Some("warning")));
    let r = a.wait_run("acme", v["run_id"].as_str().unwrap()).await;
    assert_eq!(r["status"], "complete");
    assert_eq!(r["report"]["stats"]["changes"]["created"], 0, "second import changes nothing");
    let (_, runs) = a.get("/runs", "acme").await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 2);

    // A run whose source cannot be read is recorded, not lost.
    let (s, _) = a
        .call(
            "POST",
            "/connections",
            Some(&bearer("acme")),
            Some(json!({"id": "gone", "provider": "file", "settings": {"paths": ["missing.json"]}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, r) = a.call("POST", "/connections/gone/runs", Some(&bearer("acme")), Some(json!({"task": "import"}))).await;
    let r = a.wait_run("acme", r["id"].as_str().unwrap()).await;
    assert_eq!(r["status"], "failed", "{r}");
    let (s, v) =
        a.call("POST", "/connections/gone/runs", Some(&bearer("acme")), Some(json!({"task": "servers"}))).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "task_not_allowed"));
}

/// `GET /resources` writes its body from the stored JSON text; it must be byte for byte what
/// serialising the decoded `Page<ResourceView>` gives, for every page and filter, with user
/// fields, inactive resources and names that need escaping.
#[tokio::test]
async fn the_resource_listing_body_is_the_serialised_resource_view_page() {
    use maestro_core::{Kind, PageRequest, ResourceFilter, ResourceKey};
    use maestro_server::api::routes::Page;
    use maestro_server::api::routes::resources::ResourceView;

    let a = api().await;
    let run = a.import_demo("acme").await;
    assert_eq!(run["status"], "complete", "{run}");
    let (_, servers) = a.get("/resources?kind=server&limit=2", "acme").await;
    let s0 = &servers["items"][0]["key"];
    let key = ResourceKey::new(
        "acme",
        s0["connection"].as_str().unwrap(),
        Kind::new(s0["kind"].as_str().unwrap()),
        s0["native_id"].as_str().unwrap(),
    );
    let mut fields = serde_json::Map::new();
    fields.insert("note".into(), json!("quote \" backslash \\ tab \t é ✓"));
    a.store.set_user_fields(&key, fields).await.unwrap();

    let cases = [
        ("/resources?limit=7", ResourceFilter::tenant("acme"), 7),
        ("/resources?kind=server&limit=3", ResourceFilter::tenant("acme").kind(Kind::SERVER), 3),
        ("/resources?limit=1000", ResourceFilter::tenant("acme"), 1000),
        (
            "/resources?q=zzz-no-such-name",
            ResourceFilter { text: Some("zzz-no-such-name".into()), ..ResourceFilter::tenant("acme") },
            50,
        ),
    ];
    let mut compared = 0;
    for (first, filter, limit) in cases {
        let mut uri = first.to_string();
        let mut page = PageRequest::first(limit);
        loop {
            let req = Request::builder().uri(&uri).header("authorization", bearer("acme")).body(Body::empty()).unwrap();
            let (status, body, ct) = a.raw(req).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(ct.as_deref(), Some("application/json"));
            let decoded = a.store.list_resources(&filter, &page).await.unwrap();
            let next = decoded.next.clone();
            compared += decoded.items.len();
            let want = Page::from_store(decoded, &uri.parse().unwrap(), ResourceView::from);
            assert_eq!(body, serde_json::to_string(&want).unwrap(), "page {uri}");
            match next {
                Some(n) => {
                    let v: Value = serde_json::from_str(&body).unwrap();
                    uri = v["next"].as_str().unwrap().to_string();
                    page.after = Some(n);
                }
                None => break,
            }
        }
    }
    assert!(compared > 100, "compared {compared} resources");
}

#[tokio::test]
async fn a_graph_is_built_stored_and_announced() {
    let a = api().await;
    a.import_demo("acme").await;
    let auth = bearer("acme");
    let (s, v) = a
        .call(
            "POST",
            "/graphs",
            Some(&auth),
            Some(json!({"_id": "g1", "owner_id": "o1", "type": "bussiness", "apps": ["WebServer Maestro"]})),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::ACCEPTED, Some("processing")), "{v}");
    let mut g = Value::Null;
    for _ in 0..600 {
        g = a.get("/graphs/g1", "acme").await.1;
        if g["status"] != "processing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(g["status"], "finished", "{g}");
    let (s, svg, ct) =
        a.raw(Request::get("/graphs/g1.svg").header("authorization", &auth).body(Body::empty()).unwrap()).await;
    assert_eq!((s, ct.as_deref()), (StatusCode::OK, Some("image/svg+xml")));
    assert!(svg.starts_with("<svg") || svg.contains("<svg"), "{}", &svg[..100.min(svg.len())]);
    let (s, xml, _) =
        a.raw(Request::get("/graphs/g1.graphml").header("authorization", &auth).body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(xml.contains("<graphml"));
    let (s, j) = a.get("/graphs/g1.json", "acme").await;
    assert_eq!(s, StatusCode::OK);
    assert!(j["nodes"].as_array().is_some_and(|n| !n.is_empty()), "{j}");
    assert_eq!(a.get("/graphs/g1", "globex").await.0, StatusCode::NOT_FOUND);

    // graph.ready goes to the outbox right after the job is stored.
    let mut ready = Vec::new();
    for _ in 0..600 {
        let events = a.store.events_after(OutboxCursor { txid: 0, seq: 0 }, 10_000).await.unwrap();
        ready = events.into_iter().filter(|e| e.event.kind == "graph.ready").collect();
        if !ready.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].event.payload["status"], "finished");

    let (s, v) =
        a.call("POST", "/graphs", Some(&auth), Some(json!({"_id": "g2", "owner_id": "o1", "type": "pie"}))).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("type")));
    let (_, list) = a.get("/graphs", "acme").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn schedules_crud() {
    let a = api().await;
    let auth = bearer("acme");
    let body = json!({"name": "demo:import", "job": {"kind": "crawl", "args": {"connection": "demo-files"}}, "trigger": {"interval": 3600}});
    let (s, v) = a.call("POST", "/schedules", Some(&auth), Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(a.call("POST", "/schedules", Some(&auth), Some(body)).await.0, StatusCode::CONFLICT);
    let (s, v) = a
        .call("PUT", "/schedules/demo:import", Some(&auth), Some(json!({"name": "demo:import", "job": {"kind": "crawl"}, "trigger": {"cron": "0 3 * * *"}, "enabled": false})))
        .await;
    assert_eq!((s, v["enabled"].as_bool()), (StatusCode::OK, Some(false)), "{v}");
    let (s, v) = a
        .call(
            "POST",
            "/schedules",
            Some(&auth),
            Some(json!({"name": "bad", "job": {"kind": "crawl"}, "trigger": {"cron": "not cron"}})),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_trigger"));
    let (_, l) = a.get("/schedules", "acme").await;
    assert_eq!(l["items"].as_array().unwrap().len(), 1);
    assert!(a.get("/schedules", "globex").await.1["items"].as_array().unwrap().is_empty());
    assert_eq!(a.call("DELETE", "/schedules/demo:import", Some(&auth), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(a.get("/schedules/demo:import", "acme").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dead_letters_are_listed_per_tenant_and_replayed() {
    let a = api().await;
    let mk = |tenant: &str, n: u128| maestro_core::Event {
        id: uuid::Uuid::from_u128(n),
        kind: "test.event".into(),
        tenant: tenant.into(),
        subject: "s".into(),
        run_id: None,
        occurred_at: Utc::now(),
        payload: json!({}),
    };
    a.store.append_events(&[mk("acme", 1), mk("globex", 2)]).await.unwrap();
    let now = Utc::now();
    a.store.claim_sink("hook", "me", now, now + chrono::Duration::minutes(1)).await.unwrap();
    for e in a.store.events_after(OutboxCursor { txid: 0, seq: 0 }, 10).await.unwrap() {
        a.store.dead_letter("hook", "me", &e, 5, "HTTP 500", now).await.unwrap();
    }
    let (s, v) = a.get("/outbox/dead-letters", "acme").await;
    assert_eq!(s, StatusCode::OK);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    assert_eq!(items[0]["event"]["tenant"], "acme");
    let id = items[0]["id"].as_i64().unwrap();
    let (_, g) = a.get("/outbox/dead-letters", "globex").await;
    let other = g["items"][0]["id"].as_i64().unwrap();
    let (s, _) = a.call("POST", &format!("/outbox/dead-letters/{other}/replay"), Some(&bearer("acme")), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another tenant's dead letter");
    let (s, v) = a.call("POST", &format!("/outbox/dead-letters/{id}/replay"), Some(&bearer("acme")), None).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::ACCEPTED, Some("replay")), "{v}");
    assert_eq!(a.store.pending_replays("hook", 10).await.unwrap().len(), 1);
    let (_, st) = a.get("/outbox", "acme").await;
    assert_eq!(st["sinks"][0]["sink"], "hook");
}

#[tokio::test]
async fn metrics_expose_store_gauges_and_latency_and_can_be_protected() {
    let a = api().await;
    a.import_demo("acme").await;
    let (s, text, ct) = a.raw(Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.unwrap().starts_with("text/plain"));
    assert!(text.contains("maestro_resources{active=\"true\",kind=\"server\",tenant=\"acme\"}"), "{text}");
    assert!(text.contains("maestro_runs{status=\"complete\"} 1"), "{text}");
    assert!(
        text.contains("maestro_http_request_duration_seconds_bucket{method=\"GET\",route=\"/runs/{id}\""),
        "{text}"
    );

    let b = api_with(|c| c.auth = AuthConfig::new(Some(SECRET), None, None, Some("metrics-token"))).await;
    assert_eq!(b.call("GET", "/metrics", None, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(b.call("GET", "/metrics", Some("Bearer metrics-token"), None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn serves_on_a_real_socket_and_shuts_down_gracefully() {
    let a = api().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = a.state.clone();
    let server = tokio::spawn(maestro_server::api::serve(
        listener,
        state,
        async {
            let _ = rx.await;
        },
        Duration::from_secs(30),
    ));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let r = client.get(format!("http://{addr}/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Start a run, then stop the server: the run finishes before `serve` returns.
    client
        .post(format!("http://{addr}/connections"))
        .header("authorization", bearer("acme"))
        .json(&json!({"id": "demo-files", "provider": "file", "settings": {"paths": ["demo.json"]}}))
        .send()
        .await
        .unwrap();
    let run: Value = client
        .post(format!("http://{addr}/connections/demo-files/runs"))
        .header("authorization", bearer("acme"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
    let id: uuid::Uuid = run["id"].as_str().unwrap().parse().unwrap();
    let r = a.store.get_run_request("acme", id).await.unwrap().unwrap();
    assert_eq!(r.status, "complete", "the in-flight run finished during shutdown: {r:?}");
}
