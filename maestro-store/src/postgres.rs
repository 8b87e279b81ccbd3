//! The PostgreSQL backend, for beats and workers on many machines sharing one database.
//!
//! Writers of one (tenant, connection) are serialised by a transaction-scoped advisory lock;
//! outbox appends take a second advisory lock held until commit, so event `seq` order is commit
//! order and a relay reading by `seq` never skips an event that committed late.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use maestro_core::event::{self, Event};
use maestro_core::repository::*;
use maestro_core::sync::{StoredState, last_wins};
use maestro_core::tracker::{SweepAction, SweepRow, sweep_action};
use maestro_core::{Checksum, Document, Kind, Resource, ResourceKey, RunReport, StorageError};
use serde_json::{Map, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use uuid::Uuid;

use crate::common::*;
use crate::plan::{self, ItemKey, Target};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Advisory lock key serialising outbox appends ("maestro:outbox").
const OUTBOX_LOCK: i64 = 0x6d61_6573_6f62_7801;

/// A maestro store in PostgreSQL.
///
/// ```no_run
/// # async fn demo() -> Result<(), maestro_core::StorageError> {
/// let store = maestro_store::PostgresStore::open("postgres://postgres@127.0.0.1/maestro").await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PostgresStore {
    pool: PgPool,
    fail_after: AtomicUsize,
}

impl PostgresStore {
    /// Connect to `url` and run migrations.
    ///
    /// # Errors
    /// A bad URL, an unreachable server ("is PostgreSQL running?") or a failed migration.
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        Self::open_in_schema(url, None).await
    }

    /// Connect with every connection's `search_path` set to `schema` (created if missing). Used
    /// by the test suite to give each test a private, empty database.
    ///
    /// # Errors
    /// As [`open`](Self::open); `schema` must be a plain identifier.
    pub async fn open_in_schema(url: &str, schema: Option<&str>) -> Result<Self, StorageError> {
        let opts =
            PgConnectOptions::from_str(url).map_err(|e| StorageError::Invalid(format!("bad PostgreSQL URL: {e}")))?;
        let mut pool_opts = PgPoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(10));
        if let Some(s) = schema {
            if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(StorageError::Invalid(format!("schema name `{s}` must be a plain identifier")));
            }
            let create = format!("CREATE SCHEMA IF NOT EXISTS {s}");
            let boot = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await
                .map_err(db_err("connecting to PostgreSQL"))?;
            sqlx::query(sqlx::AssertSqlSafe(create)).execute(&boot).await.map_err(db_err("creating schema"))?;
            boot.close().await;
            let set = format!("SET search_path TO {s}");
            pool_opts = pool_opts.after_connect(move |conn, _| {
                let set = set.clone();
                Box::pin(async move {
                    sqlx::query(sqlx::AssertSqlSafe(set)).execute(conn).await?;
                    Ok(())
                })
            });
        }
        let pool = pool_opts.connect_with(opts).await.map_err(db_err("connecting to PostgreSQL"))?;
        MIGRATOR.run(&pool).await.map_err(|e| StorageError::query("running PostgreSQL migrations", e))?;
        Ok(Self { pool, fail_after: AtomicUsize::new(0) })
    }

    /// The connection pool (for benchmarks and admin tools).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn tx(&self) -> Result<Transaction<'static, Postgres>, StorageError> {
        self.pool.begin().await.map_err(db_err("starting a transaction"))
    }
}

impl FaultInjection for PostgresStore {
    fn fail_next_batch_after(&self, rows: usize) {
        self.fail_after.store(rows + 1, Ordering::SeqCst);
    }
}

async fn lock_connection(
    tx: &mut Transaction<'static, Postgres>,
    tenant: &str,
    connection: &str,
) -> Result<(), StorageError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("{tenant}\u{1f}{connection}"))
        .execute(&mut **tx)
        .await
        .map_err(db_err("locking the connection"))?;
    Ok(())
}

pub(crate) async fn insert_events(
    tx: &mut Transaction<'static, Postgres>,
    events: &[Event],
) -> Result<(), StorageError> {
    if events.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(OUTBOX_LOCK)
        .execute(&mut **tx)
        .await
        .map_err(db_err("locking the outbox"))?;
    let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    let tenants: Vec<&str> = events.iter().map(|e| e.tenant.as_str()).collect();
    let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
    let runs: Vec<Option<Uuid>> = events.iter().map(|e| e.run_id).collect();
    let ats: Vec<DateTime<Utc>> = events.iter().map(|e| e.occurred_at).collect();
    let payloads: Vec<String> = events.iter().map(|e| json(&e.payload)).collect();
    sqlx::query(
        "INSERT INTO outbox_events (id, kind, tenant, subject, run_id, occurred_at, payload) \
         SELECT i, k, t, s, r, a, p::json FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[], $7::text[]) \
         WITH ORDINALITY AS x(i, k, t, s, r, a, p, n) ORDER BY n ON CONFLICT (id) DO NOTHING",
    )
    .bind(ids)
    .bind(kinds)
    .bind(tenants)
    .bind(subjects)
    .bind(runs)
    .bind(ats)
    .bind(payloads)
    .execute(&mut **tx)
    .await
    .map_err(db_err("appending outbox events"))?;
    Ok(())
}

/// `(row id, "connection\x1fkind\x1fnative_id")` of a walked resource.
fn node_of_row(r: &PgRow) -> (i64, String) {
    let key = format!(
        "{}\u{1f}{}\u{1f}{}",
        r.get::<&str, _>("connection"),
        r.get::<&str, _>("kind"),
        r.get::<&str, _>("native_id")
    );
    (r.get("id"), key)
}

/// A resource row's key (`tenant`, `connection`, `kind`, `native_id` columns).
fn key_from_row(r: &PgRow) -> ResourceKey {
    ResourceKey::new(
        r.get::<String, _>("tenant"),
        r.get::<String, _>("connection"),
        Kind::new(r.get::<String, _>("kind")),
        r.get::<String, _>("native_id"),
    )
}

fn resource_from_row(r: &PgRow) -> Result<Resource, StorageError> {
    let checksum: Vec<u8> = r.get("checksum");
    let active: bool = r.get("active");
    let missed: i32 = r.get("missed_runs");
    let completed: Option<DateTime<Utc>> = r.get("completed_at");
    let j = |col: &str| -> Value { r.get::<Value, _>(col) };
    Ok(Resource {
        key: key_from_row(r),
        scope: r.get("scope"),
        active,
        doc: Document {
            name: r.get("name"),
            attributes: from_json("resources.attributes", j("attributes"))?,
            relations: from_json("resources.relations", j("relations"))?,
            tags: from_json("resources.tags", j("tags"))?,
        },
        user_fields: from_json("resources.user_fields", j("user_fields"))?,
        checksum: Checksum(checksum.try_into().map_err(|_| StorageError::Corrupt {
            context: "resources.checksum".into(),
            message: "not 32 bytes".into(),
        })?),
        first_seen: r.get("first_seen"),
        last_seen: effective_last_seen(active, missed as u32, r.get("last_seen"), completed),
        missing_since: r.get("missing_since"),
        missed_runs: missed as u32,
        updated_at: r.get("updated_at"),
        version: r.get("version"),
    })
}

const RESOURCE_COLUMNS: &str = "r.id, r.tenant, r.connection, r.kind, r.native_id, r.scope, r.name, r.active, r.attributes, \
     r.relations, r.tags, r.user_fields, r.checksum, r.first_seen, r.last_seen, r.missing_since, r.missed_runs, \
     r.updated_at, r.version, c.completed_at";
const RESOURCE_FROM: &str = " FROM resources r LEFT JOIN scope_completions c \
     ON c.tenant = r.tenant AND c.connection = r.connection AND c.scope = r.scope ";

/// The columns [`raw_resource_from_row`] reads: JSON parts as `jsonb` text, no checksum.
const RAW_RESOURCE_COLUMNS: &str = "r.id, r.tenant, r.connection, r.kind, r.native_id, r.scope, r.name, r.active, \
     r.attributes::text AS attributes, r.relations::text AS relations, r.tags::text AS tags, \
     r.user_fields::text AS user_fields, r.first_seen, r.last_seen, r.missing_since, r.missed_runs, r.version, \
     c.completed_at";

fn raw_resource_from_row(r: &PgRow) -> Result<RawResource, StorageError> {
    let active: bool = r.get("active");
    let missed: i32 = r.get("missed_runs");
    let completed: Option<DateTime<Utc>> = r.get("completed_at");
    Ok(RawResource {
        key: key_from_row(r),
        scope: r.get("scope"),
        active,
        name: r.get("name"),
        attributes_json: r.get("attributes"),
        relations_json: r.get("relations"),
        tags_json: r.get("tags"),
        user_fields_json: r.get("user_fields"),
        first_seen: r.get("first_seen"),
        last_seen: effective_last_seen(active, missed as u32, r.get("last_seen"), completed),
        missing_since: r.get("missing_since"),
        version: r.get("version"),
    })
}

/// `SELECT columns` of one tenant's resources after row `after`, filtered, in id order, one
/// more than `limit` (to know whether a next page exists).
fn resource_list_query(columns: &str, filter: &ResourceFilter, after: i64, limit: u32) -> QueryBuilder<Postgres> {
    let mut qb: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {columns}{RESOURCE_FROM} WHERE r.tenant = "));
    qb.push_bind(&filter.tenant).push(" AND r.id > ").push_bind(after);
    if let Some(c) = &filter.connection {
        qb.push(" AND r.connection = ").push_bind(c);
    }
    if let Some(k) = &filter.kind {
        qb.push(" AND r.kind = ").push_bind(k.as_str());
    }
    if let Some(a) = filter.active {
        qb.push(" AND r.active = ").push_bind(a);
    }
    if let Some(s) = &filter.scope {
        qb.push(" AND r.scope = ").push_bind(s);
    }
    if let Some((k, v)) = &filter.tag {
        match v {
            Some(v) => {
                qb.push(" AND r.tags ->> ").push_bind(k).push(" = ").push_bind(v);
            }
            None => {
                qb.push(" AND r.tags ? ").push_bind(k);
            }
        }
    }
    if let Some(t) = &filter.text {
        qb.push(" AND strpos(lower(r.name), lower(").push_bind(t).push(")) > 0");
    }
    qb.push(" ORDER BY r.id LIMIT ").push_bind(limit as i64 + 1);
    qb
}

fn event_from_row(r: &PgRow) -> Result<StoredEvent, StorageError> {
    Ok(StoredEvent {
        position: OutboxCursor { txid: 0, seq: r.get("seq") },
        event: Event {
            id: r.get("id"),
            kind: r.get("kind"),
            tenant: r.get("tenant"),
            subject: r.get("subject"),
            run_id: r.get("run_id"),
            occurred_at: r.get("occurred_at"),
            payload: r.get("payload"),
        },
    })
}

fn dead_letter_from_row(r: &PgRow) -> Result<DeadLetter, StorageError> {
    Ok(DeadLetter {
        id: r.get("id"),
        sink: r.get("sink"),
        event: serde_json::from_value(r.get::<Value, _>("event")).map_err(|e| StorageError::Corrupt {
            context: "outbox_dead_letters.event".into(),
            message: e.to_string(),
        })?,
        error: r.get("error"),
        attempts: r.get::<i32, _>("attempts") as u32,
        dead_at: r.get("dead_at"),
        state: r.get("state"),
    })
}

#[async_trait]
impl Repository for PostgresStore {
    async fn upsert_batch(&self, batch: UpsertBatch<'_>) -> StoreResult<ChangeSet> {
        let items = last_wins(batch.items);
        let fail_after = self.fail_after.swap(0, Ordering::SeqCst);
        let mut tx = self.tx().await?;
        lock_connection(&mut tx, batch.tenant, batch.connection).await?;
        // The key lookup must probe the key index once per item. Left to itself the planner
        // hash-joins the keys against the whole table or index (O(table) per batch): a generic
        // plan cannot see the array size, and during a first sync the table grows faster than
        // its statistics. LATERAL makes it a per-key probe; these settings keep the probe on the
        // index and plan each execution for its arguments.
        sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan")
            .execute(&mut *tx)
            .await
            .map_err(db_err("tuning the batch transaction"))?;
        sqlx::query("SET LOCAL enable_seqscan = off")
            .execute(&mut *tx)
            .await
            .map_err(db_err("tuning the batch transaction"))?;

        let kinds: Vec<&str> = items.iter().map(|i| i.kind.as_str()).collect();
        let ids: Vec<&str> = items.iter().map(|i| i.native_id.as_str()).collect();
        let rows = sqlx::query(
            "SELECT r.id, r.kind, r.native_id, r.checksum, r.active, r.missed_runs, r.scope, r.version \
             FROM UNNEST($3::text[], $4::text[]) AS k(kind, native_id) \
             CROSS JOIN LATERAL (SELECT * FROM resources x WHERE x.tenant = $1 AND x.connection = $2 \
                                 AND x.kind = k.kind AND x.native_id = k.native_id LIMIT 1) r",
        )
        .bind(batch.tenant)
        .bind(batch.connection)
        .bind(&kinds)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err("reading resource states"))?;
        let mut states: HashMap<ItemKey, StoredState> = HashMap::with_capacity(rows.len());
        for r in rows {
            let sum: Vec<u8> = r.get("checksum");
            states.insert(
                (Kind::new(r.get::<String, _>("kind")), r.get("native_id")),
                StoredState {
                    id: r.get("id"),
                    checksum: Checksum(sum.try_into().unwrap_or([0; 32])),
                    active: r.get("active"),
                    missed_runs: r.get::<i32, _>("missed_runs") as u32,
                    scope: r.get("scope"),
                    version: r.get("version"),
                },
            );
        }
        let compare = plan::ids_to_compare(&items, &states, batch.scope);
        let mut docs: HashMap<i64, Document> = HashMap::with_capacity(compare.len());
        if !compare.is_empty() {
            let rows = sqlx::query("SELECT id, name, attributes, relations, tags FROM resources WHERE id = ANY($1)")
                .bind(&compare)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err("reading stored documents"))?;
            for r in rows {
                docs.insert(
                    r.get("id"),
                    Document {
                        name: r.get("name"),
                        attributes: from_json("resources.attributes", r.get("attributes"))?,
                        relations: from_json("resources.relations", r.get("relations"))?,
                        tags: from_json("resources.tags", r.get("tags"))?,
                    },
                );
            }
        }
        let ws = plan::build(&batch, &items, &states, &docs)?;
        let budget = if fail_after > 0 { fail_after - 1 } else { usize::MAX };
        let mut written = 0usize;

        let mut new_ids: HashMap<ItemKey, i64> = HashMap::with_capacity(ws.inserts.len());
        let chunk_size = if budget < usize::MAX { 1 } else { 5000 };
        for chunk in ws.inserts.chunks(chunk_size) {
            if written >= budget {
                return Err(injected_fault());
            }
            let kinds: Vec<&str> = chunk.iter().map(|i| i.kind.as_str()).collect();
            let nids: Vec<&str> = chunk.iter().map(|i| i.native_id.as_str()).collect();
            let names: Vec<&str> = chunk.iter().map(|i| i.doc.name.as_str()).collect();
            let attrs: Vec<String> = chunk.iter().map(|i| json(&i.doc.attributes)).collect();
            let rels: Vec<String> = chunk.iter().map(|i| json(&i.doc.relations)).collect();
            let tags: Vec<String> = chunk.iter().map(|i| json(&i.doc.tags)).collect();
            let sums: Vec<Vec<u8>> = chunk.iter().map(|i| i.checksum.0.to_vec()).collect();
            let rows = sqlx::query(
                "INSERT INTO resources (tenant, connection, kind, native_id, scope, name, active, attributes, relations, tags, \
                 checksum, first_seen, last_seen, updated_at, version) \
                 SELECT $1, $2, k, n, $3, nm, true, a::jsonb, r::jsonb, t::jsonb, c, $4, $4, $4, 1 \
                 FROM UNNEST($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bytea[]) AS x(k, n, nm, a, r, t, c) \
                 RETURNING id, kind, native_id",
            )
            .bind(batch.tenant)
            .bind(batch.connection)
            .bind(batch.scope)
            .bind(batch.at)
            .bind(kinds)
            .bind(nids)
            .bind(names)
            .bind(attrs)
            .bind(rels)
            .bind(tags)
            .bind(sums)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err("inserting resources"))?;
            for r in rows {
                new_ids.insert((Kind::new(r.get::<String, _>("kind")), r.get("native_id")), r.get("id"));
            }
            written += chunk.len();
        }
        for (id, it, version) in &ws.updates {
            if written >= budget {
                return Err(injected_fault());
            }
            sqlx::query(
                "UPDATE resources SET name = $1, attributes = $2::jsonb, relations = $3::jsonb, tags = $4::jsonb, checksum = $5, scope = $6, \
                 active = true, missing_since = NULL, missed_runs = 0, last_seen = $7, updated_at = $7, version = $8 WHERE id = $9",
            )
            .bind(&it.doc.name)
            .bind(json(&it.doc.attributes))
            .bind(json(&it.doc.relations))
            .bind(json(&it.doc.tags))
            .bind(it.checksum.0.to_vec())
            .bind(batch.scope)
            .bind(batch.at)
            .bind(version)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err("updating resources"))?;
            written += 1;
        }
        if !ws.touches.is_empty() {
            sqlx::query(
                "UPDATE resources SET missed_runs = 0, scope = $1, last_seen = $2, updated_at = $2 WHERE id = ANY($3)",
            )
            .bind(batch.scope)
            .bind(batch.at)
            .bind(&ws.touches)
            .execute(&mut *tx)
            .await
            .map_err(db_err("touching resources"))?;
        }
        for (id, it) in &ws.checksum_only {
            sqlx::query("UPDATE resources SET checksum = $1, missed_runs = 0, scope = $2, last_seen = $3, updated_at = $3 WHERE id = $4")
                .bind(it.checksum.0.to_vec())
                .bind(batch.scope)
                .bind(batch.at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err("updating checksums"))?;
        }
        if !ws.changes.is_empty() {
            let mut rid = Vec::with_capacity(ws.changes.len());
            let mut ops = Vec::with_capacity(ws.changes.len());
            let mut versions = Vec::with_capacity(ws.changes.len());
            let mut diffs: Vec<Option<String>> = Vec::with_capacity(ws.changes.len());
            for c in &ws.changes {
                rid.push(match &c.resource {
                    Target::Id(id) => *id,
                    Target::New(k) => *new_ids.get(k).ok_or_else(|| StorageError::Corrupt {
                        context: "resources".into(),
                        message: format!("inserted row {k:?} has no id"),
                    })?,
                });
                ops.push(c.op.as_str());
                versions.push(c.version);
                diffs.push(c.diff.clone());
            }
            sqlx::query(
                "INSERT INTO resource_changes (resource_id, tenant, op, at, run_id, version, diff) \
                 SELECT r, $1, o, $2, $3, v, d::json FROM UNNEST($4::bigint[], $5::text[], $6::bigint[], $7::text[]) WITH ORDINALITY AS x(r, o, v, d, n) ORDER BY n",
            )
            .bind(batch.tenant)
            .bind(batch.at)
            .bind(plan::run_text(Some(batch.run_id)))
            .bind(rid)
            .bind(ops)
            .bind(versions)
            .bind(diffs)
            .execute(&mut *tx)
            .await
            .map_err(db_err("recording history"))?;
        }
        insert_events(&mut tx, &ws.events).await?;
        tx.commit().await.map_err(db_err("committing a batch"))?;
        Ok(ws.changeset)
    }

    async fn complete_scope(&self, req: SweepRequest<'_>) -> StoreResult<SweepOutcome> {
        let scope_key = req.scope.local_key();
        let (tenant, connection) = (req.scope.tenant.as_str(), req.scope.connection.as_str());
        let superseded = |prev: Option<DateTime<Utc>>| prev.is_some_and(|p| p > req.run_started);
        let q_prev = "SELECT run_started FROM scope_completions WHERE tenant = $1 AND connection = $2 AND scope = $3";
        let prev: Option<DateTime<Utc>> = sqlx::query_scalar(q_prev)
            .bind(tenant)
            .bind(connection)
            .bind(&scope_key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("reading scope completion"))?;
        if superseded(prev) {
            return Ok(SweepOutcome { superseded: true, ..SweepOutcome::default() });
        }
        let mut actions: Vec<(i64, DateTime<Utc>, SweepAction, String, String, String)> = Vec::new();
        {
            let mut rows = sqlx::query(
                "SELECT id, kind, native_id, name, active, missed_runs, updated_at, missing_since FROM resources \
                 WHERE tenant = $1 AND connection = $2 AND scope = $3",
            )
            .bind(tenant)
            .bind(connection)
            .bind(&scope_key)
            .fetch(&self.pool);
            while let Some(r) = rows.try_next().await.map_err(db_err("reading the scope"))? {
                let kind = Kind::new(r.get::<String, _>("kind"));
                let native_id: String = r.get("native_id");
                let updated_at: DateTime<Utc> = r.get("updated_at");
                let row = SweepRow {
                    kind: kind.clone(),
                    native_id: native_id.clone(),
                    active: r.get("active"),
                    missed_runs: r.get::<i32, _>("missed_runs") as u32,
                    updated_at,
                    missing_since: r.get("missing_since"),
                };
                let action = sweep_action(&row, req.seen.was_seen(&kind, &native_id), req.run_started, req.policy);
                if action != SweepAction::Keep {
                    actions.push((
                        r.get("id"),
                        updated_at,
                        action,
                        kind.as_str().to_string(),
                        native_id,
                        r.get("name"),
                    ));
                }
            }
        }
        let mut out = SweepOutcome::default();
        let mut tx = self.tx().await?;
        lock_connection(&mut tx, tenant, connection).await?;
        let prev: Option<DateTime<Utc>> = sqlx::query_scalar(q_prev)
            .bind(tenant)
            .bind(connection)
            .bind(&scope_key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err("reading scope completion"))?;
        if superseded(prev) {
            return Ok(SweepOutcome { superseded: true, ..SweepOutcome::default() });
        }
        let run = req.run_id.to_string();
        let mut events = Vec::new();
        for (id, seen_updated_at, action, kind, native_id, name) in actions {
            let key = ResourceKey::new(tenant, connection, Kind::new(kind), native_id);
            match action {
                SweepAction::Keep => {}
                SweepAction::Miss { missed_runs } => {
                    out.missed += sqlx::query(
                        "UPDATE resources SET missed_runs = $1, updated_at = $2 WHERE id = $3 AND updated_at = $4",
                    )
                    .bind(missed_runs as i32)
                    .bind(req.at)
                    .bind(id)
                    .bind(seen_updated_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("counting a miss"))?
                    .rows_affected();
                }
                SweepAction::Deactivate | SweepAction::Reactivate => {
                    let deactivate = action == SweepAction::Deactivate;
                    let sql = if deactivate {
                        "UPDATE resources SET active = false, missing_since = $1, missed_runs = missed_runs + 1, updated_at = $1, \
                         version = version + 1 WHERE id = $2 AND updated_at = $3 RETURNING version"
                    } else {
                        "UPDATE resources SET active = true, missing_since = NULL, missed_runs = 0, last_seen = $1, updated_at = $1, \
                         version = version + 1 WHERE id = $2 AND updated_at = $3 RETURNING version"
                    };
                    let v: Option<i64> = sqlx::query_scalar(sql)
                        .bind(req.at)
                        .bind(id)
                        .bind(seen_updated_at)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err("sweeping a resource"))?;
                    let Some(version) = v else { continue };
                    let op = if deactivate { ChangeOp::Deactivated } else { ChangeOp::Reactivated };
                    sqlx::query("INSERT INTO resource_changes (resource_id, tenant, op, at, run_id, version, diff) VALUES ($1, $2, $3, $4, $5, $6, NULL)")
                        .bind(id)
                        .bind(tenant)
                        .bind(op.as_str())
                        .bind(req.at)
                        .bind(&run)
                        .bind(version)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err("recording history"))?;
                    if deactivate {
                        events.push(event::resource_deactivated(
                            &key,
                            &scope_key,
                            &name,
                            version,
                            Some(req.run_id),
                            req.at,
                        ));
                        out.deactivated += 1;
                    } else {
                        events.push(event::resource_reactivated(
                            &key,
                            &scope_key,
                            &Vec::new(),
                            version,
                            Some(req.run_id),
                            req.at,
                        ));
                        out.reactivated += 1;
                    }
                }
            }
        }
        sqlx::query(
            "INSERT INTO scope_completions (tenant, connection, scope, run_id, run_started, completed_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant, connection, scope) DO UPDATE SET run_id = excluded.run_id, run_started = excluded.run_started, \
             completed_at = excluded.completed_at",
        )
        .bind(tenant)
        .bind(connection)
        .bind(&scope_key)
        .bind(&run)
        .bind(req.run_started)
        .bind(req.at)
        .execute(&mut *tx)
        .await
        .map_err(db_err("recording scope completion"))?;
        insert_events(&mut tx, &events).await?;
        tx.commit().await.map_err(db_err("committing a sweep"))?;
        Ok(out)
    }

    async fn related(&self, q: &RelatedQuery) -> StoreResult<Vec<Reached>> {
        let active = if q.include_inactive { "" } else { " AND t.active" };
        let depths: Vec<(i64, u32)> = match q.direction {
            // One recursive query: the dependency lookup to depth 40 runs in the store.
            Direction::Outgoing => {
                let sql = format!(
                    "WITH RECURSIVE walk(id, depth) AS ( \
                       SELECT t.id, 0 FROM resources t WHERE t.tenant = $1 AND t.kind = $2 AND t.native_id = ANY($3){active} \
                       UNION \
                       SELECT t.id, w.depth + 1 FROM walk w JOIN resources f ON f.id = w.id \
                         CROSS JOIN LATERAL jsonb_array_elements(f.relations) j \
                         JOIN resources t ON t.tenant = f.tenant AND t.connection = f.connection \
                           AND t.kind = j->>'kind' AND t.native_id = j->>'native_id' \
                       WHERE w.depth < $5 AND j->>'rel' = $4{active} \
                     ) SELECT id, MIN(depth) AS depth FROM walk GROUP BY id"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&q.tenant)
                    .bind(q.start_kind.as_str())
                    .bind(&q.start)
                    .bind(&q.rel)
                    .bind(q.max_depth as i32)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err("walking relations"))?
                    .iter()
                    .map(|r| (r.get::<i64, _>("id"), r.get::<i32, _>("depth") as u32))
                    .collect()
            }
            // Incoming links have no index to follow: one scan of the tenant per hop, matching
            // the whole frontier at once.
            Direction::Incoming => {
                let sql = format!(
                    "SELECT t.id, t.connection, t.kind, t.native_id FROM resources t \
                     WHERE t.tenant = $1 AND t.kind = $2 AND t.native_id = ANY($3){active}"
                );
                let mut frontier: Vec<(i64, String)> = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&q.tenant)
                    .bind(q.start_kind.as_str())
                    .bind(&q.start)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err("walking relations"))?
                    .iter()
                    .map(node_of_row)
                    .collect();
                let mut seen: HashMap<i64, u32> = frontier.iter().map(|(id, _)| (*id, 0)).collect();
                let hop = format!(
                    "SELECT DISTINCT t.id, t.connection, t.kind, t.native_id FROM resources t \
                       CROSS JOIN LATERAL jsonb_array_elements(t.relations) j \
                     WHERE t.tenant = $1 AND j->>'rel' = $2{active} \
                       AND (t.connection || chr(31) || (j->>'kind') || chr(31) || (j->>'native_id')) = ANY($3)"
                );
                let mut depth = 0;
                while !frontier.is_empty() && depth < q.max_depth {
                    depth += 1;
                    let targets: Vec<&str> = frontier.iter().map(|(_, k)| k.as_str()).collect();
                    let rows = sqlx::query(sqlx::AssertSqlSafe(hop.as_str()))
                        .bind(&q.tenant)
                        .bind(&q.rel)
                        .bind(&targets)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db_err("walking relations"))?;
                    frontier = first_reached(&mut seen, depth, rows.iter().map(node_of_row));
                }
                seen.into_iter().collect()
            }
        };
        let ids: Vec<i64> = depths.iter().map(|(id, _)| *id).collect();
        let depth_of: HashMap<i64, u32> = depths.into_iter().collect();
        let sql = format!("SELECT {RESOURCE_COLUMNS}{RESOURCE_FROM} WHERE r.id = ANY($1)");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&ids)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err("reading walked resources"))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let depth = depth_of.get(&r.get::<i64, _>("id")).copied().unwrap_or_default();
            out.push(Reached { resource: resource_from_row(r)?, depth });
        }
        sort_reached(&mut out);
        Ok(out)
    }

    async fn get_resource(&self, key: &ResourceKey) -> StoreResult<Option<Resource>> {
        let sql = format!(
            "SELECT {RESOURCE_COLUMNS}{RESOURCE_FROM} WHERE r.tenant = $1 AND r.connection = $2 AND r.kind = $3 AND r.native_id = $4"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&key.tenant)
            .bind(&key.connection)
            .bind(key.kind.as_str())
            .bind(&key.native_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("reading a resource"))?;
        row.as_ref().map(resource_from_row).transpose()
    }

    async fn list_resources(&self, filter: &ResourceFilter, page: &PageRequest) -> StoreResult<PageOf<Resource>> {
        let limit = page.checked_limit()?;
        let mut qb = resource_list_query(RESOURCE_COLUMNS, filter, cursor(&page.after)?, limit);
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err("listing resources"))?;
        page_of_rows(&rows, limit, resource_from_row)
    }

    async fn list_resources_raw(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> StoreResult<PageOf<RawResource>> {
        let limit = page.checked_limit()?;
        let mut qb = resource_list_query(RAW_RESOURCE_COLUMNS, filter, cursor(&page.after)?, limit);
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err("listing resources"))?;
        page_of_rows(&rows, limit, raw_resource_from_row)
    }

    async fn history(&self, query: &HistoryQuery, page: &PageRequest) -> StoreResult<PageOf<Change>> {
        let limit = page.checked_limit()?;
        let after = cursor(&page.after)?;
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT h.seq, r.tenant, r.connection, r.kind, r.native_id, h.op, h.at, h.run_id, h.version, h.diff \
             FROM resource_changes h JOIN resources r ON r.id = h.resource_id WHERE h.tenant = ",
        );
        qb.push_bind(&query.tenant).push(" AND h.seq > ").push_bind(after);
        if let Some(k) = &query.key {
            qb.push(" AND h.resource_id = (SELECT id FROM resources WHERE tenant = ")
                .push_bind(&k.tenant)
                .push(" AND connection = ")
                .push_bind(&k.connection)
                .push(" AND kind = ")
                .push_bind(k.kind.as_str())
                .push(" AND native_id = ")
                .push_bind(&k.native_id)
                .push(")");
        }
        if let Some(s) = query.since {
            qb.push(" AND h.at >= ").push_bind(s);
        }
        if let Some(u) = query.until {
            qb.push(" AND h.at < ").push_bind(u);
        }
        qb.push(" ORDER BY h.seq LIMIT ").push_bind(limit as i64 + 1);
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err("reading history"))?;
        let more = rows.len() > limit as usize;
        let mut items = Vec::new();
        for r in rows.iter().take(limit as usize) {
            let op: String = r.get("op");
            let diff: Option<Value> = r.get("diff");
            items.push(Change {
                seq: r.get("seq"),
                key: ResourceKey::new(
                    r.get::<String, _>("tenant"),
                    r.get::<String, _>("connection"),
                    Kind::new(r.get::<String, _>("kind")),
                    r.get::<String, _>("native_id"),
                ),
                op: ChangeOp::parse(&op).ok_or_else(|| StorageError::Corrupt {
                    context: "resource_changes.op".into(),
                    message: op.clone(),
                })?,
                at: r.get("at"),
                run_id: r.get::<Option<String>, _>("run_id").and_then(|s| Uuid::parse_str(&s).ok()),
                version: r.get("version"),
                diff: match diff {
                    Some(d) => serde_json::from_value(d).map_err(|e| StorageError::Corrupt {
                        context: "resource_changes.diff".into(),
                        message: e.to_string(),
                    })?,
                    None => Vec::new(),
                },
            });
        }
        let next = if more { items.last().map(|c: &Change| c.seq.to_string()) } else { None };
        Ok(PageOf { items, next })
    }

    async fn set_user_fields(&self, key: &ResourceKey, fields: Map<String, Value>) -> StoreResult<()> {
        let mut set = Map::new();
        let mut remove: Vec<String> = Vec::new();
        for (f, v) in fields {
            if v.is_null() {
                remove.push(f);
            } else {
                set.insert(f, v);
            }
        }
        let n = sqlx::query(
            "UPDATE resources SET user_fields = (user_fields - $1::text[]) || $2::jsonb \
             WHERE tenant = $3 AND connection = $4 AND kind = $5 AND native_id = $6",
        )
        .bind(remove)
        .bind(Value::Object(set))
        .bind(&key.tenant)
        .bind(&key.connection)
        .bind(key.kind.as_str())
        .bind(&key.native_id)
        .execute(&self.pool)
        .await
        .map_err(db_err("writing user fields"))?
        .rows_affected();
        if n == 0 { Err(StorageError::Invalid(format!("no resource {key}"))) } else { Ok(()) }
    }

    async fn record_run(&self, report: &RunReport) -> StoreResult<()> {
        let payload = serde_json::to_value(report).map_err(|e| StorageError::Invalid(e.to_string()))?;
        let mut tx = self.tx().await?;
        sqlx::query(
            "INSERT INTO runs (run_id, tenant, connection, provider, status, started_at, finished_at, report) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, \
             finished_at = excluded.finished_at, report = excluded.report",
        )
        .bind(report.run_id.to_string())
        .bind(&report.tenant)
        .bind(&report.connection)
        .bind(&report.provider)
        .bind(json(&report.status).trim_matches('"').to_string())
        .bind(report.started_at)
        .bind(report.finished_at)
        .bind(&payload)
        .execute(&mut *tx)
        .await
        .map_err(db_err("recording a run"))?;
        insert_events(&mut tx, &[event::run_finished(&report.tenant, report.run_id, payload, report.finished_at)])
            .await?;
        tx.commit().await.map_err(db_err("committing a run"))
    }

    async fn get_run(&self, run_id: Uuid) -> StoreResult<Option<RunReport>> {
        let v: Option<Value> = sqlx::query_scalar("SELECT report FROM runs WHERE run_id = $1")
            .bind(run_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("reading a run"))?;
        v.map(|v| {
            serde_json::from_value(v)
                .map_err(|e| StorageError::Corrupt { context: "runs.report".into(), message: e.to_string() })
        })
        .transpose()
    }

    async fn list_runs(&self, tenant: &str, page: &PageRequest) -> StoreResult<PageOf<RunReport>> {
        let limit = page.checked_limit()?;
        let rows: Vec<Value> = sqlx::query_scalar(
            r#"SELECT report FROM runs WHERE tenant = $1 AND ($2::text IS NULL OR run_id COLLATE "C" < $2) ORDER BY run_id COLLATE "C" DESC LIMIT $3"#,
        )
        .bind(tenant)
        .bind(page.after.as_deref())
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("listing runs"))?;
        let mut items = rows
            .into_iter()
            .map(|v| {
                serde_json::from_value::<RunReport>(v)
                    .map_err(|e| StorageError::Corrupt { context: "runs.report".into(), message: e.to_string() })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|r| r.run_id.to_string())
        } else {
            None
        };
        Ok(PageOf { items, next })
    }
}

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await.map_err(db_err("committing events"))
    }

    async fn claim_sink(
        &self,
        sink: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<SinkState> {
        sqlx::query("INSERT INTO outbox_sinks (sink) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(sink)
            .execute(&self.pool)
            .await
            .map_err(db_err("creating a sink"))?;
        let row = sqlx::query(
            "UPDATE outbox_sinks SET lease_owner = $2, lease_until = $3 WHERE sink = $1 \
             AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until <= $4) \
             RETURNING cursor_seq, attempts, next_attempt_at, last_error, delivered",
        )
        .bind(sink)
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("claiming a sink"))?
        .ok_or_else(|| StorageError::LeaseHeld(sink.to_string()))?;
        Ok(SinkState {
            sink: sink.into(),
            cursor: OutboxCursor { txid: 0, seq: row.get("cursor_seq") },
            attempts: row.get::<i32, _>("attempts") as u32,
            next_attempt_at: row.get("next_attempt_at"),
            last_error: row.get("last_error"),
            delivered: row.get::<i64, _>("delivered") as u64,
        })
    }

    async fn release_sink(&self, sink: &str, owner: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox_sinks SET lease_owner = NULL, lease_until = NULL WHERE sink = $1 AND lease_owner = $2",
        )
        .bind(sink)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(db_err("releasing a sink"))?;
        Ok(())
    }

    async fn events_after(&self, cursor: OutboxCursor, limit: u32) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query("SELECT seq, id, kind, tenant, subject, run_id, occurred_at, payload FROM outbox_events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(cursor.seq)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err("reading the outbox"))?;
        rows.iter().map(event_from_row).collect()
    }

    async fn advance(&self, sink: &str, owner: &str, to: OutboxCursor, delivered: u64) -> StoreResult<()> {
        let n = sqlx::query(
            "UPDATE outbox_sinks SET cursor_seq = $3, attempts = 0, next_attempt_at = NULL, last_error = NULL, \
             delivered = delivered + $4 WHERE sink = $1 AND lease_owner = $2",
        )
        .bind(sink)
        .bind(owner)
        .bind(to.seq)
        .bind(delivered as i64)
        .execute(&self.pool)
        .await
        .map_err(db_err("advancing a sink"))?
        .rows_affected();
        if n == 0 { Err(StorageError::LeaseHeld(sink.into())) } else { Ok(()) }
    }

    async fn record_failure(
        &self,
        sink: &str,
        owner: &str,
        attempts: u32,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let n = sqlx::query("UPDATE outbox_sinks SET attempts = $3, next_attempt_at = $4, last_error = $5 WHERE sink = $1 AND lease_owner = $2")
            .bind(sink)
            .bind(owner)
            .bind(attempts as i32)
            .bind(next_attempt_at)
            .bind(error)
            .execute(&self.pool)
            .await
            .map_err(db_err("recording a failure"))?
            .rows_affected();
        if n == 0 { Err(StorageError::LeaseHeld(sink.into())) } else { Ok(()) }
    }

    async fn dead_letter(
        &self,
        sink: &str,
        owner: &str,
        ev: &StoredEvent,
        attempts: u32,
        error: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        let n = sqlx::query(
            "UPDATE outbox_sinks SET cursor_seq = $3, attempts = 0, next_attempt_at = NULL, last_error = NULL WHERE sink = $1 AND lease_owner = $2",
        )
        .bind(sink)
        .bind(owner)
        .bind(ev.position.seq)
        .execute(&mut *tx)
        .await
        .map_err(db_err("advancing past a dead letter"))?
        .rows_affected();
        if n == 0 {
            return Err(StorageError::LeaseHeld(sink.into()));
        }
        sqlx::query("INSERT INTO outbox_dead_letters (sink, event_seq, event, error, attempts, dead_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(sink)
            .bind(ev.position.seq)
            .bind(serde_json::to_value(&ev.event).map_err(|e| StorageError::Invalid(e.to_string()))?)
            .bind(error)
            .bind(attempts as i32)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db_err("storing a dead letter"))?;
        tx.commit().await.map_err(db_err("committing a dead letter"))
    }

    async fn dead_letters(&self, sink: Option<&str>, page: &PageRequest) -> StoreResult<PageOf<DeadLetter>> {
        let limit = page.checked_limit()?;
        let after = cursor(&page.after)?;
        let rows = sqlx::query(
            "SELECT id, sink, event, error, attempts, dead_at, state FROM outbox_dead_letters \
             WHERE id > $1 AND ($2::text IS NULL OR sink = $2) ORDER BY id LIMIT $3",
        )
        .bind(after)
        .bind(sink)
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("listing dead letters"))?;
        let more = rows.len() > limit as usize;
        let items = rows.iter().take(limit as usize).map(dead_letter_from_row).collect::<Result<Vec<_>, _>>()?;
        let next = if more { items.last().map(|d: &DeadLetter| d.id.to_string()) } else { None };
        Ok(PageOf { items, next })
    }

    async fn request_replay(&self, id: i64) -> StoreResult<()> {
        let n = sqlx::query("UPDATE outbox_dead_letters SET state = 'replay' WHERE id = $1 AND state = 'dead'")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err("requesting a replay"))?
            .rows_affected();
        if n == 0 { Err(StorageError::Invalid(format!("no dead letter {id} waiting"))) } else { Ok(()) }
    }

    async fn pending_replays(&self, sink: &str, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT id, sink, event, error, attempts, dead_at, state FROM outbox_dead_letters WHERE sink = $1 AND state = 'replay' ORDER BY id LIMIT $2",
        )
        .bind(sink)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("reading replays"))?;
        rows.iter().map(dead_letter_from_row).collect()
    }

    async fn finish_replay(&self, id: i64, result: Result<(), String>, _at: DateTime<Utc>) -> StoreResult<()> {
        match result {
            Ok(()) => {
                sqlx::query("UPDATE outbox_dead_letters SET state = 'replayed' WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
            }
            Err(e) => {
                sqlx::query(
                    "UPDATE outbox_dead_letters SET state = 'dead', error = $2, attempts = attempts + 1 WHERE id = $1",
                )
                .bind(id)
                .bind(e)
                .execute(&self.pool)
                .await
            }
        }
        .map_err(db_err("finishing a replay"))?;
        Ok(())
    }

    async fn outbox_status(&self) -> StoreResult<Vec<SinkStatus>> {
        let rows = sqlx::query(
            "SELECT s.sink, s.delivered, s.last_error, \
             (SELECT count(*) FROM outbox_events e WHERE e.seq > s.cursor_seq) AS backlog, \
             (SELECT count(*) FROM outbox_dead_letters d WHERE d.sink = s.sink AND d.state <> 'replayed') AS dead \
             FROM outbox_sinks s ORDER BY s.sink",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("reading outbox status"))?;
        Ok(rows
            .iter()
            .map(|r| SinkStatus {
                sink: r.get("sink"),
                backlog: r.get::<i64, _>("backlog") as u64,
                delivered: r.get::<i64, _>("delivered") as u64,
                dead: r.get::<i64, _>("dead") as u64,
                last_error: r.get("last_error"),
            })
            .collect())
    }
}

#[async_trait]
impl LeaseStore for PostgresStore {
    async fn try_lease(&self, name: &str, owner: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool> {
        let n = sqlx::query(
            "INSERT INTO leases (name, owner, until) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until \
             WHERE leases.owner = excluded.owner OR leases.until <= $4",
        )
        .bind(name)
        .bind(owner)
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err("taking a lease"))?
        .rows_affected();
        Ok(n == 1)
    }

    async fn release_lease(&self, name: &str, owner: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND owner = $2")
            .bind(name)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(db_err("releasing a lease"))?;
        Ok(())
    }

    async fn lease_holder(&self, name: &str, now: DateTime<Utc>) -> StoreResult<Option<(String, DateTime<Utc>)>> {
        let row = sqlx::query("SELECT owner, until FROM leases WHERE name = $1 AND until > $2")
            .bind(name)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("reading a lease"))?;
        Ok(row.map(|r| (r.get("owner"), r.get("until"))))
    }
}
