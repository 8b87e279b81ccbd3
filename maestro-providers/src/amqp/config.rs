use maestro_core::{ConfigErrors, Event};
use serde::{Deserialize, Serialize};

pub(crate) use crate::util::redact_url;

/// The exchange type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeType {
    /// Routing-key patterns (`site.*`, `resource.#`).
    #[default]
    Topic,
    /// Exact routing key.
    Direct,
    /// Every bound queue.
    Fanout,
}

/// Configuration of the `amqp` publisher.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmqpConfig {
    /// Always `amqp`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Sink name (the relay's cursor name); defaults to `amqp:<exchange>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Broker URL, `amqp://user:password@host:5672/vhost` (or `amqps://`). Never logged.
    pub url: String,
    /// Exchange to publish to.
    #[serde(default = "default_exchange")]
    pub exchange: String,
    /// Its type, used when declaring it.
    #[serde(default)]
    pub exchange_type: ExchangeType,
    /// Declare the exchange (durable) on connect. Off when it is managed elsewhere.
    #[serde(default = "default_true")]
    pub declare_exchange: bool,
    /// Routing key template: `{kind}`, `{tenant}` and `{subject}` are replaced.
    #[serde(default = "default_routing_key")]
    pub routing_key: String,
    /// Time limit in seconds for connecting and for each publisher confirm.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
}

impl std::fmt::Debug for AmqpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpConfig")
            .field("name", &self.name)
            .field("url", &redact_url(&self.url))
            .field("exchange", &self.exchange)
            .field("exchange_type", &self.exchange_type)
            .field("declare_exchange", &self.declare_exchange)
            .field("routing_key", &self.routing_key)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

fn default_exchange() -> String {
    "maestro.events".into()
}
fn default_routing_key() -> String {
    "{kind}".into()
}
fn default_timeout() -> f64 {
    10.0
}
fn default_true() -> bool {
    true
}

impl AmqpConfig {
    /// A config for `url` with defaults.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            kind: "amqp".into(),
            name: None,
            url: url.into(),
            exchange: default_exchange(),
            exchange_type: ExchangeType::Topic,
            declare_exchange: true,
            routing_key: default_routing_key(),
            timeout_secs: default_timeout(),
        }
    }

    /// Check the fields; record every problem. Returns whether it is valid.
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) -> bool {
        let before = errors.problems.len();
        if !(self.url.starts_with("amqp://") || self.url.starts_with("amqps://")) {
            errors
                .push(format!("{path}.url"), format!("`{}` is not an amqp:// or amqps:// URL", redact_url(&self.url)));
        }
        if self.exchange.is_empty() || self.exchange.len() > 255 {
            errors
                .push(format!("{path}.exchange"), "must be 1-255 characters (the default exchange cannot be declared)");
        }
        let probe = self.routing_key.replace("{kind}", "").replace("{tenant}", "").replace("{subject}", "");
        if probe.contains(['{', '}']) {
            errors.push(format!("{path}.routing_key"), "unknown placeholder; use {kind}, {tenant}, {subject}");
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0 && self.timeout_secs <= 600.0) {
            errors.push(format!("{path}.timeout_secs"), format!("must be within (0, 600], got {}", self.timeout_secs));
        }
        errors.problems.len() == before
    }

    /// The sink name.
    pub fn sink_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("amqp:{}", self.exchange))
    }

    /// The routing key of `event` (at most 255 bytes, as AMQP allows).
    pub fn routing_key_for(&self, event: &Event) -> String {
        let mut key = self
            .routing_key
            .replace("{kind}", &event.kind)
            .replace("{tenant}", &event.tenant)
            .replace("{subject}", &event.subject);
        if key.len() > 255 {
            let mut cut = 255;
            while !key.is_char_boundary(cut) {
                cut -= 1;
            }
            key.truncate(cut);
        }
        key
    }
}
