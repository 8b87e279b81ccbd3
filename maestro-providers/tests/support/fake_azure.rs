//! A loopback Azure double (axum on 127.0.0.1:0): the Entra ID v2 token endpoint
//! (client credentials, form body, `expires_in`) and Azure Resource Manager subscription-wide
//! lists (`{"value": [...], "nextLink": ...}` with `$skiptoken`) from `tests/fixtures/azure/`,
//! with injectable faults (throttling, 5xx, malformed pages, token revocation).
//!
//! Shared by the providers' tests and `maestro-server`'s CLI test (included with `#[path]`).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Directory (tenant) id.
pub const TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// Application id.
pub const CLIENT_ID: &str = "1d4d2c6a-5b6c-4c59-8ea6-0c0ffee00001";
/// The right secret.
pub const CLIENT_SECRET: &str = "Qx8Q~maestro.test+secret/value=";
/// The subscription of the fixtures.
pub const SUBSCRIPTION: &str = "0b1f6471-1bf0-4dda-aec3-111122223333";

/// `(namespace, resource type)` of every list served.
pub const COLLECTIONS: &[(&str, &str)] = &[
    ("Microsoft.Compute", "virtualMachines"),
    ("Microsoft.Compute", "disks"),
    ("Microsoft.Compute", "snapshots"),
    ("Microsoft.Compute", "images"),
    ("Microsoft.Network", "networkInterfaces"),
    ("Microsoft.Network", "publicIPAddresses"),
    ("Microsoft.Network", "routeTables"),
    ("Microsoft.Network", "virtualNetworks"),
];

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 with `Retry-After: 0`.
    Throttle,
    /// 503.
    Unavailable,
    /// 200 with a cut body.
    Malformed,
    /// Revoke every token, then 401 `ExpiredAuthenticationToken`.
    RevokeTokens,
}

/// A fault on the list `resource`, on its first page (`first_page`) or a later one.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Resource type.
    pub resource: String,
    /// First page or a later one.
    pub first_page: bool,
    /// What it does.
    pub kind: FaultKind,
    /// How many more times.
    pub times: u32,
}

/// The double's state.
#[derive(Debug, Default)]
pub struct State {
    /// Items per resource type.
    pub collections: BTreeMap<String, Vec<Value>>,
    /// Items per page (ARM decides the page size).
    pub page_size: usize,
    /// Pending faults.
    pub faults: Vec<Fault>,
    /// Valid tokens and their expiry (epoch seconds).
    pub tokens: BTreeMap<String, i64>,
    /// `expires_in` of new tokens.
    pub token_ttl: i64,
    /// Token requests received.
    pub token_requests: u32,
    /// Every request: `METHOD path?query -> status`.
    pub log: Vec<String>,
    /// Faults applied, by kind.
    pub applied: BTreeMap<String, u32>,
    seq: u64,
}

impl State {
    /// Remove the item whose id ends with `/<name>` from `resource`.
    pub fn delete(&mut self, resource: &str, name: &str) -> bool {
        let list = self.collections.get_mut(resource).expect("known list");
        let before = list.len();
        list.retain(|x| !x.get("id").and_then(Value::as_str).is_some_and(|id| id.ends_with(&format!("/{name}"))));
        list.len() != before
    }

    /// Add a fault.
    pub fn fault(&mut self, resource: &str, first_page: bool, kind: FaultKind, times: u32) {
        self.faults.push(Fault { resource: resource.into(), first_page, kind, times });
    }
}

/// Read a fixture file.
pub fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../maestro-providers/tests/fixtures/azure")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A running double: configure `login_endpoint` and `management_endpoint` with `base`.
pub struct FakeAzure {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Shared state.
    pub state: Arc<Mutex<State>>,
}

impl FakeAzure {
    /// Start on a free loopback port with every fixture loaded, 2 items per page.
    pub async fn start() -> Self {
        let mut st = State { page_size: 2, token_ttl: 3599, ..State::default() };
        for (_, r) in COLLECTIONS {
            st.collections.insert((*r).to_string(), fixture(r)["value"].as_array().cloned().expect("fixture list"));
        }
        let state = Arc::new(Mutex::new(st));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (s, b) = (state.clone(), base.clone());
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (s, b) = (s.clone(), b.clone());
            async move {
                let resp = handle(&s, &b, &method, &uri, &headers, &body);
                s.lock().unwrap().log.push(format!("{method} {uri} -> {}", resp.status().as_u16()));
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

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, [("content-type", "application/json; charset=utf-8")], body.to_string()).into_response()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let h = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?');
                out.push(h);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(s: &str) -> BTreeMap<String, String> {
    s.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn handle(state: &Mutex<State>, base: &str, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
    let path = uri.path();
    let mut st = state.lock().unwrap();
    if method == Method::POST && path == format!("/{TENANT_ID}/oauth2/v2.0/token") {
        st.token_requests += 1;
        let f = form(&String::from_utf8_lossy(body));
        if f.get("grant_type").map(String::as_str) != Some("client_credentials")
            || f.get("scope").map(String::as_str) != Some(&format!("{base}/.default"))
        {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "error_description": "AADSTS900144: bad grant_type or scope"}),
            );
        }
        if f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
            || f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
        {
            return json_response(
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
            );
        }
        st.seq += 1;
        let token = format!("eyJ0eXAiOiJKV1QifQ.fake-{}", st.seq);
        let ttl = st.token_ttl;
        st.tokens.insert(token.clone(), now() + ttl);
        return json_response(
            StatusCode::OK,
            json!({"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": token}),
        );
    }
    if method != Method::GET {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": {"code": "MethodNotAllowed", "message": "GET only"}}),
        );
    }
    let prefix = format!("/subscriptions/{SUBSCRIPTION}/providers/");
    let Some((ns, resource)) = path.strip_prefix(&prefix).and_then(|r| r.split_once('/')) else {
        return json_response(
            StatusCode::NOT_FOUND,
            json!({"error": {"code": "SubscriptionNotFound", "message": format!("no route {path}")}}),
        );
    };
    if !COLLECTIONS.contains(&(ns, resource)) {
        return json_response(
            StatusCode::NOT_FOUND,
            json!({"error": {"code": "ResourceTypeNotFound", "message": format!("{ns}/{resource}")}}),
        );
    }
    let q = form(uri.query().unwrap_or(""));
    if !q.contains_key("api-version") {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": {"code": "MissingApiVersionParameter", "message": "The api-version query parameter (?api-version=) is required for all requests."}}),
        );
    }
    let skip: usize = q.get("$skiptoken").and_then(|s| s.parse().ok()).unwrap_or(0);
    if let Some(f) = st.faults.iter_mut().find(|f| f.resource == resource && f.first_page == (skip == 0) && f.times > 0)
    {
        f.times -= 1;
        let kind = f.kind;
        *st.applied.entry(format!("{kind:?}")).or_default() += 1;
        match kind {
            FaultKind::Throttle => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "0"), ("content-type", "application/json")],
                    json!({"error": {"code": "TooManyRequests", "message": "The request is being throttled."}})
                        .to_string(),
                )
                    .into_response();
            }
            FaultKind::Unavailable => {
                return json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({"error": {"code": "ServiceUnavailable", "message": "try later"}}),
                );
            }
            FaultKind::Malformed => {
                return (StatusCode::OK, [("content-type", "application/json")], "{\"value\": [{\"id\": ")
                    .into_response();
            }
            FaultKind::RevokeTokens => st.tokens.clear(),
        }
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    match auth.strip_prefix("Bearer ").and_then(|t| st.tokens.get(t)) {
        Some(exp) if *exp > now() => {}
        _ => {
            return json_response(
                StatusCode::UNAUTHORIZED,
                json!({"error": {"code": "ExpiredAuthenticationToken", "message": "The access token expiry UTC time is earlier than current UTC time."}}),
            );
        }
    }
    let items = st.collections.get(resource).cloned().unwrap_or_default();
    let n = st.page_size;
    let page: Vec<Value> = items.iter().skip(skip).take(n).cloned().collect();
    let mut out = serde_json::Map::new();
    out.insert("value".into(), Value::Array(page));
    if skip + n < items.len() {
        let api = q.get("api-version").cloned().unwrap_or_default();
        out.insert("nextLink".into(), json!(format!("{base}{path}?api-version={api}&$skiptoken={}", skip + n)));
    }
    json_response(StatusCode::OK, Value::Object(out))
}
