//! Site monitoring: HTTP(S) checks of a list of sites, results stored with their `site.check`
//! outbox events — the replacement for the original `aivenpy` monitor.
//!
//! - [`validate_site`] checks a [`Site`] (URL, method, headers, regexp, [`Condition`]s) and
//!   compiles it; stores' callers, the CLI and the API run it when a site is created or loaded,
//!   never at check time.
//! - [`HttpClient`] does one request: time to headers, body capped at `max_body_bytes`, the
//!   leaf certificate's `notAfter`, one time limit over connect + headers + body.
//! - [`Checker`] checks many sites with bounded concurrency and writes results in batches
//!   through [`SiteStore::record_checks`](maestro_core::monitor::SiteStore::record_checks).
//! - [`SiteCheckJob`] runs a tenant's due sites from the scheduler (job kind `site.check`).
//! - Targets come from the `sites` table, a sites file ([`load_sites_file`]) or the inventory
//!   ([`inventory_sites`]).
//!
//! An invalid or expired certificate is a failed check whose `error` says why; the expiry of a
//! certificate that failed verification is read by a second request that accepts any
//! certificate and is used for nothing else.
//!
//! ```
//! use maestro_core::monitor::Site;
//! use maestro_providers::http_check::validate_site;
//! let mut site = Site::new("acme", "https://example.com/health");
//! site.conditions = vec!["[STATUS] == 200".into(), "[BODY].status == UP".into()];
//! assert!(validate_site(&site).is_ok());
//! site.regexp = Some("(unclosed".into());
//! site.conditions.push("[STATUS] =< 200".into());
//! let err = validate_site(&site).unwrap_err();
//! assert_eq!(err.problems[0].0, "regexp");
//! assert_eq!(err.problems[1].0, "conditions[2]");
//! assert!(err.problems[1].1.contains("position 9"), "{}", err.problems[1].1);
//! ```

mod checker;
mod client;
mod conditions;
mod config;
#[cfg(test)]
mod tests;

use std::time::Duration;

use maestro_core::monitor::Site;
use maestro_core::{ConfigErrors, StorageError};
use regex::Regex;
use reqwest::Method;

pub use checker::{Checker, RunSummary, SITE_CHECK_JOB, SiteCheckJob, affected_by, due_sites, inventory_sites};
pub use client::{HttpClient, Probe};
pub use conditions::{Condition, ConditionError, Expected, Observation, Op, PathStep, Subject};
pub use config::{CheckerConfig, load_sites_file, parse_sites};

/// Errors of the checker.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(String),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A site or the checker configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigErrors),
}

/// A validated site, ready to check.
#[derive(Debug, Clone)]
pub struct CompiledSite {
    /// The site.
    pub site: Site,
    /// Parsed method.
    pub method: Method,
    /// Compiled regexp.
    pub regex: Option<Regex>,
    /// Parsed conditions.
    pub conditions: Vec<Condition>,
    /// Headers as pairs.
    pub headers: Vec<(String, String)>,
}

impl CompiledSite {
    /// The site's time limit.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.site.timeout_ms)
    }
}

/// Validate and compile `site`; problems carry field paths relative to the site (`url`,
/// `regexp`, `conditions[1]`…), all of them at once.
///
/// # Errors
/// Every problem found.
pub fn validate_site(site: &Site) -> Result<CompiledSite, ConfigErrors> {
    let mut errors = ConfigErrors::new();
    let compiled = validate_site_at(site, "", &mut errors);
    match compiled {
        Some(c) if errors.is_empty() => Ok(c),
        _ => Err(errors),
    }
}

/// [`validate_site`] recording problems under `path` (`sites[3]` → `sites[3].regexp`).
pub fn validate_site_at(site: &Site, path: &str, errors: &mut ConfigErrors) -> Option<CompiledSite> {
    let at = |field: &str| if path.is_empty() { field.to_string() } else { format!("{path}.{field}") };
    let before = errors.problems.len();
    match reqwest::Url::parse(&site.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
        Ok(u) => errors.push(at("url"), format!("`{}`: only http and https URLs with a host", u.scheme())),
        Err(e) => errors.push(at("url"), format!("`{}` is not a URL: {e}", site.url)),
    }
    if site.tenant.is_empty() {
        errors.push(at("tenant"), "must not be empty");
    }
    if site.id < 0 {
        errors.push(at("id"), "must be positive (or 0 to assign one)");
    }
    if site.timeout_ms == 0 || site.timeout_ms > 600_000 {
        errors.push(at("timeout_ms"), format!("must be 1..=600000, got {}", site.timeout_ms));
    }
    if site.interval_secs == 0 {
        errors.push(at("interval_secs"), "must be at least 1");
    }
    let method = match Method::from_bytes(site.method.to_ascii_uppercase().as_bytes()) {
        Ok(m) => Some(m),
        Err(_) => {
            errors.push(at("method"), format!("`{}` is not an HTTP method", site.method));
            None
        }
    };
    for (k, v) in &site.headers {
        if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
            errors.push(at(&format!("headers.{k}")), "not a valid header name");
        } else if reqwest::header::HeaderValue::from_str(v).is_err() {
            errors.push(at(&format!("headers.{k}")), "not a valid header value");
        }
    }
    let regex = match site.regexp.as_deref() {
        None => None,
        Some(r) => match Regex::new(r) {
            Ok(re) => Some(re),
            Err(e) => {
                errors.push(at("regexp"), format!("invalid regular expression: {e}"));
                None
            }
        },
    };
    let mut conditions = Vec::with_capacity(site.conditions.len());
    for (i, c) in site.conditions.iter().enumerate() {
        match Condition::parse(c) {
            Ok(c) => conditions.push(c),
            Err(e) => errors.push(at(&format!("conditions[{i}]")), e.to_string()),
        }
    }
    if errors.problems.len() > before {
        return None;
    }
    Some(CompiledSite {
        site: site.clone(),
        method: method?,
        regex,
        conditions,
        headers: site.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    })
}
