use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::checksum::Checksum;
use crate::error::StorageError;
use crate::event::{self, Event};
use crate::model::{Document, Kind, Resource, ResourceKey};
use crate::pipeline::RunReport;
use crate::repository::*;
use crate::sync::{Finish, Plan, StoredState, finish, last_wins, plan};
use crate::tracker::{SweepAction, SweepRow, sweep_action};

mod sites;

type Key = (String, String, Kind, String);

#[derive(Debug, Clone)]
struct Row {
    id: i64,
    scope: String,
    active: bool,
    doc: Document,
    user_fields: Map<String, Value>,
    checksum: Checksum,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    missing_since: Option<DateTime<Utc>>,
    missed_runs: u32,
    updated_at: DateTime<Utc>,
    version: i64,
}

#[derive(Debug, Clone)]
struct SinkRow {
    state: SinkState,
    owner: Option<String>,
    lease_until: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
struct Inner {
    rows: BTreeMap<Key, Row>,
    by_id: BTreeMap<i64, Key>,
    next_id: i64,
    changes: Vec<Change>,
    runs: HashMap<Uuid, RunReport>,
    /// (tenant, connection, scope) → (started_at of the completing run, completed at)
    completions: HashMap<(String, String, String), (DateTime<Utc>, DateTime<Utc>)>,
    events: Vec<StoredEvent>,
    event_ids: std::collections::HashSet<Uuid>,
    sinks: BTreeMap<String, SinkRow>,
    dead: Vec<DeadLetter>,
    leases: HashMap<String, (String, DateTime<Utc>)>,
    sites: sites::SiteTables,
}

impl Inner {
    fn push_event(&mut self, e: Event) {
        if self.event_ids.insert(e.id) {
            let seq = self.events.len() as i64 + 1;
            self.events.push(StoredEvent { position: OutboxCursor { txid: 0, seq }, event: e });
        }
    }
    fn push_change(
        &mut self,
        key: &Key,
        op: ChangeOp,
        at: DateTime<Utc>,
        run_id: Option<Uuid>,
        version: i64,
        diff: crate::diff::Diff,
    ) {
        let seq = self.changes.len() as i64 + 1;
        self.changes.push(Change {
            seq,
            key: ResourceKey::new(&key.0, &key.1, key.2.clone(), &key.3),
            op,
            at,
            run_id,
            version,
            diff,
        });
    }
    fn to_resource(&self, key: &Key, r: &Row) -> Resource {
        let last_seen = match self.completions.get(&(key.0.clone(), key.1.clone(), r.scope.clone())) {
            Some((_, done)) if r.active && r.missed_runs == 0 && *done > r.last_seen => *done,
            _ => r.last_seen,
        };
        Resource {
            key: ResourceKey::new(&key.0, &key.1, key.2.clone(), &key.3),
            scope: r.scope.clone(),
            active: r.active,
            doc: r.doc.clone(),
            user_fields: r.user_fields.clone(),
            checksum: r.checksum,
            first_seen: r.first_seen,
            last_seen,
            missing_since: r.missing_since,
            missed_runs: r.missed_runs,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
    fn sink_mut(&mut self, sink: &str, owner: &str) -> Result<&mut SinkRow, StorageError> {
        match self.sinks.get_mut(sink) {
            Some(s) if s.owner.as_deref() == Some(owner) => Ok(s),
            _ => Err(StorageError::LeaseHeld(sink.to_string())),
        }
    }
}

/// An in-memory [`Repository`] + [`OutboxStore`] with the same semantics as the SQL stores
/// (it passes the same [`repository_suite`](super::repository_suite)). For tests and examples.
#[derive(Debug, Default)]
pub struct MemoryRepository {
    inner: Mutex<Inner>,
    fail_after: AtomicUsize,
    sched: Mutex<SchedInner>,
}

/// Scheduler state: schedules (with their trigger at upsert time), slot claims, jobs in
/// insertion order.
#[derive(Debug, Default)]
struct SchedInner {
    schedules: BTreeMap<(String, String), crate::scheduler::Schedule>,
    slots: HashMap<(String, String, DateTime<Utc>), String>,
    jobs: Vec<crate::scheduler::JobRecord>,
}

impl MemoryRepository {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }
}

impl super::FaultInjection for MemoryRepository {
    fn fail_next_batch_after(&self, rows: usize) {
        self.fail_after.store(rows + 1, Ordering::SeqCst);
    }
}

fn crash() -> StorageError {
    StorageError::Unavailable { message: "injected fault: batch interrupted".into(), source: None }
}

#[async_trait]
impl Repository for MemoryRepository {
    async fn upsert_batch(&self, batch: UpsertBatch<'_>) -> StoreResult<ChangeSet> {
        let mut guard = self.inner.lock().expect("poisoned");
        // Work on a copy: a failure drops it, like a rolled-back transaction.
        let mut tx = guard.clone();
        let fail_after = self.fail_after.swap(0, Ordering::SeqCst);
        let mut written = 0usize;
        let mut cs = ChangeSet::default();
        for it in last_wins(batch.items) {
            let key: Key =
                (batch.tenant.to_string(), batch.connection.to_string(), it.kind.clone(), it.native_id.clone());
            let rkey = ResourceKey::new(batch.tenant, batch.connection, it.kind.clone(), &it.native_id);
            let existing = tx.rows.get(&key).map(|r| StoredState {
                id: r.id,
                checksum: r.checksum,
                active: r.active,
                missed_runs: r.missed_runs,
                scope: r.scope.clone(),
                version: r.version,
            });
            let p = plan(existing.as_ref(), it, batch.scope);
            if p != Plan::Unchanged {
                written += 1;
                if fail_after > 0 && written >= fail_after {
                    return Err(crash());
                }
            }
            match p {
                Plan::Unchanged => cs.unchanged += 1,
                Plan::Touch => {
                    let r = tx.rows.get_mut(&key).expect("exists");
                    r.missed_runs = 0;
                    r.scope = batch.scope.to_string();
                    r.last_seen = batch.at;
                    r.updated_at = batch.at;
                    cs.unchanged += 1;
                }
                Plan::Create => {
                    tx.next_id += 1;
                    let id = tx.next_id;
                    tx.rows.insert(
                        key.clone(),
                        Row {
                            id,
                            scope: batch.scope.to_string(),
                            active: true,
                            doc: it.doc.clone(),
                            user_fields: Map::new(),
                            checksum: it.checksum,
                            first_seen: batch.at,
                            last_seen: batch.at,
                            missing_since: None,
                            missed_runs: 0,
                            updated_at: batch.at,
                            version: 1,
                        },
                    );
                    tx.by_id.insert(id, key.clone());
                    tx.push_change(&key, ChangeOp::Created, batch.at, Some(batch.run_id), 1, Vec::new());
                    tx.push_event(event::resource_created(
                        &rkey,
                        batch.scope,
                        &it.doc,
                        1,
                        Some(batch.run_id),
                        batch.at,
                    ));
                    cs.created += 1;
                    cs.changes.push(ItemChange {
                        kind: it.kind.clone(),
                        native_id: it.native_id.clone(),
                        op: ChangeOp::Created,
                        diff: Vec::new(),
                    });
                }
                Plan::Compare => {
                    let e = existing.expect("compare implies existing");
                    let old = tx.rows[&key].doc.clone();
                    let fin = finish(&e, &old, &it.doc);
                    let r = tx.rows.get_mut(&key).expect("exists");
                    r.checksum = it.checksum;
                    r.scope = batch.scope.to_string();
                    r.last_seen = batch.at;
                    r.updated_at = batch.at;
                    r.missed_runs = 0;
                    match fin {
                        Finish::ChecksumOnly => cs.unchanged += 1,
                        Finish::Updated(d) | Finish::Reactivated(d) => {
                            let reactivated = !r.active;
                            r.doc = it.doc.clone();
                            r.active = true;
                            r.missing_since = None;
                            r.version += 1;
                            let v = r.version;
                            let op = if reactivated { ChangeOp::Reactivated } else { ChangeOp::Updated };
                            tx.push_change(&key, op, batch.at, Some(batch.run_id), v, d.clone());
                            if reactivated {
                                tx.push_event(event::resource_reactivated(
                                    &rkey,
                                    batch.scope,
                                    &d,
                                    v,
                                    Some(batch.run_id),
                                    batch.at,
                                ));
                                cs.reactivated += 1;
                            } else {
                                tx.push_event(event::resource_updated(
                                    &rkey,
                                    batch.scope,
                                    &d,
                                    &it.doc,
                                    v,
                                    Some(batch.run_id),
                                    batch.at,
                                ));
                                cs.updated += 1;
                            }
                            cs.changes.push(ItemChange {
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
        *guard = tx;
        Ok(cs)
    }

    async fn complete_scope(&self, req: SweepRequest<'_>) -> StoreResult<SweepOutcome> {
        let mut g = self.inner.lock().expect("poisoned");
        let scope_key = req.scope.local_key();
        let ck = (req.scope.tenant.clone(), req.scope.connection.clone(), scope_key.clone());
        if let Some((started, _)) = g.completions.get(&ck) {
            if *started > req.run_started {
                return Ok(SweepOutcome { superseded: true, ..SweepOutcome::default() });
            }
        }
        let mut out = SweepOutcome::default();
        let keys: Vec<Key> = g
            .rows
            .iter()
            .filter(|(k, r)| k.0 == req.scope.tenant && k.1 == req.scope.connection && r.scope == scope_key)
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let r = g.rows[&key].clone();
            let row = SweepRow {
                kind: key.2.clone(),
                native_id: key.3.clone(),
                active: r.active,
                missed_runs: r.missed_runs,
                updated_at: r.updated_at,
                missing_since: r.missing_since,
            };
            let rkey = ResourceKey::new(&key.0, &key.1, key.2.clone(), &key.3);
            match sweep_action(&row, req.seen.was_seen(&key.2, &key.3), req.run_started, req.policy) {
                SweepAction::Keep => {}
                SweepAction::Miss { missed_runs } => {
                    let m = g.rows.get_mut(&key).expect("exists");
                    m.missed_runs = missed_runs;
                    m.updated_at = req.at;
                    out.missed += 1;
                }
                SweepAction::Deactivate => {
                    let m = g.rows.get_mut(&key).expect("exists");
                    m.active = false;
                    m.missing_since = Some(req.at);
                    m.missed_runs += 1;
                    m.updated_at = req.at;
                    m.version += 1;
                    let v = m.version;
                    let name = m.doc.name.clone();
                    g.push_change(&key, ChangeOp::Deactivated, req.at, Some(req.run_id), v, Vec::new());
                    g.push_event(event::resource_deactivated(&rkey, &scope_key, &name, v, Some(req.run_id), req.at));
                    out.deactivated += 1;
                }
                SweepAction::Reactivate => {
                    let m = g.rows.get_mut(&key).expect("exists");
                    m.active = true;
                    m.missing_since = None;
                    m.missed_runs = 0;
                    m.updated_at = req.at;
                    m.last_seen = req.at;
                    m.version += 1;
                    let v = m.version;
                    g.push_change(&key, ChangeOp::Reactivated, req.at, Some(req.run_id), v, Vec::new());
                    g.push_event(event::resource_reactivated(
                        &rkey,
                        &scope_key,
                        &Vec::new(),
                        v,
                        Some(req.run_id),
                        req.at,
                    ));
                    out.reactivated += 1;
                }
            }
        }
        g.completions.insert(ck, (req.run_started, req.at));
        Ok(out)
    }

    async fn get_resource(&self, key: &ResourceKey) -> StoreResult<Option<Resource>> {
        let g = self.inner.lock().expect("poisoned");
        let k: Key = (key.tenant.clone(), key.connection.clone(), key.kind.clone(), key.native_id.clone());
        Ok(g.rows.get(&k).map(|r| g.to_resource(&k, r)))
    }

    async fn list_resources(&self, filter: &ResourceFilter, page: &PageRequest) -> StoreResult<PageOf<Resource>> {
        let limit = page.checked_limit()? as usize;
        let after: i64 = match &page.after {
            None => 0,
            Some(c) => c.parse().map_err(|_| StorageError::Invalid(format!("bad page cursor `{c}`")))?,
        };
        let g = self.inner.lock().expect("poisoned");
        let text = filter.text.as_ref().map(|t| t.to_lowercase());
        let mut items = Vec::new();
        let mut last = None;
        for (id, key) in g.by_id.range(after + 1..) {
            let r = &g.rows[key];
            let ok = key.0 == filter.tenant
                && filter.connection.as_ref().is_none_or(|c| *c == key.1)
                && filter.kind.as_ref().is_none_or(|k| *k == key.2)
                && filter.active.is_none_or(|a| a == r.active)
                && filter.scope.as_ref().is_none_or(|s| *s == r.scope)
                && filter
                    .tag
                    .as_ref()
                    .is_none_or(|(k, v)| r.doc.tags.get(k).is_some_and(|tv| v.as_ref().is_none_or(|v| v == tv)))
                && text.as_ref().is_none_or(|t| r.doc.name.to_lowercase().contains(t));
            if ok {
                if items.len() == limit {
                    return Ok(PageOf { items, next: last.map(|l: i64| l.to_string()) });
                }
                items.push(g.to_resource(key, r));
                last = Some(*id);
            }
        }
        Ok(PageOf { items, next: None })
    }

    async fn history(&self, query: &HistoryQuery, page: &PageRequest) -> StoreResult<PageOf<Change>> {
        let limit = page.checked_limit()? as usize;
        let after: i64 = match &page.after {
            None => 0,
            Some(c) => c.parse().map_err(|_| StorageError::Invalid(format!("bad page cursor `{c}`")))?,
        };
        let g = self.inner.lock().expect("poisoned");
        let mut items = Vec::new();
        for c in g.changes.iter().filter(|c| c.seq > after) {
            let ok = c.key.tenant == query.tenant
                && query.key.as_ref().is_none_or(|k| *k == c.key)
                && query.since.is_none_or(|s| c.at >= s)
                && query.until.is_none_or(|u| c.at < u);
            if ok {
                if items.len() == limit {
                    let next = items.last().map(|l: &Change| l.seq.to_string());
                    return Ok(PageOf { items, next });
                }
                items.push(c.clone());
            }
        }
        Ok(PageOf { items, next: None })
    }

    async fn set_user_fields(&self, key: &ResourceKey, fields: Map<String, Value>) -> StoreResult<()> {
        let mut g = self.inner.lock().expect("poisoned");
        let k: Key = (key.tenant.clone(), key.connection.clone(), key.kind.clone(), key.native_id.clone());
        let r = g.rows.get_mut(&k).ok_or_else(|| StorageError::Invalid(format!("no resource {key}")))?;
        for (f, v) in fields {
            if v.is_null() {
                r.user_fields.remove(&f);
            } else {
                r.user_fields.insert(f, v);
            }
        }
        Ok(())
    }

    async fn record_run(&self, report: &RunReport) -> StoreResult<()> {
        let mut g = self.inner.lock().expect("poisoned");
        g.runs.insert(report.run_id, report.clone());
        let payload = serde_json::to_value(report).map_err(|e| StorageError::Invalid(e.to_string()))?;
        g.push_event(event::run_finished(&report.tenant, report.run_id, payload, report.finished_at));
        Ok(())
    }

    async fn get_run(&self, run_id: Uuid) -> StoreResult<Option<RunReport>> {
        Ok(self.inner.lock().expect("poisoned").runs.get(&run_id).cloned())
    }

    async fn list_runs(&self, tenant: &str, page: &PageRequest) -> StoreResult<PageOf<RunReport>> {
        let limit = page.checked_limit()? as usize;
        let g = self.inner.lock().expect("poisoned");
        let mut runs: Vec<&RunReport> = g
            .runs
            .values()
            .filter(|r| r.tenant == tenant)
            .filter(|r| page.after.as_deref().is_none_or(|after| r.run_id.to_string().as_str() < after))
            .collect();
        runs.sort_by_key(|r| std::cmp::Reverse(r.run_id));
        let more = runs.len() > limit;
        let items: Vec<RunReport> = runs.into_iter().take(limit).cloned().collect();
        let next = if more { items.last().map(|r| r.run_id.to_string()) } else { None };
        Ok(PageOf { items, next })
    }
}

#[async_trait]
impl OutboxStore for MemoryRepository {
    async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
        let mut g = self.inner.lock().expect("poisoned");
        for e in events {
            g.push_event(e.clone());
        }
        Ok(())
    }

    async fn claim_sink(
        &self,
        sink: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<SinkState> {
        let mut g = self.inner.lock().expect("poisoned");
        let row = g.sinks.entry(sink.to_string()).or_insert_with(|| SinkRow {
            state: SinkState {
                sink: sink.into(),
                cursor: OutboxCursor::default(),
                attempts: 0,
                next_attempt_at: None,
                last_error: None,
                delivered: 0,
            },
            owner: None,
            lease_until: now,
        });
        match &row.owner {
            Some(o) if o != owner && row.lease_until > now => Err(StorageError::LeaseHeld(sink.to_string())),
            _ => {
                row.owner = Some(owner.to_string());
                row.lease_until = lease_until;
                Ok(row.state.clone())
            }
        }
    }

    async fn release_sink(&self, sink: &str, owner: &str) -> StoreResult<()> {
        let mut g = self.inner.lock().expect("poisoned");
        if let Ok(s) = g.sink_mut(sink, owner) {
            s.owner = None;
        }
        Ok(())
    }

    async fn events_after(&self, cursor: OutboxCursor, limit: u32) -> StoreResult<Vec<StoredEvent>> {
        let g = self.inner.lock().expect("poisoned");
        Ok(g.events.iter().filter(|e| e.position > cursor).take(limit as usize).cloned().collect())
    }

    async fn advance(&self, sink: &str, owner: &str, to: OutboxCursor, delivered: u64) -> StoreResult<()> {
        let mut g = self.inner.lock().expect("poisoned");
        let s = g.sink_mut(sink, owner)?;
        s.state.cursor = to;
        s.state.attempts = 0;
        s.state.next_attempt_at = None;
        s.state.last_error = None;
        s.state.delivered += delivered;
        Ok(())
    }

    async fn record_failure(
        &self,
        sink: &str,
        owner: &str,
        attempts: u32,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let mut g = self.inner.lock().expect("poisoned");
        let s = g.sink_mut(sink, owner)?;
        s.state.attempts = attempts;
        s.state.next_attempt_at = Some(next_attempt_at);
        s.state.last_error = Some(error.to_string());
        Ok(())
    }

    async fn dead_letter(
        &self,
        sink: &str,
        owner: &str,
        event: &StoredEvent,
        attempts: u32,
        error: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut g = self.inner.lock().expect("poisoned");
        {
            let s = g.sink_mut(sink, owner)?;
            s.state.cursor = event.position;
            s.state.attempts = 0;
            s.state.next_attempt_at = None;
            s.state.last_error = None;
        }
        let id = g.dead.len() as i64 + 1;
        g.dead.push(DeadLetter {
            id,
            sink: sink.into(),
            event: event.event.clone(),
            error: error.into(),
            attempts,
            dead_at: at,
            state: "dead".into(),
        });
        Ok(())
    }

    async fn dead_letters(&self, sink: Option<&str>, page: &PageRequest) -> StoreResult<PageOf<DeadLetter>> {
        let limit = page.checked_limit()? as usize;
        let after: i64 = match &page.after {
            None => 0,
            Some(c) => c.parse().map_err(|_| StorageError::Invalid(format!("bad page cursor `{c}`")))?,
        };
        let g = self.inner.lock().expect("poisoned");
        let all: Vec<DeadLetter> =
            g.dead.iter().filter(|d| d.id > after && sink.is_none_or(|s| s == d.sink)).cloned().collect();
        let next = (all.len() > limit).then(|| all[limit - 1].id.to_string());
        Ok(PageOf { items: all.into_iter().take(limit).collect(), next })
    }

    async fn request_replay(&self, id: i64) -> StoreResult<()> {
        let mut g = self.inner.lock().expect("poisoned");
        let d = g
            .dead
            .iter_mut()
            .find(|d| d.id == id)
            .ok_or_else(|| StorageError::Invalid(format!("no dead letter {id}")))?;
        d.state = "replay".into();
        Ok(())
    }

    async fn pending_replays(&self, sink: &str, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        let g = self.inner.lock().expect("poisoned");
        Ok(g.dead.iter().filter(|d| d.sink == sink && d.state == "replay").take(limit as usize).cloned().collect())
    }

    async fn finish_replay(&self, id: i64, result: Result<(), String>, _at: DateTime<Utc>) -> StoreResult<()> {
        let mut g = self.inner.lock().expect("poisoned");
        let d = g
            .dead
            .iter_mut()
            .find(|d| d.id == id)
            .ok_or_else(|| StorageError::Invalid(format!("no dead letter {id}")))?;
        match result {
            Ok(()) => d.state = "replayed".into(),
            Err(e) => {
                d.state = "dead".into();
                d.error = e;
                d.attempts += 1;
            }
        }
        Ok(())
    }

    async fn outbox_status(&self) -> StoreResult<Vec<SinkStatus>> {
        let g = self.inner.lock().expect("poisoned");
        Ok(g.sinks
            .values()
            .map(|s| SinkStatus {
                sink: s.state.sink.clone(),
                backlog: g.events.iter().filter(|e| e.position > s.state.cursor).count() as u64,
                delivered: s.state.delivered,
                dead: g.dead.iter().filter(|d| d.sink == s.state.sink && d.state != "replayed").count() as u64,
                last_error: s.state.last_error.clone(),
            })
            .collect())
    }
}

#[async_trait]
impl LeaseStore for MemoryRepository {
    async fn try_lease(&self, name: &str, owner: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool> {
        let mut g = self.inner.lock().expect("poisoned");
        match g.leases.get(name) {
            Some((o, u)) if o != owner && *u > now => Ok(false),
            _ => {
                g.leases.insert(name.to_string(), (owner.to_string(), until));
                Ok(true)
            }
        }
    }
    async fn release_lease(&self, name: &str, owner: &str) -> StoreResult<()> {
        let mut g = self.inner.lock().expect("poisoned");
        if g.leases.get(name).is_some_and(|(o, _)| o == owner) {
            g.leases.remove(name);
        }
        Ok(())
    }
    async fn lease_holder(&self, name: &str, now: DateTime<Utc>) -> StoreResult<Option<(String, DateTime<Utc>)>> {
        let g = self.inner.lock().expect("poisoned");
        Ok(g.leases.get(name).filter(|(_, u)| *u > now).cloned())
    }
}

#[async_trait]
impl crate::scheduler::ScheduleStore for MemoryRepository {
    async fn upsert_schedule(&self, schedule: &crate::scheduler::Schedule) -> StoreResult<()> {
        let mut g = self.sched.lock().expect("poisoned");
        let key = (schedule.tenant.clone(), schedule.name.clone());
        let mut new = schedule.clone();
        match g.schedules.get(&key) {
            Some(old) if old.trigger == new.trigger => {
                new.last_slot = old.last_slot;
                new.next_slot = old.next_slot;
            }
            Some(old) => {
                new.last_slot = old.last_slot;
                new.next_slot = None;
            }
            None => {
                new.last_slot = None;
                new.next_slot = None;
            }
        }
        g.schedules.insert(key, new);
        Ok(())
    }
    async fn get_schedule(&self, tenant: &str, name: &str) -> StoreResult<Option<crate::scheduler::Schedule>> {
        let g = self.sched.lock().expect("poisoned");
        Ok(g.schedules.get(&(tenant.to_string(), name.to_string())).cloned())
    }
    async fn list_schedules(&self, tenant: Option<&str>) -> StoreResult<Vec<crate::scheduler::Schedule>> {
        let g = self.sched.lock().expect("poisoned");
        Ok(g.schedules.values().filter(|s| tenant.is_none_or(|t| s.tenant == t)).cloned().collect())
    }
    async fn delete_schedule(&self, tenant: &str, name: &str) -> StoreResult<bool> {
        let mut g = self.sched.lock().expect("poisoned");
        Ok(g.schedules.remove(&(tenant.to_string(), name.to_string())).is_some())
    }
    async fn due(&self, now: DateTime<Utc>) -> StoreResult<Vec<crate::scheduler::Schedule>> {
        let g = self.sched.lock().expect("poisoned");
        Ok(g.schedules.values().filter(|s| s.enabled && s.next_slot.is_none_or(|n| n <= now)).cloned().collect())
    }
    async fn advance_schedule(
        &self,
        tenant: &str,
        name: &str,
        last_slot: Option<DateTime<Utc>>,
        next_slot: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut g = self.sched.lock().expect("poisoned");
        if let Some(s) = g.schedules.get_mut(&(tenant.to_string(), name.to_string()))
            && s.next_slot.is_none_or(|n| n < next_slot)
        {
            s.next_slot = Some(next_slot);
            if last_slot.is_some() {
                s.last_slot = last_slot;
            }
        }
        Ok(())
    }
    async fn claim_slot(
        &self,
        tenant: &str,
        name: &str,
        slot: DateTime<Utc>,
        beat: &str,
        _now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut g = self.sched.lock().expect("poisoned");
        let key = (tenant.to_string(), name.to_string(), slot);
        if g.slots.contains_key(&key) {
            return Ok(false);
        }
        g.slots.insert(key, beat.to_string());
        Ok(true)
    }
    async fn enqueue_job(&self, job: &crate::scheduler::JobRecord) -> StoreResult<bool> {
        let mut g = self.sched.lock().expect("poisoned");
        if g.jobs.iter().any(|j| j.id == job.id) {
            return Ok(false);
        }
        g.jobs.push(job.clone());
        Ok(true)
    }
    async fn claim_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<crate::scheduler::JobRecord>> {
        use crate::scheduler::JobState;
        let mut g = self.sched.lock().expect("poisoned");
        let ready = |j: &crate::scheduler::JobRecord| match j.state {
            JobState::Enqueued | JobState::Failed => j.available_at <= now,
            JobState::Running => j.lease_until.is_some_and(|l| l <= now),
            _ => false,
        };
        // Oldest `available_at` first, insertion order among equals.
        let Some(idx) = g
            .jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| ready(j))
            .min_by_key(|(i, j)| (j.available_at, *i))
            .map(|(i, _)| i)
        else {
            return Ok(None);
        };
        let j = &mut g.jobs[idx];
        j.state = JobState::Running;
        j.attempts += 1;
        j.worker = Some(worker.to_string());
        j.lease_until = Some(lease_until);
        j.started_at = Some(now);
        Ok(Some(j.clone()))
    }
    async fn finish_job(
        &self,
        id: &str,
        worker: &str,
        finish: &crate::scheduler::JobFinish,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        use crate::scheduler::{JobFinish, JobState};
        let mut g = self.sched.lock().expect("poisoned");
        let Some(j) = g
            .jobs
            .iter_mut()
            .find(|j| j.id == id && j.state == JobState::Running && j.worker.as_deref() == Some(worker))
        else {
            return Ok(false);
        };
        j.lease_until = None;
        match finish {
            JobFinish::Succeeded => {
                j.state = JobState::Succeeded;
                j.finished_at = Some(now);
                j.last_error = None;
            }
            JobFinish::Retry { at, error } => {
                j.state = JobState::Failed;
                j.available_at = *at;
                j.last_error = Some(error.clone());
            }
            JobFinish::Dead { error } => {
                j.state = JobState::Dead;
                j.finished_at = Some(now);
                j.last_error = Some(error.clone());
            }
        }
        Ok(true)
    }
    async fn get_job(&self, id: &str) -> StoreResult<Option<crate::scheduler::JobRecord>> {
        let g = self.sched.lock().expect("poisoned");
        Ok(g.jobs.iter().find(|j| j.id == id).cloned())
    }
    async fn list_jobs(&self, filter: &crate::scheduler::JobFilter) -> StoreResult<Vec<crate::scheduler::JobRecord>> {
        let g = self.sched.lock().expect("poisoned");
        Ok(g.jobs
            .iter()
            .filter(|j| filter.tenant.as_ref().is_none_or(|t| &j.tenant == t))
            .filter(|j| filter.schedule.as_ref().is_none_or(|s| j.schedule.as_ref() == Some(s)))
            .filter(|j| filter.state.is_none_or(|s| j.state == s))
            .take(filter.limit.map_or(usize::MAX, |l| l as usize))
            .cloned()
            .collect())
    }
    async fn unfinished_jobs(&self, tenant: &str, name: &str) -> StoreResult<u64> {
        let g = self.sched.lock().expect("poisoned");
        Ok(g.jobs
            .iter()
            .filter(|j| j.tenant == tenant && j.schedule.as_deref() == Some(name) && !j.state.is_final())
            .count() as u64)
    }
}

#[cfg(test)]
mod suite {
    use super::MemoryRepository;
    use std::sync::Arc;
    crate::repository_suite!(async { Arc::new(MemoryRepository::new()) });
}

#[cfg(test)]
mod scheduler_suite {
    use super::MemoryRepository;
    use std::sync::Arc;
    crate::scheduler_suite!(async { Arc::new(MemoryRepository::new()) });
}
