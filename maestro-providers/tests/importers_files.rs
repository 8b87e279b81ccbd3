//! The `ansible` and `terraform` importers on sample files (`tests/fixtures/importers/`),
//! through the real pipeline into a real SQLite file, including malformed files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use maestro_core::testing::assert_provider_contract;
use maestro_core::{
    NoObserver, PageRequest, Pipeline, Repository, Resource, ResourceFilter, RunJob, RunReport, RunStatus, ScopeOutcome,
};
use maestro_providers::importers::{Format, ImportConfig, ImportProvider, translator};
use maestro_store::SqliteStore;

const TENANT: &str = "acme";

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/importers").join(name)
}

fn provider(format: Format, conn: &str, files: &[&str]) -> ImportProvider {
    let kind = if format == Format::Ansible { "ansible" } else { "terraform" };
    let cfg = ImportConfig::local(kind, conn, files.iter().map(|f| sample(f)).collect());
    ImportProvider::new(TENANT, format, cfg).expect("a local source always builds")
}

async fn crawl(store: &Arc<SqliteStore>, conn: &str, p: &ImportProvider) -> Result<RunReport> {
    let t = translator(conn, conn).map_err(anyhow::Error::msg)?;
    Ok(Pipeline::new(store.clone())
        .run_and_record(RunJob { tenant: TENANT, connection: conn, provider: p, translator: &t }, &NoObserver)
        .await?)
}

async fn inventory(store: &Arc<SqliteStore>) -> Result<BTreeMap<String, Resource>> {
    let p = store.list_resources(&ResourceFilter::tenant(TENANT), &PageRequest::first(10_000)).await?;
    Ok(p.items.into_iter().map(|r| (format!("{}/{}", r.key.kind, r.key.native_id), r)).collect())
}

async fn store() -> Result<(tempfile::TempDir, Arc<SqliteStore>)> {
    let dir = tempfile::tempdir()?;
    let s = SqliteStore::open(&format!("sqlite://{}", dir.path().join("maestro.db").display())).await?;
    Ok((dir, Arc::new(s)))
}

#[tokio::test]
async fn ansible_facts_become_servers_and_a_broken_file_is_named_with_its_position() -> Result<()> {
    let (_dir, store) = store().await?;
    let good = provider(Format::Ansible, "ansible", &["web-1.facts.json", "db-1.facts.json"]);
    assert_eq!(assert_provider_contract(&good).await, [2, 2], "server-list and volumes-list, one page per file");
    let r = crawl(&store, "ansible", &good).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    let inv = inventory(&store).await?;
    let web = &inv["server/4c4c4544004d3510804cb4c04f4e3232"];
    assert_eq!(web.doc.name, "web-1");
    let a = &web.doc.attributes;
    assert_eq!(a["ipv4_private"], "10.0.0.11");
    assert!(a.get("ipv4_public").is_none(), "the original's IPv6-as-public bug is not copied");
    assert_eq!(a["ipv6"], "fe80::1");
    assert_eq!((a["cpu"].as_u64(), a["memory"].as_f64()), (Some(2), Some(3.84)));
    assert_eq!(a["os"]["dist"], "Debian");
    assert_eq!(a["services"][0]["version"], "3.11.2");
    assert_eq!(a["auth"][0]["username"], "root");
    // Its block device: a volume attached to it, 41943040 sectors × 512 B = 20 GiB.
    let vda = &inv["volume/4c4c4544004d3510804cb4c04f4e3232:vda"];
    assert_eq!(vda.doc.name, "vda");
    assert_eq!(
        (vda.doc.attributes["size"].as_u64(), vda.doc.attributes["family"].as_str()),
        (Some(20), Some("AnsibleFacts"))
    );
    assert_eq!(vda.doc.attributes["attached_to"], "4c4c4544004d3510804cb4c04f4e3232");
    assert_eq!(inv.len(), 4, "two servers, two volumes: {:?}", inv.keys().collect::<Vec<_>>());

    // A malformed file: the scope fails naming the file, line and column; nothing deactivated.
    let bad = provider(Format::Ansible, "ansible", &["web-1.facts.json", "broken.facts.json"]);
    let r = crawl(&store, "ansible", &bad).await?;
    assert_eq!(r.status, RunStatus::Failed);
    let e = r.scopes[0].error.as_deref().unwrap_or("");
    assert!(e.contains("broken.facts.json") && e.contains("line 6 column 3"), "{e}");
    assert_eq!(inventory(&store).await?.values().filter(|r| r.active).count(), 4);

    // db-1 is no longer reported: exactly that server is deactivated.
    let r = crawl(&store, "ansible", &provider(Format::Ansible, "ansible", &["web-1.facts.json"])).await?;
    assert_eq!(r.stats.deactivated, 2);
    let inactive: Vec<String> =
        inventory(&store).await?.into_iter().filter(|(_, r)| !r.active).map(|(k, _)| k).collect();
    assert_eq!(inactive, ["server/9d0a1c2e3f4b5a6978877665544332211", "volume/9d0a1c2e3f4b5a6978877665544332211:vda"]);
    Ok(())
}

#[tokio::test]
async fn terraform_state_v4_becomes_servers_and_volumes_and_bad_states_are_named() -> Result<()> {
    let (_dir, store) = store().await?;
    let p = provider(Format::Terraform, "tf", &["terraform.tfstate"]);
    assert_eq!(assert_provider_contract(&p).await, [2, 5]);
    let r = crawl(&store, "tf", &p).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    let inv = inventory(&store).await?;
    assert_eq!(inv.len(), 7);
    let web = &inv["server/i-0a1b2c3d4e5f60701"];
    assert_eq!(web.doc.name, "web-1");
    assert_eq!(web.doc.attributes["ipv4_private"], "10.0.1.11");
    assert_eq!((web.doc.attributes["cpu"].as_u64(), web.doc.attributes["memory"].as_f64()), (Some(2), Some(4.0)));
    assert_eq!(web.doc.tags.get("environment").map(String::as_str), Some("production"));
    assert_eq!(web.doc.attributes["terraform"]["address"], "aws_instance.web[1]");
    assert_eq!(inv["volume/vol-0backup"].doc.attributes["family"], "TerraformTracked");
    assert_eq!(inv["volume/vol-0root1"].doc.name, "vol-0root1", "name falls back to the volume id");
    assert_eq!(inv["volume/vol-0data1"].doc.name, "web-1-data");

    for (file, needle) in [
        ("broken.tfstate", "broken.tfstate` line 4 column 48"),
        ("legacy-v3.tfstate", "legacy-v3.tfstate`: state format version 3 is not supported"),
    ] {
        let r = crawl(&store, "tf", &provider(Format::Terraform, "tf", &[file])).await?;
        assert_eq!(r.status, RunStatus::Failed);
        for s in &r.scopes {
            assert_eq!(s.outcome, ScopeOutcome::Failed);
            let e = s.error.as_deref().unwrap_or("");
            assert!(e.contains(needle), "{e}");
        }
        assert_eq!(inventory(&store).await?.values().filter(|r| r.active).count(), 7, "nothing deactivated");
    }
    Ok(())
}
