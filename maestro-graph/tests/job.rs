//! Job status mapping, escaping of user text, and defensive drawing.

mod common;

use common::parse;
use maestro_graph::error::Error;
use maestro_graph::model::{App, ClientRef, Server, System, SystemRef};
use maestro_graph::source::SystemFilter;
use maestro_graph::{
    GraphDefinition, GraphKind, InventorySource, JobStatus, MemoryInventory, Stage, build_business_graph,
};

fn def(apps: &[&str], systems: &[&str], kind: GraphKind) -> GraphDefinition {
    GraphDefinition {
        id: "g".into(),
        name: "g".into(),
        kind,
        clients: vec![],
        systems: systems.iter().map(|s| s.to_string()).collect(),
        apps: apps.iter().map(|s| s.to_string()).collect(),
    }
}

fn sys(id: &str) -> SystemRef {
    SystemRef { id: id.into(), name: id.into() }
}

#[test]
fn labels_and_tooltips_escape_markup() {
    let evil = r#"<script>alert("x")</script> & 'q'"#;
    let mut inv = MemoryInventory::new();
    let mut a = App::new(r#"a"&<id>"#, evil).with_dep("b", Some("<rest&>"));
    a.environment = Some("prod & <dev>".into());
    inv.add_app(a);
    inv.add_app(App::new("b", "b & \"c\""));
    let job = build_business_graph(&inv, &def(&[r#"a"&<id>"#], &[], GraphKind::Business));
    assert_eq!(job.status, JobStatus::Finished, "{}", job.msg);
    let svg = job.result.unwrap().drawing.svg;
    assert!(!svg.contains("<script"), "raw markup leaked");
    assert!(!svg.contains("<rest"), "raw endpoint leaked");
    assert!(svg.contains("&lt;script&gt;"));
    assert!(svg.contains("&amp;"));
    // the document parses and gives the original text back
    let els = parse(&svg);
    let label = els
        .iter()
        .find(|e| e.tag == "text" && e.attrs.contains_key("transform") && e.text.starts_with('<'))
        .expect("label");
    assert_eq!(label.text, "<script>al");
    let name = els
        .iter()
        .find(|e| e.tag == "tspan" && e.attrs["class"] == "name" && e.text.contains("script"))
        .expect("tooltip name");
    assert_eq!(name.text, evil);
    assert!(els.iter().any(|e| e.tag == "tspan" && e.text == "prod & <dev>"));
    assert!(els.iter().any(|e| e.attrs.get("data-id").map(String::as_str) == Some(r#"a"&<id>"#)));
    assert!(els.iter().any(|e| e.tag == "text" && e.text == "<rest&>"));
}

#[test]
fn missing_cpu_and_memory_are_drawn() {
    let mut inv = MemoryInventory::new();
    let mut a = App::new("a", "web");
    a.servers = vec!["s1".into(), "s2".into()];
    inv.add_app(a);
    inv.add_server(Server { id: "s1".into(), cpu: None, memory: None, ..Default::default() });
    inv.add_server(Server {
        id: "s2".into(),
        cpu: Some(2.0),
        memory: None,
        applications: vec!["a".into()],
        ..Default::default()
    });
    let job = build_business_graph(&inv, &def(&["a"], &[], GraphKind::Business));
    assert_eq!(job.status, JobStatus::Finished, "{}", job.msg);
    let r = job.result.unwrap();
    assert_eq!(r.info.servers_total, 2);
    let els = parse(&r.drawing.svg);
    let icons: Vec<_> = els
        .iter()
        .filter(|e| e.tag == "use" && e.attrs["xlink:href"].starts_with("#application."))
        .map(|e| e.attrs["xlink:href"].clone())
        .collect();
    // s2: 1.5·2 + 1 = 4 → medium; s1: 1.5 + 1 = 2.5 → micro; sorted by score desc
    assert_eq!(icons, vec!["#application.medium", "#application.micro"]);
}

#[test]
fn infra_definition_is_an_error() {
    let inv = MemoryInventory::new();
    let job = build_business_graph(&inv, &def(&["a"], &[], GraphKind::Infra));
    assert_eq!(job.status, JobStatus::Error);
    assert_eq!(job.stage, Stage::Definition);
    assert!(job.msg.contains("unsupported graph type"), "{}", job.msg);
}

#[test]
fn no_systems_is_an_error_and_no_entries_a_warning() {
    let mut inv = MemoryInventory::new();
    let job = build_business_graph(&inv, &def(&[], &["nope"], GraphKind::Business));
    assert_eq!((job.status, job.stage), (JobStatus::Error, Stage::Entry));
    inv.add_system(System { id: "s".into(), name: "s".into(), ..Default::default() });
    let job = build_business_graph(&inv, &def(&[], &["s"], GraphKind::Business));
    assert_eq!((job.status, job.stage), (JobStatus::Warning, Stage::Entry));
    let job = build_business_graph(&inv, &def(&["ghost"], &[], GraphKind::Business));
    assert_eq!((job.status, job.stage), (JobStatus::Warning, Stage::Lookup));
}

#[test]
fn systems_without_entries_fall_back_to_the_family_hierarchy() {
    let mut inv = MemoryInventory::new();
    inv.add_system(System {
        id: "s".into(),
        name: "s".into(),
        entry: vec![],
        clients: vec![ClientRef { id: "c".into(), name: "C".into() }],
    });
    let mut db = App::new("db", "db").with_family("Database");
    db.systems = vec![sys("s")];
    let mut ml = App::new("ml", "ml").with_family("MachineLearning");
    ml.systems = vec![sys("s")];
    let mut lb = App::new("lb", "lb").with_family("Loadbalance").with_dep("web", Some("http"));
    lb.systems = vec![sys("s")];
    let mut web = App::new("web", "web").with_family("Application").with_dep("db", Some("tcp"));
    web.systems = vec![sys("s")];
    for a in [db, ml, lb, web] {
        inv.add_app(a);
    }
    // by client → systems → fallback: the band [CDN, ApiGateway, Loadbalance] holds lb
    let mut d = def(&[], &[], GraphKind::Business);
    d.clients = vec!["c".into()];
    let job = build_business_graph(&inv, &d);
    assert_eq!(job.status, JobStatus::Finished, "{}", job.msg);
    let r = job.result.unwrap();
    assert_eq!(r.entries, vec!["lb".to_string()]);
    assert_eq!(r.graph.node_count(), 3);
    assert_eq!(r.info.clients.len(), 1);
    // a family outside the hierarchy (MachineLearning) does not fail
    let only_ml = maestro_graph::lookup::guess_entries(&[App::new("x", "x").with_family("MachineLearning")]);
    assert_eq!(only_ml, vec!["x".to_string()]);
}

struct Failing;

impl InventorySource for Failing {
    fn app(&self, _id: &str) -> maestro_graph::Result<Option<App>> {
        Err(Error::source_msg("database down"))
    }
    fn systems(&self, _f: &SystemFilter) -> maestro_graph::Result<Vec<System>> {
        Err(Error::source_msg("database down"))
    }
    fn apps_of_systems(&self, _ids: &[String]) -> maestro_graph::Result<Vec<App>> {
        Err(Error::source_msg("database down"))
    }
    fn servers_of_apps(&self, _ids: &[String]) -> maestro_graph::Result<Vec<Server>> {
        Err(Error::source_msg("database down"))
    }
}

#[test]
fn source_failures_are_errors_with_the_stage() {
    let job = build_business_graph(&Failing, &def(&["a"], &[], GraphKind::Business));
    assert_eq!((job.status, job.stage), (JobStatus::Error, Stage::Lookup));
    assert!(job.msg.contains("database down"), "{}", job.msg);
    let job = build_business_graph(&Failing, &def(&[], &[], GraphKind::Business));
    assert_eq!((job.status, job.stage), (JobStatus::Error, Stage::Entry));
}

#[test]
fn layout_is_deterministic() {
    let d = maestro_graph::load_demo_dir(common::data("demo")).unwrap();
    for g in &d.graphs {
        let a = build_business_graph(&d.inventory, g).result.unwrap().drawing.svg;
        let b = build_business_graph(&d.inventory, g).result.unwrap().drawing.svg;
        assert_eq!(a, b, "{}", g.id);
    }
}
