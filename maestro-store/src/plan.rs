//! Turning a batch into writes, shared by both SQL backends. The rules themselves live in
//! `maestro_core::sync`; this module only gathers their answers into write sets.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use maestro_core::event::{self, Event};
use maestro_core::sync::{Finish, Plan, StoredState, finish, plan};
use maestro_core::{ChangeOp, ChangeSet, Document, ItemChange, Kind, PreparedResource, ResourceKey, UpsertBatch};
use uuid::Uuid;

/// (kind, native id) of an item in a batch.
pub(crate) type ItemKey = (Kind, String);

/// A history row to write; `resource` is a row id, or the key of a row inserted in this batch.
pub(crate) struct PendingChange {
    pub resource: Target,
    pub op: ChangeOp,
    pub version: i64,
    pub diff: Option<String>,
}

pub(crate) enum Target {
    Id(i64),
    New(ItemKey),
}

/// Everything a batch writes.
#[derive(Default)]
pub(crate) struct WriteSet<'a> {
    pub inserts: Vec<&'a PreparedResource>,
    /// Full rewrites: (row id, item, new version).
    pub updates: Vec<(i64, &'a PreparedResource, i64)>,
    /// Bookkeeping only (miss count reset / scope move).
    pub touches: Vec<i64>,
    /// New checksum only.
    pub checksum_only: Vec<(i64, &'a PreparedResource)>,
    pub changes: Vec<PendingChange>,
    pub events: Vec<Event>,
    pub changeset: ChangeSet,
}

/// First pass: which stored rows need their document read.
pub(crate) fn ids_to_compare(
    items: &[&PreparedResource],
    states: &HashMap<ItemKey, StoredState>,
    scope: &str,
) -> Vec<i64> {
    items
        .iter()
        .filter_map(|it| {
            let st = states.get(&(it.kind.clone(), it.native_id.clone()));
            (plan(st, it, scope) == Plan::Compare).then(|| st.map(|s| s.id)).flatten()
        })
        .collect()
}

/// Second pass: the write set.
pub(crate) fn build<'a>(
    batch: &UpsertBatch<'_>,
    items: &[&'a PreparedResource],
    states: &HashMap<ItemKey, StoredState>,
    docs: &HashMap<i64, Document>,
) -> Result<WriteSet<'a>, maestro_core::StorageError> {
    let mut ws = WriteSet::default();
    let run = Some(batch.run_id);
    let at: DateTime<Utc> = batch.at;
    for &it in items {
        let ik = (it.kind.clone(), it.native_id.clone());
        let st = states.get(&ik);
        let key = || ResourceKey::new(batch.tenant, batch.connection, it.kind.clone(), &it.native_id);
        match plan(st, it, batch.scope) {
            Plan::Unchanged => ws.changeset.unchanged += 1,
            Plan::Touch => {
                ws.touches.push(st.expect("touch implies a row").id);
                ws.changeset.unchanged += 1;
            }
            Plan::Create => {
                ws.inserts.push(it);
                ws.changes.push(PendingChange {
                    resource: Target::New(ik),
                    op: ChangeOp::Created,
                    version: 1,
                    diff: None,
                });
                ws.events.push(event::resource_created(&key(), batch.scope, &it.doc, 1, run, at));
                ws.changeset.created += 1;
                ws.changeset.changes.push(ItemChange {
                    kind: it.kind.clone(),
                    native_id: it.native_id.clone(),
                    op: ChangeOp::Created,
                    diff: Vec::new(),
                });
            }
            Plan::Compare => {
                let st = st.expect("compare implies a row");
                let old = docs.get(&st.id).ok_or_else(|| maestro_core::StorageError::Corrupt {
                    context: "resources".into(),
                    message: format!("row {} vanished during the batch", st.id),
                })?;
                match finish(st, old, &it.doc) {
                    Finish::ChecksumOnly => {
                        ws.checksum_only.push((st.id, it));
                        ws.changeset.unchanged += 1;
                    }
                    Finish::Updated(d) | Finish::Reactivated(d) => {
                        let op = if st.active { ChangeOp::Updated } else { ChangeOp::Reactivated };
                        let v = st.version + 1;
                        ws.updates.push((st.id, it, v));
                        let diff_json = serde_json::to_string(&d).expect("diff serialises");
                        ws.changes.push(PendingChange {
                            resource: Target::Id(st.id),
                            op,
                            version: v,
                            diff: Some(diff_json),
                        });
                        if op == ChangeOp::Updated {
                            ws.events.push(event::resource_updated(&key(), batch.scope, &d, &it.doc, v, run, at));
                            ws.changeset.updated += 1;
                        } else {
                            ws.events.push(event::resource_reactivated(&key(), batch.scope, &d, v, run, at));
                            ws.changeset.reactivated += 1;
                        }
                        ws.changeset.changes.push(ItemChange {
                            kind: it.kind.clone(),
                            native_id: it.native_id.clone(),
                            op,
                            diff: d,
                        });
                    }
                }
            }
        }
    }
    Ok(ws)
}

/// The run id stored with history rows.
pub(crate) fn run_text(run: Option<Uuid>) -> Option<String> {
    run.map(|r| r.to_string())
}
