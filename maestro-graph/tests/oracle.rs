//! The drawing of the oracle's grid matches `oracle/analytics-graph.svg` (the real output
//! of the original drawer) structurally and numerically.

mod common;

use common::{El, assert_close, data, numbers, parse};
use maestro_graph::model::{App, DatacenterRef, Server};
use maestro_graph::{BusinessGraph, Cell, Grid, Placement, draw_business};
use serde_json::Value;

const TOL: f64 = 0.011;

fn dc(p: &Value) -> Option<DatacenterRef> {
    p.as_str().map(|p| DatacenterRef { name: p.to_string(), provider: Some(p.to_string()), ..Default::default() })
}

/// Graph + grid of the oracle, rebuilt from `tests/data/oracle-grid.json`.
fn oracle_grid() -> (BusinessGraph, Grid) {
    let text = std::fs::read_to_string(data("oracle-grid.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut g = BusinessGraph::default();
    let mut placements = Vec::new();
    for n in v["nodes"].as_array().unwrap() {
        let mut app = App::new(n["id"].as_str().unwrap(), n["name"].as_str().unwrap());
        app.family = n["family"].as_str().map(str::to_string);
        app.size = n["app_size"].as_str().map(str::to_string);
        app.datacenter = dc(&n["provider"]);
        let i = g.insert_node(app, n["root"].as_bool().unwrap());
        placements.push((
            i,
            Placement { x: n["x"].as_i64().unwrap(), y: n["y"].as_i64().unwrap(), size: n["size"].as_i64().unwrap() },
        ));
    }
    for e in v["edges"].as_array().unwrap() {
        let a = g.node_index(e["source"].as_str().unwrap()).unwrap();
        let b = g.node_index(e["target"].as_str().unwrap()).unwrap();
        g.insert_edge(a, b, 0, e["endpoint"].as_str().map(str::to_string));
    }
    g.compute_weights();
    for (k, n) in v["nodes"].as_array().unwrap().iter().enumerate() {
        let servers: Vec<Server> = n["servers"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(j, s)| Server {
                id: format!("{k}-{j}"),
                cpu: s["cpu"].as_f64(),
                memory: s["memory"].as_f64(),
                datacenter: dc(&s["provider"]),
                ..Default::default()
            })
            .collect();
        g.nodes_mut()[k].servers = servers;
    }
    let mut cells = Vec::new();
    for (i, p) in &placements {
        let _ = i;
        for r in 1..p.size {
            cells.push(((p.x, p.y + r), Cell::Grow));
        }
    }
    for d in v["dummies"].as_array().unwrap() {
        let c = match d["label"].as_str().unwrap() {
            "-f" => Cell::Force,
            "--" => Cell::Grow,
            _ => Cell::Dummy,
        };
        cells.push(((d["x"].as_i64().unwrap(), d["y"].as_i64().unwrap()), c));
    }
    let grid = Grid::from_parts(g.node_count(), &cells, &placements);
    (g, grid)
}

/// Body elements (outside `<defs>`, no tooltips / titles), grouped per node.
#[derive(Debug, Default)]
struct NodeRec {
    id: String,
    entry_path: Option<String>,
    entry_use: Option<El>,
    floor: Option<El>,
    base: Option<El>,
    icons: Vec<El>,
    label: Option<El>,
}

struct Body {
    svg: El,
    edges: Vec<(String, String)>, // (conn class, d)
    nodes: Vec<NodeRec>,
}

fn body(svg: &str, id_attr: &str) -> Body {
    let els = parse(svg);
    let root = els[0].clone();
    let mut edges = Vec::new();
    let mut nodes: Vec<NodeRec> = Vec::new();
    let mut cur = NodeRec::default();
    let mut pending_entry: Option<String> = None;
    let mut i = 0;
    let mut in_tooltips = false;
    while i < els.len() {
        let e = &els[i];
        if e.in_defs || e.tag == "defs" || e.tag == "svg" || e.tag == "title" {
            i += 1;
            continue;
        }
        if e.tag == "g" && e.attrs.get("id").map(String::as_str) == Some("tooltips") {
            in_tooltips = true;
        }
        if in_tooltips {
            i += 1;
            continue;
        }
        match e.tag.as_str() {
            "g" => {
                let d = els[i + 1].attrs["d"].clone();
                let class = els[i + 2].attrs["class"].clone();
                // an entry connector is followed by the `grid.entry` use
                let next_use = els[i + 1..].iter().find(|x| x.depth == e.depth && x.tag != "text");
                let is_entry = next_use
                    .map(|x| x.attrs.get("xlink:href").map(String::as_str) == Some("#grid.entry"))
                    .unwrap_or(false);
                if is_entry {
                    pending_entry = Some(d);
                } else {
                    edges.push((class, d));
                }
                i += 4;
                continue;
            }
            "use" => {
                let href = e.attrs["xlink:href"].as_str();
                match href {
                    "#grid.entry" => cur.entry_use = Some(e.clone()),
                    "#grid.base" => cur.base = Some(e.clone()),
                    "#boundaries_box.front" => cur.id = e.attrs[id_attr].clone(),
                    _ => cur.icons.push(e.clone()),
                }
            }
            "polyline" => {
                cur.floor = Some(e.clone());
                cur.entry_path = pending_entry.take();
            }
            "text" if e.attrs.contains_key("transform") => {
                cur.label = Some(e.clone());
                nodes.push(std::mem::take(&mut cur));
            }
            _ => {}
        }
        i += 1;
    }
    Body { svg: root, edges, nodes }
}

fn num_attr(e: &El, k: &str) -> f64 {
    e.attrs[k].parse().unwrap()
}

#[test]
fn spec_connector_g_3_4_is_reproduced_exactly() {
    let (g, grid) = oracle_grid();
    let d = draw_business(&g, &grid).unwrap();
    assert!(
        d.svg.contains(r#"d="M955.0 662.29 990.0 641.76 1015.0 627.09""#),
        "the SPEC §3.8 path of g#3-4 is missing"
    );
}

#[test]
fn drawing_of_the_oracle_grid_matches_the_oracle_svg() {
    let (g, grid) = oracle_grid();
    let mine = draw_business(&g, &grid).unwrap();
    let oracle_text = std::fs::read_to_string(data("analytics-graph.svg")).unwrap();
    let a = body(&mine.svg, "data-id");
    let b = body(&oracle_text, "id");

    // canvas
    for k in ["width", "height"] {
        assert_close(k, &[num_attr(&a.svg, k)], &[num_attr(&b.svg, k)], TOL);
    }
    assert_close("viewBox", &numbers(&a.svg.attrs["viewBox"]), &numbers(&b.svg.attrs["viewBox"]), TOL);

    // every dependency connector, in order
    assert_eq!(a.edges.len(), 19);
    assert_eq!(a.edges.len(), b.edges.len());
    for (k, ((_, da), (cb, db))) in a.edges.iter().zip(&b.edges).enumerate() {
        assert_close(&format!("edge {k} ({cb})"), &numbers(da), &numbers(db), TOL);
    }

    // every node: floor, tile, icons, label, entry marker and its connector
    assert_eq!(a.nodes.len(), 15);
    assert_eq!(b.nodes.len(), 15);
    let mut icons_compared = 0;
    for nb in &b.nodes {
        let na = a.nodes.iter().find(|n| n.id == nb.id).unwrap_or_else(|| panic!("node {}", nb.id));
        let what = |k: &str| format!("{} {k}", nb.id);
        assert_close(
            &what("floor"),
            &numbers(&na.floor.as_ref().unwrap().attrs["points"]),
            &numbers(&nb.floor.as_ref().unwrap().attrs["points"]),
            TOL,
        );
        for k in ["x", "y", "width", "height"] {
            assert_close(
                &what(&format!("base {k}")),
                &[num_attr(na.base.as_ref().unwrap(), k)],
                &[num_attr(nb.base.as_ref().unwrap(), k)],
                TOL,
            );
        }
        let (la, lb) = (na.label.as_ref().unwrap(), nb.label.as_ref().unwrap());
        assert_eq!(la.text, lb.text, "{}", what("label"));
        assert_close(&what("label transform"), &numbers(&la.attrs["transform"]), &numbers(&lb.attrs["transform"]), TOL);
        assert_eq!(na.entry_use.is_some(), nb.entry_use.is_some(), "{}", what("entry"));
        if let (Some(ea), Some(eb)) = (&na.entry_use, &nb.entry_use) {
            for k in ["x", "y"] {
                assert_close(&what("entry use"), &[num_attr(ea, k)], &[num_attr(eb, k)], TOL);
            }
            assert_close(
                &what("entry path"),
                &numbers(na.entry_path.as_ref().unwrap()),
                &numbers(nb.entry_path.as_ref().unwrap()),
                TOL,
            );
        }
        // app5 (no icon) and www3 (one icon in a 2×2 sub-grid) had server entries that
        // were not objects in the oracle's unknown input; the original skipped those. All
        // other nodes' icons are compared.
        if ["5bc8c4f839f34a229d490b76", "5be890af9150068433a0a53d"].contains(&nb.id.as_str()) {
            continue;
        }
        assert_eq!(na.icons.len(), nb.icons.len(), "{}", what("icon count"));
        for (ia, ib) in na.icons.iter().zip(&nb.icons) {
            assert_eq!(ia.attrs["xlink:href"], ib.attrs["xlink:href"], "{}", what("icon"));
            assert_eq!(ia.attrs["class"], ib.attrs["class"], "{}", what("icon class"));
            for k in ["x", "y", "width", "height"] {
                assert_close(&what(&format!("icon {k}")), &[num_attr(ia, k)], &[num_attr(ib, k)], TOL);
            }
            icons_compared += 1;
        }
    }
    assert_eq!(icons_compared, 14);
}
