//! A layered (Sugiyama-style) layout for containment graphs (infra, network):
//! cycle removal, longest-path layering, dummy nodes for long edges, barycentric crossing
//! reduction with the transpose heuristic, and coordinate assignment (nodes pulled toward
//! their neighbours' mean position, order and gaps kept).
//!
//! Deterministic: ties are broken by node index everywhere.

use serde::Serialize;

/// Layout parameters.
#[derive(Debug, Clone, Copy)]
pub struct LayeredOptions {
    /// Distance between layers (x).
    pub layer_gap: f64,
    /// Distance between nodes of one layer (y).
    pub node_gap: f64,
    /// Barycenter sweeps (each = one down and one up pass).
    pub sweeps: usize,
}

impl Default for LayeredOptions {
    fn default() -> Self {
        LayeredOptions { layer_gap: 220.0, node_gap: 60.0, sweeps: 12 }
    }
}

/// Result of [`layered_layout`].
#[derive(Debug, Clone, Serialize)]
pub struct LayeredLayout {
    /// Layer of each real node.
    pub layer: Vec<usize>,
    /// Position of each real node (centre).
    pub pos: Vec<(f64, f64)>,
    /// For each input edge, its polyline (source centre, dummy points, target centre);
    /// empty for self-loops.
    pub paths: Vec<Vec<(f64, f64)>>,
    /// Input edges reversed to break cycles (indices into the edge list).
    pub reversed: Vec<usize>,
    /// Crossings between adjacent layers after crossing reduction.
    pub crossings: usize,
    /// Crossings with the initial order (before reduction).
    pub initial_crossings: usize,
    /// Number of layers.
    pub layers: usize,
}

/// Lay out `n` nodes and directed `edges`.
pub fn layered_layout(n: usize, edges: &[(usize, usize)], opt: LayeredOptions) -> LayeredLayout {
    // 1. cycle removal: iterative DFS in index order; back edges are reversed
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (i, &(a, b)) in edges.iter().enumerate() {
        if a != b {
            out[a].push((b, i));
        }
    }
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut reversed = Vec::new();
    for s in 0..n {
        if state[s] != 0 {
            continue;
        }
        let mut stack = vec![(s, 0usize)];
        state[s] = 1;
        while let Some(&mut (v, ref mut k)) = stack.last_mut() {
            if *k < out[v].len() {
                let (w, ei) = out[v][*k];
                *k += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed.push(ei),
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    reversed.sort_unstable();
    let dag: Vec<(usize, usize)> = edges
        .iter()
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, &(a, b))| if reversed.binary_search(&i).is_ok() { (b, a) } else { (a, b) })
        .collect();

    // 2. longest-path layering (Kahn, ties by index)
    let mut indeg = vec![0usize; n];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &dag {
        succ[a].push(b);
        indeg[b] += 1;
    }
    let mut layer = vec![0usize; n];
    let mut ready: std::collections::BTreeSet<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    while let Some(v) = ready.pop_first() {
        for &w in &succ[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                ready.insert(w);
            }
        }
    }
    let layers = layer.iter().max().map_or(0, |m| m + 1);

    // 3. dummy nodes: virtual graph with nodes 0..n real, n.. dummies
    let mut vlayer = layer.clone();
    let mut vedges: Vec<(usize, usize)> = Vec::new();
    let mut chains: Vec<Vec<usize>> = Vec::with_capacity(dag.len());
    for &(a, b) in &dag {
        let mut chain = vec![a];
        let mut prev = a;
        for l in layer[a] + 1..layer[b] {
            let d = vlayer.len();
            vlayer.push(l);
            vedges.push((prev, d));
            chain.push(d);
            prev = d;
        }
        vedges.push((prev, b));
        chain.push(b);
        chains.push(chain);
    }
    let vn = vlayer.len();
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); vn];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); vn];
    for &(a, b) in &vedges {
        down[a].push(b);
        up[b].push(a);
    }

    // 4. initial order: by index within each layer
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for v in 0..vn {
        order[vlayer[v]].push(v);
    }
    let initial_crossings = count_crossings(&order, &down, vn);

    // 5. barycentric sweeps, keep the best
    let mut best = order.clone();
    let mut best_c = initial_crossings;
    let mut pos = vec![0usize; vn];
    for _ in 0..opt.sweeps {
        for l in 1..layers {
            reorder(&mut order, l, &up, &mut pos);
        }
        for l in (0..layers.saturating_sub(1)).rev() {
            reorder(&mut order, l, &down, &mut pos);
        }
        transpose(&mut order, &up, &down, &mut pos);
        let c = count_crossings(&order, &down, vn);
        if c < best_c {
            best_c = c;
            best = order.clone();
        }
        if best_c == 0 {
            break;
        }
    }
    let order = best;

    // 6. coordinates: x by layer; y starts as the rank (layers centred), then a few
    //    passes pull each node toward the mean y of its neighbours in the previous
    //    layer (down) / next layer (up), keeping the order and the minimum gap
    let tallest = order.iter().map(Vec::len).max().unwrap_or(0) as f64;
    let mut y = vec![0.0f64; vn];
    for row in &order {
        let off = (tallest - row.len() as f64) * opt.node_gap / 2.0;
        for (k, &v) in row.iter().enumerate() {
            y[v] = off + k as f64 * opt.node_gap;
        }
    }
    for pass in 0..opt.sweeps.min(8) {
        let (adj, rows): (&[Vec<usize>], Vec<usize>) = if pass % 2 == 0 {
            (&up, (1..layers).collect())
        } else {
            (&down, (0..layers.saturating_sub(1)).rev().collect())
        };
        for l in rows {
            let row = &order[l];
            let desired: Vec<f64> = row
                .iter()
                .map(|&v| {
                    let ns = &adj[v];
                    if ns.is_empty() { y[v] } else { ns.iter().map(|&u| y[u]).sum::<f64>() / ns.len() as f64 }
                })
                .collect();
            let place = compact(&desired, opt.node_gap);
            for (k, &v) in row.iter().enumerate() {
                y[v] = place[k];
            }
        }
    }
    let min_y = y.iter().copied().fold(f64::INFINITY, f64::min);
    let min_y = if min_y.is_finite() { min_y } else { 0.0 };
    let mut vpos = vec![(0.0, 0.0); vn];
    for v in 0..vn {
        vpos[v] = (vlayer[v] as f64 * opt.layer_gap, y[v] - min_y);
    }

    // 7. edge paths through the dummies, in input edge order
    let mut paths = vec![Vec::new(); edges.len()];
    let mut ci = 0;
    for (i, &(a, b)) in edges.iter().enumerate() {
        if a == b {
            continue;
        }
        let mut p: Vec<(f64, f64)> = chains[ci].iter().map(|&v| vpos[v]).collect();
        if reversed.binary_search(&i).is_ok() {
            p.reverse();
        }
        paths[i] = p;
        ci += 1;
    }
    LayeredLayout { layer, pos: vpos[..n].to_vec(), paths, reversed, crossings: best_c, initial_crossings, layers }
}

/// Positions as close as possible to `desired` (in order) with at least `gap` between
/// neighbours: the mean of a forward and a backward greedy pass (both keep the gap, so
/// their mean does too).
fn compact(desired: &[f64], gap: f64) -> Vec<f64> {
    let n = desired.len();
    let mut f = desired.to_vec();
    for k in 1..n {
        f[k] = f[k].max(f[k - 1] + gap);
    }
    let mut b = desired.to_vec();
    for k in (0..n.saturating_sub(1)).rev() {
        b[k] = b[k].min(b[k + 1] - gap);
    }
    f.iter().zip(&b).map(|(x, y)| (x + y) / 2.0).collect()
}

/// Crossings between the edges of `u` and of `v` (u left of v) toward one neighbour layer.
fn pair_crossings(u: usize, v: usize, adj: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut c = 0;
    for &a in &adj[u] {
        for &b in &adj[v] {
            if pos[a] > pos[b] {
                c += 1;
            }
        }
    }
    c
}

/// The "transpose" heuristic: swap adjacent nodes of a layer while that removes crossings
/// with both neighbour layers (a few rounds).
fn transpose(order: &mut [Vec<usize>], up: &[Vec<usize>], down: &[Vec<usize>], pos: &mut [usize]) {
    for row in order.iter() {
        for (k, &v) in row.iter().enumerate() {
            pos[v] = k;
        }
    }
    for _ in 0..4 {
        let mut improved = false;
        for row in order.iter_mut() {
            for k in 0..row.len().saturating_sub(1) {
                let (u, v) = (row[k], row[k + 1]);
                let now = pair_crossings(u, v, up, pos) + pair_crossings(u, v, down, pos);
                let swapped = pair_crossings(v, u, up, pos) + pair_crossings(v, u, down, pos);
                if swapped < now {
                    row.swap(k, k + 1);
                    pos[u] = k + 1;
                    pos[v] = k;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
}

fn reorder(order: &mut [Vec<usize>], l: usize, adj: &[Vec<usize>], pos: &mut [usize]) {
    for row in order.iter() {
        for (k, &v) in row.iter().enumerate() {
            pos[v] = k;
        }
    }
    let mut keyed: Vec<(f64, usize, usize)> = order[l]
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            let ns = &adj[v];
            let bc =
                if ns.is_empty() { k as f64 } else { ns.iter().map(|&u| pos[u] as f64).sum::<f64>() / ns.len() as f64 };
            (bc, k, v)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    order[l] = keyed.into_iter().map(|(_, _, v)| v).collect();
}

/// Crossings between adjacent layers of a layered order (edges go from layer l to l+1).
pub fn count_crossings(order: &[Vec<usize>], down: &[Vec<usize>], vn: usize) -> usize {
    let mut pos = vec![0usize; vn];
    for row in order {
        for (k, &v) in row.iter().enumerate() {
            pos[v] = k;
        }
    }
    let mut total = 0;
    for row in order {
        let mut es: Vec<(usize, usize)> = Vec::new();
        for &v in row {
            for &w in &down[v] {
                es.push((pos[v], pos[w]));
            }
        }
        es.sort_unstable();
        // count inversions of the target positions (O(E log E) with a Fenwick tree)
        let m = es.iter().map(|e| e.1).max().map_or(0, |x| x + 1);
        let mut tree = vec![0usize; m + 1];
        for (seen, &(_, t)) in es.iter().enumerate() {
            // number of earlier edges with target > t
            let mut i = t + 1;
            let mut le = 0;
            while i > 0 {
                le += tree[i];
                i &= i - 1;
            }
            total += seen - le;
            let mut i = t + 1;
            while i <= m {
                tree[i] += 1;
                i += i & i.wrapping_neg();
            }
        }
    }
    total
}

/// Aggregate edges between groups: `(group of source, group of target) → count`, for
/// edges whose endpoints are in different groups; sorted by group pair.
pub fn aggregate_edges(
    edges: &[(usize, usize)],
    group_of: &dyn Fn(usize) -> Option<usize>,
) -> Vec<(usize, usize, usize)> {
    let mut m: std::collections::BTreeMap<(usize, usize), usize> = Default::default();
    for &(a, b) in edges {
        if let (Some(ga), Some(gb)) = (group_of(a), group_of(b))
            && ga != gb
        {
            *m.entry((ga, gb)).or_insert(0) += 1;
        }
    }
    m.into_iter().map(|((a, b), c)| (a, b, c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycle_is_broken_and_long_edges_get_dummies() {
        // 0→1→2→0 cycle, 0→3, 3→2 (long)
        let edges = [(0, 1), (1, 2), (2, 0), (0, 3), (1, 3)];
        let l = layered_layout(4, &edges, LayeredOptions::default());
        assert_eq!(l.reversed, vec![2]);
        assert_eq!(l.layer[0], 0);
        assert_eq!(l.layer[1], 1);
        assert_eq!(l.layer[2], 2);
        assert_eq!(l.layer[3], 2);
        // reversed edge 2→0 spans two layers: one dummy point, path runs 2 → 0
        assert_eq!(l.paths[2].len(), 3);
        assert_eq!(l.paths[2][0], l.pos[2]);
        assert_eq!(*l.paths[2].last().unwrap(), l.pos[0]);
        // every edge goes from its source to its target
        for (i, &(a, b)) in edges.iter().enumerate() {
            assert_eq!(l.paths[i][0], l.pos[a]);
            assert_eq!(*l.paths[i].last().unwrap(), l.pos[b]);
        }
    }

    #[test]
    fn barycenter_removes_an_avoidable_crossing() {
        // layer 0: 0, 1; layer 1: 2, 3; edges 0→3, 1→2 cross in index order
        let l = layered_layout(4, &[(0, 3), (1, 2)], LayeredOptions::default());
        assert_eq!(l.initial_crossings, 1);
        assert_eq!(l.crossings, 0);
    }

    #[test]
    fn compact_keeps_order_and_gap() {
        let p = compact(&[10.0, 10.0, 5.0, 100.0], 4.0);
        for w in p.windows(2) {
            assert!(w[1] - w[0] >= 4.0 - 1e-9, "{p:?}");
        }
        assert!((p[3] - 100.0).abs() < 1e-9);
    }

    #[test]
    fn crossing_count_and_aggregation() {
        let order = vec![vec![0, 1], vec![2, 3]];
        let down = vec![vec![3], vec![2], vec![], vec![]];
        assert_eq!(count_crossings(&order, &down, 4), 1);
        let agg = aggregate_edges(&[(0, 1), (0, 2), (1, 2), (3, 0)], &|v| Some(v / 2));
        assert_eq!(agg, vec![(0, 1, 2), (1, 0, 1)]);
    }
}
