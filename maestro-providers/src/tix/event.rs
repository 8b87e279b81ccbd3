//! The events the processor records in the outbox, with deterministic ids.

use chrono::{DateTime, Utc};
use maestro_core::Event;
use serde_json::{Value, json};
use uuid::Uuid;

/// One batch result: payload `{user, installation, key, body, raw, batch, localisation?}`.
pub const TIX_RESULT: &str = "tix.result";
/// A batch or file set aside: payload `{user, installation, key?, reason, error_kind, files}`.
pub const TIX_QUARANTINED: &str = "tix.quarantined";
/// Files discarded by the batch selection: payload `{user, installation, files: [{file, records, reason}]}`.
pub const TIX_DROPPED: &str = "tix.dropped";

/// Namespace of the processor's event ids (UUID v5).
pub const NAMESPACE: Uuid = Uuid::from_u128(0x7469_782d_7265_7375_6c74_732d_6d61_6573);

/// The id of the `tix.result` event of a batch: UUID v5 over its idempotency key. The same batch
/// selected again after a crash gets the same id, and the outbox ignores a duplicate id.
pub fn result_event_id(key: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, key.as_bytes())
}

/// The id of a `tix.quarantined` or `tix.dropped` event, UUID v5 over `kind` and `name`.
pub fn other_event_id(kind: &str, name: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kind}\u{0}{name}").as_bytes())
}

/// Common fields of the processor's events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventContext<'a> {
    pub tenant: &'a str,
    pub user: &'a str,
    pub installation: &'a str,
    pub run_id: Uuid,
    pub at: DateTime<Utc>,
}

impl EventContext<'_> {
    pub(crate) fn event(&self, id: Uuid, kind: &str, mut payload: Value) -> Event {
        payload["user"] = Value::from(self.user);
        payload["installation"] = Value::from(self.installation);
        Event {
            id,
            kind: kind.into(),
            tenant: self.tenant.into(),
            subject: format!("tix/{}/{}", self.user, self.installation),
            run_id: Some(self.run_id),
            occurred_at: self.at,
            payload,
        }
    }

    pub(crate) fn result(
        &self,
        key: &str,
        body: Value,
        raw: Value,
        batch: Value,
        localisation: Option<Value>,
    ) -> Event {
        let mut payload = json!({"key": key, "body": body, "raw": raw, "batch": batch});
        if let Some(l) = localisation {
            payload["localisation"] = l;
        }
        self.event(result_event_id(key), TIX_RESULT, payload)
    }

    pub(crate) fn quarantined(
        &self,
        name: &str,
        key: Option<&str>,
        reason: &str,
        kind: &str,
        files: &[String],
    ) -> Event {
        let payload = json!({"key": key, "reason": reason, "error_kind": kind, "files": files});
        self.event(other_event_id(TIX_QUARANTINED, name), TIX_QUARANTINED, payload)
    }

    pub(crate) fn dropped(&self, name: &str, files: Value) -> Event {
        self.event(other_event_id(TIX_DROPPED, name), TIX_DROPPED, json!({"files": files}))
    }
}
