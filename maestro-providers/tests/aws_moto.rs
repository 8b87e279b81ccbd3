//! The AWS provider against a real AWS API implementation: moto's server on loopback.
//!
//! Needs `MAESTRO_MOTO_URL` (e.g. `http://127.0.0.1:5055`); start moto with
//! `moto_server -H 127.0.0.1 -p 5055` (`pip install "moto[server]" boto3`). The inventory is
//! built by `tests/fixtures/aws/scenario.py` with boto3 (an independent client), which also
//! prints what boto3 lists: the crawl must find exactly that.
//!
//! moto's state is global per server, so everything runs in ONE test, phase after phase
//! (safe under `cargo test` and `cargo nextest` alike).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use maestro_core::layers::RetryPolicy;
use maestro_core::{
    ChangeOp, ConfigErrors, HistoryQuery, NoObserver, PageRequest, Pipeline, PipelineConfig, Repository, Resource,
    ResourceFilter, RunJob, RunReport, RunStatus, ScopeOutcome,
};
use maestro_providers::aws::{AwsConfig, AwsProvider, AwsTranslator};
use maestro_store::SqliteStore;
use serde_json::{Value, json};
use tokio::sync::Mutex;

const TENANT: &str = "acme";
const CONN: &str = "aws-test";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

fn moto_url() -> String {
    match std::env::var("MAESTRO_MOTO_URL") {
        Ok(u) if !u.trim().is_empty() => u.trim_end_matches('/').to_string(),
        _ => panic!(
            "MAESTRO_MOTO_URL is not set: these tests need moto's server. Start it with \
             `pip install \"moto[server]\" boto3 && moto_server -H 127.0.0.1 -p 5055` and set \
             MAESTRO_MOTO_URL=http://127.0.0.1:5055"
        ),
    }
}

/// Run the boto3 scenario script; returns its manifest.
fn scenario(endpoint: &str, mode: &str) -> Result<Value> {
    let python = std::env::var("MAESTRO_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws/scenario.py");
    let out = std::process::Command::new(&python).arg(&script).arg(endpoint).arg(mode).output().with_context(|| {
        format!("running `{python} {}` (set MAESTRO_PYTHON to a python with boto3)", script.display())
    })?;
    if !out.status.success() {
        bail!("scenario.py {mode} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    serde_json::from_slice(&out.stdout).context("scenario.py printed no JSON manifest")
}

fn config(endpoint: &str) -> AwsConfig {
    let mut c = AwsConfig::new(CONN, "AKIDMAESTROTEST", "maestro-secret-key", &REGIONS);
    c.datacenter = Some("AWS test".into());
    c.endpoint = Some(endpoint.to_string());
    // Every request of the crawl goes through the connection's rate limiter.
    c.max_requests_per_second = Some(200.0);
    c.tasks = Some(
        [
            "server-list",
            "volumes-list",
            "snapshot-list",
            "images-list",
            "security-list",
            "network-list",
            "loadbalance-list",
            "dbs-list",
            "storage-object-list",
            "brokers-list",
            "serverless-list",
            "dynamodb-list",
            "autoscaling-list",
            "cache-list",
            "smtp-list",
            "serverless-support-list",
            "gateway-list",
            "cdns-list",
        ]
        .map(String::from)
        .to_vec(),
    );
    // Small pages so that every paginated call needs several pages.
    c.page_size = Some(100);
    for (call, n) in [
        ("DescribeInstances", 5),
        ("DescribeVolumes", 50),
        ("DescribeSecurityGroups", 5),
        ("DescribeSubnets", 5),
        ("DescribeNetworkInterfaces", 100),
        ("DescribeLoadBalancersV2", 2),
        ("DescribeLoadBalancersClassic", 1),
        ("DescribeDBInstances", 20),
        ("ListQueues", 4),
        ("ListFunctions", 5),
        ("ListTables", 4),
    ] {
        c.page_sizes.insert(call.into(), n);
    }
    c
}

async fn crawl(
    store: &Arc<SqliteStore>,
    cfg: AwsConfig,
    pipeline: PipelineConfig,
) -> Result<(RunReport, u64, Duration)> {
    let dc = cfg.datacenter.clone().unwrap_or_default();
    let translator = AwsTranslator::new(CONN, &dc, false).map_err(anyhow::Error::msg)?;
    let provider = AwsProvider::new(TENANT, cfg)?;
    let started = Instant::now();
    let report = Pipeline::new(store.clone())
        .with_config(pipeline)
        .run_and_record(
            RunJob { tenant: TENANT, connection: CONN, provider: &provider, translator: &translator },
            &NoObserver,
        )
        .await?;
    Ok((report, provider.request_count(), started.elapsed()))
}

/// Every resource of the tenant, by scope, by native id.
async fn inventory(store: &Arc<SqliteStore>) -> Result<BTreeMap<String, BTreeMap<String, Resource>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Resource>> = BTreeMap::new();
    let mut page = PageRequest::first(10_000);
    loop {
        let p = store.list_resources(&ResourceFilter::tenant(TENANT), &page).await?;
        for r in p.items {
            out.entry(r.scope.clone()).or_default().insert(r.key.native_id.clone(), r);
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    Ok(out)
}

fn active_ids(inv: &BTreeMap<String, BTreeMap<String, Resource>>, scope: &str) -> BTreeSet<String> {
    inv.get(scope).map(|m| m.iter().filter(|(_, r)| r.active).map(|(k, _)| k.clone()).collect()).unwrap_or_default()
}

fn expected_ids(manifest: &Value, scope: &str) -> BTreeSet<String> {
    manifest["inventory"][scope].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

fn quiet_pipeline() -> PipelineConfig {
    PipelineConfig {
        scope_concurrency: 4,
        page_timeout: Duration::from_secs(60),
        retry: RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            jitter: 0.5,
        },
        ..PipelineConfig::default()
    }
}

fn assert_complete(report: &RunReport) {
    let bad: Vec<String> = report
        .scopes
        .iter()
        .filter(|s| s.outcome != ScopeOutcome::Complete)
        .map(|s| format!("{}: {:?} {:?} {:?}", s.scope, s.outcome, s.error, s.item_errors))
        .collect();
    assert!(bad.is_empty(), "scopes not complete:\n{}", bad.join("\n"));
    assert_eq!(report.status, RunStatus::Complete);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_scenario_crawl_recrawl_mutate_and_faults() -> Result<()> {
    let endpoint = moto_url();
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(&format!("sqlite://{}", dir.path().join("maestro.db").display())).await?);

    // ---------------------------------------------------------------- phase 1: first crawl
    let t = Instant::now();
    let created = scenario(&endpoint, "create")?;
    eprintln!("scenario created in {:?}", t.elapsed());
    let (report, requests, took) = crawl(&store, config(&endpoint), quiet_pipeline()).await?;
    eprintln!(
        "first crawl: {} scopes, {} pages, {} items, {requests} requests in {took:?}",
        report.scopes.len(),
        report.stats.pages,
        report.stats.items
    );
    for s in &report.scopes {
        eprintln!("  {:<36} {:>3} pages {:>5} items", s.scope.local_key(), s.pages, s.items);
    }
    assert_complete(&report);
    let inv = inventory(&store).await?;
    let scopes: Vec<String> = created["inventory"].as_object().unwrap().keys().cloned().collect();
    for scope in &scopes {
        let want = expected_ids(&created, scope);
        let got = active_ids(&inv, scope);
        assert_eq!(got, want, "scope {scope}: crawl differs from what boto3 lists");
    }
    // Several pages wherever moto paginates (moto 5.2 ignores the page size of DescribeVolumes,
    // DescribeSecurityGroups, ListQueues and ListFunctions and answers in one page; their token
    // handling is covered by the unit tests).
    let server_scope = "server-list@us-east-1";
    assert!(active_ids(&inv, server_scope).len() >= 500);
    let pages = |s: &str| report.scopes.iter().find(|r| r.scope.local_key() == s).map_or(0, |r| r.pages);
    for (s, min) in [
        ("server-list@us-east-1", 3),
        ("loadbalance-list@us-east-1", 4),
        ("network-list@us-east-1", 9),
        ("dbs-list@us-east-1", 2),
        ("dynamodb-list@us-east-1", 4),
    ] {
        assert!(pages(s) >= min, "{s} took {} pages, expected at least {min}", pages(s));
    }
    // Empty kinds in moto complete (empty) rather than fail.
    for s in [
        "autoscaling-list@us-east-1",
        "cache-list@eu-west-1",
        "smtp-list@us-east-1",
        "gateway-list@us-east-1",
        "cdns-list",
    ] {
        assert!(report.scopes.iter().any(|r| r.scope.local_key() == s), "{s} crawled");
    }

    // Field by field samples: every server against boto3's view.
    for region in REGIONS {
        let scope = format!("server-list@{region}");
        for (id, want) in created["inventory"][&scope].as_object().unwrap() {
            let r = &inv[&scope][id];
            let a = Value::Object(r.doc.attributes.clone());
            assert_eq!(r.doc.name, want["name"].as_str().unwrap(), "{id} name");
            assert_eq!(a["ipv4_private"], want["ipv4_private"], "{id} ip");
            assert_eq!(a["state"], want["state"], "{id} state");
            assert_eq!(a["status"], json!("Active"), "{id} status");
            assert_eq!(a["active"], json!(true));
            assert_eq!(a["datacenters"]["instance"], want["instance"]);
            assert_eq!(a["datacenters"]["region"], json!(region));
            let rel = |rel: &str| -> BTreeSet<String> {
                r.doc.relations.iter().filter(|x| x.rel == rel).map(|x| x.native_id.clone()).collect()
            };
            assert_eq!(rel("in_subnet"), BTreeSet::from([want["subnet"].as_str().unwrap().to_string()]));
            assert_eq!(rel("in_vpc"), BTreeSet::from([want["vpc"].as_str().unwrap().to_string()]));
            let sgs: BTreeSet<String> =
                want["sgs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
            assert_eq!(rel("secured_by"), sgs, "{id} security groups");
            let vols: BTreeSet<String> =
                want["volumes"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
            assert_eq!(rel("attached_volume"), vols, "{id} volumes");
            // Relations point at resources that exist.
            for s in rel("in_subnet").iter().chain(&rel("in_vpc")).chain(&rel("secured_by")) {
                let net = format!("{}@{region}", if s.starts_with("sg-") { "security-list" } else { "network-list" });
                assert!(inv[&net].contains_key(s), "{id} → {s} not crawled");
            }
            for v in rel("attached_volume") {
                assert!(inv[&format!("volumes-list@{region}")].contains_key(&v), "{id} → {v} not crawled");
            }
            assert!(a["cpu"].is_number() && a["memory"].is_number(), "{id} cpu/memory from the catalogue");
            assert_eq!(r.doc.tags.get("Role").map(String::as_str), Some("web"));
        }
    }
    let vols = &inv["volumes-list@us-east-1"];
    for (id, want) in created["inventory"]["volumes-list@us-east-1"].as_object().unwrap() {
        let a = &vols[id].doc.attributes;
        assert_eq!(a["size"], want["size"], "{id}");
        assert_eq!(a["encrypted"], want["encrypted"], "{id}: encrypted false is kept");
    }
    for (id, want) in created["inventory"]["network-list@us-east-1"].as_object().unwrap() {
        assert_eq!(inv["network-list@us-east-1"][id].doc.attributes["family"], want["family"], "{id}");
    }
    // Load balancers → instances.
    for region in REGIONS {
        let lbs = &inv[&format!("loadbalance-list@{region}")];
        for (id, want) in created["inventory"][format!("loadbalance-list@{region}")].as_object().unwrap() {
            let r = &lbs[id];
            assert_eq!(r.doc.name, want["name"].as_str().unwrap());
            let targets: Vec<&str> =
                r.doc.relations.iter().filter(|x| x.rel == "targets").map(|x| x.native_id.as_str()).collect();
            if let Some(instances) = want["instances"].as_array() {
                let w: Vec<&str> = instances.iter().map(|v| v.as_str().unwrap()).collect();
                assert_eq!(targets, w, "{id} classic targets");
            } else {
                assert_eq!(targets.len(), 3, "{id} ALB targets (3 registered per target group)");
            }
            for t in targets {
                assert!(inv[&format!("server-list@{region}")].contains_key(t), "{id} → {t}");
            }
        }
    }
    let db = inv["dbs-list@us-east-1"].values().find(|r| r.doc.name == "db-03").context("db-03")?;
    assert_eq!(db.doc.attributes["engine"], "postgres");
    assert_eq!(db.doc.attributes["role"]["dbname"], "app3");
    let q = &inv["brokers-list@eu-west-1"]["arn:aws:sqs:eu-west-1:123456789012:jobs-00"];
    assert_eq!(q.doc.attributes["family"], "Broker");
    let f = &inv["serverless-list@us-east-1"]["arn:aws:lambda:us-east-1:123456789012:function:fn-03"];
    assert_eq!(f.doc.attributes["role"]["memory_size"], json!(131));
    assert_eq!(inv["dynamodb-list@eu-west-1"]["eu-west-1/table-13"].doc.name, "DynamoDB - table-13");
    assert_eq!(inv["storage-object-list"]["maestro-bucket-2"].doc.attributes["family"], "ObjectStorage");
    let total: usize = inv.values().map(BTreeMap::len).sum();
    assert_eq!(report.stats.changes.created as usize, total);

    // ---------------------------------------------------------------- phase 2: nothing changed
    let (again, requests2, took2) = crawl(&store, config(&endpoint), quiet_pipeline()).await?;
    eprintln!("idempotent re-crawl: {requests2} requests in {took2:?}");
    assert_complete(&again);
    assert_eq!(again.stats.changes.created, 0);
    assert_eq!(again.stats.changes.updated, 0, "an unchanged inventory costs no write");
    assert_eq!(again.stats.changes.unchanged as usize, total);
    assert_eq!(again.stats.deactivated, 0);

    // ---------------------------------------------------------------- phase 3: mutate and re-crawl
    let before_mutation = chrono::Utc::now();
    let mutated = scenario(&endpoint, "mutate")?;
    let (third, _, _) = crawl(&store, config(&endpoint), quiet_pipeline()).await?;
    assert_complete(&third);
    let inv3 = inventory(&store).await?;
    let mut expected_gone: BTreeSet<(String, String)> = BTreeSet::new();
    for scope in &scopes {
        let now = expected_ids(&mutated, scope);
        assert_eq!(active_ids(&inv3, scope), now, "scope {scope} after the mutation");
        for id in expected_ids(&created, scope).difference(&now) {
            expected_gone.insert((scope.clone(), id.clone()));
        }
    }
    for (scope, ids) in mutated["removed"].as_object().unwrap() {
        for id in ids.as_array().unwrap() {
            assert!(expected_gone.contains(&(scope.clone(), id.as_str().unwrap().to_string())), "{scope} {id} removed");
        }
    }
    assert_eq!(third.stats.deactivated as usize, expected_gone.len());
    assert_eq!(third.stats.changes.created, 0);
    // History: exactly the removed ones deactivated; updates only where AWS changed something
    // else as a consequence (free IP counts of subnets, LB target lists).
    let mut history = Vec::new();
    let mut page = PageRequest::first(10_000);
    loop {
        let q = HistoryQuery { tenant: TENANT.into(), key: None, since: Some(before_mutation), until: None };
        let p = store.history(&q, &page).await?;
        history.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    let deactivated: BTreeSet<String> =
        history.iter().filter(|c| c.op == ChangeOp::Deactivated).map(|c| c.key.native_id.clone()).collect();
    let want_gone: BTreeSet<String> = expected_gone.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(deactivated, want_gone, "history shows exactly the removed resources deactivated");
    for c in history.iter().filter(|c| c.op == ChangeOp::Updated) {
        let paths: Vec<&str> = c.diff.iter().map(|d| d.path.as_str()).collect();
        ensure!(
            paths.iter().all(|p| p.contains("available_ips") || p.contains("relations") || p.contains("instances")),
            "unexpected update of {}: {paths:?}",
            c.key
        );
    }
    eprintln!(
        "after mutation: {} deactivated, {} updated, {} unchanged",
        third.stats.deactivated, third.stats.changes.updated, third.stats.changes.unchanged
    );

    // ---------------------------------------------------------------- phase 4: faults
    faults(&store, &endpoint).await?;
    Ok(())
}

// -------------------------------------------------------------------- fault-injecting proxy

#[derive(Default)]
struct FaultState {
    /// (region, action) → answers still to inject, in order.
    script: Mutex<HashMap<(String, String), Vec<Fault>>>,
    /// Regions whose every request fails with HTTP 500.
    failing_regions: Mutex<BTreeSet<String>>,
    /// Requests per (region, action), faulty or not.
    seen: Mutex<HashMap<(String, String), u64>>,
    injected: AtomicU64,
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    Throttle,
    ServerError,
    Hang,
    Truncate,
    Auth,
}

fn region_and_action(headers: &axum::http::HeaderMap, uri: &axum::http::Uri, body: &[u8]) -> (String, String) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let region = auth.split("Credential=").nth(1).and_then(|c| c.split('/').nth(2)).unwrap_or("").to_string();
    let body = String::from_utf8_lossy(body);
    let action = body
        .split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .map(str::to_string)
        .or_else(|| headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_string))
        .unwrap_or_else(|| uri.path().to_string());
    (region, action)
}

async fn proxy(
    axum::extract::State((state, upstream)): axum::extract::State<(Arc<FaultState>, String)>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let key = region_and_action(&headers, &uri, &body);
    *state.seen.lock().await.entry(key.clone()).or_insert(0) += 1;
    let fault = if state.failing_regions.lock().await.contains(&key.0) {
        Some(Fault::ServerError)
    } else {
        let mut s = state.script.lock().await;
        s.get_mut(&key).and_then(|v| if v.is_empty() { None } else { Some(v.remove(0)) })
    };
    let ec2_error = |code: &str| {
        format!(
            "<Response><Errors><Error><Code>{code}</Code><Message>injected</Message></Error></Errors><RequestID>x</RequestID></Response>"
        )
    };
    if let Some(f) = fault {
        state.injected.fetch_add(1, Ordering::Relaxed);
        match f {
            Fault::Throttle => {
                return (axum::http::StatusCode::SERVICE_UNAVAILABLE, ec2_error("RequestLimitExceeded"))
                    .into_response();
            }
            Fault::ServerError => {
                return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, ec2_error("InternalError")).into_response();
            }
            Fault::Auth => return (axum::http::StatusCode::UNAUTHORIZED, ec2_error("AuthFailure")).into_response(),
            Fault::Hang => {
                tokio::time::sleep(Duration::from_secs(25)).await;
            }
            Fault::Truncate => {}
        }
    }
    let client = reqwest::Client::new();
    let mut req =
        client.request(reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(), format!("{upstream}{uri}"));
    for (k, v) in &headers {
        if k != "host" && k != "content-length" {
            req = req.header(k.as_str(), v.as_bytes());
        }
    }
    let resp = match req.body(body.to_vec()).send().await {
        Ok(r) => r,
        Err(e) => return (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = axum::http::StatusCode::from_u16(resp.status().as_u16()).unwrap();
    let mut bytes = resp.bytes().await.unwrap_or_default().to_vec();
    if matches!(fault, Some(Fault::Truncate)) {
        bytes.truncate(bytes.len() / 2);
    }
    (status, bytes).into_response()
}

async fn start_proxy(upstream: &str) -> Result<(String, Arc<FaultState>)> {
    let state = Arc::new(FaultState::default());
    let app = axum::Router::new().fallback(proxy).with_state((state.clone(), upstream.to_string()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{addr}"), state))
}

async fn faults(store: &Arc<SqliteStore>, moto: &str) -> Result<()> {
    let (proxy_url, state) = start_proxy(moto).await?;
    let k = |r: &str, a: &str| (r.to_string(), a.to_string());
    {
        let mut s = state.script.lock().await;
        // Retried and then fine: throttling (twice), a 500, a hung request (client timeout).
        s.insert(k("us-east-1", "DescribeInstances"), vec![Fault::Throttle, Fault::Throttle]);
        s.insert(k("us-east-1", "DescribeVolumes"), vec![Fault::ServerError]);
        s.insert(k("us-east-1", "DescribeSecurityGroups"), vec![Fault::Hang]);
        s.insert(k("us-east-1", "DynamoDB_20120810.ListTables"), vec![Fault::Throttle]);
        // Not retried: an unparseable answer, an auth failure.
        // (on small, fast answers: a slow answer that hits the client timeout would be retried
        // and hide the fault)
        s.insert(k("us-east-1", "DescribeImages"), vec![Fault::Truncate]);
        s.insert(k("us-east-1", "DescribeVpcs"), vec![Fault::Auth]);
    }
    // eu-west-1 keeps failing; meanwhile a queue is deleted there, which must NOT be deactivated.
    state.failing_regions.lock().await.insert("eu-west-1".into());
    let mutated = scenario(moto, "mutate-eu")?;
    let gone_eu = mutated["removed"]["brokers-list@eu-west-1"][0].as_str().unwrap().to_string();

    let mut cfg = config(&proxy_url);
    cfg.timeout_secs = 12.0;
    let before = inventory(store).await?;
    let (report, _, _) = crawl(store, cfg, quiet_pipeline()).await?;
    assert_eq!(report.status, RunStatus::Partial);
    let by: HashMap<String, &maestro_core::ScopeReport> =
        report.scopes.iter().map(|s| (s.scope.local_key(), s)).collect();
    for s in ["server-list@us-east-1", "volumes-list@us-east-1", "security-list@us-east-1", "dynamodb-list@us-east-1"] {
        assert_eq!(by[s].outcome, ScopeOutcome::Complete, "{s} recovers by retrying: {:?}", by[s].error);
    }
    let seen = state.seen.lock().await.clone();
    assert!(seen[&k("us-east-1", "DescribeSecurityGroups")] >= 2, "the hung request was retried");
    let img = by["images-list@us-east-1"];
    assert_eq!(img.outcome, ScopeOutcome::Failed, "truncated XML fails the scope");
    assert!(img.error.as_deref().unwrap_or("").contains("malformed XML"), "{:?}", img.error);
    let net = by["network-list@us-east-1"];
    assert_eq!(net.outcome, ScopeOutcome::Failed);
    assert!(net.error.as_deref().unwrap_or("").contains("AuthFailure"), "{:?}", net.error);
    assert_eq!(seen[&k("us-east-1", "DescribeVpcs")], 1, "auth errors are not retried");
    for (scope, r) in &by {
        if scope.ends_with("@eu-west-1") {
            assert_eq!(r.outcome, ScopeOutcome::Failed, "{scope}");
            let e = r.error.as_deref().unwrap_or("");
            assert!(e.contains("HTTP 500") && e.contains("eu-west-1"), "{scope}: the report says why: {e}");
            assert!(r.sweep.is_none(), "{scope}: a failed scope is not swept");
        }
    }
    assert_eq!(report.stats.deactivated, 0);
    let after = inventory(store).await?;
    for (scope, items) in &before {
        for (id, r) in items {
            assert_eq!(after[scope][id].active, r.active, "{scope} {id}: nothing changes state in a faulty run");
        }
    }
    assert!(after["brokers-list@eu-west-1"][&gone_eu].active, "failed region: the deleted queue stays active");
    eprintln!(
        "fault run: {} faults injected; report scopes failed: {}",
        state.injected.load(Ordering::Relaxed),
        report.scopes.iter().filter(|s| s.outcome == ScopeOutcome::Failed).count()
    );
    let _ = ConfigErrors::new();
    Ok(())
}
