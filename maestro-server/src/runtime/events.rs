//! The live event hub: everything the `/events` websocket streams (outbox events, run progress,
//! job outcomes) goes through one broadcast channel.

use std::sync::Arc;

use maestro_core::{RunObserver, Scope, ScopeReport};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use uuid::Uuid;

/// A broadcast of JSON messages, each with a `kind`. Slow subscribers lose the oldest messages
/// (they are told how many with a `lagged` message) rather than slowing the producers.
#[derive(Debug, Clone)]
pub struct EventHub {
    tx: broadcast::Sender<Arc<Value>>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl EventHub {
    /// A hub keeping up to `capacity` messages per subscriber.
    pub fn new(capacity: usize) -> Self {
        Self { tx: broadcast::channel(capacity.max(1)).0 }
    }

    /// Send `message` to every current subscriber (nobody listening is fine).
    pub fn publish(&self, message: Value) {
        let _ = self.tx.send(Arc::new(message));
    }

    /// Receive every message published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Value>> {
        self.tx.subscribe()
    }
}

/// Publishes a run's progress (`run.progress` messages) to the hub.
pub struct HubObserver {
    hub: EventHub,
    tenant: String,
    connection: String,
    job: String,
}

impl HubObserver {
    /// Progress of `job`'s crawl of `connection`.
    pub fn new(hub: EventHub, tenant: &str, connection: &str, job: &str) -> Self {
        Self { hub, tenant: tenant.into(), connection: connection.into(), job: job.into() }
    }

    fn send(&self, phase: &str, extra: Value) {
        let mut m = json!({
            "kind": "run.progress", "tenant": self.tenant, "connection": self.connection, "job": self.job,
            "phase": phase, "at": chrono::Utc::now(),
        });
        if let (Some(m), Value::Object(extra)) = (m.as_object_mut(), extra) {
            m.extend(extra);
        }
        self.hub.publish(m);
    }
}

impl RunObserver for HubObserver {
    fn run_started(&self, run_id: Uuid, scopes: &[Scope]) {
        self.send("started", json!({"run_id": run_id, "scopes": scopes.len()}));
    }
    fn page_done(&self, scope: &Scope, items: usize) {
        self.send("page", json!({"scope": scope.local_key(), "items": items}));
    }
    fn scope_done(&self, report: &ScopeReport) {
        self.send(
            "scope",
            json!({"scope": report.scope.local_key(), "outcome": report.outcome, "error": report.error}),
        );
    }
}
