//! The graph job: runs entry → lookup → network → enrichment → info → draw and reports
//! one status, with every failure path mapped (the original left graphs in `process`
//! forever when enrichment, info or draw failed).

use serde::Serialize;

use crate::business::BusinessGraph;
use crate::error::Error;
use crate::grid::{Grid, LayoutInput};
use crate::info::{BusinessInfo, business_info};
use crate::infra::{LayeredGraph, draw_layered, infra_graph};
use crate::layered::{LayeredLayout, LayeredOptions};
use crate::lookup::{Entries, MAX_LOOKUP_DEPTH, graph_lookup, resolve_entries};
use crate::model::{GraphDefinition, GraphKind};
use crate::source::InventorySource;
use crate::svg::{Drawing, draw_business};

/// Status of a graph job (the original's `process|finished|warning|error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Running.
    Processing,
    /// Drawn.
    Finished,
    /// Nothing to draw (no entries, no apps found); not a failure.
    Warning,
    /// Failed; see the message.
    Error,
}

/// The step a job reached (or failed in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Validating the definition.
    Definition,
    /// Resolving entry apps.
    Entry,
    /// Dependency lookup.
    Lookup,
    /// Graph and grid.
    Network,
    /// Attaching servers.
    Enrichment,
    /// Metrics.
    Info,
    /// SVG drawing.
    Draw,
    /// All done.
    Done,
}

/// Everything a finished business graph job produced.
#[derive(Debug, Clone)]
pub struct BusinessGraphResult {
    /// Entry app ids used.
    pub entries: Vec<String>,
    /// The graph (enriched).
    pub graph: BusinessGraph,
    /// The placement.
    pub grid: Grid,
    /// Metrics.
    pub info: BusinessInfo,
    /// The drawing.
    pub drawing: Drawing,
    /// Non-fatal problems (unknown entries, dependencies outside the lookup).
    pub warnings: Vec<String>,
}

/// A graph job's outcome.
#[derive(Debug, Clone)]
pub struct GraphJob {
    /// Graph id.
    pub graph_id: String,
    /// Status.
    pub status: JobStatus,
    /// Stage reached.
    pub stage: Stage,
    /// Human-readable message (`[stage] ...` on warning/error).
    pub msg: String,
    /// The result of a finished business graph.
    pub result: Option<BusinessGraphResult>,
    /// The result of a finished infra graph.
    pub infra: Option<InfraGraphResult>,
}

/// Everything a finished infra graph job produced.
#[derive(Debug, Clone)]
pub struct InfraGraphResult {
    /// Entry app ids used.
    pub entries: Vec<String>,
    /// The containment graph.
    pub graph: LayeredGraph,
    /// Its layered layout.
    pub layout: LayeredLayout,
    /// The SVG.
    pub svg: String,
}

impl GraphJob {
    /// A job that is running.
    pub fn processing(graph_id: &str) -> Self {
        GraphJob {
            graph_id: graph_id.to_string(),
            status: JobStatus::Processing,
            stage: Stage::Definition,
            msg: "processing".into(),
            result: None,
            infra: None,
        }
    }

    fn end(mut self, status: JobStatus, stage: Stage, msg: String) -> Self {
        self.status = status;
        self.stage = stage;
        self.msg = msg;
        self
    }

    fn fail(self, stage: Stage, e: &Error) -> Self {
        let msg = format!("[{stage:?}] {e}").to_lowercase();
        self.end(JobStatus::Error, stage, msg)
    }
}

/// Build, lay out and draw a business graph. Never panics on bad data: every failure is
/// reported in the returned job (`error` for source failures and unsupported types,
/// `warning` when there is nothing to draw).
pub fn build_business_graph(source: &dyn InventorySource, def: &GraphDefinition) -> GraphJob {
    build_business_graph_with(source, def, &mut |_| {})
}

/// As [`build_business_graph`], calling `observer` with the `processing` job first
/// (so a caller can persist it) and never again.
pub fn build_business_graph_with(
    source: &dyn InventorySource,
    def: &GraphDefinition,
    observer: &mut dyn FnMut(&GraphJob),
) -> GraphJob {
    let job = GraphJob::processing(&def.id);
    observer(&job);
    if def.kind != GraphKind::Business {
        let e = Error::UnsupportedGraphType(format!("{:?}", def.kind).to_lowercase());
        return job.fail(Stage::Definition, &e);
    }
    let (job, lookups, warnings) = match entries_and_lookup(source, def, job) {
        Ok(x) => x,
        Err(job) => return *job,
    };
    let mut warnings = warnings;
    let mut graph = BusinessGraph::from_lookup(&lookups);
    warnings
        .extend(graph.dropped_edges.iter().map(|(a, b)| format!("dependency `{a}` -> `{b}` is outside the lookup")));
    let input = LayoutInput::from_graph(&graph);
    let entry_ix: Vec<usize> = lookups.iter().filter_map(|l| graph.node_index(&l.entry.id)).collect();
    let grid = Grid::layout(&input, &entry_ix);
    let ids: Vec<String> = graph.nodes().iter().map(|n| n.app.id.clone()).collect();
    let servers = match source.servers_of_apps(&ids) {
        Err(e) => return job.fail(Stage::Enrichment, &e),
        Ok(s) => s,
    };
    graph.enrich(&servers);
    let info = match business_info(&graph, &grid, source) {
        Err(e) => return job.fail(Stage::Info, &e),
        Ok(i) => i,
    };
    let drawing = match draw_business(&graph, &grid) {
        Err(e) => return job.fail(Stage::Draw, &e),
        Ok(d) => d,
    };
    let mut job = job.end(JobStatus::Finished, Stage::Done, "finish".into());
    job.result = Some(BusinessGraphResult {
        entries: lookups.iter().map(|l| l.entry.id.clone()).collect(),
        graph,
        grid,
        info,
        drawing,
        warnings,
    });
    job
}

type Looked = (GraphJob, Vec<crate::lookup::EntryLookup>, Vec<String>);

/// Entry resolution and lookup shared by business and infra jobs; `Err` is the final job.
fn entries_and_lookup(
    source: &dyn InventorySource,
    def: &GraphDefinition,
    job: GraphJob,
) -> Result<Looked, Box<GraphJob>> {
    let entries = match resolve_entries(source, def) {
        Err(e) => return Err(Box::new(job.fail(Stage::Entry, &e))),
        Ok(Entries::NoSystems) => {
            return Err(Box::new(job.end(JobStatus::Error, Stage::Entry, "[entry] no systems found".into())));
        }
        Ok(Entries::NoEntries) => {
            return Err(Box::new(job.end(JobStatus::Warning, Stage::Entry, "[entry] no entry applications".into())));
        }
        Ok(Entries::Found(v)) => v,
    };
    let (lookups, missing) = match graph_lookup(source, &entries, MAX_LOOKUP_DEPTH) {
        Err(e) => return Err(Box::new(job.fail(Stage::Lookup, &e))),
        Ok(x) => x,
    };
    let warnings: Vec<String> = missing.iter().map(|m| format!("entry application `{m}` not found")).collect();
    if lookups.is_empty() {
        return Err(Box::new(job.end(JobStatus::Warning, Stage::Lookup, "[lookup] no applications found".into())));
    }
    Ok((job, lookups, warnings))
}

/// Build and draw the infra graph (datacenter → region → zone → server → application)
/// of the apps a definition reaches (same entry resolution and lookup as the business
/// graph). Errors and warnings are mapped as in [`build_business_graph`].
pub fn build_infra_graph(source: &dyn InventorySource, def: &GraphDefinition) -> GraphJob {
    let job = GraphJob::processing(&def.id);
    let (job, lookups, _warnings) = match entries_and_lookup(source, def, job) {
        Ok(x) => x,
        Err(job) => return *job,
    };
    let graph = BusinessGraph::from_lookup(&lookups);
    let apps: Vec<crate::model::App> = graph.nodes().iter().map(|n| n.app.clone()).collect();
    let ids: Vec<String> = apps.iter().map(|a| a.id.clone()).collect();
    let servers = match source.servers_of_apps(&ids) {
        Err(e) => return job.fail(Stage::Enrichment, &e),
        Ok(s) => s,
    };
    if servers.is_empty() {
        return job.end(JobStatus::Warning, Stage::Enrichment, "[enrichment] no servers".into());
    }
    let g = infra_graph(&servers, &apps);
    let layout = g.layout(LayeredOptions::default());
    let svg = match draw_layered(&g, &layout) {
        Err(e) => return job.fail(Stage::Draw, &e),
        Ok(s) => s,
    };
    let mut job = job.end(JobStatus::Finished, Stage::Done, "finish".into());
    job.infra =
        Some(InfraGraphResult { entries: lookups.iter().map(|l| l.entry.id.clone()).collect(), graph: g, layout, svg });
    job
}

/// Build a graph of either kind: [`build_business_graph`] or [`build_infra_graph`].
pub fn build_graph(source: &dyn InventorySource, def: &GraphDefinition) -> GraphJob {
    match def.kind {
        GraphKind::Business => build_business_graph(source, def),
        GraphKind::Infra => build_infra_graph(source, def),
    }
}
