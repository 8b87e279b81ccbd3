//! Job queues: the [`JobQueue`] contract and the store-backed [`StoreQueue`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::SchedulerError;
use super::store::{JobFinish, JobRecord, JobState, ScheduleStore};
use crate::clock::Clock;
use crate::error::Retry;
use crate::layers::RetryPolicy;

/// A queue of jobs with broker semantics.
///
/// # Contract
/// - `enqueue` MUST be idempotent by job id (a slot enqueued twice runs once).
/// - `take` MUST give a job to one worker at a time and redeliver it if that worker neither
///   acks nor fails it within the visibility timeout (the worker died).
/// - `ack` is called only after the job finished; `fail` either schedules a retry with backoff
///   or, after the last attempt (or a permanent error), makes the job dead and visible.
/// - `ack`/`fail` return whether the worker still held the job; a stale worker changes nothing.
///
/// An `Err` is a queue failure: the beat retries on its next tick (enqueue is idempotent), the
/// worker leaves the job to be redelivered.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Add `job` unless a job with its id exists; returns whether it was added.
    async fn enqueue(&self, job: JobRecord) -> Result<bool, SchedulerError>;
    /// The next job for `worker`, if any is ready.
    async fn take(&self, worker: &str) -> Result<Option<JobRecord>, SchedulerError>;
    /// `worker` finished `job` successfully.
    async fn ack(&self, job: &JobRecord, worker: &str) -> Result<bool, SchedulerError>;
    /// `worker`'s attempt at `job` failed with `error`; returns the job's new state
    /// ([`JobState::Failed`] = will retry, [`JobState::Dead`]), or `None` if the worker no longer
    /// held it.
    async fn fail(
        &self,
        job: &JobRecord,
        worker: &str,
        error: &str,
        retry: Retry,
    ) -> Result<Option<JobState>, SchedulerError>;
}

/// Delivery settings of a queue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueConfig {
    /// How long a taken job stays invisible to other workers; after it, the job is redelivered.
    /// Keep it above the workers' time limit.
    pub visibility_timeout: Duration,
    /// Attempts and backoff; after `max_attempts` failed deliveries the job is dead.
    pub retry: RetryPolicy,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(35 * 60),
            retry: RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_secs(30),
                max_backoff: Duration::from_secs(15 * 60),
                jitter: 0.2,
            },
        }
    }
}

/// The in-process (and multi-machine over PostgreSQL) queue: jobs are rows in a
/// [`ScheduleStore`], taken under a lease.
pub struct StoreQueue<S: ?Sized> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    config: QueueConfig,
}

impl<S: ?Sized> std::fmt::Debug for StoreQueue<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreQueue").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<S: ScheduleStore + ?Sized> StoreQueue<S> {
    /// A queue over `store`, timed by `clock`.
    pub fn new(store: Arc<S>, clock: Arc<dyn Clock>, config: QueueConfig) -> Self {
        Self { store, clock, config }
    }
}

#[async_trait]
impl<S: ScheduleStore + ?Sized> JobQueue for StoreQueue<S> {
    async fn enqueue(&self, job: JobRecord) -> Result<bool, SchedulerError> {
        Ok(self.store.enqueue_job(&job).await?)
    }

    async fn take(&self, worker: &str) -> Result<Option<JobRecord>, SchedulerError> {
        loop {
            let now = self.clock.now();
            let Some(job) =
                self.store.claim_job(worker, now, super::after(now, self.config.visibility_timeout)).await?
            else {
                return Ok(None);
            };
            // A job redelivered more often than allowed (its workers keep dying) is dead.
            if job.attempts > self.config.retry.max_attempts.max(1) {
                let error = format!(
                    "delivered {} times without finishing (max {})",
                    job.attempts - 1,
                    self.config.retry.max_attempts
                );
                tracing::warn!(job = %job.id, "{error}");
                self.store.finish_job(&job.id, worker, &JobFinish::Dead { error }, now).await?;
                continue;
            }
            return Ok(Some(job));
        }
    }

    async fn ack(&self, job: &JobRecord, worker: &str) -> Result<bool, SchedulerError> {
        Ok(self.store.finish_job(&job.id, worker, &JobFinish::Succeeded, self.clock.now()).await?)
    }

    async fn fail(
        &self,
        job: &JobRecord,
        worker: &str,
        error: &str,
        retry: Retry,
    ) -> Result<Option<JobState>, SchedulerError> {
        let now = self.clock.now();
        let delay = match retry {
            Retry::Never => None,
            _ if job.attempts >= self.config.retry.max_attempts => None,
            Retry::After(d) => Some(d),
            Retry::Backoff => Some(self.config.retry.delay(job.attempts)),
        };
        let (finish, state) = match delay {
            Some(d) => (JobFinish::Retry { at: super::after(now, d), error: error.to_string() }, JobState::Failed),
            None => (JobFinish::Dead { error: error.to_string() }, JobState::Dead),
        };
        let held = self.store.finish_job(&job.id, worker, &finish, now).await?;
        Ok(held.then_some(state))
    }
}
