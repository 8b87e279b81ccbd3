//! Isometric SVG drawing of a placed business graph (SPEC §3.8).
//!
//! The geometry (node box 100×190, the 30.4° projection, connector anchors, floor
//! polygons, entry markers, label transforms, icon sub-grids) is the original's, so a
//! drawing of the same grid matches the original output numerically. Fixed defects:
//! every element id is unique (`edge-N`, `entry-N`, `node-N`, `tool-N`; app ids go to
//! `data-id`), tooltips are drawn outside `<defs>` (hidden, at the end), there is a single
//! `<style>` block, a server without cpu/memory counts as 1 vCPU / 1 GB, all text and
//! attribute values are XML-escaped by quick-xml, and the canvas grows to cover every
//! drawn element (the original sized it from the first column only).

pub mod geometry;
pub mod icons;

use std::collections::BTreeSet;

use quick_xml::Writer;
use quick_xml::events::{BytesCData, BytesEnd, BytesStart, BytesText, Event};

use crate::business::{BusinessGraph, BusinessNode};
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::model::{DatacenterRef, Server};
use crate::overlay::{ChangeMarks, Mark};
use geometry::{Projector, Pt, cal, fmt_num, path_d};

const ALLOWED: [(&str, &str); 10] = [
    ("aws", "aws"),
    ("openstack", "openstack"),
    ("azure", "azure"),
    ("google cloudengine", "cloudengine"),
    ("digital ocean", "ocean"),
    ("linode", "linode"),
    ("rackspace", "rackspace"),
    ("heroku", "heroku"),
    ("ovh", "ovh"),
    ("godaddy", "godaddy"),
];

const CSS: &str = ".default{color:#5b5b5b;fill:#8e8e8e}.premise{color:#5b5b5b;fill:#8e8e8e}\
.aws{color:#f58536;fill:#c4692c}.openstack{color:#ce081f;fill:#af071a}\
.azure{color:#1566bf;fill:#7396bc}.cloudengine{color:#4285f4;fill:#2a62c0}\
.ocean{color:#0080ff;fill:#046cce}.linode{color:#02b159;fill:#018a45}\
.rackspace{color:#c40022;fill:#8f0019}.heroku{color:#6762a6;fill:#4b4680}\
.ovh{color:#123f6d;fill:#0b2a4a}.godaddy{color:#1bdbdb;fill:#12a3a3}\
.f-l{fill:currentColor}.f-t{fill:currentColor;fill-opacity:.55}.mark{fill:#fff;fill-opacity:.85}\
.base{fill:#bababa}.bnd-t{fill:#bababa;fill-opacity:.3}.bnd-s{fill:#ccc;fill-opacity:.2}\
.entry-tile{fill:#fbfbfb;stroke:#bababa}.entry-arrow{fill:#757575}.arrow{fill:#000}\
text{font-family:Arial, Helvetica, sans-serif;fill:#672064}\
.tooltip text{font-size:12px;fill:#212121}.tooltip .name{font-weight:bold}";

/// Provider template (CSS class) of a datacenter: the provider lower-cased if known, else
/// `premise`.
pub fn provider_class(dc: Option<&DatacenterRef>) -> &'static str {
    let Some(p) = dc.and_then(|d| d.provider.as_deref()) else {
        return "premise";
    };
    let p = p.trim().to_ascii_lowercase();
    ALLOWED.iter().find(|(k, _)| *k == p).map_or("premise", |(_, c)| c)
}

/// Size class of a score (`1.5·cpu + memory`), as the original's `ScoreSize`.
pub fn scored(score: f64) -> &'static str {
    const T: [(f64, &str); 9] = [
        (2.0, "nano"),
        (2.5, "micro"),
        (3.5, "small"),
        (7.0, "medium"),
        (11.0, "large"),
        (22.0, "2xlarge"),
        (46.0, "4xlarge"),
        (76.0, "8xlarge"),
        (1000.0, "8xlarge"),
    ];
    T.iter().find(|(k, _)| score <= *k).map_or("8xlarge", |(_, v)| v)
}

/// Score of a server; missing cpu/memory count as 1 (the original crashed on `None`).
pub fn server_score(s: &Server) -> f64 {
    1.5 * s.cpu.unwrap_or(1.0) + s.memory.unwrap_or(1.0)
}

fn slug_family(f: &str) -> String {
    f.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

fn slug_size(s: &str) -> String {
    let v: String = s.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if v.is_empty() { "medium".into() } else { v }
}

/// One icon `<use>` of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct IconUse {
    /// Symbol key `<family>.<size>`.
    pub asset: String,
    /// Provider class.
    pub class: &'static str,
    /// Position.
    pub x: f64,
    /// Position.
    pub y: f64,
    /// Size.
    pub w: f64,
    /// Size.
    pub h: f64,
}

struct SubGrid {
    slots: Vec<Pt>,
    cell: Pt,
    max: usize,
}

fn sub_grid(qtd: usize) -> SubGrid {
    let g = (qtd as f64).sqrt().ceil() as usize;
    let (w, h) = (geometry::NODE_W, geometry::NODE_H);
    if g >= 3 {
        let n = (w / 3.0, h / 3.0);
        let b = n.0 / 2.0;
        let cb = cal(w / 3.0);
        let cn = cal(b);
        let ys = h - n.1;
        SubGrid {
            slots: vec![
                (b * 2.0, ys - cb - cb),
                (b * 3.0, ys - cb + cn - cb),
                (b * 4.0, ys - cb),
                (b, ys - cb + cn - cb),
                (b * 2.0, ys - cb),
                (b * 3.0, ys - cb + cn),
                (0.0, ys - cb),
                (b, ys - cb + cn),
                (b * 2.0, ys),
            ],
            cell: n,
            max: 9,
        }
    } else {
        let n = (w / 2.0, h / 2.0);
        let b = n.0 / 2.0;
        let cb = cal(w / 2.0);
        let cn = cal(b);
        let ys = h / 2.0;
        if g == 2 {
            SubGrid {
                slots: vec![(b, ys - cb), (b * 2.0, ys - cb + cn), (0.0, ys - cb + cn), (b, ys)],
                cell: n,
                max: 4,
            }
        } else {
            SubGrid { slots: vec![(b, ys - cb / 2.0)], cell: n, max: 4 }
        }
    }
}

/// The icons of a node drawn at projected position `p` (`HelperDrawApplication`).
pub fn node_icons(node: &BusinessNode, p: Pt) -> Vec<IconUse> {
    let family = slug_family(node.app.family.as_deref().unwrap_or("application"));
    let family = if family.is_empty() { "application".to_string() } else { family };
    let mut out = Vec::new();
    if family != "application" && family != "cache" {
        let size = slug_size(node.app.size.as_deref().unwrap_or("medium"));
        let class = match node.servers.first() {
            Some(s) => provider_class(s.datacenter.as_ref()),
            None => provider_class(node.app.datacenter.as_ref()),
        };
        out.push(IconUse {
            asset: format!("{family}.{size}"),
            class,
            x: p.0 + 8.5,
            y: p.1 - cal(17.0) / 2.0,
            w: 83.0,
            h: 190.0,
        });
        return out;
    }
    let mut place = |grid: &SubGrid, i: usize, asset: String, class: &'static str| {
        let space = if grid.max == 9 { 9.0 } else { 14.0 };
        let (sx, sy) = grid.slots[i];
        out.push(IconUse {
            asset,
            class,
            x: p.0 + sx + space / 2.0,
            y: p.1 + sy - cal(space) / 2.0,
            w: grid.cell.0 - space,
            h: grid.cell.1,
        });
    };
    if !node.servers.is_empty() {
        let grid = sub_grid(node.servers.len());
        let mut servers: Vec<&Server> = node.servers.iter().collect();
        servers.sort_by(|a, b| server_score(b).total_cmp(&server_score(a)));
        for (i, s) in servers.iter().enumerate().take(grid.max.min(grid.slots.len())) {
            let asset = format!("{family}.{}", scored(server_score(s)));
            place(&grid, i, asset, provider_class(s.datacenter.as_ref()));
        }
    } else {
        let qtd = node.app.qtd.unwrap_or(1).max(1) as usize;
        let size = match node.app.size.as_deref() {
            Some(s) => slug_size(s),
            None => scored(2.5 * qtd as f64).to_string(),
        };
        let grid = sub_grid(qtd);
        let class = provider_class(node.app.datacenter.as_ref());
        for i in 0..qtd.min(grid.slots.len()) {
            place(&grid, i, format!("{family}.{size}"), class);
        }
    }
    out
}

fn tooltip_dc(node: &BusinessNode) -> String {
    if !node.servers.is_empty() {
        let mut seen: Vec<String> = Vec::new();
        for s in &node.servers {
            let c = provider_class(s.datacenter.as_ref());
            let mut cap = c.to_string();
            if let Some(f) = cap.get_mut(0..1) {
                f.make_ascii_uppercase();
            }
            if !seen.contains(&cap) {
                seen.push(cap);
            }
        }
        return seen.join(", ");
    }
    match provider_class(node.app.datacenter.as_ref()) {
        c @ ("aws" | "openstack" | "azure") => c.to_string(),
        _ => "premise".to_string(),
    }
}

/// The drawn SVG and facts about it (for invariant checks).
#[derive(Debug, Clone)]
pub struct Drawing {
    /// The SVG document (no XML declaration, as the original).
    pub svg: String,
    /// `viewBox` as `(x, y, w, h)`.
    pub view_box: (f64, f64, f64, f64),
    /// Projected origin of each drawn node (node index, x, y).
    pub nodes: Vec<(usize, f64, f64)>,
    /// Number of dependency connectors drawn (entry connectors excluded).
    pub edges_drawn: usize,
    /// The dependency connectors' polylines, in drawing order.
    pub connectors: Vec<Vec<Pt>>,
}

struct Bounds {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Bounds {
    fn add(&mut self, p: Pt) {
        self.x0 = self.x0.min(p.0);
        self.y0 = self.y0.min(p.1);
        self.x1 = self.x1.max(p.0);
        self.y1 = self.y1.max(p.1);
    }
}

struct Out {
    w: Writer<Vec<u8>>,
}

type Attrs<'a> = &'a [(&'a str, String)];

impl Out {
    fn new() -> Self {
        Out { w: Writer::new(Vec::new()) }
    }
    fn ev(&mut self, e: Event<'_>) -> Result<()> {
        self.w.write_event(e).map_err(Error::Xml)
    }
    fn start_el(tag: &str, attrs: Attrs<'_>) -> BytesStart<'static> {
        let mut b = BytesStart::new(tag.to_string());
        for (k, v) in attrs {
            b.push_attribute((*k, v.as_str()));
        }
        b
    }
    fn empty(&mut self, tag: &str, attrs: Attrs<'_>) -> Result<()> {
        self.ev(Event::Empty(Self::start_el(tag, attrs)))
    }
    fn start(&mut self, tag: &str, attrs: Attrs<'_>) -> Result<()> {
        self.ev(Event::Start(Self::start_el(tag, attrs)))
    }
    fn end(&mut self, tag: &str) -> Result<()> {
        self.ev(Event::End(BytesEnd::new(tag.to_string())))
    }
    fn text_el(&mut self, tag: &str, attrs: Attrs<'_>, text: &str) -> Result<()> {
        self.start(tag, attrs)?;
        self.ev(Event::Text(BytesText::new(text)))?;
        self.end(tag)
    }
}

fn use_attrs(href: &str, class: &str, x: f64, y: f64, w: f64, h: f64) -> Vec<(&'static str, String)> {
    vec![
        ("class", class.to_string()),
        ("height", fmt_num(h)),
        ("width", fmt_num(w)),
        ("x", fmt_num(x)),
        ("xlink:href", format!("#{href}")),
        ("y", fmt_num(y)),
    ]
}

struct Connector<'a> {
    mark: Option<Mark>,
    id: String,
    cols: String,
    from: &'a str,
    to: &'a str,
    conn_class: String,
    d: &'a str,
    endpoint: Option<&'a str>,
}

fn write_connector(out: &mut Out, c: Connector<'_>) -> Result<()> {
    let Connector { mark, id, cols, from, to, conn_class, d, endpoint } = c;
    let class = match mark {
        Some(m) => format!("edge change-{}", m.as_str()),
        None => "edge".into(),
    };
    out.start(
        "g",
        &[
            ("id", id),
            ("class", class),
            ("data-cols", cols),
            ("data-from", from.to_string()),
            ("data-to", to.to_string()),
        ],
    )?;
    let mut visible: Vec<(&str, String)> = vec![
        ("class", "conector".into()),
        ("d", d.to_string()),
        ("fill", "none".into()),
        ("marker-end", "url(#markers.arrow)".into()),
        ("opacity", "0.8".into()),
        ("stroke", mark.map_or("black", Mark::color).into()),
        ("stroke-width", if mark.is_some() { "3" } else { "1" }.into()),
    ];
    if mark == Some(Mark::Removed) {
        visible.push(("stroke-dasharray", "8 5".into()));
    }
    out.empty("path", &visible)?;
    out.empty(
        "path",
        &[
            ("class", format!("conector_h {conn_class}")),
            ("d", d.to_string()),
            ("fill", "none".into()),
            ("opacity", "0".into()),
            ("stroke", "black".into()),
            ("stroke-width", "18".into()),
        ],
    )?;
    out.text_el("text", &[("display", "none".into()), ("x", "0".into()), ("y", "0".into())], endpoint.unwrap_or(""))?;
    out.end("g")
}

/// Draw a placed business graph.
///
/// # Errors
/// [`Error::Draw`] for an empty grid; [`Error::Xml`] if writing fails.
pub fn draw_business(g: &BusinessGraph, grid: &Grid) -> Result<Drawing> {
    draw_business_marked(g, grid, &ChangeMarks::default())
}

/// Draw a placed business graph with change marks (see [`crate::overlay`]): marked nodes get
/// a coloured floor and a `data-change` attribute, marked connectors a coloured (removed:
/// dashed) line and a `change-*` class, and a legend says what the colours mean.
///
/// # Errors
/// As [`draw_business`].
pub fn draw_business_marked(g: &BusinessGraph, grid: &Grid, marks: &ChangeMarks) -> Result<Drawing> {
    let Some(max_x) = grid.max_x() else {
        return Err(Error::Draw("the grid is empty".into()));
    };
    let pr = Projector { max_x };
    let (w0, h0) = geometry::original_area(grid);
    let mut vb = (0.0, 0.0, w0, h0);
    let first_col_cells = grid.columns().get(&0).map_or(0, |c| c.len());
    if max_x <= 1 && first_col_cells <= 2 {
        vb.1 = -50.0;
        vb.3 = h0 + 180.0;
        if max_x == 0 {
            vb.0 = -50.0;
        }
    }
    let mut bounds = Bounds { x0: f64::INFINITY, y0: f64::INFINITY, x1: f64::NEG_INFINITY, y1: f64::NEG_INFINITY };
    let mut body = Out::new();
    let mut assets: BTreeSet<String> = BTreeSet::new();
    let ids: Vec<&str> = g.nodes().iter().map(|n| n.app.id.as_str()).collect();

    let mut edges_drawn = 0;
    let mut connectors = Vec::new();
    for (i, e) in g.edges().into_iter().enumerate() {
        let (Some(a), Some(b)) = (grid.placement(e.from), grid.placement(e.to)) else {
            continue;
        };
        let pts = geometry::connect(&pr, grid, (a.x, a.y, a.size), (b.x, b.y, b.size));
        pts.iter().for_each(|p| bounds.add(*p));
        let d = path_d(&pts);
        write_connector(
            &mut body,
            Connector {
                mark: marks.edges.get(&(ids[e.from].to_string(), ids[e.to].to_string())).copied(),
                id: format!("edge-{i}"),
                cols: format!("{}-{}", a.x, b.x),
                from: ids[e.from],
                to: ids[e.to],
                conn_class: format!("conn-node-{}", e.from),
                d: &d,
                endpoint: e.endpoint.as_deref(),
            },
        )?;
        edges_drawn += 1;
        connectors.push(pts);
    }

    let mut drawn = Vec::new();
    let mut tooltips = Out::new();
    for &n in grid.order() {
        let Some(pl) = grid.placement(n) else { continue };
        let node = &g.nodes()[n];
        let p = pr.proj(pl.x, pl.y, pl.size);
        if node.root {
            let pts = geometry::connect_entry(&pr, (pl.x, pl.y, pl.size));
            pts.iter().for_each(|q| bounds.add(*q));
            write_connector(
                &mut body,
                Connector {
                    mark: None,
                    id: format!("entry-{n}"),
                    cols: format!("{}-{}", pl.x - 1, pl.x),
                    from: ids[n],
                    to: ids[n],
                    conn_class: format!("conn-node-{n}"),
                    d: &path_d(&pts),
                    endpoint: None,
                },
            )?;
            let pe = pr.proj(pl.x - 1, pl.y, pl.size);
            bounds.add((pe.0, pe.1 + 120.0));
            bounds.add((pe.0 + 100.0, pe.1 + 190.0));
            body.empty("use", &use_attrs("grid.entry", "default", pe.0, pe.1, 100.0, 190.0))?;
        }
        let fl = geometry::floor(&pr, pl.x, pl.y, pl.size);
        let points = fl.iter().map(|(x, y)| format!("{},{}", fmt_num(*x), fmt_num(*y))).collect::<Vec<_>>().join(" ");
        match marks.nodes.get(&node.app.id) {
            None => {
                body.empty("polyline", &[("fill", "#ccc".into()), ("fill-opacity", "0.2".into()), ("points", points)])?
            }
            Some(m) => body.empty(
                "polyline",
                &[
                    ("class", format!("change-{}", m.as_str())),
                    ("fill", m.color().into()),
                    ("fill-opacity", "0.45".into()),
                    ("points", points),
                    ("stroke", m.color().into()),
                    ("stroke-width", "2".into()),
                ],
            )?,
        }
        let mut base = use_attrs("grid.base", "default", p.0, p.1, 100.0, 190.0);
        base.insert(1, ("fill-opacity", "0.4".into()));
        body.empty("use", &base)?;
        for icon in node_icons(node, p) {
            body.empty("use", &use_attrs(&icon.asset, icon.class, icon.x, icon.y, icon.w, icon.h))?;
            assets.insert(icon.asset);
        }
        let mut bnd = use_attrs("boundaries_box.front", "default boundaries", p.0, p.1, 100.0, 190.0);
        bnd.insert(1, ("data-id", node.app.id.clone()));
        bnd.insert(3, ("id", format!("node-{n}")));
        if let Some(m) = marks.nodes.get(&node.app.id) {
            bnd.insert(2, ("data-change", m.as_str().into()));
        }
        body.start("use", &bnd)?;
        let fam = node.app.family.as_deref().unwrap_or("Application");
        body.text_el("title", &[], &format!("{} ({fam})", node.app.name))?;
        body.end("use")?;
        bounds.add((p.0, p.1 + 190.0 - icons::BOUNDARY_VISIBLE_H));
        bounds.add((p.0 + 100.0, p.1 + 190.0));

        let label: String = node.app.name.chars().take(10).collect();
        let l = label.chars().count() as f64;
        let tr = format!(
            "translate({}, {}) skewY(-30.404) skewX(41.0) translate({}, {})",
            fmt_num(p.0 + 15.0),
            fmt_num(p.1),
            fmt_num(-p.0 - (123.5 + 3.84 * l)),
            fmt_num(-p.1 + 224.2)
        );
        body.text_el(
            "text",
            &[("font-size", "16".into()), ("transform", tr), ("x", fmt_num(p.0)), ("y", fmt_num(p.1))],
            &label,
        )?;
        write_tooltip(&mut tooltips, n, node, p)?;
        drawn.push((n, p.0, p.1));
    }

    // canvas: the original's area, grown to cover everything drawn
    let margin = 10.0;
    if bounds.x0.is_finite() {
        if bounds.x0 < vb.0 - 0.5 {
            let nx = bounds.x0 - margin;
            vb.2 += vb.0 - nx;
            vb.0 = nx;
        }
        if bounds.y0 < vb.1 - 0.5 {
            let ny = bounds.y0 - margin;
            vb.3 += vb.1 - ny;
            vb.1 = ny;
        }
        if bounds.x1 > vb.0 + vb.2 + 0.5 {
            vb.2 = bounds.x1 + margin - vb.0;
        }
        if bounds.y1 > vb.1 + vb.3 + 0.5 {
            vb.3 = bounds.y1 + margin - vb.1;
        }
    }

    let mut out = Out::new();
    out.start(
        "svg",
        &[
            ("xmlns", "http://www.w3.org/2000/svg".into()),
            ("xmlns:xlink", "http://www.w3.org/1999/xlink".into()),
            ("baseProfile", "full".into()),
            ("version", "1.1".into()),
            ("id", "graph".into()),
            ("width", fmt_num(vb.2)),
            ("height", fmt_num(vb.3)),
            ("viewBox", format!("{},{},{},{}", fmt_num(vb.0), fmt_num(vb.1), fmt_num(vb.2), fmt_num(vb.3))),
        ],
    )?;
    out.start("defs", &[])?;
    for (id, slope) in [("brightness", "0.6"), ("darker", "0.4")] {
        out.start("filter", &[("id", id.into())])?;
        out.start("feComponentTransfer", &[("in", "SourceGraphic".into())])?;
        for f in ["feFuncR", "feFuncG", "feFuncB"] {
            out.empty(f, &[("slope", slope.into()), ("type", "linear".into())])?;
        }
        out.end("feComponentTransfer")?;
        out.end("filter")?;
    }
    out.start(
        "marker",
        &[
            ("id", "markers.arrow".into()),
            ("markerHeight", "12.5".into()),
            ("markerWidth", "12.5".into()),
            ("orient", "auto".into()),
            ("refX", "9".into()),
            ("refY", "5".into()),
            ("viewBox", "0,0,10,10".into()),
        ],
    )?;
    out.empty("polygon", &[("class", "arrow".into()), ("points", "0,1 10,5 0,9 3,5".into())])?;
    out.end("marker")?;
    out.start("style", &[("type", "text/css".into())])?;
    out.ev(Event::CData(BytesCData::new(CSS)))?;
    out.end("style")?;
    let write_symbol = |out: &mut Out, id: &str, vbx: (f64, f64), els: Vec<icons::El>| -> Result<()> {
        out.start(
            "symbol",
            &[
                ("id", id.to_string()),
                ("preserveAspectRatio", "xMidYMax meet".into()),
                ("viewBox", format!("0,0,{},{}", vbx.0, vbx.1)),
            ],
        )?;
        for e in els {
            out.empty(e.tag, &e.attrs)?;
        }
        out.end("symbol")
    };
    write_symbol(&mut out, "grid.base", icons::TILE_BOX, icons::grid_base())?;
    write_symbol(&mut out, "grid.entry", icons::TILE_BOX, icons::grid_entry())?;
    write_symbol(&mut out, "boundaries_box.front", icons::TILE_BOX, icons::boundary_box())?;
    for a in &assets {
        let (fam, size) = a.split_once('.').unwrap_or((a.as_str(), "medium"));
        write_symbol(&mut out, a, icons::ICON_BOX, icons::family_icon(fam, size))?;
    }
    out.end("defs")?;
    out.w.get_mut().extend_from_slice(&body.w.into_inner());
    if !marks.is_empty() {
        out.start("g", &[("id", "change-legend".into()), ("font-size", "14".into())])?;
        for (i, m) in [Mark::Added, Mark::Removed, Mark::Changed].into_iter().enumerate() {
            let y = vb.1 + 20.0 + 20.0 * i as f64;
            out.empty(
                "rect",
                &[
                    ("fill", m.color().into()),
                    ("height", "12".into()),
                    ("width", "12".into()),
                    ("x", fmt_num(vb.0 + 10.0)),
                    ("y", fmt_num(y - 11.0)),
                ],
            )?;
            out.text_el("text", &[("x", fmt_num(vb.0 + 28.0)), ("y", fmt_num(y))], m.as_str())?;
        }
        out.end("g")?;
    }
    out.start("g", &[("id", "tooltips".into())])?;
    out.w.get_mut().extend_from_slice(&tooltips.w.into_inner());
    out.end("g")?;
    out.end("svg")?;
    let svg = String::from_utf8(out.w.into_inner()).map_err(|e| Error::Draw(format!("non-utf8 output: {e}")))?;
    Ok(Drawing { svg, view_box: vb, nodes: drawn, edges_drawn, connectors })
}

fn write_tooltip(out: &mut Out, n: usize, node: &BusinessNode, p: Pt) -> Result<()> {
    let x = p.0 + geometry::NODE_W + 5.0;
    let y = p.1 + geometry::NODE_H / 3.0;
    out.start(
        "g",
        &[
            ("id", format!("tool-{n}")),
            ("class", "tooltip".into()),
            ("data-id", node.app.id.clone()),
            ("visibility", "hidden".into()),
        ],
    )?;
    out.empty(
        "rect",
        &[
            ("fill", "#fff".into()),
            ("fill-opacity", "0.9".into()),
            ("height", "140".into()),
            ("rx", "3".into()),
            ("width", "170".into()),
            ("x", fmt_num(x)),
            ("y", fmt_num(y)),
        ],
    )?;
    out.start("text", &[("x", fmt_num(x + 12.0)), ("y", fmt_num(y))])?;
    let a = &node.app;
    let servers = if node.servers.is_empty() { None } else { Some(node.servers.len().to_string()) };
    let props: [(&str, Option<String>); 8] = [
        ("name", Some(a.name.clone())),
        ("dc", Some(tooltip_dc(node))),
        ("env", a.environment.clone()),
        ("family", a.family.clone()),
        ("provider", a.provider.clone()),
        ("Language", a.language.clone()),
        ("Cluster", a.cluster.clone()),
        ("servers", servers),
    ];
    for (class, v) in props {
        let Some(v) = v.filter(|v| !v.is_empty()) else { continue };
        out.text_el("tspan", &[("class", class.to_string()), ("dy", "15".into()), ("x", fmt_num(x + 12.0))], &v)?;
    }
    out.end("text")?;
    out.end("g")
}
