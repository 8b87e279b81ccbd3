//! The grid placement of the business graph (SPEC §3.5): columns are dependency depth
//! (left → right), rows grow downward, a node may span several rows.
//!
//! The algorithm is a literal port of the original's `GridOrchestrator` and patterns
//! (`predecessors_balance`, `chess_pawn`, `chess_horse`, `soft_balance`,
//! `child_balance`, `set_position`, then `HelperClearEmptyLines`), with these changes:
//!
//! * **Determinism**: every "set" of the original is replaced by the graph's insertion
//!   order (predecessors/successors in edge insertion order, entries in the given order).
//! * **No recursion cap**: the placement walk uses an explicit stack instead of a
//!   recursion capped at depth 30, and any node left unplaced is placed afterwards.
//! * `make_swift` skips missing columns instead of raising `KeyError`; a column left
//!   empty is removed instead of crashing `max()`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::business::BusinessGraph;

/// What a grid cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Cell {
    /// A node (index into the graph's nodes).
    Node(usize),
    /// Plain dummy (`'-'`): a reserved lane.
    Dummy,
    /// Grow mark (`'--'`): a row covered by a node of size > 1.
    Grow,
    /// Force mark (`'-f'`): room left for a shifted root's entry marker.
    Force,
}

impl Cell {
    /// True for a node.
    pub fn is_node(self) -> bool {
        matches!(self, Cell::Node(_))
    }

    /// The original's label for dummies (`-`, `--`, `-f`); `None` for nodes.
    pub fn dummy_label(self) -> Option<&'static str> {
        match self {
            Cell::Node(_) => None,
            Cell::Dummy => Some("-"),
            Cell::Grow => Some("--"),
            Cell::Force => Some("-f"),
        }
    }
}

/// Cells covered by node spans: `(x, y) → node`.
pub type SpanMap = BTreeMap<(i64, i64), usize>;

/// Two nodes claiming one cell: `(first node, second node, x, y)`.
pub type Overlap = (usize, usize, i64, i64);

/// Where a node was placed: column `x`, top row `y`, `size` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// Column.
    pub x: i64,
    /// Top row.
    pub y: i64,
    /// Number of rows spanned (≥ 1).
    pub size: i64,
}

/// The input the placement needs: adjacency in a fixed order, weights and root flags.
#[derive(Debug, Clone, Default)]
pub struct LayoutInput {
    /// Successors per node.
    pub succ: Vec<Vec<usize>>,
    /// Predecessors per node.
    pub pred: Vec<Vec<usize>>,
    /// Column hint per node.
    pub weight: Vec<i64>,
    /// Root (entry) flag per node.
    pub root: Vec<bool>,
}

impl LayoutInput {
    /// Take the layout input from a business graph.
    pub fn from_graph(g: &BusinessGraph) -> Self {
        let n = g.node_count();
        LayoutInput {
            succ: (0..n).map(|i| g.successors(i).to_vec()).collect(),
            pred: (0..n).map(|i| g.predecessors(i).to_vec()).collect(),
            weight: g.nodes().iter().map(|x| x.weight).collect(),
            root: g.nodes().iter().map(|x| x.root).collect(),
        }
    }
}

/// A placed grid: cells by column then row, plus each node's placement.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Grid {
    cols: BTreeMap<i64, BTreeMap<i64, Cell>>,
    pos: Vec<Option<Placement>>,
    order: Vec<usize>,
}

impl Grid {
    /// An empty grid for `n` nodes.
    pub fn new(n: usize) -> Self {
        Grid { cols: BTreeMap::new(), pos: vec![None; n], order: Vec::new() }
    }

    /// Build a grid from explicit parts (used to redraw a known grid, e.g. the oracle).
    /// `cells` must contain every node's top cell as `Cell::Node`.
    pub fn from_parts(n: usize, cells: &[((i64, i64), Cell)], placements: &[(usize, Placement)]) -> Self {
        let mut g = Grid::new(n);
        for &((x, y), c) in cells {
            g.set(x, y, c);
        }
        for &(i, p) in placements {
            g.pos[i] = Some(p);
            g.order.push(i);
            g.set(p.x, p.y, Cell::Node(i));
        }
        g
    }

    /// Columns (ascending) with their cells (ascending rows).
    pub fn columns(&self) -> &BTreeMap<i64, BTreeMap<i64, Cell>> {
        &self.cols
    }

    /// The cell at `(x, y)`.
    pub fn get(&self, x: i64, y: i64) -> Option<Cell> {
        self.cols.get(&x).and_then(|c| c.get(&y)).copied()
    }

    /// Placement of node `n`.
    pub fn placement(&self, n: usize) -> Option<Placement> {
        self.pos.get(n).copied().flatten()
    }

    /// Nodes in placement order.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Largest column index (`None` for an empty grid).
    pub fn max_x(&self) -> Option<i64> {
        self.cols.keys().next_back().copied()
    }

    /// Number of columns.
    pub fn column_count(&self) -> usize {
        self.cols.len()
    }

    /// `next_y(x)`: 0 for an absent column, else the largest row + 1.
    pub fn next_y(&self, x: i64) -> i64 {
        self.cols.get(&x).and_then(|c| c.keys().next_back()).map_or(0, |y| y + 1)
    }

    fn set(&mut self, x: i64, y: i64, c: Cell) {
        self.cols.entry(x).or_default().insert(y, c);
    }

    fn create_dummy(&mut self, x: i64, y: i64, c: Cell) {
        let col = self.cols.entry(x).or_default();
        col.entry(y).or_insert(c);
    }

    fn remove(&mut self, x: i64, y: i64) -> Option<Cell> {
        let col = self.cols.get_mut(&x)?;
        let c = col.remove(&y);
        if col.is_empty() {
            self.cols.remove(&x);
        }
        c
    }

    /// Scanning rows `y2` down to `y1` of column `x`, the first node.
    pub fn find_next_node(&self, y1: i64, y2: i64, x: i64) -> Option<usize> {
        let col = self.cols.get(&x)?;
        if y2 < y1 {
            return None;
        }
        col.range(y1..=y2).rev().find_map(|(_, c)| match c {
            Cell::Node(n) => Some(*n),
            _ => None,
        })
    }

    fn make_swift(&mut self, node: usize, loc: i64) {
        let Some(p) = self.pos[node] else { return };
        let Some(max_x) = self.max_x() else { return };
        let diff = loc - p.x;
        let mut col = max_x;
        while col >= p.x {
            for line in p.y..p.y + p.size {
                if let Some(Cell::Node(m)) = self.remove(col, line)
                    && let Some(q) = self.pos[m]
                {
                    let np = Placement { x: q.x + diff, ..q };
                    self.pos[m] = Some(np);
                    self.set(np.x, np.y, Cell::Node(m));
                }
            }
            col -= 1;
        }
    }

    fn x_of(&self, n: usize) -> Option<i64> {
        self.pos[n].map(|p| p.x)
    }

    /// Run the placement for `entries` (node indices, in order), then clear empty
    /// columns. See the module documentation.
    pub fn layout(input: &LayoutInput, entries: &[usize]) -> Grid {
        let n = input.weight.len();
        let mut g = Grid::new(n);
        g.walk(input, entries.to_vec());
        for i in 0..n {
            if g.pos[i].is_none() {
                g.walk(input, vec![i]);
            }
        }
        g.clear_empty_columns();
        g
    }

    fn walk(&mut self, input: &LayoutInput, list: Vec<usize>) {
        let mut stack: Vec<(Vec<usize>, usize)> = vec![(list, 0)];
        while let Some(top) = stack.last_mut() {
            if top.1 >= top.0.len() {
                stack.pop();
                continue;
            }
            let item = top.0[top.1];
            top.1 += 1;
            if self.pos[item].is_some() {
                continue;
            }
            let succ = self.place(input, item);
            stack.push((succ, 0));
        }
    }

    fn weight_of(&self, input: &LayoutInput, s: usize) -> i64 {
        self.x_of(s).unwrap_or(input.weight[s])
    }

    /// Place one node; returns its ordered successors.
    fn place(&mut self, input: &LayoutInput, n: usize) -> Vec<usize> {
        // step
        let mut most = input.weight[n];
        for &p in &input.pred[n] {
            let wn = self.x_of(p).unwrap_or(0);
            if most < wn {
                most = wn + 1;
            }
        }
        let first_step = most;
        let mut step = most;

        // successor classes (computed once, against the step before chess_pawn)
        let mut direct = Vec::new();
        let mut subdirect = Vec::new();
        let mut direct_nd = Vec::new();
        let mut sub_nd = Vec::new();
        for &s in &input.succ[n] {
            let d = self.weight_of(input, s) - first_step;
            let placed = self.pos[s].is_some();
            if d <= 1 {
                direct.push(s);
                if !placed {
                    direct_nd.push(s);
                }
            } else {
                subdirect.push(s);
                if !placed {
                    sub_nd.push(s);
                }
            }
        }

        // predecessors_balance
        if let Some(p) = input.pred[n].iter().find_map(|&p| self.pos[p]) {
            let ny = self.next_y(step);
            for y in ny..p.y {
                self.create_dummy(step, y, Cell::Dummy);
            }
        }

        // chess_pawn
        if input.root[n] && input.weight[n] > 0 {
            let y = self.next_y(step);
            self.create_dummy(step, y, Cell::Force);
            step += 1;
        }

        // chess_horse
        if !subdirect.is_empty() {
            let drawn_sub = subdirect.len() - sub_nd.len();
            let posy = self.next_y(step);
            let mut diff = 0;
            for &s in &subdirect {
                let w = self.weight_of(input, s);
                let sw = self.eligible(s, w);
                diff = w + sw - step;
            }
            if drawn_sub == 0 {
                diff -= 1;
            }
            for k in 1..=diff {
                self.create_dummy(step + k, posy, Cell::Dummy);
            }
            if !direct_nd.is_empty() {
                self.balance_nodes(step, 1);
            }
        }

        // soft_balance
        if !(subdirect.is_empty() && direct_nd.is_empty()) {
            let a = self.next_y(step);
            let b = self.next_y(step + 1);
            for y in b..a {
                self.create_dummy(step + 1, y, Cell::Dummy);
            }
        }

        // child_balance
        if direct_nd.len() >= 2 {
            self.balance_nodes(step, direct_nd.len() as i64 - 1);
        }

        // set_position
        let y = self.next_y(step);
        let mut size = direct_nd.len() as i64 + i64::from(!subdirect.is_empty());
        if size >= 2 {
            for k in 1..size {
                self.create_dummy(step, y + k, Cell::Grow);
            }
        } else {
            size = 1;
        }
        self.set(step, y, Cell::Node(n));
        self.pos[n] = Some(Placement { x: step, y, size });
        self.order.push(n);

        // ordered successors
        let mut direct_sorted = direct_nd;
        direct_sorted.sort_by_key(|&s| self.rating(input, s, n));
        let mut out = sub_nd;
        out.extend(direct_sorted);
        out
    }

    fn rating(&self, input: &LayoutInput, s: usize, parent: usize) -> i64 {
        let preds = &input.pred[s];
        if preds.len() < 2 {
            return 0;
        }
        preds.iter().filter(|&&p| p != parent).map(|&p| if self.pos[p].is_some() { -1 } else { 1 }).sum()
    }

    fn eligible(&mut self, s: usize, w: i64) -> i64 {
        let Some(p) = self.pos[s] else { return 0 };
        let y1 = p.y + p.size;
        let y2 = self.next_y(w);
        let mut c = p.x;
        let mx = c + 20;
        while c <= mx {
            match self.find_next_node(y1, y2, c) {
                None => break,
                Some(m) if m == s => break,
                Some(_) => c += 1,
            }
        }
        if c != p.x {
            self.make_swift(s, c);
        }
        c - p.x
    }

    fn balance_nodes(&mut self, step: i64, q: i64) {
        for c in 0..step {
            let last = self.next_y(c);
            for k in 0..q {
                self.create_dummy(c, last + k, Cell::Grow);
            }
            if let Some(a) = self.find_next_node(0, last + 1, c)
                && let Some(p) = self.pos[a].as_mut()
            {
                p.size += q;
            }
        }
    }

    /// Remove columns that hold only `-` / `--` dummies (a `-f` counts as content) and
    /// shift later columns left.
    pub fn clear_empty_columns(&mut self) {
        let old = std::mem::take(&mut self.cols);
        let mut removed = 0;
        for (x, col) in old {
            let empty = col.values().all(|c| matches!(c, Cell::Dummy | Cell::Grow));
            if empty {
                removed += 1;
                continue;
            }
            let nx = x - removed;
            for c in col.values() {
                if let Cell::Node(m) = c
                    && let Some(p) = self.pos[*m].as_mut()
                {
                    p.x = nx;
                }
            }
            self.cols.insert(nx, col);
        }
    }

    /// Cells occupied by node spans: `(x, y) → node` for every row of every node.
    /// Returns `Err((a, b, x, y))` when two nodes claim the same cell.
    pub fn span_cells(&self) -> Result<SpanMap, Overlap> {
        let mut m = BTreeMap::new();
        for &n in &self.order {
            let Some(p) = self.pos[n] else { continue };
            for y in p.y..p.y + p.size {
                if let Some(&o) = m.get(&(p.x, y)) {
                    return Err((o, n, p.x, y));
                }
                m.insert((p.x, y), n);
            }
        }
        Ok(m)
    }

    /// Text rendering for tests and debugging: one line per column, `x: y=label ...`.
    pub fn to_text(&self, names: &dyn Fn(usize) -> String) -> String {
        let mut s = String::new();
        for (x, col) in &self.cols {
            s.push_str(&format!("{x}:"));
            for (y, c) in col {
                let l = match c {
                    Cell::Node(n) => names(*n),
                    other => other.dummy_label().unwrap_or_default().to_string(),
                };
                s.push_str(&format!(" {y}={l}"));
            }
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::graph_lookup;
    use crate::model::App;
    use crate::source::MemoryInventory;

    /// Build the graph of `apps` from `entries` and lay it out.
    fn run(apps: Vec<App>, entries: &[&str]) -> (BusinessGraph, Grid) {
        let mut inv = MemoryInventory::new();
        for a in apps {
            inv.add_app(a);
        }
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        let (lookups, _) = graph_lookup(&inv, &entries, 40).unwrap();
        let g = BusinessGraph::from_lookup(&lookups);
        let ix: Vec<usize> = entries.iter().filter_map(|e| g.node_index(e)).collect();
        let grid = Grid::layout(&LayoutInput::from_graph(&g), &ix);
        (g, grid)
    }

    fn text(g: &BusinessGraph, grid: &Grid) -> String {
        grid.to_text(&|n| g.nodes()[n].app.id.clone())
    }

    fn at(g: &BusinessGraph, grid: &Grid, id: &str) -> (i64, i64, i64) {
        let p = grid.placement(g.node_index(id).unwrap()).unwrap();
        (p.x, p.y, p.size)
    }

    #[test]
    fn fork_a_to_b_and_c() {
        let (g, grid) = run(
            vec![App::new("A", "A").with_dep("B", None).with_dep("C", None), App::new("B", "B"), App::new("C", "C")],
            &["A"],
        );
        let w: Vec<i64> = g.nodes().iter().map(|n| n.weight).collect();
        assert_eq!(w, vec![0, 1, 1]);
        assert_eq!(text(&g, &grid), "0: 0=A 1=--\n1: 0=B 1=C\n");
        assert_eq!(at(&g, &grid, "A"), (0, 0, 2));
        assert_eq!(at(&g, &grid, "B"), (1, 0, 1));
        assert_eq!(at(&g, &grid, "C"), (1, 1, 1));
    }

    #[test]
    fn chain_a_b_c() {
        let (g, grid) = run(
            vec![App::new("A", "A").with_dep("B", None), App::new("B", "B").with_dep("C", None), App::new("C", "C")],
            &["A"],
        );
        assert_eq!(at(&g, &grid, "A"), (0, 0, 1));
        assert_eq!(at(&g, &grid, "B"), (1, 0, 1));
        assert_eq!(at(&g, &grid, "C"), (2, 0, 1));
        assert_eq!(text(&g, &grid), "0: 0=A\n1: 0=B\n2: 0=C\n");
    }

    #[test]
    fn long_edge_reserves_a_lane() {
        let (g, grid) = run(
            vec![
                App::new("A", "A").with_dep("B", None).with_dep("C", None),
                App::new("B", "B").with_dep("C", None),
                App::new("C", "C"),
            ],
            &["A"],
        );
        let ab = g.edge(0, 1).unwrap().weight;
        let ac = g.edge(0, 2).unwrap().weight;
        let bc = g.edge(1, 2).unwrap().weight;
        assert_eq!((ab, ac, bc), (0, 0, 1));
        assert_eq!(g.nodes()[2].weight, 2);
        assert_eq!(at(&g, &grid, "A"), (0, 0, 2));
        assert_eq!(at(&g, &grid, "C"), (2, 0, 1));
        assert_eq!(at(&g, &grid, "B"), (1, 1, 1));
        assert_eq!(grid.get(1, 0), Some(Cell::Dummy));
        assert_eq!(grid.get(0, 1), Some(Cell::Grow));
        // C was placed before B: the lane in row 0 is for the long edge A→C
        let order: Vec<&str> = grid.order().iter().map(|&n| g.nodes()[n].app.id.as_str()).collect();
        assert_eq!(order, vec!["A", "C", "B"]);
    }

    #[test]
    fn shifted_root_leaves_a_force_mark() {
        // two entries, the second is also a dependency of the first
        let (g, grid) = run(
            vec![App::new("A", "A").with_dep("B", None), App::new("B", "B").with_dep("C", None), App::new("C", "C")],
            &["A", "B"],
        );
        // B is a root with weight 1: chess_pawn puts '-f' at (1,0) and shifts it right
        assert!(g.nodes()[g.node_index("B").unwrap()].root);
        assert_eq!(at(&g, &grid, "A"), (0, 0, 1));
        assert_eq!(at(&g, &grid, "B"), (2, 0, 1));
        assert_eq!(grid.get(1, 0), Some(Cell::Force));
        // literal port: a predecessor in the same column does not push C right
        assert_eq!(at(&g, &grid, "C"), (2, 1, 1));
        assert!(grid.span_cells().is_ok());
    }

    #[test]
    fn empty_columns_are_removed() {
        let mut g = Grid::new(1);
        g.set(0, 0, Cell::Dummy);
        g.set(1, 0, Cell::Grow);
        g.set(2, 0, Cell::Force);
        g.set(3, 0, Cell::Node(0));
        g.pos[0] = Some(Placement { x: 3, y: 0, size: 1 });
        g.clear_empty_columns();
        assert_eq!(g.get(0, 0), Some(Cell::Force));
        assert_eq!(g.placement(0).unwrap().x, 1);
        assert_eq!(g.column_count(), 2);
    }

    #[test]
    fn deep_chain_has_no_recursion_cap() {
        let n = 60;
        let apps: Vec<App> = (0..n)
            .map(|i| {
                let a = App::new(format!("n{i}"), format!("n{i}"));
                if i + 1 < n { a.with_dep(&format!("n{}", i + 1), None) } else { a }
            })
            .collect();
        let (g, grid) = run(apps, &["n0"]);
        // the lookup stops at depth 40 (entry + 41 levels), every looked-up node is placed
        assert_eq!(g.node_count(), 42);
        for i in 0..g.node_count() {
            assert_eq!(grid.placement(i).unwrap().x, i as i64);
        }
    }
}
