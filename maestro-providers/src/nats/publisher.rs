use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::context::{PublishAckFuture, PublishErrorKind};
use async_nats::jetstream::{self, Context};
use async_trait::async_trait;
use maestro_core::{BatchOutcome, Event, PublishError, Publisher};
use tokio::sync::OnceCell;

use super::config::NatsConfig;
use crate::util::redact_url;

/// Publishes events to NATS JetStream (see the module doc).
pub struct NatsPublisher {
    name: String,
    config: NatsConfig,
    timeout: Duration,
    js: OnceCell<Context>,
}

impl NatsPublisher {
    /// A publisher for `config`; it connects on first use. The client reconnects by itself after
    /// a connection loss.
    pub fn new(config: NatsConfig) -> Self {
        Self {
            name: config.sink_name(),
            timeout: Duration::from_secs_f64(config.timeout_secs),
            config,
            js: OnceCell::new(),
        }
    }

    async fn context(&self) -> Result<&Context, PublishError> {
        self.js.get_or_try_init(|| self.connect()).await
    }

    async fn connect(&self) -> Result<Context, PublishError> {
        let mut opts = async_nats::ConnectOptions::new()
            .connection_timeout(self.timeout)
            .request_timeout(Some(self.timeout))
            .max_reconnects(None)
            .reconnect_delay_callback(|attempts| Duration::from_millis((50u64 << attempts.min(6)).min(2_000)));
        if let Some(t) = &self.config.token {
            opts = opts.token(t.clone());
        }
        let client = tokio::time::timeout(self.timeout, opts.connect(self.config.url.as_str()))
            .await
            .map_err(|_| {
                PublishError::transient(
                    &self.name,
                    format!("nats connect to {} timed out", redact_url(&self.config.url)),
                )
            })?
            .map_err(|e| {
                PublishError::transient(&self.name, format!("nats connect to {}: {e}", redact_url(&self.config.url)))
                    .with_source(e)
            })?;
        let js = jetstream::new(client);
        if self.config.ensure_stream {
            let cfg = jetstream::stream::Config {
                name: self.config.stream.clone(),
                subjects: self.config.stream_subjects.clone(),
                duplicate_window: Duration::from_secs(self.config.duplicate_window_secs),
                ..Default::default()
            };
            tokio::time::timeout(self.timeout, js.get_or_create_stream(cfg))
                .await
                .map_err(|_| PublishError::transient(&self.name, "nats: ensuring the stream timed out"))?
                .map_err(|e| {
                    PublishError::transient(&self.name, format!("nats: ensuring stream `{}`: {e}", self.config.stream))
                        .with_source(e)
                })?;
        }
        tracing::info!(sink = %self.name, url = %redact_url(&self.config.url), "nats connected");
        Ok(js)
    }

    async fn send(&self, js: &Context, event: &Event) -> Result<PublishAckFuture, PublishError> {
        let body = serde_json::to_vec(event).expect("events serialise");
        let mut headers = HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, event.id.to_string().as_str());
        headers.insert("Maestro-Event-Kind", event.kind.as_str());
        let subject = self.config.subject_for(event);
        tokio::time::timeout(self.timeout, js.publish_with_headers(subject, headers, body.into()))
            .await
            .map_err(|_| PublishError::transient(&self.name, "nats publish timed out"))?
            .map_err(|e| self.classify(e))
    }

    async fn confirm(&self, ack: PublishAckFuture) -> Result<(), PublishError> {
        // The ack future has the client's request timeout; the outer one is a safety net.
        match tokio::time::timeout(self.timeout + Duration::from_secs(1), ack).await {
            Err(_) => Err(PublishError::transient(&self.name, "nats: no JetStream ack in time")),
            Ok(Err(e)) => Err(self.classify(e)),
            Ok(Ok(ack)) => {
                if ack.duplicate {
                    tracing::debug!(sink = %self.name, seq = ack.sequence, "JetStream dropped a duplicate (already stored)");
                }
                Ok(())
            }
        }
    }

    /// Too large for the server is rejected; everything else (no connection, timeouts, no
    /// stream yet, ack limits) is transient.
    fn classify(&self, e: async_nats::jetstream::context::PublishError) -> PublishError {
        let msg = format!("nats: {e}");
        match e.kind() {
            PublishErrorKind::MaxPayloadExceeded => PublishError::rejected(&self.name, msg).with_source(e),
            _ => PublishError::transient(&self.name, msg).with_source(e),
        }
    }
}

#[async_trait]
impl Publisher for NatsPublisher {
    fn name(&self) -> &str {
        &self.name
    }

    async fn publish(&self, event: &Event) -> Result<(), PublishError> {
        let js = self.context().await?;
        let ack = self.send(js, event).await?;
        self.confirm(ack).await
    }

    /// Send the batch without waiting, then await the acks in order; the delivered prefix ends
    /// at the first event not acknowledged.
    async fn publish_batch(&self, events: &[Event]) -> BatchOutcome {
        let js = match self.context().await {
            Ok(js) => js,
            Err(e) => return BatchOutcome { delivered: 0, error: Some(e) },
        };
        let mut pending = Vec::with_capacity(events.len());
        let mut error = None;
        for e in events {
            match self.send(js, e).await {
                Ok(a) => pending.push(a),
                Err(err) => {
                    error = Some(err);
                    break;
                }
            }
        }
        let mut delivered = 0;
        for a in pending {
            if let Err(err) = self.confirm(a).await {
                error = Some(err);
                break;
            }
            delivered += 1;
        }
        BatchOutcome { delivered, error }
    }
}
