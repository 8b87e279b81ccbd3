//! The business graph: applications as nodes, dependencies as weighted edges.
//!
//! Determinism: nodes are kept in insertion order (entries in the given order, each
//! followed by its lookup nodes in BFS order); the successors and predecessors of a node
//! are kept in edge insertion order; [`BusinessGraph::edges`] lists edges grouped by
//! source node in node order, then in insertion order (the order networkx's
//! `G.edges` gave the original).

use std::collections::HashMap;

use serde::Serialize;

use crate::lookup::EntryLookup;
use crate::model::{App, Server};

/// A node of the business graph.
#[derive(Debug, Clone, Serialize)]
pub struct BusinessNode {
    /// The application.
    pub app: App,
    /// True when the app is one of the entries.
    pub root: bool,
    /// Column hint: 0 without in-edges, else max in-edge weight + 1.
    pub weight: i64,
    /// Servers attached by the enrichment step.
    pub servers: Vec<Server>,
}

/// An edge `from → to` of the business graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BusinessEdge {
    /// Source node index.
    pub from: usize,
    /// Target node index.
    pub to: usize,
    /// Lookup depth of the source + 1 (0 for edges out of an entry). When an edge is
    /// seen from several entries, the maximum is kept (the original kept the last write).
    pub weight: i64,
    /// Endpoint label (last write wins).
    pub endpoint: Option<String>,
}

/// The business graph.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BusinessGraph {
    nodes: Vec<BusinessNode>,
    #[serde(skip)]
    index: HashMap<String, usize>,
    edges: Vec<BusinessEdge>,
    #[serde(skip)]
    edge_ix: HashMap<(usize, usize), usize>,
    #[serde(skip)]
    succ: Vec<Vec<usize>>,
    #[serde(skip)]
    pred: Vec<Vec<usize>>,
    /// Dependencies that point outside the looked-up set (unknown app, beyond the depth
    /// cap): `(from id, to id)`. They are not drawn.
    pub dropped_edges: Vec<(String, String)>,
}

impl BusinessGraph {
    /// Build the graph from lookup results (see [`crate::lookup::graph_lookup`]).
    pub fn from_lookup(lookups: &[EntryLookup]) -> Self {
        let mut g = BusinessGraph::default();
        let entries: std::collections::HashSet<&str> = lookups.iter().map(|l| l.entry.id.as_str()).collect();
        for l in lookups {
            g.add_node(&l.entry, true);
            for (n, _) in &l.nodes {
                g.add_node(n, entries.contains(n.id.as_str()));
            }
        }
        for l in lookups {
            g.add_edges_of(&l.entry, 0);
            for (n, steps) in &l.nodes {
                g.add_edges_of(n, i64::from(*steps) + 1);
            }
        }
        g.compute_weights();
        g
    }

    /// Recompute node weights: 0 without in-edges, else max in-edge weight + 1.
    pub fn compute_weights(&mut self) {
        for i in 0..self.nodes.len() {
            self.nodes[i].weight =
                self.pred[i].iter().map(|&p| self.edges[self.edge_ix[&(p, i)]].weight + 1).max().unwrap_or(0);
        }
    }

    /// Add a node (ignored when the id exists); returns its index. For building a graph
    /// by hand; [`compute_weights`](Self::compute_weights) afterwards.
    pub fn insert_node(&mut self, app: App, root: bool) -> usize {
        self.add_node(&app, root);
        self.index[&app.id]
    }

    /// Add or update (max weight, last endpoint) the edge `from → to`.
    pub fn insert_edge(&mut self, from: usize, to: usize, weight: i64, endpoint: Option<String>) {
        match self.edge_ix.get(&(from, to)) {
            Some(&e) => {
                let edge = &mut self.edges[e];
                edge.weight = edge.weight.max(weight);
                edge.endpoint = endpoint;
            }
            None => {
                self.edge_ix.insert((from, to), self.edges.len());
                self.edges.push(BusinessEdge { from, to, weight, endpoint });
                self.succ[from].push(to);
                self.pred[to].push(from);
            }
        }
    }

    fn add_node(&mut self, app: &App, root: bool) {
        if self.index.contains_key(&app.id) {
            return;
        }
        self.index.insert(app.id.clone(), self.nodes.len());
        self.nodes.push(BusinessNode { app: app.clone(), root, weight: 0, servers: Vec::new() });
        self.succ.push(Vec::new());
        self.pred.push(Vec::new());
    }

    fn add_edges_of(&mut self, app: &App, weight: i64) {
        let from = self.index[&app.id];
        for d in &app.deps {
            let Some(&to) = self.index.get(&d.id) else {
                let pair = (app.id.clone(), d.id.clone());
                if !self.dropped_edges.contains(&pair) {
                    self.dropped_edges.push(pair);
                }
                continue;
            };
            self.insert_edge(from, to, weight, d.endpoint.clone());
        }
    }

    /// Nodes in insertion order.
    pub fn nodes(&self) -> &[BusinessNode] {
        &self.nodes
    }

    /// Mutable nodes (the enrichment step attaches servers).
    pub fn nodes_mut(&mut self) -> &mut [BusinessNode] {
        &mut self.nodes
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Index of a node by app id.
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Successor indices of a node, in edge insertion order.
    pub fn successors(&self, n: usize) -> &[usize] {
        &self.succ[n]
    }

    /// Predecessor indices of a node, in edge insertion order.
    pub fn predecessors(&self, n: usize) -> &[usize] {
        &self.pred[n]
    }

    /// The edge `from → to`, if any.
    pub fn edge(&self, from: usize, to: usize) -> Option<&BusinessEdge> {
        self.edge_ix.get(&(from, to)).map(|&e| &self.edges[e])
    }

    /// Edges grouped by source node (node order), then by insertion order.
    pub fn edges(&self) -> Vec<&BusinessEdge> {
        let mut out = Vec::with_capacity(self.edges.len());
        for from in 0..self.nodes.len() {
            for &to in &self.succ[from] {
                out.push(&self.edges[self.edge_ix[&(from, to)]]);
            }
        }
        out
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Attach servers to the nodes they run (enrichment). A server is attached to every
    /// node whose app id is in `Server::applications` or whose `App::servers` lists it;
    /// a server is attached at most once per node.
    pub fn enrich(&mut self, servers: &[Server]) {
        for node in &mut self.nodes {
            node.servers.clear();
        }
        for s in servers {
            for node in &mut self.nodes {
                let linked = s.applications.contains(&node.app.id) || node.app.servers.contains(&s.id);
                if linked && !node.servers.iter().any(|x| x.id == s.id) {
                    node.servers.push(s.clone());
                }
            }
        }
    }
}
