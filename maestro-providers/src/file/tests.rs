use std::sync::Arc;

use maestro_core::testing::{MemoryRepository, assert_provider_contract};
use maestro_core::{
    Kind, NoObserver, PageRequest, Pipeline, Provider, Repository, ResourceFilter, ResourceKey, RunJob, RunStatus,
    ScopeOutcome, Translator,
};
use serde_json::json;

use super::*;

fn demo_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/demo-inventory.json")
}

fn config(paths: Vec<std::path::PathBuf>) -> FileConfig {
    FileConfig { page_size: 50, ..FileConfig::new("files", paths) }
}

#[tokio::test]
async fn demo_dataset_passes_the_provider_contract() {
    let p = FileProvider::new("t", config(vec![demo_path()]));
    let counts = assert_provider_contract(&p).await;
    // applications, clients, datacenters, networks, servers, systems (BTreeMap order)
    assert_eq!(counts, vec![54, 3, 5, 35, 279, 13]);
}

#[tokio::test]
async fn demo_import_creates_every_resource_with_relations() {
    let repo = Arc::new(MemoryRepository::new());
    let p = FileProvider::new("t", config(vec![demo_path()]));
    let report = Pipeline::new(repo.clone())
        .run(RunJob { tenant: "t", connection: "files", provider: &p, translator: &FileTranslator }, &NoObserver)
        .await;
    assert_eq!(report.status, RunStatus::Complete, "{report:#?}");
    assert_eq!(report.stats.changes.created, 54 + 3 + 5 + 35 + 279 + 13);
    let web = repo
        .get_resource(&ResourceKey::new("t", "files", Kind::APPLICATION, "WebClient SPA Maestro"))
        .await
        .unwrap()
        .expect("application imported by name");
    assert!(
        web.doc.relations.iter().any(|r| r.rel == "depends_on" && r.native_id == "lb-server-maestro-prd"),
        "{:?}",
        web.doc.relations
    );
    let servers =
        repo.list_resources(&ResourceFilter::tenant("t").kind(Kind::SERVER), &PageRequest::first(1000)).await.unwrap();
    assert_eq!(servers.items.len(), 279);
    let lb = servers.items.iter().find(|s| s.key.native_id == "i-b3df0f6c3d5ae60c5").expect("server by unique_id");
    assert_eq!(lb.doc.tags.get("Name").map(String::as_str), Some("lb"));
    assert_eq!(lb.doc.attributes["ipv4_private"], json!("10.1.161.175"));
    assert!(lb.doc.relations.iter().any(|r| r.rel == "runs" && r.native_id == "WebClient SPA Maestro"));
}

#[tokio::test]
async fn malformed_file_fails_its_scopes_naming_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"servers\": [\n  {\"name\": \"a\",}\n]}").unwrap();
    let p = FileProvider::new("t", config(vec![bad.clone()]));
    let err = p.scopes().await.unwrap_err();
    assert!(err.message.contains("bad.json") && err.message.contains("line 2"), "{}", err.message);
    let bad_yaml = dir.path().join("bad.yaml");
    std::fs::write(&bad_yaml, "servers:\n  - name: a\n   bad: [\n").unwrap();
    let p = FileProvider::new("t", config(vec![bad_yaml]));
    let err = p.scopes().await.unwrap_err();
    assert!(err.message.contains("bad.yaml") && err.message.contains("line"), "{}", err.message);
}

#[tokio::test]
async fn yaml_and_single_entity_files() {
    let dir = tempfile::tempdir().unwrap();
    let y = dir.path().join("inv.yml");
    std::fs::write(&y, "servers:\n  - name: web\n    ipv4_private: 10.0.0.1\n    tags: {env: prod}\n").unwrap();
    let a = dir.path().join("vols.json");
    std::fs::write(&a, r#"[{"unique_id": "vol-1", "name": "data", "size": 0, "encrypted": false}]"#).unwrap();
    let p = FileProvider::new("t", config(vec![y]));
    let scopes = p.scopes().await.unwrap();
    assert_eq!(scopes.len(), 1);
    let page = p.fetch_page(&scopes[0], None).await.unwrap();
    let drafts = FileTranslator.translate(&scopes[0], &page.items[0]).unwrap();
    assert_eq!(drafts[0].native_id, "10.0.0.1", "servers without unique_id fall back to ipv4_private");
    assert_eq!(drafts[0].doc.tags["env"], "prod");
    let p = FileProvider::new("t", FileConfig { entity: Some("volumes".into()), ..config(vec![a]) });
    let scopes = p.scopes().await.unwrap();
    let page = p.fetch_page(&scopes[0], None).await.unwrap();
    let d = FileTranslator.translate(&scopes[0], &page.items[0]).unwrap();
    assert_eq!(d[0].kind, Kind::VOLUME);
    assert_eq!(d[0].doc.attributes["encrypted"], json!(false), "falsy values are kept");
    assert_eq!(d[0].doc.attributes["size"], json!(0));
}

#[tokio::test]
async fn item_without_identity_makes_the_scope_partial_and_deactivates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("inv.json");
    std::fs::write(&f, r#"{"servers": [{"unique_id": "i-1", "name": "a"}, {"unique_id": "i-2", "name": "b"}]}"#)
        .unwrap();
    let repo = Arc::new(MemoryRepository::new());
    let p = FileProvider::new("t", config(vec![f.clone()]));
    let job = || RunJob { tenant: "t", connection: "files", provider: &p, translator: &FileTranslator };
    Pipeline::new(repo.clone()).run(job(), &NoObserver).await;
    // Second run: i-2 removed, and one item has no identity at all.
    std::fs::write(&f, r#"{"servers": [{"unique_id": "i-1", "name": "a"}, {"os": "linux"}]}"#).unwrap();
    let report = Pipeline::new(repo.clone()).run(job(), &NoObserver).await;
    assert_eq!(report.scopes[0].outcome, ScopeOutcome::Partial);
    assert_eq!(report.stats.deactivated, 0);
    assert!(report.scopes[0].item_errors[0].contains("has no identity"), "{:?}", report.scopes[0].item_errors);
    assert!(
        report.scopes[0].item_errors[0].contains("t/files/servers"),
        "names the scope: {:?}",
        report.scopes[0].item_errors
    );
    let b = repo.get_resource(&ResourceKey::new("t", "files", Kind::SERVER, "i-2")).await.unwrap().unwrap();
    assert!(b.active, "a partial scope deactivates nothing");
    // Third run: clean file without i-2 → exactly i-2 deactivated.
    std::fs::write(&f, r#"{"servers": [{"unique_id": "i-1", "name": "a"}]}"#).unwrap();
    let report = Pipeline::new(repo.clone()).run(job(), &NoObserver).await;
    assert_eq!(report.status, RunStatus::Complete);
    assert_eq!(report.stats.deactivated, 1);
    assert!(!repo.get_resource(&ResourceKey::new("t", "files", Kind::SERVER, "i-2")).await.unwrap().unwrap().active);
}

#[test]
fn config_reports_every_problem_with_its_path() {
    let mut e = maestro_core::ConfigErrors::new();
    let cfg = FileConfig { entity: Some("cars".into()), page_size: 0, ..FileConfig::new(" ", vec!["a.txt".into()]) };
    assert!(!cfg.validate("sources[1]", &mut e));
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec!["sources[1].connection", "sources[1].paths[0]", "sources[1].entity", "sources[1].page_size"]
    );
}
