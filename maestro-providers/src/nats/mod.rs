//! The `nats` publisher: events to NATS JetStream.
//!
//! One message per event on subject `maestro.events.{kind}` (template), the body the event as
//! JSON, header `Nats-Msg-Id` = event id (JetStream drops a redelivery within the stream's
//! duplicate window, so the relay's at-least-once becomes exactly-once in the stream) and
//! `Maestro-Event-Kind`. Every publish waits for JetStream's ack (the message is stored); a
//! batch is pipelined and reports its acknowledged prefix. The stream is created on connect
//! if missing. The client reconnects by itself; while it is cut off, publishes time out
//! (transient, the relay retries). A message larger than the server allows is rejected.
//!
//! ```yaml
//! type: nats
//! url: nats://127.0.0.1:4222
//! stream: MAESTRO_EVENTS
//! subject: "maestro.events.{kind}"
//! stream_subjects: ["maestro.events.>"]
//! duplicate_window_secs: 120
//! ```

mod config;
mod publisher;

#[cfg(test)]
mod tests;

pub use config::NatsConfig;
pub use publisher::NatsPublisher;

use std::sync::Arc;

use maestro_core::{ConfigErrors, Publisher};
use serde_json::Value;

use crate::util::parse_config;

pub(crate) fn build(_tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Arc<dyn Publisher>> {
    let cfg: NatsConfig = parse_config(value, path, errors)?;
    if !cfg.validate(path, errors) {
        return None;
    }
    Some(Arc::new(NatsPublisher::new(cfg)))
}
