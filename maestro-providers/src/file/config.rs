use std::path::PathBuf;

use maestro_core::ConfigErrors;
use serde::{Deserialize, Serialize};

use super::translate::ENTITIES;

/// Configuration of the `file` provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Always `file`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Connection id the imported resources belong to.
    pub connection: String,
    /// Files to read (`.json`, `.yaml`/`.yml`); relative paths are resolved from the working
    /// directory.
    pub paths: Vec<PathBuf>,
    /// Treat every file as one top-level array of this entity (e.g. `servers`) instead of the
    /// object-of-arrays template.
    #[serde(default)]
    pub entity: Option<String>,
    /// Items per page handed to the pipeline.
    #[serde(default = "default_page_size")]
    pub page_size: usize,
}

fn default_page_size() -> usize {
    500
}

impl FileConfig {
    /// Check the fields; record every problem. Returns whether it is valid.
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) -> bool {
        let before = errors.problems.len();
        if self.connection.trim().is_empty() {
            errors.push(format!("{path}.connection"), "must not be empty");
        }
        if self.paths.is_empty() {
            errors.push(format!("{path}.paths"), "list at least one file");
        }
        for (i, p) in self.paths.iter().enumerate() {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "json" | "yaml" | "yml") {
                errors.push(
                    format!("{path}.paths[{i}]"),
                    format!("`{}`: expected a .json, .yaml or .yml file", p.display()),
                );
            }
        }
        if let Some(e) = &self.entity {
            if !ENTITIES.iter().any(|(name, _)| name == e) {
                let known: Vec<&str> = ENTITIES.iter().map(|(n, _)| *n).collect();
                errors.push(format!("{path}.entity"), format!("unknown entity `{e}`; known: {}", known.join(", ")));
            }
        }
        if self.page_size == 0 || self.page_size > 50_000 {
            errors.push(format!("{path}.page_size"), format!("must be 1..=50000, got {}", self.page_size));
        }
        errors.problems.len() == before
    }
}
