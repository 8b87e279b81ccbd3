use std::sync::RwLock;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::join_all;
use maestro_core::{BatchOutcome, Event, PublishError, Publisher};
use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};

use super::config::KafkaPublisherConfig;
use super::format::{HEADER_EVENT_ID, HEADER_EVENT_KIND, HEADER_TENANT, message_key, message_value};

/// Delivers events to Kafka (see the module doc). Each message counts as delivered only when
/// the broker acknowledged it (`acks=all`).
pub struct KafkaPublisher {
    name: String,
    config: KafkaPublisherConfig,
    client_config: ClientConfig,
    /// Replaced when librdkafka reports a fatal error (e.g. the idempotent producer's state
    /// was lost by a restarted broker).
    producer: RwLock<FutureProducer>,
    /// Bound on waiting for one delivery report: librdkafka's own message timeout plus slack.
    wait: Duration,
}

impl KafkaPublisher {
    /// Create the producer (it connects lazily, in the background).
    ///
    /// # Errors
    /// A rejected librdkafka setting (named in the message).
    pub fn new(config: KafkaPublisherConfig) -> Result<Self, PublishError> {
        let name = config.sink_name();
        let mut cc = config.connection.client_config();
        let timeout_ms = (config.message_timeout_secs * 1000.0).round() as u64;
        cc.set("message.timeout.ms", timeout_ms.to_string())
            .set("socket.timeout.ms", timeout_ms.clamp(10, 60_000).to_string())
            .set("acks", "all")
            .set("enable.idempotence", config.idempotence.to_string());
        // Extra properties win (they were set by client_config; set them again after ours).
        for (k, v) in &config.connection.properties {
            cc.set(k, v);
        }
        let producer: FutureProducer = cc.create().map_err(|e| {
            PublishError::rejected(&name, format!("cannot create the Kafka producer: {e}")).with_source(e)
        })?;
        let wait = Duration::from_millis(timeout_ms) + Duration::from_secs(5);
        Ok(Self { name, config, client_config: cc, producer: RwLock::new(producer), wait })
    }

    fn producer(&self) -> FutureProducer {
        self.producer.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// After a failure: if librdkafka declared the producer dead (fatal error), or the broker
    /// no longer accepts its idempotent-producer identity (`state_lost`: fenced, unknown
    /// producer id, epoch or sequence out of step — seen after an outage in which messages
    /// timed out), start a new producer so the relay's next attempt can succeed. The events
    /// are still in the outbox, so nothing is lost by dropping the old one.
    fn renew_if_fatal(&self, state_lost: bool) {
        let current = self.producer();
        let fatal = current.client().fatal_error();
        if fatal.is_some() || state_lost {
            let (code, reason) = fatal.unwrap_or((RDKafkaErrorCode::ProducerFenced, "producer state lost".into()));
            tracing::warn!(sink = %self.name, ?code, %reason, "kafka producer can no longer deliver; creating a new one");
            match self.client_config.create::<FutureProducer>() {
                Ok(fresh) => *self.producer.write().unwrap_or_else(|e| e.into_inner()) = fresh,
                Err(e) => tracing::error!(sink = %self.name, error = %e, "cannot re-create the kafka producer"),
            }
        }
    }

    /// The configuration.
    pub fn config(&self) -> &KafkaPublisherConfig {
        &self.config
    }

    /// Enqueue one event; the future resolves when the broker acknowledged it (or gave up).
    fn enqueue(&self, event: &Event) -> Result<DeliveryFuture, PublishError> {
        let key = message_key(event);
        let value = message_value(event);
        let id = event.id.to_string();
        let headers = OwnedHeaders::new_with_capacity(3)
            .insert(Header { key: HEADER_EVENT_ID, value: Some(id.as_str()) })
            .insert(Header { key: HEADER_EVENT_KIND, value: Some(event.kind.as_str()) })
            .insert(Header { key: HEADER_TENANT, value: Some(event.tenant.as_str()) });
        let topic = self.config.topic_for(&event.kind);
        let record = FutureRecord::to(topic).key(&key).payload(&value).headers(headers);
        self.producer().send_result(record).map_err(|(e, _)| classify(&self.name, e))
    }

    /// Wait for one delivery report. The error says whether the producer's idempotent state
    /// was lost (see [`producer_state_lost`]).
    async fn confirm(&self, delivery: DeliveryFuture) -> Result<(), (PublishError, bool)> {
        match tokio::time::timeout(self.wait, delivery).await {
            Err(_) => {
                Err((PublishError::transient(&self.name, format!("no delivery report within {:?}", self.wait)), false))
            }
            Ok(Err(_canceled)) => Err((PublishError::transient(&self.name, "the producer dropped the message"), false)),
            Ok(Ok(Err((e, _msg)))) => {
                let lost = producer_state_lost(&e);
                Err((classify(&self.name, e), lost))
            }
            Ok(Ok(Ok(_delivery))) => Ok(()),
        }
    }
}

/// The broker rejected the idempotent producer's identity: only a new producer can go on.
fn producer_state_lost(e: &KafkaError) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(
            C::ProducerFenced
                | C::InvalidProducerEpoch
                | C::UnknownProducerId
                | C::OutOfOrderSequenceNumber
                | C::InvalidProducerIdMapping
        )
    )
}

/// Transient: anything the broker or network may get over (broker down, timeouts, leader
/// elections, a full local queue, an unknown topic — it may be created later, and dropping
/// every event because of a missing topic would be worse). Rejected: the event itself can never
/// be written (too large, invalid record), or the client is misconfigured for good.
pub(crate) fn classify(sink: &str, e: KafkaError) -> PublishError {
    use RDKafkaErrorCode as C;
    let code = e.rdkafka_error_code();
    let rejected = matches!(
        code,
        Some(
            C::MessageSizeTooLarge
                | C::InvalidMessageSize
                | C::InvalidMessage
                | C::InvalidRecord
                | C::InvalidRequiredAcks
                | C::InvalidArgument
        )
    ) || matches!(e, KafkaError::Nul(_) | KafkaError::ClientConfig(..));
    let msg = format!("kafka: {e}");
    if rejected {
        PublishError::rejected(sink, msg).with_source(e)
    } else {
        PublishError::transient(sink, msg).with_source(e)
    }
}

#[async_trait]
impl Publisher for KafkaPublisher {
    fn name(&self) -> &str {
        &self.name
    }

    async fn publish(&self, event: &Event) -> Result<(), PublishError> {
        let outcome = self.publish_batch(std::slice::from_ref(event)).await;
        match outcome.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Enqueue the whole batch at once (librdkafka batches and pipelines it), then await every
    /// delivery report; the delivered prefix ends at the first event not acknowledged.
    async fn publish_batch(&self, events: &[Event]) -> BatchOutcome {
        let mut pending = Vec::with_capacity(events.len());
        let mut enqueue_error = None;
        for e in events {
            match self.enqueue(e) {
                Ok(d) => pending.push(d),
                Err(err) => {
                    enqueue_error = Some(err);
                    break;
                }
            }
        }
        let enqueued = pending.len();
        let results = join_all(pending.into_iter().map(|d| self.confirm(d))).await;
        for (i, r) in results.into_iter().enumerate() {
            if let Err((err, state_lost)) = r {
                self.renew_if_fatal(state_lost);
                return BatchOutcome { delivered: i, error: Some(err) };
            }
        }
        if enqueue_error.is_some() {
            self.renew_if_fatal(false);
        }
        BatchOutcome { delivered: enqueued, error: enqueue_error }
    }
}

impl Drop for KafkaPublisher {
    fn drop(&mut self) {
        // Give queued messages a moment; anything undelivered is still in the outbox.
        let _ = self.producer().flush(Duration::from_secs(1));
    }
}
