use maestro_core::{ConfigErrors, Event};
use serde::{Deserialize, Serialize};

/// Configuration of the `nats` publisher.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// Always `nats`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Sink name (the relay's cursor name); defaults to `nats:<stream>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Server URL (`nats://[user:password@]host:4222`). Never logged.
    #[serde(default = "default_url")]
    pub url: String,
    /// Token authentication. Never logged.
    #[serde(default)]
    pub token: Option<String>,
    /// JetStream stream the subjects belong to.
    #[serde(default = "default_stream")]
    pub stream: String,
    /// Subject template: `{kind}` and `{tenant}` are replaced (characters a subject cannot hold
    /// become `_`).
    #[serde(default = "default_subject")]
    pub subject: String,
    /// Create the stream on connect if it does not exist (with `stream_subjects` and
    /// `duplicate_window_secs`); an existing stream is used as it is.
    #[serde(default = "default_true")]
    pub ensure_stream: bool,
    /// Subjects of a created stream.
    #[serde(default = "default_stream_subjects")]
    pub stream_subjects: Vec<String>,
    /// JetStream's dedup window of a created stream: a redelivery with the same `Nats-Msg-Id`
    /// within it is acknowledged but not stored again.
    #[serde(default = "default_window")]
    pub duplicate_window_secs: u64,
    /// Time limit in seconds for connecting and for each publish acknowledgement.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
}

impl std::fmt::Debug for NatsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsConfig")
            .field("name", &self.name)
            .field("url", &crate::util::redact_url(&self.url))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("stream", &self.stream)
            .field("subject", &self.subject)
            .field("ensure_stream", &self.ensure_stream)
            .field("stream_subjects", &self.stream_subjects)
            .field("duplicate_window_secs", &self.duplicate_window_secs)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

fn default_url() -> String {
    "nats://127.0.0.1:4222".into()
}
fn default_stream() -> String {
    "MAESTRO_EVENTS".into()
}
fn default_subject() -> String {
    "maestro.events.{kind}".into()
}
fn default_stream_subjects() -> Vec<String> {
    vec!["maestro.events.>".into()]
}
fn default_window() -> u64 {
    120
}
fn default_timeout() -> f64 {
    10.0
}
fn default_true() -> bool {
    true
}

impl NatsConfig {
    /// A config for `url` with defaults.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            kind: "nats".into(),
            name: None,
            url: url.into(),
            token: None,
            stream: default_stream(),
            subject: default_subject(),
            ensure_stream: true,
            stream_subjects: default_stream_subjects(),
            duplicate_window_secs: default_window(),
            timeout_secs: default_timeout(),
        }
    }

    /// Check the fields; record every problem. Returns whether it is valid.
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) -> bool {
        let before = errors.problems.len();
        if !(self.url.starts_with("nats://") || self.url.starts_with("tls://")) {
            errors.push(
                format!("{path}.url"),
                format!("`{}` is not a nats:// or tls:// URL", crate::util::redact_url(&self.url)),
            );
        }
        if self.stream.is_empty() || self.stream.contains(['.', ' ', '\t', '*', '>']) {
            errors.push(format!("{path}.stream"), "must be non-empty without `.`, spaces, `*` or `>`");
        }
        let probe = self.subject.replace("{kind}", "k").replace("{tenant}", "t");
        if probe.contains(['{', '}']) {
            errors.push(format!("{path}.subject"), "unknown placeholder; use {kind}, {tenant}");
        }
        if probe.is_empty() || probe.contains([' ', '\t', '*', '>']) || probe.split('.').any(str::is_empty) {
            errors.push(format!("{path}.subject"), format!("`{}` is not a publishable subject", self.subject));
        }
        if self.ensure_stream && self.stream_subjects.is_empty() {
            errors.push(format!("{path}.stream_subjects"), "must not be empty when ensure_stream is on");
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0 && self.timeout_secs <= 600.0) {
            errors.push(format!("{path}.timeout_secs"), format!("must be within (0, 600], got {}", self.timeout_secs));
        }
        errors.problems.len() == before
    }

    /// The sink name.
    pub fn sink_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("nats:{}", self.stream))
    }

    /// The subject of `event`.
    pub fn subject_for(&self, event: &Event) -> String {
        let clean = |s: &str| s.replace([' ', '\t', '\r', '\n', '*', '>'], "_");
        self.subject.replace("{kind}", &clean(&event.kind)).replace("{tenant}", &clean(&event.tenant))
    }
}
