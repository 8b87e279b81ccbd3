//! All six graph definitions of the demo dataset build, lay out and draw; layout
//! invariants hold; the SVGs are snapshot-tested.

mod common;

use std::collections::HashSet;

use common::{data, numbers, parse};
use maestro_graph::svg::geometry::{Alloc, Kind, Projector, Side, anchor};
use maestro_graph::svg::icons::BOUNDARY_VISIBLE_H;
use maestro_graph::{
    BusinessGraphResult, DemoDataset, JobStatus, build_business_graph, load_demo_dir, to_graphml, to_node_link,
};

fn demo() -> DemoDataset {
    load_demo_dir(data("demo")).expect("demo dataset loads")
}

fn results() -> Vec<(String, BusinessGraphResult)> {
    let d = demo();
    d.graphs
        .iter()
        .map(|def| {
            let job = build_business_graph(&d.inventory, def);
            assert_eq!(job.status, JobStatus::Finished, "{}: {}", def.id, job.msg);
            (def.id.clone(), job.result.expect("result"))
        })
        .collect()
}

#[test]
fn demo_dataset_loads_with_resolved_refs() {
    let d = demo();
    assert_eq!(d.inventory.all_apps().len(), 54);
    assert_eq!(d.inventory.all_servers().len(), 279);
    assert_eq!(d.inventory.all_systems().len(), 13);
    assert_eq!(d.graphs.len(), 6);
    // deps.json has 26 source apps and 47 edges, plus one `root` key that names no app
    let edges: usize = d.inventory.all_apps().iter().map(|a| a.deps.len()).sum();
    assert_eq!(edges, 46);
    assert_eq!(d.warnings, vec!["deps: unknown source app `root`".to_string()]);
    let chatbot = d.graphs.iter().find(|g| g.name == "Serverless - ChatBot").unwrap();
    assert_eq!(chatbot.apps, vec!["chatbot-slack", "client-admin-chatbot"]);
}

#[test]
fn all_six_demo_graphs_satisfy_layout_invariants() {
    let rs = results();
    assert_eq!(rs.len(), 6);
    for (id, r) in &rs {
        let g = &r.graph;
        let grid = &r.grid;
        // every node placed, no two nodes share a cell (counting every row of a node)
        for n in 0..g.node_count() {
            assert!(grid.placement(n).is_some(), "{id}: node {n} unplaced");
        }
        let spans = grid.span_cells();
        assert!(spans.is_ok(), "{id}: overlapping nodes {spans:?}");
        // every edge drawn, from its source's front anchor to its target's back anchor
        assert_eq!(r.drawing.edges_drawn, g.edge_count(), "{id}");
        let els = parse(&r.drawing.svg);
        let pr = Projector { max_x: grid.max_x().unwrap() };
        let mut seen = HashSet::new();
        for (k, el) in els.iter().enumerate() {
            if el.tag != "g" || el.attrs.get("class").map(String::as_str) != Some("edge") {
                continue;
            }
            let (from, to) = (&el.attrs["data-from"], &el.attrs["data-to"]);
            if from == to {
                continue; // entry connector
            }
            let a = grid.placement(g.node_index(from).unwrap()).unwrap();
            let b = grid.placement(g.node_index(to).unwrap()).unwrap();
            let nums = numbers(&els[k + 1].attrs["d"]);
            let start = anchor(pr.proj(a.x, a.y, a.size), Alloc::Mid, Kind::Node, Side::Front, (0.0, 0.0));
            let end = anchor(pr.proj(b.x, b.y, b.size), Alloc::Mid, Kind::Node, Side::Back, (0.0, 0.0));
            assert!((nums[0] - start.0).abs() < 0.01 && (nums[1] - start.1).abs() < 0.01, "{id}: {from}->{to}");
            let n = nums.len();
            assert!((nums[n - 2] - end.0).abs() < 0.01 && (nums[n - 1] - end.1).abs() < 0.01, "{id}: {from}->{to}");
            seen.insert((from.clone(), to.clone()));
        }
        assert_eq!(seen.len(), g.edge_count(), "{id}: distinct edges drawn");
        // every node (its visible box) inside the canvas
        let (vx, vy, vw, vh) = r.drawing.view_box;
        assert_eq!(r.drawing.nodes.len(), g.node_count(), "{id}");
        for &(n, x, y) in &r.drawing.nodes {
            let inside = x >= vx - 0.01
                && x + 100.0 <= vx + vw + 0.01
                && y + 190.0 - BOUNDARY_VISIBLE_H >= vy - 0.01
                && y + 190.0 <= vy + vh + 0.01;
            assert!(inside, "{id}: node {n} at ({x}, {y}) outside {:?}", r.drawing.view_box);
        }
        // unique element ids
        let mut ids = HashSet::new();
        for el in &els {
            if let Some(i) = el.attrs.get("id") {
                assert!(ids.insert(i.clone()), "{id}: duplicate id {i}");
            }
        }
        // one style block, tooltips outside <defs>
        assert_eq!(els.iter().filter(|e| e.tag == "style").count(), 1, "{id}");
        let tooltips: Vec<_> =
            els.iter().filter(|e| e.attrs.get("class").map(String::as_str) == Some("tooltip")).collect();
        assert_eq!(tooltips.len(), g.node_count(), "{id}");
        assert!(tooltips.iter().all(|t| !t.in_defs), "{id}");
    }
}

#[test]
fn demo_maestro_server_metrics() {
    let rs = results();
    let (_, r) = rs.iter().find(|(id, _)| id == "graph-maestro-server-architecture").unwrap();
    let info = &r.info;
    assert_eq!(info.apps_total, 16);
    assert_eq!(info.connections, r.graph.edge_count());
    let expected = r.graph.edge_count() as f64 / (16.0 * 15.0);
    assert!((info.density - expected).abs() < 1e-12);
    assert_eq!(info.density_text, format!("{expected:.2}"));
    assert_eq!(info.histogram.values().sum::<usize>(), 16);
    assert_eq!(info.families.values().sum::<usize>(), 16);
    assert_eq!(info.families["Loadbalance"], 2);
    // servers are counted after enrichment: each app's servers from servers.json
    let expected_servers: usize = r.graph.nodes().iter().map(|n| n.servers.len()).sum();
    assert!(expected_servers > 0);
    assert_eq!(info.servers_total, expected_servers);
    // the Maestro systems all have the client "Maestro"
    assert_eq!(info.clients.len(), 1);
    assert_eq!(info.clients[0].name, "Maestro");
    let systems: HashSet<_> = info.systems.iter().map(|s| s.id.clone()).collect();
    assert_eq!(systems.len(), info.systems.len());
}

#[test]
fn demo_svg_snapshots() {
    for (id, r) in results() {
        insta::assert_snapshot!(format!("svg_{id}"), r.drawing.svg);
    }
}

#[test]
fn demo_grid_snapshots() {
    for (id, r) in results() {
        let text = r.grid.to_text(&|n| r.graph.nodes()[n].app.id.clone());
        insta::assert_snapshot!(format!("grid_{id}"), text);
    }
}

#[test]
fn demo_exports() {
    for (id, r) in results() {
        let gml = to_graphml(&r.graph, &r.grid, &id).unwrap();
        let els = parse(&gml);
        assert_eq!(els.iter().filter(|e| e.tag == "node").count(), r.graph.node_count());
        assert_eq!(els.iter().filter(|e| e.tag == "edge").count(), r.graph.edge_count());
        let nl = to_node_link(&r.graph, &r.grid);
        assert_eq!(nl["nodes"].as_array().unwrap().len(), r.graph.node_count());
        assert_eq!(nl["links"].as_array().unwrap().len(), r.graph.edge_count());
        for l in nl["links"].as_array().unwrap() {
            let s = l["source"].as_str().unwrap();
            assert!(r.graph.node_index(s).is_some());
        }
    }
}
