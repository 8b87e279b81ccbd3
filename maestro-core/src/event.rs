//! Events: what maestro tells the world, through the outbox.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::diff::Diff;
use crate::model::{Document, ResourceKey};

/// Event type names.
pub mod kinds {
    /// A resource appeared for the first time.
    pub const RESOURCE_CREATED: &str = "resource.created";
    /// A resource's provider-owned content changed.
    pub const RESOURCE_UPDATED: &str = "resource.updated";
    /// A resource vanished from its scope and was deactivated.
    pub const RESOURCE_DEACTIVATED: &str = "resource.deactivated";
    /// A deactivated resource was seen again.
    pub const RESOURCE_REACTIVATED: &str = "resource.reactivated";
    /// A run finished (any outcome).
    pub const RUN_FINISHED: &str = "run.finished";
}

/// An event. `id` is stable across delivery attempts and is the dedup key downstream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Stable id (dedup key).
    pub id: Uuid,
    /// Type name (see [`kinds`]).
    pub kind: String,
    /// The tenant the event belongs to.
    pub tenant: String,
    /// What it is about (a resource key `tenant/connection/kind/id`, a run id…).
    pub subject: String,
    /// The run that caused it, if any.
    pub run_id: Option<Uuid>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Type-specific content.
    pub payload: Value,
}

const NS: Uuid = Uuid::from_u128(0x6d61_6573_7472_6f2d_6576_656e_7473_0001);

fn resource_event_id(kind: &str, key: &ResourceKey, version: i64) -> Uuid {
    let name = format!(
        "{kind}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{version}",
        key.tenant, key.connection, key.kind, key.native_id
    );
    Uuid::new_v5(&NS, name.as_bytes())
}

fn key_json(key: &ResourceKey) -> Value {
    json!({"tenant": key.tenant, "connection": key.connection, "kind": key.kind, "native_id": key.native_id})
}

/// `resource.created` with the full document. `version` is the row version after the write.
pub fn resource_created(
    key: &ResourceKey,
    scope: &str,
    doc: &Document,
    version: i64,
    run_id: Option<Uuid>,
    at: DateTime<Utc>,
) -> Event {
    Event {
        id: resource_event_id(kinds::RESOURCE_CREATED, key, version),
        kind: kinds::RESOURCE_CREATED.into(),
        tenant: key.tenant.clone(),
        subject: key.to_string(),
        run_id,
        occurred_at: at,
        payload: json!({"key": key_json(key), "scope": scope, "version": version, "document": doc}),
    }
}

/// `resource.updated` with the diff (old and new values of every changed path) and the new document.
pub fn resource_updated(
    key: &ResourceKey,
    scope: &str,
    diff: &Diff,
    doc: &Document,
    version: i64,
    run_id: Option<Uuid>,
    at: DateTime<Utc>,
) -> Event {
    Event {
        id: resource_event_id(kinds::RESOURCE_UPDATED, key, version),
        kind: kinds::RESOURCE_UPDATED.into(),
        tenant: key.tenant.clone(),
        subject: key.to_string(),
        run_id,
        occurred_at: at,
        payload: json!({"key": key_json(key), "scope": scope, "version": version, "diff": diff, "document": doc}),
    }
}

/// `resource.deactivated`.
pub fn resource_deactivated(
    key: &ResourceKey,
    scope: &str,
    name: &str,
    version: i64,
    run_id: Option<Uuid>,
    at: DateTime<Utc>,
) -> Event {
    Event {
        id: resource_event_id(kinds::RESOURCE_DEACTIVATED, key, version),
        kind: kinds::RESOURCE_DEACTIVATED.into(),
        tenant: key.tenant.clone(),
        subject: key.to_string(),
        run_id,
        occurred_at: at,
        payload: json!({"key": key_json(key), "scope": scope, "version": version, "name": name, "missing_since": at}),
    }
}

/// `resource.reactivated`, with the diff if the content also changed.
pub fn resource_reactivated(
    key: &ResourceKey,
    scope: &str,
    diff: &Diff,
    version: i64,
    run_id: Option<Uuid>,
    at: DateTime<Utc>,
) -> Event {
    Event {
        id: resource_event_id(kinds::RESOURCE_REACTIVATED, key, version),
        kind: kinds::RESOURCE_REACTIVATED.into(),
        tenant: key.tenant.clone(),
        subject: key.to_string(),
        run_id,
        occurred_at: at,
        payload: json!({"key": key_json(key), "scope": scope, "version": version, "diff": diff}),
    }
}

/// `run.finished` with the run report.
pub fn run_finished(tenant: &str, run_id: Uuid, report: Value, at: DateTime<Utc>) -> Event {
    Event {
        id: Uuid::new_v5(&NS, format!("{}\u{0}{run_id}", kinds::RUN_FINISHED).as_bytes()),
        kind: kinds::RUN_FINISHED.into(),
        tenant: tenant.into(),
        subject: format!("run/{run_id}"),
        run_id: Some(run_id),
        occurred_at: at,
        payload: report,
    }
}
