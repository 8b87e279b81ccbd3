use std::collections::BTreeMap;

use maestro_core::ConfigErrors;
use serde::{Deserialize, Serialize};

/// What the webhook sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookMode {
    /// One POST per event, the event as the body.
    #[default]
    Events,
    /// The original audit service's `/audit/<entity>/<id>` contract.
    Audit,
}

/// Configuration of the `webhook` publisher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Always `webhook`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Sink name (the relay's cursor name); defaults to `webhook:<url>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Target URL (events mode) or base URL (audit mode). `http` or `https`.
    pub url: String,
    /// Extra headers (e.g. `Authorization`). Values are never logged.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Per-request time limit in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// What to send.
    #[serde(default)]
    pub mode: WebhookMode,
}

fn default_timeout() -> f64 {
    10.0
}

impl WebhookConfig {
    /// A config for `url` with defaults.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            kind: "webhook".into(),
            name: None,
            url: url.into(),
            headers: BTreeMap::new(),
            timeout_secs: default_timeout(),
            mode: WebhookMode::Events,
        }
    }

    /// Check the fields; record every problem. Returns whether it is valid.
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) -> bool {
        let before = errors.problems.len();
        match reqwest::Url::parse(&self.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            Ok(u) => errors.push(format!("{path}.url"), format!("scheme `{}` is not http or https", u.scheme())),
            Err(e) => errors.push(format!("{path}.url"), format!("`{}` is not a URL: {e}", self.url)),
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0 && self.timeout_secs <= 600.0) {
            errors.push(format!("{path}.timeout_secs"), format!("must be within (0, 600], got {}", self.timeout_secs));
        }
        for name in self.headers.keys() {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                errors.push(format!("{path}.headers.{name}"), "is not a valid header name");
            }
        }
        errors.problems.len() == before
    }

    /// The sink name.
    pub fn sink_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("webhook:{}", self.url))
    }
}
