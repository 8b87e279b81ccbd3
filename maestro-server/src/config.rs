//! The `maestro run` configuration file (YAML or JSON).
//!
//! ```yaml
//! database: sqlite://maestro.db        # or postgres://…; default: $DATABASE_URL, else sqlite://maestro.db
//! tenant: acme
//! pipeline: {batch_size: 1000, scope_concurrency: 4}
//! sources:
//!   - {type: file, connection: demo-files, paths: [examples/data/demo-inventory.json]}
//! publishers:
//!   - {type: jsonl, path: events.jsonl}
//! ```
//!
//! Every problem is reported at once, each with its field path.

use std::path::Path;
use std::sync::Arc;

use maestro_core::{ConfigErrors, PipelineConfig, Publisher, RelayConfig};
use maestro_providers::{Source, build_publisher, build_source};
use serde_json::Value;

/// A loaded, validated configuration.
pub struct RunConfig {
    /// Database URL.
    pub database: String,
    /// Tenant every source writes to.
    pub tenant: String,
    /// Pipeline settings.
    pub pipeline: PipelineConfig,
    /// Relay settings.
    pub relay: RelayConfig,
    /// Sources, in order.
    pub sources: Vec<Source>,
    /// Publishers.
    pub publishers: Vec<Arc<dyn Publisher>>,
}

const TOP_LEVEL: &[&str] = &["database", "tenant", "pipeline", "relay", "sources", "publishers"];

/// Errors loading a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config `{path}`: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML/JSON.
    #[error("config `{path}` is not valid YAML/JSON: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// Parser message with line and column.
        message: String,
    },
    /// The content is invalid.
    #[error("config `{path}`: {errors}")]
    Invalid {
        /// The file.
        path: String,
        /// Every problem.
        errors: ConfigErrors,
    },
}

impl RunConfig {
    /// Read and validate `path`.
    ///
    /// # Errors
    /// Unreadable file, syntax error (with line/column), or every invalid field with its path.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        let value: Value = serde_yaml_ng::from_str(&text)
            .map_err(|e| ConfigError::Syntax { path: path.display().to_string(), message: e.to_string() })?;
        Self::from_value(&value).map_err(|errors| ConfigError::Invalid { path: path.display().to_string(), errors })
    }

    /// Validate a parsed configuration.
    ///
    /// # Errors
    /// Every problem, with its field path.
    pub fn from_value(value: &Value) -> Result<Self, ConfigErrors> {
        let mut errors = ConfigErrors::new();
        let Some(obj) = value.as_object() else {
            errors.push("(root)", "the configuration must be a mapping");
            return Err(errors);
        };
        for key in obj.keys() {
            if !TOP_LEVEL.contains(&key.as_str()) {
                errors.push(key.clone(), format!("unknown field; known: {}", TOP_LEVEL.join(", ")));
            }
        }
        let database = match obj.get("database") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                errors.push("database", format!("must be a URL string, got {other}"));
                String::new()
            }
            None => std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://maestro.db".into()),
        };
        if !database.is_empty()
            && !(database.starts_with("sqlite:")
                || database.starts_with("postgres://")
                || database.starts_with("postgresql://"))
        {
            errors.push("database", "must start with sqlite:, postgres:// or postgresql://");
        }
        let tenant = match obj.get("tenant") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(_) => {
                errors.push("tenant", "must be a non-empty string");
                String::new()
            }
            None => "default".into(),
        };
        let pipeline: PipelineConfig = match obj.get("pipeline") {
            Some(v) => maestro_providers::util::parse_config(v, "pipeline", &mut errors).unwrap_or_default(),
            None => PipelineConfig::default(),
        };
        pipeline.validate("pipeline", &mut errors);
        let relay: RelayConfig = match obj.get("relay") {
            Some(v) => maestro_providers::util::parse_config(v, "relay", &mut errors).unwrap_or_default(),
            None => RelayConfig::default(),
        };
        let mut sources = Vec::new();
        match obj.get("sources") {
            Some(Value::Array(items)) if !items.is_empty() => {
                for (i, s) in items.iter().enumerate() {
                    if let Some(src) = build_source(&tenant, s, &format!("sources[{i}]"), &mut errors) {
                        if sources.iter().any(|o: &Source| o.connection == src.connection) {
                            errors.push(
                                format!("sources[{i}].connection"),
                                format!("`{}` is used by another source", src.connection),
                            );
                        }
                        sources.push(src);
                    }
                }
            }
            Some(_) => errors.push("sources", "must be a non-empty list"),
            None => errors.push("sources", "missing: list at least one source"),
        }
        let mut publishers: Vec<Arc<dyn Publisher>> = Vec::new();
        match obj.get("publishers") {
            Some(Value::Array(items)) => {
                for (i, p) in items.iter().enumerate() {
                    if let Some(publ) = build_publisher(&tenant, p, &format!("publishers[{i}]"), &mut errors) {
                        if publishers.iter().any(|o| o.name() == publ.name()) {
                            errors.push(
                                format!("publishers[{i}]"),
                                format!("sink name `{}` is used twice; set `name`", publ.name()),
                            );
                        }
                        publishers.push(publ);
                    }
                }
            }
            Some(_) => errors.push("publishers", "must be a list"),
            None => {}
        }
        errors.into_result(Self { database, tenant, pipeline, relay, sources, publishers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_listed_with_its_path() {
        let v: Value = serde_yaml_ng::from_str(
            r#"
database: mysql://x
tenant: ""
colour: blue
pipeline: {batch_size: 0, retries: 3}
sources:
  - {type: file, connection: c, paths: [a.txt]}
  - {type: ftp}
  - {connection: d}
publishers:
  - {type: webhook, url: "not a url"}
"#,
        )
        .unwrap();
        let err = RunConfig::from_value(&v).err().expect("invalid");
        let paths: Vec<&str> = err.problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "colour",
                "database",
                "tenant",
                "pipeline.retries",
                "sources[0].paths[0]",
                "sources[1].type",
                "sources[2].type",
                "publishers[0].url"
            ],
            "{err}"
        );
        assert!(err.to_string().contains("unknown field `retries`"), "{err}");
    }

    #[test]
    fn a_valid_config_loads() {
        let v: Value = serde_yaml_ng::from_str(
            "database: 'sqlite::memory:'\ntenant: acme\nsources:\n  - {type: file, connection: c, paths: [x.json]}\npublishers:\n  - {type: jsonl, path: '-'}\n",
        )
        .unwrap();
        let c = RunConfig::from_value(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((c.tenant.as_str(), c.sources.len(), c.publishers.len()), ("acme", 1, 1));
    }
}
