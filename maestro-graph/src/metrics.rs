//! Drawing quality metrics.

use crate::svg::geometry::Pt;

fn orient(a: Pt, b: Pt, c: Pt) -> f64 {
    (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0)
}

/// True when segments `p1-p2` and `q1-q2` properly cross (touching or collinear overlaps
/// and shared endpoints do not count).
pub fn segments_cross(p1: Pt, p2: Pt, q1: Pt, q2: Pt) -> bool {
    let eps = 1e-9;
    let d1 = orient(q1, q2, p1);
    let d2 = orient(q1, q2, p2);
    let d3 = orient(p1, p2, q1);
    let d4 = orient(p1, p2, q2);
    ((d1 > eps && d2 < -eps) || (d1 < -eps && d2 > eps)) && ((d3 > eps && d4 < -eps) || (d3 < -eps && d4 > eps))
}

/// Number of crossings between polylines: each pair of segments from two different
/// polylines that properly cross counts once.
pub fn polyline_crossings(lines: &[Vec<Pt>]) -> usize {
    struct Seg {
        line: usize,
        a: Pt,
        b: Pt,
        x0: f64,
        x1: f64,
    }
    let mut segs: Vec<Seg> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        for w in l.windows(2) {
            let (a, b) = (w[0], w[1]);
            segs.push(Seg { line: i, a, b, x0: a.0.min(b.0), x1: a.0.max(b.0) });
        }
    }
    segs.sort_by(|s, t| s.x0.total_cmp(&t.x0));
    let mut count = 0;
    for i in 0..segs.len() {
        for j in i + 1..segs.len() {
            if segs[j].x0 > segs[i].x1 {
                break;
            }
            if segs[i].line != segs[j].line && segments_cross(segs[i].a, segs[i].b, segs[j].a, segs[j].b) {
                count += 1;
            }
        }
    }
    count
}

/// Parse the `d` attribute of a connector (`M x y x y ...`) back into points.
pub fn parse_path(d: &str) -> Vec<Pt> {
    let nums: Vec<f64> = d.trim_start_matches('M').split_whitespace().filter_map(|t| t.parse().ok()).collect();
    nums.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0], c[1])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_segments() {
        assert!(segments_cross((0.0, 0.0), (2.0, 2.0), (0.0, 2.0), (2.0, 0.0)));
        assert!(!segments_cross((0.0, 0.0), (1.0, 1.0), (1.0, 1.0), (2.0, 0.0)));
        assert!(!segments_cross((0.0, 0.0), (2.0, 0.0), (0.0, 1.0), (2.0, 1.0)));
        let lines = vec![vec![(0.0, 0.0), (2.0, 2.0)], vec![(0.0, 2.0), (2.0, 0.0)], vec![(3.0, 0.0), (4.0, 0.0)]];
        assert_eq!(polyline_crossings(&lines), 1);
        assert_eq!(parse_path("M1.0 2.0 3.5 4.0"), vec![(1.0, 2.0), (3.5, 4.0)]);
    }
}
