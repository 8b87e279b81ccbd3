//! `maestro.Graph`: a drawn graph with its SVG, GraphML and JSON node-link forms.

use maestro_graph::{GraphJob, JobStatus};
use pyo3::prelude::*;
use serde_json::Value;

use crate::convert::to_py;
use crate::errors;

/// A graph built by `Engine.graph`. `status` is `"finished"` (drawn) or `"warning"` (nothing
/// to draw: `svg` is `None` and `message` says why).
#[pyclass(module = "maestro._maestro", frozen)]
pub struct Graph {
    status: String,
    message: String,
    svg: Option<String>,
    graphml: Option<String>,
    node_link: Option<Value>,
    info: Option<Value>,
    entries: Vec<String>,
    warnings: Vec<String>,
}

impl Graph {
    /// Wrap a graph job; a job that failed raises `MaestroError` with its message.
    pub fn from_job(job: GraphJob) -> PyResult<Self> {
        let status = match job.status {
            JobStatus::Finished => "finished",
            JobStatus::Warning => "warning",
            JobStatus::Processing => "processing",
            JobStatus::Error => return Err(errors::MaestroError::new_err(format!("graph failed: {}", job.msg))),
        };
        let mut g = Graph {
            status: status.into(),
            message: job.msg.clone(),
            svg: None,
            graphml: None,
            node_link: None,
            info: None,
            entries: Vec::new(),
            warnings: Vec::new(),
        };
        if let Some(r) = &job.result {
            g.svg = Some(r.drawing.svg.clone());
            g.graphml = Some(
                maestro_graph::to_graphml(&r.graph, &r.grid, &job.graph_id)
                    .map_err(|e| errors::MaestroError::new_err(format!("graph export to GraphML failed: {e}")))?,
            );
            g.node_link = Some(maestro_graph::to_node_link(&r.graph, &r.grid));
            g.info = serde_json::to_value(&r.info).ok();
            g.entries = r.entries.clone();
            g.warnings = r.warnings.clone();
        } else if let Some(r) = &job.infra {
            g.svg = Some(r.svg.clone());
            g.entries = r.entries.clone();
        }
        Ok(g)
    }
}

#[pymethods]
impl Graph {
    /// `"finished"` or `"warning"`.
    #[getter]
    fn status(&self) -> &str {
        &self.status
    }

    /// What the builder said (why nothing was drawn, for a warning).
    #[getter]
    fn message(&self) -> &str {
        &self.message
    }

    /// The SVG drawing (`None` when nothing was drawn).
    #[getter]
    fn svg(&self) -> Option<&str> {
        self.svg.as_deref()
    }

    /// GraphML (business graphs only).
    #[getter]
    fn graphml(&self) -> Option<&str> {
        self.graphml.as_deref()
    }

    /// The node-link JSON as a dict (business graphs only).
    #[getter]
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.node_link.as_ref().map(|v| to_py(py, v)).transpose()
    }

    /// Metrics of a business graph (connections, node counts, …).
    #[getter]
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.info.as_ref().map(|v| to_py(py, v)).transpose()
    }

    /// Entry application ids used.
    #[getter]
    fn entries(&self) -> Vec<String> {
        self.entries.clone()
    }

    /// Non-fatal problems (unknown entries, dependencies outside the lookup).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn __repr__(&self) -> String {
        format!("Graph(status={:?}, entries={:?})", self.status, self.entries)
    }
}
