//! The Azure provider against a loopback Entra ID + ARM double (`support/fake_azure.rs`,
//! fixtures under `tests/fixtures/azure/`), through the real pipeline into a real SQLite file:
//! multi-page lists, refused credentials, token expiry and revocation, throttling, a malformed
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
use maestro_providers::azure::{AzureConfig, AzureProvider, translator};
use maestro_store::SqliteStore;
use support::fake_azure::{
    CLIENT_ID, CLIENT_SECRET, COLLECTIONS, FakeAzure, FaultKind, SUBSCRIPTION, TENANT_ID, fixture,
};

const TENANT: &str = "acme";
const CONN: &str = "azure-test";

fn config(fake: &FakeAzure) -> AzureConfig {
    let mut c = AzureConfig::new(CONN, TENANT_ID, CLIENT_ID, CLIENT_SECRET, SUBSCRIPTION);
    c.login_endpoint = fake.base.clone();
    c.management_endpoint = fake.base.clone();
    c.rate_limit = 0.0;
    c
}

async fn crawl(store: &Arc<SqliteStore>, provider: &AzureProvider) -> Result<RunReport> {
    let t = translator(CONN, "Azure test", false).map_err(anyhow::Error::msg)?;
    let cfg = PipelineConfig {
        scope_concurrency: 3,
        page_timeout: Duration::from_secs(30),
        retry: RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            jitter: 0.0,
        },
        ..PipelineConfig::default()
    };
    Ok(Pipeline::new(store.clone())
        .with_config(cfg)
        .run_and_record(RunJob { tenant: TENANT, connection: CONN, provider, translator: &t }, &NoObserver)
        .await?)
}

async fn inventory(store: &Arc<SqliteStore>) -> Result<BTreeMap<String, Resource>> {
    let mut out = BTreeMap::new();
    let mut page = PageRequest::first(10_000);
    loop {
        let p = store.list_resources(&ResourceFilter::tenant(TENANT), &page).await?;
        for r in p.items {
            let name = r.key.native_id.rsplit('/').next().unwrap_or("").to_string();
            out.insert(format!("{}/{name}", r.key.kind), r);
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    Ok(out)
}

fn total() -> usize {
    COLLECTIONS.iter().map(|(_, r)| fixture(r)["value"].as_array().unwrap().len()).sum()
}

async fn store() -> Result<(tempfile::TempDir, Arc<SqliteStore>)> {
    let dir = tempfile::tempdir()?;
    let s = SqliteStore::open(&format!("sqlite://{}", dir.path().join("maestro.db").display())).await?;
    Ok((dir, Arc::new(s)))
}

fn active(inv: &BTreeMap<String, Resource>) -> usize {
    inv.values().filter(|r| r.active).count()
}

#[tokio::test]
async fn provider_contract_holds_and_next_links_are_followed() {
    let fake = FakeAzure::start().await;
    let p = AzureProvider::new(TENANT, config(&fake)).unwrap();
    let counts = assert_provider_contract(&p).await;
    assert_eq!(counts.iter().sum::<usize>(), total());
    let st = fake.state();
    assert!(st.log.iter().any(|l| l.contains("/disks?api-version=2024-03-02&$skiptoken=4 -> 200")), "{:#?}", st.log);
    assert_eq!(st.token_requests, 1);
}

#[tokio::test]
async fn crawl_recrawl_delete_and_faults_through_the_pipeline() -> Result<()> {
    let fake = FakeAzure::start().await;
    let (_dir, store) = store().await?;
    let provider = AzureProvider::new(TENANT, config(&fake))?;

    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    let inv = inventory(&store).await?;
    assert_eq!(inv.len(), total());
    // VM IPs come from the NICs and public IPs, cpu/memory from the VM sizes.
    let web1 = &inv["server/web-1"].doc.attributes;
    assert_eq!(web1["ipv4_private"], "10.0.1.11");
    assert_eq!(web1["ipv4_public"], "20.86.10.1");
    assert_eq!((web1["cpu"].as_u64(), web1["memory"].as_f64()), (Some(2), Some(4.0)));
    assert_eq!(web1["os"]["base"], "Linux");
    assert_eq!(web1["datacenters"]["resource_group"], "rg-web");
    let db1 = &inv["server/db-1"].doc.attributes;
    assert_eq!(db1["ipv4_private"], "10.0.2.13");
    assert!(db1.get("ipv4_public").is_none());
    assert_eq!((db1["cpu"].as_u64(), db1["memory"].as_f64()), (Some(4), Some(32.0)));
    assert_eq!(inv["server/db-2"].doc.attributes["active"], false, "provisioning failed");
    assert_eq!(inv["volume/spare-data"].doc.attributes["status"], "Available");
    assert_eq!(inv["network/rt-web"].doc.attributes["family"], "RouteTables");
    let everything = inv.len();

    let r = crawl(&store, &provider).await?;
    assert_eq!(r.stats.changes.unchanged as usize, everything);

    // Throttled twice and a 503, then served.
    fake.state().fault("virtualMachines", false, FaultKind::Throttle, 2);
    fake.state().fault("disks", true, FaultKind::Unavailable, 1);
    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    assert_eq!(fake.state().applied.get("Throttle"), Some(&2));

    // The token is revoked mid-crawl: one 401, a new token, the crawl completes.
    let before = fake.state().token_requests;
    fake.state().fault("snapshots", false, FaultKind::RevokeTokens, 1);
    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    assert_eq!(fake.state().token_requests, before + 1);

    // A malformed second page of disks: that scope fails, nothing is deactivated.
    fake.state().fault("disks", false, FaultKind::Malformed, 10);
    let before = active(&inventory(&store).await?);
    let r = crawl(&store, &provider).await?;
    let s = r.scopes.iter().find(|s| s.scope.task == "volumes-list").unwrap();
    assert_eq!(s.outcome, ScopeOutcome::Failed);
    assert!(s.error.as_deref().unwrap_or("").contains("invalid JSON"), "{:?}", s.error);
    assert_eq!(r.stats.deactivated, 0);
    assert_eq!(active(&inventory(&store).await?), before);
    fake.state().faults.clear();

    // A VM and a route table are deleted: exactly those are deactivated.
    assert!(fake.state().delete("virtualMachines", "web-2"));
    assert!(fake.state().delete("routeTables", "rt-db"));
    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete);
    assert_eq!(r.stats.deactivated, 2);
    let inactive: Vec<String> =
        inventory(&store).await?.into_iter().filter(|(_, r)| !r.active).map(|(k, _)| k).collect();
    assert_eq!(inactive, ["network/rt-db", "server/web-2"]);
    Ok(())
}

#[tokio::test]
async fn refused_credentials_fail_every_scope_and_deactivate_nothing() -> Result<()> {
    let fake = FakeAzure::start().await;
    let (_dir, store) = store().await?;
    crawl(&store, &AzureProvider::new(TENANT, config(&fake))?).await?;
    let before = active(&inventory(&store).await?);
    let mut cfg = config(&fake);
    cfg.client_secret = maestro_providers::rest::Secret::new("not-the-secret");
    let r = crawl(&store, &AzureProvider::new(TENANT, cfg)?).await?;
    assert_eq!(r.status, RunStatus::Failed);
    for s in &r.scopes {
        let e = s.error.as_deref().unwrap_or("");
        assert!(e.contains("azure refused the client credentials") && e.contains("AADSTS7000215"), "{e}");
        assert!(!e.contains("not-the-secret"));
    }
    assert_eq!(active(&inventory(&store).await?), before);
    Ok(())
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_use() -> Result<()> {
    let fake = FakeAzure::start().await;
    fake.state().token_ttl = 30;
    let mut cfg = config(&fake);
    cfg.tasks = Some(vec!["images-list".into()]);
    let p = AzureProvider::new(TENANT, cfg)?;
    assert_eq!(assert_provider_contract(&p).await, [2]);
    let st = fake.state();
    let gets = st.log.iter().filter(|l| l.starts_with("GET")).count();
    assert_eq!(st.token_requests as usize, gets, "{:#?}", st.log);
    assert!(st.log.iter().all(|l| !l.ends_with("401")));
    Ok(())
}
