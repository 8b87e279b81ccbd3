//! The OpenStack provider against a loopback OpenStack double (`support/fake_openstack.rs`,
//! fixtures under `tests/fixtures/openstack/`), through the real pipeline into a real SQLite
//! file: multi-page lists, auth failure, token expiry and revocation, throttling, a malformed
//! page mid-crawl and a deletion between two crawls.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use maestro_core::layers::RetryPolicy;
use maestro_core::testing::assert_provider_contract;
use maestro_core::{
    NoObserver, PageRequest, Pipeline, PipelineConfig, Repository, Resource, ResourceFilter, RunJob, RunReport,
    RunStatus, ScopeOutcome,
};
use maestro_providers::openstack::{OpenStackConfig, OpenStackProvider, translator};
use maestro_store::SqliteStore;
use support::fake_openstack::{FakeOpenStack, FaultKind, PASSWORD, PROJECT, USER};

const TENANT: &str = "acme";
const CONN: &str = "os-test";

fn config(fake: &FakeOpenStack) -> OpenStackConfig {
    let mut c = OpenStackConfig::new(CONN, &fake.auth_url, USER, PASSWORD, PROJECT);
    c.datacenter = Some("OpenStack test".into());
    c.regions = vec!["RegionOne".into()];
    c.page_size = 2;
    c.rate_limit = 0.0;
    c
}

fn pipeline() -> PipelineConfig {
    PipelineConfig {
        scope_concurrency: 3,
        page_timeout: Duration::from_secs(30),
        retry: RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            jitter: 0.0,
        },
        ..PipelineConfig::default()
    }
}

async fn crawl(store: &Arc<SqliteStore>, provider: &OpenStackProvider) -> Result<RunReport> {
    let t = translator(CONN, "OpenStack test", false).map_err(anyhow::Error::msg)?;
    Ok(Pipeline::new(store.clone())
        .with_config(pipeline())
        .run_and_record(RunJob { tenant: TENANT, connection: CONN, provider, translator: &t }, &NoObserver)
        .await?)
}

async fn inventory(store: &Arc<SqliteStore>) -> Result<BTreeMap<String, Resource>> {
    let mut out = BTreeMap::new();
    let mut page = PageRequest::first(10_000);
    loop {
        let p = store.list_resources(&ResourceFilter::tenant(TENANT), &page).await?;
        for r in p.items {
            out.insert(format!("{}/{}", r.key.kind, r.key.native_id), r);
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    Ok(out)
}

fn active(inv: &BTreeMap<String, Resource>) -> usize {
    inv.values().filter(|r| r.active).count()
}

fn outcome<'r>(report: &'r RunReport, task: &str) -> &'r maestro_core::ScopeReport {
    report.scopes.iter().find(|s| s.scope.task == task).unwrap_or_else(|| panic!("no scope {task}"))
}

async fn store() -> Result<(tempfile::TempDir, Arc<SqliteStore>)> {
    let dir = tempfile::tempdir()?;
    let s = SqliteStore::open(&format!("sqlite://{}", dir.path().join("maestro.db").display())).await?;
    Ok((dir, Arc::new(s)))
}

/// Items per collection in the fixtures.
fn fixture_total() -> usize {
    support::fake_openstack::COLLECTIONS
        .iter()
        .map(|c| support::fake_openstack::fixture(c)[*c].as_array().unwrap().len())
        .sum()
}

#[tokio::test]
async fn provider_contract_holds_and_lists_span_several_pages() {
    let fake = FakeOpenStack::start().await;
    let p = OpenStackProvider::new(TENANT, config(&fake)).unwrap();
    let counts = assert_provider_contract(&p).await;
    assert_eq!(counts.iter().sum::<usize>(), fixture_total());
    let st = fake.state();
    // page_size 2: every list of 3+ items took several pages, following links, Glance's `next`
    // and, for routers (no links), `marker`.
    // Requests per list (the contract fetches the first page of each scope twice; routers
    // come third in their scope).
    for (path, requests) in [
        ("servers/detail", 3 + 1),
        ("/image/v2/images", 2 + 1),
        ("/network/v2.0/routers", 2),
        ("volumes/detail", 3 + 1),
    ] {
        let n = st.log.iter().filter(|l| l.contains(path) && l.ends_with("200")).count();
        assert_eq!(n, requests, "{path}: {:#?}", st.log);
    }
    assert!(st.log.iter().any(|l| l.contains("/network/v2.0/routers?limit=2&marker=router-2")));
    assert_eq!(st.auth_requests, 1, "one token for the whole crawl");
}

#[tokio::test]
async fn crawl_recrawl_delete_and_faults_through_the_pipeline() -> Result<()> {
    let fake = FakeOpenStack::start().await;
    let (_dir, store) = store().await?;
    let provider = OpenStackProvider::new(TENANT, config(&fake))?;

    // 1. First crawl: everything, complete.
    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    let inv = inventory(&store).await?;
    assert_eq!(inv.len(), fixture_total());
    let web1 = &inv["server/5f1b0001-0c6e-4b4c-9d1b-2a1e0c9f0001"];
    let a = &web1.doc.attributes;
    assert_eq!(web1.doc.name, "web-1");
    assert_eq!((a["cpu"].as_u64(), a["memory"].as_f64()), (Some(1), Some(2.0)), "m1.small from the flavor list");
    assert_eq!(a["ipv4_private"], "10.0.0.11");
    assert_eq!(a["ipv4_public"], "203.0.113.11");
    assert_eq!(a["status"], "Active");
    let web2 = &inv["server/5f1b0002-0c6e-4b4c-9d1b-2a1e0c9f0002"].doc.attributes;
    assert_eq!(web2["ipv4_public"], "198.51.100.12", "floating IP");
    let cache = &inv["server/5f1b0005-0c6e-4b4c-9d1b-2a1e0c9f0005"].doc.attributes;
    assert_eq!((cache["cpu"].as_u64(), cache["memory"].as_f64()), (Some(1), Some(0.5)), "embedded flavor");
    assert_eq!(cache["status"], "Stopped");
    assert_eq!(inv["server/5f1b0004-0c6e-4b4c-9d1b-2a1e0c9f0004"].doc.attributes["active"], false, "ERROR");
    assert_eq!(inv["application/lb-1"].doc.attributes["provider"], "OpenStack (HaProxy)");
    assert_eq!(inv["network/router-3"].doc.attributes["family"], "RouteTable");
    assert_eq!(inv["volume/7a1c0001-vol"].doc.attributes["status"], "Active");
    let everything = inv.len();

    // 2. Same data again: nothing changes.
    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete);
    assert_eq!(r.stats.changes.unchanged as usize, everything);
    assert_eq!(r.stats.deactivated, 0);

    // 3. A malformed page mid-crawl (volumes, page 2): that scope fails, nothing is deactivated.
    fake.state().fault("volumes", false, FaultKind::Malformed, 10);
    let before = active(&inventory(&store).await?);
    let r = crawl(&store, &provider).await?;
    let vols = outcome(&r, "volumes-list");
    assert_eq!(vols.outcome, ScopeOutcome::Failed);
    assert!(vols.error.as_deref().unwrap_or("").contains("invalid JSON"), "{:?}", vols.error);
    assert_eq!(r.stats.deactivated, 0);
    assert_eq!(active(&inventory(&store).await?), before);
    fake.state().faults.clear();

    // 4. Throttled twice, then served: the pipeline's retry layer gets through.
    fake.state().fault("servers", false, FaultKind::Throttle, 2);
    fake.state().fault("networks", true, FaultKind::Unavailable, 1);
    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    assert_eq!(fake.state().applied.get("Throttle"), Some(&2));
    assert_eq!(fake.state().applied.get("Unavailable"), Some(&1));

    // 5. The token is revoked mid-crawl: one 401, a new token, the crawl completes.
    let auths = fake.state().auth_requests;
    fake.state().fault("ports", false, FaultKind::RevokeTokens, 1);
    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    assert_eq!(fake.state().auth_requests, auths + 1);

    // 6. A server and a volume are deleted between two crawls: exactly those are deactivated.
    assert!(fake.state().delete("servers", "5f1b0003-0c6e-4b4c-9d1b-2a1e0c9f0003"));
    assert!(fake.state().delete("volumes", "7a1c0004-vol"));
    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete);
    assert_eq!(r.stats.deactivated, 2);
    let inv = inventory(&store).await?;
    let inactive: Vec<&String> = inv.iter().filter(|(_, r)| !r.active).map(|(k, _)| k).collect();
    assert_eq!(inactive, ["server/5f1b0003-0c6e-4b4c-9d1b-2a1e0c9f0003", "volume/7a1c0004-vol"]);
    Ok(())
}

#[tokio::test]
async fn refused_credentials_fail_every_scope_clearly_and_deactivate_nothing() -> Result<()> {
    let fake = FakeOpenStack::start().await;
    let (_dir, store) = store().await?;
    let good = OpenStackProvider::new(TENANT, config(&fake))?;
    crawl(&store, &good).await?;
    let before = active(&inventory(&store).await?);
    let mut cfg = config(&fake);
    cfg.password = maestro_providers::rest::Secret::new("wrong password");
    let bad = OpenStackProvider::new(TENANT, cfg)?;
    let r = crawl(&store, &bad).await?;
    assert_eq!(r.status, RunStatus::Failed);
    for s in &r.scopes {
        assert_eq!(s.outcome, ScopeOutcome::Failed);
        let e = s.error.as_deref().unwrap_or("");
        assert!(e.contains("keystone refused the credentials of user `maestro`"), "{e}");
        assert!(!e.contains("wrong password"));
    }
    assert_eq!(active(&inventory(&store).await?), before);
    // Refused logins are not retried: one token request per scope at most.
    assert!(fake.state().auth_requests as usize <= 1 + r.scopes.len());
    Ok(())
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_use() -> Result<()> {
    let fake = FakeOpenStack::start().await;
    // Tokens live 30 s: within the one-minute margin, so every use asks for a new one.
    fake.state().token_ttl = 30;
    let mut cfg = config(&fake);
    cfg.tasks = Some(vec!["flavor-list".into()]);
    let p = OpenStackProvider::new(TENANT, cfg)?;
    let counts = assert_provider_contract(&p).await;
    assert_eq!(counts, [4]);
    let st = fake.state();
    let api_calls = st.log.iter().filter(|l| l.contains("/flavors/detail")).count();
    assert_eq!(st.auth_requests as usize, api_calls, "a fresh token for every call: {:#?}", st.log);
    assert!(st.log.iter().all(|l| !l.ends_with("401")));
    Ok(())
}
