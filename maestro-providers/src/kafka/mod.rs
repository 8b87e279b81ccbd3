//! The `kafka` publisher, and the Kafka → PostgreSQL `site_monitor` consumer
//! ([`KafkaConsumer`]), replacing the original site monitor's producer and consumer.
//!
//! **Publisher.** One message per event, to `topic` (default `site-monitor`) or to the topic
//! `topics` names for the event kind:
//! - key: `{"site_id": <id>}` (byte for byte as the original wrote it) when the payload has a
//!   `site_id`, else the event subject;
//! - value: the payload for `site.check` events (the original's field names plus the new ones),
//!   the whole event as JSON otherwise;
//! - headers `maestro-event-id` (the dedup key), `maestro-event-kind`, `maestro-tenant`.
//!
//! The producer runs with `acks=all` and idempotence on. An event counts as delivered only when
//! its delivery report says the broker stored it; a batch is enqueued at once and reports the
//! acknowledged prefix. Broker down, timeouts, a full local queue and an unknown topic are
//! transient (the relay retries with backoff — an unknown topic may be created later, and
//! dead-lettering every event over a missing topic would be worse); a message too large or
//! an invalid record is rejected (dead-lettered).
//!
//! ```yaml
//! type: kafka
//! bootstrap_servers: kafka.example.com:12345
//! security_protocol: sasl_ssl          # plaintext | ssl | sasl_plaintext | sasl_ssl
//! sasl: {mechanism: PLAIN, username: avnadmin, password: "…"}   # or SCRAM-SHA-256 / SCRAM-SHA-512
//! ca_file: ca.pem                      # or ca_pem: "-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----"
//! topic: site-monitor
//! topics: {run.finished: maestro-runs}
//! message_timeout_secs: 30
//! ```

mod config;
pub mod consumer;
pub mod format;
mod publisher;

#[cfg(test)]
mod integration_tests;
#[cfg(test)]
pub(crate) mod tansu;
#[cfg(test)]
mod tests;

pub use config::{KafkaConnection, KafkaPublisherConfig, SaslConfig, SaslMechanism, SecurityProtocol, repair_pem};
pub use consumer::{ConsumerStats, KafkaConsumer, KafkaConsumerConfig, KafkaConsumerError, SiteMonitorRow};
pub use publisher::KafkaPublisher;

use std::sync::Arc;

use maestro_core::{ConfigErrors, Publisher};
use serde_json::Value;

use crate::util::parse_config;

pub(crate) fn build(_tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Arc<dyn Publisher>> {
    let cfg: KafkaPublisherConfig = parse_config(value, path, errors)?;
    if !cfg.validate(path, errors) {
        return None;
    }
    match KafkaPublisher::new(cfg) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            errors.push(path, e.to_string());
            None
        }
    }
}
