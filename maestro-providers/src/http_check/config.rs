//! Checker settings and the sites file (a YAML/JSON list of sites).

use std::path::Path;

use maestro_core::ConfigErrors;
use maestro_core::monitor::Site;
use serde::Deserialize;
use serde_json::Value;

use crate::util::parse_config;

fn default_concurrency() -> usize {
    64
}
fn default_max_body() -> usize {
    1024 * 1024
}
fn default_batch() -> usize {
    100
}
fn default_user_agent() -> String {
    concat!("maestro-check/", env!("CARGO_PKG_VERSION")).to_string()
}
fn default_max_timeout() -> u64 {
    60_000
}

/// How the checker runs.
///
/// ```
/// let c: maestro_providers::http_check::CheckerConfig = serde_json::from_value(serde_json::json!({
///     "concurrency": 16, "max_body_bytes": 65536
/// })).unwrap();
/// assert_eq!(c.batch_size, 100);
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckerConfig {
    /// Checks in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Bytes of body read at most; the rest is not read and the result says `body_truncated`.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Results written per `record_checks` transaction.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// `User-Agent` header.
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// Keep connections open between checks of one host. Off by default, so every check
    /// measures connect + TLS like the original (`requests.get` per site).
    #[serde(default)]
    pub reuse_connections: bool,
    /// Upper bound for any site's timeout (also the connect timeout), in ms.
    #[serde(default = "default_max_timeout")]
    pub max_timeout_ms: u64,
    /// Extra trusted root certificates (PEM text), added to the system roots.
    #[serde(default)]
    pub extra_root_certificates: Vec<String>,
}

impl Default for CheckerConfig {
    fn default() -> Self {
        serde_json::from_value(Value::Object(Default::default())).expect("defaults deserialize")
    }
}

/// Parse a sites file (YAML or JSON): either a list of sites or `{sites: [...]}`. Every
/// problem is reported with its field path (`sites[2].conditions[0]`), including invalid
/// regexps and conditions, and the file name.
///
/// # Errors
/// The unreadable file, or every problem found.
pub fn load_sites_file(path: &Path, tenant: &str) -> Result<Vec<Site>, ConfigErrors> {
    let file = path.display().to_string();
    let mut errors = ConfigErrors::new();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            errors.push(file, format!("cannot read: {e}"));
            return Err(errors);
        }
    };
    let value: Value = match serde_yaml_ng::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            errors.push(file, format!("not valid YAML/JSON: {e}"));
            return Err(errors);
        }
    };
    let sites = parse_sites(&value, tenant, &format!("{file}: sites"), &mut errors);
    errors.into_result(sites)
}

/// Parse and validate a list of sites from a config value (see [`load_sites_file`]). Sites
/// without a tenant get `tenant`.
pub fn parse_sites(value: &Value, tenant: &str, path: &str, errors: &mut ConfigErrors) -> Vec<Site> {
    let list = match value {
        Value::Array(a) => a.as_slice(),
        Value::Object(o) if o.get("sites").is_some_and(Value::is_array) => {
            o["sites"].as_array().map(Vec::as_slice).unwrap_or_default()
        }
        _ => {
            errors.push(path, "expected a list of sites (or `sites: [...]`)");
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let mut item = item.clone();
        if let Value::Object(o) = &mut item {
            o.entry("tenant").or_insert_with(|| Value::String(tenant.to_string()));
        }
        if let Some(site) = parse_config::<Site>(&item, &at, errors)
            && super::validate_site_at(&site, &at, errors).is_some()
        {
            out.push(site);
        }
    }
    out
}
