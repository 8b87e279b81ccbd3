//! The [`GraphBuilder`] trait: turn (part of) the inventory into a graph artifact.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::repository::Repository;

/// Status of a graph job, as the original analytics service reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GraphStatus {
    /// Being built.
    Processing,
    /// Built.
    Finished,
    /// Built with problems (e.g. missing entries).
    Warning,
    /// Failed.
    Error,
}

/// What to build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphRequest {
    /// Tenant whose inventory is read.
    pub tenant: String,
    /// Graph id.
    pub id: String,
    /// Graph type (`business`, `infra`, `network`).
    pub kind: String,
    /// Type-specific parameters (entry apps, systems, clients…).
    pub params: Value,
}

/// A built graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphArtifact {
    /// Final status.
    pub status: GraphStatus,
    /// Human-readable message for warnings/errors.
    pub message: Option<String>,
    /// Metrics (histogram, density, counts).
    pub info: Value,
    /// The drawing, if any.
    pub svg: Option<String>,
    /// GraphML export.
    pub graphml: Option<String>,
    /// JSON node-link export.
    pub node_link: Value,
}

/// Builds one kind of graph from a repository.
///
/// # Contract
/// - MUST read only the request's tenant.
/// - MUST return an artifact with a final status (`finished`, `warning` or `error`) for every
///   input; `Err` is for storage failures only (retriable by the caller).
#[async_trait]
pub trait GraphBuilder: Send + Sync {
    /// The graph type it builds.
    fn kind(&self) -> &str;

    /// Build the graph.
    async fn build(&self, repo: &dyn Repository, request: &GraphRequest) -> Result<GraphArtifact, crate::StorageError>;
}
