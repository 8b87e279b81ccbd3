//! `maestro consume`: the Kafka → PostgreSQL `site_monitor` consumer (the original site
//! monitor's `consumer.py`), run until Ctrl-C / SIGTERM.
//!
//! The environment variables the original read are accepted too: `BOOTSTRAP_SERVER`,
//! `KF_USER`, `KF_PASSWORD`, `CA_PEM` (see [`ConsumeArgs`] and docs/publishers.md).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use maestro_providers::kafka::{
    KafkaConnection, KafkaConsumer, KafkaConsumerConfig, SaslConfig, SaslMechanism, SecurityProtocol,
};

/// What `maestro consume` needs.
#[derive(Clone)]
pub struct ConsumeArgs {
    /// `host:port[,…]`.
    pub brokers: String,
    /// PostgreSQL URL.
    pub database: String,
    /// Topic.
    pub topic: String,
    /// Consumer group.
    pub group: String,
    /// Schema of the tables.
    pub schema: String,
    /// SASL user; with a password, turns on SASL (over TLS, as the original's hosted Kafka).
    pub sasl_username: Option<String>,
    /// SASL password.
    pub sasl_password: Option<String>,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub sasl_mechanism: String,
    /// CA file (PEM).
    pub ca_file: Option<PathBuf>,
    /// CA inline (PEM; the original's space-mangled `CA_PEM` is accepted).
    pub ca_pem: Option<String>,
    /// Extra librdkafka properties, `key=value` (as kcat's `-X`), set last.
    pub properties: Vec<String>,
}

impl std::fmt::Debug for ConsumeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumeArgs")
            .field("brokers", &self.brokers)
            .field("topic", &self.topic)
            .field("group", &self.group)
            .field("schema", &self.schema)
            .field("sasl_username", &self.sasl_username)
            .finish_non_exhaustive()
    }
}

impl ConsumeArgs {
    /// The consumer configuration.
    ///
    /// # Errors
    /// An unknown SASL mechanism, or a password without a user (or the reverse).
    pub fn config(&self) -> Result<KafkaConsumerConfig> {
        let mut connection = KafkaConnection::new(&self.brokers);
        connection.client_id = "maestro-consume".into();
        let tls = self.ca_file.is_some() || self.ca_pem.is_some();
        match (&self.sasl_username, &self.sasl_password) {
            (Some(u), Some(p)) => {
                let mechanism = match self.sasl_mechanism.to_ascii_uppercase().as_str() {
                    "PLAIN" => SaslMechanism::Plain,
                    "SCRAM-SHA-256" => SaslMechanism::ScramSha256,
                    "SCRAM-SHA-512" => SaslMechanism::ScramSha512,
                    other => anyhow::bail!("--sasl-mechanism: `{other}` is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"),
                };
                connection.sasl = Some(SaslConfig { mechanism, username: u.clone(), password: p.clone() });
                connection.security_protocol =
                    if tls { SecurityProtocol::SaslSsl } else { SecurityProtocol::SaslPlaintext };
            }
            (None, None) => {
                connection.security_protocol = if tls { SecurityProtocol::Ssl } else { SecurityProtocol::Plaintext };
            }
            _ => anyhow::bail!("--sasl-username and --sasl-password go together"),
        }
        connection.ca_file = self.ca_file.clone();
        connection.ca_pem = self.ca_pem.clone();
        for p in &self.properties {
            let Some((k, v)) = p.split_once('=').filter(|(k, _)| !k.trim().is_empty()) else {
                anyhow::bail!("--property `{p}`: expected key=value (a librdkafka property)");
            };
            connection.properties.insert(k.trim().to_string(), v.to_string());
        }
        Ok(KafkaConsumerConfig {
            connection,
            topic: self.topic.clone(),
            group: self.group.clone(),
            database_url: self.database.clone(),
            schema: self.schema.clone(),
        })
    }
}

/// Test-only fault injection: `MAESTRO_FAULT_ABORT_BEFORE_COMMIT=N` makes the process abort
/// after storing its N-th message and before committing that message's offset.
pub const FAULT_ABORT_BEFORE_COMMIT: &str = "MAESTRO_FAULT_ABORT_BEFORE_COMMIT";

/// Consume until Ctrl-C or SIGTERM, then print what was done as JSON.
///
/// # Errors
/// Invalid arguments, or Kafka / PostgreSQL unreachable at start.
pub async fn consume(args: ConsumeArgs, out: &mut dyn Write) -> Result<()> {
    let config = args.config()?;
    let mut consumer = KafkaConsumer::connect(config).await.context("starting the consumer")?;
    // Fault injection for the crash tests: store N messages, then die (no offset commit, no
    // clean leave of the consumer group), as a process killed between insert and commit would.
    let abort_after = std::env::var(FAULT_ABORT_BEFORE_COMMIT).ok();
    if let Some(n) = &abort_after {
        let n: u64 = n.parse().with_context(|| format!("{FAULT_ABORT_BEFORE_COMMIT}={n} is not a count"))?;
        tracing::warn!(messages = n, "fault injection: the process aborts before committing message {n}");
        consumer = consumer.crash_before_commit_after(n);
    }
    let stats = consumer.run(shutdown_signal()).await?;
    if abort_after.is_some() {
        std::process::abort();
    }
    writeln!(out, "{}", serde_json::to_string(&stats)?)?;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> ConsumeArgs {
        ConsumeArgs {
            brokers: "127.0.0.1:9092".into(),
            database: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            topic: "site-monitor".into(),
            group: "monitor-group".into(),
            schema: "public".into(),
            sasl_username: None,
            sasl_password: None,
            sasl_mechanism: "PLAIN".into(),
            ca_file: None,
            ca_pem: None,
            properties: Vec::new(),
        }
    }

    #[test]
    fn the_originals_hosted_setup_maps_to_sasl_ssl_plain() {
        let mut a = args();
        a.sasl_username = Some("avnadmin".into());
        a.sasl_password = Some("pw".into());
        a.ca_pem = Some("-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----".into());
        let c = a.config().unwrap();
        assert_eq!(c.connection.security_protocol, SecurityProtocol::SaslSsl);
        assert_eq!(c.connection.sasl.as_ref().unwrap().mechanism, SaslMechanism::Plain);
        assert!(c.validate().is_ok());
        assert_eq!(args().config().unwrap().connection.security_protocol, SecurityProtocol::Plaintext);
        let mut bad = args();
        bad.sasl_username = Some("u".into());
        assert!(bad.config().is_err());
    }
}
