//! The `jsonl` publisher: one JSON event per line, to a file (appended, flushed before each
//! event counts as delivered) or to stdout (`path: "-"`).
//!
//! ```yaml
//! type: jsonl
//! path: events.jsonl
//! ```

mod config;
mod publisher;

#[cfg(test)]
mod tests;

pub use config::JsonlConfig;
pub use publisher::JsonlPublisher;

use std::sync::Arc;

use maestro_core::{ConfigErrors, Publisher};
use serde_json::Value;

use crate::util::parse_config;

pub(crate) fn build(_tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Arc<dyn Publisher>> {
    let cfg: JsonlConfig = parse_config(value, path, errors)?;
    if cfg.path.as_os_str().is_empty() {
        errors.push(format!("{path}.path"), "must not be empty (use \"-\" for stdout)");
        return None;
    }
    Some(Arc::new(JsonlPublisher::new(cfg)))
}
