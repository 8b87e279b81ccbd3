//! The scheduler: schedules as data, beats that fire each slot exactly once, and workers that
//! run jobs from a queue.
//!
//! - [`Schedule`] — a [`JobSpec`] fired on a [`Trigger`] (interval or cron) with a missed-slot
//!   policy ([`CatchUp`]) and an overlap policy ([`Overlap`]); [`default_schedules`] gives the
//!   original per-task crawl intervals.
//! - [`ScheduleStore`] — schedules, slot claims and job records in the repository.
//! - [`Beat`] — the tick loop. A lease makes one beat active; a slot key recorded atomically
//!   ([`ScheduleStore::claim_slot`]) makes sure a slot fires once even if two beats believe they
//!   are active.
//! - [`JobQueue`] — where fired jobs go: [`StoreQueue`] keeps them in the store (in-process and
//!   multi-machine over PostgreSQL), with ack after completion, redelivery after a lease
//!   (visibility timeout), retries with backoff and dead jobs after N attempts. With feature
//!   `rabbitmq`, `RabbitQueue` offers the same over RabbitMQ.
//! - [`Worker`] — takes jobs and runs them through a [`JobRegistry`] (`kind → async handler`)
//!   with a per-job time limit.
//!
//! # Example
//! ```
//! # #[cfg(feature = "testing")] {
//! use std::{sync::Arc, time::Duration};
//! use maestro_core::FakeClock;
//! use maestro_core::scheduler::*;
//! use maestro_core::testing::MemoryRepository;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = Arc::new(MemoryRepository::new());
//! let clock = Arc::new(FakeClock::new("2026-01-01T00:00:30Z".parse().unwrap()));
//! store.upsert_schedule(&Schedule::new("acme", "ping", "noop", serde_json::json!({}),
//!     Trigger::Interval(Duration::from_secs(60)))).await.unwrap();
//! let queue = Arc::new(StoreQueue::new(store.clone(), clock.clone(), QueueConfig::default()));
//! let beat = Beat::new("beat-1", store.clone(), queue.clone(), clock.clone(), BeatConfig::default());
//! let registry = JobRegistry::new().with("noop", |_job: JobContext| async { Ok(()) });
//! let worker = Worker::new("worker-1", queue, Arc::new(registry), WorkerConfig::default());
//!
//! beat.tick().await.unwrap();                  // first sight: next slot is 00:01:00
//! clock.advance(chrono::Duration::seconds(30));
//! assert_eq!(beat.tick().await.unwrap().fired.len(), 1);
//! let outcome = worker.run_once().await.unwrap().unwrap();
//! assert_eq!(outcome.state, JobState::Succeeded);
//! # });
//! # }
//! ```

mod beat;
mod queue;
#[cfg(feature = "rabbitmq")]
mod rabbitmq;
mod schedule;
mod store;
mod worker;

pub use beat::{Beat, BeatConfig, TickReport};
pub use queue::{JobQueue, QueueConfig, StoreQueue};
#[cfg(feature = "rabbitmq")]
pub use rabbitmq::{DEFAULT_BROKER_URL, RabbitConfig, RabbitQueue};
pub use schedule::{
    CRAWL_JOB, CatchUp, DEFAULT_INTERVALS, JobSpec, Overlap, Schedule, Trigger, default_interval, default_schedules,
    slot_key,
};
pub use store::{JobFilter, JobFinish, JobRecord, JobState, ScheduleStore};
pub use worker::{JobContext, JobError, JobHandler, JobOutcome, JobRegistry, Worker, WorkerConfig};

use crate::error::{BoxError, StorageError};

/// Errors of the scheduler, its queues and workers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchedulerError {
    /// A trigger is invalid (bad cron expression, zero interval) or never fires again.
    #[error("invalid trigger: {0}")]
    InvalidTrigger(String),
    /// A job names a kind no handler is registered for.
    #[error("no job kind named `{kind}`; known: {known}")]
    UnknownJobKind {
        /// The requested kind.
        kind: String,
        /// The registered kinds, comma-separated.
        known: String,
    },
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A queue (broker) failed.
    #[error("queue `{queue}` failed: {message}")]
    Queue {
        /// The queue's name.
        queue: String,
        /// What failed.
        message: String,
        /// The cause.
        #[source]
        source: Option<BoxError>,
    },
}

/// `t + d`, saturating at the latest representable time.
pub(crate) fn after(t: chrono::DateTime<chrono::Utc>, d: std::time::Duration) -> chrono::DateTime<chrono::Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}
