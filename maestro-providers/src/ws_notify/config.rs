use maestro_core::ConfigErrors;
use serde::{Deserialize, Serialize};

/// Configuration of the `ws_notify` publisher.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsNotifyConfig {
    /// Always `ws_notify`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Sink name (the relay's cursor name); defaults to `ws_notify:<url>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Base URL of the websocket service (`MAESTRO_WEBSOCKET_URI`); requests go to `{url}/api`.
    pub url: String,
    /// The service's API key (`MAESTRO_WEBSOCKET_SECRET`), sent as `Authorization: apikey <secret>`.
    pub secret: String,
    /// Channel name prefix; the channel is `<prefix><tenant>`.
    #[serde(default = "default_prefix")]
    pub channel_prefix: String,
    /// Per-request time limit in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
}

fn default_prefix() -> String {
    "maestro-".into()
}

fn default_timeout() -> f64 {
    10.0
}

impl std::fmt::Debug for WsNotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsNotifyConfig")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("channel_prefix", &self.channel_prefix)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

impl WsNotifyConfig {
    /// A config for the service at `url` with API key `secret`.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            kind: "ws_notify".into(),
            name: None,
            url: url.into(),
            secret: secret.into(),
            channel_prefix: default_prefix(),
            timeout_secs: default_timeout(),
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
        if self.secret.trim().is_empty() {
            errors.push(format!("{path}.secret"), "must not be empty (the service's API key)");
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0 && self.timeout_secs <= 600.0) {
            errors.push(format!("{path}.timeout_secs"), format!("must be within (0, 600], got {}", self.timeout_secs));
        }
        errors.problems.len() == before
    }

    /// The sink name.
    pub fn sink_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("ws_notify:{}", self.url))
    }
}
