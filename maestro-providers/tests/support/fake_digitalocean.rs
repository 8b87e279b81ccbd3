//! A loopback DigitalOcean API v2 double (axum on 127.0.0.1:0) serving the documented list
//! shapes from `tests/fixtures/digitalocean/`: bearer-token auth, `page` / `per_page`,
//! `links.pages.{first,prev,next,last}` and `meta.total`, with injectable faults.
//!
//! Shared by the providers' tests and `maestro-server`'s CLI test (included with `#[path]`).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The token the double accepts.
pub const TOKEN: &str = "dop_v1_0123456789abcdef-maestro-test";

/// `(path under /v2/, list key)` of every collection served.
pub const COLLECTIONS: &[(&str, &str)] = &[
    ("droplets", "droplets"),
    ("volumes", "volumes"),
    ("images", "images"),
    ("load_balancers", "load_balancers"),
    ("snapshots", "snapshots"),
    ("firewalls", "firewalls"),
    ("cdn/endpoints", "endpoints"),
    ("kubernetes/clusters", "kubernetes_clusters"),
];

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 with `Retry-After: 0` and the rate-limit headers.
    Throttle,
    /// 200 with a cut body.
    Malformed,
    /// 500.
    ServerError,
}

/// A fault on `page` (1-based) of the list `key`, applied `times` times.
#[derive(Debug, Clone)]
pub struct Fault {
    /// List key.
    pub key: String,
    /// Page number.
    pub page: usize,
    /// What it does.
    pub kind: FaultKind,
    /// How many more times.
    pub times: u32,
}

/// The double's state.
#[derive(Debug, Default)]
pub struct State {
    /// Items per list key.
    pub collections: BTreeMap<String, Vec<Value>>,
    /// Pending faults.
    pub faults: Vec<Fault>,
    /// Every request: `path?query -> status`.
    pub log: Vec<String>,
    /// Faults applied, by kind.
    pub applied: BTreeMap<String, u32>,
}

impl State {
    /// Remove the item with `id` (string or number) from list `key`.
    pub fn delete(&mut self, key: &str, id: &str) -> bool {
        let list = self.collections.get_mut(key).expect("known list");
        let before = list.len();
        list.retain(|x| match x.get("id") {
            Some(Value::String(s)) => s != id,
            Some(v) => v.as_u64() != id.parse::<u64>().ok(),
            None => true,
        });
        list.len() != before
    }

    /// Add a fault.
    pub fn fault(&mut self, key: &str, page: usize, kind: FaultKind, times: u32) {
        self.faults.push(Fault { key: key.into(), page, kind, times });
    }
}

/// Read a fixture file.
pub fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../maestro-providers/tests/fixtures/digitalocean")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A running double.
pub struct FakeDigitalOcean {
    /// `http://127.0.0.1:<port>` (the provider's `endpoint`).
    pub base: String,
    /// Shared state.
    pub state: Arc<Mutex<State>>,
}

impl FakeDigitalOcean {
    /// Start on a free loopback port with every fixture loaded.
    pub async fn start() -> Self {
        let mut st = State::default();
        for (_, key) in COLLECTIONS {
            st.collections.insert((*key).to_string(), fixture(key)[*key].as_array().cloned().expect("fixture list"));
        }
        let state = Arc::new(Mutex::new(st));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (s, b) = (state.clone(), base.clone());
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let (s, b) = (s.clone(), b.clone());
            async move {
                let resp = handle(&s, &b, &uri, &headers);
                s.lock().unwrap().log.push(format!("{uri} -> {}", resp.status().as_u16()));
                resp
            }
        });
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self { base, state }
    }

    /// Lock the state.
    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let headers = [
        ("content-type", "application/json"),
        ("ratelimit-limit", "5000"),
        ("ratelimit-remaining", "4999"),
        ("ratelimit-reset", "1700000000"),
    ];
    (status, headers, body.to_string()).into_response()
}

fn handle(state: &Mutex<State>, base: &str, uri: &Uri, headers: &HeaderMap) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != format!("Bearer {TOKEN}") {
        return json_response(
            StatusCode::UNAUTHORIZED,
            json!({"id": "unauthorized", "message": "Unable to authenticate you"}),
        );
    }
    let path = uri.path().trim_start_matches("/v2/");
    let Some((_, key)) = COLLECTIONS.iter().find(|(p, _)| *p == path) else {
        return json_response(
            StatusCode::NOT_FOUND,
            json!({"id": "not_found", "message": "The resource you were accessing could not be found."}),
        );
    };
    let q: BTreeMap<String, String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if *key == "images" && q.get("private").map(String::as_str) != Some("true") {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"id": "bad_request", "message": "expected private=true"}),
        );
    }
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let per_page: usize = q.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(20).clamp(1, 200);
    let mut st = state.lock().unwrap();
    if let Some(f) = st.faults.iter_mut().find(|f| f.key == *key && f.page == page && f.times > 0) {
        f.times -= 1;
        let kind = f.kind;
        *st.applied.entry(format!("{kind:?}")).or_default() += 1;
        return match kind {
            FaultKind::Throttle => (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "0"), ("ratelimit-remaining", "0"), ("content-type", "application/json")],
                json!({"id": "too_many_requests", "message": "API Rate limit exceeded."}).to_string(),
            )
                .into_response(),
            FaultKind::ServerError => json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"id": "server_error", "message": "Unexpected server-side error"}),
            ),
            FaultKind::Malformed => {
                (StatusCode::OK, [("content-type", "application/json")], format!("{{\"{key}\": [{{\"id\": 1,"))
                    .into_response()
            }
        };
    }
    let items = st.collections.get(*key).cloned().unwrap_or_default();
    let total = items.len();
    let last_page = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = items.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let extra = if *key == "images" { "&private=true" } else { "" };
    let link = |p: usize| format!("{base}/v2/{path}?page={p}&per_page={per_page}{extra}");
    let mut pages = serde_json::Map::new();
    if page > 1 {
        pages.insert("first".into(), json!(link(1)));
        pages.insert("prev".into(), json!(link(page - 1)));
    }
    if page < last_page {
        pages.insert("next".into(), json!(link(page + 1)));
        pages.insert("last".into(), json!(link(last_page)));
    }
    let mut out = serde_json::Map::new();
    out.insert((*key).to_string(), Value::Array(slice));
    out.insert("links".into(), json!({"pages": pages}));
    out.insert("meta".into(), json!({"total": total}));
    json_response(StatusCode::OK, Value::Object(out))
}
