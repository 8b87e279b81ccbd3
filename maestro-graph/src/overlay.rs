//! Change overlay: one business graph of two versions of an inventory, with added, removed and
//! changed applications and dependencies drawn distinctly.
//!
//! Both versions are built with the same definition; the drawing is the graph of their union
//! (so removed applications and dependencies keep a place on the grid), marked with what
//! changed: an application is *added* when only the newer graph has it, *removed* when only the
//! older one has it, *changed* when both have it with different fields (family, size, language,
//! datacenter, systems, dependencies, …). Dependencies are added or removed. The versions
//! usually come from the store's as-of reads (`Repository::inventory_as_of`).
//!
//! ```
//! use maestro_graph::model::{App, Dep, GraphDefinition, GraphKind};
//! use maestro_graph::{MemoryInventory, Mark, change_overlay};
//!
//! let mut before = MemoryInventory::new();
//! let mut web = App::new("web", "Web");
//! web.deps = vec![Dep { id: "db".into(), endpoint: None }];
//! before.add_app(web.clone()).add_app(App::new("db", "DB"));
//! let mut after = MemoryInventory::new();
//! web.deps = vec![Dep { id: "cache".into(), endpoint: None }];
//! after.add_app(web).add_app(App::new("cache", "Cache"));
//! let def = GraphDefinition {
//!     id: "g".into(), name: "g".into(), kind: GraphKind::Business,
//!     clients: vec![], systems: vec![], apps: vec!["web".into()],
//! };
//! let o = change_overlay(&before, &after, &def);
//! assert_eq!(o.marks.nodes.get("cache"), Some(&Mark::Added));
//! assert_eq!(o.marks.nodes.get("db"), Some(&Mark::Removed));
//! assert_eq!(o.marks.nodes.get("web"), Some(&Mark::Changed));
//! assert!(o.job.result.unwrap().drawing.svg.contains("change-legend"));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::job::{GraphJob, JobStatus, build_business_graph};
use crate::model::{App, GraphDefinition};
use crate::source::MemoryInventory;
use crate::svg::draw_business_marked;

/// What happened to a node or an edge between two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark {
    /// Only in the newer version.
    Added,
    /// Only in the older version.
    Removed,
    /// In both, with different fields (nodes only).
    Changed,
}

impl Mark {
    /// `added`, `removed` or `changed` (used in CSS classes and `data-change`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Added => "added",
            Mark::Removed => "removed",
            Mark::Changed => "changed",
        }
    }

    /// The colour it is drawn with.
    pub fn color(self) -> &'static str {
        match self {
            Mark::Added => "#2e7d32",
            Mark::Removed => "#c62828",
            Mark::Changed => "#f9a825",
        }
    }
}

/// Marks by application id and by dependency `(from id, to id)`; unmarked means unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeMarks {
    /// Application id → mark.
    pub nodes: BTreeMap<String, Mark>,
    /// `(from, to)` application ids → mark.
    pub edges: BTreeMap<(String, String), Mark>,
}

impl ChangeMarks {
    /// Nothing marked.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.edges.is_empty()
    }
}

/// The overlay: the marks and the job that drew the union graph with them.
#[derive(Debug, Clone)]
pub struct OverlayResult {
    /// What changed.
    pub marks: ChangeMarks,
    /// The union graph's job; its drawing carries the marks. When neither version has a graph,
    /// the newer version's failed job.
    pub job: GraphJob,
}

type Version = (BTreeMap<String, App>, BTreeSet<(String, String)>);

fn version(job: &GraphJob) -> Version {
    let mut apps = BTreeMap::new();
    let mut edges = BTreeSet::new();
    if let Some(r) = &job.result {
        let nodes = r.graph.nodes();
        for n in nodes {
            apps.insert(n.app.id.clone(), n.app.clone());
        }
        for e in r.graph.edges() {
            edges.insert((nodes[e.from].app.id.clone(), nodes[e.to].app.id.clone()));
        }
    }
    (apps, edges)
}

/// Compare two versions of an inventory under one definition and draw the union with marks.
pub fn change_overlay(before: &MemoryInventory, after: &MemoryInventory, def: &GraphDefinition) -> OverlayResult {
    let old_job = build_business_graph(before, def);
    let new_job = build_business_graph(after, def);
    let (old_apps, old_edges) = version(&old_job);
    let (new_apps, new_edges) = version(&new_job);

    let mut marks = ChangeMarks::default();
    for (id, app) in &new_apps {
        match old_apps.get(id) {
            None => {
                marks.nodes.insert(id.clone(), Mark::Added);
            }
            Some(old) if old != app => {
                marks.nodes.insert(id.clone(), Mark::Changed);
            }
            Some(_) => {}
        }
    }
    for id in old_apps.keys().filter(|id| !new_apps.contains_key(*id)) {
        marks.nodes.insert(id.clone(), Mark::Removed);
    }
    for e in new_edges.difference(&old_edges) {
        marks.edges.insert(e.clone(), Mark::Added);
    }
    for e in old_edges.difference(&new_edges) {
        marks.edges.insert(e.clone(), Mark::Removed);
    }

    if old_job.result.is_none() && new_job.result.is_none() {
        return OverlayResult { marks, job: new_job };
    }
    let union = union_inventory(before, after);
    let mut job = build_business_graph(&union, def);
    if let Some(r) = job.result.as_mut() {
        match draw_business_marked(&r.graph, &r.grid, &marks) {
            Ok(d) => r.drawing = d,
            Err(e) => {
                job.status = JobStatus::Error;
                job.msg = format!("[draw] {e}");
            }
        }
    }
    OverlayResult { marks, job }
}

/// The newer inventory plus what only the older one had: removed apps, systems, clients and
/// servers, and removed dependencies and entries of the apps and systems both have.
fn union_inventory(before: &MemoryInventory, after: &MemoryInventory) -> MemoryInventory {
    let mut inv = MemoryInventory::new();
    let old_apps: BTreeMap<&str, &App> = before.all_apps().iter().map(|a| (a.id.as_str(), a)).collect();
    let new_ids: BTreeSet<&str> = after.all_apps().iter().map(|a| a.id.as_str()).collect();
    for a in after.all_apps() {
        let mut a = a.clone();
        if let Some(old) = old_apps.get(a.id.as_str()) {
            for d in &old.deps {
                if !a.deps.iter().any(|x| x.id == d.id) {
                    a.deps.push(d.clone());
                }
            }
        }
        inv.add_app(a);
    }
    for a in before.all_apps().iter().filter(|a| !new_ids.contains(a.id.as_str())) {
        inv.add_app(a.clone());
    }
    let old_systems: BTreeMap<&str, _> = before.all_systems().iter().map(|s| (s.id.as_str(), s)).collect();
    for s in after.all_systems() {
        let mut s = s.clone();
        if let Some(old) = old_systems.get(s.id.as_str()) {
            for e in &old.entry {
                if !s.entry.contains(e) {
                    s.entry.push(e.clone());
                }
            }
        }
        inv.add_system(s);
    }
    let new_systems: BTreeSet<&str> = after.all_systems().iter().map(|s| s.id.as_str()).collect();
    for s in before.all_systems().iter().filter(|s| !new_systems.contains(s.id.as_str())) {
        inv.add_system(s.clone());
    }
    let new_clients: BTreeSet<&str> = after.all_clients().iter().map(|c| c.id.as_str()).collect();
    for c in
        after.all_clients().iter().chain(before.all_clients().iter().filter(|c| !new_clients.contains(c.id.as_str())))
    {
        inv.add_client(c.clone());
    }
    let new_servers: BTreeSet<&str> = after.all_servers().iter().map(|s| s.id.as_str()).collect();
    for s in
        after.all_servers().iter().chain(before.all_servers().iter().filter(|s| !new_servers.contains(s.id.as_str())))
    {
        inv.add_server(s.clone());
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dep, GraphKind};

    fn app(id: &str, deps: &[&str]) -> App {
        let mut a = App::new(id, id);
        a.deps = deps.iter().map(|d| Dep { id: (*d).into(), endpoint: None }).collect();
        a
    }

    fn def(apps: &[&str]) -> GraphDefinition {
        GraphDefinition {
            id: "g".into(),
            name: "g".into(),
            kind: GraphKind::Business,
            clients: vec![],
            systems: vec![],
            apps: apps.iter().map(|a| (*a).into()).collect(),
        }
    }

    #[test]
    fn marks_added_removed_changed_and_keeps_removed_on_the_grid() {
        let mut before = MemoryInventory::new();
        before
            .add_app(app("web", &["api"]))
            .add_app(app("api", &["db", "old"]))
            .add_app(app("db", &[]))
            .add_app(app("old", &[]));
        let mut after = MemoryInventory::new();
        let mut api = app("api", &["db", "new"]);
        api.language = Some("Rust".into());
        after.add_app(app("web", &["api"])).add_app(api).add_app(app("db", &[])).add_app(app("new", &[]));
        let o = change_overlay(&before, &after, &def(&["web"]));
        let n = |id: &str| o.marks.nodes.get(id).copied();
        assert_eq!((n("web"), n("db")), (None, None), "unchanged apps are not marked");
        assert_eq!(n("api"), Some(Mark::Changed));
        assert_eq!(n("new"), Some(Mark::Added));
        assert_eq!(n("old"), Some(Mark::Removed));
        let e = |a: &str, b: &str| o.marks.edges.get(&(a.into(), b.into())).copied();
        assert_eq!(e("api", "new"), Some(Mark::Added));
        assert_eq!(e("api", "old"), Some(Mark::Removed));
        assert_eq!(e("web", "api"), None);
        let r = o.job.result.expect("union graph drawn");
        // Every app of both versions is placed, every dependency of both is drawn.
        assert_eq!(r.graph.node_count(), 5);
        assert_eq!(r.drawing.edges_drawn, 4);
        let svg = &r.drawing.svg;
        assert_eq!(svg.matches("data-change=\"added\"").count(), 1);
        assert_eq!(svg.matches("data-change=\"removed\"").count(), 1);
        assert_eq!(svg.matches("data-change=\"changed\"").count(), 1);
        assert_eq!(svg.matches("class=\"edge change-added\"").count(), 1);
        assert_eq!(svg.matches("class=\"edge change-removed\"").count(), 1);
        assert_eq!(svg.matches("stroke-dasharray").count(), 1, "only the removed dependency is dashed");
        assert!(svg.contains("id=\"change-legend\""));
    }

    #[test]
    fn identical_versions_mark_nothing_and_draw_like_the_plain_graph() {
        let mut inv = MemoryInventory::new();
        inv.add_app(app("web", &["api"])).add_app(app("api", &[]));
        let o = change_overlay(&inv, &inv, &def(&["web"]));
        assert!(o.marks.is_empty());
        let plain = build_business_graph(&inv, &def(&["web"])).result.expect("graph").drawing.svg;
        assert_eq!(o.job.result.expect("graph").drawing.svg, plain);
    }

    #[test]
    fn no_graph_in_either_version_returns_the_failed_job() {
        let inv = MemoryInventory::new();
        let o = change_overlay(&inv, &inv, &def(&["nothing"]));
        assert!(o.job.result.is_none());
        assert_ne!(o.job.status, JobStatus::Finished);
    }
}
