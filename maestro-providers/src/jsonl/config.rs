use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Configuration of the `jsonl` publisher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonlConfig {
    /// Always `jsonl`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Sink name; defaults to `jsonl:<path>`.
    #[serde(default)]
    pub name: Option<String>,
    /// File to append to, or `-` for stdout.
    pub path: PathBuf,
}
