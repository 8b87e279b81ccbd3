//! A loopback OpenStack double (axum on 127.0.0.1:0) serving the documented API shapes from the
//! readable fixtures under `tests/fixtures/openstack/`: Keystone v3 password auth
//! (`X-Subject-Token`, catalogue, expiry), Nova / Cinder / Neutron / Octavia `limit` + `marker`
//! pagination with `<collection>_links`, Glance's top-level `next`, and injectable faults
//! (throttling, malformed pages, token revocation, deletions).
//!
//! Shared by the providers' tests and `maestro-server`'s CLI test (included with `#[path]`).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// User and password the double accepts.
pub const USER: &str = "maestro";
/// The right password.
pub const PASSWORD: &str = "correct horse battery staple";
/// The project the fixtures belong to.
pub const PROJECT: &str = "9e1a7b1ce4bd4c47a0f3b8e1b7f2a6d1";

/// Collections served, with the fixture file each comes from.
pub const COLLECTIONS: &[&str] = &[
    "servers",
    "flavors",
    "images",
    "volumes",
    "snapshots",
    "networks",
    "subnets",
    "ports",
    "routers",
    "security_groups",
    "loadbalancers",
];

/// What a fault does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 with `Retry-After: 0`.
    Throttle,
    /// 200 with a body cut in the middle (invalid JSON).
    Malformed,
    /// 503.
    Unavailable,
    /// Revoke every token, then answer 401 (as an expired token would get).
    RevokeTokens,
}

/// A fault on list requests of `collection`: `first_page` = on the first page, else on a page
/// after it (a `marker` in the query); applied `times` times.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Collection name.
    pub collection: String,
    /// Whether it hits the first page (no marker) or a later one.
    pub first_page: bool,
    /// What it does.
    pub kind: FaultKind,
    /// How many more times.
    pub times: u32,
}

/// The double's state; tests change it between crawls.
#[derive(Debug, Default)]
pub struct State {
    /// Items per collection.
    pub collections: BTreeMap<String, Vec<Value>>,
    /// Pending faults.
    pub faults: Vec<Fault>,
    /// Valid tokens and their expiry (seconds since the epoch).
    pub tokens: BTreeMap<String, i64>,
    /// Lifetime of new tokens, seconds.
    pub token_ttl: i64,
    /// Token requests received (successful or not).
    pub auth_requests: u32,
    /// Every request: `METHOD path?query -> status`.
    pub log: Vec<String>,
    /// Faults applied, by kind.
    pub applied: BTreeMap<String, u32>,
    /// Collections served without `_links` (the client must fall back to `marker`).
    pub no_links: BTreeSet<String>,
    token_seq: u64,
}

impl State {
    /// Remove the item with `id` from `collection`; returns whether it was there.
    pub fn delete(&mut self, collection: &str, id: &str) -> bool {
        let list = self.collections.get_mut(collection).expect("known collection");
        let before = list.len();
        list.retain(|x| x.get("id").and_then(Value::as_str) != Some(id));
        list.len() != before
    }

    /// Add a fault.
    pub fn fault(&mut self, collection: &str, first_page: bool, kind: FaultKind, times: u32) {
        self.faults.push(Fault { collection: collection.into(), first_page, kind, times });
    }
}

/// A running double.
pub struct FakeOpenStack {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Keystone URL to configure (`<base>/identity/v3`).
    pub auth_url: String,
    /// Shared state.
    pub state: Arc<Mutex<State>>,
    token_template: Value,
}

fn fixtures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../maestro-providers/tests/fixtures/openstack")
}

/// Read a fixture file.
pub fn fixture(name: &str) -> Value {
    let p = fixtures_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

impl FakeOpenStack {
    /// Start the double on a free loopback port, loaded with every fixture.
    pub async fn start() -> Self {
        let mut state = State { token_ttl: 3600, ..State::default() };
        for c in COLLECTIONS {
            let v = fixture(c);
            state.collections.insert((*c).to_string(), v[*c].as_array().cloned().expect("fixture list"));
        }
        state.no_links.insert("routers".into());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr: SocketAddr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let me = Arc::new(Inner {
            base: base.clone(),
            state: Arc::new(Mutex::new(state)),
            token_template: fixture("token"),
        });
        let state = me.state.clone();
        let token_template = me.token_template.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let me = me.clone();
            async move { me.handle(method, uri, headers, body) }
        });
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self { auth_url: format!("{base}/identity/v3"), base, state, token_template }
    }

    /// Lock the state.
    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

struct Inner {
    base: String,
    state: Arc<Mutex<State>>,
    token_template: Value,
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).unwrap().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn fill(v: &Value, base: &str, issued: &str, expires: &str) -> Value {
    match v {
        Value::String(s) => {
            Value::String(s.replace("{base}", base).replace("{issued_at}", issued).replace("{expires_at}", expires))
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, base, issued, expires)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), fill(x, base, issued, expires))).collect()),
        other => other.clone(),
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

fn unauthorized() -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        json!({"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}),
    )
}

fn query(uri: &Uri) -> BTreeMap<String, String> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%2D", "-").replace("%3A", ":")))
        .collect()
}

impl Inner {
    fn handle(&self, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
        let resp = self.route(&method, &uri, &headers, &body);
        self.state.lock().unwrap().log.push(format!("{method} {uri} -> {}", resp.status().as_u16()));
        resp
    }

    fn route(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
        let path = uri.path();
        if path == "/identity/v3/auth/tokens" && method == Method::POST {
            return self.issue_token(body);
        }
        if method != Method::GET {
            return json_response(StatusCode::METHOD_NOT_ALLOWED, json!({"error": {"message": "only GET"}}));
        }
        let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok()).unwrap_or("");
        let collection = match () {
            _ if path == format!("/compute/v2.1/{PROJECT}/servers/detail") => "servers",
            _ if path == format!("/compute/v2.1/{PROJECT}/flavors/detail") => "flavors",
            _ if path == "/image/v2/images" => "images",
            _ if path == format!("/volume/v3/{PROJECT}/volumes/detail") => "volumes",
            _ if path == format!("/volume/v3/{PROJECT}/snapshots/detail") => "snapshots",
            _ if path == "/network/v2.0/networks" => "networks",
            _ if path == "/network/v2.0/subnets" => "subnets",
            _ if path == "/network/v2.0/ports" => "ports",
            _ if path == "/network/v2.0/routers" => "routers",
            _ if path == "/network/v2.0/security-groups" => "security_groups",
            _ if path == "/load-balancer/v2/lbaas/loadbalancers" => "loadbalancers",
            _ => {
                return json_response(
                    StatusCode::NOT_FOUND,
                    json!({"itemNotFound": {"code": 404, "message": format!("no route {path}")}}),
                );
            }
        };
        let q = query(uri);
        let mut st = self.state.lock().unwrap();
        // Faults.
        let first_page = !q.contains_key("marker");
        if let Some(f) =
            st.faults.iter_mut().find(|f| f.collection == collection && f.first_page == first_page && f.times > 0)
        {
            f.times -= 1;
            let kind = f.kind;
            *st.applied.entry(format!("{kind:?}")).or_default() += 1;
            match kind {
                FaultKind::Throttle => {
                    return (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "0"), ("content-type", "application/json")],
                        json!({"overLimit": {"code": 413, "message": "Rate limit exceeded", "retryAfter": "0"}})
                            .to_string(),
                    )
                        .into_response();
                }
                FaultKind::Unavailable => {
                    return json_response(StatusCode::SERVICE_UNAVAILABLE, json!({"message": "try again"}));
                }
                FaultKind::Malformed => {
                    return (
                        StatusCode::OK,
                        [("content-type", "application/json")],
                        format!("{{\"{collection}\": [{{\"id\": \"trunc"),
                    )
                        .into_response();
                }
                FaultKind::RevokeTokens => {
                    st.tokens.clear();
                    return unauthorized();
                }
            }
        }
        match st.tokens.get(token) {
            Some(exp) if *exp > now() => {}
            _ => return unauthorized(),
        }
        let items = st.collections.get(collection).cloned().unwrap_or_default();
        let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(1000);
        let start = match q.get("marker") {
            None => 0,
            Some(m) => match items.iter().position(|x| x.get("id").and_then(Value::as_str) == Some(m.as_str())) {
                Some(i) => i + 1,
                None => {
                    return json_response(
                        StatusCode::BAD_REQUEST,
                        json!({"badRequest": {"code": 400, "message": format!("marker [{m}] not found")}}),
                    );
                }
            },
        };
        let page: Vec<Value> = items.iter().skip(start).take(limit).cloned().collect();
        let more = start + page.len() < items.len();
        let last = page.last().and_then(|x| x.get("id")).and_then(Value::as_str).unwrap_or("").to_string();
        let mut out = serde_json::Map::new();
        out.insert(collection.to_string(), Value::Array(page));
        if collection == "images" {
            out.insert("first".into(), json!(format!("/v2/images?limit={limit}")));
            out.insert("schema".into(), json!("/v2/schemas/images"));
            if more {
                out.insert("next".into(), json!(format!("/v2/images?limit={limit}&marker={last}")));
            }
        } else if more && !st.no_links.contains(collection) {
            let href = format!("{}{}?limit={limit}&marker={last}", self.base, path);
            out.insert(format!("{collection}_links"), json!([{"rel": "next", "href": href}]));
        }
        json_response(StatusCode::OK, Value::Object(out))
    }

    fn issue_token(&self, body: &Bytes) -> Response {
        let mut st = self.state.lock().unwrap();
        st.auth_requests += 1;
        let Ok(req) = serde_json::from_slice::<Value>(body) else {
            return json_response(StatusCode::BAD_REQUEST, json!({"error": {"code": 400, "message": "bad JSON"}}));
        };
        let user = &req["auth"]["identity"]["password"]["user"];
        let ok = user["name"] == USER
            && user["password"] == PASSWORD
            && user["domain"]["id"] == "default"
            && req["auth"]["scope"]["project"]["id"] == PROJECT;
        if !ok {
            return unauthorized();
        }
        st.token_seq += 1;
        let token = format!("gAAAAAB-fake-token-{}", st.token_seq);
        let issued = now();
        let expires = issued + st.token_ttl;
        st.tokens.insert(token.clone(), expires);
        let body = fill(&self.token_template, &self.base, &rfc3339(issued), &rfc3339(expires));
        (
            StatusCode::CREATED,
            [("x-subject-token", token.as_str()), ("content-type", "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}
