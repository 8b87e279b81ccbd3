//! Run with: cargo run -p maestro-graph --example doc_pictures -- <out-dir>
//!
//! Writes the pictures of `docs/graph.md` as SVG: `infra.svg` (the infra graph of the demo's
//! definition spanning the most zones), `network.svg` (a small synthetic estate with security
//! groups: the demo's `network.json` has none), and
//! `overlay.svg` (the demo's first business graph against a copy with one app removed, one
//! added and one changed). Convert with `rsvg-convert -o x.png x.svg`.

use std::path::PathBuf;

use maestro_graph::infra::{IngressRule, NetworkInventory, draw_layered, load_network_json, network_graph};
use maestro_graph::layered::LayeredOptions;
use maestro_graph::model::{App, GraphKind};
use maestro_graph::{InventorySource, build_graph, change_overlay, load_demo_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&out)?;
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/demo");
    let demo = load_demo_dir(&data)?;
    let def = demo.graphs.iter().find(|g| g.name.contains("Maestro Server")).unwrap_or(&demo.graphs[0]).clone();

    // The infra picture: the demo definition whose infra graph spans the most zones while
    // staying small enough to read.
    let mut best: Option<(usize, maestro_graph::InfraGraphResult, String)> = None;
    for d in &demo.graphs {
        let mut infra_def = d.clone();
        infra_def.kind = GraphKind::Infra;
        let Some(infra) = build_graph(&demo.inventory, &infra_def).infra else { continue };
        let zones = infra.graph.nodes.iter().filter(|n| n.kind == maestro_graph::infra::NodeKind::Zone).count();
        if infra.graph.nodes.len() <= 80 && best.as_ref().is_none_or(|b| zones > b.0) {
            best = Some((zones, infra, d.name.clone()));
        }
    }
    let (zones, infra, name) = best.ok_or("no infra graph of the demo is small enough")?;
    std::fs::write(out.join("infra.svg"), &infra.svg)?;
    println!(
        "infra.svg ({name}): {} nodes, {zones} zones, {} crossings",
        infra.graph.nodes.len(),
        infra.layout.crossings
    );

    // A small synthetic estate (the demo's network.json has no security groups): a production
    // VPC with public / app / data subnets, a shared VPC with a bastion, peered.
    let _demo_network = load_network_json(data.join("network.json"))?;
    let mut net = NetworkInventory::default();
    let s = |x: &str| x.to_string();
    net.vpcs = vec![(s("vpc-prod"), s("prod 10.0.0.0/16")), (s("vpc-shared"), s("shared 10.1.0.0/16"))];
    net.peerings = vec![(s("vpc-shared"), s("vpc-prod"))];
    let subnets = [
        ("sn-public", "public", "vpc-prod"),
        ("sn-app", "app", "vpc-prod"),
        ("sn-data", "data", "vpc-prod"),
        ("sn-tools", "tools", "vpc-shared"),
    ];
    net.subnets = subnets.iter().map(|(a, b, c)| (s(a), s(b), s(c))).collect();
    let hosts = [
        ("web", 3, "sn-public", "10.0.1", "sg-web"),
        ("app", 4, "sn-app", "10.0.2", "sg-app"),
        ("db", 2, "sn-data", "10.0.3", "sg-db"),
        ("bastion", 1, "sn-tools", "10.1.0", "sg-bastion"),
    ];
    for (name, n, subnet, net_prefix, sg) in hosts {
        for k in 1..=n {
            let id = format!("i-{name}{k}");
            net.instances.push((id.clone(), format!("{name}-{k}"), s(subnet)));
            net.private_ips.push((id.clone(), format!("{net_prefix}.{}", 10 + k)));
            net.secured_by.push((id, s(sg)));
        }
    }
    let rule = |g: &str, port: i64, from: &[&str], cidrs: &[&str]| IngressRule {
        group: g.into(),
        protocol: "tcp".into(),
        from_port: Some(port),
        to_port: Some(port),
        source_groups: from.iter().map(|s| s.to_string()).collect(),
        cidrs: cidrs.iter().map(|s| s.to_string()).collect(),
    };
    net.ingress = vec![
        rule("sg-web", 443, &[], &["0.0.0.0/0"]),
        rule("sg-app", 8080, &["sg-web"], &[]),
        rule("sg-db", 5432, &["sg-app"], &[]),
        rule("sg-app", 22, &[], &["10.1.0.0/16"]),
        rule("sg-db", 22, &[], &["10.1.0.0/16"]),
    ];
    let g = network_graph(&net);
    let l = g.layout(LayeredOptions::default());
    std::fs::write(out.join("network.svg"), draw_layered(&g, &l)?)?;
    println!("network.svg: {} nodes, {} links, {} crossings", g.nodes.len(), g.links.len(), l.crossings);

    let first = build_graph(&demo.inventory, &def).result.ok_or("the business graph did not build")?;
    let ids: Vec<String> = first.graph.nodes().iter().map(|n| n.app.id.clone()).collect();
    let mut after = demo.inventory.clone();
    let mut changed = after.app(&ids[1])?.ok_or("app")?;
    changed.language = Some("Rust".into());
    after.add_app(changed);
    let removed = ids.last().ok_or("no apps")?.clone();
    let mut parent = after.app(&ids[0])?.ok_or("app")?;
    parent.deps.retain(|d| d.id != removed);
    parent = parent.with_dep("new-cache", None);
    after.add_app(parent);
    after.add_app(App::new("new-cache", "New Cache"));
    let o = change_overlay(&demo.inventory, &after, &def);
    let r = o.job.result.ok_or("the overlay did not build")?;
    std::fs::write(out.join("overlay.svg"), &r.drawing.svg)?;
    println!("overlay.svg: marks {:?}", o.marks.nodes);
    Ok(())
}
