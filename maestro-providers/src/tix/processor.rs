use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use maestro_core::{Clock, LeaseStore, OutboxStore, StorageError, SystemClock};
use maestro_tix::asn::{AsNames, AsResolver, Pfx2AsTable};
use maestro_tix::{DropReason, DroppedFile, Installation, ReportBody, TixError, delete_files, quarantine_file};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::config::{DroppedFiles, TixConfig};
use super::event::EventContext;

/// Why the processor could not run at all (per-installation problems are in the report).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TixProcessError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] maestro_core::ConfigErrors),
    /// The reports folder (or an AS table) cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An AS table is invalid.
    #[error(transparent)]
    Tix(#[from] TixError),
}

/// What happened to one installation in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum InstallationStatus {
    /// Processed until no batch was left.
    Processed,
    /// Another worker holds the installation's lease; nothing was touched.
    Skipped {
        /// The holder, if it could be read.
        holder: Option<String>,
    },
    /// Processing stopped early; what was recorded before stays recorded, the rest is retried
    /// by the next run (files are deleted only after their events are stored).
    Failed {
        /// Why.
        error: String,
    },
}

/// A batch (or a file) set aside with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantinedItem {
    /// The batch's idempotency key (`None` for a file that did not parse).
    pub key: Option<String>,
    /// The error, as recorded in the `tix.quarantined` event.
    pub reason: String,
    /// Stable error kind (`zero_width_bin`, `json`, `legacy_records`…).
    pub error_kind: String,
    /// Files moved to the quarantine folder (file names).
    pub files: Vec<String>,
}

/// A file the batch selection discarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedFileReport {
    /// File name.
    pub file: String,
    /// Records in it.
    pub records: usize,
    /// Why (host change or gap).
    pub reason: DropReason,
}

/// What one run did to one installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstallationReport {
    /// User id (directory name).
    pub user: String,
    /// Installation id (directory name).
    pub installation: String,
    /// Outcome.
    #[serde(flatten)]
    pub status: InstallationStatus,
    /// Idempotency keys of the `tix.result` events recorded (or found already recorded).
    pub results: Vec<String>,
    /// Batches and files quarantined.
    pub quarantined: Vec<QuarantinedItem>,
    /// Files discarded by the selection (deleted, or moved to `dropped/`).
    pub dropped: Vec<DroppedFileReport>,
    /// Report files consumed (deleted) after their batch was recorded.
    pub consumed_files: usize,
    /// Report files left waiting for more data.
    pub remaining_files: usize,
    /// Files that do not parse but are younger than `quarantine_grace_secs` (possibly still
    /// being written): left for the next run.
    pub unreadable_pending: usize,
}

impl InstallationReport {
    fn new(user: &str, installation: &str) -> Self {
        Self {
            user: user.into(),
            installation: installation.into(),
            status: InstallationStatus::Processed,
            results: Vec::new(),
            quarantined: Vec::new(),
            dropped: Vec::new(),
            consumed_files: 0,
            remaining_files: 0,
            unreadable_pending: 0,
        }
    }
}

/// What one [`TixProcessor::process_all`] run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessReport {
    /// This run's id (the `run_id` of its events).
    pub run_id: Uuid,
    /// The lease owner name of this processor.
    pub owner: String,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: DateTime<Utc>,
    /// One entry per installation folder found, in `(user, installation)` order.
    pub installations: Vec<InstallationReport>,
}

impl ProcessReport {
    /// `tix.result` events recorded.
    pub fn results(&self) -> usize {
        self.installations.iter().map(|i| i.results.len()).sum()
    }
    /// Batches and files quarantined.
    pub fn quarantined(&self) -> usize {
        self.installations.iter().map(|i| i.quarantined.len()).sum()
    }
    /// Files discarded by the selection.
    pub fn dropped_files(&self) -> usize {
        self.installations.iter().map(|i| i.dropped.len()).sum()
    }
    /// Installations skipped because another worker held their lease.
    pub fn skipped(&self) -> usize {
        self.installations.iter().filter(|i| matches!(i.status, InstallationStatus::Skipped { .. })).count()
    }
    /// Installations whose processing stopped early.
    pub fn failed(&self) -> usize {
        self.installations.iter().filter(|i| matches!(i.status, InstallationStatus::Failed { .. })).count()
    }
}

/// One selection step, computed off the async runtime.
struct Step {
    key: String,
    files: Vec<String>,
    consumed: Vec<PathBuf>,
    dropped: Vec<DroppedFile>,
    outcome: Result<ResultParts, (String, &'static str)>,
}

struct ResultParts {
    body: Value,
    raw: Value,
    batch: Value,
    localisation: Option<Value>,
}

struct Plan {
    steps: Vec<Step>,
    end_dropped: Vec<DroppedFile>,
    remaining: usize,
    rejected: Vec<(PathBuf, String, &'static str)>,
    unreadable_pending: usize,
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The TiX processor: turns the condenser's report files into `tix.result` events in the outbox.
///
/// For every `{base}/{user}/{installation}/` folder it takes the lease
/// `tix:{user}:{installation}` (skipping the installation when another worker holds it), runs
/// the reference select → analyse loop of `maestro-tix`, and for each batch **first** appends
/// the event (`tix.result`, or `tix.quarantined` when the analysis fails) and only **then**
/// deletes (or quarantines) the batch's consumed files. Event ids are UUID v5 of the batch's
/// idempotency key, so a batch recorded twice (a crash between the append and the deletion)
/// yields one event. See `docs/tix-processor.md`.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use maestro_providers::tix::{TixConfig, TixProcessor};
/// let store = maestro_store::SqliteStore::open("sqlite://tix.db").await?;
/// let processor = TixProcessor::new(TixConfig::from_env()?)?;
/// let report = processor.process_all(&store).await?;
/// println!("{} results, {} quarantined", report.results(), report.quarantined());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TixProcessor {
    config: TixConfig,
    owner: String,
    clock: Arc<dyn Clock>,
    resolver: Option<Arc<AsResolver>>,
}

impl TixProcessor {
    /// A processor for `config`; loads the AS tables when configured.
    ///
    /// # Errors
    /// An invalid configuration (every problem listed), or an unreadable / invalid AS table.
    pub fn new(config: TixConfig) -> Result<Self, TixProcessError> {
        let mut errors = maestro_core::ConfigErrors::new();
        config.validate("tix", &mut errors);
        let config = errors.into_result(config)?;
        let resolver = match &config.as_lookup {
            None => None,
            Some(t) => {
                let table = Pfx2AsTable::load(&t.pfx2as)?;
                let names = match &t.names {
                    Some(n) => AsNames::load(n)?,
                    None => AsNames::default(),
                };
                Some(Arc::new(AsResolver::new(table, names)))
            }
        };
        Ok(Self { config, owner: format!("tix-processor-{}", Uuid::new_v4()), clock: Arc::new(SystemClock), resolver })
    }

    /// Use `owner` as the lease owner name (default: `tix-processor-<uuid>`).
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = owner.into();
        self
    }

    /// Use `clock` for leases and event times.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The lease owner name.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The configuration.
    pub fn config(&self) -> &TixConfig {
        &self.config
    }

    /// The lease name of an installation: `tix:{user}:{installation}`.
    pub fn lease_name(user: &str, installation: &str) -> String {
        format!("tix:{user}:{installation}")
    }

    /// The `(user, installation, folder)` triples below the base path, sorted. Hidden folders
    /// are ignored.
    ///
    /// # Errors
    /// The base path (or a user folder) cannot be listed.
    pub fn discover(&self) -> Result<Vec<(String, String, PathBuf)>, TixProcessError> {
        let subdirs = |dir: &Path| -> Result<Vec<(String, PathBuf)>, TixProcessError> {
            let io = |source| TixProcessError::Io { path: dir.to_owned(), source };
            let mut out = Vec::new();
            for entry in std::fs::read_dir(dir).map_err(io)? {
                let entry = entry.map_err(io)?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') && entry.file_type().map_err(io)?.is_dir() {
                    out.push((name, entry.path()));
                }
            }
            out.sort();
            Ok(out)
        };
        let mut found = Vec::new();
        for (user, udir) in subdirs(&self.config.base_path)? {
            for (installation, idir) in subdirs(&udir)? {
                found.push((user.clone(), installation, idir));
            }
        }
        Ok(found)
    }

    /// Process every installation once (one run of the original `process_users_data`).
    ///
    /// # Errors
    /// Only when the base path cannot be listed; a failing installation is reported in its
    /// [`InstallationReport`] and the others are still processed.
    pub async fn process_all<S>(&self, store: &S) -> Result<ProcessReport, TixProcessError>
    where
        S: OutboxStore + LeaseStore + ?Sized,
    {
        let started_at = self.clock.now();
        let run_id = Uuid::new_v4();
        let mut installations = Vec::new();
        for (user, installation, dir) in self.discover()? {
            installations.push(self.process_dir(store, run_id, &user, &installation, dir).await);
        }
        Ok(ProcessReport {
            run_id,
            owner: self.owner.clone(),
            started_at,
            finished_at: self.clock.now(),
            installations,
        })
    }

    /// Process one installation `{base}/{user}/{installation}` (under its lease).
    pub async fn process_installation<S>(&self, store: &S, user: &str, installation: &str) -> InstallationReport
    where
        S: OutboxStore + LeaseStore + ?Sized,
    {
        let dir = self.config.base_path.join(user).join(installation);
        self.process_dir(store, Uuid::new_v4(), user, installation, dir).await
    }

    /// Run [`process_all`](Self::process_all) every `period_minutes` until `shutdown` resolves
    /// (the standalone mode of the original; with maestro's scheduler, call `process_all`).
    ///
    /// # Errors
    /// Only when the base path cannot be listed.
    pub async fn run<S>(
        &self,
        store: &S,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), TixProcessError>
    where
        S: OutboxStore + LeaseStore + ?Sized,
    {
        tokio::pin!(shutdown);
        loop {
            let report = self.process_all(store).await?;
            tracing::info!(
                results = report.results(),
                quarantined = report.quarantined(),
                dropped = report.dropped_files(),
                skipped = report.skipped(),
                failed = report.failed(),
                "tix processing run finished"
            );
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                _ = tokio::time::sleep(self.config.period()) => {}
            }
        }
    }

    async fn process_dir<S>(&self, store: &S, run_id: Uuid, user: &str, inst: &str, dir: PathBuf) -> InstallationReport
    where
        S: OutboxStore + LeaseStore + ?Sized,
    {
        let mut report = InstallationReport::new(user, inst);
        let lease = Self::lease_name(user, inst);
        match self.take_lease(store, &lease).await {
            Ok(true) => {}
            Ok(false) => {
                let holder = store.lease_holder(&lease, self.clock.now()).await.ok().flatten().map(|(h, _)| h);
                tracing::info!(user, installation = inst, ?holder, "installation leased by another worker; skipped");
                report.status = InstallationStatus::Skipped { holder };
                return report;
            }
            Err(e) => {
                report.status = InstallationStatus::Failed { error: format!("taking the lease: {e}") };
                return report;
            }
        }
        if let Err(error) = self.process_leased(store, run_id, user, inst, dir, &lease, &mut report).await {
            tracing::warn!(user, installation = inst, %error, "tix processing stopped early");
            report.status = InstallationStatus::Failed { error };
        }
        if let Err(e) = store.release_lease(&lease, &self.owner).await {
            tracing::warn!(lease, error = %e, "releasing the lease failed (it expires by itself)");
        }
        report
    }

    async fn take_lease<S>(&self, store: &S, lease: &str) -> Result<bool, StorageError>
    where
        S: LeaseStore + ?Sized,
    {
        let now = self.clock.now();
        let until = now + chrono::Duration::seconds(self.config.lease_secs as i64);
        store.try_lease(lease, &self.owner, now, until).await
    }

    /// Renew the lease before touching the store or the files again; stop if it was lost
    /// (expired during a long analysis and taken by another worker).
    async fn renew<S>(&self, store: &S, lease: &str) -> Result<(), String>
    where
        S: LeaseStore + ?Sized,
    {
        if self.take_lease(store, lease).await.map_err(|e| format!("renewing the lease: {e}"))? {
            Ok(())
        } else {
            Err("the lease was lost (expired and taken by another worker)".into())
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn process_leased<S>(
        &self,
        store: &S,
        run_id: Uuid,
        user: &str,
        inst: &str,
        dir: PathBuf,
        lease: &str,
        report: &mut InstallationReport,
    ) -> Result<(), String>
    where
        S: OutboxStore + LeaseStore + ?Sized,
    {
        let plan = {
            let config = self.config.clone();
            let resolver = self.resolver.clone();
            let dir = dir.clone();
            let (u, i) = (user.to_owned(), inst.to_owned());
            tokio::task::spawn_blocking(move || plan(&dir, &u, &i, &config, resolver.as_deref()))
                .await
                .map_err(|e| format!("analysis task failed: {e}"))??
        };
        self.renew(store, lease).await?;
        let ctx = EventContext { tenant: &self.config.tenant, user, installation: inst, run_id, at: self.clock.now() };
        let quarantine_dir = dir.join(&self.config.quarantine_dir);
        let dispose = self.config.dispose_files;

        // Files that do not parse never enter a batch: record them, then move them aside.
        for (path, reason, kind) in &plan.rejected {
            let name = file_name(path);
            let files = vec![name.clone()];
            let event = ctx.quarantined(&format!("rejected:{user}:{inst}:{name}"), None, reason, kind, &files);
            store.append_events(&[event]).await.map_err(|e| format!("recording a rejected file: {e}"))?;
            if dispose {
                quarantine_file(path, &quarantine_dir).map_err(|e| e.to_string())?;
            }
            report.quarantined.push(QuarantinedItem {
                key: None,
                reason: reason.clone(),
                error_kind: (*kind).into(),
                files,
            });
        }

        for step in &plan.steps {
            self.renew(store, lease).await?;
            let mut events = Vec::with_capacity(2);
            if let Some(e) = self.dropped_event(&ctx, &step.dropped) {
                events.push(e);
            }
            match &step.outcome {
                Ok(parts) => events.push(ctx.result(
                    &step.key,
                    parts.body.clone(),
                    parts.raw.clone(),
                    parts.batch.clone(),
                    parts.localisation.clone(),
                )),
                Err((reason, kind)) => {
                    events.push(ctx.quarantined(&step.key, Some(&step.key), reason, kind, &step.files))
                }
            }
            // Record first (one transaction) …
            store.append_events(&events).await.map_err(|e| format!("recording batch {}: {e}", step.key))?;
            // … then dispose of the files.
            if dispose {
                self.dispose_dropped(&dir, &step.dropped)?;
                match &step.outcome {
                    Ok(_) => delete_files(step.consumed.iter().map(PathBuf::as_path)).map_err(|e| e.to_string())?,
                    Err(_) => {
                        for p in &step.consumed {
                            quarantine_file(p, &quarantine_dir).map_err(|e| e.to_string())?;
                        }
                    }
                }
            }
            report.dropped.extend(step.dropped.iter().map(dropped_report));
            match &step.outcome {
                Ok(_) => {
                    report.results.push(step.key.clone());
                    report.consumed_files += step.consumed.len();
                }
                Err((reason, kind)) => report.quarantined.push(QuarantinedItem {
                    key: Some(step.key.clone()),
                    reason: reason.clone(),
                    error_kind: (*kind).into(),
                    files: step.consumed.iter().map(|p| file_name(p)).collect(),
                }),
            }
        }

        if let Some(e) = self.dropped_event(&ctx, &plan.end_dropped) {
            self.renew(store, lease).await?;
            store.append_events(&[e]).await.map_err(|e| format!("recording dropped files: {e}"))?;
            if dispose {
                self.dispose_dropped(&dir, &plan.end_dropped)?;
            }
            report.dropped.extend(plan.end_dropped.iter().map(dropped_report));
        }
        report.remaining_files = plan.remaining;
        report.unreadable_pending = plan.unreadable_pending;
        Ok(())
    }

    fn dropped_event(&self, ctx: &EventContext<'_>, dropped: &[DroppedFile]) -> Option<maestro_core::Event> {
        let first = dropped.first()?;
        let files: Vec<Value> = dropped
            .iter()
            .map(|d| json!({"file": file_name(&d.path), "records": d.records, "reason": d.reason}))
            .collect();
        let name = format!("{}:{}:{}:{}", ctx.user, ctx.installation, file_name(&first.path), dropped.len());
        Some(ctx.dropped(&name, Value::Array(files)))
    }

    fn dispose_dropped(&self, dir: &Path, dropped: &[DroppedFile]) -> Result<(), String> {
        match self.config.dropped_files {
            DroppedFiles::Delete => delete_files(dropped.iter().map(|d| d.path.as_path())).map_err(|e| e.to_string()),
            DroppedFiles::Keep => {
                for d in dropped {
                    quarantine_file(&d.path, &dir.join("dropped")).map_err(|e| e.to_string())?;
                }
                Ok(())
            }
        }
    }
}

fn dropped_report(d: &DroppedFile) -> DroppedFileReport {
    DroppedFileReport { file: file_name(&d.path), records: d.records, reason: d.reason.clone() }
}

/// The idempotency key of a batch of the folder `{user}/{inst}`:
/// `tix:{user}:{installation}:{first_ts}-{last_ts}` (the format of
/// [`maestro_tix::idempotency_key`]), keyed by the folder — the installation the result is posted
/// to — rather than by the ids written inside the files, so two folders never share a key.
fn batch_key(user: &str, inst: &str, batch: &maestro_tix::Batch) -> String {
    let (first, last) = batch.time_range();
    if batch.user_id.to_string() != user || batch.installation_id.to_string() != inst {
        tracing::warn!(
            user,
            installation = inst,
            file_user = batch.user_id,
            file_installation = batch.installation_id,
            "report files name another user/installation than their folder; the folder wins"
        );
    }
    match (user.parse::<i64>(), inst.parse::<i64>()) {
        (Ok(u), Ok(i)) => maestro_tix::idempotency_key(u, i, first, last),
        _ => format!("tix:{user}:{inst}:{first}-{last}"),
    }
}

/// Parse, select and analyse one installation folder (blocking; runs on the blocking pool).
fn plan(
    dir: &Path,
    user: &str,
    installation: &str,
    config: &TixConfig,
    resolver: Option<&AsResolver>,
) -> Result<Plan, String> {
    let inst = Installation::open(dir).map_err(|e| e.to_string())?;
    let grace = std::time::Duration::from_secs(config.quarantine_grace_secs);
    let old_enough = |p: &Path| {
        std::fs::metadata(p).and_then(|m| m.modified()).map_or(true, |t| t.elapsed().is_ok_and(|age| age >= grace))
    };
    let (rejected, young): (Vec<_>, Vec<_>) = inst.rejected().iter().partition(|r| old_enough(&r.path));
    let rejected = rejected.iter().map(|r| (r.path.clone(), r.error.to_string(), r.error.kind())).collect();
    let mut batches = inst.select_batches(&config.selection);
    let mut steps = Vec::new();
    for sel in batches.by_ref() {
        let batch = &sel.batch;
        let key = batch_key(user, installation, batch);
        let outcome = match maestro_tix::analyse_with(batch, &config.analysis) {
            Ok(result) => {
                let body = ReportBody::new(&result, batch.host().to_string(), config.usage.into());
                let (first_ts, last_ts) = batch.time_range();
                let localisation = match (resolver, batch.host().ip()) {
                    (Some(r), Some(ip)) => serde_json::to_value(r.resolve(ip)).ok(),
                    (Some(_), None) => Some(json!({"kind": "unknown", "reason": "host_name"})),
                    (None, _) => None,
                };
                Ok(ResultParts {
                    body: serde_json::to_value(&body).map_err(|e| e.to_string())?,
                    raw: json!({"up_usage": result.upstream.usage, "down_usage": result.downstream.usage}),
                    batch: json!({
                        "files": batch.files.len(),
                        "first_file": batch.files.first().map(|p| file_name(p)),
                        "last_file": batch.files.last().map(|p| file_name(p)),
                        "observations": sel.observation_count,
                        "short_observations": result.diagnostics.n_short,
                        "first_timestamp": first_ts,
                        "last_timestamp": last_ts,
                    }),
                    localisation,
                })
            }
            Err(e) => Err((e.to_string(), e.kind())),
        };
        steps.push(Step {
            key,
            files: batch.files.iter().map(|p| file_name(p)).collect(),
            consumed: sel.consumed.clone(),
            dropped: sel.dropped.clone(),
            outcome,
        });
    }
    let end = batches.finish();
    Ok(Plan {
        steps,
        end_dropped: end.dropped,
        remaining: end.remaining.len(),
        rejected,
        unreadable_pending: young.len(),
    })
}
