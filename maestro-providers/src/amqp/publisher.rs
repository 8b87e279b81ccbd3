use std::time::Duration;

use async_trait::async_trait;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use lapin::{Confirmation, PublisherConfirm};
use maestro_core::{BatchOutcome, Event, PublishError, Publisher};
use tokio::sync::Mutex;

use super::config::{AmqpConfig, ExchangeType, redact_url};

struct Link {
    conn: Connection,
    channel: Channel,
}

/// Publishes events to a RabbitMQ exchange (see the module doc).
pub struct AmqpPublisher {
    name: String,
    config: AmqpConfig,
    timeout: Duration,
    link: Mutex<Option<Link>>,
}

impl AmqpPublisher {
    /// A publisher for `config`; it connects on first use (and again after a connection loss).
    pub fn new(config: AmqpConfig) -> Self {
        Self {
            name: config.sink_name(),
            timeout: Duration::from_secs_f64(config.timeout_secs),
            config,
            link: Mutex::new(None),
        }
    }

    fn transient(&self, what: &str, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> PublishError {
        let e = e.into();
        PublishError::transient(&self.name, format!("amqp {what}: {e}")).with_source(e)
    }

    async fn open(&self) -> Result<Link, PublishError> {
        let connect = Connection::connect(&self.config.url, ConnectionProperties::default());
        let conn = tokio::time::timeout(self.timeout, connect)
            .await
            .map_err(|_| {
                PublishError::transient(
                    &self.name,
                    format!("amqp connect to {} timed out", redact_url(&self.config.url)),
                )
            })?
            .map_err(|e| self.transient(&format!("connect to {}", redact_url(&self.config.url)), e))?;
        let channel = conn.create_channel().await.map_err(|e| self.transient("opening a channel", e))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| self.transient("enabling confirms", e))?;
        if self.config.declare_exchange {
            let kind = match self.config.exchange_type {
                ExchangeType::Topic => ExchangeKind::Topic,
                ExchangeType::Direct => ExchangeKind::Direct,
                ExchangeType::Fanout => ExchangeKind::Fanout,
            };
            let opts = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
            channel
                .exchange_declare(self.config.exchange.as_str().into(), kind, opts, FieldTable::default())
                .await
                // A declaration that clashes with an existing exchange will not fix itself.
                .map_err(|e| {
                    PublishError::rejected(
                        &self.name,
                        format!("amqp declaring exchange `{}`: {e}", self.config.exchange),
                    )
                })?;
        }
        tracing::info!(sink = %self.name, url = %redact_url(&self.config.url), "amqp connected");
        Ok(Link { conn, channel })
    }

    /// The live channel, reconnecting if the connection was lost.
    async fn channel(&self) -> Result<Channel, PublishError> {
        let mut link = self.link.lock().await;
        let alive = link.as_ref().is_some_and(|l| l.conn.status().connected() && l.channel.status().connected());
        if !alive {
            if link.is_some() {
                tracing::warn!(sink = %self.name, "amqp connection lost; reconnecting");
            }
            *link = None;
            *link = Some(self.open().await?);
        }
        Ok(link.as_ref().expect("just set").channel.clone())
    }

    async fn forget_link(&self) {
        if let Some(l) = self.link.lock().await.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), l.conn.close(320, "reconnecting".into())).await;
        }
    }

    async fn send(&self, channel: &Channel, event: &Event) -> Result<PublisherConfirm, PublishError> {
        let body = serde_json::to_vec(event).expect("events serialise");
        let props = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_message_id(event.id.to_string().as_str().into())
            .with_type(event.kind.as_str().into())
            .with_app_id("maestro".into())
            .with_timestamp(event.occurred_at.timestamp().max(0) as u64);
        let key = self.config.routing_key_for(event);
        let publish = channel.basic_publish(
            self.config.exchange.as_str().into(),
            key.as_str().into(),
            BasicPublishOptions::default(),
            &body,
            props,
        );
        tokio::time::timeout(self.timeout, publish)
            .await
            .map_err(|_| PublishError::transient(&self.name, "amqp publish timed out"))?
            .map_err(|e| self.transient("publish", e))
    }

    async fn confirm(&self, confirm: PublisherConfirm) -> Result<(), PublishError> {
        match tokio::time::timeout(self.timeout, confirm).await {
            Err(_) => Err(PublishError::transient(
                &self.name,
                format!("amqp: no publisher confirm within {:?}", self.timeout),
            )),
            Ok(Err(e)) => Err(self.transient("waiting for the confirm", e)),
            Ok(Ok(Confirmation::Ack(_))) => Ok(()),
            // The broker could not store it (e.g. a queue limit); may work later.
            Ok(Ok(Confirmation::Nack(_))) => {
                Err(PublishError::transient(&self.name, "amqp: the broker nacked the message"))
            }
            Ok(Ok(Confirmation::NotRequested)) => {
                Err(PublishError::transient(&self.name, "amqp: the channel has no publisher confirms"))
            }
        }
    }
}

#[async_trait]
impl Publisher for AmqpPublisher {
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

    /// Publish the batch on one channel without waiting, then await the confirms in order;
    /// the delivered prefix ends at the first event not confirmed.
    async fn publish_batch(&self, events: &[Event]) -> BatchOutcome {
        let channel = match self.channel().await {
            Ok(c) => c,
            Err(e) => return BatchOutcome { delivered: 0, error: Some(e) },
        };
        let mut pending = Vec::with_capacity(events.len());
        let mut error = None;
        for e in events {
            match self.send(&channel, e).await {
                Ok(c) => pending.push(c),
                Err(err) => {
                    error = Some(err);
                    break;
                }
            }
        }
        let mut delivered = 0;
        for c in pending {
            if let Err(err) = self.confirm(c).await {
                error = Some(err);
                break;
            }
            delivered += 1;
        }
        if error.is_some() {
            self.forget_link().await;
        }
        BatchOutcome { delivered, error }
    }
}
