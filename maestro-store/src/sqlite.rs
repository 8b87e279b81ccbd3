//! The SQLite backend: the embedded default. One file, WAL mode, migrations on open.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use maestro_core::event::{self, Event};
use maestro_core::repository::*;
use maestro_core::sync::{StoredState, last_wins};
use maestro_core::tracker::{SweepAction, SweepRow, sweep_action};
use maestro_core::{Checksum, Document, Kind, Relation, Resource, ResourceKey, RunReport, StorageError};
use serde_json::{Map, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};
use uuid::Uuid;

use crate::common::*;
use crate::plan::{self, ItemKey, Target};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Rows per multi-row INSERT (15 binds each, well under SQLite's 32 766).
const CHUNK: usize = 500;

/// A maestro store in one SQLite file.
///
/// Opened in WAL mode with up to four connections and a 256 MiB read mapping (`mmap_size`).
/// For read-heavy use, build SQLite (bundled through sqlx) with
/// `LIBSQLITE3_FLAGS="-DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_ENABLE_QPSG"`, as this repository's
/// `.cargo/config.toml` does: docs/benchmarks.md shows what each one is worth.
///
/// ```no_run
/// # async fn demo() -> Result<(), maestro_core::StorageError> {
/// let store = maestro_store::SqliteStore::open("sqlite://maestro.db").await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    fail_after: AtomicUsize,
}

impl SqliteStore {
    /// Open (creating if missing) the database at `url` (`sqlite://path` or `sqlite::memory:`)
    /// and run migrations.
    ///
    /// # Errors
    /// A bad URL, an unreadable file or a failed migration.
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StorageError::Invalid(format!("bad SQLite URL `{url}`: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", "-16384")
            .pragma("temp_store", "memory")
            .pragma("mmap_size", "268435456");
        let in_memory = url.contains(":memory:");
        let pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { 4 })
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout(if in_memory { None } else { Some(Duration::from_secs(600)) })
            .max_lifetime(if in_memory { None } else { Some(Duration::from_secs(3600)) })
            .connect_with(opts)
            .await
            .map_err(db_err("opening SQLite database"))?;
        MIGRATOR.run(&pool).await.map_err(|e| StorageError::query("running SQLite migrations", e))?;
        Ok(Self { pool, fail_after: AtomicUsize::new(0) })
    }

    /// The connection pool (for benchmarks and admin tools).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(crate) async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, StorageError> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err("starting a write transaction"))
    }
}

impl FaultInjection for SqliteStore {
    fn fail_next_batch_after(&self, rows: usize) {
        self.fail_after.store(rows + 1, Ordering::SeqCst);
    }
}

/// `(row id, "connection\x1fkind\x1fnative_id")` of a walked resource.
fn node_of_row(r: &SqliteRow) -> (i64, String) {
    let key = format!(
        "{}\u{1f}{}\u{1f}{}",
        r.get::<&str, _>("connection"),
        r.get::<&str, _>("kind"),
        r.get::<&str, _>("native_id")
    );
    (r.get("id"), key)
}

fn resource_from_row(r: &SqliteRow) -> Result<Resource, StorageError> {
    let checksum: Vec<u8> = r.get("checksum");
    let active: bool = r.get("active");
    let missed: i64 = r.get("missed_runs");
    let last_seen = from_micros(r.get("last_seen"));
    let completed: Option<i64> = r.get("completed_at");
    Ok(Resource {
        key: ResourceKey::new(
            r.get::<String, _>("tenant"),
            r.get::<String, _>("connection"),
            Kind::new(r.get::<String, _>("kind")),
            r.get::<String, _>("native_id"),
        ),
        scope: r.get("scope"),
        active,
        doc: Document {
            name: r.get("name"),
            attributes: parse("resources.attributes", r.get::<&str, _>("attributes"))?,
            relations: parse::<Vec<Relation>>("resources.relations", r.get::<&str, _>("relations"))?,
            tags: parse("resources.tags", r.get::<&str, _>("tags"))?,
        },
        user_fields: parse("resources.user_fields", r.get::<&str, _>("user_fields"))?,
        checksum: Checksum(checksum.try_into().map_err(|_| StorageError::Corrupt {
            context: "resources.checksum".into(),
            message: "not 32 bytes".into(),
        })?),
        first_seen: from_micros(r.get("first_seen")),
        last_seen: effective_last_seen(active, missed as u32, last_seen, completed.map(from_micros)),
        missing_since: r.get::<Option<i64>, _>("missing_since").map(from_micros),
        missed_runs: missed as u32,
        updated_at: from_micros(r.get("updated_at")),
        version: r.get("version"),
    })
}

const RESOURCE_COLUMNS: &str = "r.id, r.tenant, r.connection, r.kind, r.native_id, r.scope, r.name, r.active, r.attributes, \
     r.relations, r.tags, r.user_fields, r.checksum, r.first_seen, r.last_seen, r.missing_since, r.missed_runs, \
     r.updated_at, r.version, c.completed_at";
const RESOURCE_FROM: &str = " FROM resources r LEFT JOIN scope_completions c \
     ON c.tenant = r.tenant AND c.connection = r.connection AND c.scope = r.scope ";

/// One resource as one line of text, fields separated by U+001F: the row id, then the key, scope
/// and name as JSON string literals (`json_quote`), `active`, the four JSON parts as stored, and
/// the times as microseconds. Neither separator can occur in a field: compact JSON and
/// `json_quote` output escape every control character, and the rest are integers. (`concat_ws`
/// builds the line in one pass; a chain of `||` copied it once per operand.)
const RAW_RESOURCE_LINE: &str = "concat_ws(char(31), r.id, json_quote(r.tenant), json_quote(r.connection), \
     json_quote(r.kind), json_quote(r.native_id), json_quote(r.scope), r.active, json_quote(r.name), r.attributes, \
     r.relations, r.tags, r.user_fields, r.first_seen, r.last_seen, ifnull(r.missing_since, ''), r.missed_runs, \
     r.version, ifnull(c.completed_at, ''))";
const RAW_RESOURCE_FIELDS: usize = 18;

/// Parse one [`RAW_RESOURCE_LINE`]: `(row id, resource)`.
fn raw_resource_from_line(line: &str) -> Result<(i64, RawResource), StorageError> {
    let corrupt = |message: String| StorageError::Corrupt { context: "resources (raw listing)".into(), message };
    let wrong_count =
        || corrupt(format!("a row has {} fields, not {RAW_RESOURCE_FIELDS}", line.split('\u{1f}').count()));
    let mut f = [""; RAW_RESOURCE_FIELDS];
    let mut fields = line.split('\u{1f}');
    for slot in &mut f {
        *slot = fields.next().ok_or_else(wrong_count)?;
    }
    if fields.next().is_some() {
        return Err(wrong_count());
    }
    let int = |i: usize| -> Result<i64, StorageError> {
        f[i].parse().map_err(|_| corrupt(format!("field {i} is not an integer: {:?}", f[i])))
    };
    let opt_int =
        |i: usize| -> Result<Option<i64>, StorageError> { if f[i].is_empty() { Ok(None) } else { int(i).map(Some) } };
    let text = |i: usize| -> Result<String, StorageError> {
        let s = f[i];
        match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            Some(plain) if !plain.contains(['\\', '"']) => Ok(plain.to_string()),
            _ => serde_json::from_str(s).map_err(|e| corrupt(format!("field {i} is not a JSON string: {e}"))),
        }
    };
    let active = int(6)? != 0;
    let missed = int(15)?;
    let resource = RawResource {
        key: ResourceKey::new(text(1)?, text(2)?, Kind::new(text(3)?), text(4)?),
        scope: text(5)?,
        active,
        name: text(7)?,
        attributes_json: f[8].to_string(),
        relations_json: f[9].to_string(),
        tags_json: f[10].to_string(),
        user_fields_json: f[11].to_string(),
        first_seen: from_micros(int(12)?),
        last_seen: effective_last_seen(active, missed as u32, from_micros(int(13)?), opt_int(17)?.map(from_micros)),
        missing_since: opt_int(14)?.map(from_micros),
        version: int(16)?,
    };
    Ok((int(0)?, resource))
}

/// `SELECT columns` of one tenant's resources after row `after`, filtered, in id order, one
/// more than `limit` (to know whether a next page exists). `prefix` goes before it, so that the
/// query can be a subquery.
fn resource_list_query(
    prefix: &str,
    columns: &str,
    filter: &ResourceFilter,
    after: i64,
    limit: u32,
) -> QueryBuilder<Sqlite> {
    let mut qb: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("{prefix}SELECT {columns}{RESOURCE_FROM} WHERE r.tenant = "));
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
        qb.push(" AND EXISTS (SELECT 1 FROM json_each(r.tags) t WHERE t.key = ").push_bind(k);
        if let Some(v) = v {
            qb.push(" AND t.value = ").push_bind(v);
        }
        qb.push(")");
    }
    if let Some(t) = &filter.text {
        qb.push(" AND instr(lower(r.name), lower(").push_bind(t).push(")) > 0");
    }
    // The limit is written into the SQL, not bound: SQLite marks a statement whose LIMIT is a
    // bound parameter for re-preparation at every new binding (it folds the value into the plan),
    // which made each listing parse and plan its query again. `limit` is a checked integer.
    qb.push(format!(" ORDER BY r.id LIMIT {}", u64::from(limit) + 1));
    qb
}

pub(crate) async fn insert_events(tx: &mut Transaction<'static, Sqlite>, events: &[Event]) -> Result<(), StorageError> {
    for chunk in events.chunks(CHUNK) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT OR IGNORE INTO outbox_events (id, kind, tenant, subject, run_id, occurred_at, payload) ",
        );
        qb.push_values(chunk, |mut b, e| {
            b.push_bind(e.id.as_bytes().to_vec())
                .push_bind(e.kind.clone())
                .push_bind(e.tenant.clone())
                .push_bind(e.subject.clone())
                .push_bind(e.run_id.map(|r| r.to_string()))
                .push_bind(micros(e.occurred_at))
                .push_bind(json(&e.payload));
        });
        qb.build().execute(&mut **tx).await.map_err(db_err("appending outbox events"))?;
    }
    Ok(())
}

fn event_from_row(r: &SqliteRow) -> Result<StoredEvent, StorageError> {
    let id: Vec<u8> = r.get("id");
    Ok(StoredEvent {
        position: OutboxCursor { txid: 0, seq: r.get("seq") },
        event: Event {
            id: Uuid::from_slice(&id)
                .map_err(|e| StorageError::Corrupt { context: "outbox_events.id".into(), message: e.to_string() })?,
            kind: r.get("kind"),
            tenant: r.get("tenant"),
            subject: r.get("subject"),
            run_id: r.get::<Option<String>, _>("run_id").and_then(|s| Uuid::parse_str(&s).ok()),
            occurred_at: from_micros(r.get("occurred_at")),
            payload: parse("outbox_events.payload", r.get::<&str, _>("payload"))?,
        },
    })
}

#[async_trait]
impl Repository for SqliteStore {
    async fn upsert_batch(&self, batch: UpsertBatch<'_>) -> StoreResult<ChangeSet> {
        let items = last_wins(batch.items);
        let fail_after = self.fail_after.swap(0, Ordering::SeqCst);
        let mut tx = self.write_tx().await?;

        // 1. Cheap state of every item.
        let mut states: HashMap<ItemKey, StoredState> = HashMap::with_capacity(items.len());
        for chunk in items.chunks(CHUNK) {
            let keys: Vec<(&str, &str)> = chunk.iter().map(|i| (i.kind.as_str(), i.native_id.as_str())).collect();
            let rows = sqlx::query(
                "SELECT r.id, r.kind, r.native_id, r.checksum, r.active, r.missed_runs, r.scope, r.version \
                 FROM json_each(?3) j CROSS JOIN resources r ON r.tenant = ?1 AND r.connection = ?2 \
                 AND r.kind = (j.value ->> 0) AND r.native_id = (j.value ->> 1)",
            )
            .bind(batch.tenant)
            .bind(batch.connection)
            .bind(json(&keys))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err("reading resource states"))?;
            for r in rows {
                let sum: Vec<u8> = r.get("checksum");
                states.insert(
                    (Kind::new(r.get::<String, _>("kind")), r.get("native_id")),
                    StoredState {
                        id: r.get("id"),
                        checksum: Checksum(sum.try_into().unwrap_or([0; 32])),
                        active: r.get("active"),
                        missed_runs: r.get::<i64, _>("missed_runs") as u32,
                        scope: r.get("scope"),
                        version: r.get("version"),
                    },
                );
            }
        }
        // 2. Documents of the rows whose checksum changed (or that are inactive).
        let compare = plan::ids_to_compare(&items, &states, batch.scope);
        let mut docs: HashMap<i64, Document> = HashMap::with_capacity(compare.len());
        for chunk in compare.chunks(CHUNK) {
            let rows = sqlx::query("SELECT id, name, attributes, relations, tags FROM resources WHERE id IN (SELECT value FROM json_each(?1))")
                .bind(json(&chunk))
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err("reading stored documents"))?;
            for r in rows {
                docs.insert(
                    r.get("id"),
                    Document {
                        name: r.get("name"),
                        attributes: parse("resources.attributes", r.get::<&str, _>("attributes"))?,
                        relations: parse("resources.relations", r.get::<&str, _>("relations"))?,
                        tags: parse("resources.tags", r.get::<&str, _>("tags"))?,
                    },
                );
            }
        }
        let ws = plan::build(&batch, &items, &states, &docs)?;
        let at = micros(batch.at);
        let mut written = 0usize;
        let budget = if fail_after > 0 { fail_after - 1 } else { usize::MAX };

        // 3. Inserts.
        let mut new_ids: HashMap<ItemKey, i64> = HashMap::with_capacity(ws.inserts.len());
        let insert_chunk = if budget < usize::MAX { 1 } else { CHUNK };
        for chunk in ws.inserts.chunks(insert_chunk) {
            if written >= budget {
                return Err(injected_fault());
            }
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO resources (tenant, connection, kind, native_id, scope, name, active, attributes, relations, tags, \
                 checksum, first_seen, last_seen, updated_at, version) ",
            );
            qb.push_values(chunk, |mut b, it| {
                b.push_bind(batch.tenant)
                    .push_bind(batch.connection)
                    .push_bind(it.kind.as_str())
                    .push_bind(it.native_id.as_str())
                    .push_bind(batch.scope)
                    .push_bind(it.doc.name.as_str())
                    .push_bind(true)
                    .push_bind(json(&it.doc.attributes))
                    .push_bind(json(&it.doc.relations))
                    .push_bind(json(&it.doc.tags))
                    .push_bind(it.checksum.0.to_vec())
                    .push_bind(at)
                    .push_bind(at)
                    .push_bind(at)
                    .push_bind(1i64);
            });
            qb.push(" RETURNING id, kind, native_id");
            let rows = qb.build().fetch_all(&mut *tx).await.map_err(db_err("inserting resources"))?;
            for r in rows {
                new_ids.insert((Kind::new(r.get::<String, _>("kind")), r.get("native_id")), r.get("id"));
            }
            written += chunk.len();
        }
        // 4. Updates, touches, checksum-only rewrites.
        for (id, it, version) in &ws.updates {
            if written >= budget {
                return Err(injected_fault());
            }
            sqlx::query(
                "UPDATE resources SET name = ?1, attributes = ?2, relations = ?3, tags = ?4, checksum = ?5, scope = ?6, \
                 active = 1, missing_since = NULL, missed_runs = 0, last_seen = ?7, updated_at = ?7, version = ?8 WHERE id = ?9",
            )
            .bind(&it.doc.name)
            .bind(json(&it.doc.attributes))
            .bind(json(&it.doc.relations))
            .bind(json(&it.doc.tags))
            .bind(it.checksum.0.to_vec())
            .bind(batch.scope)
            .bind(at)
            .bind(version)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err("updating resources"))?;
            written += 1;
        }
        for id in &ws.touches {
            sqlx::query(
                "UPDATE resources SET missed_runs = 0, scope = ?1, last_seen = ?2, updated_at = ?2 WHERE id = ?3",
            )
            .bind(batch.scope)
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err("touching resources"))?;
        }
        for (id, it) in &ws.checksum_only {
            sqlx::query("UPDATE resources SET checksum = ?1, missed_runs = 0, scope = ?2, last_seen = ?3, updated_at = ?3 WHERE id = ?4")
                .bind(it.checksum.0.to_vec())
                .bind(batch.scope)
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err("updating checksums"))?;
        }
        // 5. History and events, same transaction.
        let run = plan::run_text(Some(batch.run_id));
        for chunk in ws.changes.chunks(CHUNK) {
            let mut qb: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT INTO resource_changes (resource_id, tenant, op, at, run_id, version, diff) ");
            let mut rows: Vec<(i64, &plan::PendingChange)> = Vec::with_capacity(chunk.len());
            for c in chunk {
                let id = match &c.resource {
                    Target::Id(id) => *id,
                    Target::New(k) => *new_ids.get(k).ok_or_else(|| StorageError::Corrupt {
                        context: "resources".into(),
                        message: format!("inserted row {k:?} has no id"),
                    })?,
                };
                rows.push((id, c));
            }
            qb.push_values(rows, |mut b, (id, c)| {
                b.push_bind(id)
                    .push_bind(batch.tenant)
                    .push_bind(c.op.as_str())
                    .push_bind(at)
                    .push_bind(run.clone())
                    .push_bind(c.version)
                    .push_bind(c.diff.clone());
            });
            qb.build().execute(&mut *tx).await.map_err(db_err("recording history"))?;
        }
        insert_events(&mut tx, &ws.events).await?;
        tx.commit().await.map_err(db_err("committing a batch"))?;
        Ok(ws.changeset)
    }

    async fn complete_scope(&self, req: SweepRequest<'_>) -> StoreResult<SweepOutcome> {
        let scope_key = req.scope.local_key();
        let (tenant, connection) = (req.scope.tenant.as_str(), req.scope.connection.as_str());
        let started = micros(req.run_started);
        let superseded = |prev: Option<i64>| prev.is_some_and(|p| p > started);
        let prev: Option<i64> = sqlx::query_scalar(
            "SELECT run_started FROM scope_completions WHERE tenant = ?1 AND connection = ?2 AND scope = ?3",
        )
        .bind(tenant)
        .bind(connection)
        .bind(&scope_key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("reading scope completion"))?;
        if superseded(prev) {
            return Ok(SweepOutcome { superseded: true, ..SweepOutcome::default() });
        }
        // Stream the scope (read-only) and keep only the rows that need a write.
        let mut actions: Vec<(i64, i64, SweepAction, String, String, String)> = Vec::new();
        {
            let mut rows = sqlx::query(
                "SELECT id, kind, native_id, name, active, missed_runs, updated_at, missing_since FROM resources \
                 WHERE tenant = ?1 AND connection = ?2 AND scope = ?3",
            )
            .bind(tenant)
            .bind(connection)
            .bind(&scope_key)
            .fetch(&self.pool);
            while let Some(r) = rows.try_next().await.map_err(db_err("reading the scope"))? {
                let kind = Kind::new(r.get::<String, _>("kind"));
                let native_id: String = r.get("native_id");
                let updated_at: i64 = r.get("updated_at");
                let row = SweepRow {
                    kind: kind.clone(),
                    native_id: native_id.clone(),
                    active: r.get("active"),
                    missed_runs: r.get::<i64, _>("missed_runs") as u32,
                    updated_at: from_micros(updated_at),
                    missing_since: r.get::<Option<i64>, _>("missing_since").map(from_micros),
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
        let mut tx = self.write_tx().await?;
        let prev: Option<i64> = sqlx::query_scalar(
            "SELECT run_started FROM scope_completions WHERE tenant = ?1 AND connection = ?2 AND scope = ?3",
        )
        .bind(tenant)
        .bind(connection)
        .bind(&scope_key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err("reading scope completion"))?;
        if superseded(prev) {
            return Ok(SweepOutcome { superseded: true, ..SweepOutcome::default() });
        }
        let at = micros(req.at);
        let run = req.run_id.to_string();
        let mut events = Vec::new();
        for (id, seen_updated_at, action, kind, native_id, name) in actions {
            // Guard on updated_at: a row written since we read it belongs to someone else's view.
            let key = ResourceKey::new(tenant, connection, Kind::new(kind), native_id);
            match action {
                SweepAction::Keep => {}
                SweepAction::Miss { missed_runs } => {
                    let n = sqlx::query(
                        "UPDATE resources SET missed_runs = ?1, updated_at = ?2 WHERE id = ?3 AND updated_at = ?4",
                    )
                    .bind(missed_runs as i64)
                    .bind(at)
                    .bind(id)
                    .bind(seen_updated_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("counting a miss"))?
                    .rows_affected();
                    out.missed += n;
                }
                SweepAction::Deactivate | SweepAction::Reactivate => {
                    let deactivate = action == SweepAction::Deactivate;
                    let sql = if deactivate {
                        "UPDATE resources SET active = 0, missing_since = ?1, missed_runs = missed_runs + 1, updated_at = ?1, \
                         version = version + 1 WHERE id = ?2 AND updated_at = ?3 RETURNING version"
                    } else {
                        "UPDATE resources SET active = 1, missing_since = NULL, missed_runs = 0, last_seen = ?1, updated_at = ?1, \
                         version = version + 1 WHERE id = ?2 AND updated_at = ?3 RETURNING version"
                    };
                    let v: Option<i64> = sqlx::query_scalar(sql)
                        .bind(at)
                        .bind(id)
                        .bind(seen_updated_at)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err("sweeping a resource"))?;
                    let Some(version) = v else { continue };
                    let op = if deactivate { ChangeOp::Deactivated } else { ChangeOp::Reactivated };
                    sqlx::query("INSERT INTO resource_changes (resource_id, tenant, op, at, run_id, version, diff) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)")
                        .bind(id)
                        .bind(tenant)
                        .bind(op.as_str())
                        .bind(at)
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
        insert_events(&mut tx, &events).await?;
        sqlx::query(
            "INSERT INTO scope_completions (tenant, connection, scope, run_id, run_started, completed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (tenant, connection, scope) DO UPDATE SET run_id = excluded.run_id, run_started = excluded.run_started, \
             completed_at = excluded.completed_at",
        )
        .bind(tenant)
        .bind(connection)
        .bind(&scope_key)
        .bind(&run)
        .bind(started)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_err("recording scope completion"))?;
        tx.commit().await.map_err(db_err("committing a sweep"))?;
        Ok(out)
    }

    async fn related(&self, q: &RelatedQuery) -> StoreResult<Vec<Reached>> {
        let active = if q.include_inactive { "" } else { " AND t.active = 1" };
        let start = json(&q.start);
        let depths: Vec<(i64, u32)> = match q.direction {
            // One recursive query: the dependency lookup to depth 40 runs in the store.
            Direction::Outgoing => {
                let sql = format!(
                    "WITH RECURSIVE walk(id, depth) AS ( \
                       SELECT t.id, 0 FROM resources t WHERE t.tenant = ?1 AND t.kind = ?2 \
                         AND t.native_id IN (SELECT value FROM json_each(?3)){active} \
                       UNION \
                       SELECT t.id, w.depth + 1 FROM walk w JOIN resources f ON f.id = w.id \
                         CROSS JOIN json_each(f.relations) j \
                         JOIN resources t ON t.tenant = f.tenant AND t.connection = f.connection \
                           AND t.kind = json_extract(j.value, '$.kind') AND t.native_id = json_extract(j.value, '$.native_id') \
                       WHERE w.depth < ?5 AND json_extract(j.value, '$.rel') = ?4{active} \
                     ) SELECT id, MIN(depth) AS depth FROM walk GROUP BY id"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&q.tenant)
                    .bind(q.start_kind.as_str())
                    .bind(&start)
                    .bind(&q.rel)
                    .bind(i64::from(q.max_depth))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err("walking relations"))?
                    .iter()
                    .map(|r| (r.get::<i64, _>("id"), r.get::<i64, _>("depth") as u32))
                    .collect()
            }
            // Incoming links have no index to follow: one scan of the tenant per hop, matching
            // the whole frontier at once.
            Direction::Incoming => {
                let sql = format!(
                    "SELECT t.id, t.connection, t.kind, t.native_id FROM resources t \
                     WHERE t.tenant = ?1 AND t.kind = ?2 AND t.native_id IN (SELECT value FROM json_each(?3)){active}"
                );
                let mut frontier: Vec<(i64, String)> = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&q.tenant)
                    .bind(q.start_kind.as_str())
                    .bind(&start)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err("walking relations"))?
                    .iter()
                    .map(node_of_row)
                    .collect();
                let mut seen: HashMap<i64, u32> = frontier.iter().map(|(id, _)| (*id, 0)).collect();
                let hop = format!(
                    "SELECT DISTINCT t.id, t.connection, t.kind, t.native_id FROM resources t CROSS JOIN json_each(t.relations) j \
                     WHERE t.tenant = ?1 AND json_extract(j.value, '$.rel') = ?2{active} \
                       AND (t.connection || char(31) || json_extract(j.value, '$.kind') || char(31) || json_extract(j.value, '$.native_id')) \
                           IN (SELECT value FROM json_each(?3))"
                );
                let mut depth = 0;
                while !frontier.is_empty() && depth < q.max_depth {
                    depth += 1;
                    let targets: Vec<&str> = frontier.iter().map(|(_, k)| k.as_str()).collect();
                    let rows = sqlx::query(sqlx::AssertSqlSafe(hop.as_str()))
                        .bind(&q.tenant)
                        .bind(&q.rel)
                        .bind(json(&targets))
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
        let sql = format!("SELECT {RESOURCE_COLUMNS}{RESOURCE_FROM} WHERE r.id IN (SELECT value FROM json_each(?1))");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(json(&ids))
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
            "SELECT {RESOURCE_COLUMNS}{RESOURCE_FROM} WHERE r.tenant = ?1 AND r.connection = ?2 AND r.kind = ?3 AND r.native_id = ?4"
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
        let mut qb = resource_list_query("", RESOURCE_COLUMNS, filter, cursor(&page.after)?, limit);
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err("listing resources"))?;
        page_of_rows(&rows, limit, resource_from_row)
    }

    async fn list_resources_raw(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> StoreResult<PageOf<RawResource>> {
        // One row for the whole page: with sqlx's SQLite driver every row and every value is a
        // hand-off between its worker thread and ours, which cost more than the query itself.
        let limit = page.checked_limit()?;
        let line = format!("r.id AS id, {RAW_RESOURCE_LINE} AS line");
        let mut qb = resource_list_query(
            "SELECT count(*), group_concat(line, char(30)) FROM (",
            &line,
            filter,
            cursor(&page.after)?,
            limit,
        );
        qb.push(")");
        let row = qb.build().fetch_one(&self.pool).await.map_err(db_err("listing resources"))?;
        let rows: i64 = row.get(0);
        let text: Option<&str> = row.get(1);
        let mut lines = text
            .unwrap_or("")
            .split('\u{1e}')
            .filter(|l| !l.is_empty())
            .map(raw_resource_from_line)
            .collect::<Result<Vec<_>, _>>()?;
        // group_concat's order is unspecified: put the rows back in id order, then cut the page.
        lines.sort_unstable_by_key(|(id, _)| *id);
        lines.truncate(limit as usize);
        let next = (rows > i64::from(limit)).then(|| lines.last().map(|(id, _)| id.to_string())).flatten();
        Ok(PageOf { items: lines.into_iter().map(|(_, r)| r).collect(), next })
    }

    async fn history(&self, query: &HistoryQuery, page: &PageRequest) -> StoreResult<PageOf<Change>> {
        let limit = page.checked_limit()?;
        let after = cursor(&page.after)?;
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
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
            qb.push(" AND h.at >= ").push_bind(micros(s));
        }
        if let Some(u) = query.until {
            qb.push(" AND h.at < ").push_bind(micros(u));
        }
        qb.push(format!(" ORDER BY h.seq LIMIT {}", u64::from(limit) + 1)); // literal: see resource_list_query
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err("reading history"))?;
        let more = rows.len() > limit as usize;
        let mut items = Vec::new();
        for r in rows.iter().take(limit as usize) {
            let op: String = r.get("op");
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
                at: from_micros(r.get("at")),
                run_id: r.get::<Option<String>, _>("run_id").and_then(|s| Uuid::parse_str(&s).ok()),
                version: r.get("version"),
                diff: match r.get::<Option<&str>, _>("diff") {
                    Some(d) => parse("resource_changes.diff", d)?,
                    None => Vec::new(),
                },
            });
        }
        let next = if more { items.last().map(|c: &Change| c.seq.to_string()) } else { None };
        Ok(PageOf { items, next })
    }

    async fn set_user_fields(&self, key: &ResourceKey, fields: Map<String, Value>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let current: Option<String> = sqlx::query_scalar(
            "SELECT user_fields FROM resources WHERE tenant = ?1 AND connection = ?2 AND kind = ?3 AND native_id = ?4",
        )
        .bind(&key.tenant)
        .bind(&key.connection)
        .bind(key.kind.as_str())
        .bind(&key.native_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err("reading user fields"))?;
        let current = current.ok_or_else(|| StorageError::Invalid(format!("no resource {key}")))?;
        let mut map: Map<String, Value> = parse("resources.user_fields", &current)?;
        for (f, v) in fields {
            if v.is_null() {
                map.remove(&f);
            } else {
                map.insert(f, v);
            }
        }
        sqlx::query("UPDATE resources SET user_fields = ?1 WHERE tenant = ?2 AND connection = ?3 AND kind = ?4 AND native_id = ?5")
            .bind(json(&map))
            .bind(&key.tenant)
            .bind(&key.connection)
            .bind(key.kind.as_str())
            .bind(&key.native_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err("writing user fields"))?;
        tx.commit().await.map_err(db_err("committing user fields"))
    }

    async fn record_run(&self, report: &RunReport) -> StoreResult<()> {
        let payload = serde_json::to_value(report).map_err(|e| StorageError::Invalid(e.to_string()))?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO runs (run_id, tenant, connection, provider, status, started_at, finished_at, report) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, \
             finished_at = excluded.finished_at, report = excluded.report",
        )
        .bind(report.run_id.to_string())
        .bind(&report.tenant)
        .bind(&report.connection)
        .bind(&report.provider)
        .bind(json(&report.status).trim_matches('"').to_string())
        .bind(micros(report.started_at))
        .bind(micros(report.finished_at))
        .bind(payload.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err("recording a run"))?;
        insert_events(&mut tx, &[event::run_finished(&report.tenant, report.run_id, payload, report.finished_at)])
            .await?;
        tx.commit().await.map_err(db_err("committing a run"))
    }

    async fn get_run(&self, run_id: Uuid) -> StoreResult<Option<RunReport>> {
        let s: Option<String> = sqlx::query_scalar("SELECT report FROM runs WHERE run_id = ?1")
            .bind(run_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("reading a run"))?;
        s.map(|s| parse("runs.report", &s)).transpose()
    }

    async fn list_runs(&self, tenant: &str, page: &PageRequest) -> StoreResult<PageOf<RunReport>> {
        let limit = page.checked_limit()?;
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT report FROM runs WHERE tenant = ?1 AND (?2 IS NULL OR run_id < ?2) ORDER BY run_id DESC LIMIT ?3",
        )
        .bind(tenant)
        .bind(page.after.as_deref())
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("listing runs"))?;
        let mut items = rows.iter().map(|s| parse::<RunReport>("runs.report", s)).collect::<StoreResult<Vec<_>>>()?;
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
impl OutboxStore for SqliteStore {
    async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
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
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT OR IGNORE INTO outbox_sinks (sink) VALUES (?1)")
            .bind(sink)
            .execute(&mut *tx)
            .await
            .map_err(db_err("creating a sink"))?;
        let row = sqlx::query(
            "UPDATE outbox_sinks SET lease_owner = ?2, lease_until = ?3 WHERE sink = ?1 \
             AND (lease_owner IS NULL OR lease_owner = ?2 OR lease_until <= ?4) \
             RETURNING cursor_seq, attempts, next_attempt_at, last_error, delivered",
        )
        .bind(sink)
        .bind(owner)
        .bind(micros(lease_until))
        .bind(micros(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err("claiming a sink"))?;
        let row = row.ok_or_else(|| StorageError::LeaseHeld(sink.to_string()))?;
        tx.commit().await.map_err(db_err("committing a claim"))?;
        Ok(SinkState {
            sink: sink.into(),
            cursor: OutboxCursor { txid: 0, seq: row.get("cursor_seq") },
            attempts: row.get::<i64, _>("attempts") as u32,
            next_attempt_at: row.get::<Option<i64>, _>("next_attempt_at").map(from_micros),
            last_error: row.get("last_error"),
            delivered: row.get::<i64, _>("delivered") as u64,
        })
    }

    async fn release_sink(&self, sink: &str, owner: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox_sinks SET lease_owner = NULL, lease_until = NULL WHERE sink = ?1 AND lease_owner = ?2",
        )
        .bind(sink)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(db_err("releasing a sink"))?;
        Ok(())
    }

    async fn events_after(&self, cursor: OutboxCursor, limit: u32) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query("SELECT seq, id, kind, tenant, subject, run_id, occurred_at, payload FROM outbox_events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .bind(cursor.seq)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err("reading the outbox"))?;
        rows.iter().map(event_from_row).collect()
    }

    async fn advance(&self, sink: &str, owner: &str, to: OutboxCursor, delivered: u64) -> StoreResult<()> {
        let n = sqlx::query(
            "UPDATE outbox_sinks SET cursor_seq = ?3, attempts = 0, next_attempt_at = NULL, last_error = NULL, \
             delivered = delivered + ?4 WHERE sink = ?1 AND lease_owner = ?2",
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
        let n = sqlx::query("UPDATE outbox_sinks SET attempts = ?3, next_attempt_at = ?4, last_error = ?5 WHERE sink = ?1 AND lease_owner = ?2")
            .bind(sink)
            .bind(owner)
            .bind(attempts as i64)
            .bind(micros(next_attempt_at))
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
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE outbox_sinks SET cursor_seq = ?3, attempts = 0, next_attempt_at = NULL, last_error = NULL WHERE sink = ?1 AND lease_owner = ?2",
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
        sqlx::query("INSERT INTO outbox_dead_letters (sink, event_seq, event, error, attempts, dead_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .bind(sink)
            .bind(ev.position.seq)
            .bind(json(&ev.event))
            .bind(error)
            .bind(attempts as i64)
            .bind(micros(at))
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
             WHERE id > ?1 AND (?2 IS NULL OR sink = ?2) ORDER BY id LIMIT ?3",
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
        let n = sqlx::query("UPDATE outbox_dead_letters SET state = 'replay' WHERE id = ?1 AND state = 'dead'")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err("requesting a replay"))?
            .rows_affected();
        if n == 0 { Err(StorageError::Invalid(format!("no dead letter {id} waiting"))) } else { Ok(()) }
    }

    async fn pending_replays(&self, sink: &str, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT id, sink, event, error, attempts, dead_at, state FROM outbox_dead_letters WHERE sink = ?1 AND state = 'replay' ORDER BY id LIMIT ?2",
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
                sqlx::query("UPDATE outbox_dead_letters SET state = 'replayed' WHERE id = ?1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
            }
            Err(e) => {
                sqlx::query(
                    "UPDATE outbox_dead_letters SET state = 'dead', error = ?2, attempts = attempts + 1 WHERE id = ?1",
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
             (SELECT count(*) FROM outbox_dead_letters d WHERE d.sink = s.sink AND d.state != 'replayed') AS dead \
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

fn dead_letter_from_row(r: &SqliteRow) -> Result<DeadLetter, StorageError> {
    Ok(DeadLetter {
        id: r.get("id"),
        sink: r.get("sink"),
        event: parse("outbox_dead_letters.event", r.get::<&str, _>("event"))?,
        error: r.get("error"),
        attempts: r.get::<i64, _>("attempts") as u32,
        dead_at: from_micros(r.get("dead_at")),
        state: r.get("state"),
    })
}

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn try_lease(&self, name: &str, owner: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool> {
        let n = sqlx::query(
            "INSERT INTO leases (name, owner, until) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until \
             WHERE leases.owner = excluded.owner OR leases.until <= ?4",
        )
        .bind(name)
        .bind(owner)
        .bind(micros(until))
        .bind(micros(now))
        .execute(&self.pool)
        .await
        .map_err(db_err("taking a lease"))?
        .rows_affected();
        Ok(n == 1)
    }

    async fn release_lease(&self, name: &str, owner: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM leases WHERE name = ?1 AND owner = ?2")
            .bind(name)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(db_err("releasing a lease"))?;
        Ok(())
    }

    async fn lease_holder(&self, name: &str, now: DateTime<Utc>) -> StoreResult<Option<(String, DateTime<Utc>)>> {
        let row = sqlx::query("SELECT owner, until FROM leases WHERE name = ?1 AND until > ?2")
            .bind(name)
            .bind(micros(now))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("reading a lease"))?;
        Ok(row.map(|r| (r.get("owner"), from_micros(r.get("until")))))
    }
}
