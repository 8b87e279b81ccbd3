//! Workers: take jobs from a [`JobQueue`] and run them through a [`JobRegistry`].

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::SchedulerError;
use super::queue::JobQueue;
use super::store::{JobRecord, JobState};
use crate::error::Retry;

/// What a handler gets: the job (id = slot key, `run_id`, args, attempt number).
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The job as delivered.
    pub job: JobRecord,
}

/// A failed job attempt, saying whether another attempt can help.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct JobError {
    /// What failed.
    pub message: String,
    /// Whether to retry (with the queue's backoff, after a given delay) or never.
    pub retry: Retry,
}

impl JobError {
    /// A failure another attempt may fix (retried with backoff).
    pub fn transient(message: impl Into<String>) -> Self {
        Self { message: message.into(), retry: Retry::Backoff }
    }
    /// A failure no retry fixes (the job is dead at once).
    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), retry: Retry::Never }
    }
}

/// The future a handler returns.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;

/// An async job handler. Implemented for every `Fn(JobContext) -> impl Future<Output =
/// Result<(), JobError>>`, so a closure or an `async fn` registers as it is.
///
/// Handlers SHOULD be idempotent by `job.run_id`: a job whose worker died after the work but
/// before the ack is delivered again.
pub trait JobHandler: Send + Sync {
    /// Run one attempt.
    fn call(&self, ctx: JobContext) -> JobFuture;
}

impl<F, Fut> JobHandler for F
where
    F: Fn(JobContext) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    fn call(&self, ctx: JobContext) -> JobFuture {
        Box::pin(self(ctx))
    }
}

/// Job kinds by name. Adding a kind is one `with("name", handler)` line where the worker is
/// built.
#[derive(Default, Clone)]
pub struct JobRegistry {
    handlers: BTreeMap<String, Arc<dyn JobHandler>>,
}

impl std::fmt::Debug for JobRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRegistry").field("kinds", &self.handlers.keys().collect::<Vec<_>>()).finish()
    }
}

impl JobRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register `handler` for `kind`.
    ///
    /// # Panics
    /// If `kind` is already registered (two handlers for one name is a programming error).
    pub fn with(mut self, kind: &str, handler: impl JobHandler + 'static) -> Self {
        let previous = self.handlers.insert(kind.to_string(), Arc::new(handler));
        assert!(previous.is_none(), "job kind `{kind}` registered twice");
        self
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&str> {
        self.handlers.keys().map(String::as_str).collect()
    }

    /// The handler for `kind`.
    ///
    /// # Errors
    /// [`SchedulerError::UnknownJobKind`] listing the known kinds.
    pub fn get(&self, kind: &str) -> Result<Arc<dyn JobHandler>, SchedulerError> {
        self.handlers
            .get(kind)
            .cloned()
            .ok_or_else(|| SchedulerError::UnknownJobKind { kind: kind.to_string(), known: self.kinds().join(", ") })
    }
}

/// Worker settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkerConfig {
    /// Per-job time limit (the original's `CELERYD_TASK_TIME_LIMIT`); an attempt over it fails
    /// and is retried.
    pub time_limit: Duration,
    /// How long [`Worker::run`] sleeps when the queue is empty.
    pub poll_interval: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self { time_limit: Duration::from_secs(30 * 60), poll_interval: Duration::from_secs(1) }
    }
}

/// How one delivery ended.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOutcome {
    /// The job id.
    pub id: String,
    /// The attempt number.
    pub attempt: u32,
    /// `Succeeded`, `Failed` (will retry) or `Dead`; `Running` if the worker lost the job to a
    /// redelivery before it could record the result.
    pub state: JobState,
    /// The error of a failed attempt.
    pub error: Option<String>,
}

/// Runs jobs from a queue, one at a time per call (run several workers, or several
/// [`Worker::run`] tasks, for concurrency).
pub struct Worker {
    id: String,
    queue: Arc<dyn JobQueue>,
    registry: Arc<JobRegistry>,
    config: WorkerConfig,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("id", &self.id).field("config", &self.config).finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker named `id` (unique among workers: it owns job leases).
    pub fn new(id: &str, queue: Arc<dyn JobQueue>, registry: Arc<JobRegistry>, config: WorkerConfig) -> Self {
        Self { id: id.to_string(), queue, registry, config }
    }

    /// The worker's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Take one job and run it to the end (ack or fail). `None` if the queue had nothing ready.
    ///
    /// # Errors
    /// Queue failures; the job (if taken) is then redelivered after its lease.
    pub async fn run_once(&self) -> Result<Option<JobOutcome>, SchedulerError> {
        let Some(job) = self.queue.take(&self.id).await? else {
            return Ok(None);
        };
        let result = match self.registry.get(&job.kind) {
            Err(e) => Err(JobError::permanent(e.to_string())),
            Ok(handler) => {
                let fut = handler.call(JobContext { job: job.clone() });
                match tokio::time::timeout(self.config.time_limit, fut).await {
                    Ok(r) => r,
                    Err(_) => Err(JobError::transient(format!("exceeded time limit of {:?}", self.config.time_limit))),
                }
            }
        };
        let (state, error) = match result {
            Ok(()) => {
                let held = self.queue.ack(&job, &self.id).await?;
                (if held { JobState::Succeeded } else { JobState::Running }, None)
            }
            Err(e) => {
                tracing::warn!(job = %job.id, attempt = job.attempts, error = %e.message, "job attempt failed");
                let state = self.queue.fail(&job, &self.id, &e.message, e.retry).await?;
                (state.unwrap_or(JobState::Running), Some(e.message))
            }
        };
        Ok(Some(JobOutcome { id: job.id, attempt: job.attempts, state, error }))
    }

    /// Run jobs until `shutdown` completes, polling every `poll_interval` while idle. A queue
    /// error is logged and retried after `poll_interval`.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let idle = match self.run_once().await {
                Ok(Some(_)) => false,
                Ok(None) => true,
                Err(e) => {
                    tracing::error!(worker = %self.id, error = %e, "worker could not take or finish a job");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                }
            } else if futures::poll!(&mut shutdown).is_ready() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kinds_are_named_with_the_known_ones() {
        let r = JobRegistry::new()
            .with("crawl", |_c: JobContext| async { Ok(()) })
            .with("graph", |_c: JobContext| async { Ok(()) });
        let err = r.get("relay").err().expect("unknown");
        assert_eq!(err.to_string(), "no job kind named `relay`; known: crawl, graph");
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn duplicate_kinds_panic() {
        let _ = JobRegistry::new()
            .with("a", |_c: JobContext| async { Ok(()) })
            .with("a", |_c: JobContext| async { Ok(()) });
    }

    #[cfg(feature = "testing")]
    #[tokio::test(start_paused = true)]
    async fn a_job_over_its_time_limit_fails_and_is_retried() {
        use crate::clock::{Clock, FakeClock};
        use crate::scheduler::{QueueConfig, ScheduleStore, StoreQueue};
        use crate::testing::MemoryRepository;

        let store = Arc::new(MemoryRepository::new());
        let clock = Arc::new(FakeClock::new("2026-01-01T00:00:00Z".parse().expect("time")));
        let queue = Arc::new(StoreQueue::new(store.clone(), clock.clone(), QueueConfig::default()));
        let registry = JobRegistry::new().with("slow", |_c: JobContext| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        });
        let config = WorkerConfig { time_limit: Duration::from_secs(5), ..WorkerConfig::default() };
        let worker = Worker::new("w", queue.clone(), Arc::new(registry), config);
        queue.enqueue(JobRecord::new("j", "t", "slow", serde_json::json!({}), clock.now())).await.expect("enqueue");
        let out = worker.run_once().await.expect("run").expect("job");
        assert_eq!(out.state, JobState::Failed);
        assert_eq!(out.error.as_deref(), Some("exceeded time limit of 5s"));
        let job = store.get_job("j").await.expect("get").expect("job");
        assert_eq!((job.state, job.attempts), (JobState::Failed, 1));
    }
}
