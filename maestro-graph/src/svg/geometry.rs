//! Isometric geometry of the business drawing (SPEC §3.8), ported from the original's
//! `matrix_rotation` and connector helpers.

use crate::grid::{Cell, Grid};

/// Node box width.
pub const NODE_W: f64 = 100.0;
/// Node box height.
pub const NODE_H: f64 = 190.0;
/// Spacing factors `off = (2.2, 2.5)`.
pub const OFF: (f64, f64) = (2.2, 2.5);
/// Projection angle in degrees.
pub const ANGLE_DEG: f64 = 30.4;

/// `tan(30.4°)`.
pub fn tan_angle() -> f64 {
    ANGLE_DEG.to_radians().tan()
}

/// `cal(c) = c · tan(30.4°)`: the vertical rise of a horizontal run `c`.
pub fn cal(c: f64) -> f64 {
    c * tan_angle()
}

/// Half the horizontal step between cells: `100 · 2.2 / 2 = 110`.
pub fn mx() -> f64 {
    NODE_W * OFF.0 / 2.0
}

/// A point.
pub type Pt = (f64, f64);

/// The isometric projection of grid cells, given the largest column.
#[derive(Debug, Clone, Copy)]
pub struct Projector {
    /// Largest column of the grid.
    pub max_x: i64,
}

impl Projector {
    /// Project cell `(x, y)` of a node of `size` rows (centred on its span).
    pub fn proj(&self, x: i64, y: i64, size: i64) -> Pt {
        let x = x as f64;
        let mut y = y as f64;
        if size > 1 {
            y += (size - 1) as f64 / 2.0;
        }
        let ci = cal(mx());
        let rect_y = (self.max_x - 1) as f64 * ci;
        ((y * mx()) + (x * mx()), rect_y + (y * ci) - (x * ci))
    }
}

/// Which anchor along a side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alloc {
    /// Start.
    Start,
    /// Middle.
    Mid,
    /// End.
    End,
}

/// Node anchor or the "point" half a lane away from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// On the node's edge.
    Node,
    /// Offset by a quarter node into the lane.
    Point,
}

/// Front (down-right) or back (up-left) side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Front side.
    Front,
    /// Back side.
    Back,
}

/// An anchor of the node projected at `p` (see SPEC §3.8 "Anchor offsets").
pub fn anchor(p: Pt, alloc: Alloc, kind: Kind, side: Side, om: Pt) -> Pt {
    let (w, h) = (NODE_W, NODE_H);
    let md = match (side, alloc) {
        (Side::Front, Alloc::Start) => (w - w / 2.0, h - cal(w / 2.0) * 2.0),
        (Side::Front, Alloc::Mid) => (w - w / 4.0, h - cal(w / 2.0) * 1.5),
        (Side::Front, Alloc::End) => (w, h - cal(w / 2.0)),
        (Side::Back, Alloc::Start) => (0.0, h - cal(w / 2.0)),
        (Side::Back, Alloc::Mid) => (w / 4.0, h - cal(w / 4.0)),
        (Side::Back, Alloc::End) => (w / 2.0, h),
    };
    let space = match side {
        Side::Front => (w / 4.0, -cal(w / 4.0)),
        Side::Back => (-(w / 4.0), cal(w / 4.0)),
    };
    let mut x = p.0 + md.0;
    let mut y = p.1 + md.1;
    if kind == Kind::Point {
        x += space.0;
        y += space.1;
    }
    match alloc {
        Alloc::Start => {
            x -= om.0;
            y -= om.1;
        }
        Alloc::End => {
            x += om.0;
            y += om.1;
        }
        Alloc::Mid => {}
    }
    (x, y)
}

/// A node for the connector: column, top row, size.
pub type GridNode = (i64, i64, i64);

fn sizes(dx: f64, dy: f64) -> Pt {
    (NODE_W * OFF.0 / dx, NODE_H * OFF.1 / dy)
}

/// The connector polyline from `n1` to `n2` (`HelperDrawConnector.connect`).
pub fn connect(pr: &Projector, grid: &Grid, n1: GridNode, n2: GridNode) -> Vec<Pt> {
    let (x1, y1, s1) = n1;
    let (x2, y2, s2) = n2;
    let dx = x2 - x1 - 1;
    let dy = y2 - y1;
    let z = (0.0, 0.0);
    let mut pts = vec![anchor(pr.proj(x1, y1, s1), Alloc::Mid, Kind::Node, Side::Front, z)];
    if dx >= 0 {
        if s1 > 1 || dx == 0 {
            let yy1 = pr.proj(x1, y1, s1).1;
            let yy2 = pr.proj(x2, y2, s2).1;
            let d = yy2 - yy1;
            let c = NODE_H * OFF.1 / 5.0;
            if d >= -c / 2.0 {
                pts.push(anchor(pr.proj(x1, y1, s1), Alloc::End, Kind::Point, Side::Front, z));
            } else if d <= -c {
                pts.push(anchor(pr.proj(x1, y1, s1), Alloc::Start, Kind::Point, Side::Front, z));
            }
        } else {
            pts.push(anchor(pr.proj(x1, y1, s1), Alloc::Mid, Kind::Point, Side::Front, z));
        }
    }
    if dx >= 1 {
        match grid.get(x1 + 1, y1) {
            Some(Cell::Node(_)) => {
                let m = sizes(10.0, 40.0);
                pts.push(anchor(pr.proj(x1, y1, 1), Alloc::Start, Kind::Point, Side::Front, m));
                pts.push(anchor(pr.proj(x1 + dx, y1, 1), Alloc::Start, Kind::Node, Side::Front, m));
            }
            Some(_) => {
                pts.push(anchor(pr.proj(x1, y1, 1), Alloc::Mid, Kind::Point, Side::Front, z));
                pts.push(anchor(pr.proj(x1 + dx, y1, 1), Alloc::Mid, Kind::Node, Side::Front, z));
            }
            None => {}
        }
    }
    if dx < 0 {
        let m = sizes(12.0, 40.0);
        if dy <= 0 {
            pts.push(anchor(pr.proj(x1, y1, 1), Alloc::Start, Kind::Point, Side::Front, z));
        } else {
            pts.push(anchor(pr.proj(x1, y1, s1), Alloc::End, Kind::Point, Side::Front, z));
        }
        pts.push(anchor(pr.proj(x1, y1 + dy, 1), Alloc::Start, Kind::Point, Side::Front, m));
        pts.push(anchor(pr.proj(x1 + dx, y1 + dy, 1), Alloc::Start, Kind::Point, Side::Front, m));
    }
    let p2 = pr.proj(x2, y2, s2);
    pts.push(anchor(p2, Alloc::Mid, Kind::Point, Side::Back, z));
    pts.push(anchor(p2, Alloc::Mid, Kind::Node, Side::Back, z));
    pts
}

/// The entry connector of a root: from the pseudo-node one column left to the node.
pub fn connect_entry(pr: &Projector, n: GridNode) -> Vec<Pt> {
    let (x, y, s) = n;
    let z = (0.0, 0.0);
    let p1 = pr.proj(x - 1, y, s);
    let p2 = pr.proj(x, y, s);
    vec![
        anchor(p1, Alloc::Mid, Kind::Node, Side::Front, z),
        anchor(p2, Alloc::Mid, Kind::Point, Side::Back, z),
        anchor(p2, Alloc::Mid, Kind::Node, Side::Back, z),
    ]
}

/// The floor polygon covering rows `y..y+size-1` of column `x`.
pub fn floor(pr: &Projector, x: i64, y: i64, size: i64) -> [Pt; 4] {
    let a = pr.proj(x, y, 1);
    let b = pr.proj(x, y + size - 1, 1);
    let c = cal(NODE_W / 2.0);
    [
        (a.0, a.1 + NODE_H - c),
        (a.0 + NODE_W / 2.0, a.1 + NODE_H - 2.0 * c),
        (b.0 + NODE_W, b.1 + NODE_H - c),
        (b.0 + NODE_W / 2.0, b.1 + NODE_H),
    ]
}

/// Format a number the way the drawing prints it: rounded to 2 decimals, at least one
/// decimal digit (`955.0`, `662.29`).
pub fn fmt_num(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    let r = if r == 0.0 { 0.0 } else { r };
    let mut s = format!("{r:.2}");
    if s.ends_with('0') {
        s.pop();
    }
    s
}

/// Format a polyline as an SVG path `d`: `M x1 y1 x2 y2 ...` (implicit line-to), as
/// the original wrote it.
pub fn path_d(pts: &[Pt]) -> String {
    let mut s = String::from("M");
    for (i, p) in pts.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&fmt_num(p.0));
        s.push(' ');
        s.push_str(&fmt_num(p.1));
    }
    s
}

/// The canvas of the original (`DrawArea`): `(width, height)` from the largest column,
/// the largest row of the first column and the empty-corner count.
pub fn original_area(grid: &Grid) -> Pt {
    let max_x = grid.max_x().unwrap_or(0);
    let max_y = grid.columns().get(&0).and_then(|c| c.keys().next_back().copied()).unwrap_or(0);
    let pr = Projector { max_x };
    let e = shw_empty(grid, max_x, max_y);
    let menus = e - 1;
    let w = ((max_y as f64 * mx()) + (max_x as f64 * mx())) + NODE_W - (menus as f64 * NODE_W);
    let h = pr.proj(0, max_y, 1).1 + NODE_H;
    (w, h)
}

fn shw_empty(grid: &Grid, x: i64, y: i64) -> i64 {
    let mut counter = 0;
    while counter < x {
        let mut pos = Vec::new();
        if counter == 0 {
            pos.push((x, y));
        }
        if counter >= 1 {
            pos.push((x, y - counter));
            pos.push((x - counter, y));
        }
        if counter > 1 {
            for item in (1..counter).rev() {
                pos.push((x, y - counter + item));
                pos.push((x - counter + item, y));
            }
        }
        if pos.iter().any(|&(a, b)| grid.get(a, b).is_some()) {
            return counter;
        }
        counter += 1;
    }
    counter - 1
}
