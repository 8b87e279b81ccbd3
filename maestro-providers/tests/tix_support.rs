//! Shared helpers of the TiX processor tests (included with `mod tix_support;`): the archives
//! of `maestro-tix/tests/data/` extracted into a temporary reports folder, a loopback results
//! API (axum on `127.0.0.1:0`) that records what it receives, and an outbox reader.

#![cfg(feature = "tix")]
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use maestro_core::{Event, OutboxCursor, OutboxStore, RelayConfig};
use maestro_providers::tix_api::{TixApiConfig, TixApiPublisher};
use serde_json::Value;

/// `maestro-tix/tests/data`.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("maestro-tix").join("tests").join("data")
}

/// Extract `maestro-tix/tests/data/<rel>` (gzip or plain tar) into `into`.
pub fn extract_into(rel: &str, into: &Path) {
    let path = data_dir().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let reader: Box<dyn Read> = if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(&bytes[..]))
    } else {
        Box::new(&bytes[..])
    };
    tar::Archive::new(reader).unpack(into).unwrap_or_else(|e| panic!("cannot extract {}: {e}", path.display()));
}

/// A temporary folder with `reports/23/17916` (494 raw files) and a SQLite URL beside it.
pub struct Fixture {
    /// The temporary folder (removed on drop).
    pub tmp: tempfile::TempDir,
}

impl Fixture {
    /// `reports/23/17916` from `installations/batch-test-2.tar.gz`.
    pub fn installation_23_17916() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        extract_into("installations/batch-test-2.tar.gz", &tmp.path().join("reports"));
        Self { tmp }
    }

    /// `reports/23/41` from `installations/test-reports.tar.gz` (ms clocks, a poison batch).
    pub fn installation_23_41() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let scratch = tmp.path().join("scratch");
        extract_into("installations/test-reports.tar.gz", &scratch);
        std::fs::create_dir_all(tmp.path().join("reports").join("23")).unwrap();
        std::fs::rename(scratch.join("41"), tmp.path().join("reports").join("23").join("41")).unwrap();
        Self { tmp }
    }

    /// The reports base folder.
    pub fn reports(&self) -> PathBuf {
        self.tmp.path().join("reports")
    }

    /// A SQLite file URL in the temporary folder.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.tmp.path().join("maestro.db").display())
    }

    /// `*.json` files directly in `reports/{user}/{installation}`.
    pub fn json_files(&self, user: &str, inst: &str) -> Vec<String> {
        json_files(&self.reports().join(user).join(inst))
    }
}

/// Sorted names of the `*.json` files directly in `dir` (empty if it does not exist).
pub fn json_files(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every event in the outbox, in order.
pub async fn outbox<S: OutboxStore + ?Sized>(store: &S) -> Vec<Event> {
    store.events_after(OutboxCursor::default(), 10_000).await.expect("outbox").into_iter().map(|e| e.event).collect()
}

/// Events of one kind.
pub fn of_kind<'a>(events: &'a [Event], kind: &str) -> Vec<&'a Event> {
    events.iter().filter(|e| e.kind == kind).collect()
}

/// One request the loopback API accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// User id from the URL.
    pub user: String,
    /// Installation id from the URL.
    pub installation: String,
    /// `Authorization` header.
    pub authorization: Option<String>,
    /// `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// The JSON body.
    pub body: Value,
}

/// What the loopback API saw, and how it should answer.
#[derive(Debug, Default)]
pub struct ApiState {
    /// Accepted requests.
    pub received: Vec<Received>,
    /// Answer the next requests with these codes (popped from the end) without recording them.
    pub fail_next: Vec<StatusCode>,
    /// Requests refused with a `fail_next` code.
    pub refused: usize,
}

/// Shared state of the loopback API.
pub type Api = Arc<Mutex<ApiState>>;

async fn reports(
    State(api): State<Api>,
    UrlPath((user, installation)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> StatusCode {
    let mut g = api.lock().unwrap();
    if let Some(code) = g.fail_next.pop() {
        g.refused += 1;
        return code;
    }
    let h = |n: &str| headers.get(n).map(|v| v.to_str().unwrap().to_string());
    g.received.push(Received {
        user,
        installation,
        authorization: h("authorization"),
        idempotency_key: h("idempotency-key"),
        body: body.0,
    });
    StatusCode::CREATED
}

/// Serve the loopback results API on `listener`.
pub fn serve_on(listener: tokio::net::TcpListener, api: Api) {
    let app = Router::new().route("/api/user/{u}/installation/{i}/reports", post(reports)).with_state(api);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

/// Start the loopback results API on `127.0.0.1:0`; returns its port.
pub async fn start_api() -> (u16, Api) {
    let api: Api = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    serve_on(listener, api.clone());
    (port, api)
}

/// Basic auth user of the tests.
pub const API_USER: &str = "admin";
/// Basic auth password of the tests.
pub const API_PASSWORD: &str = "s3cr3t";
/// `Basic base64("admin:s3cr3t")`.
pub const BASIC: &str = "Basic YWRtaW46czNjcjN0";

/// A publisher for the loopback API with Basic auth.
pub fn publisher(port: u16) -> Arc<TixApiPublisher> {
    let mut cfg = TixApiConfig::new("127.0.0.1", Some(port)).with_basic_auth(API_USER, API_PASSWORD);
    cfg.timeout_secs = 5.0;
    Arc::new(TixApiPublisher::new(cfg).expect("publisher"))
}

/// Relay settings for tests: no backoff, many attempts.
pub fn fast_relay() -> RelayConfig {
    RelayConfig {
        retry: maestro_core::layers::RetryPolicy {
            max_attempts: 1000,
            initial_backoff: std::time::Duration::ZERO,
            max_backoff: std::time::Duration::ZERO,
            jitter: 0.0,
        },
        ..RelayConfig::default()
    }
}

/// Rows of a TSV with a header line.
pub fn read_tsv(rel: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(data_dir().join(rel)).expect("tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| header.iter().map(|h| h.to_string()).zip(l.split('\t').map(str::to_owned)).collect())
        .collect()
}
