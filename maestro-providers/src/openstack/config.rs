use maestro_core::ConfigErrors;
use serde::{Deserialize, Serialize};

use super::calls::TASKS;
use crate::rest::{Secret, validate_limits, validate_url};

/// Configuration of the `openstack` provider (one connection = one Keystone user scoped to one
/// project). `Debug` never shows the password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenStackConfig {
    /// Always `openstack`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Connection id the resources belong to.
    pub connection: String,
    /// Display name of the datacenter (`datacenters.name`); defaults to the connection id.
    #[serde(default)]
    pub datacenter: Option<String>,
    /// Keystone URL (`https://keystone.example:5000` or `…/v3`).
    pub auth_url: String,
    /// User name.
    pub username: String,
    /// Password. Never logged.
    pub password: Secret,
    /// Domain id of the user (`default`), or use `user_domain_name`.
    #[serde(default)]
    pub user_domain_id: Option<String>,
    /// Domain name of the user (`Default`).
    #[serde(default)]
    pub user_domain_name: Option<String>,
    /// Project id to scope the token to (or `project_name` + a project domain).
    #[serde(default)]
    pub project_id: Option<String>,
    /// Project name to scope the token to.
    #[serde(default)]
    pub project_name: Option<String>,
    /// Domain id of `project_name` (default: the user's domain).
    #[serde(default)]
    pub project_domain_id: Option<String>,
    /// Domain name of `project_name`.
    #[serde(default)]
    pub project_domain_name: Option<String>,
    /// Regions to crawl (catalogue region ids). Empty: one region-less scope per task, using
    /// the first endpoint of the wanted interface.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Endpoint interface from the catalogue: `public` (default), `internal` or `admin`.
    #[serde(default = "default_interface")]
    pub interface: String,
    /// Tasks to run (default: every task; see `docs/providers/openstack.md`).
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// Page size (`limit`) of every list call.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Compute API microversion sent as `OpenStack-API-Version: compute <v>` (the original's
    /// `api_version`); default: none (the base version).
    #[serde(default)]
    pub compute_api_version: Option<String>,
    /// Requests in flight at most for this connection.
    #[serde(default = "default_concurrency")]
    pub max_concurrency: usize,
    /// Requests per second at most (0 = no limit).
    #[serde(default = "default_rate")]
    pub rate_limit: f64,
    /// Time limit of one HTTP request, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// Reproduce the original's quirks (falsy values dropped, `Avaliable` spelling).
    #[serde(default)]
    pub compat: bool,
}

fn default_interface() -> String {
    "public".into()
}
fn default_page_size() -> u32 {
    200
}
fn default_concurrency() -> usize {
    4
}
fn default_rate() -> f64 {
    20.0
}
fn default_timeout() -> f64 {
    30.0
}

impl OpenStackConfig {
    /// A config with the given Keystone URL and user, scoped to `project_id` in domain `default`.
    pub fn new(connection: &str, auth_url: &str, username: &str, password: &str, project_id: &str) -> Self {
        Self {
            kind: "openstack".into(),
            connection: connection.into(),
            datacenter: None,
            auth_url: auth_url.into(),
            username: username.into(),
            password: Secret::new(password),
            user_domain_id: Some("default".into()),
            user_domain_name: None,
            project_id: Some(project_id.into()),
            project_name: None,
            project_domain_id: None,
            project_domain_name: None,
            regions: Vec::new(),
            interface: default_interface(),
            tasks: None,
            page_size: default_page_size(),
            compute_api_version: None,
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
        validate_url(&format!("{path}.auth_url"), &self.auth_url, errors);
        if self.username.trim().is_empty() {
            errors.push(format!("{path}.username"), "must not be empty");
        }
        if self.password.is_empty() {
            errors.push(format!("{path}.password"), "must not be empty");
        }
        if self.user_domain_id.is_none() && self.user_domain_name.is_none() {
            errors.push(format!("{path}.user_domain_id"), "set user_domain_id or user_domain_name");
        }
        if self.project_id.is_none() && self.project_name.is_none() {
            errors.push(format!("{path}.project_id"), "set project_id or project_name");
        }
        if !matches!(self.interface.as_str(), "public" | "internal" | "admin") {
            errors.push(format!("{path}.interface"), format!("`{}` is not public, internal or admin", self.interface));
        }
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
        if self.page_size == 0 || self.page_size > 1000 {
            errors.push(format!("{path}.page_size"), format!("must be 1..=1000, got {}", self.page_size));
        }
        validate_limits(path, self.max_concurrency, self.timeout_secs, self.rate_limit, errors);
        errors.problems.len() == before
    }
}
