//! Simple isometric icons, drawn for this crate (not the original's artwork): one
//! symbol per `<family>.<size>` key, plus the floor tile (`grid.base`), the entry marker
//! (`grid.entry`) and the node boundary box (`boundaries_box.front`).
//!
//! Shapes use the classes `f-l` (left face, `currentColor`), `f-r` (right face,
//! inherited `fill`), `f-t` (top face) and `mark` (white details), so the provider class
//! on the `<use>` element colours them.

use super::geometry::tan_angle;

/// One SVG element of a symbol.
#[derive(Debug, Clone)]
pub struct El {
    /// Tag name.
    pub tag: &'static str,
    /// Attributes.
    pub attrs: Vec<(&'static str, String)>,
}

fn poly(class: &str, pts: &[(f64, f64)]) -> El {
    let p = pts.iter().map(|(x, y)| format!("{:.2},{:.2}", x, y)).collect::<Vec<_>>().join(" ");
    El { tag: "polygon", attrs: vec![("class", class.to_string()), ("points", p)] }
}

fn ellipse(class: &str, cx: f64, cy: f64, rx: f64, ry: f64) -> El {
    El {
        tag: "ellipse",
        attrs: vec![
            ("class", class.to_string()),
            ("cx", format!("{cx:.2}")),
            ("cy", format!("{cy:.2}")),
            ("rx", format!("{rx:.2}")),
            ("ry", format!("{ry:.2}")),
        ],
    }
}

fn rect(class: &str, x: f64, y: f64, w: f64, h: f64) -> El {
    El {
        tag: "rect",
        attrs: vec![
            ("class", class.to_string()),
            ("x", format!("{x:.2}")),
            ("y", format!("{y:.2}")),
            ("width", format!("{w:.2}")),
            ("height", format!("{h:.2}")),
        ],
    }
}

/// An isometric prism standing on `(cx, by)` (bottom vertex), half-width `a`, height `h`.
fn prism(out: &mut Vec<El>, cx: f64, by: f64, a: f64, h: f64) {
    let t = tan_angle();
    let r = a * t;
    out.push(poly("f-l", &[(cx - a, by - r), (cx, by), (cx, by - h), (cx - a, by - r - h)]));
    out.push(poly("f-r", &[(cx, by), (cx + a, by - r), (cx + a, by - r - h), (cx, by - h)]));
    out.push(poly("f-t", &[(cx - a, by - r - h), (cx, by - h), (cx + a, by - r - h), (cx, by - 2.0 * r - h)]));
}

/// An upright cylinder on `(cx, by)`, radius `a`, height `h`.
fn cylinder(out: &mut Vec<El>, cx: f64, by: f64, a: f64, h: f64) {
    let ry = a * tan_angle();
    let cy = by - ry;
    out.push(ellipse("f-r", cx, cy, a, ry));
    out.push(rect("f-l", cx - a, cy - h, a, h));
    out.push(rect("f-r", cx, cy - h, a, h));
    out.push(ellipse("f-t", cx, cy - h, a, ry));
}

/// Index of a size class (`nano` = 0 … `64xlarge` = 11; unknown = `medium`).
pub fn size_index(size: &str) -> usize {
    const SIZES: [&str; 12] = [
        "nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge", "32xlarge",
        "64xlarge",
    ];
    SIZES.iter().position(|s| *s == size).unwrap_or(3)
}

/// Symbol view box `(w, h)` of family icons.
pub const ICON_BOX: (f64, f64) = (83.0, 190.0);

/// The elements of the icon for `family` (lower-case, no `/`) and `size`.
pub fn family_icon(family: &str, size: &str) -> Vec<El> {
    let k = size_index(size) as f64;
    let cx = ICON_BOX.0 / 2.0;
    let by = ICON_BOX.1 - 4.0;
    let a = 22.0 + k * 1.5;
    let h = 16.0 + k * 6.0;
    let t = tan_angle();
    let mut out = Vec::new();
    match family {
        "application" | "corporate" => {
            let floors = 1 + (k as usize) / 3;
            let fh = h / floors as f64;
            for i in 0..floors {
                prism(&mut out, cx, by - fh * i as f64, a, fh - 2.0);
                let yb = by - fh * i as f64 - a * t * 0.5 - fh * 0.45;
                out.push(poly(
                    "mark",
                    &[
                        (cx - a * 0.8, yb - a * t * 0.3),
                        (cx - a * 0.2, yb + a * t * 0.3),
                        (cx - a * 0.2, yb + a * t * 0.3 - 3.0),
                        (cx - a * 0.8, yb - a * t * 0.3 - 3.0),
                    ],
                ));
            }
        }
        "database" | "objectstorage" | "nas" | "repository" => {
            cylinder(&mut out, cx, by, a, h);
            if family == "database" {
                let ry = a * t;
                out.push(ellipse("mark", cx, by - ry - h * 0.5, a * 0.9, ry * 0.2));
            }
        }
        "cache" => {
            let disks = 2 + (k as usize) / 4;
            for i in 0..disks {
                cylinder(&mut out, cx, by - i as f64 * 9.0, a, 6.0);
            }
        }
        "broker" | "servicediscovery" | "servicemesh" => {
            prism(&mut out, cx, by, a, h * 0.6);
            let top = by - h * 0.6 - a * t;
            out.push(poly("mark", &[(cx - a * 0.5, top), (cx + a * 0.3, top - 6.0), (cx + a * 0.5, top + 2.0)]));
        }
        "loadbalance" | "apigateway" | "vpn" => {
            prism(&mut out, cx, by, a * 1.1, 10.0 + k * 2.0);
            let top = by - 10.0 - k * 2.0 - a * 1.1 * t;
            out.push(poly("mark", &[(cx, top - 8.0), (cx + 8.0, top), (cx, top + 8.0 * t), (cx - 8.0, top)]));
        }
        "cdn" | "dns" | "monitor" => {
            prism(&mut out, cx, by, a * 0.6, 8.0);
            let r = a * 0.8;
            out.push(El {
                tag: "circle",
                attrs: vec![
                    ("class", "f-l".to_string()),
                    ("cx", format!("{cx:.2}")),
                    ("cy", format!("{:.2}", by - 8.0 - r - 6.0)),
                    ("r", format!("{r:.2}")),
                ],
            });
            out.push(ellipse("mark", cx, by - 8.0 - r - 6.0, r, r * 0.35));
        }
        "serverless" | "serverlesslayer" | "machinelearning" | "auth" | "smtp" | "logs" => {
            let r = a * t;
            out.push(poly("f-l", &[(cx - a, by - r), (cx, by), (cx, by - h - 2.0 * r)]));
            out.push(poly("f-r", &[(cx, by), (cx + a, by - r), (cx, by - h - 2.0 * r)]));
        }
        _ => prism(&mut out, cx, by, a, h),
    }
    out
}

/// Symbol view box of the tile symbols (`grid.base`, `grid.entry`, boundary box).
pub const TILE_BOX: (f64, f64) = (100.0, 190.0);

/// The floor tile.
pub fn grid_base() -> Vec<El> {
    let c = 50.0 * tan_angle();
    vec![poly("base", &[(0.0, 190.0 - c), (50.0, 190.0 - 2.0 * c), (100.0, 190.0 - c), (50.0, 190.0)])]
}

/// The entry marker: a pale tile with an arrow pointing into the graph.
pub fn grid_entry() -> Vec<El> {
    let c = 50.0 * tan_angle();
    let t = tan_angle();
    vec![
        poly("entry-tile", &[(0.0, 190.0 - c), (50.0, 190.0 - 2.0 * c), (100.0, 190.0 - c), (50.0, 190.0)]),
        poly(
            "entry-arrow",
            &[
                (30.0, 190.0 - c + 10.0 * t),
                (62.0, 190.0 - c - 22.0 * t),
                (56.0, 190.0 - c - 28.0 * t - 6.0),
                (76.0, 190.0 - c - 36.0 * t),
                (70.0, 190.0 - c - 16.0 * t + 4.0),
                (64.0, 190.0 - c - 10.0 * t),
                (36.0, 190.0 - c + 16.0 * t),
            ],
        ),
    ]
}

/// The translucent box around a node.
pub fn boundary_box() -> Vec<El> {
    let c = 50.0 * tan_angle();
    let h = 110.0;
    vec![
        poly("bnd-t", &[(0.0, 190.0 - c - h), (50.0, 190.0 - 2.0 * c - h), (100.0, 190.0 - c - h), (50.0, 190.0 - h)]),
        poly("bnd-s", &[(0.0, 190.0 - c), (50.0, 190.0), (50.0, 190.0 - h), (0.0, 190.0 - c - h)]),
        poly("bnd-s", &[(50.0, 190.0), (100.0, 190.0 - c), (100.0, 190.0 - c - h), (50.0, 190.0 - h)]),
    ]
}

/// Visible height of the boundary box above the node's bottom (for canvas bounds).
pub const BOUNDARY_VISIBLE_H: f64 = 110.0 + 2.0 * 29.34;
