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
    /// Read `paths` on this SSH server (SFTP, verified host key) instead of locally; as for the
    /// `ansible` / `terraform` importers (needs feature `importers`).
    #[cfg(feature = "importers")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<crate::importers::SshSource>,
    /// Read `paths` as object keys of this S3 bucket instead of locally (needs feature
    /// `importers`).
    #[cfg(feature = "importers")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<crate::importers::S3Source>,
}

fn default_page_size() -> usize {
    500
}

impl FileConfig {
    /// A configuration reading local `paths` (object-of-arrays template, 500 items per page).
    pub fn new(connection: &str, paths: Vec<PathBuf>) -> Self {
        Self {
            kind: "file".into(),
            connection: connection.into(),
            paths,
            entity: None,
            page_size: default_page_size(),
            #[cfg(feature = "importers")]
            ssh: None,
            #[cfg(feature = "importers")]
            s3: None,
        }
    }

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
        #[cfg(feature = "importers")]
        crate::importers::FileSource::validate(self.ssh.as_ref(), self.s3.as_ref(), path, errors);
        errors.problems.len() == before
    }
}
