//! The `amqp` publisher: events to a RabbitMQ exchange.
//!
//! One persistent message (`delivery_mode = 2`) per event: the body is the event as JSON,
//! `message_id` = event id (the dedup key), `type` = event kind, `content_type =
//! application/json`. The routing key comes from a template (`{kind}` by default, also
//! `{tenant}` and `{subject}`). Publisher confirms are on and every confirm is awaited before
//! the event counts as delivered; a batch is pipelined on one channel and reports its confirmed
//! prefix. A lost connection is detected on the next publish and re-opened (the relay retries
//! the unconfirmed events, so a message may arrive twice: consumers dedup by `message_id`).
//! Connection errors, timeouts and nacks are transient; a conflicting exchange declaration is
//! rejected. Unroutable messages (no queue bound) are confirmed and dropped by RabbitMQ, as
//! plain publish/subscribe intends: bind a queue before events matter.
//!
//! ```yaml
//! type: amqp
//! url: amqp://guest:guest@127.0.0.1:5672/%2f
//! exchange: maestro.events
//! exchange_type: topic        # topic | direct | fanout
//! routing_key: "{kind}"       # e.g. site.check
//! ```

mod config;
mod publisher;

#[cfg(test)]
mod tests;

pub use config::{AmqpConfig, ExchangeType};
pub use publisher::AmqpPublisher;

use std::sync::Arc;

use maestro_core::{ConfigErrors, Publisher};
use serde_json::Value;

use crate::util::parse_config;

pub(crate) fn build(_tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Arc<dyn Publisher>> {
    let cfg: AmqpConfig = parse_config(value, path, errors)?;
    if !cfg.validate(path, errors) {
        return None;
    }
    Some(Arc::new(AmqpPublisher::new(cfg)))
}
