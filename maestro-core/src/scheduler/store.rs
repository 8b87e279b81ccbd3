//! The storage side of the scheduler: schedules, slot claims and job records.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::schedule::Schedule;
use crate::repository::StoreResult;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker.
    Enqueued,
    /// Taken by a worker whose lease (visibility timeout) runs until `lease_until`.
    Running,
    /// Finished successfully; never runs again.
    Succeeded,
    /// The last attempt failed; it runs again from `available_at`.
    Failed,
    /// Failed `max_attempts` times (or permanently); kept for inspection, never runs again.
    Dead,
}

impl JobState {
    /// The stored name (`enqueued`, `running`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Enqueued => "enqueued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Dead => "dead",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "enqueued" => JobState::Enqueued,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "dead" => JobState::Dead,
            _ => return None,
        })
    }

    /// Whether the job will not run again.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Dead)
    }
}

/// One job: a firing of a schedule (or a one-off), with its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The job id; for a scheduled job its slot key (`tenant/name@slot`), so a slot has at most
    /// one job.
    pub id: String,
    /// The run id handlers record their work under; derived from `id`, so it is the same on
    /// every delivery.
    pub run_id: Uuid,
    /// The tenant.
    pub tenant: String,
    /// The schedule that fired it, if any.
    pub schedule: Option<String>,
    /// The slot it fired for, if any.
    pub slot: Option<DateTime<Utc>>,
    /// The job kind (registry key).
    pub kind: String,
    /// The handler's arguments.
    pub args: Value,
    /// Current state.
    pub state: JobState,
    /// Deliveries so far (1 while the first attempt runs).
    pub attempts: u32,
    /// Not to be taken before this time (retry backoff).
    pub available_at: DateTime<Utc>,
    /// The worker holding it while running.
    pub worker: Option<String>,
    /// When the running worker's lease ends; after it the job is redelivered.
    pub lease_until: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub enqueued_at: DateTime<Utc>,
    /// When the last attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it succeeded or died.
    pub finished_at: Option<DateTime<Utc>>,
}

impl JobRecord {
    /// A new, enqueued job with id `id` (run id derived from it).
    pub fn new(id: impl Into<String>, tenant: &str, kind: &str, args: Value, now: DateTime<Utc>) -> Self {
        let id = id.into();
        Self {
            run_id: Uuid::new_v5(&Uuid::NAMESPACE_URL, id.as_bytes()),
            id,
            tenant: tenant.into(),
            schedule: None,
            slot: None,
            kind: kind.into(),
            args,
            state: JobState::Enqueued,
            attempts: 0,
            available_at: now,
            worker: None,
            lease_until: None,
            last_error: None,
            enqueued_at: now,
            started_at: None,
            finished_at: None,
        }
    }

    /// The job of `schedule` for `slot`, id = the slot key.
    pub fn for_slot(schedule: &Schedule, slot: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        let mut job =
            Self::new(schedule.slot_key(slot), &schedule.tenant, &schedule.job.kind, schedule.job.args.clone(), now);
        job.schedule = Some(schedule.name.clone());
        job.slot = Some(slot);
        job
    }
}

/// How a worker's attempt ended, as recorded by [`ScheduleStore::finish_job`].
#[derive(Debug, Clone, PartialEq)]
pub enum JobFinish {
    /// Done.
    Succeeded,
    /// Failed; run again from `at`.
    Retry {
        /// Earliest next attempt.
        at: DateTime<Utc>,
        /// What failed.
        error: String,
    },
    /// Failed for good.
    Dead {
        /// What failed.
        error: String,
    },
}

/// Which jobs [`ScheduleStore::list_jobs`] returns (all given fields must match), oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    /// Only this tenant.
    pub tenant: Option<String>,
    /// Only jobs of this schedule.
    pub schedule: Option<String>,
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// At most this many (`None` = all).
    pub limit: Option<u32>,
}

/// Schedules, slot claims and job records.
///
/// Required: every method (a scheduler store is a small, complete contract). An `Err` is a
/// storage failure: the beat skips the tick and tries again on the next one, a worker leaves
/// the job to be redelivered; nothing is lost because every state change is one atomic
/// statement.
///
/// # Contract
/// - `upsert_schedule` MUST keep the stored `last_slot`/`next_slot` unless the trigger changed
///   (then `next_slot` becomes `None`); the values in the argument are ignored.
/// - `advance_schedule` MUST only move `next_slot` forward.
/// - `claim_slot` MUST return `true` for exactly one caller per `(tenant, schedule, slot)`,
///   however many beats call it concurrently.
/// - `enqueue_job` MUST insert only if no job with that id exists (a slot enqueues once).
/// - `claim_job` MUST hand a job to at most one worker at a time: an `enqueued`/`failed` job
///   whose `available_at` has passed, or a `running` job whose lease expired (redelivery); it
///   sets `running`, the worker, the lease and `attempts + 1`. Oldest `available_at` first.
/// - `finish_job` MUST only apply while the job is `running` for that worker; a worker whose job
///   was redelivered to another finds it changes nothing (returns `false`).
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Create or replace schedule `(tenant, name)` (see the contract for `last/next_slot`).
    async fn upsert_schedule(&self, schedule: &Schedule) -> StoreResult<()>;
    /// One schedule.
    async fn get_schedule(&self, tenant: &str, name: &str) -> StoreResult<Option<Schedule>>;
    /// All schedules (of `tenant` if given), ordered by tenant then name.
    async fn list_schedules(&self, tenant: Option<&str>) -> StoreResult<Vec<Schedule>>;
    /// Remove a schedule; returns whether it existed. Its jobs stay.
    async fn delete_schedule(&self, tenant: &str, name: &str) -> StoreResult<bool>;
    /// Enabled schedules whose `next_slot` is `None` or at or before `now`.
    async fn due(&self, now: DateTime<Utc>) -> StoreResult<Vec<Schedule>>;
    /// Record progress: `last_slot` (if `Some`) and `next_slot`, only if that moves `next_slot`
    /// forward (or it was `None`).
    async fn advance_schedule(
        &self,
        tenant: &str,
        name: &str,
        last_slot: Option<DateTime<Utc>>,
        next_slot: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Atomically record that `beat` fires `slot` of schedule `(tenant, name)`. `true` for the
    /// one caller that recorded it, `false` for everyone else.
    async fn claim_slot(
        &self,
        tenant: &str,
        name: &str,
        slot: DateTime<Utc>,
        beat: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Insert `job` unless a job with its id exists; returns whether it was inserted.
    async fn enqueue_job(&self, job: &JobRecord) -> StoreResult<bool>;
    /// Take the next runnable job for `worker`, leased until `lease_until`.
    async fn claim_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<JobRecord>>;
    /// Record the end of `worker`'s attempt at job `id`; `false` if the worker no longer holds it.
    async fn finish_job(&self, id: &str, worker: &str, finish: &JobFinish, now: DateTime<Utc>) -> StoreResult<bool>;
    /// One job.
    async fn get_job(&self, id: &str) -> StoreResult<Option<JobRecord>>;
    /// Jobs matching `filter`, oldest first.
    async fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Vec<JobRecord>>;
    /// Jobs of schedule `(tenant, name)` that are not final (enqueued, running or failed).
    async fn unfinished_jobs(&self, tenant: &str, name: &str) -> StoreResult<u64>;
}
