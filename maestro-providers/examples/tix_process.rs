//! Run with: cargo run -p maestro-providers --example tix_process -- <reports-dir>
//!
//! Processes a TiX reports folder (`{reports-dir}/{user}/{installation}/*.json`, e.g. an
//! extracted archive of `maestro-tix/tests/data/installations/`) into a SQLite file, then
//! delivers the results through the outbox relay and the `tix_api` publisher to a loopback
//! results API (axum on `127.0.0.1:0`) that records what it receives, and prints a summary.
//!
//! The folder is copied to a temporary directory first (the processor deletes consumed files).
//! Without an argument, the bundled `23/17916` installation is extracted and used. A second
//! argument names the SQLite file (default: a temporary one). `TIX_*` variables apply
//! (`TIX_PROCESSING_PERIOD`, `TIX_USAGE`, …; see `docs/tix-processor.md`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use maestro_core::{OutboxRelay, OutboxStore};
use maestro_providers::tix::{InstallationStatus, TixConfig, TixProcessor};
use maestro_providers::tix_api::{TixApiConfig, TixApiPublisher};
use serde_json::Value;

const USER: &str = "admin";
const PASSWORD: &str = "example-password";

type Received = Arc<Mutex<Vec<(String, String, Value)>>>;

/// The loopback results API: checks Basic auth, records `(path, idempotency key, body)`.
async fn reports(
    State(seen): State<Received>,
    UrlPath((u, i)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> StatusCode {
    let expected = format!("Basic {}", base64_encode(format!("{USER}:{PASSWORD}").as_bytes()));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return StatusCode::UNAUTHORIZED;
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    seen.lock().expect("lock").push((format!("/api/user/{u}/installation/{i}/reports"), key, body.0));
    StatusCode::OK
}

fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn extract_bundled(into: &Path) -> anyhow::Result<()> {
    let archive =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../maestro-tix/tests/data/installations/batch-test-2.tar.gz");
    let bytes = std::fs::read(&archive).with_context(|| format!("reading {}", archive.display()))?;
    let reader: Box<dyn std::io::Read> = if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(&bytes[..]))
    } else {
        Box::new(&bytes[..])
    };
    tar::Archive::new(reader).unpack(into).context("extracting the bundled archive")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tmp = tempfile::tempdir()?;
    let work = tmp.path().join("reports");
    match args.first() {
        Some(dir) => copy_dir(Path::new(dir), &work)?,
        None => {
            println!("no <reports-dir> given: using the bundled installation 23/17916");
            extract_bundled(&work)?;
        }
    }
    let db: PathBuf = args.get(1).map_or_else(|| tmp.path().join("tix.db"), PathBuf::from);
    let store = Arc::new(maestro_store::SqliteStore::open(&format!("sqlite://{}", db.display())).await?);

    // The loopback results API.
    let seen: Received = Arc::default();
    let app = Router::new().route("/api/user/{u}/installation/{i}/reports", post(reports)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move { axum::serve(listener, app).await });

    // Process.
    let mut config = TixConfig::from_env().map_err(|e| anyhow::anyhow!("{e}"))?;
    config.base_path = work.clone();
    let processor = TixProcessor::new(config)?;
    let t0 = Instant::now();
    let report = processor.process_all(&*store).await?;
    let processing = t0.elapsed();
    for i in &report.installations {
        let status = match &i.status {
            InstallationStatus::Processed => "processed".to_string(),
            InstallationStatus::Skipped { holder } => format!("skipped (lease held by {holder:?})"),
            InstallationStatus::Failed { error } => format!("failed: {error}"),
        };
        println!(
            "installation {}/{}: {status}; {} results, {} quarantined, {} files dropped, {} consumed, {} waiting, {} unreadable (pending)",
            i.user,
            i.installation,
            i.results.len(),
            i.quarantined.len(),
            i.dropped.len(),
            i.consumed_files,
            i.remaining_files,
            i.unreadable_pending
        );
        for q in &i.quarantined {
            println!("  quarantined {:?}: {} ({} files)", q.key, q.reason, q.files.len());
        }
    }

    // Deliver.
    let mut api = TixApiConfig::new("127.0.0.1", Some(port)).with_basic_auth(USER, PASSWORD);
    api.name = Some("tix_api:loopback".into()); // a stable cursor name across runs on one database
    let relay = OutboxRelay::new(store.clone(), Arc::new(TixApiPublisher::new(api)?));
    let t1 = Instant::now();
    let pass = relay.drain().await?;
    let delivery = t1.elapsed();
    let status = store.outbox_status().await?;
    let received = seen.lock().expect("lock").clone();

    println!();
    println!("database:        {}", db.display());
    println!(
        "processed:       {} installations, {} results, {} quarantined, {} dropped files in {:.3} s",
        report.installations.len(),
        report.results(),
        report.quarantined(),
        report.dropped_files(),
        processing.as_secs_f64()
    );
    println!(
        "delivered:       {} outbox events ({} POSTs received by the API) in {:.3} s",
        pass.delivered,
        received.len(),
        delivery.as_secs_f64()
    );
    for s in &status {
        println!("sink {}: backlog {}, dead {}, last error {:?}", s.sink, s.backlog, s.dead, s.last_error);
    }
    if let Some((path, key, body)) = received.first() {
        println!("first POST:      {path}\n  Idempotency-Key: {key}\n  body: {body}");
    }
    Ok(())
}
