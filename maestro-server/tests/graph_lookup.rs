//! The store-side graph lookup gives the same drawing as loading the whole tenant, for every
//! system, client and application of the demo import (real SQLite file, and PostgreSQL when
//! `DATABASE_URL` points at one).

use maestro_core::{Kind, PageRequest, Repository, ResourceFilter};
use maestro_graph::model::{GraphDefinition, GraphKind};
use maestro_server::graph::{load_inventory, load_inventory_for};

async fn native_ids(repo: &dyn Repository, kind: Kind) -> Vec<String> {
    let page = repo
        .list_resources(&ResourceFilter::tenant("demo").kind(kind).active(true), &PageRequest::first(1000))
        .await
        .expect("list");
    assert!(page.next.is_none());
    page.items.into_iter().map(|r| r.key.native_id).collect()
}

fn def(kind: GraphKind, apps: Vec<String>, systems: Vec<String>, clients: Vec<String>) -> GraphDefinition {
    GraphDefinition { id: "t".into(), name: "t".into(), kind, clients, systems, apps }
}

fn drawing(job: &maestro_graph::GraphJob) -> String {
    match (&job.result, &job.infra) {
        (Some(r), _) => r.drawing.svg.clone(),
        (None, Some(i)) => i.svg.clone(),
        (None, None) => format!("{:?} {:?} {}", job.status, job.stage, job.msg),
    }
}

#[tokio::test]
async fn subset_lookup_draws_what_the_whole_tenant_draws() {
    let dir = tempfile::tempdir().unwrap();
    maestro_server::commands::demo(dir.path(), &mut Vec::new()).await.expect("demo import");
    let db = format!("sqlite://{}", dir.path().join("maestro.db").display());
    let store = maestro_store::open(&db).await.expect("open");
    let full = load_inventory(&*store, "demo").await.expect("full inventory");

    let apps = native_ids(&*store, Kind::APPLICATION).await;
    let systems = native_ids(&*store, Kind::SYSTEM).await;
    let clients = native_ids(&*store, Kind::CLIENT).await;
    assert!(apps.len() > 40 && systems.len() > 10 && !clients.is_empty(), "demo import is incomplete");
    let mut defs = Vec::new();
    for a in &apps {
        defs.push(def(GraphKind::Business, vec![a.clone()], vec![], vec![]));
    }
    for s in &systems {
        defs.push(def(GraphKind::Business, vec![], vec![s.clone()], vec![]));
        defs.push(def(GraphKind::Infra, vec![], vec![s.clone()], vec![]));
    }
    for c in &clients {
        defs.push(def(GraphKind::Business, vec![], vec![], vec![c.clone()]));
    }
    let mut finished = 0;
    for d in &defs {
        let subset = load_inventory_for(&*store, "demo", d).await.expect("subset inventory");
        let want = maestro_graph::build_graph(&full, d);
        let got = maestro_graph::build_graph(&subset, d);
        assert_eq!(got.status, want.status, "status differs for {d:?}");
        assert_eq!(drawing(&got), drawing(&want), "drawing differs for {d:?}");
        if want.result.is_some() || want.infra.is_some() {
            finished += 1;
        }
    }
    // Most definitions must really draw something, or the comparison proves nothing.
    assert!(finished * 10 >= defs.len() * 8, "only {finished} of {} definitions drew a graph", defs.len());
}

fn prepared(
    kind: &str,
    id: &str,
    attrs: serde_json::Value,
    rels: &[(&str, &str, &str)],
) -> maestro_core::PreparedResource {
    let mut doc = maestro_core::Document { name: id.into(), ..Default::default() };
    doc.attributes = attrs.as_object().cloned().unwrap_or_default();
    for (rel, k, target) in rels {
        doc.relations.push(maestro_core::Relation::new(*rel, Kind::new(*k), *target));
    }
    let checksum = maestro_core::checksum::checksum_of(&serde_json::to_value(&doc).unwrap(), &[], "test");
    maestro_core::PreparedResource { kind: Kind::new(kind), native_id: id.into(), doc, checksum }
}

/// The network graph is drawn from what the AWS provider stores: VPCs, subnets, security
/// groups with ingress rules, instances with their subnet, address and groups.
#[tokio::test]
async fn network_graph_from_the_store_through_the_cli() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("net.db").display());
    let store = maestro_store::open(&db).await.expect("open");
    let items = vec![
        prepared("network", "vpc-1", json!({"family": "Vpc"}), &[]),
        prepared("network", "sn-a", json!({"family": "Subnet", "vpc_id": "vpc-1"}), &[("in_vpc", "network", "vpc-1")]),
        prepared("network", "sn-b", json!({"family": "Subnet", "vpc_id": "vpc-1"}), &[("in_vpc", "network", "vpc-1")]),
        prepared(
            "network",
            "sg-web",
            json!({"family": "SecurityGroup", "rules_ingress": [{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidrs": ["0.0.0.0/0"], "groups": []}]}),
            &[],
        ),
        prepared(
            "network",
            "sg-db",
            json!({"family": "SecurityGroup", "rules_ingress": [{"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidrs": [], "groups": ["sg-web"]}]}),
            &[],
        ),
        prepared(
            "server",
            "i-web",
            json!({"ipv4_private": "10.0.1.5"}),
            &[("in_subnet", "network", "sn-a"), ("secured_by", "network", "sg-web")],
        ),
        prepared(
            "server",
            "i-db",
            json!({"ipv4_private": "10.0.2.5"}),
            &[("in_subnet", "network", "sn-b"), ("secured_by", "network", "sg-db")],
        ),
    ];
    store
        .upsert_batch(maestro_core::repository::UpsertBatch {
            tenant: "acme",
            connection: "aws-prod",
            scope: "network-list@us-east-1",
            run_id: uuid::Uuid::now_v7(),
            at: chrono::Utc::now(),
            items: &items,
        })
        .await
        .expect("seed");
    let net = maestro_server::graph::load_network(&*store, "acme").await.expect("load network");
    assert_eq!((net.vpcs.len(), net.subnets.len(), net.instances.len(), net.ingress.len()), (1, 2, 2, 2));
    let svg = dir.path().join("net.svg");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["graph", "--database", &db, "--tenant", "acme", "--kind", "network", "--out"])
        .arg(&svg)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("1 VPCs, 2 subnets, 2 instances, 2 links"), "{stdout}");
    let drawing = std::fs::read_to_string(&svg).unwrap();
    assert!(drawing.contains(">tcp 5432 (1)<") && drawing.contains(">tcp 443 (1)<"), "{drawing}");
}

/// `maestro graph --before`: the demo's third import changes one application; the overlay
/// against the inventory before that change marks exactly it.
#[tokio::test]
async fn change_overlay_marks_the_changed_application() {
    let dir = tempfile::tempdir().unwrap();
    maestro_server::commands::demo(dir.path(), &mut Vec::new()).await.expect("demo import");
    let db = format!("sqlite://{}", dir.path().join("maestro.db").display());
    let store = maestro_store::open(&db).await.expect("open");
    let q = maestro_core::repository::HistoryQuery { tenant: "demo".into(), key: None, since: None, until: None };
    let changes = store.history(&q, &PageRequest::first(10_000)).await.expect("history").items;
    let updated: Vec<_> = changes
        .iter()
        .filter(|c| c.op == maestro_core::repository::ChangeOp::Updated && c.key.kind == Kind::APPLICATION)
        .collect();
    assert_eq!(updated.len(), 1, "the demo changes one application");
    let app = &updated[0].key.native_id;
    let before = updated[0].at - chrono::Duration::milliseconds(1);
    let svg = dir.path().join("overlay.svg");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["graph", "--database", &db, "--tenant", "demo", "--app", app, "--before", &before.to_rfc3339(), "--out"])
        .arg(&svg)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("applications: 0 added, 0 removed, 1 changed"), "{stdout}");
    assert!(stdout.contains(&format!("changed {app}")), "{stdout}");
    let drawing = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(drawing.matches("data-change=\"changed\"").count(), 1);
    assert!(drawing.contains("change-legend"));
}
