//! The [`Publisher`] trait: where events go (webhook, file, brokers…).

use async_trait::async_trait;

use crate::error::PublishError;
use crate::event::Event;

/// What a batch publish achieved: the first `delivered` events were confirmed; `error` tells why
/// the next one was not.
#[derive(Debug)]
pub struct BatchOutcome {
    /// Leading events confirmed by the sink.
    pub delivered: usize,
    /// The failure at event `delivered`, if any.
    pub error: Option<PublishError>,
}

/// Delivers events to one sink.
///
/// # Contract
/// - `Ok` from [`publish`](Publisher::publish) MUST mean the sink confirmed the event (HTTP 2xx,
///   broker ack, file flushed). The relay marks it delivered only then.
/// - A transient `Err` ([`PublishError::transient`]) is retried with backoff, keeping order; a
///   rejection ([`PublishError::rejected`]) dead-letters that event and moves on.
/// - The event id is the dedup key; publishers SHOULD pass it on (header, message key/id).
/// - [`publish_batch`](Publisher::publish_batch) MAY be overridden for throughput; it MUST
///   report a delivered *prefix*.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// The sink's name, used as the relay's cursor name.
    fn name(&self) -> &str;

    /// Deliver one event.
    async fn publish(&self, event: &Event) -> Result<(), PublishError>;

    /// Deliver events in order, stopping at the first failure.
    async fn publish_batch(&self, events: &[Event]) -> BatchOutcome {
        for (i, e) in events.iter().enumerate() {
            if let Err(err) = self.publish(e).await {
                return BatchOutcome { delivered: i, error: Some(err) };
            }
        }
        BatchOutcome { delivered: events.len(), error: None }
    }
}
