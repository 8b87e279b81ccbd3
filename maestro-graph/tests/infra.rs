//! Infra and network graphs with the layered layout.

mod common;

use common::{data, parse};
use maestro_graph::infra::{NodeKind, draw_layered, infra_graph, load_network_json, network_graph};
use maestro_graph::layered::LayeredOptions;
use maestro_graph::model::{App, DatacenterRef, Server};
use maestro_graph::{GraphDefinition, GraphKind, JobStatus, build_graph, load_demo_dir};

fn server(id: &str, zone: &str, apps: &[&str]) -> Server {
    Server {
        id: id.into(),
        name: format!("srv <{id}>"),
        datacenter: Some(DatacenterRef {
            name: "AWS".into(),
            provider: Some("AWS".into()),
            region: Some("us-east-1".into()),
            zone: Some(zone.into()),
        }),
        applications: apps.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn infra_graph_layers_and_aggregated_dependencies() {
    let apps = vec![
        App::new("web", "web").with_dep("api", None).with_dep("db", None),
        App::new("api", "api").with_dep("db", None),
        App::new("db", "db & co"),
    ];
    let servers = vec![
        server("s1", "us-east-1a", &["web"]),
        server("s2", "us-east-1a", &["api"]),
        server("s3", "us-east-1b", &["db"]),
    ];
    let g = infra_graph(&servers, &apps);
    let l = g.layout(LayeredOptions::default());
    for (i, n) in g.nodes.iter().enumerate() {
        let want = match n.kind {
            NodeKind::Datacenter => 0,
            NodeKind::Region => 1,
            NodeKind::Zone => 2,
            NodeKind::Server => 3,
            NodeKind::Application => 4,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(l.layer[i], want, "{}", n.id);
    }
    // web→db and api→db cross zones a→b: one aggregated link with count 2
    let za = g.node_index("zone:AWS/us-east-1/us-east-1a").unwrap();
    let zb = g.node_index("zone:AWS/us-east-1/us-east-1b").unwrap();
    assert_eq!(g.links, vec![(za, zb, 2)]);
    let svg = draw_layered(&g, &l).unwrap();
    let els = parse(&svg);
    assert_eq!(els.iter().filter(|e| e.tag == "polyline").count(), g.contains.len());
    assert!(els.iter().any(|e| e.tag == "text" && e.text == "db & co"));
    assert!(!svg.contains("<s1>"));
}

#[test]
fn demo_network_graph_lays_out_and_draws() {
    let net = load_network_json(data("demo/network.json")).unwrap();
    let g = network_graph(&net);
    assert!(g.nodes.iter().any(|n| n.kind == NodeKind::Subnet));
    let l = g.layout(LayeredOptions::default());
    assert_eq!(l.crossings, 0, "a containment forest needs no crossing");
    for (a, b) in &g.contains {
        assert_eq!(l.layer[*b], l.layer[*a] + 1);
    }
    let svg = draw_layered(&g, &l).unwrap();
    let els = parse(&svg);
    let root = &els[0];
    let w: f64 = root.attrs["width"].parse().unwrap();
    let h: f64 = root.attrs["height"].parse().unwrap();
    let rects: Vec<_> = els.iter().filter(|e| e.tag == "rect").collect();
    assert_eq!(rects.len(), g.nodes.len());
    for r in rects {
        let x: f64 = r.attrs["x"].parse().unwrap();
        let y: f64 = r.attrs["y"].parse().unwrap();
        assert!(x >= 0.0 && y >= 0.0 && x + 170.0 <= w && y + 34.0 <= h);
    }
    insta::assert_snapshot!("network_demo", svg);
}

#[test]
fn infra_job_for_a_demo_definition() {
    let d = load_demo_dir(data("demo")).unwrap();
    let def = GraphDefinition {
        kind: GraphKind::Infra,
        ..d.graphs.iter().find(|g| g.name == "Discovery - Architecture").unwrap().clone()
    };
    let job = build_graph(&d.inventory, &def);
    assert_eq!(job.status, JobStatus::Finished, "{}", job.msg);
    let r = job.infra.unwrap();
    // demo servers have no datacenter: one unknown datacenter/region/zone chain
    assert_eq!(r.graph.nodes.iter().filter(|n| n.kind == NodeKind::Datacenter).count(), 1);
    assert!(r.graph.nodes.iter().filter(|n| n.kind == NodeKind::Server).count() > 10);
    assert_eq!(r.layout.layers, 5);
    assert!(r.svg.starts_with("<svg"));
}

fn rule(
    group: &str,
    proto: &str,
    ports: (i64, i64),
    groups: &[&str],
    cidrs: &[&str],
) -> maestro_graph::infra::IngressRule {
    maestro_graph::infra::IngressRule {
        group: group.into(),
        protocol: proto.into(),
        from_port: Some(ports.0),
        to_port: Some(ports.1),
        source_groups: groups.iter().map(|s| s.to_string()).collect(),
        cidrs: cidrs.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn network_edges_come_from_security_group_rules_with_ports() {
    use maestro_graph::infra::{NetworkInventory, allowed_flows};
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    let t = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    let net = NetworkInventory {
        vpcs: vec![s("vpc-1", "main")],
        subnets: vec![t("sn-web", "web", "vpc-1"), t("sn-app", "app", "vpc-1"), t("sn-db", "db", "vpc-1")],
        instances: vec![
            t("i-web1", "web-1", "sn-web"),
            t("i-web2", "web-2", "sn-web"),
            t("i-app", "app-1", "sn-app"),
            t("i-db", "db-1", "sn-db"),
        ],
        peerings: vec![],
        secured_by: vec![s("i-web1", "sg-web"), s("i-web2", "sg-web"), s("i-app", "sg-app"), s("i-db", "sg-db")],
        private_ips: vec![
            s("i-web1", "10.0.1.10"),
            s("i-web2", "10.0.1.11"),
            s("i-app", "10.0.2.10"),
            s("i-db", "10.0.3.10"),
        ],
        ingress: vec![
            rule("sg-web", "tcp", (443, 443), &[], &["0.0.0.0/0"]),
            rule("sg-app", "tcp", (8080, 8080), &["sg-web"], &[]),
            rule("sg-db", "tcp", (5432, 5432), &[], &["10.0.2.0/24"]),
            rule("sg-db", "tcp", (22, 22), &["sg-nobody"], &[]),
        ],
    };
    let flows = allowed_flows(&net);
    assert_eq!(
        flows,
        vec![
            t("instance:i-app", "i-db", "tcp 5432"),
            t("instance:i-web1", "i-app", "tcp 8080"),
            t("instance:i-web2", "i-app", "tcp 8080"),
            t("internet", "i-web1", "tcp 443"),
            t("internet", "i-web2", "tcp 443"),
        ]
    );
    let g = network_graph(&net);
    let label_of = |a: &str, b: &str| {
        let (ia, ib) = (g.node_index(a).unwrap(), g.node_index(b).unwrap());
        let k =
            g.links.iter().position(|&(x, y, _)| x == ia && y == ib).unwrap_or_else(|| panic!("no link {a} -> {b}"));
        (g.links[k].2, g.link_labels[k].clone())
    };
    // Aggregated between subnets (the internet is its own group), ports on the label.
    assert_eq!(label_of("internet", "subnet:sn-web"), (2, "tcp 443 (2)".to_string()));
    assert_eq!(label_of("subnet:sn-web", "subnet:sn-app"), (2, "tcp 8080 (2)".to_string()));
    assert_eq!(label_of("subnet:sn-app", "subnet:sn-db"), (1, "tcp 5432 (1)".to_string()));
    assert_eq!(g.links.len(), 3);
    let svg = draw_layered(&g, &g.layout(LayeredOptions::default())).unwrap();
    assert!(svg.contains(">tcp 8080 (2)<") && svg.contains(">Internet<"), "{svg}");
}
