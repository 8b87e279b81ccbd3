//! The DigitalOcean provider against a loopback API double (`support/fake_digitalocean.rs`,
//! fixtures under `tests/fixtures/digitalocean/`), through the real pipeline into a real SQLite
//! file: multi-page lists, a refused token, throttling, a malformed page mid-crawl and a
//! deletion between two crawls.

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
use maestro_providers::digitalocean::{DigitalOceanConfig, DigitalOceanProvider, translator};
use maestro_store::SqliteStore;
use support::fake_digitalocean::{COLLECTIONS, FakeDigitalOcean, FaultKind, TOKEN, fixture};

const TENANT: &str = "acme";
const CONN: &str = "do-test";

fn config(fake: &FakeDigitalOcean) -> DigitalOceanConfig {
    let mut c = DigitalOceanConfig::new(CONN, TOKEN);
    c.endpoint = fake.base.clone();
    c.page_size = 2;
    c.rate_limit = 0.0;
    c
}

async fn crawl(store: &Arc<SqliteStore>, provider: &DigitalOceanProvider) -> Result<RunReport> {
    let t = translator(CONN, "DigitalOcean test", false).map_err(anyhow::Error::msg)?;
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
            out.insert(format!("{}/{}", r.key.kind, r.key.native_id), r);
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    Ok(out)
}

fn total() -> usize {
    COLLECTIONS.iter().map(|(_, k)| fixture(k)[*k].as_array().unwrap().len()).sum()
}

async fn store() -> Result<(tempfile::TempDir, Arc<SqliteStore>)> {
    let dir = tempfile::tempdir()?;
    let s = SqliteStore::open(&format!("sqlite://{}", dir.path().join("maestro.db").display())).await?;
    Ok((dir, Arc::new(s)))
}

#[tokio::test]
async fn provider_contract_holds_and_every_page_is_fetched() {
    let fake = FakeDigitalOcean::start().await;
    let p = DigitalOceanProvider::new(TENANT, config(&fake)).unwrap();
    let counts = assert_provider_contract(&p).await;
    assert_eq!(counts.iter().sum::<usize>(), total());
    let st = fake.state();
    // 5 droplets at 2 per page: pages 1, 2, 3 (+ page 1 again for the contract).
    let droplet_pages: Vec<&String> = st.log.iter().filter(|l| l.starts_with("/v2/droplets")).collect();
    assert_eq!(droplet_pages.len(), 4, "{droplet_pages:#?}");
    assert!(droplet_pages.iter().any(|l| l.contains("page=3&per_page=2")));
    assert!(st.log.iter().all(|l| !l.contains("/v2/images") || l.contains("private=true")));
}

#[tokio::test]
async fn crawl_recrawl_delete_and_faults_through_the_pipeline() -> Result<()> {
    let fake = FakeDigitalOcean::start().await;
    let (_dir, store) = store().await?;
    let provider = DigitalOceanProvider::new(TENANT, config(&fake))?;

    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    let inv = inventory(&store).await?;
    assert_eq!(inv.len(), total());
    let db = &inv["server/3164443"].doc.attributes;
    assert_eq!((db["cpu"].as_u64(), db["memory"].as_f64()), (Some(4), Some(8.0)));
    assert_eq!(db["ipv4_private"], "10.128.0.13");
    assert_eq!(db["ipv4_public"], "104.131.186.13");
    assert_eq!(db["role"], "db");
    assert_eq!(inv["server/3164445"].doc.attributes["active"], false, "archived droplet");
    assert_eq!(
        inv["application/bd5f5959-5e1e-4205-a714-a914373942a1"].doc.attributes["family"],
        "ContainerOrchestration"
    );
    assert_eq!(inv["application/19f06b6a-3ace-4315-b086-499a0e521531"].doc.attributes["family"], "CDN");
    assert_eq!(inv["network/bb4b2611-3d72-467b-8602-280330ecd651"].doc.attributes["family"], "Firewall");
    let everything = inv.len();

    let r = crawl(&store, &provider).await?;
    assert_eq!(r.stats.changes.unchanged as usize, everything);

    // Throttled twice and a 500 once, then served.
    fake.state().fault("droplets", 2, FaultKind::Throttle, 2);
    fake.state().fault("volumes", 1, FaultKind::ServerError, 1);
    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    assert_eq!(fake.state().applied.get("Throttle"), Some(&2));

    // A malformed page 2 of droplets: that scope fails, nothing is deactivated.
    fake.state().fault("droplets", 2, FaultKind::Malformed, 10);
    let before = inventory(&store).await?.values().filter(|r| r.active).count();
    let r = crawl(&store, &provider).await?;
    let s = r.scopes.iter().find(|s| s.scope.task == "server-list").unwrap();
    assert_eq!(s.outcome, ScopeOutcome::Failed);
    assert!(s.error.as_deref().unwrap_or("").contains("invalid JSON"), "{:?}", s.error);
    assert_eq!(r.stats.deactivated, 0);
    assert_eq!(inventory(&store).await?.values().filter(|r| r.active).count(), before);
    fake.state().faults.clear();

    // A droplet and a firewall are deleted: exactly those are deactivated.
    assert!(fake.state().delete("droplets", "3164442"));
    assert!(fake.state().delete("firewalls", "bb4b2611-3d72-467b-8602-280330ecd653"));
    let r = crawl(&store, &provider).await?;
    assert_eq!(r.status, RunStatus::Complete);
    assert_eq!(r.stats.deactivated, 2);
    let inactive: Vec<String> =
        inventory(&store).await?.into_iter().filter(|(_, r)| !r.active).map(|(k, _)| k).collect();
    assert_eq!(inactive, ["network/bb4b2611-3d72-467b-8602-280330ecd653", "server/3164442"]);
    Ok(())
}

#[tokio::test]
async fn a_refused_token_fails_every_scope_and_deactivates_nothing() -> Result<()> {
    let fake = FakeDigitalOcean::start().await;
    let (_dir, store) = store().await?;
    crawl(&store, &DigitalOceanProvider::new(TENANT, config(&fake))?).await?;
    let before = inventory(&store).await?.values().filter(|r| r.active).count();
    let mut cfg = config(&fake);
    cfg.token = maestro_providers::rest::Secret::new("dop_v1_revoked");
    let r = crawl(&store, &DigitalOceanProvider::new(TENANT, cfg)?).await?;
    assert_eq!(r.status, RunStatus::Failed);
    for s in &r.scopes {
        let e = s.error.as_deref().unwrap_or("");
        assert!(e.contains("DigitalOcean refused the API token"), "{e}");
        assert!(!e.contains("dop_v1_revoked"));
    }
    assert_eq!(inventory(&store).await?.values().filter(|r| r.active).count(), before);
    // Not retried: one request per scope.
    assert_eq!(fake.state().log.iter().filter(|l| l.ends_with("401")).count(), r.scopes.len());
    Ok(())
}
