//! Summary metrics of a business graph (SPEC §3.7), computed after enrichment (the
//! original computed them before, so its server total was almost always 0).

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::business::BusinessGraph;
use crate::error::Result;
use crate::grid::Grid;
use crate::model::{ClientRef, SystemRef};
use crate::source::{InventorySource, SystemFilter};

/// The metrics stored with a graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BusinessInfo {
    /// Number of apps per (final) grid column.
    pub histogram: BTreeMap<i64, usize>,
    /// Density `E / (N (N − 1))` (0 for N ≤ 1).
    pub density: f64,
    /// Density formatted with two decimals, as the original stored it (`"0.17"`).
    pub density_text: String,
    /// Number of edges.
    pub connections: usize,
    /// Unique systems of the apps (first-seen order).
    pub systems: Vec<SystemRef>,
    /// Apps per family (`Application` when unset).
    pub families: BTreeMap<String, usize>,
    /// Number of apps.
    pub apps_total: usize,
    /// Servers attached to the apps (a server running two apps counts twice, as the
    /// original summed per app).
    pub servers_total: usize,
    /// Unique clients of the systems (first-seen order).
    pub clients: Vec<ClientRef>,
}

/// Density of a directed graph.
pub fn density(nodes: usize, edges: usize) -> f64 {
    if nodes <= 1 { 0.0 } else { edges as f64 / (nodes as f64 * (nodes as f64 - 1.0)) }
}

/// Compute the metrics; `source` is asked for the systems' clients.
///
/// # Errors
/// Errors of the source.
pub fn business_info(g: &BusinessGraph, grid: &Grid, source: &dyn InventorySource) -> Result<BusinessInfo> {
    let mut histogram = BTreeMap::new();
    for (x, col) in grid.columns() {
        let n = col.values().filter(|c| c.is_node()).count();
        histogram.insert(*x, n);
    }
    let d = density(g.node_count(), g.edge_count());
    let mut seen = HashSet::new();
    let mut systems = Vec::new();
    let mut families = BTreeMap::new();
    let mut servers_total = 0;
    for n in g.nodes() {
        for s in &n.app.systems {
            if seen.insert(s.id.clone()) {
                systems.push(s.clone());
            }
        }
        let fam = n.app.family.clone().unwrap_or_else(|| "Application".into());
        *families.entry(fam).or_insert(0) += 1;
        servers_total += n.servers.len();
    }
    let mut clients = Vec::new();
    if !systems.is_empty() {
        let ids: Vec<String> = systems.iter().map(|s| s.id.clone()).collect();
        let mut cseen = HashSet::new();
        for s in source.systems(&SystemFilter::Ids(ids))? {
            for c in s.clients {
                if cseen.insert(c.id.clone()) {
                    clients.push(c);
                }
            }
        }
    }
    Ok(BusinessInfo {
        histogram,
        density: d,
        density_text: format!("{d:.2}"),
        connections: g.edge_count(),
        systems,
        families,
        apps_total: g.node_count(),
        servers_total,
        clients,
    })
}
