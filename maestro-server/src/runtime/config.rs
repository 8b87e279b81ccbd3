//! The runtime configuration of `maestro serve`, `maestro beat` and `maestro worker` (YAML or
//! JSON): the `maestro run` keys (database, tenant, pipeline, relay, sources, publishers) plus
//! schedules, the TiX processor and server settings.
//!
//! ```yaml
//! database: sqlite://maestro.db          # overridden by --database / DATABASE_URL
//! tenant: demo
//! sources:
//!   - {type: file, connection: demo-files, paths: [examples/data/demo-inventory.json]}
//! publishers:
//!   - {type: jsonl, path: events.jsonl}
//! schedules:
//!   - {name: demo-import, kind: crawl, args: {connection: demo-files}, every: 300}
//!   - {name: nightly-graph, kind: graph, args: {apps: [WebServer Maestro]}, cron: "0 3 * * *", catch_up: skip}
//! default_schedules: true                # one crawl schedule per discovery task a source knows
//! server: {port: 8080, workers: 2, graphs_dir: graphs}
//! tix: {base_path: /var/tix/reports}     # optional; enables the `tix.process` job
//! ```
//!
//! Every problem is reported at once, each with its field path.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use maestro_core::scheduler::{CatchUp, Overlap, Schedule, Trigger};
use maestro_core::{ConfigErrors, PipelineConfig, Publisher, RelayConfig};
use maestro_providers::tix::TixConfig;
use maestro_providers::{Source, build_publisher, build_source};
use serde::Deserialize;
use serde_json::Value;

use crate::config::ConfigError;

const TOP_LEVEL: &[&str] = &[
    "database",
    "tenant",
    "pipeline",
    "relay",
    "sources",
    "publishers",
    "schedules",
    "default_schedules",
    "server",
    "tix",
];

/// One schedule as written in the config file (the tenant is the file's `tenant`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEntry {
    /// Unique per tenant.
    pub name: String,
    /// The job kind (`crawl`, `graph`, `outbox.relay`, `tix.process`, …).
    pub kind: String,
    /// The job's arguments.
    #[serde(default)]
    pub args: Value,
    /// Fire every this many seconds (aligned to the epoch). Exactly one of `every` and `cron`.
    #[serde(default)]
    pub every: Option<u64>,
    /// Fire on this cron expression (UTC).
    #[serde(default)]
    pub cron: Option<String>,
    /// Missed-slot policy: `run_once` (default) or `skip`.
    #[serde(default)]
    pub catch_up: CatchUp,
    /// Overlap policy: `skip` (default) or `queue`.
    #[serde(default)]
    pub overlap: Overlap,
    /// A disabled schedule is stored but never fires.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Server and worker settings (`server:`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// HTTP port (`MAESTRO_PORT` and `--port` override it).
    #[serde(default = "default_port")]
    pub port: u16,
    /// In-process workers of `serve` and `worker` (`MAESTRO_GWORKERS` and `--workers` override it).
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Where `graph` jobs write their SVGs (relative to the working directory).
    #[serde(default = "default_graphs_dir")]
    pub graphs_dir: PathBuf,
    /// Per-job time limit in seconds (the original's `CELERYD_TASK_TIME_LIMIT`).
    #[serde(default = "default_time_limit")]
    pub time_limit: u64,
    /// How long shutdown waits for in-flight jobs, in seconds.
    #[serde(default = "default_grace")]
    pub shutdown_grace: u64,
}

fn default_port() -> u16 {
    8080
}
fn default_workers() -> usize {
    2
}
fn default_graphs_dir() -> PathBuf {
    PathBuf::from("graphs")
}
fn default_time_limit() -> u64 {
    30 * 60
}
fn default_grace() -> u64 {
    30
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            port: default_port(),
            workers: default_workers(),
            graphs_dir: default_graphs_dir(),
            time_limit: default_time_limit(),
            shutdown_grace: default_grace(),
        }
    }
}

impl ServerSettings {
    /// The per-job time limit.
    pub fn time_limit(&self) -> Duration {
        Duration::from_secs(self.time_limit)
    }
    /// The shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace)
    }
}

/// A source with the config value it was built from (a `crawl` job of one task rebuilds it with
/// `tasks: [task]`).
pub struct SourceEntry {
    /// The built source.
    pub source: Source,
    /// Its config value.
    pub raw: Value,
}

/// A loaded, validated runtime configuration.
pub struct RuntimeConfig {
    /// Database URL.
    pub database: String,
    /// The tenant of sources and schedules.
    pub tenant: String,
    /// Pipeline settings.
    pub pipeline: PipelineConfig,
    /// Relay settings.
    pub relay: RelayConfig,
    /// Sources (may be empty: a server that only shows the store).
    pub sources: Vec<SourceEntry>,
    /// Publishers (`outbox.relay` delivers to each).
    pub publishers: Vec<Arc<dyn Publisher>>,
    /// Schedules from the file.
    pub schedules: Vec<Schedule>,
    /// Whether to add the default crawl schedules per discovery task.
    pub default_schedules: bool,
    /// Server settings.
    pub server: ServerSettings,
    /// The TiX processor's settings, if configured.
    pub tix: Option<TixConfig>,
}

impl std::fmt::Debug for RuntimeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeConfig")
            .field("tenant", &self.tenant)
            .field("sources", &self.sources.iter().map(|s| &s.source.connection).collect::<Vec<_>>())
            .field("schedules", &self.schedules.len())
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl RuntimeConfig {
    /// The configuration used without a file: the default database, tenant `default`, nothing
    /// to crawl.
    pub fn empty() -> Self {
        Self::from_value(&serde_json::json!({})).expect("the empty configuration is valid")
    }

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
        let empty = serde_json::Map::new();
        let obj = match value {
            Value::Object(o) => o,
            Value::Null => &empty,
            _ => {
                errors.push("(root)", "the configuration must be a mapping");
                return Err(errors);
            }
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
        let tenant = match obj.get("tenant") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(_) => {
                errors.push("tenant", "must be a non-empty string");
                String::new()
            }
            None => "default".into(),
        };
        let parse = |key: &str, _: &mut ConfigErrors| -> Option<Value> { obj.get(key).cloned() };
        let pipeline: PipelineConfig = parse("pipeline", &mut errors)
            .and_then(|v| maestro_providers::util::parse_config(&v, "pipeline", &mut errors))
            .unwrap_or_default();
        pipeline.validate("pipeline", &mut errors);
        let relay: RelayConfig = parse("relay", &mut errors)
            .and_then(|v| maestro_providers::util::parse_config(&v, "relay", &mut errors))
            .unwrap_or_default();
        let server: ServerSettings = parse("server", &mut errors)
            .and_then(|v| maestro_providers::util::parse_config(&v, "server", &mut errors))
            .unwrap_or_default();
        if server.workers == 0 {
            errors.push("server.workers", "must be at least 1");
        }
        let tix: Option<TixConfig> =
            parse("tix", &mut errors).and_then(|v| maestro_providers::util::parse_config(&v, "tix", &mut errors));
        if let Some(t) = &tix {
            t.validate("tix", &mut errors);
        }
        let default_schedules = match obj.get("default_schedules") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                errors.push("default_schedules", format!("must be true or false, got {other}"));
                true
            }
        };
        let mut sources: Vec<SourceEntry> = Vec::new();
        match obj.get("sources") {
            None => {}
            Some(Value::Array(items)) => {
                for (i, raw) in items.iter().enumerate() {
                    if let Some(source) = build_source(&tenant, raw, &format!("sources[{i}]"), &mut errors) {
                        if sources.iter().any(|o| o.source.connection == source.connection) {
                            errors.push(
                                format!("sources[{i}].connection"),
                                format!("`{}` is used by another source", source.connection),
                            );
                        }
                        sources.push(SourceEntry { source, raw: raw.clone() });
                    }
                }
            }
            Some(_) => errors.push("sources", "must be a list"),
        }
        let mut publishers: Vec<Arc<dyn Publisher>> = Vec::new();
        match obj.get("publishers") {
            None => {}
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
        }
        let mut schedules: Vec<Schedule> = Vec::new();
        match obj.get("schedules") {
            None => {}
            Some(Value::Array(items)) => {
                for (i, v) in items.iter().enumerate() {
                    let path = format!("schedules[{i}]");
                    let Some(e) = maestro_providers::util::parse_config::<ScheduleEntry>(v, &path, &mut errors) else {
                        continue;
                    };
                    let trigger = match (e.every, &e.cron) {
                        (Some(s), None) => Trigger::Interval(Duration::from_secs(s)),
                        (None, Some(c)) => Trigger::Cron(c.clone()),
                        _ => {
                            errors.push(path.clone(), "give exactly one of `every` (seconds) and `cron`");
                            continue;
                        }
                    };
                    if let Err(err) = trigger.validate() {
                        errors.push(
                            format!("{path}.{}", if e.every.is_some() { "every" } else { "cron" }),
                            err.to_string(),
                        );
                    }
                    if schedules.iter().any(|s| s.name == e.name) {
                        errors.push(format!("{path}.name"), format!("`{}` is used by another schedule", e.name));
                    }
                    let mut s = Schedule::new(&tenant, &e.name, &e.kind, e.args, trigger);
                    s.enabled = e.enabled;
                    s.catch_up = e.catch_up;
                    s.overlap = e.overlap;
                    schedules.push(s);
                }
            }
            Some(_) => errors.push("schedules", "must be a list"),
        }
        errors.into_result(Self {
            database,
            tenant,
            pipeline,
            relay,
            sources,
            publishers,
            schedules,
            default_schedules,
            server,
            tix,
        })
    }

    /// The source of `connection`.
    pub fn source(&self, connection: &str) -> Option<&SourceEntry> {
        self.sources.iter().find(|s| s.source.connection == connection)
    }

    /// Build `connection`'s source restricted to discovery task `task` (its config with
    /// `tasks: [task]`).
    ///
    /// # Errors
    /// The connection is unknown, or its provider has no task `task` (every problem listed).
    pub fn source_for_task(&self, connection: &str, task: &str) -> Result<Source, String> {
        let entry = self.source(connection).ok_or_else(|| self.unknown_connection(connection))?;
        let mut raw = entry.raw.clone();
        raw["tasks"] = serde_json::json!([task]);
        let mut errors = ConfigErrors::new();
        match build_source(&self.tenant, &raw, "source", &mut errors) {
            Some(s) if errors.is_empty() => Ok(s),
            _ => Err(format!("connection `{connection}` cannot run task `{task}`: {errors}")),
        }
    }

    /// "no connection named `x`; known: …".
    pub fn unknown_connection(&self, connection: &str) -> String {
        let known: Vec<&str> = self.sources.iter().map(|s| s.source.connection.as_str()).collect();
        format!("no connection named `{connection}`; known: {}", known.join(", "))
    }

    /// The file's schedules plus, if `default_schedules`, one crawl schedule per discovery task
    /// each source accepts ([`maestro_core::scheduler::default_schedules`]); file schedules win
    /// on a name clash.
    pub fn all_schedules(&self) -> Vec<Schedule> {
        let mut out = self.schedules.clone();
        if self.default_schedules {
            for entry in &self.sources {
                let conn = &entry.source.connection;
                for s in maestro_core::scheduler::default_schedules(&self.tenant, conn) {
                    let task = s.job.args["task"].as_str().unwrap_or_default().to_string();
                    if self.source_for_task(conn, &task).is_ok() && !out.iter().any(|o| o.name == s.name) {
                        out.push(s);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_with_every_problem_named() {
        let v: Value = serde_yaml_ng::from_str(
            r#"
tenant: acme
colour: blue
sources:
  - {type: file, connection: files, paths: [x.json]}
schedules:
  - {name: a, kind: crawl, args: {connection: files}, every: 2}
  - {name: b, kind: graph, cron: "0 3 * * *", catch_up: skip, overlap: queue, enabled: false}
  - {name: c, kind: crawl, every: 2, cron: "* * * * *"}
  - {name: d, kind: crawl, cron: "every tuesday"}
  - {name: a, kind: crawl, every: 5, bogus: 1}
server: {workers: 0}
"#,
        )
        .unwrap();
        let err = RuntimeConfig::from_value(&v).expect_err("invalid");
        let paths: Vec<&str> = err.problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec!["colour", "server.workers", "schedules[2]", "schedules[3].cron", "schedules[4].bogus"],
            "{err}"
        );
    }

    #[test]
    fn a_valid_file_gives_schedules_and_no_defaults_for_file_sources() {
        let v: Value = serde_yaml_ng::from_str(
            r#"
database: "sqlite::memory:"
tenant: acme
sources:
  - {type: file, connection: files, paths: [x.json]}
schedules:
  - {name: import, kind: crawl, args: {connection: files}, every: 2}
  - {name: nightly, kind: graph, cron: "0 3 * * *", catch_up: skip, overlap: queue, enabled: false}
"#,
        )
        .unwrap();
        let c = RuntimeConfig::from_value(&v).unwrap_or_else(|e| panic!("{e}"));
        let all = c.all_schedules();
        assert_eq!(all.len(), 2, "a file source has no discovery tasks");
        assert_eq!(all[0].trigger, Trigger::Interval(Duration::from_secs(2)));
        assert_eq!((all[1].enabled, all[1].catch_up, all[1].overlap), (false, CatchUp::Skip, Overlap::Queue));
        assert_eq!(all[1].tenant, "acme");
        assert!(c.source_for_task("files", "server-list").is_err());
        assert!(c.source_for_task("nope", "server-list").err().expect("unknown connection").contains("known: files"));
    }

    #[test]
    fn aws_sources_get_the_default_schedule_per_task() {
        let v: Value = serde_yaml_ng::from_str(
            r#"
database: "sqlite::memory:"
tenant: acme
sources:
  - {type: aws, connection: aws-main, regions: [us-east-1], access_key_id: AKIA, secret_access_key: s}
"#,
        )
        .unwrap();
        let c = RuntimeConfig::from_value(&v).unwrap_or_else(|e| panic!("{e}"));
        let all = c.all_schedules();
        let server_list = all.iter().find(|s| s.name == "aws-main:server-list").expect("server-list schedule");
        assert_eq!(server_list.trigger, Trigger::Interval(Duration::from_secs(300)));
        assert!(all.len() > 5, "{}", all.len());
    }

    #[test]
    fn no_file_is_a_valid_empty_config() {
        let c = RuntimeConfig::empty();
        assert!(c.sources.is_empty() && c.all_schedules().is_empty());
        assert_eq!(c.server.port, 8080);
    }
}
