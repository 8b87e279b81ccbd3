//! The `webhook` publisher: delivers events over HTTP.
//!
//! - `mode: events` (default): `POST {url}` with the event as JSON, headers
//!   `Idempotency-Key: <event id>` and `X-Maestro-Event: <kind>`.
//! - `mode: audit`: the original audit service's contract — `POST {url}/audit/<entity>/<id>` with
//!   the document when a resource is created, `PUT` with the new document when it changes
//!   (the audit service diffs it against its snapshot), `PUT {"active": false, …}` when it is
//!   deactivated; other events are skipped (counted as delivered).
//!
//! Any 2xx is success. 408, 429, 5xx, timeouts and connection errors are transient (the relay
//! retries with backoff); other 4xx reject the event (dead-lettered).
//!
//! ```yaml
//! type: webhook
//! url: http://127.0.0.1:8080/maestro-events
//! headers: {Authorization: "Bearer …"}
//! timeout_secs: 10
//! ```

mod config;
mod publisher;

#[cfg(test)]
mod tests;

pub use config::{WebhookConfig, WebhookMode};
pub use publisher::WebhookPublisher;

use std::sync::Arc;

use maestro_core::{ConfigErrors, Publisher};
use serde_json::Value;

use crate::util::parse_config;

pub(crate) fn build(_tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Arc<dyn Publisher>> {
    let cfg: WebhookConfig = parse_config(value, path, errors)?;
    if !cfg.validate(path, errors) {
        return None;
    }
    match WebhookPublisher::new(cfg) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            errors.push(path, e.to_string());
            None
        }
    }
}
