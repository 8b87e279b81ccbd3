//! The outbox relay: reads events in order and delivers them to one publisher.
//!
//! One relay per sink, holding a lease on the sink's cursor so two relays never deliver the same
//! sink at once. Delivery is at-least-once with a stable dedup key (the event id): an event is
//! delivered again only if the process dies between the sink's confirmation and the cursor write.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::error::{Retry, StorageError};
use crate::layers::RetryPolicy;
use crate::publisher::Publisher;
use crate::repository::OutboxStore;

/// Relay settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelayConfig {
    /// Events read per pass.
    pub batch_size: u32,
    /// Lease length (seconds).
    pub lease_secs: u64,
    /// Backoff between failed attempts at the head event; after `max_attempts` it is
    /// dead-lettered.
    pub retry: RetryPolicy,
    /// Sleep when there is nothing to deliver (milliseconds).
    pub idle_poll_ms: u64,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            lease_secs: 30,
            retry: RetryPolicy {
                max_attempts: 10,
                initial_backoff: Duration::from_millis(500),
                max_backoff: Duration::from_secs(300),
                jitter: 0.5,
            },
            idle_poll_ms: 500,
        }
    }
}

/// What one pass of the relay did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayPass {
    /// Events delivered.
    pub delivered: u64,
    /// Dead letters replayed successfully.
    pub replayed: u64,
    /// Events dead-lettered.
    pub dead_lettered: u64,
    /// The head event failed and will be retried later.
    pub failed: bool,
    /// The sink is in backoff; nothing was attempted.
    pub backing_off: bool,
    /// Nothing to deliver.
    pub idle: bool,
}

/// Delivers the outbox to one publisher.
pub struct OutboxRelay {
    store: Arc<dyn OutboxStore>,
    publisher: Arc<dyn Publisher>,
    config: RelayConfig,
    clock: Arc<dyn Clock>,
    owner: String,
}

impl OutboxRelay {
    /// A relay for `publisher` (the sink is named after it).
    pub fn new(store: Arc<dyn OutboxStore>, publisher: Arc<dyn Publisher>) -> Self {
        Self {
            store,
            publisher,
            config: RelayConfig::default(),
            clock: Arc::new(SystemClock),
            owner: format!("relay-{}", uuid::Uuid::new_v4()),
        }
    }
    /// Use `config`.
    pub fn with_config(mut self, config: RelayConfig) -> Self {
        self.config = config;
        self
    }
    /// Use `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The sink name.
    pub fn sink(&self) -> &str {
        self.publisher.name()
    }

    /// One pass: claim the sink, replay requested dead letters, deliver up to one batch.
    ///
    /// # Errors
    /// Storage errors, and [`StorageError::LeaseHeld`] when another relay holds the sink.
    pub async fn run_once(&self) -> Result<RelayPass, StorageError> {
        let sink = self.publisher.name().to_string();
        let now = self.clock.now();
        let lease_until = now + chrono::Duration::seconds(self.config.lease_secs as i64);
        let state = self.store.claim_sink(&sink, &self.owner, now, lease_until).await?;
        let mut pass = RelayPass::default();

        for dl in self.store.pending_replays(&sink, self.config.batch_size).await? {
            let result = self.publisher.publish(&dl.event).await.map_err(|e| e.to_string());
            if result.is_ok() {
                pass.replayed += 1;
            }
            self.store.finish_replay(dl.id, result, self.clock.now()).await?;
        }

        if let Some(at) = state.next_attempt_at {
            if at > now {
                pass.backing_off = true;
                return Ok(pass);
            }
        }
        let events = self.store.events_after(state.cursor, self.config.batch_size).await?;
        if events.is_empty() {
            pass.idle = pass.replayed == 0;
            return Ok(pass);
        }
        let plain: Vec<_> = events.iter().map(|e| e.event.clone()).collect();
        let outcome = self.publisher.publish_batch(&plain).await;
        if outcome.delivered > 0 {
            let to = events[outcome.delivered - 1].position;
            self.store.advance(&sink, &self.owner, to, outcome.delivered as u64).await?;
            pass.delivered = outcome.delivered as u64;
        }
        if let Some(err) = outcome.error {
            let head = &events[outcome.delivered];
            let attempts = if outcome.delivered > 0 { 1 } else { state.attempts + 1 };
            let message = err.to_string();
            if err.retry == Retry::Never || attempts >= self.config.retry.max_attempts {
                tracing::error!(sink = %sink, event = %head.event.id, attempts, error = %message, "dead-lettering event");
                self.store.dead_letter(&sink, &self.owner, head, attempts, &message, self.clock.now()).await?;
                pass.dead_lettered = 1;
            } else {
                let mut wait = self.config.retry.delay(attempts);
                if let Retry::After(d) = err.retry {
                    wait = wait.max(d);
                }
                let next = self.clock.now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(1));
                tracing::warn!(sink = %sink, attempts, ?wait, error = %message, "publish failed; will retry");
                self.store.record_failure(&sink, &self.owner, attempts, next, &message).await?;
                pass.failed = true;
            }
        }
        Ok(pass)
    }

    /// Pass after pass until the outbox is drained (or the sink is failing and backing off).
    /// Returns the summed passes.
    pub async fn drain(&self) -> Result<RelayPass, StorageError> {
        let mut total = RelayPass::default();
        loop {
            let p = self.run_once().await?;
            total.delivered += p.delivered;
            total.replayed += p.replayed;
            total.dead_lettered += p.dead_lettered;
            if p.idle || p.backing_off || p.failed {
                total.idle = p.idle;
                total.backing_off = p.backing_off;
                total.failed = p.failed;
                return Ok(total);
            }
        }
    }

    /// Give the sink's lease up (another relay may take over at once).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn release(&self) -> Result<(), StorageError> {
        self.store.release_sink(self.publisher.name(), &self.owner).await
    }

    /// Run until `shutdown` resolves, sleeping while idle or backing off, then release the lease.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) -> Result<(), StorageError> {
        tokio::pin!(shutdown);
        loop {
            let pass = match self.run_once().await {
                Ok(p) => p,
                Err(StorageError::LeaseHeld(_)) => RelayPass { idle: true, ..RelayPass::default() },
                Err(e) => {
                    tracing::error!(error = %e, "relay pass failed");
                    RelayPass { failed: true, ..RelayPass::default() }
                }
            };
            if pass.idle || pass.backing_off || pass.failed {
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(Duration::from_millis(self.config.idle_poll_ms)) => {}
                }
            }
        }
        self.store.release_sink(self.publisher.name(), &self.owner).await
    }
}
