//! The pipeline: one run of a provider through translation, batched upserts, tracking and the
//! end-of-scope sweep.
//!
//! Memory is bounded by `scope_concurrency × (one page + batch_size drafts)`, plus the seen-set
//! (16 bytes per resource): a crawl of a million resources is never held in memory.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checksum::checksum_of;
use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigErrors, Error, ProviderError};
use crate::layers::{RetryPolicy, retry, with_timeout};
use crate::model::{PreparedResource, Scope};
use crate::provider::{Cursor, Provider};
use crate::repository::{ChangeSet, Repository, SweepOutcome, SweepRequest, UpsertBatch};
use crate::tracker::{SeenSet, SweepPolicy, Tracker};
use crate::translator::Translator;

/// Pipeline settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Resources written per transaction.
    pub batch_size: usize,
    /// Scopes crawled at the same time.
    pub scope_concurrency: usize,
    /// Time limit of one page fetch (milliseconds in config files).
    #[serde(with = "secs")]
    pub page_timeout: Duration,
    /// Retries of page fetches and of storage writes.
    pub retry: RetryPolicy,
    /// Deactivation grace.
    pub sweep: SweepPolicy,
    /// Item errors kept verbatim per scope (all are counted).
    pub max_reported_item_errors: usize,
}

mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        if !(v.is_finite() && v > 0.0) {
            return Err(serde::de::Error::custom("page_timeout must be a positive number of seconds"));
        }
        Ok(Duration::from_secs_f64(v))
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            scope_concurrency: 4,
            page_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            sweep: SweepPolicy::default(),
            max_reported_item_errors: 100,
        }
    }
}

impl PipelineConfig {
    /// Check every field; report all problems at once, with `prefix` as the field path.
    pub fn validate(&self, prefix: &str, errors: &mut ConfigErrors) {
        if self.batch_size == 0 || self.batch_size > 50_000 {
            errors.push(format!("{prefix}.batch_size"), format!("must be 1..=50000, got {}", self.batch_size));
        }
        if self.scope_concurrency == 0 || self.scope_concurrency > 256 {
            errors.push(
                format!("{prefix}.scope_concurrency"),
                format!("must be 1..=256, got {}", self.scope_concurrency),
            );
        }
        if self.retry.max_attempts == 0 {
            errors.push(format!("{prefix}.retry.max_attempts"), "must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.retry.jitter) {
            errors.push(format!("{prefix}.retry.jitter"), format!("must be within 0..=1, got {}", self.retry.jitter));
        }
    }
}

/// How a scope ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeOutcome {
    /// Every page fetched and every item translated and stored: the sweep ran.
    Complete,
    /// All pages fetched, but some items could not be read or translated: nothing deactivated.
    Partial,
    /// A page or a write failed after retries: nothing deactivated.
    Failed,
}

/// The report of one scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeReport {
    /// Which scope.
    pub scope: Scope,
    /// How it ended.
    pub outcome: ScopeOutcome,
    /// The error that failed it.
    pub error: Option<String>,
    /// Item errors (first `max_reported_item_errors`), each naming the item and the reason.
    pub item_errors: Vec<String>,
    /// Item errors in all.
    pub item_error_count: u64,
    /// Pages fetched.
    pub pages: u64,
    /// Raw items read.
    pub items: u64,
    /// Distinct resources seen.
    pub seen: u64,
    /// What the writes did.
    pub changes: ChangeCounts,
    /// What the sweep did (complete scopes only).
    pub sweep: Option<SweepOutcome>,
    /// The scope completed with zero resources (everything in it was deactivated).
    pub empty: bool,
}

/// Counts of a change set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCounts {
    /// Created.
    pub created: u64,
    /// Updated.
    pub updated: u64,
    /// Unchanged.
    pub unchanged: u64,
    /// Reactivated.
    pub reactivated: u64,
}

impl ChangeCounts {
    fn add(&mut self, c: &ChangeSet) {
        self.created += c.created;
        self.updated += c.updated;
        self.unchanged += c.unchanged;
        self.reactivated += c.reactivated;
    }
}

/// Overall status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every scope complete.
    Complete,
    /// Some scopes partial or failed.
    Partial,
    /// Every scope failed (or the scopes could not be listed).
    Failed,
}

/// Totals over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStats {
    /// Pages fetched.
    pub pages: u64,
    /// Raw items read.
    pub items: u64,
    /// Writes.
    pub changes: ChangeCounts,
    /// Deactivated by sweeps.
    pub deactivated: u64,
    /// Missing within grace.
    pub missed: u64,
    /// Item errors.
    pub item_errors: u64,
    /// Scopes that completed empty.
    pub empty_scopes: u64,
}

/// The report of one run, stored by [`Repository::record_run`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Run id (UUID v7: sortable by start time).
    pub run_id: Uuid,
    /// Tenant.
    pub tenant: String,
    /// Connection.
    pub connection: String,
    /// Provider name.
    pub provider: String,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: DateTime<Utc>,
    /// Overall status.
    pub status: RunStatus,
    /// Error that prevented any scope from running (listing scopes failed).
    pub error: Option<String>,
    /// Per-scope reports.
    pub scopes: Vec<ScopeReport>,
    /// Totals.
    pub stats: RunStats,
}

/// Progress callbacks (for progress bars and live events). Every method has a no-op default.
pub trait RunObserver: Send + Sync {
    /// A run is about to crawl `scopes`.
    fn run_started(&self, _run_id: Uuid, _scopes: &[Scope]) {}
    /// A page of `items` raw items was processed in `scope`.
    fn page_done(&self, _scope: &Scope, _items: usize) {}
    /// A scope ended.
    fn scope_done(&self, _report: &ScopeReport) {}
}

/// A [`RunObserver`] that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;
impl RunObserver for NoObserver {}

/// What to run: a provider and its translator for one tenant and connection.
pub struct RunJob<'a> {
    /// Tenant.
    pub tenant: &'a str,
    /// Connection.
    pub connection: &'a str,
    /// The source.
    pub provider: &'a dyn Provider,
    /// Its translator.
    pub translator: &'a dyn Translator,
}

/// The batch being written in the background, with its items (returned for seen-marking).
type InFlight = Option<tokio::task::JoinHandle<(Result<ChangeSet, String>, Vec<PreparedResource>)>>;

/// Drives runs against a repository.
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use maestro_core::testing::{MemoryRepository, StaticProvider, PassThroughTranslator};
/// use maestro_core::{Pipeline, RunJob, RunStatus};
/// let repo = std::sync::Arc::new(MemoryRepository::new());
/// let provider = StaticProvider::single("t1", "c1", "servers", vec![
///     serde_json::json!({"kind": "server", "id": "i-1", "name": "web"}),
/// ]);
/// let report = tokio::runtime::Runtime::new().unwrap().block_on(
///     Pipeline::new(repo.clone()).run(RunJob { tenant: "t1", connection: "c1",
///         provider: &provider, translator: &PassThroughTranslator }, &maestro_core::NoObserver));
/// assert_eq!(report.status, RunStatus::Complete);
/// assert_eq!(report.stats.changes.created, 1);
/// # }
/// ```
pub struct Pipeline {
    repo: Arc<dyn Repository>,
    config: PipelineConfig,
    clock: Arc<dyn Clock>,
    run_id: Option<Uuid>,
}

impl Pipeline {
    /// A pipeline with the default configuration and the system clock.
    pub fn new(repo: Arc<dyn Repository>) -> Self {
        Self { repo, config: PipelineConfig::default(), clock: Arc::new(SystemClock), run_id: None }
    }
    /// Record the run under `run_id` instead of a fresh time-ordered id (a scheduled job passes
    /// its own run id, so every delivery of one slot is the same run and a redelivered job can
    /// see with `Repository::get_run` that the run is already recorded).
    pub fn with_run_id(mut self, run_id: Uuid) -> Self {
        self.run_id = Some(run_id);
        self
    }
    /// Use `config`.
    pub fn with_config(mut self, config: PipelineConfig) -> Self {
        self.config = config;
        self
    }
    /// Use `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// The configuration.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Run `job` once and store its report. Never panics on bad input; every failure is in the
    /// report. The `Err` case is only for a failure to store the report itself.
    pub async fn run_and_record(&self, job: RunJob<'_>, observer: &dyn RunObserver) -> Result<RunReport, Error> {
        let report = self.run(job, observer).await;
        let repo = &self.repo;
        retry(&self.config.retry, |_| repo.record_run(&report)).await?;
        Ok(report)
    }

    /// Run `job` once and return its report (not stored; see [`run_and_record`](Self::run_and_record)).
    pub async fn run(&self, job: RunJob<'_>, observer: &dyn RunObserver) -> RunReport {
        let run_id = self.run_id.unwrap_or_else(Uuid::now_v7);
        let started_at = self.clock.now();
        let provider = job.provider;
        let listed = retry(&self.config.retry, |_| {
            with_timeout(self.config.page_timeout, provider.scopes(), || {
                ProviderError::transient(format!("listing scopes timed out after {:?}", self.config.page_timeout))
            })
        })
        .await;
        let mut report = RunReport {
            run_id,
            tenant: job.tenant.to_string(),
            connection: job.connection.to_string(),
            provider: provider.name().to_string(),
            started_at,
            finished_at: started_at,
            status: RunStatus::Failed,
            error: None,
            scopes: Vec::new(),
            stats: RunStats::default(),
        };
        let scopes = match listed {
            Ok(s) => s,
            Err(e) => {
                report.error = Some(format!("listing scopes of provider `{}` failed: {e}", provider.name()));
                report.finished_at = self.clock.now();
                return report;
            }
        };
        if let Some(bad) = scopes.iter().find(|s| s.tenant != job.tenant || s.connection != job.connection) {
            report.error = Some(format!(
                "provider `{}` returned scope {bad} outside tenant `{}` / connection `{}`",
                provider.name(),
                job.tenant,
                job.connection
            ));
            report.finished_at = self.clock.now();
            return report;
        }
        observer.run_started(run_id, &scopes);
        let mut reports: Vec<ScopeReport> = futures::stream::iter(scopes.into_iter())
            .map(|scope| self.run_scope(run_id, started_at, scope, &job, observer))
            .buffer_unordered(self.config.scope_concurrency.max(1))
            .collect()
            .await;
        reports.sort_by(|a, b| a.scope.cmp(&b.scope));
        for r in &reports {
            let s = &mut report.stats;
            s.pages += r.pages;
            s.items += r.items;
            s.item_errors += r.item_error_count;
            s.changes.created += r.changes.created;
            s.changes.updated += r.changes.updated;
            s.changes.unchanged += r.changes.unchanged;
            s.changes.reactivated += r.changes.reactivated;
            if let Some(sw) = &r.sweep {
                s.deactivated += sw.deactivated;
                s.missed += sw.missed;
                s.changes.reactivated += sw.reactivated;
            }
            s.empty_scopes += u64::from(r.empty);
        }
        report.status = if reports.is_empty() || reports.iter().all(|r| r.outcome == ScopeOutcome::Complete) {
            RunStatus::Complete
        } else if reports.iter().all(|r| r.outcome == ScopeOutcome::Failed) {
            RunStatus::Failed
        } else {
            RunStatus::Partial
        };
        report.scopes = reports;
        report.finished_at = self.clock.now();
        report
    }

    async fn run_scope(
        &self,
        run_id: Uuid,
        run_started: DateTime<Utc>,
        scope: Scope,
        job: &RunJob<'_>,
        observer: &dyn RunObserver,
    ) -> ScopeReport {
        let mut rep = ScopeReport {
            scope: scope.clone(),
            outcome: ScopeOutcome::Complete,
            error: None,
            item_errors: Vec::new(),
            item_error_count: 0,
            pages: 0,
            items: 0,
            seen: 0,
            changes: ChangeCounts::default(),
            sweep: None,
            empty: false,
        };
        let local = scope.local_key();
        let span = tracing::info_span!("scope", %scope, %run_id);
        let _enter = span.enter();
        let mut seen = SeenSet::new();
        let mut buffer: Vec<PreparedResource> = Vec::with_capacity(self.config.batch_size);
        let mut writer: InFlight = None;
        let mut cursor: Option<Cursor> = None;
        let volatile = job.translator.volatile_keys();
        let salt = job.translator.version();
        let mut item_errors = 0u64;
        loop {
            let provider = job.provider;
            let c = cursor.clone();
            let page = retry(&self.config.retry, |attempt| {
                let c = c.clone();
                let scope = &scope;
                async move {
                    if attempt > 1 {
                        tracing::warn!(attempt, "retrying page fetch");
                    }
                    with_timeout(self.config.page_timeout, provider.fetch_page(scope, c.as_ref()), || {
                        ProviderError::transient(format!("page fetch timed out after {:?}", self.config.page_timeout))
                    })
                    .await
                }
            })
            .await;
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    let at = cursor
                        .as_deref()
                        .map_or_else(|| "the first page".to_string(), |c| format!("page at cursor `{c}`"));
                    rep.error = Some(format!("fetching {at} failed: {e}"));
                    rep.outcome = ScopeOutcome::Failed;
                    break;
                }
            };
            rep.pages += 1;
            rep.items += page.items.len() as u64;
            for bad in page.bad_items {
                item_errors += 1;
                if rep.item_errors.len() < self.config.max_reported_item_errors {
                    rep.item_errors.push(format!("scope {scope}: {bad}"));
                }
            }
            for (i, item) in page.items.iter().enumerate() {
                match job.translator.translate(&scope, item) {
                    Ok(drafts) => {
                        if drafts.is_empty() {
                            continue;
                        }
                        let checksum = checksum_of(item, volatile, salt);
                        for d in drafts {
                            buffer.push(PreparedResource {
                                kind: d.kind,
                                native_id: d.native_id,
                                doc: d.doc,
                                checksum,
                            });
                        }
                    }
                    Err(e) => {
                        item_errors += 1;
                        if rep.item_errors.len() < self.config.max_reported_item_errors {
                            rep.item_errors.push(format!("scope {scope}, page {}, item #{i}: {e}", rep.pages));
                        }
                    }
                }
                if buffer.len() >= self.config.batch_size {
                    if let Err(e) = self.flush(job, &local, run_id, &mut buffer, &mut writer, &mut seen, &mut rep).await
                    {
                        rep.error = Some(e);
                        rep.outcome = ScopeOutcome::Failed;
                        break;
                    }
                }
            }
            if rep.outcome == ScopeOutcome::Failed {
                break;
            }
            observer.page_done(&scope, page.items.len());
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        if rep.outcome != ScopeOutcome::Failed {
            if let Err(e) = self.flush(job, &local, run_id, &mut buffer, &mut writer, &mut seen, &mut rep).await {
                rep.error = Some(e);
                rep.outcome = ScopeOutcome::Failed;
            }
        }
        // The last batch (or the one in flight when the scope failed) must be accounted for.
        if let Err(e) = Self::settle(&mut writer, &mut seen, &mut rep).await {
            if rep.outcome != ScopeOutcome::Failed {
                rep.error = Some(e);
                rep.outcome = ScopeOutcome::Failed;
            }
        }
        rep.item_error_count = item_errors;
        rep.seen = seen.seen_count();
        if rep.outcome == ScopeOutcome::Complete && item_errors > 0 {
            rep.outcome = ScopeOutcome::Partial;
        }
        if rep.outcome == ScopeOutcome::Complete {
            let repo = &self.repo;
            let now = self.clock.now();
            let sweep = retry(&self.config.retry, |_| {
                repo.complete_scope(SweepRequest {
                    scope: &scope,
                    run_id,
                    run_started,
                    at: now,
                    seen: &seen,
                    policy: self.config.sweep,
                })
            })
            .await;
            match sweep {
                Ok(s) => {
                    rep.empty = rep.seen == 0;
                    if rep.empty {
                        tracing::warn!(
                            deactivated = s.deactivated,
                            "scope completed with no resources: everything in it is deactivated"
                        );
                    }
                    rep.sweep = Some(s);
                }
                Err(e) => {
                    rep.error = Some(format!("completing the scope failed: {e}"));
                    rep.outcome = ScopeOutcome::Failed;
                }
            }
        } else {
            tracing::warn!(outcome = ?rep.outcome, error = ?rep.error, item_errors, "scope not complete: nothing deactivated");
        }
        observer.scope_done(&rep);
        rep
    }

    /// Hand the buffer to the writer: waits for the previous batch (at most one in flight, so
    /// translation of the next batch overlaps the database write of this one), then starts
    /// writing this one.
    async fn flush(
        &self,
        job: &RunJob<'_>,
        scope: &str,
        run_id: Uuid,
        buffer: &mut Vec<PreparedResource>,
        writer: &mut InFlight,
        seen: &mut SeenSet,
        rep: &mut ScopeReport,
    ) -> Result<(), String> {
        Self::settle(writer, seen, rep).await?;
        if buffer.is_empty() {
            return Ok(());
        }
        let items = std::mem::replace(buffer, Vec::with_capacity(self.config.batch_size));
        let repo = self.repo.clone();
        let policy = self.config.retry;
        let (tenant, connection, scope) = (job.tenant.to_string(), job.connection.to_string(), scope.to_string());
        let at = self.clock.now();
        *writer = Some(tokio::spawn(async move {
            let result = retry(&policy, |_| {
                repo.upsert_batch(UpsertBatch {
                    tenant: &tenant,
                    connection: &connection,
                    scope: &scope,
                    run_id,
                    at,
                    items: &items,
                })
            })
            .await
            .map_err(|e| format!("writing a batch of {} resources failed: {e}", items.len()));
            (result, items)
        }));
        Ok(())
    }

    /// Wait for the batch in flight, if any, and account for it.
    async fn settle(writer: &mut InFlight, seen: &mut SeenSet, rep: &mut ScopeReport) -> Result<(), String> {
        let Some(handle) = writer.take() else { return Ok(()) };
        let (result, items) = handle.await.map_err(|e| format!("the batch writer stopped: {e}"))?;
        let cs = result?;
        rep.changes.add(&cs);
        for it in &items {
            seen.mark_seen(&it.kind, &it.native_id);
        }
        Ok(())
    }
}
