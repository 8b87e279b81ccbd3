use std::collections::BTreeMap;
use std::path::PathBuf;

use maestro_core::ConfigErrors;
use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

/// How the client talks to the brokers (librdkafka's `security.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityProtocol {
    /// No TLS, no authentication (loopback, tests).
    #[default]
    Plaintext,
    /// TLS, no SASL.
    Ssl,
    /// SASL without TLS.
    SaslPlaintext,
    /// SASL over TLS (what the original's hosted Kafka required).
    SaslSsl,
}

impl SecurityProtocol {
    fn as_librdkafka(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }
    fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
    fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }
}

/// SASL mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaslMechanism {
    /// `PLAIN` (the original's choice).
    #[serde(rename = "PLAIN")]
    Plain,
    /// `SCRAM-SHA-256`.
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    /// `SCRAM-SHA-512`.
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    fn as_librdkafka(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// SASL credentials. The password never appears in `Debug` output or logs.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaslConfig {
    /// Mechanism.
    pub mechanism: SaslMechanism,
    /// User name (the original's `KF_USER`).
    pub username: String,
    /// Password (the original's `KF_PASSWORD`).
    pub password: String,
}

impl std::fmt::Debug for SaslConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslConfig")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Connection settings shared by the Kafka publisher and consumer.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConnection {
    /// `host:port[,host:port…]` (the original's `BOOTSTRAP_SERVER`).
    pub bootstrap_servers: String,
    /// Client id reported to the brokers.
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// `plaintext` (default), `ssl`, `sasl_plaintext` or `sasl_ssl`.
    #[serde(default)]
    pub security_protocol: SecurityProtocol,
    /// SASL credentials; required by the `sasl_*` protocols.
    #[serde(default)]
    pub sasl: Option<SaslConfig>,
    /// A CA certificate file (PEM) to verify the brokers with.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The CA certificate inline (PEM). The original's `CA_PEM` form, whose newlines became
    /// spaces, is accepted and repaired; nothing is written to disk.
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// Extra librdkafka properties (`socket.keepalive.enable: "true"` …); set last, so they
    /// override maestro's. Values are redacted in `Debug` output.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

impl std::fmt::Debug for KafkaConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let props: BTreeMap<&str, &str> = self.properties.keys().map(|k| (k.as_str(), "<redacted>")).collect();
        f.debug_struct("KafkaConnection")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("client_id", &self.client_id)
            .field("security_protocol", &self.security_protocol)
            .field("sasl", &self.sasl)
            .field("ca_file", &self.ca_file)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "<pem>"))
            .field("properties", &props)
            .finish()
    }
}

fn default_client_id() -> String {
    "maestro".into()
}

impl KafkaConnection {
    /// Plaintext connection to `bootstrap_servers`.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            client_id: default_client_id(),
            security_protocol: SecurityProtocol::Plaintext,
            sasl: None,
            ca_file: None,
            ca_pem: None,
            properties: BTreeMap::new(),
        }
    }

    /// Check the fields; record every problem under `path`.
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) {
        if self.bootstrap_servers.trim().is_empty() {
            errors.push(format!("{path}.bootstrap_servers"), "must not be empty");
        }
        for (i, server) in self.bootstrap_servers.split(',').enumerate() {
            let s = server.trim();
            if !s.is_empty() && s.rsplit_once(':').is_none_or(|(_, port)| port.parse::<u16>().is_err()) {
                errors.push(format!("{path}.bootstrap_servers[{i}]"), format!("`{s}` is not host:port"));
            }
        }
        match (self.security_protocol.uses_sasl(), &self.sasl) {
            (true, None) => errors.push(
                format!("{path}.sasl"),
                format!("required by security_protocol {}", self.security_protocol.as_librdkafka()),
            ),
            (false, Some(_)) => errors.push(
                format!("{path}.security_protocol"),
                "sasl credentials are set but the protocol is not sasl_plaintext or sasl_ssl",
            ),
            _ => {}
        }
        if let Some(sasl) = &self.sasl {
            if sasl.username.is_empty() {
                errors.push(format!("{path}.sasl.username"), "must not be empty");
            }
        }
        if (self.ca_file.is_some() || self.ca_pem.is_some()) && !self.security_protocol.uses_tls() {
            errors.push(format!("{path}.security_protocol"), "a CA is set but the protocol is not ssl or sasl_ssl");
        }
        if self.ca_file.is_some() && self.ca_pem.is_some() {
            errors.push(format!("{path}.ca_pem"), "set either ca_file or ca_pem, not both");
        }
        if let Some(f) = &self.ca_file {
            if !f.is_file() {
                errors.push(format!("{path}.ca_file"), format!("`{}` is not a readable file", f.display()));
            }
        }
        if let Some(pem) = &self.ca_pem {
            if !repair_pem(pem).starts_with("-----BEGIN") {
                errors.push(format!("{path}.ca_pem"), "is not a PEM certificate (no -----BEGIN line)");
            }
        }
    }

    /// The librdkafka client configuration (without producer/consumer specifics).
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap_servers)
            .set("client.id", &self.client_id)
            .set("security.protocol", self.security_protocol.as_librdkafka());
        if let Some(sasl) = &self.sasl {
            c.set("sasl.mechanism", sasl.mechanism.as_librdkafka())
                .set("sasl.username", &sasl.username)
                .set("sasl.password", &sasl.password);
        }
        if let Some(f) = &self.ca_file {
            c.set("ssl.ca.location", f.to_string_lossy());
        }
        if let Some(pem) = &self.ca_pem {
            c.set("ssl.ca.pem", repair_pem(pem));
        }
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}

/// Restore a PEM whose newlines became spaces (the original's `CA_PEM` environment variable):
/// the BEGIN and END lines are two tokens each, the base64 body the rest. A PEM that still has
/// its newlines is returned trimmed.
pub fn repair_pem(pem: &str) -> String {
    let pem = pem.trim();
    if pem.contains('\n') {
        return pem.to_string();
    }
    let tokens: Vec<&str> = pem.split_whitespace().collect();
    if tokens.len() < 5 {
        return pem.to_string();
    }
    let n = tokens.len();
    let mut out = vec![tokens[..2].join(" ")];
    out.extend(tokens[2..n - 2].iter().map(|t| t.to_string()));
    out.push(tokens[n - 2..].join(" "));
    out.join("\n") + "\n"
}

/// Configuration of the `kafka` publisher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaPublisherConfig {
    /// Always `kafka`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Sink name (the relay's cursor name); defaults to `kafka:<topic>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Brokers and security.
    #[serde(flatten)]
    pub connection: KafkaConnection,
    /// Topic for every event kind not listed in `topics` (the original's `site-monitor`).
    #[serde(default = "default_topic")]
    pub topic: String,
    /// Topic per event kind (`{"site.check": "site-monitor", "run.finished": "maestro-runs"}`).
    #[serde(default)]
    pub topics: BTreeMap<String, String>,
    /// How long librdkafka keeps trying to deliver one message (`message.timeout.ms`), in
    /// seconds. A message not acknowledged by then fails as transient and the relay retries.
    #[serde(default = "default_message_timeout")]
    pub message_timeout_secs: f64,
    /// Idempotent producer (`enable.idempotence`, with `acks=all`): librdkafka's own retries
    /// never duplicate or reorder within a partition. Turn off only for brokers without
    /// `InitProducerId` support.
    #[serde(default = "default_true")]
    pub idempotence: bool,
}

fn default_topic() -> String {
    "site-monitor".into()
}
fn default_message_timeout() -> f64 {
    30.0
}
fn default_true() -> bool {
    true
}

impl KafkaPublisherConfig {
    /// A config for `bootstrap_servers` with defaults (topic `site-monitor`, plaintext).
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        Self {
            kind: "kafka".into(),
            name: None,
            connection: KafkaConnection::new(bootstrap_servers),
            topic: default_topic(),
            topics: BTreeMap::new(),
            message_timeout_secs: default_message_timeout(),
            idempotence: true,
        }
    }

    /// Check the fields; record every problem. Returns whether it is valid.
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) -> bool {
        let before = errors.problems.len();
        self.connection.validate(path, errors);
        check_topic(&self.topic, &format!("{path}.topic"), errors);
        for (kind, topic) in &self.topics {
            check_topic(topic, &format!("{path}.topics.{kind}"), errors);
        }
        if !(self.message_timeout_secs.is_finite()
            && self.message_timeout_secs >= 1.0
            && self.message_timeout_secs <= 900.0)
        {
            errors.push(
                format!("{path}.message_timeout_secs"),
                format!("must be within [1, 900], got {}", self.message_timeout_secs),
            );
        }
        errors.problems.len() == before
    }

    /// The sink name.
    pub fn sink_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("kafka:{}", self.topic))
    }

    /// The topic for an event kind.
    pub fn topic_for(&self, kind: &str) -> &str {
        self.topics.get(kind).unwrap_or(&self.topic)
    }
}

/// Kafka topic names: 1–249 characters of `[A-Za-z0-9._-]`.
pub(crate) fn check_topic(topic: &str, path: &str, errors: &mut ConfigErrors) {
    if topic.is_empty() || topic.len() > 249 || !topic.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        errors.push(path, format!("`{topic}` is not a Kafka topic name (1-249 of [A-Za-z0-9._-])"));
    }
}
