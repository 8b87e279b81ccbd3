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
    /// Anywhere outside (`0.0.0.0/0` and addresses no instance has).
    Internet,
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
    /// A label per link (same order as `links`; empty: the count is shown).
    #[serde(default)]
    pub link_labels: Vec<String>,
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

/// A network inventory: VPCs, subnets, instances, peerings, and security-group rules.
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
    /// `(instance id, security group id)`: the groups each instance is in.
    pub secured_by: Vec<(String, String)>,
    /// `(instance id, private IPv4 address)`.
    pub private_ips: Vec<(String, String)>,
    /// Ingress rules of the security groups.
    pub ingress: Vec<IngressRule>,
}

/// One ingress rule of a security group: traffic on `protocol`/ports from the listed groups
/// and address ranges may reach the group's members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngressRule {
    /// The group the rule belongs to.
    pub group: String,
    /// `tcp`, `udp`, `icmp`, or `-1` (all).
    pub protocol: String,
    /// First port (absent for all traffic).
    pub from_port: Option<i64>,
    /// Last port.
    pub to_port: Option<i64>,
    /// Source security groups.
    pub source_groups: Vec<String>,
    /// Source IPv4 CIDR blocks.
    pub cidrs: Vec<String>,
}

impl IngressRule {
    /// What the rule opens, as drawn on an edge: `tcp 443`, `tcp 8000-8100`, `all`.
    pub fn port_label(&self) -> String {
        let proto = match self.protocol.as_str() {
            "-1" | "" | "all" => return "all".into(),
            p => p,
        };
        match (self.from_port, self.to_port) {
            (Some(a), Some(b)) if a == b => format!("{proto} {a}"),
            (Some(a), Some(b)) if a == -1 || (a == 0 && b == 65535) => proto.to_string(),
            (Some(a), Some(b)) => format!("{proto} {a}-{b}"),
            (Some(a), None) | (None, Some(a)) => format!("{proto} {a}"),
            (None, None) => proto.to_string(),
        }
    }
}

/// `a.b.c.d/n` → (network, mask); `None` for anything else (IPv6 ranges are not drawn).
fn parse_cidr(cidr: &str) -> Option<(u32, u32)> {
    let (ip, bits) = cidr.split_once('/').unwrap_or((cidr, "32"));
    let ip: std::net::Ipv4Addr = ip.trim().parse().ok()?;
    let bits: u32 = bits.trim().parse().ok().filter(|b| *b <= 32)?;
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    Some((u32::from(ip) & mask, mask))
}

/// Instance-to-instance (or internet-to-instance) flows the security groups allow, with the
/// ports: `(source node id, target instance id, port label)`. A source group admits its member
/// instances; `0.0.0.0/0` admits the internet (drawn as one node, not as every instance); a
/// narrower CIDR admits the instances whose private address is inside it, or the internet when
/// none is (an outside range).
pub fn allowed_flows(net: &NetworkInventory) -> Vec<(String, String, String)> {
    let mut members: HashMap<&str, Vec<&str>> = HashMap::new();
    for (inst, sg) in &net.secured_by {
        members.entry(sg.as_str()).or_default().push(inst.as_str());
    }
    let ips: Vec<(&str, u32)> = net
        .private_ips
        .iter()
        .filter_map(|(i, ip)| ip.parse::<std::net::Ipv4Addr>().ok().map(|a| (i.as_str(), u32::from(a))))
        .collect();
    let mut flows = std::collections::BTreeSet::new();
    for rule in &net.ingress {
        let Some(targets) = members.get(rule.group.as_str()) else { continue };
        let label = rule.port_label();
        let mut sources: Vec<String> = Vec::new();
        for g in &rule.source_groups {
            sources.extend(members.get(g.as_str()).into_iter().flatten().map(|i| format!("instance:{i}")));
        }
        for c in &rule.cidrs {
            let Some((net_addr, mask)) = parse_cidr(c) else { continue };
            if mask == 0 {
                // Anywhere: drawn as the internet only, not as every instance too.
                sources.push("internet".into());
                continue;
            }
            let inside: Vec<&str> = ips.iter().filter(|(_, a)| a & mask == net_addr).map(|(i, _)| *i).collect();
            if inside.is_empty() {
                sources.push("internet".into());
            }
            sources.extend(inside.into_iter().map(|i| format!("instance:{i}")));
        }
        for src in sources {
            for t in targets {
                let dst = format!("instance:{t}");
                if src != dst {
                    flows.insert((src.clone(), t.to_string(), label.clone()));
                }
            }
        }
    }
    flows.into_iter().collect()
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
    let mut labels = Vec::new();
    for (a, b) in &net.peerings {
        let x = g.node(format!("vpc:{a}"), a, NodeKind::Vpc);
        let y = g.node(format!("vpc:{b}"), b, NodeKind::Vpc);
        links.push((x, y, 1));
        labels.push("peering".to_string());
    }
    // Security-group flows, aggregated between subnets (the internet is its own group) so a
    // large estate stays readable; each link lists the ports it carries.
    let mut agg: std::collections::BTreeMap<(usize, usize), (usize, std::collections::BTreeSet<String>)> =
        Default::default();
    for (src, dst, label) in allowed_flows(net) {
        let a = match g.node_index(&src) {
            Some(a) => a,
            None if src == "internet" => g.node("internet".into(), "Internet", NodeKind::Internet),
            None => continue,
        };
        let Some(b) = g.node_index(&format!("instance:{dst}")) else { continue };
        let ga = if g.nodes[a].kind == NodeKind::Internet { a } else { g.nodes[a].group.unwrap_or(a) };
        let gb = g.nodes[b].group.unwrap_or(b);
        if ga == gb {
            continue;
        }
        let e = agg.entry((ga, gb)).or_default();
        e.0 += 1;
        e.1.insert(label);
    }
    for ((a, b), (count, ports)) in agg {
        links.push((a, b, count));
        let ports: Vec<String> = ports.into_iter().collect();
        labels.push(format!("{} ({count})", ports.join(", ")));
    }
    g.links = links;
    g.link_labels = labels;
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
        NodeKind::Internet => "#2e7d32",
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
        let (mut ax, mut ay) = (pa.0 + NODE_W / 2.0, pa.1 + NODE_H / 2.0);
        let (mut bx, mut by) = (pb.0 + NODE_W / 2.0, pb.1 + NODE_H / 2.0);
        // Leave and enter at the box edges facing each other, so the arrow head shows.
        if (by - ay).abs() >= (bx - ax).abs() {
            let s = (by - ay).signum();
            ay += s * NODE_H / 2.0;
            by -= s * NODE_H / 2.0;
        } else {
            let s = (bx - ax).signum();
            ax += s * NODE_W / 2.0;
            bx -= s * NODE_W / 2.0;
        }
        // A curve bowed to the side, so links between boxes of one column don't run over the
        // boxes between them; the label sits at the curve's middle.
        let (dx, dy) = (bx - ax, by - ay);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let bow = (0.25 * len).min(NODE_W * 0.9);
        let (cx, cy) = ((ax + bx) / 2.0 - dy / len * bow, (ay + by) / 2.0 + dx / len * bow);
        let (mx, my) = ((ax + 2.0 * cx + bx) / 4.0, (ay + 2.0 * cy + by) / 4.0);
        ev(Event::Start(el("g", &[("id", format!("link-{k}")), ("class", "link".into())])))?;
        ev(Event::Empty(el(
            "path",
            &[
                (
                    "d",
                    format!(
                        "M{} {} Q{} {} {} {}",
                        fmt_num(ax),
                        fmt_num(ay),
                        fmt_num(cx),
                        fmt_num(cy),
                        fmt_num(bx),
                        fmt_num(by)
                    ),
                ),
                ("fill", "none".into()),
                ("stroke", "#c4692c".into()),
                ("stroke-dasharray", "6 4".into()),
                ("stroke-width", fmt_num(1.0 + (c as f64).ln_1p())),
                ("marker-end", "url(#arrow)".into()),
            ],
        )))?;
        ev(Event::Start(el(
            "text",
            &[
                ("x", fmt_num(mx + 4.0)),
                ("y", fmt_num(my - 4.0)),
                ("font-size", "11".into()),
                ("font-family", "Arial, Helvetica, sans-serif".into()),
                ("fill", "#c4692c".into()),
            ],
        )))?;
        let text = g.link_labels.get(k).filter(|t| !t.is_empty()).cloned().unwrap_or_else(|| c.to_string());
        ev(Event::Text(BytesText::new(&text)))?;
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
