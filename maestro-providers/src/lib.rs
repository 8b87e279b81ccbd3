//! Providers (sources) and publishers (sinks) for maestro. One folder each, same files
//! everywhere (`mod.rs`, `config.rs`, `provider.rs`/`publisher.rs`, `translate.rs`, `tests.rs`),
//! each behind a cargo feature, registered in an explicit list ([`PROVIDERS`], [`PUBLISHERS`]).
//!
//! | type | kind | feature |
//! |---|---|---|
//! | `file` | provider: inventory files (the original File template, JSON or YAML) | `file` |
//! | `aws` | provider: AWS APIs over a lean SigV4 client, declarative YAML mapping rules | `aws` |
//! | `ansible`, `terraform` | providers: Ansible facts / Terraform state (v4) files from local paths | `importers` |
//! | `azure` | provider: Azure Resource Manager with an OAuth2 client-credentials token (same rule engine) | `azure` |
//! | `digitalocean` | provider: DigitalOcean API v2 with `links.pages.next` pagination (same rule engine) | `digitalocean` |
//! | `openstack` | provider: Keystone v3 + Nova, Glance, Cinder, Neutron, Octavia (same rule engine) | `openstack` |
//! | `tix` | processor: TiX report files → `tix.result` events (a library API, not a resource provider) | `tix` |
//! | `webhook` | publisher: HTTP POST per event, or the original audit service contract | `webhook` |
//! | `jsonl` | publisher: JSON lines to a file or stdout | `jsonl` |
//! | `http_check` | site monitoring: HTTP(S) checks → `site_checks` + `site.check` events | `http_check` |
//! | `tix_api` | publisher: TiX results to the TiX API (`POST …/installation/{i}/reports`) | `tix` |
//! | `ws_notify` | publisher: run/graph notifications to the original websocket service (Centrifugo `publish`) | `ws_notify` |
//! | `kafka` | publisher: Kafka (acks=all, idempotent); plus the Kafka → PostgreSQL `site_monitor` consumer | `kafka` |
//! | `amqp` | publisher: RabbitMQ exchange, persistent messages, publisher confirms | `amqp` |
//! | `nats` | publisher: NATS JetStream, acked publishes, `Nats-Msg-Id` dedup | `nats` |
//!
//! # Example
//! ```
//! use maestro_core::ConfigErrors;
//! let cfg = serde_json::json!({"type": "file", "connection": "demo", "paths": ["inventory.json"]});
//! let mut errors = ConfigErrors::new();
//! let source = maestro_providers::build_source("acme", &cfg, "sources[0]", &mut errors);
//! assert!(errors.is_empty() && source.is_some());
//! ```

#[cfg(feature = "amqp")]
pub mod amqp;
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "azure")]
pub mod azure;
#[cfg(feature = "digitalocean")]
pub mod digitalocean;
#[cfg(feature = "file")]
pub mod file;
#[cfg(feature = "http_check")]
pub mod http_check;
#[cfg(feature = "importers")]
pub mod importers;
#[cfg(feature = "jsonl")]
pub mod jsonl;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(feature = "openstack")]
pub mod openstack;
#[cfg(feature = "rest")]
pub mod rest;
#[cfg(feature = "tix")]
pub mod tix;
#[cfg(feature = "tix")]
pub mod tix_api;
pub mod util;
#[cfg(feature = "webhook")]
pub mod webhook;
#[cfg(feature = "ws_notify")]
pub mod ws_notify;

use std::sync::Arc;

use maestro_core::{ConfigErrors, Provider, Publisher, Translator};
use serde_json::Value;

/// A configured source: the provider, its translator and the connection it collects through.
pub struct Source {
    /// Connection id (scopes and identities are keyed by it).
    pub connection: String,
    /// The provider.
    pub provider: Box<dyn Provider>,
    /// Its translator.
    pub translator: Box<dyn Translator>,
}

/// Builds a component from its config value; reports problems with their field paths.
pub type Factory<T> = fn(tenant: &str, config: &Value, path: &str, errors: &mut ConfigErrors) -> Option<T>;

/// Every provider, by config `type`.
pub static PROVIDERS: &[(&str, Factory<Source>)] = &[
    #[cfg(feature = "file")]
    ("file", file::build),
    #[cfg(feature = "aws")]
    ("aws", aws::build),
    #[cfg(feature = "openstack")]
    ("openstack", openstack::build),
    #[cfg(feature = "digitalocean")]
    ("digitalocean", digitalocean::build),
    #[cfg(feature = "azure")]
    ("azure", azure::build),
    #[cfg(feature = "importers")]
    ("ansible", importers::build_ansible),
    #[cfg(feature = "importers")]
    ("terraform", importers::build_terraform),
];

/// Every publisher, by config `type`.
pub static PUBLISHERS: &[(&str, Factory<Arc<dyn Publisher>>)] = &[
    #[cfg(feature = "webhook")]
    ("webhook", webhook::build),
    #[cfg(feature = "jsonl")]
    ("jsonl", jsonl::build),
    #[cfg(feature = "tix")]
    ("tix_api", tix_api::build),
    #[cfg(feature = "ws_notify")]
    ("ws_notify", ws_notify::build),
    #[cfg(feature = "kafka")]
    ("kafka", kafka::build),
    #[cfg(feature = "amqp")]
    ("amqp", amqp::build),
    #[cfg(feature = "nats")]
    ("nats", nats::build),
];

fn dispatch<T>(
    registry: &[(&str, Factory<T>)],
    what: &str,
    tenant: &str,
    config: &Value,
    path: &str,
    errors: &mut ConfigErrors,
) -> Option<T> {
    let Some(ty) = config.get("type").and_then(Value::as_str) else {
        errors.push(format!("{path}.type"), format!("missing: every {what} needs a `type`"));
        return None;
    };
    match registry.iter().find(|(name, _)| *name == ty) {
        Some((_, build)) => build(tenant, config, path, errors),
        None => {
            let known: Vec<&str> = registry.iter().map(|(n, _)| *n).collect();
            errors.push(format!("{path}.type"), format!("no {what} named `{ty}`; known: {}", known.join(", ")));
            None
        }
    }
}

/// Build a source from `{type: …, …}`.
pub fn build_source(tenant: &str, config: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Source> {
    dispatch(PROVIDERS, "provider", tenant, config, path, errors)
}

/// Build a publisher from `{type: …, …}`.
pub fn build_publisher(
    tenant: &str,
    config: &Value,
    path: &str,
    errors: &mut ConfigErrors,
) -> Option<Arc<dyn Publisher>> {
    dispatch(PUBLISHERS, "publisher", tenant, config, path, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_names_are_unique() {
        let mut names: Vec<&str> =
            PROVIDERS.iter().map(|(n, _)| *n).chain(PUBLISHERS.iter().map(|(n, _)| *n)).collect();
        let before = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), before);
    }

    #[test]
    fn unknown_type_lists_known_ones() {
        let mut e = ConfigErrors::new();
        assert!(build_source("t", &serde_json::json!({"type": "nope"}), "sources[3]", &mut e).is_none());
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].0, "sources[3].type");
        assert!(e.problems[0].1.contains("no provider named `nope`; known: file"), "{}", e.problems[0].1);
        let mut e = ConfigErrors::new();
        assert!(build_publisher("t", &serde_json::json!({}), "publishers[0]", &mut e).is_none());
        assert!(e.problems[0].1.contains("needs a `type`"));
    }
}
