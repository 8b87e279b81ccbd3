//! The long-running modes of the `maestro` binary: `serve` (HTTP + beat + in-process workers),
//! `beat` (fires schedules only) and `worker` (runs jobs only).
//!
//! - [`RuntimeConfig`] — the config file (the `maestro run` keys plus schedules, server
//!   settings and the TiX processor).
//! - [`Runtime`] — the shared state: config, store, live [`EventHub`], node id.
//! - [`registry`] — the job kinds (`crawl`, `graph`, `outbox.relay`, `tix.process`); adding a
//!   kind is one `.with(...)` line there.
//! - [`serve`], [`beat`], [`worker`] — the modes; each stops on SIGINT/SIGTERM (beat first,
//!   then in-flight jobs get [`ServerSettings::shutdown_grace`] to finish).
//!
//! Queues: `serve` always uses the store-backed queue. `beat` and `worker` use RabbitMQ when
//! `MAESTRO_BROKER_URL` (or `CELERY_BROKER_URL`) is set, the store otherwise.

pub mod cli;
pub mod config;
pub mod events;
pub mod jobs;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use maestro_core::scheduler::{
    Beat, BeatConfig, JobContext, JobError, JobQueue, JobRegistry, QueueConfig, RabbitConfig, RabbitQueue, StoreQueue,
    Worker, WorkerConfig,
};
use maestro_core::{Clock, OutboxCursor, SystemClock};
use serde_json::json;
use tokio::sync::watch;

pub use config::{RuntimeConfig, ScheduleEntry, ServerSettings};
pub use events::{EventHub, HubObserver};

/// A store the runtime can use: repository, outbox, leases, scheduler, sites and the API's
/// tables (either backend).
pub trait RuntimeStore: maestro_store::AnyStore {}
impl<T: maestro_store::AnyStore + ?Sized> RuntimeStore for T {}

/// Open `url` (`sqlite://file` or `postgres://…`). On PostgreSQL, `schema` (if given) is
/// created and used for every table (as the tests do: one schema per test).
///
/// # Errors
/// As [`maestro_store::open`].
pub async fn open_store(url: &str, schema: Option<&str>) -> Result<Arc<dyn RuntimeStore>, maestro_core::StorageError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(maestro_store::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(maestro_store::PostgresStore::open_in_schema(url, schema).await?))
    } else {
        let scheme = url.split(':').next().unwrap_or("");
        Err(maestro_core::StorageError::Invalid(format!(
            "unknown database URL scheme `{scheme}`: use sqlite://<file> or postgres://…"
        )))
    }
}

/// What every mode shares.
pub struct Runtime {
    /// The configuration.
    pub config: Arc<RuntimeConfig>,
    /// The store.
    pub store: Arc<dyn RuntimeStore>,
    /// Live messages for `/events`.
    pub hub: EventHub,
    /// This process's id among beats and workers (`MAESTRO_NODE_ID`, else host-pid).
    pub node_id: String,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("node_id", &self.node_id).field("config", &self.config).finish_non_exhaustive()
    }
}

impl Runtime {
    /// A runtime over an open store.
    pub fn new(config: RuntimeConfig, store: Arc<dyn RuntimeStore>) -> Self {
        Self { config: Arc::new(config), store, hub: EventHub::default(), node_id: node_id() }
    }

    /// Upsert the configured schedules (and the default ones) into the store; returns how many.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn sync_schedules(&self) -> Result<usize> {
        let all = self.config.all_schedules();
        for s in &all {
            self.store.upsert_schedule(s).await.with_context(|| format!("storing schedule `{}`", s.name))?;
        }
        Ok(all.len())
    }
}

/// This process's id: `MAESTRO_NODE_ID`, else `<host>-<pid>`.
pub fn node_id() -> String {
    std::env::var("MAESTRO_NODE_ID").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!("{host}-{}", std::process::id())
    })
}

/// A file name made of `[A-Za-z0-9._-]` only (others become `_`; no leading dot), so an id can
/// never name a path outside its directory.
pub fn safe_file_name(id: &str) -> String {
    let s: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "graph".into() } else { s }
}

/// Wrap a summary-returning handler: the worker journal (one line per finished attempt on
/// stdout, `job <id> <kind> attempt <n> ok|error: <summary>`) and a `job.finished` hub message.
fn journaled<F, Fut>(rt: &Arc<Runtime>, kind: &'static str, f: F) -> impl maestro_core::scheduler::JobHandler + 'static
where
    F: Fn(Arc<Runtime>, JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, JobError>> + Send + 'static,
{
    let rt = rt.clone();
    move |ctx: JobContext| {
        let (id, attempt, tenant) = (ctx.job.id.clone(), ctx.job.attempts, ctx.job.tenant.clone());
        let hub = rt.hub.clone();
        let fut = f(rt.clone(), ctx);
        async move {
            let result = fut.await;
            let (outcome, text) = match &result {
                Ok(s) => ("ok", s.clone()),
                Err(e) => ("error", e.message.clone()),
            };
            println!("job {id} {kind} attempt {attempt} {outcome}: {text}");
            hub.publish(json!({"kind": "job.finished", "tenant": tenant, "job": id, "job_kind": kind,
                "attempt": attempt, "outcome": outcome, "summary": text, "at": chrono::Utc::now()}));
            result.map(|_| ())
        }
    }
}

/// The job kinds this binary runs. Adding a kind is one line here.
pub fn registry(rt: &Arc<Runtime>) -> JobRegistry {
    JobRegistry::new()
        .with("crawl", journaled(rt, "crawl", jobs::crawl))
        .with("graph", journaled(rt, "graph", jobs::graph))
        .with("outbox.relay", journaled(rt, "outbox.relay", jobs::outbox_relay))
        .with("tix.process", journaled(rt, "tix.process", jobs::tix_process))
        .with("site.check", journaled(rt, "site.check", jobs::site_check))
}

/// Resolves when the process gets SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown requested");
}

/// A shutdown flag many tasks can wait on.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    /// A flag set when `signal` resolves, and its trigger task.
    pub fn on(signal: impl Future<Output = ()> + Send + 'static) -> Self {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            signal.await;
            let _ = tx.send(true);
        });
        Self { rx }
    }

    /// Resolves once shutdown was requested.
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|v| *v).await;
    }

    /// Whether shutdown was requested.
    pub fn requested(&self) -> bool {
        *self.rx.borrow()
    }
}

/// Options of the modes that the command line and environment set.
#[derive(Debug, Clone)]
pub struct ModeOptions {
    /// In-process workers (`serve`, `worker`).
    pub workers: usize,
    /// Beat tick.
    pub tick: Duration,
    /// Beat lease TTL (failover time ≤ lease_ttl + tick).
    pub lease_ttl: Duration,
    /// Idle workers' poll interval.
    pub poll_interval: Duration,
    /// The RabbitMQ work queue name (`MAESTRO_QUEUE`, default `maestro.jobs`).
    pub queue_name: String,
    /// `serve` only: no beat, no workers (the page and websocket next to separate beats/workers).
    pub web_only: bool,
}

impl ModeOptions {
    /// Defaults from `settings`.
    pub fn from_settings(settings: &ServerSettings) -> Self {
        Self {
            workers: settings.workers,
            tick: BeatConfig::default().tick,
            lease_ttl: BeatConfig::default().lease_ttl,
            poll_interval: WorkerConfig::default().poll_interval,
            queue_name: std::env::var("MAESTRO_QUEUE")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "maestro.jobs".into()),
            web_only: false,
        }
    }
}

/// The broker URL from `MAESTRO_BROKER_URL` or `CELERY_BROKER_URL`, if set.
pub fn broker_url() -> Option<String> {
    std::env::var("MAESTRO_BROKER_URL")
        .or_else(|_| std::env::var("CELERY_BROKER_URL"))
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// The queue of `beat`/`worker`: RabbitMQ if a broker URL is set, else the store.
///
/// # Errors
/// The broker is unreachable.
pub async fn open_queue(rt: &Runtime, opts: &ModeOptions) -> Result<Arc<dyn JobQueue>> {
    match broker_url() {
        Some(url) => {
            let config = RabbitConfig { url, queue: opts.queue_name.clone(), retry: QueueConfig::default().retry };
            let q = RabbitQueue::connect(config).await.context("connecting to RabbitMQ")?;
            tracing::info!(queue = %opts.queue_name, "jobs go through RabbitMQ");
            Ok(Arc::new(q))
        }
        None => Ok(store_queue(rt)),
    }
}

fn store_queue(rt: &Runtime) -> Arc<dyn JobQueue> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Keep redelivery after a dead worker above the job time limit.
    let qc = QueueConfig {
        visibility_timeout: rt.config.server.time_limit() + Duration::from_secs(5 * 60),
        ..QueueConfig::default()
    };
    Arc::new(StoreQueue::new(rt.store.clone(), clock, qc))
}

fn beat_of(rt: &Runtime, queue: Arc<dyn JobQueue>, opts: &ModeOptions) -> Beat<dyn RuntimeStore> {
    let config = BeatConfig { tick: opts.tick, lease_ttl: opts.lease_ttl, ..BeatConfig::default() };
    Beat::new(&format!("beat-{}", rt.node_id), rt.store.clone(), queue, Arc::new(SystemClock), config)
}

/// Start `n` worker tasks; they stop taking jobs when `shutdown` is requested and finish the one
/// they run.
fn spawn_workers(
    rt: &Arc<Runtime>,
    queue: Arc<dyn JobQueue>,
    opts: &ModeOptions,
    shutdown: &Shutdown,
) -> tokio::task::JoinSet<()> {
    let registry = Arc::new(registry(rt));
    let config = WorkerConfig { time_limit: rt.config.server.time_limit(), poll_interval: opts.poll_interval };
    let mut set = tokio::task::JoinSet::new();
    for i in 0..opts.workers.max(1) {
        let w = Worker::new(&format!("worker-{}-{i}", rt.node_id), queue.clone(), registry.clone(), config);
        let sd = shutdown.clone();
        set.spawn(async move { w.run(async move { sd.wait().await }).await });
    }
    set
}

/// Wait for the workers to finish their in-flight jobs, at most `grace`; then abort the rest
/// (their jobs are redelivered after the visibility timeout; every store write is atomic, so
/// nothing is half-written).
async fn drain_workers(mut set: tokio::task::JoinSet<()>, grace: Duration) {
    let all = async { while set.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, all).await.is_err() {
        tracing::warn!(?grace, "in-flight jobs did not finish within the grace period; aborting them");
        set.abort_all();
        while set.join_next().await.is_some() {}
    }
}

/// `maestro beat`: upsert the schedules, then fire them until shutdown.
///
/// # Errors
/// Storing the schedules or opening the queue.
pub async fn beat(rt: Arc<Runtime>, opts: ModeOptions, shutdown: Shutdown) -> Result<()> {
    let n = rt.sync_schedules().await?;
    let queue = open_queue(&rt, &opts).await?;
    let b = beat_of(&rt, queue, &opts);
    tracing::info!(beat = %b.id(), schedules = n, "beat started");
    println!("beat {} started with {n} schedule(s)", b.id());
    let sd = shutdown.clone();
    b.run(async move { sd.wait().await }).await;
    println!("beat {} stopped", b.id());
    Ok(())
}

/// `maestro worker`: run jobs until shutdown.
///
/// # Errors
/// Opening the queue.
pub async fn worker(rt: Arc<Runtime>, opts: ModeOptions, shutdown: Shutdown) -> Result<()> {
    let queue = open_queue(&rt, &opts).await?;
    let set = spawn_workers(&rt, queue, &opts, &shutdown);
    println!(
        "worker {} started with {} task(s); kinds: {}",
        rt.node_id,
        opts.workers,
        registry(&rt).kinds().join(", ")
    );
    shutdown.wait().await;
    drain_workers(set, rt.config.server.shutdown_grace()).await;
    println!("worker {} stopped", rt.node_id);
    Ok(())
}

/// Feed the hub with the outbox from its current end: every new event as one message (the
/// event JSON), polled every `every`.
pub async fn tail_outbox(rt: Arc<Runtime>, every: Duration, shutdown: Shutdown) {
    let mut cursor = OutboxCursor::default();
    // Start at the current end.
    loop {
        match rt.store.events_after(cursor, 1000).await {
            Ok(batch) if batch.is_empty() => break,
            Ok(batch) => cursor = batch.last().map_or(cursor, |e| e.position),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the outbox; retrying");
                tokio::select! { _ = shutdown.wait() => return, _ = tokio::time::sleep(every) => {} }
            }
        }
    }
    loop {
        tokio::select! { _ = shutdown.wait() => return, _ = tokio::time::sleep(every) => {} }
        loop {
            match rt.store.events_after(cursor, 500).await {
                Ok(batch) => {
                    let full = batch.len() == 500;
                    for e in batch {
                        cursor = e.position;
                        match serde_json::to_value(&e.event) {
                            Ok(v) => rt.hub.publish(v),
                            Err(err) => tracing::warn!(error = %err, "unserialisable event"),
                        }
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the outbox");
                    break;
                }
            }
        }
    }
}

/// `maestro serve`: the HTTP server on `addr`, the beat and `opts.workers` in-process workers
/// over the store queue, until shutdown. `app` is the HTTP application (see
/// [`crate::web::app`]).
///
/// # Errors
/// Storing the schedules or binding the address.
pub async fn serve(
    rt: Arc<Runtime>,
    opts: ModeOptions,
    listener: tokio::net::TcpListener,
    app: axum::Router,
    shutdown: Shutdown,
) -> Result<()> {
    let (n, beat_task, workers) = if opts.web_only {
        (0, None, tokio::task::JoinSet::new())
    } else {
        let n = rt.sync_schedules().await?;
        let queue = store_queue(&rt);
        let b = beat_of(&rt, queue.clone(), &opts);
        let sd = shutdown.clone();
        let beat_task = tokio::spawn(async move { b.run(async move { sd.wait().await }).await });
        (n, Some(beat_task), spawn_workers(&rt, queue, &opts, &shutdown))
    };
    let tail = tokio::spawn(tail_outbox(rt.clone(), Duration::from_millis(500), shutdown.clone()));
    let addr = listener.local_addr()?;
    if opts.web_only {
        println!("maestro serve on http://{addr} (web only: no beat, no workers)");
    } else {
        println!("maestro serve on http://{addr} ({n} schedule(s), {} worker(s))", opts.workers);
    }
    let sd = shutdown.clone();
    let http =
        tokio::spawn(
            async move { axum::serve(listener, app).with_graceful_shutdown(async move { sd.wait().await }).await },
        );
    shutdown.wait().await;
    // Order: stop firing, let in-flight jobs finish (bounded), then stop serving.
    if let Some(b) = beat_task {
        let _ = b.await;
    }
    drain_workers(workers, rt.config.server.shutdown_grace()).await;
    let _ = tail.await;
    match tokio::time::timeout(Duration::from_secs(5), http).await {
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "HTTP server error"),
        Err(_) => tracing::warn!("HTTP connections still open after 5 s; closing"),
        _ => {}
    }
    println!("maestro serve stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_escape_their_directory() {
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name("acme/nightly@2026"), "acme_nightly_2026");
        assert_eq!(safe_file_name(".."), "graph");
        assert_eq!(safe_file_name("ok-name_1.v2"), "ok-name_1.v2");
    }
}
