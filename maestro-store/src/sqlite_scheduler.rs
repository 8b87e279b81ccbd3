//! [`ScheduleStore`] for [`SqliteStore`]: schedules, slot claims and jobs in three tables
//! (migration `0003_scheduler.sql`). Every state change is one statement, so SQLite's single
//! writer makes each atomic; the slot claim is `INSERT … ON CONFLICT DO NOTHING` on the slot key.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use maestro_core::StorageError;
use maestro_core::repository::StoreResult;
use maestro_core::scheduler::{JobFilter, JobFinish, JobRecord, JobState, Schedule, ScheduleStore};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::common::*;

const JOB_COLUMNS: &str = "id, run_id, tenant, schedule, slot, kind, args, state, attempts, available_at, worker, \
                           lease_until, last_error, enqueued_at, started_at, finished_at";

fn schedule_from_row(r: &SqliteRow) -> Result<Schedule, StorageError> {
    let mut s: Schedule = parse("schedules.spec", r.get::<&str, _>("spec"))?;
    s.last_slot = r.get::<Option<i64>, _>("last_slot").map(from_micros);
    s.next_slot = r.get::<Option<i64>, _>("next_slot").map(from_micros);
    Ok(s)
}

fn job_from_row(r: &SqliteRow) -> Result<JobRecord, StorageError> {
    let state: &str = r.get("state");
    let run_id: &str = r.get("run_id");
    Ok(JobRecord {
        id: r.get("id"),
        run_id: run_id
            .parse()
            .map_err(|e| StorageError::Corrupt { context: "jobs.run_id".into(), message: format!("{e}") })?,
        tenant: r.get("tenant"),
        schedule: r.get("schedule"),
        slot: r.get::<Option<i64>, _>("slot").map(from_micros),
        kind: r.get("kind"),
        args: parse("jobs.args", r.get::<&str, _>("args"))?,
        state: JobState::parse(state)
            .ok_or_else(|| StorageError::Corrupt { context: "jobs.state".into(), message: state.to_string() })?,
        attempts: u32::try_from(r.get::<i64, _>("attempts")).unwrap_or(0),
        available_at: from_micros(r.get("available_at")),
        worker: r.get("worker"),
        lease_until: r.get::<Option<i64>, _>("lease_until").map(from_micros),
        last_error: r.get("last_error"),
        enqueued_at: from_micros(r.get("enqueued_at")),
        started_at: r.get::<Option<i64>, _>("started_at").map(from_micros),
        finished_at: r.get::<Option<i64>, _>("finished_at").map(from_micros),
    })
}

#[async_trait]
impl ScheduleStore for SqliteStore {
    async fn upsert_schedule(&self, schedule: &Schedule) -> StoreResult<()> {
        let spec = Schedule { last_slot: None, next_slot: None, ..schedule.clone() };
        sqlx::query(
            "INSERT INTO schedules (tenant, name, spec, trig, enabled) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (tenant, name) DO UPDATE SET spec = excluded.spec, trig = excluded.trig, \
             enabled = excluded.enabled, \
             next_slot = CASE WHEN schedules.trig = excluded.trig THEN schedules.next_slot ELSE NULL END",
        )
        .bind(&schedule.tenant)
        .bind(&schedule.name)
        .bind(json(&spec))
        .bind(json(&schedule.trigger))
        .bind(schedule.enabled)
        .execute(self.pool())
        .await
        .map_err(db_err("upserting a schedule"))?;
        Ok(())
    }

    async fn get_schedule(&self, tenant: &str, name: &str) -> StoreResult<Option<Schedule>> {
        let row = sqlx::query("SELECT spec, last_slot, next_slot FROM schedules WHERE tenant = ?1 AND name = ?2")
            .bind(tenant)
            .bind(name)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading a schedule"))?;
        row.as_ref().map(schedule_from_row).transpose()
    }

    async fn list_schedules(&self, tenant: Option<&str>) -> StoreResult<Vec<Schedule>> {
        let rows = sqlx::query(
            "SELECT spec, last_slot, next_slot FROM schedules WHERE ?1 IS NULL OR tenant = ?1 ORDER BY tenant, name",
        )
        .bind(tenant)
        .fetch_all(self.pool())
        .await
        .map_err(db_err("listing schedules"))?;
        rows.iter().map(schedule_from_row).collect()
    }

    async fn delete_schedule(&self, tenant: &str, name: &str) -> StoreResult<bool> {
        let n = sqlx::query("DELETE FROM schedules WHERE tenant = ?1 AND name = ?2")
            .bind(tenant)
            .bind(name)
            .execute(self.pool())
            .await
            .map_err(db_err("deleting a schedule"))?
            .rows_affected();
        Ok(n == 1)
    }

    async fn due(&self, now: DateTime<Utc>) -> StoreResult<Vec<Schedule>> {
        let rows = sqlx::query(
            "SELECT spec, last_slot, next_slot FROM schedules \
             WHERE enabled = 1 AND (next_slot IS NULL OR next_slot <= ?1) ORDER BY tenant, name",
        )
        .bind(micros(now))
        .fetch_all(self.pool())
        .await
        .map_err(db_err("listing due schedules"))?;
        rows.iter().map(schedule_from_row).collect()
    }

    async fn advance_schedule(
        &self,
        tenant: &str,
        name: &str,
        last_slot: Option<DateTime<Utc>>,
        next_slot: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE schedules SET next_slot = ?3, last_slot = COALESCE(?4, last_slot) \
             WHERE tenant = ?1 AND name = ?2 AND (next_slot IS NULL OR next_slot < ?3)",
        )
        .bind(tenant)
        .bind(name)
        .bind(micros(next_slot))
        .bind(last_slot.map(micros))
        .execute(self.pool())
        .await
        .map_err(db_err("advancing a schedule"))?;
        Ok(())
    }

    async fn claim_slot(
        &self,
        tenant: &str,
        name: &str,
        slot: DateTime<Utc>,
        beat: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let n = sqlx::query(
            "INSERT INTO schedule_slots (tenant, name, slot, beat, claimed_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant)
        .bind(name)
        .bind(micros(slot))
        .bind(beat)
        .bind(micros(now))
        .execute(self.pool())
        .await
        .map_err(db_err("claiming a slot"))?
        .rows_affected();
        Ok(n == 1)
    }

    async fn enqueue_job(&self, job: &JobRecord) -> StoreResult<bool> {
        let n = sqlx::query(
            "INSERT INTO jobs (id, run_id, tenant, schedule, slot, kind, args, state, attempts, available_at, \
             worker, lease_until, last_error, enqueued_at, started_at, finished_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&job.id)
        .bind(job.run_id.to_string())
        .bind(&job.tenant)
        .bind(&job.schedule)
        .bind(job.slot.map(micros))
        .bind(&job.kind)
        .bind(json(&job.args))
        .bind(job.state.as_str())
        .bind(i64::from(job.attempts))
        .bind(micros(job.available_at))
        .bind(&job.worker)
        .bind(job.lease_until.map(micros))
        .bind(&job.last_error)
        .bind(micros(job.enqueued_at))
        .bind(job.started_at.map(micros))
        .bind(job.finished_at.map(micros))
        .execute(self.pool())
        .await
        .map_err(db_err("enqueueing a job"))?
        .rows_affected();
        Ok(n == 1)
    }

    async fn claim_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<JobRecord>> {
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = ?1, lease_until = ?2, \
             started_at = ?3 \
             WHERE seq = (SELECT seq FROM jobs \
                          WHERE (state IN ('enqueued', 'failed') AND available_at <= ?3) \
                             OR (state = 'running' AND lease_until <= ?3) \
                          ORDER BY available_at, seq LIMIT 1) \
             RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(micros(lease_until))
            .bind(micros(now))
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("claiming a job"))?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn finish_job(&self, id: &str, worker: &str, finish: &JobFinish, now: DateTime<Utc>) -> StoreResult<bool> {
        let (state, available_at, error, finished_at) = match finish {
            JobFinish::Succeeded => (JobState::Succeeded, None, None, Some(now)),
            JobFinish::Retry { at, error } => (JobState::Failed, Some(*at), Some(error.as_str()), None),
            JobFinish::Dead { error } => (JobState::Dead, None, Some(error.as_str()), Some(now)),
        };
        let n = sqlx::query(
            "UPDATE jobs SET state = ?3, available_at = COALESCE(?4, available_at), last_error = ?5, \
             finished_at = ?6, lease_until = NULL \
             WHERE id = ?1 AND state = 'running' AND worker = ?2",
        )
        .bind(id)
        .bind(worker)
        .bind(state.as_str())
        .bind(available_at.map(micros))
        .bind(error)
        .bind(finished_at.map(micros))
        .execute(self.pool())
        .await
        .map_err(db_err("finishing a job"))?
        .rows_affected();
        Ok(n == 1)
    }

    async fn get_job(&self, id: &str) -> StoreResult<Option<JobRecord>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading a job"))?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Vec<JobRecord>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR schedule = ?2) \
             AND (?3 IS NULL OR state = ?3) ORDER BY seq LIMIT ?4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&filter.tenant)
            .bind(&filter.schedule)
            .bind(filter.state.map(JobState::as_str))
            .bind(filter.limit.map_or(-1, i64::from))
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing jobs"))?;
        rows.iter().map(job_from_row).collect()
    }

    async fn unfinished_jobs(&self, tenant: &str, name: &str) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE tenant = ?1 AND schedule = ?2 \
             AND state IN ('enqueued', 'running', 'failed')",
        )
        .bind(tenant)
        .bind(name)
        .fetch_one(self.pool())
        .await
        .map_err(db_err("counting unfinished jobs"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
