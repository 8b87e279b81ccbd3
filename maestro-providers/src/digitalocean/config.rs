use maestro_core::ConfigErrors;
use serde::{Deserialize, Serialize};

use super::provider::TASKS;
use crate::rest::{Secret, validate_limits, validate_url};

/// Configuration of the `digitalocean` provider (one connection = one API token).
/// `Debug` never shows the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigitalOceanConfig {
    /// Always `digitalocean`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Connection id the resources belong to.
    pub connection: String,
    /// Display name of the datacenter (`datacenters.name`); defaults to the connection id.
    #[serde(default)]
    pub datacenter: Option<String>,
    /// Personal access token (read scope is enough). Never logged.
    pub token: Secret,
    /// Tasks to run (default: every task; see `docs/providers/digitalocean.md`).
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// API base URL (default `https://api.digitalocean.com`).
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// `per_page` of every list call (1..=200).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Requests in flight at most for this connection.
    #[serde(default = "default_concurrency")]
    pub max_concurrency: usize,
    /// Requests per second at most (0 = no limit; the API allows 250 per minute).
    #[serde(default = "default_rate")]
    pub rate_limit: f64,
    /// Time limit of one HTTP request, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// Reproduce the original's falsy-value dropping.
    #[serde(default)]
    pub compat: bool,
}

fn default_endpoint() -> String {
    "https://api.digitalocean.com".into()
}
fn default_page_size() -> u32 {
    200
}
fn default_concurrency() -> usize {
    4
}
fn default_rate() -> f64 {
    4.0
}
fn default_timeout() -> f64 {
    30.0
}

impl DigitalOceanConfig {
    /// A config with `token`, everything else default.
    pub fn new(connection: &str, token: &str) -> Self {
        Self {
            kind: "digitalocean".into(),
            connection: connection.into(),
            datacenter: None,
            token: Secret::new(token),
            tasks: None,
            endpoint: default_endpoint(),
            page_size: default_page_size(),
            max_concurrency: default_concurrency(),
            rate_limit: default_rate(),
            timeout_secs: default_timeout(),
            compat: false,
        }
    }

    /// The tasks to run, in catalogue order.
    pub fn task_names(&self) -> Vec<&'static str> {
        match &self.tasks {
            None => TASKS.iter().map(|t| t.name).collect(),
            Some(list) => TASKS.iter().filter(|t| list.iter().any(|n| n == t.name)).map(|t| t.name).collect(),
        }
    }

    /// Check the fields; record every problem. Returns whether it is valid.
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) -> bool {
        let before = errors.problems.len();
        if self.connection.trim().is_empty() {
            errors.push(format!("{path}.connection"), "must not be empty");
        }
        if self.token.is_empty() {
            errors.push(format!("{path}.token"), "must not be empty");
        }
        validate_url(&format!("{path}.endpoint"), &self.endpoint, errors);
        if let Some(tasks) = &self.tasks {
            if tasks.is_empty() {
                errors.push(format!("{path}.tasks"), "list at least one task, or leave it out for all");
            }
            for (i, t) in tasks.iter().enumerate() {
                if !TASKS.iter().any(|k| k.name == t) {
                    let known: Vec<&str> = TASKS.iter().map(|k| k.name).collect();
                    errors
                        .push(format!("{path}.tasks[{i}]"), format!("unknown task `{t}`; known: {}", known.join(", ")));
                }
            }
        }
        if self.page_size == 0 || self.page_size > 200 {
            errors.push(format!("{path}.page_size"), format!("must be 1..=200, got {}", self.page_size));
        }
        validate_limits(path, self.max_concurrency, self.timeout_secs, self.rate_limit, errors);
        errors.problems.len() == before
    }
}
