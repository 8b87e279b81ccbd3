//! Exports of a placed business graph: GraphML and JSON node-link.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Value, json};

use crate::business::BusinessGraph;
use crate::error::{Error, Result};
use crate::grid::Grid;

const NODE_KEYS: [(&str, &str); 9] = [
    ("name", "string"),
    ("family", "string"),
    ("environment", "string"),
    ("root", "boolean"),
    ("weight", "int"),
    ("x", "int"),
    ("y", "int"),
    ("size", "int"),
    ("servers", "int"),
];

/// GraphML of the graph, with grid placement as node data (`x`, `y`, `size`).
///
/// # Errors
/// [`Error::Xml`] if writing fails.
pub fn to_graphml(g: &BusinessGraph, grid: &Grid, graph_id: &str) -> Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    let ev = |w: &mut Writer<Vec<u8>>, e: Event<'_>| w.write_event(e).map_err(Error::Xml);
    ev(&mut w, Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut root = BytesStart::new("graphml");
    root.push_attribute(("xmlns", "http://graphml.graphdrawing.org/xmlns"));
    ev(&mut w, Event::Start(root))?;
    for (k, t) in NODE_KEYS {
        let mut key = BytesStart::new("key");
        key.push_attribute(("id", format!("n_{k}").as_str()));
        key.push_attribute(("for", "node"));
        key.push_attribute(("attr.name", k));
        key.push_attribute(("attr.type", t));
        ev(&mut w, Event::Empty(key))?;
    }
    for (k, t) in [("endpoint", "string"), ("weight", "int")] {
        let mut key = BytesStart::new("key");
        key.push_attribute(("id", format!("e_{k}").as_str()));
        key.push_attribute(("for", "edge"));
        key.push_attribute(("attr.name", k));
        key.push_attribute(("attr.type", t));
        ev(&mut w, Event::Empty(key))?;
    }
    let mut gr = BytesStart::new("graph");
    gr.push_attribute(("id", graph_id));
    gr.push_attribute(("edgedefault", "directed"));
    ev(&mut w, Event::Start(gr))?;
    let data = |w: &mut Writer<Vec<u8>>, key: &str, v: &str| -> Result<()> {
        let mut d = BytesStart::new("data");
        d.push_attribute(("key", key));
        w.write_event(Event::Start(d)).map_err(Error::Xml)?;
        w.write_event(Event::Text(BytesText::new(v))).map_err(Error::Xml)?;
        w.write_event(Event::End(BytesEnd::new("data"))).map_err(Error::Xml)
    };
    for (i, n) in g.nodes().iter().enumerate() {
        let mut el = BytesStart::new("node");
        el.push_attribute(("id", n.app.id.as_str()));
        ev(&mut w, Event::Start(el))?;
        data(&mut w, "n_name", &n.app.name)?;
        if let Some(f) = &n.app.family {
            data(&mut w, "n_family", f)?;
        }
        if let Some(e) = &n.app.environment {
            data(&mut w, "n_environment", e)?;
        }
        data(&mut w, "n_root", if n.root { "true" } else { "false" })?;
        data(&mut w, "n_weight", &n.weight.to_string())?;
        if let Some(p) = grid.placement(i) {
            data(&mut w, "n_x", &p.x.to_string())?;
            data(&mut w, "n_y", &p.y.to_string())?;
            data(&mut w, "n_size", &p.size.to_string())?;
        }
        data(&mut w, "n_servers", &n.servers.len().to_string())?;
        ev(&mut w, Event::End(BytesEnd::new("node")))?;
    }
    for (i, e) in g.edges().into_iter().enumerate() {
        let mut el = BytesStart::new("edge");
        el.push_attribute(("id", format!("e{i}").as_str()));
        el.push_attribute(("source", g.nodes()[e.from].app.id.as_str()));
        el.push_attribute(("target", g.nodes()[e.to].app.id.as_str()));
        ev(&mut w, Event::Start(el))?;
        if let Some(ep) = &e.endpoint {
            data(&mut w, "e_endpoint", ep)?;
        }
        data(&mut w, "e_weight", &e.weight.to_string())?;
        ev(&mut w, Event::End(BytesEnd::new("edge")))?;
    }
    ev(&mut w, Event::End(BytesEnd::new("graph")))?;
    ev(&mut w, Event::End(BytesEnd::new("graphml")))?;
    String::from_utf8(w.into_inner()).map_err(|e| Error::Draw(e.to_string()))
}

/// JSON node-link document (the shape of networkx's `node_link_data`).
pub fn to_node_link(g: &BusinessGraph, grid: &Grid) -> Value {
    let nodes: Vec<Value> = g
        .nodes()
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let p = grid.placement(i);
            json!({
                "id": n.app.id,
                "name": n.app.name,
                "family": n.app.family,
                "root": n.root,
                "weight": n.weight,
                "x": p.map(|p| p.x),
                "y": p.map(|p| p.y),
                "size": p.map(|p| p.size),
                "servers": n.servers.len(),
            })
        })
        .collect();
    let links: Vec<Value> = g
        .edges()
        .into_iter()
        .map(|e| {
            json!({
                "source": g.nodes()[e.from].app.id,
                "target": g.nodes()[e.to].app.id,
                "endpoint": e.endpoint,
                "weight": e.weight,
            })
        })
        .collect();
    json!({"directed": true, "multigraph": false, "graph": {}, "nodes": nodes, "links": links})
}
