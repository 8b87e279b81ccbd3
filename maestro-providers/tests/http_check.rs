//! Site checks against loopback servers under test control: plain HTTP (axum on 127.0.0.1:0)
//! and HTTPS with certificates generated at test time (rcgen, served by tokio-rustls). Results
//! go to a real SQLite file (or the in-memory store for the dependency view).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maestro_core::monitor::{CheckResult, Site, SiteStore, check_event};
use maestro_core::{OutboxCursor, OutboxStore};
use maestro_providers::http_check::{
    CheckError, Checker, CheckerConfig, SiteCheckJob, affected_by, inventory_sites, validate_site,
};
use maestro_store::SqliteStore;
use tokio::net::TcpListener;

fn app() -> Router {
    Router::new()
        .route("/ok", get(|| async { "all ok" }))
        .route(
            "/json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"UP","items":[1,2,3]}"#) }),
        )
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move { StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT) }),
        )
        .route(
            "/slow/{ms}",
            get(|Path(ms): Path<u64>| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                "slow ok"
            }),
        )
        .route(
            "/hang",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "never"
            }),
        )
        .route(
            "/endless",
            get(|| async {
                let chunk = Bytes::from(vec![b'x'; 16 * 1024]);
                let stream = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
                Response::new(Body::from_stream(stream))
            }),
        )
        .route("/redirect", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/ok")]).into_response() }))
}

async fn serve_http() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app()).await });
    format!("http://{addr}")
}

struct Tls {
    base: String,
    ca_pem: String,
}

/// An HTTPS server whose leaf certificate (for 127.0.0.1) is signed by a fresh test CA and is
/// valid from `not_before` to `not_after` (years).
async fn serve_https(not_before: i32, not_after: i32) -> Tls {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, date_time_ymd};
    use tokio_rustls::rustls;
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "maestro test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).expect("params");
    params.not_before = date_time_ymd(not_before, 1, 1);
    params.not_after = date_time_ymd(not_after, 1, 1);
    let leaf = params.signed_by(&leaf_key, &ca).expect("leaf");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper_util::service::TowerToHyperService::new(app());
                let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Tls { base: format!("https://{addr}"), ca_pem: ca.pem() }
}

async fn sqlite() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("checks.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.expect("open sqlite"));
    (dir, store)
}

async fn add(store: &SqliteStore, url: String, f: impl FnOnce(&mut Site)) -> Site {
    let mut site = Site::new("acme", url);
    f(&mut site);
    validate_site(&site).expect("valid site");
    store.create_site(&site).await.expect("create site")
}

fn by_site(results: &[CheckResult], id: i64) -> &CheckResult {
    results.iter().find(|r| r.site_id == id).expect("a result per site")
}

async fn check_all(checker: &Checker, store: &SqliteStore, sites: &[Site]) -> Vec<CheckResult> {
    let compiled = sites.iter().map(|s| validate_site(s).expect("valid")).collect();
    let summary = checker.run(compiled, store, None).await.expect("run");
    assert_eq!(summary.checked as usize, sites.len());
    summary.results
}

#[tokio::test]
async fn status_latency_regexp_and_json_conditions() {
    let base = serve_http().await;
    let (_dir, store) = sqlite().await;
    let ok = add(&store, format!("{base}/ok"), |s| {
        s.regexp = Some(r"all\s+ok".into());
        s.conditions = vec!["[STATUS] == 200".into(), "[BODY] == pat(*ok*)".into()];
    })
    .await;
    let down = add(&store, format!("{base}/status/503"), |s| s.regexp = Some("ok".into())).await;
    let json = add(&store, format!("{base}/json"), |s| {
        s.conditions =
            vec!["[BODY].status == UP".into(), "len([BODY].items) > 2".into(), "[BODY].items[0] == 2".into()];
    })
    .await;
    let slow = add(&store, format!("{base}/slow/150"), |s| s.conditions = vec!["[RESPONSE_TIME] >= 150".into()]).await;
    let checker = Checker::new(CheckerConfig::default()).expect("checker");
    let results = check_all(&checker, &store, &[ok.clone(), down.clone(), json.clone(), slow.clone()]).await;

    let r = by_site(&results, ok.id);
    assert!(r.success && r.error.is_none(), "{r:?}");
    assert_eq!((r.status_code, r.has_regexp), (Some(200), Some(true)));
    assert!(r.conditions.iter().all(|c| c.success));
    assert!(r.cert_expires_at.is_none(), "plain http has no certificate");

    let r = by_site(&results, down.id);
    assert!(!r.success, "503 without conditions fails");
    assert_eq!((r.status_code, r.has_regexp, r.error.as_deref()), (Some(503), Some(false), None));

    let r = by_site(&results, json.id);
    assert!(!r.success, "one condition fails");
    let outcome: Vec<bool> = r.conditions.iter().map(|c| c.success).collect();
    assert_eq!(outcome, vec![true, true, false]);

    let r = by_site(&results, slow.id);
    assert!(r.success, "{r:?}");
    assert!(r.response_time_ms.expect("time") >= 150.0, "time to headers includes the server's delay");

    // Stored, with one site.check event each carrying the original's fields.
    let q = maestro_core::monitor::CheckQuery { tenant: "acme".into(), ..Default::default() };
    let stored = store.list_checks(&q, &maestro_core::PageRequest::first(100)).await.expect("list");
    assert_eq!(stored.items.len(), 4);
    let events = store.events_after(OutboxCursor::default(), 100).await.expect("events");
    assert_eq!(events.len(), 4);
    let e = events.iter().find(|e| e.event.subject == format!("site:{}", down.id)).expect("event of the 503");
    assert_eq!(e.event.kind, "site.check");
    assert_eq!(e.event.payload["status_code"], 503);
    assert_eq!(e.event.payload["has_regexp"], false);
    assert_eq!(e.event.payload["comments"], "");
    assert!(e.event.payload["response_time"].as_f64().is_some());
}

#[tokio::test]
async fn a_hanging_target_times_out_without_stalling_the_pool() {
    let base = serve_http().await;
    let (_dir, store) = sqlite().await;
    let mut sites = Vec::new();
    for _ in 0..2 {
        sites.push(add(&store, format!("{base}/hang"), |s| s.timeout_ms = 300).await);
    }
    for _ in 0..20 {
        sites.push(add(&store, format!("{base}/ok"), |_| {}).await);
    }
    // Two slots: both hanging checks hold one each at first; the others still all complete.
    let checker =
        Checker::new(CheckerConfig { concurrency: 2, batch_size: 5, ..CheckerConfig::default() }).expect("checker");
    let results = check_all(&checker, &store, &sites).await;
    assert_eq!(results.len(), 22);
    for s in &sites[..2] {
        let r = by_site(&results, s.id);
        assert!(!r.success && r.status_code.is_none(), "{r:?}");
        assert_eq!(r.error.as_deref(), Some("timed out after 300 ms waiting for a response"));
        assert!(
            check_event(r).payload["comments"].as_str().expect("comments").starts_with("Request Exception: timed out")
        );
    }
    assert_eq!(results.iter().filter(|r| r.success).count(), 20);
}

#[tokio::test]
async fn an_endless_body_is_capped_and_recorded() {
    let base = serve_http().await;
    let (_dir, store) = sqlite().await;
    let site = add(&store, format!("{base}/endless"), |s| {
        s.regexp = Some("^x+$".into());
        s.conditions = vec!["[STATUS] == 200".into(), "len([BODY]) == 65536".into()];
        s.timeout_ms = 30_000;
    })
    .await;
    let checker =
        Checker::new(CheckerConfig { max_body_bytes: 64 * 1024, ..CheckerConfig::default() }).expect("checker");
    let results = check_all(&checker, &store, &[site]).await;
    let r = &results[0];
    assert!(r.body_truncated, "{r:?}");
    assert!(r.error.is_none(), "capping is not an error: {r:?}");
    assert_eq!(r.has_regexp, Some(true));
    assert!(r.success, "the capped body holds exactly the cap: {r:?}");
}

#[tokio::test]
async fn redirects_are_followed_or_not_as_configured() {
    let base = serve_http().await;
    let (_dir, store) = sqlite().await;
    let follow = add(&store, format!("{base}/redirect"), |s| s.regexp = Some("all ok".into())).await;
    let stay = add(&store, format!("{base}/redirect"), |s| {
        s.follow_redirects = false;
        s.conditions = vec!["[STATUS] == 302".into()];
    })
    .await;
    let checker = Checker::new(CheckerConfig::default()).expect("checker");
    let results = check_all(&checker, &store, &[follow.clone(), stay.clone()]).await;
    let r = by_site(&results, follow.id);
    assert_eq!((r.status_code, r.has_regexp, r.success), (Some(200), Some(true), true));
    let r = by_site(&results, stay.id);
    assert_eq!((r.status_code, r.success), (Some(302), true));
}

#[tokio::test]
async fn https_records_the_certificate_expiry() {
    let tls = serve_https(2020, 2099).await;
    let (_dir, store) = sqlite().await;
    let site = add(&store, format!("{}/ok", tls.base), |s| {
        s.conditions = vec!["[CERTIFICATE_EXPIRATION] > 48h".into(), "[STATUS] == 200".into()];
    })
    .await;
    let config = CheckerConfig { extra_root_certificates: vec![tls.ca_pem.clone()], ..CheckerConfig::default() };
    let checker = Checker::new(config).expect("checker");
    let results = check_all(&checker, &store, std::slice::from_ref(&site)).await;
    let r = &results[0];
    assert!(r.success, "{r:?}");
    assert_eq!(r.cert_expires_at, Some("2099-01-01T00:00:00Z".parse().expect("time")));
    assert_eq!(check_event(r).payload["cert_expires_at"], "2099-01-01T00:00:00Z");

    // Without the test CA the same site is a failed check that says why.
    let untrusted = Checker::new(CheckerConfig::default()).expect("checker");
    let r = untrusted.check(&validate_site(&site).expect("valid")).await;
    assert!(!r.success && r.status_code.is_none());
    assert!(r.error.as_deref().unwrap_or("").to_lowercase().contains("certificate"), "{r:?}");
}

#[tokio::test]
async fn an_expired_certificate_is_a_failed_check_with_its_expiry() {
    let tls = serve_https(2019, 2021).await;
    let (_dir, store) = sqlite().await;
    let site = add(&store, format!("{}/ok", tls.base), |s| s.conditions = vec!["[STATUS] == 200".into()]).await;
    let config = CheckerConfig { extra_root_certificates: vec![tls.ca_pem], ..CheckerConfig::default() };
    let checker = Checker::new(config).expect("checker");
    let results = check_all(&checker, &store, &[site]).await;
    let r = &results[0];
    assert!(!r.success && r.status_code.is_none(), "{r:?}");
    let error = r.error.as_deref().expect("an error");
    assert!(error.to_lowercase().contains("expired"), "{error}");
    assert_eq!(r.cert_expires_at, Some("2021-01-01T00:00:00Z".parse().expect("time")), "expiry still recorded");
    assert!(!r.conditions[0].success);
    let events = store.events_after(OutboxCursor::default(), 10).await.expect("events");
    assert_eq!(events[0].event.payload["comments"], format!("Request Exception: {error}"));
}

#[tokio::test]
async fn results_and_events_are_written_together_and_once() {
    let base = serve_http().await;
    let (_dir, store) = sqlite().await;
    let mut sites = Vec::new();
    for i in 0..7 {
        sites.push(add(&store, format!("{base}/status/{}", if i % 2 == 0 { 200 } else { 500 }), |_| {}).await);
    }
    let checker = Checker::new(CheckerConfig { batch_size: 3, ..CheckerConfig::default() }).expect("checker");
    let compiled = sites.iter().map(|s| validate_site(s).expect("valid")).collect();
    let summary = checker.run(compiled, &*store, None).await.expect("run");
    assert_eq!((summary.checked, summary.failed, summary.stored, summary.duplicates), (7, 3, 7, 0));
    let events = store.events_after(OutboxCursor::default(), 100).await.expect("events");
    assert_eq!(events.len(), 7);
    let mut ids: Vec<i64> = events.iter().map(|e| e.event.payload["site_id"].as_i64().expect("site_id")).collect();
    ids.sort_unstable();
    assert_eq!(ids, sites.iter().map(|s| s.id).collect::<Vec<_>>());
    // Recording the same results again (a retried batch) writes nothing.
    let evs: Vec<_> = summary.results.iter().map(check_event).collect();
    let again = store.record_checks(&summary.results, &evs).await.expect("re-record");
    assert_eq!((again.stored, again.duplicates), (0, 7));
    assert_eq!(store.events_after(OutboxCursor::default(), 100).await.expect("events").len(), 7);
}

#[tokio::test]
async fn the_scheduler_job_checks_due_sites_and_rejects_bad_args() {
    let base = serve_http().await;
    let (_dir, store) = sqlite().await;
    let a = add(&store, format!("{base}/ok"), |_| {}).await;
    let b = add(&store, format!("{base}/ok"), |s| s.interval_secs = 1).await;
    add(&store, format!("{base}/ok"), |s| s.enabled = false).await;
    let checker = Arc::new(Checker::new(CheckerConfig::default()).expect("checker"));
    let job = SiteCheckJob::new(store.clone(), None, checker);
    let first = job.execute(&serde_json::json!({"tenant": "acme"})).await.expect("job");
    assert_eq!(first.checked, 2, "the two enabled sites");
    let second = job.execute(&serde_json::json!({"tenant": "acme"})).await.expect("job");
    assert!(second.results.iter().all(|r| r.site_id == b.id), "site a (every 600 s) is not due again");
    let explicit = job.execute(&serde_json::json!({"tenant": "acme", "site_ids": [a.id]})).await.expect("job");
    assert_eq!(explicit.checked, 1, "explicit ids are checked whether due or not");
    let bad = job.execute(&serde_json::json!({"tenants": "acme"})).await.expect_err("bad args");
    assert_eq!(bad.retry, maestro_core::Retry::Never);
    let missing = job.execute(&serde_json::json!({"tenant": "acme", "site_ids": [999]})).await.expect_err("no site");
    assert!(missing.message.contains("no site 999"), "{missing}");
}

#[tokio::test]
async fn inventory_endpoints_become_targets_and_failures_name_the_affected_apps() -> Result<(), CheckError> {
    use maestro_core::testing::{MemoryRepository, PassThroughTranslator, StaticProvider};
    use maestro_core::{NoObserver, Pipeline, RunJob};
    let base = serve_http().await;
    let repo = Arc::new(MemoryRepository::new());
    let provider = StaticProvider::single(
        "acme",
        "inv",
        "all",
        vec![
            serde_json::json!({"kind": "load_balancer", "id": "lb-1", "name": "front", "attributes": {"dns_name": format!("{base}/status/502")}}),
            serde_json::json!({"kind": "application", "id": "api", "name": "API", "attributes": {"url": format!("{base}/ok")},
            "relations": [{"rel": "behind", "kind": "load_balancer", "native_id": "lb-1"}]}),
            serde_json::json!({"kind": "application", "id": "shop", "name": "Shop",
            "relations": [{"rel": "behind", "kind": "load_balancer", "native_id": "lb-1"}]}),
            serde_json::json!({"kind": "server", "id": "i-1", "name": "web", "attributes": {"url": "https://not-a-target.test/"}}),
        ],
    );
    let job = RunJob { tenant: "acme", connection: "inv", provider: &provider, translator: &PassThroughTranslator };
    Pipeline::new(repo.clone()).run_and_record(job, &NoObserver).await.expect("import");

    let sites = inventory_sites(&*repo, "acme").await?;
    assert_eq!(sites.len(), 2, "the load balancer and the API, not the server: {sites:?}");
    for s in &sites {
        repo.create_site(s).await?;
    }
    let again = inventory_sites(&*repo, "acme").await?;
    assert_eq!(
        again.iter().map(|s| s.id).collect::<Vec<_>>(),
        sites.iter().map(|s| s.id).collect::<Vec<_>>(),
        "stable ids"
    );

    let checker = Checker::new(CheckerConfig::default())?;
    let compiled = sites.iter().map(|s| validate_site(s).expect("valid")).collect();
    let summary = checker.run(compiled, &*repo, Some(&*repo)).await?;
    let lb = summary.results.iter().find(|r| r.status_code == Some(502)).expect("load balancer result");
    assert!(!lb.success);
    let mut names: Vec<&str> = lb.affected.iter().map(|a| a.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["API", "Shop"], "applications behind the failing load balancer");
    let api = summary.results.iter().find(|r| r.status_code == Some(200)).expect("api result");
    assert!(api.success && api.affected.is_empty(), "a passing check lists nothing");
    let lb_key = sites.iter().find_map(|s| s.resource.clone().filter(|k| k.native_id == "lb-1")).expect("lb key");
    assert_eq!(affected_by(&*repo, &lb_key).await?.len(), 2);
    Ok(())
}
