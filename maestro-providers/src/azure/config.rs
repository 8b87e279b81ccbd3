use maestro_core::ConfigErrors;
use serde::{Deserialize, Serialize};

use super::provider::TASKS;
use crate::rest::{Secret, validate_limits, validate_url};

/// Configuration of the `azure` provider (one connection = one service principal on one
/// subscription). `Debug` never shows the client secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// Always `azure`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Connection id the resources belong to.
    pub connection: String,
    /// Display name of the datacenter (`datacenters.name`); defaults to the connection id.
    #[serde(default)]
    pub datacenter: Option<String>,
    /// Entra ID (Azure AD) tenant id of the service principal.
    pub tenant_id: String,
    /// Application (client) id.
    pub client_id: String,
    /// Client secret. Never logged.
    pub client_secret: Secret,
    /// Subscription to crawl.
    pub subscription_id: String,
    /// Tasks to run (default: every task; see `docs/providers/azure.md`).
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// OAuth2 authority (default `https://login.microsoftonline.com`; tests use a loopback double).
    #[serde(default = "default_login")]
    pub login_endpoint: String,
    /// Azure Resource Manager URL (default `https://management.azure.com`).
    #[serde(default = "default_management")]
    pub management_endpoint: String,
    /// Requests in flight at most for this connection.
    #[serde(default = "default_concurrency")]
    pub max_concurrency: usize,
    /// Requests per second at most (0 = no limit).
    #[serde(default = "default_rate")]
    pub rate_limit: f64,
    /// Time limit of one HTTP request, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// Reproduce the original's falsy-value dropping.
    #[serde(default)]
    pub compat: bool,
}

fn default_login() -> String {
    "https://login.microsoftonline.com".into()
}
fn default_management() -> String {
    "https://management.azure.com".into()
}
fn default_concurrency() -> usize {
    4
}
fn default_rate() -> f64 {
    10.0
}
fn default_timeout() -> f64 {
    30.0
}

impl AzureConfig {
    /// A config with the given service principal and subscription, everything else default.
    pub fn new(connection: &str, tenant_id: &str, client_id: &str, client_secret: &str, subscription: &str) -> Self {
        Self {
            kind: "azure".into(),
            connection: connection.into(),
            datacenter: None,
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
            subscription_id: subscription.into(),
            tasks: None,
            login_endpoint: default_login(),
            management_endpoint: default_management(),
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
        for (name, v) in [
            ("connection", &self.connection),
            ("tenant_id", &self.tenant_id),
            ("client_id", &self.client_id),
            ("subscription_id", &self.subscription_id),
        ] {
            if v.trim().is_empty() {
                errors.push(format!("{path}.{name}"), "must not be empty");
            } else if name != "connection" && !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
                errors.push(format!("{path}.{name}"), format!("`{v}` is not an id (letters, digits, `-`, `.`)"));
            }
        }
        if self.client_secret.is_empty() {
            errors.push(format!("{path}.client_secret"), "must not be empty");
        }
        validate_url(&format!("{path}.login_endpoint"), &self.login_endpoint, errors);
        validate_url(&format!("{path}.management_endpoint"), &self.management_endpoint, errors);
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
        validate_limits(path, self.max_concurrency, self.timeout_secs, self.rate_limit, errors);
        errors.problems.len() == before
    }
}
