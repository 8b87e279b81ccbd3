use std::collections::BTreeMap;

use maestro_core::ConfigErrors;
use serde::{Deserialize, Serialize};

use super::calls::TASKS;
use super::client::Credentials;

/// Configuration of the `aws` provider (one connection = one account's credentials).
///
/// `Debug` never shows the secret key or the session token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Always `aws`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Connection id the resources belong to.
    pub connection: String,
    /// Display name of the datacenter (`datacenters.name` in the output); defaults to the
    /// connection id.
    #[serde(default)]
    pub datacenter: Option<String>,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key. Never logged.
    pub secret_access_key: String,
    /// Session token of temporary credentials. Never logged.
    #[serde(default)]
    pub session_token: Option<String>,
    /// Regions to crawl. The original's labels (`"us-east-1 (N. Virginia)"`) are accepted: the
    /// first word is the region.
    pub regions: Vec<String>,
    /// Tasks to run (default: every task, see `docs/providers/aws.md`).
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// Send every request to this base URL instead of the AWS endpoints (moto, LocalStack,
    /// AWS-compatible clouds). `http` or `https`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Page size of every paginated call, clamped to what each API accepts (default: the
    /// API's maximum).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// Page size per call name (`DescribeInstances: 5`), over `page_size`.
    #[serde(default)]
    pub page_sizes: BTreeMap<String, u32>,
    /// Requests in flight at most for this connection.
    #[serde(default = "default_concurrency")]
    pub max_concurrency: usize,
    /// Time limit of one HTTP request, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// Requests started per second at most for this connection, over all regions and tasks
    /// (default: no limit beyond `max_concurrency`). AWS throttles per account and API; set
    /// this below your account's limits to avoid `RequestLimitExceeded` instead of retrying it.
    #[serde(default)]
    pub max_requests_per_second: Option<f64>,
    /// Reproduce the original's quirks: `switch` drops falsy values and tag values read by
    /// `arrCatcher` are capitalised.
    #[serde(default)]
    pub compat: bool,
}

fn default_concurrency() -> usize {
    8
}

fn default_timeout() -> f64 {
    10.0
}

impl std::fmt::Debug for AwsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsConfig")
            .field("connection", &self.connection)
            .field("datacenter", &self.datacenter)
            .field("credentials", &self.credentials())
            .field("regions", &self.regions)
            .field("tasks", &self.tasks)
            .field("endpoint", &self.endpoint)
            .field("page_size", &self.page_size)
            .field("page_sizes", &self.page_sizes)
            .field("max_concurrency", &self.max_concurrency)
            .field("timeout_secs", &self.timeout_secs)
            .field("max_requests_per_second", &self.max_requests_per_second)
            .field("compat", &self.compat)
            .finish()
    }
}

/// The region part of a region label (`"us-east-1 (N. Virginia)"` → `us-east-1`).
pub fn region_of(label: &str) -> &str {
    label.split_whitespace().next().unwrap_or("")
}

impl AwsConfig {
    /// A config for `connection` with the given credentials and regions, everything else default.
    pub fn new(connection: &str, access_key_id: &str, secret_access_key: &str, regions: &[&str]) -> Self {
        Self {
            kind: "aws".into(),
            connection: connection.into(),
            datacenter: None,
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
            regions: regions.iter().map(|r| (*r).to_string()).collect(),
            tasks: None,
            endpoint: None,
            page_size: None,
            page_sizes: BTreeMap::new(),
            max_concurrency: default_concurrency(),
            timeout_secs: default_timeout(),
            max_requests_per_second: None,
            compat: false,
        }
    }

    /// The credentials.
    pub fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: self.session_token.clone(),
        }
    }

    /// The tasks to run, in catalogue order.
    pub fn task_names(&self) -> Vec<&'static str> {
        match &self.tasks {
            None => TASKS.iter().map(|t| t.name).collect(),
            Some(list) => TASKS.iter().filter(|t| list.iter().any(|n| n == t.name)).map(|t| t.name).collect(),
        }
    }

    /// The regions, without labels, deduplicated in order.
    pub fn region_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.regions {
            let r = region_of(r).to_string();
            if !out.contains(&r) {
                out.push(r);
            }
        }
        out
    }

    /// Check the fields; record every problem. Returns whether it is valid.
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) -> bool {
        let before = errors.problems.len();
        if self.connection.trim().is_empty() {
            errors.push(format!("{path}.connection"), "must not be empty");
        }
        if self.access_key_id.trim().is_empty() {
            errors.push(format!("{path}.access_key_id"), "must not be empty");
        }
        if self.secret_access_key.is_empty() {
            errors.push(format!("{path}.secret_access_key"), "must not be empty");
        }
        if self.regions.is_empty() {
            errors.push(format!("{path}.regions"), "list at least one region");
        }
        for (i, r) in self.regions.iter().enumerate() {
            let name = region_of(r);
            let charset =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            // An S3-compatible endpoint (DigitalOcean Spaces, MinIO…) has its own region names
            // (`nyc3`); against AWS itself a region has at least three parts (`us-east-1`).
            let ok = charset && (self.endpoint.is_some() || name.split('-').count() >= 3);
            if !ok {
                errors.push(
                    format!("{path}.regions[{i}]"),
                    if self.endpoint.is_some() {
                        format!("`{r}` is not a region name (lowercase letters, digits and `-`)")
                    } else {
                        format!("`{r}` is not a region name like `us-east-1`")
                    },
                );
            }
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
        if let Some(e) = &self.endpoint {
            match reqwest::Url::parse(e) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                Ok(u) => {
                    errors.push(format!("{path}.endpoint"), format!("scheme `{}` is not http or https", u.scheme()))
                }
                Err(err) => errors.push(format!("{path}.endpoint"), format!("`{e}` is not a URL: {err}")),
            }
        }
        if self.page_size == Some(0) {
            errors.push(format!("{path}.page_size"), "must be at least 1");
        }
        for (call, size) in &self.page_sizes {
            if !TASKS.iter().flat_map(|t| t.calls).any(|c| c.name == call) {
                errors.push(format!("{path}.page_sizes.{call}"), "unknown call name");
            }
            if *size == 0 {
                errors.push(format!("{path}.page_sizes.{call}"), "must be at least 1");
            }
        }
        if let Some(r) = self.max_requests_per_second
            && !(r.is_finite() && r > 0.0)
        {
            errors.push(format!("{path}.max_requests_per_second"), format!("must be a positive number, got {r}"));
        }
        if self.max_concurrency == 0 || self.max_concurrency > 256 {
            errors.push(format!("{path}.max_concurrency"), format!("must be 1..=256, got {}", self.max_concurrency));
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0 && self.timeout_secs <= 600.0) {
            errors.push(format!("{path}.timeout_secs"), format!("must be within (0, 600], got {}", self.timeout_secs));
        }
        errors.problems.len() == before
    }
}
