//! The [`Repository`] and [`OutboxStore`] traits: where resources, their history, runs and
//! outgoing events live.
//!
//! Implementations: `maestro_store::SqliteStore`, `maestro_store::PostgresStore`, and the
//! in-memory [`MemoryRepository`](crate::testing::MemoryRepository) of the test kit. All three pass
//! the same suite, [`testing::repository_suite`](crate::testing::repository_suite).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::diff::{Diff, apply_reverse};
use crate::error::StorageError;
use crate::event::Event;
use crate::model::{Document, Kind, PreparedResource, Resource, ResourceKey, Scope};
use crate::pipeline::RunReport;
use crate::tracker::{SweepPolicy, Tracker};

/// Storage result.
pub type StoreResult<T> = Result<T, StorageError>;

/// One batch of prepared resources from one scope of one run.
#[derive(Debug, Clone, Copy)]
pub struct UpsertBatch<'a> {
    /// Tenant of every item.
    pub tenant: &'a str,
    /// Connection of every item.
    pub connection: &'a str,
    /// The scope's local key (`task` or `task@region`).
    pub scope: &'a str,
    /// The run writing it.
    pub run_id: Uuid,
    /// The time of the write.
    pub at: DateTime<Utc>,
    /// The items. Duplicated keys within a batch: the last one wins.
    pub items: &'a [PreparedResource],
}

/// What a write did to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// First seen.
    Created,
    /// Provider-owned content changed.
    Updated,
    /// Missing for long enough: `active = false`.
    Deactivated,
    /// Seen again after a deactivation (content may also have changed).
    Reactivated,
}

impl ChangeOp {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Created => "created",
            ChangeOp::Updated => "updated",
            ChangeOp::Deactivated => "deactivated",
            ChangeOp::Reactivated => "reactivated",
        }
    }
    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "created" => ChangeOp::Created,
            "updated" => ChangeOp::Updated,
            "deactivated" => ChangeOp::Deactivated,
            "reactivated" => ChangeOp::Reactivated,
            _ => return None,
        })
    }
}

/// One resource that a batch created, changed or reactivated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemChange {
    /// Kind.
    pub kind: Kind,
    /// Native id.
    pub native_id: String,
    /// What happened.
    pub op: ChangeOp,
    /// What changed (empty for creations).
    pub diff: Diff,
}

/// The result of [`Repository::upsert_batch`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// Resources created.
    pub created: u64,
    /// Resources whose content changed.
    pub updated: u64,
    /// Resources found identical (no write, except to clear a pending miss count).
    pub unchanged: u64,
    /// Resources reactivated.
    pub reactivated: u64,
    /// Every created / updated / reactivated item with its diff.
    pub changes: Vec<ItemChange>,
}

impl ChangeSet {
    /// Add another change set's counts and changes to this one.
    pub fn absorb(&mut self, other: ChangeSet) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.reactivated += other.reactivated;
        self.changes.extend(other.changes);
    }
}

/// Completing a scope: deactivate what this run did not see.
pub struct SweepRequest<'a> {
    /// The scope that completed.
    pub scope: &'a Scope,
    /// The run that completed it.
    pub run_id: Uuid,
    /// When that run started (protects overlapping runs).
    pub run_started: DateTime<Utc>,
    /// Now.
    pub at: DateTime<Utc>,
    /// What the run saw.
    pub seen: &'a dyn Tracker,
    /// Grace policy.
    pub policy: SweepPolicy,
}

/// The result of [`Repository::complete_scope`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepOutcome {
    /// Resources deactivated.
    pub deactivated: u64,
    /// Resources missing but still within their grace.
    pub missed: u64,
    /// Resources reactivated (deactivated by an overlapping older run after this run saw them).
    pub reactivated: u64,
    /// A run that started later already completed this scope: this run's view is stale and
    /// nothing was changed.
    pub superseded: bool,
}

/// Which resources to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceFilter {
    /// Tenant (required: every read is tenant-scoped).
    pub tenant: String,
    /// Only this connection.
    pub connection: Option<String>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only active (`Some(true)`) or inactive (`Some(false)`) ones.
    pub active: Option<bool>,
    /// Only those with this tag key (and value, if given).
    pub tag: Option<(String, Option<String>)>,
    /// Only those whose name contains this text (case-insensitive).
    pub text: Option<String>,
    /// Only this scope (`task` or `task@region`).
    pub scope: Option<String>,
}

impl ResourceFilter {
    /// All resources of `tenant`.
    pub fn tenant(tenant: impl Into<String>) -> Self {
        Self { tenant: tenant.into(), ..Self::default() }
    }
    /// Restrict to a kind.
    pub fn kind(mut self, kind: Kind) -> Self {
        self.kind = Some(kind);
        self
    }
    /// Restrict to active / inactive.
    pub fn active(mut self, active: bool) -> Self {
        self.active = Some(active);
        self
    }
    /// Restrict to a connection.
    pub fn connection(mut self, connection: impl Into<String>) -> Self {
        self.connection = Some(connection.into());
        self
    }
}

/// Which way [`Repository::related`] follows a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From a resource to the targets of its relations (`app --depends_on--> app`).
    Outgoing,
    /// From a resource to the resources whose relations point at it (`server --runs--> app`,
    /// asked from the app).
    Incoming,
}

/// A relation walk in the store: start at some resources, follow one relation up to a depth.
///
/// Relations link resources of the same tenant and connection, so a walk never leaves the
/// connection of the resource it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedQuery {
    /// Tenant (every read is tenant-scoped).
    pub tenant: String,
    /// Kind of the start resources.
    pub start_kind: Kind,
    /// Native ids of the start resources (in any connection of the tenant).
    pub start: Vec<String>,
    /// The relation to follow (`depends_on`, `runs`, `member_of`, …).
    pub rel: String,
    /// Which way to follow it.
    pub direction: Direction,
    /// How many hops at most (0 returns the start resources only).
    pub max_depth: u32,
    /// Walk through inactive resources too (default: active only).
    pub include_inactive: bool,
}

impl RelatedQuery {
    /// Follow `rel` from `start` (resources of `start_kind`) in `direction`, one hop.
    pub fn new(
        tenant: impl Into<String>,
        start_kind: Kind,
        start: impl IntoIterator<Item = impl Into<String>>,
        rel: impl Into<String>,
        direction: Direction,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            start_kind,
            start: start.into_iter().map(Into::into).collect(),
            rel: rel.into(),
            direction,
            max_depth: 1,
            include_inactive: false,
        }
    }

    /// Walk up to `depth` hops.
    pub fn depth(mut self, depth: u32) -> Self {
        self.max_depth = depth;
        self
    }
}

/// A resource reached by [`Repository::related`], with the depth at which it was first reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Reached {
    /// The resource.
    pub resource: Resource,
    /// Hops from the nearest start resource (0 for a start resource).
    pub depth: u32,
}

/// Sort a walk's result the way every backend returns it: depth, then key.
pub fn sort_reached(items: &mut [Reached]) {
    items.sort_by(|a, b| {
        (a.depth, &a.resource.key.connection, a.resource.key.kind.as_str(), &a.resource.key.native_id).cmp(&(
            b.depth,
            &b.resource.key.connection,
            b.resource.key.kind.as_str(),
            &b.resource.key.native_id,
        ))
    });
}

/// Keyset pagination: at most `limit` rows after `after` (an opaque cursor from the previous page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// Cursor from the previous page's `next`.
    pub after: Option<String>,
    /// Page size (1..=10 000).
    pub limit: u32,
}

impl PageRequest {
    /// The first page of `limit` rows.
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }
    /// Validate the limit.
    pub fn checked_limit(&self) -> StoreResult<u32> {
        if self.limit == 0 || self.limit > 10_000 {
            return Err(StorageError::Invalid(format!("page limit must be 1..=10000, got {}", self.limit)));
        }
        Ok(self.limit)
    }
}

/// A page of rows and the cursor of the next one (`None` at the end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageOf<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Cursor of the next page.
    pub next: Option<String>,
}

/// A stored resource whose JSON parts are kept as the stored JSON text, not decoded.
///
/// For read paths that only pass resources on as JSON (an API listing): they need not pay for
/// decoding each document into values and encoding it again. Each `*_json` field holds one
/// complete JSON value, as the store wrote it (compact for SQLite; PostgreSQL's `jsonb` text may
/// hold spaces and orders object keys its own way).
#[derive(Debug, Clone, PartialEq)]
pub struct RawResource {
    /// Identity.
    pub key: ResourceKey,
    /// Scope that last wrote it.
    pub scope: String,
    /// Present at the last complete crawl of its scope.
    pub active: bool,
    /// Display name.
    pub name: String,
    /// Normalised attributes: a JSON object.
    pub attributes_json: String,
    /// Links to other resources: a JSON array.
    pub relations_json: String,
    /// Tags: a JSON object of strings.
    pub tags_json: String,
    /// User-owned fields: a JSON object.
    pub user_fields_json: String,
    /// First seen.
    pub first_seen: DateTime<Utc>,
    /// Last seen (the effective value, as in [`Resource::last_seen`]).
    pub last_seen: DateTime<Utc>,
    /// Missing since (inactive resources).
    pub missing_since: Option<DateTime<Utc>>,
    /// Row version.
    pub version: i64,
}

impl RawResource {
    /// Encode a decoded resource's parts as JSON text (what a store without a raw read path does).
    pub fn from_resource(r: Resource) -> Self {
        let enc = |v: Result<String, serde_json::Error>| v.expect("model types always serialise");
        RawResource {
            attributes_json: enc(serde_json::to_string(&r.doc.attributes)),
            relations_json: enc(serde_json::to_string(&r.doc.relations)),
            tags_json: enc(serde_json::to_string(&r.doc.tags)),
            user_fields_json: enc(serde_json::to_string(&r.user_fields)),
            key: r.key,
            scope: r.scope,
            active: r.active,
            name: r.doc.name,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            missing_since: r.missing_since,
            version: r.version,
        }
    }
}

/// One stored change of one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Monotonic id (also the history cursor).
    pub seq: i64,
    /// Which resource.
    pub key: ResourceKey,
    /// What happened.
    pub op: ChangeOp,
    /// When.
    pub at: DateTime<Utc>,
    /// Which run did it (`None` for API edits).
    pub run_id: Option<Uuid>,
    /// Row version after the change.
    pub version: i64,
    /// What changed (old and new values).
    pub diff: Diff,
}

/// Which changes to read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// Tenant (required).
    pub tenant: String,
    /// Only this resource.
    pub key: Option<ResourceKey>,
    /// Only changes at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only changes strictly before this time.
    pub until: Option<DateTime<Utc>>,
}

/// Stores resources, their history and runs. Every write of resources also writes its history
/// and its events (see [`OutboxStore`]) in the same transaction.
///
/// # Contract
/// - `upsert_batch` MUST be atomic: all items and their history and events, or nothing.
///   Unchanged items (same checksum, active, no pending miss) MUST cost no write. User fields
///   MUST survive. A failure leaves the store as before the call.
/// - `complete_scope` MUST touch only resources of that scope, MUST skip rows written after
///   `run_started` that the run did not see, and MUST do nothing if a later-started run already
///   completed the scope (`superseded`).
/// - Every read is tenant-scoped; no read silently caps its rows (pages carry a `next` cursor).
/// - An `Err` of kind `Unavailable` is retriable; the pipeline retries the batch, which is safe
///   because of atomicity.
#[async_trait]
pub trait Repository: Send + Sync {
    /// Write a batch: create, update (with diff), reactivate, or skip unchanged items.
    async fn upsert_batch(&self, batch: UpsertBatch<'_>) -> StoreResult<ChangeSet>;

    /// A scope completed: deactivate (or count a miss for) every resource of the scope the run
    /// did not see; record the completion.
    async fn complete_scope(&self, req: SweepRequest<'_>) -> StoreResult<SweepOutcome>;

    /// One resource.
    async fn get_resource(&self, key: &ResourceKey) -> StoreResult<Option<Resource>>;

    /// A page of resources, in storage order (stable).
    async fn list_resources(&self, filter: &ResourceFilter, page: &PageRequest) -> StoreResult<PageOf<Resource>>;

    /// The same page as [`list_resources`](Self::list_resources), with each resource's JSON parts
    /// as stored text ([`RawResource`]), for callers that only pass them on as JSON.
    ///
    /// The default decodes and re-encodes; SQL stores override it to read the text as it is.
    async fn list_resources_raw(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> StoreResult<PageOf<RawResource>> {
        let p = self.list_resources(filter, page).await?;
        Ok(PageOf { items: p.items.into_iter().map(RawResource::from_resource).collect(), next: p.next })
    }

    /// A page of changes, oldest first.
    async fn history(&self, query: &HistoryQuery, page: &PageRequest) -> StoreResult<PageOf<Change>>;

    /// Merge user-owned fields into a resource (`null` removes a field). Syncs never touch them.
    async fn set_user_fields(&self, key: &ResourceKey, fields: Map<String, Value>) -> StoreResult<()>;

    /// Store a run report and its `run.finished` event (one transaction).
    async fn record_run(&self, report: &RunReport) -> StoreResult<()>;

    /// A stored run report.
    async fn get_run(&self, run_id: Uuid) -> StoreResult<Option<RunReport>>;

    /// Walk a relation from some resources, in the store: each reachable resource once, with the
    /// depth of its first reach, ordered by depth then key (see [`sort_reached`]). Start
    /// resources come back at depth 0. Cycles are fine.
    ///
    /// The default walks a full listing of the tenant in memory; the SQL stores override it with
    /// one recursive query.
    async fn related(&self, query: &RelatedQuery) -> StoreResult<Vec<Reached>> {
        let mut filter = ResourceFilter::tenant(&query.tenant);
        if !query.include_inactive {
            filter.active = Some(true);
        }
        let mut all: Vec<Resource> = Vec::new();
        let mut page = PageRequest::first(1000);
        loop {
            let p = self.list_resources(&filter, &page).await?;
            all.extend(p.items);
            match p.next {
                Some(n) => page.after = Some(n),
                None => break,
            }
        }
        Ok(walk_related(all, query))
    }
    /// A page of the tenant's run reports, newest first (by run id, a UUID v7). The cursor is
    /// the last run id of the previous page.
    async fn list_runs(&self, tenant: &str, page: &PageRequest) -> StoreResult<PageOf<RunReport>>;

    /// The inventory as it was at `at`: resources that existed then, with the document and
    /// `active` flag they had then (reconstructed from history). The `active` filter applies to
    /// the state at `at`.
    async fn inventory_as_of(
        &self,
        filter: &ResourceFilter,
        at: DateTime<Utc>,
        page: &PageRequest,
    ) -> StoreResult<PageOf<Resource>> {
        let mut unfiltered = filter.clone();
        let want_active = unfiltered.active.take();
        let current = self.list_resources(&unfiltered, page).await?;
        let mut items = Vec::with_capacity(current.items.len());
        for mut r in current.items {
            if r.first_seen > at {
                continue;
            }
            let q = HistoryQuery { tenant: r.key.tenant.clone(), key: Some(r.key.clone()), since: None, until: None };
            let mut after_at: Vec<Change> = Vec::new();
            let mut p = PageRequest::first(1000);
            loop {
                let page = self.history(&q, &p).await?;
                after_at.extend(page.items.into_iter().filter(|c| c.at > at));
                match page.next {
                    Some(n) => p.after = Some(n),
                    None => break,
                }
            }
            if after_at.iter().any(|c| c.op == ChangeOp::Created) {
                continue;
            }
            let mut doc = r.doc.to_value();
            for c in after_at.iter().rev() {
                apply_reverse(&mut doc, &c.diff);
            }
            r.doc = serde_json::from_value::<Document>(doc).map_err(|e| StorageError::Corrupt {
                context: format!("history of {}", r.key),
                message: e.to_string(),
            })?;
            if let Some(first) = after_at.first() {
                match first.op {
                    ChangeOp::Deactivated => {
                        r.active = true;
                        r.missing_since = None;
                    }
                    ChangeOp::Reactivated => r.active = false,
                    _ => {}
                }
            }
            if want_active.is_none_or(|a| a == r.active) {
                items.push(r);
            }
        }
        Ok(PageOf { items, next: current.next })
    }
}

/// A stored event with its position in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Position (see [`OutboxCursor`]).
    pub position: OutboxCursor,
    /// The event.
    pub event: Event,
}

/// A position in the outbox, ordered by (`txid`, `seq`). `txid` orders by commit visibility on
/// PostgreSQL (so a relay never skips an event committed late); it is 0 on SQLite, where writes
/// are serialised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OutboxCursor {
    /// Transaction order.
    pub txid: i64,
    /// Sequence within it.
    pub seq: i64,
}

/// A sink's delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinkState {
    /// Sink name (one relay per sink).
    pub sink: String,
    /// Everything at or before this position has been delivered or dead-lettered.
    pub cursor: OutboxCursor,
    /// Failed attempts at the event right after the cursor.
    pub attempts: u32,
    /// Do not try again before this time.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
    /// Events delivered so far.
    pub delivered: u64,
}

/// A dead-lettered event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Id (for replay).
    pub id: i64,
    /// The sink that gave up.
    pub sink: String,
    /// The event.
    pub event: Event,
    /// The last error.
    pub error: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it was dead-lettered.
    pub dead_at: DateTime<Utc>,
    /// `dead`, `replay` (replay requested) or `replayed`.
    pub state: String,
}

/// The outbox as seen by one sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinkStatus {
    /// Sink name.
    pub sink: String,
    /// Events not yet delivered.
    pub backlog: u64,
    /// Events delivered.
    pub delivered: u64,
    /// Events dead-lettered and not replayed.
    pub dead: u64,
    /// Last failure, if the head event is failing.
    pub last_error: Option<String>,
}

/// The transactional outbox. Events are appended by [`Repository`] writes in the same
/// transaction as the change; relays (one per sink) read them in order and record progress here.
///
/// # Contract
/// - Events MUST be readable in (`txid`, `seq`) order, and an event MUST NOT become visible
///   at a position before one a relay has already passed.
/// - Every call taking an `owner` MUST fail with [`StorageError::LeaseHeld`] unless that owner
///   holds the sink's lease.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Append events outside a resource write (graph ready, check results…).
    async fn append_events(&self, events: &[Event]) -> StoreResult<()>;

    /// Take (or renew) the lease on `sink` until `lease_until`; creates the sink at the start
    /// of the outbox if it does not exist.
    async fn claim_sink(
        &self,
        sink: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<SinkState>;

    /// Give the lease up.
    async fn release_sink(&self, sink: &str, owner: &str) -> StoreResult<()>;

    /// Up to `limit` events after `cursor`, in order.
    async fn events_after(&self, cursor: OutboxCursor, limit: u32) -> StoreResult<Vec<StoredEvent>>;

    /// Events up to `to` were delivered: move the cursor, clear the failure state.
    async fn advance(&self, sink: &str, owner: &str, to: OutboxCursor, delivered: u64) -> StoreResult<()>;

    /// The event after the cursor failed again.
    async fn record_failure(
        &self,
        sink: &str,
        owner: &str,
        attempts: u32,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()>;

    /// Give up on `event`: store it as a dead letter and move the cursor past it (one transaction).
    async fn dead_letter(
        &self,
        sink: &str,
        owner: &str,
        event: &StoredEvent,
        attempts: u32,
        error: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Dead letters of `sink` (or of every sink), oldest first.
    async fn dead_letters(&self, sink: Option<&str>, page: &PageRequest) -> StoreResult<PageOf<DeadLetter>>;

    /// Ask for a dead letter to be delivered again by its sink's relay.
    async fn request_replay(&self, id: i64) -> StoreResult<()>;

    /// Dead letters of `sink` waiting for replay.
    async fn pending_replays(&self, sink: &str, limit: u32) -> StoreResult<Vec<DeadLetter>>;

    /// A replay finished: `Ok` marks it replayed; `Err(msg)` puts it back to dead with the error.
    async fn finish_replay(&self, id: i64, result: Result<(), String>, at: DateTime<Utc>) -> StoreResult<()>;

    /// Backlog, delivered and dead counts per sink.
    async fn outbox_status(&self) -> StoreResult<Vec<SinkStatus>>;
}

/// Named, expiring leases: one holder at a time (the active beat, the worker processing an
/// installation, a relay…).
///
/// # Contract
/// - `try_lease` MUST succeed only if the lease is free, expired at `now`, or already held by
///   `owner` (then it is renewed to `until`); two concurrent callers MUST NOT both succeed.
/// - `release_lease` by a non-holder MUST do nothing.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Take or renew `name` for `owner` until `until`. Returns whether `owner` holds it now.
    async fn try_lease(&self, name: &str, owner: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool>;
    /// Give `name` up if `owner` holds it.
    async fn release_lease(&self, name: &str, owner: &str) -> StoreResult<()>;
    /// Who holds `name` at `now`, and until when.
    async fn lease_holder(&self, name: &str, now: DateTime<Utc>) -> StoreResult<Option<(String, DateTime<Utc>)>>;
}

/// A store that is a [`Repository`], an [`OutboxStore`] and a [`LeaseStore`].
pub trait Store: Repository + OutboxStore + LeaseStore {}
impl<T: Repository + OutboxStore + LeaseStore> Store for T {}

/// Stores that can simulate a crash in the middle of a batch, for the atomicity tests of the
/// shared suite. Production code never calls it.
pub trait FaultInjection {
    /// Make the next `upsert_batch` fail after writing `rows` rows inside its transaction (the
    /// transaction is then dropped, as if the process had been killed).
    fn fail_next_batch_after(&self, rows: usize);
}

/// The reference walk over resources already in memory (the semantics every backend follows).
pub fn walk_related(all: Vec<Resource>, query: &RelatedQuery) -> Vec<Reached> {
    use std::collections::{HashMap, HashSet};
    type NodeKey = (String, String, String); // connection, kind, native id
    let key_of = |r: &Resource| (r.key.connection.clone(), r.key.kind.as_str().to_string(), r.key.native_id.clone());
    let index: HashMap<NodeKey, usize> = all.iter().enumerate().map(|(i, r)| (key_of(r), i)).collect();
    // Incoming edges: target → sources.
    let mut incoming: HashMap<NodeKey, Vec<usize>> = HashMap::new();
    if query.direction == Direction::Incoming {
        for (i, r) in all.iter().enumerate() {
            for rel in r.doc.relations.iter().filter(|x| x.rel == query.rel) {
                incoming
                    .entry((r.key.connection.clone(), rel.kind.as_str().to_string(), rel.native_id.clone()))
                    .or_default()
                    .push(i);
            }
        }
    }
    let start: HashSet<&str> = query.start.iter().map(String::as_str).collect();
    let mut depth_of: HashMap<usize, u32> = HashMap::new();
    let mut frontier: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, r)| r.key.kind == query.start_kind && start.contains(r.key.native_id.as_str()))
        .map(|(i, _)| i)
        .collect();
    for &i in &frontier {
        depth_of.insert(i, 0);
    }
    let mut depth = 0;
    while !frontier.is_empty() && depth < query.max_depth {
        depth += 1;
        let mut next = Vec::new();
        for i in frontier {
            let r = &all[i];
            let targets: Vec<usize> = match query.direction {
                Direction::Outgoing => r
                    .doc
                    .relations
                    .iter()
                    .filter(|x| x.rel == query.rel)
                    .filter_map(|x| {
                        index
                            .get(&(r.key.connection.clone(), x.kind.as_str().to_string(), x.native_id.clone()))
                            .copied()
                    })
                    .collect(),
                Direction::Incoming => incoming.get(&key_of(r)).cloned().unwrap_or_default(),
            };
            for t in targets {
                if let std::collections::hash_map::Entry::Vacant(e) = depth_of.entry(t) {
                    e.insert(depth);
                    next.push(t);
                }
            }
        }
        frontier = next;
    }
    let mut out: Vec<Reached> = Vec::with_capacity(depth_of.len());
    let mut all: Vec<Option<Resource>> = all.into_iter().map(Some).collect();
    for (i, d) in depth_of {
        if let Some(resource) = all[i].take() {
            out.push(Reached { resource, depth: d });
        }
    }
    sort_reached(&mut out);
    out
}
