//! Property-based fuzzing of the whole API with schemathesis (PyPI) against the real server:
//! served on 127.0.0.1:0 over a seeded SQLite file, driven by the server's own
//! `/openapi.json`, with the `not_a_server_error` and `response_schema_conformance` checks.
//! It must find nothing.
//!
//! Needs schemathesis importable by `$MAESTRO_PYTHON` (default `python3`);
//! `scripts/services.sh` installs it.

use std::time::Duration;

use maestro_core::{ConfigErrors, NoObserver, Pipeline, Repository, RunJob};
use maestro_server::api::auth::{AuthConfig, issue_token};
use maestro_server::api::crypto::SecretKey;
use maestro_server::api::{ApiConfig, ApiState};

const DEMO: &str = include_str!("../../examples/data/demo-inventory.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let python = std::env::var("MAESTRO_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = std::process::Command::new(&python).args(["-c", "import schemathesis"]).output();
    match probe {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "schemathesis is not importable by `{python}`: install it with `{python} -m pip install schemathesis` \
             (scripts/services.sh does it and exports MAESTRO_PYTHON)"
        ),
    }

    // Seed: the demo inventory imported by the file provider, so lists and keys have data.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("files")).unwrap();
    let inv = dir.path().join("files/demo.json");
    std::fs::write(&inv, DEMO).unwrap();
    let store = maestro_store::open(&format!("sqlite://{}", dir.path().join("fuzz.db").display())).await.unwrap();
    let mut errors = ConfigErrors::new();
    let cfg = serde_json::json!({"type": "file", "connection": "demo-files", "paths": [inv.display().to_string()]});
    let src = maestro_providers::build_source("acme", &cfg, "seed", &mut errors).expect("demo source");
    let repo: std::sync::Arc<dyn Repository> = store.clone();
    let job = RunJob {
        tenant: "acme",
        connection: "demo-files",
        provider: src.provider.as_ref(),
        translator: src.translator.as_ref(),
    };
    Pipeline::new(repo).run_and_record(job, &NoObserver).await.unwrap();

    let config = ApiConfig {
        auth: AuthConfig::new(Some("fuzz-secret"), None, None, None),
        secret_key: Some(SecretKey::parse(&"7e".repeat(32)).unwrap()),
        file_root: Some(dir.path().join("files")),
        ..ApiConfig::default()
    };
    let state = ApiState::new(store, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(maestro_server::api::serve(
        listener,
        state,
        async {
            let _ = rx.await;
        },
        Duration::from_secs(30),
    ));

    let token = issue_token("fuzz-secret", "acme", 3600).unwrap();
    let report = dir.path().join("report");
    let mut cmd = std::process::Command::new(&python);
    cmd.args(["-m", "schemathesis.cli", "run"])
        .arg(format!("http://{addr}/openapi.json"))
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--max-examples", "25", "--workers", "2", "--seed", "20261124", "--no-color"])
        .args(["--request-timeout", "30", "--generation-database", "none"])
        .arg("--report-dir")
        .arg(&report)
        .env("NO_COLOR", "1");
    let out =
        tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("schemathesis could not be started");
    let _ = tx.send(());
    server.await.unwrap().unwrap();
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{text}");
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
    assert!(text.contains("Test cases:"), "schemathesis did not run any test case:\n{text}");
}
