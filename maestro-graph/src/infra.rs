//! Infrastructure and network graphs, drawn with the layered layout of
//! [`crate::layered`]:
//!
//! * **infra**: datacenter → region → zone → server → application containment; the
//!   dependencies between applications are aggregated into zone → zone edges (with a
//!   count) drawn on top of the containment tree;
//! * **network**: VPC → subnet → instance containment, VPC peerings drawn as dashed
//!   links.
//!
//! Node ids are `dc:`, `region:`, `zone:`, `server:`, `app:`, `vpc:`, `subnet:`,
//! `instance:` + the source id. Deterministic: nodes and edges in first-seen order.

use std::collections::HashMap;
use std::path::Path;

use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::layered::{LayeredLayout, LayeredOptions, aggregate_edges, layered_layout};
use crate::model::{App, Server};
use crate::svg::geometry::fmt_num;

/// Kind of a node of an infra or network graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// Datacenter.
    Datacenter,
    /// Region.
    Region,
    /// Availability zone.
    Zone,
    /// Server.
    Server,
    /// Application.
    Application,
    /// VPC.
    Vpc,
    /// Subnet.
    Subnet,
    /// Instance (network interface attachment).
    Instance,
}

/// A node.
#[derive(Debug, Clone, Serialize)]
pub struct LNode {
    /// Id (prefixed by kind).
    pub id: String,
    /// Label.
    pub label: String,
    /// Kind.
    pub kind: NodeKind,
    /// Group (index of the zone or subnet node that contains it), if any.
    pub group: Option<usize>,
}

/// A graph laid out in layers: containment edges plus extra links.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LayeredGraph {
    /// Nodes, first-seen order.
    pub nodes: Vec<LNode>,
    /// Containment edges `(parent, child)` (these drive the layout).
    pub contains: Vec<(usize, usize)>,
    /// Extra links (`(a, b, count)`): aggregated dependencies or peerings; not used for
    /// layering.
    pub links: Vec<(usize, usize, usize)>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl LayeredGraph {
    fn node(&mut self, id: String, label: &str, kind: NodeKind) -> usize {
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        self.index.insert(id.clone(), self.nodes.len());
        self.nodes.push(LNode { id, label: label.to_string(), kind, group: None });
        self.nodes.len() - 1
    }

    fn contain(&mut self, a: usize, b: usize) {
        if !self.contains.contains(&(a, b)) {
            self.contains.push((a, b));
        }
    }

    /// Index of a node by id.
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Lay the containment edges out.
    pub fn layout(&self, opt: LayeredOptions) -> LayeredLayout {
        layered_layout(self.nodes.len(), &self.contains, opt)
    }
}

/// Build the infra graph of `servers` and the `apps` they run.
///
/// Servers without datacenter/region/zone go under `unknown ...` nodes. An app's group is
/// the zone of the first server that runs it; dependencies between apps of different
/// zones are aggregated into zone → zone links with a count.
pub fn infra_graph(servers: &[Server], apps: &[App]) -> LayeredGraph {
    let mut g = LayeredGraph::default();
    let by_id: HashMap<&str, &App> = apps.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut app_nodes: Vec<(usize, &App)> = Vec::new();
    for s in servers {
        let dc = s.datacenter.as_ref();
        let dc_name = dc.map_or("unknown datacenter", |d| d.name.as_str());
        let region = dc.and_then(|d| d.region.as_deref()).unwrap_or("unknown region");
        let zone = dc.and_then(|d| d.zone.as_deref()).unwrap_or("unknown zone");
        let d = g.node(format!("dc:{dc_name}"), dc_name, NodeKind::Datacenter);
        let r = g.node(format!("region:{dc_name}/{region}"), region, NodeKind::Region);
        let z = g.node(format!("zone:{dc_name}/{region}/{zone}"), zone, NodeKind::Zone);
        let label = if s.name.is_empty() { s.id.as_str() } else { s.name.as_str() };
        let sv = g.node(format!("server:{}", s.id), label, NodeKind::Server);
        g.nodes[sv].group = Some(z);
        g.contain(d, r);
        g.contain(r, z);
        g.contain(z, sv);
        for a in &s.applications {
            if let Some(app) = by_id.get(a.as_str()) {
                let known = g.node_index(&format!("app:{a}")).is_some();
                let an = g.node(format!("app:{a}"), &app.name, NodeKind::Application);
                if !known {
                    g.nodes[an].group = Some(z);
                    app_nodes.push((an, app));
                }
                g.contain(sv, an);
            }
        }
    }
    let mut deps = Vec::new();
    for (an, app) in &app_nodes {
        for d in &app.deps {
            if let Some(b) = g.node_index(&format!("app:{}", d.id)) {
                deps.push((*an, b));
            }
        }
    }
    let groups: Vec<Option<usize>> = g.nodes.iter().map(|n| n.group).collect();
    g.links = aggregate_edges(&deps, &|v| groups[v]);
    g
}

/// A network inventory: VPCs, subnets, instances, peerings.
#[derive(Debug, Clone, Default)]
pub struct NetworkInventory {
    /// `(vpc id, name)`.
    pub vpcs: Vec<(String, String)>,
    /// `(subnet id, name, vpc id)`.
    pub subnets: Vec<(String, String, String)>,
    /// `(instance id, name, subnet id)`.
    pub instances: Vec<(String, String, String)>,
    /// `(vpc id, vpc id)` peerings.
    pub peerings: Vec<(String, String)>,
}

/// Load a network inventory from a demo `network.json` (families `Vpc`, `Subnet`,
/// `NetworkInterfaces`, `VpcPeering`).
///
/// # Errors
/// [`Error::Io`] / [`Error::Json`].
pub fn load_network_json(path: impl AsRef<Path>) -> Result<NetworkInventory> {
    let path = path.as_ref();
    let text =
        std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
    let v: Value =
        serde_json::from_str(&text).map_err(|source| Error::Json { what: path.display().to_string(), source })?;
    let s = |x: &Value, k: &str| x.get(k).and_then(Value::as_str).map(str::to_string);
    let mut net = NetworkInventory::default();
    for item in v.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let name = s(item, "name").unwrap_or_default();
        match s(item, "family").as_deref() {
            Some("Vpc") => {
                let id = s(item, "unique_id").or_else(|| s(item, "vpc_id")).unwrap_or(name.clone());
                net.vpcs.push((id, name));
            }
            Some("Subnet") => {
                let id = s(item, "unique_id").or_else(|| s(item, "subnet_id")).unwrap_or(name.clone());
                net.subnets.push((id, name, s(item, "vpc_id").unwrap_or_default()));
            }
            Some("NetworkInterfaces") => {
                let inst = item
                    .get("attachment")
                    .and_then(|a| a.get("InstanceId"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or(name.clone());
                net.instances.push((inst, name, s(item, "subnet_id").unwrap_or_default()));
            }
            Some("VpcPeering") => {
                let a = item.get("requester_vpc_info").and_then(|x| s(x, "VpcId"));
                let b = item.get("accepter_vpc_info").and_then(|x| s(x, "VpcId"));
                if let (Some(a), Some(b)) = (a, b) {
                    net.peerings.push((a, b));
                }
            }
            _ => {}
        }
    }
    Ok(net)
}

/// Build the network graph. Subnets and instances whose parent is unknown get an implied
/// parent node labelled with the referenced id.
pub fn network_graph(net: &NetworkInventory) -> LayeredGraph {
    let mut g = LayeredGraph::default();
    for (id, name) in &net.vpcs {
        g.node(format!("vpc:{id}"), name, NodeKind::Vpc);
    }
    for (id, name, vpc) in &net.subnets {
        let v = g.node(format!("vpc:{vpc}"), vpc, NodeKind::Vpc);
        let sn = g.node(format!("subnet:{id}"), name, NodeKind::Subnet);
        g.contain(v, sn);
    }
    for (id, name, subnet) in &net.instances {
        let sn = g.node(format!("subnet:{subnet}"), subnet, NodeKind::Subnet);
        let i = g.node(format!("instance:{id}"), name, NodeKind::Instance);
        g.nodes[i].group = Some(sn);
        g.contain(sn, i);
    }
    let mut links = Vec::new();
    for (a, b) in &net.peerings {
        let x = g.node(format!("vpc:{a}"), a, NodeKind::Vpc);
        let y = g.node(format!("vpc:{b}"), b, NodeKind::Vpc);
        links.push((x, y, 1));
    }
    g.links = links;
    g
}

const NODE_W: f64 = 170.0;
const NODE_H: f64 = 34.0;

fn kind_fill(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Datacenter | NodeKind::Vpc => "#1566bf",
        NodeKind::Region => "#7396bc",
        NodeKind::Zone | NodeKind::Subnet => "#f58536",
        NodeKind::Server | NodeKind::Instance => "#5b5b5b",
        NodeKind::Application => "#672064",
    }
}

/// Draw a laid-out graph as a plain (non-isometric) SVG: boxes per node, containment
/// edges as polylines, links as dashed lines with their count.
///
/// # Errors
/// [`Error::Xml`] if writing fails.
pub fn draw_layered(g: &LayeredGraph, l: &LayeredLayout) -> Result<String> {
    let margin = 20.0;
    let (mut x1, mut y1) = (0.0f64, 0.0f64);
    for p in &l.pos {
        x1 = x1.max(p.0 + NODE_W);
        y1 = y1.max(p.1 + NODE_H);
    }
    let (w, h) = (x1 + 2.0 * margin, y1 + 2.0 * margin);
    let mut wr = Writer::new(Vec::new());
    let mut ev = |e: Event<'_>| wr.write_event(e).map_err(Error::Xml);
    let el = |tag: &str, attrs: &[(&str, String)]| {
        let mut b = BytesStart::new(tag.to_string());
        for (k, v) in attrs {
            b.push_attribute((*k, v.as_str()));
        }
        b
    };
    ev(Event::Start(el(
        "svg",
        &[
            ("xmlns", "http://www.w3.org/2000/svg".into()),
            ("width", fmt_num(w)),
            ("height", fmt_num(h)),
            ("viewBox", format!("0,0,{},{}", fmt_num(w), fmt_num(h))),
        ],
    )))?;
    ev(Event::Start(el("defs", &[])))?;
    ev(Event::Start(el(
        "marker",
        &[
            ("id", "arrow".into()),
            ("markerWidth", "8".into()),
            ("markerHeight", "8".into()),
            ("refX", "9".into()),
            ("refY", "5".into()),
            ("viewBox", "0,0,10,10".into()),
            ("orient", "auto".into()),
        ],
    )))?;
    ev(Event::Empty(el("path", &[("d", "M0 0 10 5 0 10z".into())])))?;
    ev(Event::End(BytesEnd::new("marker")))?;
    ev(Event::End(BytesEnd::new("defs")))?;
    let tx = |p: (f64, f64)| (p.0 + margin, p.1 + margin);
    for (i, path) in l.paths.iter().enumerate() {
        if path.len() < 2 {
            continue;
        }
        let mut pts: Vec<(f64, f64)> = path.iter().map(|&p| tx(p)).collect();
        let last = pts.len() - 1;
        pts[0].0 += NODE_W / 2.0;
        pts[last].0 -= NODE_W / 2.0;
        let d = pts
            .iter()
            .map(|p| format!("{},{}", fmt_num(p.0 + NODE_W / 2.0), fmt_num(p.1 + NODE_H / 2.0)))
            .collect::<Vec<_>>()
            .join(" ");
        ev(Event::Empty(el(
            "polyline",
            &[
                ("id", format!("edge-{i}")),
                ("points", d),
                ("fill", "none".into()),
                ("stroke", "#888".into()),
                ("marker-end", "url(#arrow)".into()),
            ],
        )))?;
    }
    for (k, &(a, b, c)) in g.links.iter().enumerate() {
        let (pa, pb) = (tx(l.pos[a]), tx(l.pos[b]));
        let (ax, ay) = (pa.0 + NODE_W / 2.0, pa.1 + NODE_H / 2.0);
        let (bx, by) = (pb.0 + NODE_W / 2.0, pb.1 + NODE_H / 2.0);
        ev(Event::Start(el("g", &[("id", format!("link-{k}")), ("class", "link".into())])))?;
        ev(Event::Empty(el(
            "line",
            &[
                ("x1", fmt_num(ax)),
                ("y1", fmt_num(ay)),
                ("x2", fmt_num(bx)),
                ("y2", fmt_num(by)),
                ("stroke", "#c4692c".into()),
                ("stroke-dasharray", "6 4".into()),
                ("stroke-width", fmt_num(1.0 + (c as f64).ln_1p())),
                ("marker-end", "url(#arrow)".into()),
            ],
        )))?;
        ev(Event::Start(el(
            "text",
            &[
                ("x", fmt_num((ax + bx) / 2.0)),
                ("y", fmt_num((ay + by) / 2.0 - 4.0)),
                ("font-size", "11".into()),
                ("fill", "#c4692c".into()),
            ],
        )))?;
        ev(Event::Text(BytesText::new(&c.to_string())))?;
        ev(Event::End(BytesEnd::new("text")))?;
        ev(Event::End(BytesEnd::new("g")))?;
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let p = tx(l.pos[i]);
        ev(Event::Start(el(
            "g",
            &[
                ("id", format!("node-{i}")),
                ("class", format!("node {}", format!("{:?}", n.kind).to_lowercase())),
                ("data-id", n.id.clone()),
            ],
        )))?;
        ev(Event::Empty(el(
            "rect",
            &[
                ("x", fmt_num(p.0)),
                ("y", fmt_num(p.1)),
                ("width", fmt_num(NODE_W)),
                ("height", fmt_num(NODE_H)),
                ("rx", "4".into()),
                ("fill", kind_fill(n.kind).into()),
            ],
        )))?;
        ev(Event::Start(el(
            "text",
            &[
                ("x", fmt_num(p.0 + 8.0)),
                ("y", fmt_num(p.1 + 22.0)),
                ("font-size", "12".into()),
                ("font-family", "Arial, Helvetica, sans-serif".into()),
                ("fill", "#fff".into()),
            ],
        )))?;
        let label: String = n.label.chars().take(24).collect();
        ev(Event::Text(BytesText::new(&label)))?;
        ev(Event::End(BytesEnd::new("text")))?;
        ev(Event::Start(el("title", &[])))?;
        ev(Event::Text(BytesText::new(&n.label)))?;
        ev(Event::End(BytesEnd::new("title")))?;
        ev(Event::End(BytesEnd::new("g")))?;
    }
    ev(Event::End(BytesEnd::new("svg")))?;
    String::from_utf8(wr.into_inner()).map_err(|e| Error::Draw(e.to_string()))
}
